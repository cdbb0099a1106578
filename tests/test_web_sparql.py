"""/sparql through a real waitress server over a real store, with requests and SPARQLWrapper."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pyoxigraph import RdfFormat, parse
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed
from web_fixtures import BASE, build_data_dir, running_server, settings_for

INSTANCE = BASE + "instance/lccn-2002036483"  # george_eliot.marc 010 $a
TITLE = "Rereading George Eliot : changing responses to her experiments in life"  # its 245 $a $b
SELECT_TITLE = f"SELECT ?title WHERE {{ <{INSTANCE}> rdfs:label ?title }}"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_data_dir(tmp_path_factory.mktemp("web-sparql"))


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir)) as root:
        yield root


@pytest.fixture(scope="module")
def endpoint(url: str) -> str:
    return url + "/sparql"


def wrapper(endpoint: str, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(endpoint)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def test_sparqlwrapper_select_json(endpoint: str) -> None:
    result = wrapper(endpoint, SELECT_TITLE, JSON).query()
    assert result.response.headers["Content-Type"].startswith("application/sparql-results+json")
    data = result.convert()
    assert [b["title"]["value"] for b in data["results"]["bindings"]] == [TITLE]


def test_sparqlwrapper_select_xml(endpoint: str) -> None:
    document = wrapper(endpoint, SELECT_TITLE, XML).query().convert()
    literals = [node.firstChild.data for node in document.getElementsByTagName("literal")]
    assert literals == [TITLE]


@pytest.mark.parametrize("fmt", [CSV, TSV])
def test_sparqlwrapper_select_csv_tsv(endpoint: str, fmt: str) -> None:
    body = wrapper(endpoint, SELECT_TITLE, fmt).query().convert().decode("utf-8")
    if fmt == CSV:
        assert list(csv.reader(io.StringIO(body))) == [["title"], [TITLE]]
    else:  # TSV writes terms in N-Triples syntax
        assert body.splitlines() == ["?title", f'"{TITLE}"']


def test_sparqlwrapper_ask(endpoint: str) -> None:
    assert (
        wrapper(endpoint, f"ASK {{ <{INSTANCE}> a bf:Instance }}", JSON)
        .query()
        .convert()["boolean"]
        is True
    )
    assert (
        wrapper(endpoint, f"ASK {{ <{INSTANCE}> a bf:Work }}", JSON).query().convert()["boolean"]
        is False
    )


@pytest.mark.parametrize("fmt", [TURTLE, N3])
def test_sparqlwrapper_construct_turtle(endpoint: str, fmt: str) -> None:
    query = f"CONSTRUCT {{ <{INSTANCE}> rdfs:label ?t }} WHERE {{ <{INSTANCE}> rdfs:label ?t }}"
    result = wrapper(endpoint, query, fmt).query()
    assert result.response.headers["Content-Type"].startswith(("text/turtle", "text/n3"))
    triples = list(parse(result.convert(), format=RdfFormat.TURTLE))
    assert [t.object.value for t in triples] == [TITLE]


@pytest.mark.parametrize("fmt", [XML, JSONLD])
def test_sparqlwrapper_construct_to_rdflib(endpoint: str, fmt: str) -> None:
    """RDF/XML and JSON-LD answers, which SPARQLWrapper parses with rdflib."""
    query = f"CONSTRUCT {{ <{INSTANCE}> rdfs:label ?t }} WHERE {{ <{INSTANCE}> rdfs:label ?t }}"
    graph = wrapper(endpoint, query, fmt).query().convert()
    assert {str(o) for o in graph.objects()} == {TITLE}


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [("text/turtle", RdfFormat.TURTLE), ("application/n-triples", RdfFormat.N_TRIPLES)],
)
def test_construct_by_accept(endpoint: str, accept: str, fmt: RdfFormat) -> None:
    query = f"CONSTRUCT WHERE {{ <{INSTANCE}> bf:instanceOf ?work }}"
    response = requests.get(endpoint, params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{accept}; charset=utf-8"
    triples = list(parse(response.content, format=fmt))
    assert len(triples) == 1 and triples[0].subject.value == INSTANCE


def test_post_form(endpoint: str) -> None:
    client = wrapper(endpoint, SELECT_TITLE, JSON)
    client.setMethod(POST)
    data = client.query().convert()
    assert data["results"]["bindings"][0]["title"]["value"] == TITLE
    response = requests.post(endpoint, data={"query": SELECT_TITLE}, headers={"Accept": "text/csv"})
    assert response.status_code == 200 and TITLE in response.text


def test_post_direct_body(endpoint: str) -> None:
    response = requests.post(
        endpoint,
        data=SELECT_TITLE.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["results"]["bindings"][0]["title"]["value"] == TITLE


def test_syntax_error_is_400_with_the_parser_message(endpoint: str) -> None:
    response = requests.get(endpoint, params={"query": "SELECT * WHERE { ?s ?p }"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "SPARQL syntax error" in response.text and "1:" in response.text
    with pytest.raises(QueryBadFormed):
        wrapper(endpoint, "SELECT * WHERE { ?s ?p }", JSON).query()


def test_updates_are_refused_and_change_nothing(endpoint: str) -> None:
    insert = f'INSERT DATA {{ <{INSTANCE}> rdfs:label "defaced" }}'
    refused = [
        requests.get(endpoint, params={"query": insert}),
        requests.post(endpoint, data={"update": insert}),
        requests.get(endpoint, params={"update": insert}),
        requests.post(
            endpoint, data=insert.encode(), headers={"Content-Type": "application/sparql-update"}
        ),
    ]
    # An update by GET or as a query is refused outright; by POST it needs credentials.
    assert [r.status_code for r in refused] == [403, 401, 403, 401]
    assert "WWW-Authenticate" in refused[1].headers and "credentials" in refused[3].text
    check = requests.get(endpoint, params={"query": 'ASK { ?s rdfs:label "defaced" }'})
    assert check.json()["boolean"] is False


def test_406_when_nothing_offered_is_acceptable(endpoint: str) -> None:
    response = requests.get(
        endpoint, params={"query": SELECT_TITLE}, headers={"Accept": "image/png"}
    )
    assert response.status_code == 406
    select_as_turtle = requests.get(
        endpoint, params={"query": SELECT_TITLE}, headers={"Accept": "text/turtle"}
    )
    assert select_as_turtle.status_code == 406


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
        ("xml", "application/sparql-results+xml"),
        ("application/sparql-results+json", "application/sparql-results+json"),
    ],
)
def test_format_parameter(endpoint: str, fmt: str, content_type: str) -> None:
    response = requests.get(
        endpoint, params={"query": SELECT_TITLE, "format": fmt}, headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{content_type}; charset=utf-8"
    assert response.headers["Vary"] == "Accept"


def test_unknown_format_parameter_is_400(endpoint: str) -> None:
    response = requests.get(endpoint, params={"query": SELECT_TITLE, "format": "docx"})
    assert response.status_code == 400 and "unknown format" in response.text


def test_browser_without_query_gets_the_form(endpoint: str) -> None:
    response = requests.get(endpoint, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<textarea id="query" name="query"' in response.text
    # A SPARQL client that forgot its query (the service description is RDF).
    missing = requests.get(endpoint, headers={"Accept": "application/sparql-results+json"})
    assert missing.status_code == 400


def test_unsupported_post_body(endpoint: str) -> None:
    response = requests.post(endpoint, data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 415


def test_repeated_parameters(endpoint: str) -> None:
    response = requests.get(endpoint, params=[("query", SELECT_TITLE), ("query", "ASK {}")])
    assert response.status_code == 400 and "once" in response.text
    same = requests.get(
        endpoint, params=[("query", SELECT_TITLE), ("format", "csv"), ("format", "text/csv")]
    )
    assert same.status_code == 200 and same.headers["Content-Type"].startswith("text/csv")
    first_wins = requests.get(
        endpoint, params=[("query", SELECT_TITLE), ("format", "docx"), ("format", "xml,csv")]
    )
    assert first_wins.headers["Content-Type"].startswith("application/sparql-results+xml")


def test_service_and_deep_nesting_are_refused_and_the_server_lives(url: str, endpoint: str) -> None:
    service = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    assert requests.get(endpoint, params={"query": service}).status_code == 400
    deep = "SELECT * WHERE " + "{" * 5000 + "}" * 5000
    response = requests.post(endpoint, data={"query": deep})
    assert response.status_code == 400 and "nests" in response.text
    assert requests.get(url + "/-/health").json()["status"] == "ok"


def test_dataset_by_protocol_parameters(endpoint: str) -> None:
    ask = f"ASK {{ <{INSTANCE}> bf:title ?title }}"  # the record's own statement, in its graph
    inside = requests.get(
        endpoint, params={"query": ask, "default-graph-uri": BASE + "graph/marc/2329645"}
    )
    outside = requests.get(
        endpoint, params={"query": ask, "default-graph-uri": BASE + "graph/marc/4083985"}
    )
    assert inside.json()["boolean"] is True and outside.json()["boolean"] is False


def test_limits_rows_and_size(data_dir: Path) -> None:
    settings = settings_for(data_dir, max_rows=5, max_query_bytes=200)
    with running_server(settings) as root:
        endpoint = root + "/sparql"
        response = requests.get(endpoint, params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        assert response.status_code == 200
        assert response.headers["X-Catalograph-Truncated"] == "true; max-rows=5"
        data = response.json()
        assert data["truncated"] is True and len(data["results"]["bindings"]) == 5
        tsv = requests.get(
            endpoint, params={"query": "SELECT * WHERE { ?s ?p ?o }", "format": "tsv"}
        )
        assert len(tsv.text.strip().splitlines()) == 6
        small = requests.get(endpoint, params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 2"})
        assert "X-Catalograph-Truncated" not in small.headers
        big = "SELECT * WHERE { ?s ?p ?o }" + " " * 300
        assert requests.get(endpoint, params={"query": big}).status_code == 413
        direct = requests.post(
            endpoint, data=big.encode(), headers={"Content-Type": "application/sparql-query"}
        )
        assert direct.status_code == 413
        huge_form = requests.post(endpoint, data={"query": "x" * 10_000})
        assert huge_form.status_code == 413
        # refused by the body limit before the form is read (3 x 200 + 4,096 for url-encoding)
        assert "larger than the 4,696 bytes accepted here" in huge_form.text


def test_security_headers(endpoint: str) -> None:
    response = requests.get(endpoint, params={"query": SELECT_TITLE})
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in response.headers
    assert json.loads(response.text)["head"]["vars"] == ["title"]
