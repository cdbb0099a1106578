"""SPARQL 1.1 Update through a real server: by POST only, with credentials, into the live store.

Every test gets its own data directory (the traject records and the hostile
one, ~0.2 s to build) and server, since every test writes.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from SPARQLWrapper import JSON, POST, POSTDIRECTLY, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import Unauthorized
from web_fixtures import BASE, ROOT, TRAJECT, build_data_dir, ingest, running_server, settings_for

from graph.updates import WRITE_WAIT_S
from ontology.namespaces import CG, RDFS

TOKEN = "update-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GRAPH = BASE + "graph/marc/2329645"  # george_eliot.marc 001
#: george_eliot.marc 600 "Eliot, George, 1819-1880": a subject, a unit with a graph of its own
AGENT = BASE + "agent/k791daaf4a3e346f178eb"
OTHER_GRAPH = BASE + "graph/marc/417826"  # nature.marc 001
INSTANCE = BASE + "instance/lccn-2002036483"  # george_eliot.marc 010 $a
#: A statement about the instance, written where the layout keeps it: the instance's own graph.
INSERT = (
    f'INSERT DATA {{ GRAPH <{INSTANCE}> {{ <{INSTANCE}> rdfs:comment "checked by a cataloger" }} }}'
)
ASK_INSERTED = f'ASK {{ <{INSTANCE}> rdfs:comment "checked by a cataloger" }}'
#: The record's own title node lives in the record's graph: an edit there is a record edit.
TITLE_NODE = GRAPH + "#title-1"
RECORD_INSERT = (
    f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{TITLE_NODE}> rdfs:comment "checked by a cataloger" }} }}'
)
ASK_RECORD_INSERTED = f'ASK {{ <{TITLE_NODE}> rdfs:comment "checked by a cataloger" }}'


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return build_data_dir(tmp_path)


@pytest.fixture
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir, update_tokens=(TOKEN,))) as root:
        yield root


@pytest.fixture(scope="module")
def unchanged_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server for the tests of refusals, which must leave the store as it was."""
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-update-refused"))
    with running_server(settings_for(data_dir, update_tokens=(TOKEN,))) as root:
        yield root


def ask(url: str, query: str) -> bool:
    response = requests.get(url + "/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def rows(url: str, query: str) -> list[list[str]]:
    response = requests.get(url + "/sparql", params={"query": query, "format": "csv"})
    assert response.status_code == 200, response.text
    return [line.split(",") for line in response.text.splitlines()[1:]]


def post_update(url: str, text: str, headers: dict | None = None) -> requests.Response:
    return requests.post(url + "/sparql", data={"update": text}, headers=headers or AUTH)


def test_sparqlwrapper_update_with_a_token_changes_what_queries_see(url: str) -> None:
    assert ask(url, ASK_INSERTED) is False
    client = SPARQLWrapper(url + "/sparql")
    client.setMethod(POST)
    client.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    client.setQuery(INSERT)
    result = client.query()
    assert result.response.status == 204
    reader = SPARQLWrapper(url + "/sparql")
    reader.setQuery(ASK_INSERTED)
    reader.setReturnFormat(JSON)
    assert reader.query().convert()["boolean"] is True


def test_update_as_a_direct_body(url: str) -> None:
    client = SPARQLWrapper(url + "/sparql")
    client.setMethod(POST)
    client.setRequestMethod(POSTDIRECTLY)
    client.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    # the instance's label is what its records say about it as a unit: in its own graph
    client.setQuery(f"DELETE WHERE {{ GRAPH <{INSTANCE}> {{ <{INSTANCE}> rdfs:label ?title }} }}")
    assert client.query().response.status == 204
    assert ask(url, f"ASK {{ <{INSTANCE}> rdfs:label ?title }}") is False


def test_anonymous_and_wrong_credentials_are_401_and_change_nothing(unchanged_url: str) -> None:
    url = unchanged_url
    client = SPARQLWrapper(url + "/sparql")
    client.setMethod(POST)
    client.setQuery(INSERT)
    with pytest.raises(Unauthorized):
        client.query()
    anonymous = requests.post(url + "/sparql", data={"update": INSERT})
    wrong = post_update(url, INSERT, {"Authorization": "Bearer not-the-token-at-all-0000"})
    cookie = requests.post(
        url + "/sparql", data={"update": INSERT}, headers={"Cookie": f"session={TOKEN}"}
    )
    for response in (anonymous, wrong, cookie):
        assert response.status_code == 401
        challenges = response.headers["WWW-Authenticate"]
        assert "Bearer" in challenges and "Basic" in challenges
    assert ask(url, ASK_INSERTED) is False


def test_updates_never_by_get_or_as_a_query(unchanged_url: str) -> None:
    url = unchanged_url
    by_get = requests.get(url + "/sparql", params={"update": INSERT}, headers=AUTH)
    as_query = requests.get(url + "/sparql", params={"query": INSERT}, headers=AUTH)
    as_posted_query = requests.post(url + "/sparql", data={"query": INSERT}, headers=AUTH)
    assert [r.status_code for r in (by_get, as_query, as_posted_query)] == [403, 403, 403]
    assert "only by POST" in by_get.text
    assert ask(url, ASK_INSERTED) is False


def test_syntax_error_is_400_with_the_parser_message(unchanged_url: str) -> None:
    url = unchanged_url
    response = post_update(url, f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <{INSTANCE}> }} }}")
    assert response.status_code == 400
    assert response.text.startswith("SPARQL Update syntax error: error at 1:")


def test_refused_before_running(unchanged_url: str) -> None:
    url = unchanged_url
    service = "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    assert post_update(url, service).status_code == 400
    hidden = "INSERT { ?s ?p ?o } WHERE { ?s ?p trueSERVICE <http://127.0.0.1:9/> { } }"
    assert post_update(url, hidden).status_code == 400  # Oxigraph reads "true SERVICE"
    load = post_update(url, "LOAD <http://127.0.0.1:9/data.ttl>")
    assert load.status_code == 403 and "load_allow" in load.text
    glued = post_update(url, "LOADSILENT<http://127.0.0.1:9/data.ttl>")  # Oxigraph parses it
    assert glued.status_code == 403
    local = post_update(url, "LOAD <file:///etc/passwd> INTO GRAPH <http://example.org/g>")
    assert local.status_code == 403 and "http(s)" in local.text
    deep = "INSERT { ?s ?p ?o } WHERE " + "{" * 5000 + "}" * 5000
    assert post_update(url, deep).status_code == 400
    for computed in ("associations", "mentions"):  # their refreshes trust their own record
        made = f"INSERT DATA {{ GRAPH <{BASE}graph/derived/{computed}> {{ <{BASE}x> <{BASE}p> 1 }} }}"
        refused = post_update(url, made)
        assert refused.status_code == 403 and "computed by Catalograph" in refused.text
    assert requests.get(url + "/-/health").json()["status"] == "ok"


def test_load_from_an_allowed_prefix(data_dir: Path) -> None:
    """LOAD really fetches when the configuration allows the URL (here a loopback server)."""
    turtle = b'<http://example.org/s> <http://example.org/p> "loaded" .\n'

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle")
            self.send_header("Content-Length", str(len(turtle)))
            self.end_headers()
            self.wfile.write(turtle)

        def log_message(self, *args: object) -> None:
            pass

    source = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=source.serve_forever, daemon=True).start()
    allowed = f"http://127.0.0.1:{source.server_port}/allowed/"
    settings = settings_for(data_dir, update_tokens=(TOKEN,), load_allow=(allowed,))
    try:
        with running_server(settings) as url:
            refused = post_update(url, f"LOAD <http://127.0.0.1:{source.server_port}/other.ttl>")
            assert refused.status_code == 403
            loaded = post_update(url, f"LOAD <{allowed}data.ttl> INTO GRAPH <http://example.org/g>")
            assert loaded.status_code == 204, loaded.text
            assert ask(url, 'ASK { GRAPH <http://example.org/g> { ?s ?p "loaded" } }')
    finally:
        source.shutdown()


def provenance(url: str, graph: str) -> dict[str, str]:
    query = f"SELECT ?p ?o WHERE {{ GRAPH <{BASE}graph/meta> {{ <{graph}> ?p ?o }} }}"
    return {p: o for p, o in rows(url, query)}


HASH = "https://w3id.org/catalograph/ontology#contentHash"
MODIFIED = "http://purl.org/dc/terms/modified"
GENERATED = "http://www.w3.org/ns/prov#generatedAtTime"


def test_an_edited_record_graph_is_replaced_by_the_next_ingest(url: str, data_dir: Path) -> None:
    """The documented rule: inside its own graph, the source record wins at re-ingest."""
    untouched_before = provenance(url, OTHER_GRAPH)
    response = post_update(url, RECORD_INSERT)
    assert response.status_code == 204, response.text
    assert response.headers["X-Catalograph-Edited-Graphs"] == "1"
    edited = provenance(url, GRAPH)
    assert HASH not in edited and MODIFIED in edited
    assert ask(url, ASK_RECORD_INSERTED) is True
    ingest(data_dir, [TRAJECT / "george_eliot.marc", TRAJECT / "nature.marc"])  # same records
    wait_until(url, ASK_RECORD_INSERTED, False)  # the edit is gone: the source record won
    restored = provenance(url, GRAPH)
    assert HASH in restored and MODIFIED not in restored
    assert provenance(url, OTHER_GRAPH) == untouched_before  # unchanged record: not rewritten
    assert ask(url, f"ASK {{ <{INSTANCE}> rdfs:label ?t }}") is True


def test_statements_a_cataloger_adds_or_removes_about_a_unit_survive_every_reingest(
    url: str, data_dir: Path
) -> None:
    """A unit's graph gathers what every record says; a writer's change to it is the last
    word, kept when the records that mention the unit are ingested again (changed or not)."""
    (label,) = column(url, f"SELECT ?l WHERE {{ <{AGENT}> rdfs:label ?l }}")
    assert label == "Eliot, George, 1819-1880"
    corrected = "Eliot, George, 1819-1880 (Mary Ann Evans)"
    change = post_update(
        url,
        f'DELETE DATA {{ GRAPH <{AGENT}> {{ <{AGENT}> rdfs:label "{label}" }} }} ; '
        f'INSERT DATA {{ GRAPH <{AGENT}> {{ <{AGENT}> rdfs:label "{corrected}" ; '
        f'skos:altLabel "Eliot" }} }}',
    )
    assert change.status_code == 204, change.text
    assert change.headers["X-Catalograph-Edited-Graphs"] == "0"  # no record graph touched
    labels = f"SELECT ?l WHERE {{ <{AGENT}> rdfs:label ?l }}"
    assert column(url, labels) == [corrected]
    # every record that names the agent, ingested again, one of them changed
    changed = tmp_copy_with_title(data_dir, TRAJECT / "george_eliot.marc", "Rereading Eliot again")
    ingest(data_dir, [changed, TRAJECT / "nature.marc"])
    wait_until(url, 'ASK { ?i rdfs:label "Rereading Eliot again" }', True)
    assert column(url, labels) == [corrected]  # the old label did not come back
    assert ask(url, f'ASK {{ <{AGENT}> skos:altLabel "Eliot" }}')
    # and recorded: who, when, what was added and removed, and where
    changeset = change.headers["X-Catalograph-Changeset"]
    recorded = select(
        url,
        f"""SELECT ?who ?kind ?p ?o ?g WHERE {{ GRAPH <{changeset}> {{
              <{changeset}> a cg:Changeset ; prov:wasAssociatedWith/rdfs:label ?who ;
                            prov:startedAtTime ?t ; ?kind ?st .
              ?st rdf:subject <{AGENT}> ; rdf:predicate ?p ; rdf:object ?o ; cg:inGraph ?g }} }}""",
    )
    alt = "http://www.w3.org/2004/02/skos/core#altLabel"
    assert sorted(tuple(row.values()) for row in recorded) == sorted([
        ("token 1", CG.addition.value, RDFS.label.value, corrected, AGENT),
        ("token 1", CG.addition.value, alt, "Eliot", AGENT),
        ("token 1", CG.removal.value, RDFS.label.value, label, AGENT),
    ])  # fmt: skip


def test_a_statement_goes_where_the_layout_keeps_it(url: str) -> None:
    """Each triple lives in one graph: a write that breaks this is refused and changes nothing."""
    into_record = post_update(
        url, f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{INSTANCE}> rdfs:comment "misplaced" }} }}'
    )
    assert into_record.status_code == 400
    assert f"lives in the graph <{INSTANCE}>" in into_record.text
    into_default = post_update(url, f'INSERT DATA {{ <{INSTANCE}> rdfs:comment "misplaced" }}')
    assert into_default.status_code == 400 and "default graph" in into_default.text
    twice = post_update(
        url,
        'INSERT DATA { GRAPH <http://example.org/mine> { <http://example.org/x> '
        '<http://example.org/p> "twice" } }',
    )
    assert twice.status_code == 204, twice.text  # a writer's own data, in a graph of its own
    again = post_update(
        url,
        'INSERT DATA { GRAPH <http://example.org/other> { <http://example.org/x> '
        '<http://example.org/p> "twice" } }',
    )
    assert again.status_code == 400 and "already stated in <http://example.org/mine>" in again.text
    assert ask(url, 'ASK { ?s ?p "misplaced" }') is False
    assert ask(url, "ASK { GRAPH <http://example.org/other> { ?s ?p ?o } }") is False
    counted = rows(url, 'SELECT (COUNT(*) AS ?n) WHERE { ?s <http://example.org/p> "twice" }')
    assert counted == [["1"]]


def test_an_update_that_can_reach_graphs_it_does_not_name_is_refused(url: str) -> None:
    for text in (
        f"DELETE WHERE {{ GRAPH ?g {{ <{INSTANCE}> rdfs:comment ?c }} }}",
        "CLEAR NAMED",
        "DROP ALL",
    ):
        response = post_update(url, text)
        assert response.status_code == 400, text
        assert "name each graph it writes" in response.text
    assert ask(url, f"ASK {{ <{INSTANCE}> rdfs:label ?t }}") is True
    reading_only = (
        f"INSERT {{ GRAPH <{INSTANCE}> {{ <{INSTANCE}> rdfs:comment ?g }} }} "
        f"WHERE {{ GRAPH ?g {{ <{INSTANCE}> bf:title ?title }} }}"
    )
    response = post_update(url, reading_only)  # GRAPH ?g only where it reads: fine
    assert response.status_code == 204 and response.headers["X-Catalograph-Edited-Graphs"] == "0"
    assert ask(url, f"ASK {{ <{INSTANCE}> rdfs:comment <{GRAPH}> }}") is True


def test_record_graphs_an_update_dropped_come_back_at_the_next_ingest(url: str, data_dir: Path) -> None:
    """The record index follows updates: without that, re-ingest would skip these records as
    unchanged (their content hash is what it was) and leave them missing."""
    for graph in (OTHER_GRAPH, GRAPH):
        assert post_update(url, f"DROP GRAPH <{graph}>").status_code == 204
    wait_until(url, f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g IN (<{GRAPH}>, <{OTHER_GRAPH}>)) }}", False)
    ingest(data_dir, [TRAJECT / "george_eliot.marc", TRAJECT / "nature.marc"])
    for graph in (GRAPH, OTHER_GRAPH):
        wait_until(url, f"ASK {{ GRAPH <{graph}> {{ ?instance bf:title ?title }} }}", True)


def select(url: str, query: str) -> list[dict[str, str]]:
    """The rows of a SELECT, each variable's value as text (JSON results: commas are safe)."""
    response = requests.get(url + "/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return [
        {name: term["value"] for name, term in binding.items()}
        for binding in response.json()["results"]["bindings"]
    ]


def column(url: str, query: str) -> list[str]:
    return [next(iter(row.values())) for row in select(url, query)]


def tmp_copy_with_title(data_dir: Path, path: Path, title: str) -> Path:
    """A copy of a real record file with its 245 $a changed, as a later export would have it."""
    from pymarc import Field, MARCReader, Subfield

    with path.open("rb") as handle:
        (record,) = list(MARCReader(handle))
    record.remove_fields("245")
    record.add_ordered_field(Field("245", ["1", "0"], [Subfield("a", title)]))
    copy = data_dir.parent / path.name
    copy.write_bytes(record.as_marc())
    return copy


def wait_until(url: str, query: str, answer: bool, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while ask(url, query) is not answer and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ask(url, query) is answer, query


def test_503_with_retry_after_while_another_process_writes(url: str, data_dir: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from graph.lock import StoreLock; "
            "StoreLock(Path(sys.argv[1])).acquire(); print('locked', flush=True); time.sleep(60)",
            str(data_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        busy = post_update(url, INSERT)
        waited = time.monotonic() - started
        assert busy.status_code == 503
        assert int(busy.headers["Retry-After"]) > 0
        assert "being written by process" in busy.text
        assert WRITE_WAIT_S <= waited < WRITE_WAIT_S + 3
        assert ask(url, f"ASK {{ <{INSTANCE}> a bf:Instance }}") is True  # readers unaffected
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert post_update(url, INSERT).status_code == 204


def test_update_size_limit(data_dir: Path) -> None:
    settings = settings_for(data_dir, update_tokens=(TOKEN,), max_upload_bytes=400_000)
    with running_server(settings) as url:
        big = INSERT.replace("checked by a cataloger", "x" * 500_000)
        assert post_update(url, big).status_code == 413
        direct = requests.post(
            url + "/sparql",
            data=big.encode(),
            headers={**AUTH, "Content-Type": "application/sparql-update"},
        )
        assert direct.status_code == 413
        fits = INSERT.replace("checked by a cataloger", "y" * 350_000)  # beyond the query limit
        assert post_update(url, fits).status_code == 204


def test_a_unit_graph_replaced_through_the_graph_store_stays_so_after_reingest(
    url: str, data_dir: Path
) -> None:
    """PUT a unit's graph: what the body leaves out is removed for good, what it adds is kept,
    whatever the records that mention the unit say when they are ingested again."""
    body = (
        f"<{AGENT}> a <http://id.loc.gov/ontologies/bibframe/Person> ;\n"
        f'  <http://www.w3.org/2000/01/rdf-schema#label> "Eliot, George" .\n'
    ).encode()
    put = requests.put(
        url + "/rdf-graph-store",
        params={"graph": AGENT},
        data=body,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert put.status_code == 204, put.text
    described = f"SELECT ?p ?o WHERE {{ GRAPH <{AGENT}> {{ <{AGENT}> ?p ?o }} }} ORDER BY ?p ?o"
    after_put = select(url, described)
    assert column(url, f"SELECT ?l WHERE {{ <{AGENT}> rdfs:label ?l }}") == ["Eliot, George"]
    changed = tmp_copy_with_title(data_dir, TRAJECT / "george_eliot.marc", "Rereading Eliot again")
    ingest(data_dir, [changed])
    wait_until(url, 'ASK { ?i rdfs:label "Rereading Eliot again" }', True)
    assert select(url, described) == after_put
    # what links to the agent (the subject heading of the record's work) is the records' to say
    assert ask(url, f"ASK {{ ?heading ?p <{AGENT}> }}")
