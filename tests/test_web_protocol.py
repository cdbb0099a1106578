"""SPARQL 1.1 Protocol details, the Service Description and VoID, through a real server.

The store holds the traject test records except nature.marc (ingested during
one test to see the descriptions follow the data) plus the hostile record.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from pyoxigraph import Literal, NamedNode, QueryResultsFormat, RdfFormat, Store, parse
from web_fixtures import BASE, TRAJECT, ingest, record_files, running_server, settings_for

from graph import latest_snapshot
from ontology.namespaces import BF, CG, DCT, SD, VOID, XSD
from query.description import format_iri
from query.negotiation import RDF_FORMATS, RESULTS_FORMATS

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
INSTANCE = BASE + "instance/lccn-2002036483"  # george_eliot.marc 010 $a
TITLE = "Rereading George Eliot : changing responses to her experiments in life"  # 245 $a $b
NATURE = TRAJECT / "nature.marc"  # one record, 001 417826, 245 $a "Nature."
SELECT_TITLE = f"SELECT ?title WHERE {{ <{INSTANCE}> rdfs:label ?title }}"
CONSTRUCT_TITLE = f"CONSTRUCT WHERE {{ <{INSTANCE}> rdfs:label ?title }}"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("web-protocol")
    files = [path for path in record_files(tmp) if path != NATURE]
    return ingest(tmp / "data", files)


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir)) as root:
        yield root


def sparql_count(url: str, query: str) -> int:
    response = requests.get(
        url + "/sparql", params={"query": query}, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200, response.text
    return int(response.text.splitlines()[1])


def turtle_store(body: bytes, fmt: RdfFormat = RdfFormat.TURTLE) -> Store:
    store = Store()
    store.extend(parse(body, fmt))
    return store


def one(store: Store, subject: NamedNode | None, predicate: NamedNode) -> object:
    found = [q.object for q in store.quads_for_pattern(subject, predicate, None, None)]
    assert len(found) == 1, (predicate, found)
    return found[0]


# ------------------------------------------------------------------ protocol


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", QueryResultsFormat.XML),
        (
            "application/sparql-results+json;q=0.1, text/tab-separated-values",
            QueryResultsFormat.TSV,
        ),
        ("*/*", QueryResultsFormat.JSON),
    ],
)
def test_select_formats_follow_q_values(
    url: str, accept: str, expected: QueryResultsFormat
) -> None:
    response = requests.get(
        url + "/sparql", params={"query": SELECT_TITLE}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == expected.media_type.split(";")[0]
    assert TITLE in response.text


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_construct_in_every_rdf_format(url: str, fmt: RdfFormat) -> None:
    media = fmt.media_type.split(";")[0]
    response = requests.post(
        url + "/sparql", data={"query": CONSTRUCT_TITLE}, headers={"Accept": media}
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == f"{media}; charset=utf-8"
    objects = {q.object for q in parse(response.content, fmt)}
    assert objects == {Literal(TITLE)}


def test_format_parameter_names_rdf_formats(url: str) -> None:
    response = requests.get(url + "/sparql", params={"query": CONSTRUCT_TITLE, "format": "nt"})
    assert response.headers["Content-Type"].startswith("application/n-triples")
    response = requests.get(url + "/sparql", params={"query": CONSTRUCT_TITLE, "format": "jsonld"})
    assert response.headers["Content-Type"].startswith("application/ld+json")


def test_union_of_named_graphs_is_the_default_graph(url: str) -> None:
    """The instance lives in its record graph only, yet a query without GRAPH sees it."""
    in_named = sparql_count(
        url, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ <{INSTANCE}> a bf:Instance }} }}"
    )
    in_default = sparql_count(
        url, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{INSTANCE}> a bf:Instance }}"
    )
    assert in_named == in_default == 1


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_405_with_allow_on_sparql(url: str, method: str) -> None:
    response = requests.request(method, url + "/sparql", data=b"x")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "POST"}
    assert method not in response.headers["Allow"]


def test_405_on_the_void_description(url: str) -> None:
    response = requests.post(url + "/.well-known/void", data=b"x")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/json", "application/sparql-results+json"]
)
def test_415_for_a_post_body_the_protocol_does_not_define(url: str, content_type: str) -> None:
    response = requests.post(
        url + "/sparql", data=SELECT_TITLE.encode(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 415
    assert "application/sparql-query" in response.text


def test_406_lists_what_is_offered(url: str) -> None:
    response = requests.get(
        url + "/sparql", params={"query": SELECT_TITLE}, headers={"Accept": "image/png"}
    )
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text


def test_400_carries_the_parser_message(url: str) -> None:
    response = requests.post(url + "/sparql", data={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert response.status_code == 400
    assert response.text.startswith("SPARQL syntax error: error at 1:")


@pytest.mark.parametrize(
    ("path", "params", "accept"),
    [
        ("/sparql", {"query": SELECT_TITLE}, "application/sparql-results+json"),
        ("/sparql", {"query": CONSTRUCT_TITLE}, "text/turtle"),
        ("/sparql", {}, "text/turtle"),  # the service description
        ("/sparql", {}, BROWSER),  # the query page
        ("/.well-known/void", {}, "application/n-triples"),
        ("/rdf-graph-store", {"graph": BASE + "graph/marc/2329645"}, "text/turtle"),
        ("/instance/lccn-2002036483", {}, BROWSER),
        ("/-/health", {}, "*/*"),
    ],
)
def test_head_answers_like_get_without_a_body(
    url: str, path: str, params: dict, accept: str
) -> None:
    get = requests.get(url + path, params=params, headers={"Accept": accept})
    head = requests.head(url + path, params=params, headers={"Accept": accept})
    assert get.status_code == head.status_code == 200
    assert head.content == b"" and get.content != b""
    for header in ("Content-Type", "Vary", "Access-Control-Allow-Origin"):
        assert head.headers.get(header) == get.headers.get(header), header
    if "Content-Length" in head.headers:
        assert int(head.headers["Content-Length"]) == len(get.content)


def test_cors_on_answers_and_errors(url: str) -> None:
    for response in (
        requests.get(
            url + "/sparql", params={"query": SELECT_TITLE}, headers={"Origin": "https://a.example"}
        ),
        requests.get(
            url + "/sparql", params={"query": "nonsense"}, headers={"Origin": "https://a.example"}
        ),
    ):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "X-Catalograph-Rows" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(("path", "method"), [("/sparql", "POST"), ("/rdf-graph-store", "PUT")])
def test_cors_preflight(url: str, path: str, method: str) -> None:
    response = requests.options(
        url + path,
        headers={
            "Origin": "https://a.example",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert method in response.headers["Access-Control-Allow-Methods"]
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response.headers


# ------------------------------------------------------------------ service description


def test_service_description_names_the_endpoint(url: str) -> None:
    response = requests.get(url + "/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    description = turtle_store(response.content)
    endpoint = NamedNode(url + "/sparql")
    assert one(description, endpoint, SD.endpoint) == endpoint
    languages = {
        q.object for q in description.quads_for_pattern(endpoint, SD.supportedLanguage, None, None)
    }
    assert languages == {SD.SPARQL11Query, SD.SPARQL11Update}
    assert one(description, endpoint, SD.feature) == SD.UnionDefaultGraph
    formats = {
        q.object.value for q in description.quads_for_pattern(endpoint, SD.resultFormat, None, None)
    }
    expected = {format_iri(f) for f in (*RESULTS_FORMATS, *RDF_FORMATS)}
    assert formats == expected
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in formats
    assert "http://www.w3.org/ns/formats/JSON-LD" in formats
    dataset = one(description, endpoint, SD.defaultDataset)
    assert dataset == NamedNode(BASE + ".well-known/void#dataset")
    see_also = {
        q.object.value
        for q in description.quads_for_pattern(None, None, None, None)
        if q.predicate.value.endswith("seeAlso")
    }
    assert {url + "/.well-known/void", url + "/rdf-graph-store"} <= see_also


def test_service_description_by_negotiation(url: str) -> None:
    jsonld = requests.get(url + "/sparql", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["Content-Type"].startswith("application/ld+json")
    assert NamedNode(url + "/sparql") in {
        q.subject for q in parse(jsonld.content, RdfFormat.JSON_LD)
    }
    assert (
        requests.get(url + "/sparql", headers={"Accept": BROWSER})
        .headers["Content-Type"]
        .startswith("text/html")
    )
    curl = requests.get(url + "/sparql", headers={"Accept": "*/*"})
    assert curl.headers["Content-Type"].startswith("text/turtle")
    assert (
        requests.get(
            url + "/sparql", headers={"Accept": "application/sparql-results+json"}
        ).status_code
        == 400
    )


# ------------------------------------------------------------------ VoID


def void_of(url: str) -> tuple[Store, NamedNode]:
    response = requests.get(url + "/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["Vary"] == "Accept"
    return turtle_store(response.content), NamedNode(BASE + ".well-known/void#dataset")


def integer(term: object) -> int:
    assert isinstance(term, Literal) and term.datatype == XSD.integer
    return int(term.value)


def class_entities(void: Store, dataset: NamedNode, cls: NamedNode) -> int:
    for partition in void.quads_for_pattern(dataset, VOID.classPartition, None, None):
        if one(void, partition.object, VOID["class"]) == cls:
            return integer(one(void, partition.object, VOID.entities))
    return 0


def test_void_counts_equal_sparql_counts(url: str) -> None:
    void, dataset = void_of(url)
    assert integer(one(void, dataset, VOID.triples)) == sparql_count(
        url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    )
    assert integer(one(void, dataset, VOID.entities)) == sparql_count(
        url, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c }"
    )
    for cls in (BF.Work, BF.Instance, BF.Agent):
        assert class_entities(void, dataset, cls) == sparql_count(
            url, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls.value}> }}"
        )
    # By hand: 8 traject records besides nature.marc, plus the hostile one.
    assert class_entities(void, dataset, CG.RecordGraph) == 9
    # the record graphs, the metadata graph and one graph per shared unit they describe
    assert integer(one(void, dataset, VOID.documents)) == sparql_count(
        url, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    )
    assert one(void, dataset, VOID.sparqlEndpoint) == NamedNode(url + "/sparql")
    assert one(void, dataset, VOID.uriSpace) == Literal(BASE)
    vocabularies = {
        q.object.value for q in void.quads_for_pattern(dataset, VOID.vocabulary, None, None)
    }
    assert {str(BF), "http://www.w3.org/2000/01/rdf-schema#", str(CG)} <= vocabularies
    examples = {
        q.object.value for q in void.quads_for_pattern(dataset, VOID.exampleResource, None, None)
    }
    assert any(e.startswith(BASE + "work/") for e in examples)
    assert any(e.startswith(BASE + "instance/") for e in examples)


def test_void_modified_is_the_checkpoint_time(url: str, data_dir: Path) -> None:
    void, dataset = void_of(url)
    stamp = one(void, dataset, DCT.modified)
    assert isinstance(stamp, Literal) and stamp.datatype == XSD.dateTime
    published = datetime.fromtimestamp(latest_snapshot(data_dir).stat().st_mtime, tz=UTC)
    assert stamp.value == published.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_void_in_every_rdf_format(url: str, fmt: RdfFormat) -> None:
    media = fmt.media_type.split(";")[0]
    response = requests.get(url + "/.well-known/void", headers={"Accept": media})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{media}; charset=utf-8"
    parsed = turtle_store(response.content, fmt)
    assert any(parsed.quads_for_pattern(None, VOID.triples, None, None))


def test_descriptions_follow_an_ingest(tmp_path: Path) -> None:
    """Ingesting nature.marc while the server runs: VoID counts it once the checkpoint is read."""
    data_dir = ingest(tmp_path / "data", [TRAJECT / "george_eliot.marc"])
    with running_server(settings_for(data_dir)) as url:
        follow_an_ingest(url, data_dir)


def follow_an_ingest(url: str, data_dir: Path) -> None:
    void, dataset = void_of(url)
    assert class_entities(void, dataset, CG.RecordGraph) == 1
    before = integer(one(void, dataset, VOID.triples))
    ingest(data_dir, [NATURE])
    deadline = time.monotonic() + 10
    while True:
        void, dataset = void_of(url)
        if class_entities(void, dataset, CG.RecordGraph) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert class_entities(void, dataset, CG.RecordGraph) == 2
    after = integer(one(void, dataset, VOID.triples))
    assert after > before
    assert after == sparql_count(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    # nature.marc 010 $a "   12037118"; 245 $a "Nature." (ISBD full stop dropped)
    nature = sparql_count(
        url,
        f'SELECT (COUNT(*) AS ?n) WHERE {{ <{BASE}instance/lccn-12037118> rdfs:label "Nature" }}',
    )
    assert nature == 1
