"""The Graph Store HTTP Protocol at /rdf-graph-store through a real server.

Reads are open; writes need a writer's credentials. Each writing test uses
graph IRIs of its own, so the tests share one server and store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pyoxigraph import Literal, NamedNode, RdfFormat, parse
from test_web_auth import legacy_users_file
from web_fixtures import BASE, build_data_dir, running_server, settings_for

from ontology.layout import Layout

TOKEN = "graph-store-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RECORD_GRAPH = BASE + "graph/marc/2329645"  # george_eliot.marc 001
NATURE_GRAPH = BASE + "graph/marc/417826"  # nature.marc 001
INSTANCE = BASE + "instance/lccn-2002036483"  # its 010 $a
TITLE = "Rereading George Eliot : changing responses to her experiments in life"  # 245 $a $b


def book(name: str) -> tuple[bytes, set[tuple[str, str, str]]]:
    """A small Turtle graph about ``ex:{name}`` and its triples. Each test writes its own
    book: a triple lives in one graph, and a write that would put it in a second is refused."""
    turtle = f"""@prefix ex: <http://example.org/> .
ex:{name} ex:title "A title" ; ex:author ex:someone .
""".encode()
    return turtle, {
        (f"http://example.org/{name}", "http://example.org/title", '"A title"'),
        (f"http://example.org/{name}", "http://example.org/author", "<http://example.org/someone>"),
    }


TURTLE, TURTLE_TRIPLES = book("book")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-gsp"))
    # The old role "reader" (from a data directory older than accounts.sqlite) may not write.
    legacy_users_file(data_dir, {"rita": ("reader", "reader-password")})
    return data_dir


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir, update_tokens=(TOKEN,))) as root:
        yield root


def store_url(url: str) -> str:
    return url + "/rdf-graph-store"


def triples_of(response: requests.Response, fmt: RdfFormat = RdfFormat.N_TRIPLES) -> set:
    return {
        (str(q.subject)[1:-1], str(q.predicate)[1:-1], str(q.object))
        for q in parse(response.content, fmt)
    }


def graph_size(url: str, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    response = requests.get(url + "/sparql", params={"query": query})
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def get_graph(url: str, graph: str, accept: str = "application/n-triples") -> requests.Response:
    return requests.get(store_url(url), params={"graph": graph}, headers={"Accept": accept})


def test_read_a_record_graph(url: str) -> None:
    response = get_graph(url, RECORD_GRAPH, "text/turtle")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    quads = list(parse(response.content, RdfFormat.TURTLE))
    # the statements that mention the record's own nodes, as SPARQL counts them, nothing more
    assert len(quads) == graph_size(url, RECORD_GRAPH) > 40
    assert all(Layout(BASE).home_graph(q.subject.value, getattr(q.object, "value", None))
               == RECORD_GRAPH for q in quads)  # fmt: skip
    assert not any(q.predicate.value.endswith("#label") and q.subject == NamedNode(INSTANCE)
                   for q in quads)  # fmt: skip
    # what the record says about the instance as a unit is in the instance's own graph
    unit = list(parse(get_graph(url, INSTANCE, "text/turtle").content, RdfFormat.TURTLE))
    titles = {q.object for q in unit if q.predicate.value.endswith("#label")}
    assert titles == {Literal(TITLE)}


@pytest.mark.parametrize("fmt", [RdfFormat.N_TRIPLES, RdfFormat.RDF_XML, RdfFormat.JSON_LD])
def test_read_in_negotiated_formats(url: str, fmt: RdfFormat) -> None:
    response = get_graph(url, RECORD_GRAPH, fmt.media_type)
    assert response.headers["Content-Type"].startswith(fmt.media_type)
    assert len(list(parse(response.content, fmt))) == graph_size(url, RECORD_GRAPH)


def test_read_errors(url: str) -> None:
    assert get_graph(url, BASE + "graph/marc/no-such-record").status_code == 404
    assert requests.get(store_url(url)).status_code == 400  # neither ?graph nor ?default
    both = requests.get(store_url(url), params={"graph": RECORD_GRAPH, "default": ""})
    assert both.status_code == 400
    assert get_graph(url, "not an iri").status_code == 400
    assert get_graph(url, RECORD_GRAPH, "image/png").status_code == 406
    head = requests.head(store_url(url), params={"graph": BASE + "graph/marc/no-such-record"})
    assert head.status_code == 404
    patch = requests.patch(store_url(url), params={"graph": RECORD_GRAPH}, data=b"", headers=AUTH)
    assert patch.status_code == 405
    assert {"GET", "PUT", "POST", "DELETE"} <= set(
        patch.headers["Allow"].replace(" ", "").split(",")
    )


def test_put_get_post_delete_round_trip(url: str) -> None:
    graph = "http://example.org/graphs/round-trip"
    put = requests.put(
        store_url(url),
        params={"graph": graph},
        data=TURTLE,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert put.status_code == 201  # created
    assert triples_of(get_graph(url, graph)) == TURTLE_TRIPLES
    again = requests.put(
        store_url(url),
        params={"graph": graph},
        data=b'<http://example.org/a> <http://example.org/b> "only" .',
        headers={**AUTH, "Content-Type": "application/n-triples"},
    )
    assert again.status_code == 204  # replaced
    assert triples_of(get_graph(url, graph)) == {
        ("http://example.org/a", "http://example.org/b", '"only"')
    }
    merged = requests.post(
        store_url(url),
        params={"graph": graph},
        data=TURTLE,
        headers={**AUTH, "Content-Type": "text/turtle; charset=utf-8"},
    )
    assert merged.status_code == 204
    assert triples_of(get_graph(url, graph)) == TURTLE_TRIPLES | {
        ("http://example.org/a", "http://example.org/b", '"only"')
    }
    query = requests.get(
        url + "/sparql",
        params={"query": 'ASK { <http://example.org/book> <http://example.org/title> "A title" }'},
    )
    assert query.json()["boolean"] is True  # a query sees it through the union
    deleted = requests.delete(store_url(url), params={"graph": graph}, headers=AUTH)
    assert deleted.status_code == 204
    assert get_graph(url, graph).status_code == 404
    assert requests.delete(store_url(url), params={"graph": graph}, headers=AUTH).status_code == 404


def test_post_creates_and_the_default_graph(url: str) -> None:
    created = requests.post(
        store_url(url),
        params={"graph": "http://example.org/graphs/posted"},
        data=book("posted-book")[0],
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert created.status_code == 201
    in_default, in_default_triples = book("default-book")
    default = requests.put(
        store_url(url),
        params={"default": ""},
        data=in_default,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert default.status_code == 204  # the default graph always exists
    assert (
        triples_of(
            requests.get(
                store_url(url), params={"default": ""}, headers={"Accept": "application/n-triples"}
            )
        )
        == in_default_triples
    )
    assert requests.delete(store_url(url), params={"default": ""}, headers=AUTH).status_code == 204
    assert (
        requests.get(
            store_url(url), params={"default": ""}, headers={"Accept": "application/n-triples"}
        ).content
        == b""
    )


def test_writes_need_a_writer(url: str) -> None:
    graph = {"graph": "http://example.org/graphs/guarded"}
    body = {"data": TURTLE}
    anonymous = requests.put(
        store_url(url), params=graph, headers={"Content-Type": "text/turtle"}, **body
    )
    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["WWW-Authenticate"]
    wrong = requests.put(
        store_url(url),
        params=graph,
        headers={"Authorization": "Bearer wrong-token-wrong-token", "Content-Type": "text/turtle"},
        **body,
    )
    assert wrong.status_code == 401
    reader = requests.put(
        store_url(url),
        params=graph,
        auth=("rita", "reader-password"),
        headers={"Content-Type": "text/turtle"},
        **body,
    )
    assert reader.status_code == 403 and "reader" in reader.text
    assert requests.delete(store_url(url), params={"graph": RECORD_GRAPH}).status_code == 401
    assert get_graph(url, "http://example.org/graphs/guarded").status_code == 404
    assert get_graph(url, RECORD_GRAPH).status_code == 200


def test_bodies_are_checked_before_anything_is_written(url: str) -> None:
    graph = {"graph": "http://example.org/graphs/checked"}
    plain = requests.put(
        store_url(url),
        params=graph,
        data=TURTLE,
        headers={**AUTH, "Content-Type": "application/octet-stream"},
    )
    assert plain.status_code == 415 and "text/turtle" in plain.text
    utf16 = requests.put(
        store_url(url),
        params=graph,
        data=TURTLE,
        headers={**AUTH, "Content-Type": "text/turtle; charset=utf-16"},
    )
    assert utf16.status_code == 415
    broken = requests.put(
        store_url(url),
        params=graph,
        data=b"<a> <b>",
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert broken.status_code == 400 and "Turtle" in broken.text
    quads = requests.put(
        store_url(url),
        params=graph,
        data=b"<http://a> <http://b> <http://c> <http://g> .",
        headers={**AUTH, "Content-Type": "application/n-quads"},
    )
    assert quads.status_code == 400
    entities = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/">
  <rdf:Description rdf:about="http://example.org/s"><e:p>&b;</e:p></rdf:Description>
</rdf:RDF>"""
    xml = requests.put(
        store_url(url),
        params=graph,
        data=entities,
        headers={**AUTH, "Content-Type": "application/rdf+xml"},
    )
    assert xml.status_code == 400 and "DOCTYPE" in xml.text
    deep = (
        b'{"@id": "http://example.org/s", "http://example.org/p": '
        + b'{"http://example.org/p": ' * 5000
        + b"1"
        + b"}" * 5001
    )
    nested = requests.put(
        store_url(url),
        params=graph,
        data=deep,
        headers={**AUTH, "Content-Type": "application/ld+json"},
    )
    assert nested.status_code == 400 and "nests" in nested.text  # 5,000 levels crash pyoxigraph
    remote = b'{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://example.org/s", "name": "x"}'
    context = requests.put(
        store_url(url),
        params=graph,
        data=remote,
        headers={**AUTH, "Content-Type": "application/ld+json"},
    )
    assert context.status_code == 400  # never fetched
    assert get_graph(url, "http://example.org/graphs/checked").status_code == 404
    assert requests.get(url + "/-/health").json()["status"] == "ok"


def test_rdf_xml_and_json_ld_bodies(url: str) -> None:
    xml = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/">
  <rdf:Description rdf:about="http://example.org/xml-book"><e:title>A title</e:title></rdf:Description>
</rdf:RDF>"""
    graph = {"graph": "http://example.org/graphs/xml"}
    assert (
        requests.put(
            store_url(url),
            params=graph,
            data=xml,
            headers={**AUTH, "Content-Type": "application/rdf+xml"},
        ).status_code
        == 201
    )
    jsonld = b'{"@id": "http://example.org/xml-book", "http://example.org/author": {"@id": "http://example.org/someone"}}'
    assert (
        requests.post(
            store_url(url),
            params=graph,
            data=jsonld,
            headers={**AUTH, "Content-Type": "application/ld+json"},
        ).status_code
        == 204
    )
    assert triples_of(get_graph(url, graph["graph"])) == book("xml-book")[1]


def test_graphs_ingest_maintains_are_protected(url: str) -> None:
    """Provenance, and the graphs computed from the rest (their refreshes trust their own record
    of what those hold: a hand-made change would outlive every update)."""
    computed = (BASE + "graph/derived/associations", BASE + "graph/derived/mentions")
    for graph in (BASE + "graph/meta", *computed):
        response = requests.put(
            store_url(url),
            params={"graph": graph},
            data=TURTLE,
            headers={**AUTH, "Content-Type": "text/turtle"},
        )
        assert response.status_code == 403, graph
    assert get_graph(url, BASE + "graph/meta").status_code == 200  # readable


def test_replacing_a_record_graph_marks_it_edited(url: str) -> None:
    replaced = requests.put(
        store_url(url),
        params={"graph": NATURE_GRAPH},
        data=TURTLE,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert replaced.status_code == 204
    assert replaced.headers["X-Catalograph-Edited-Graphs"] == "1"
    assert triples_of(get_graph(url, NATURE_GRAPH)) == TURTLE_TRIPLES
    provenance = requests.get(
        url + "/sparql",
        params={
            "query": f"ASK {{ <{NATURE_GRAPH}> dcterms:modified ?t FILTER NOT EXISTS {{ <{NATURE_GRAPH}> cg:contentHash ?h }} }}"
        },
    )
    assert provenance.json()["boolean"] is True


def test_upload_size_limit(tmp_path: Path) -> None:
    settings = settings_for(build_data_dir(tmp_path), update_tokens=(TOKEN,), max_upload_bytes=2000)
    with running_server(settings) as url:
        big = b'<http://example.org/s> <http://example.org/p> "' + b"x" * 3000 + b'" .'
        response = requests.put(
            store_url(url),
            params={"graph": "http://example.org/big"},
            data=big,
            headers={**AUTH, "Content-Type": "application/n-triples"},
        )
        assert response.status_code == 413
        assert "larger than the 2,000 bytes accepted here" in response.text
        small = requests.put(
            store_url(url),
            params={"graph": "http://example.org/big"},
            data=big[:1000] + b'" .',
            headers={**AUTH, "Content-Type": "application/n-triples"},
        )
        assert small.status_code == 201
