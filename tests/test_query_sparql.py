"""SPARQL execution with limits, over a real store built from real records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
)
from web_fixtures import BASE, build_data_dir

from graph import open_latest_snapshot
from ontology.errors import QueryError
from ontology.namespaces import BF, RDFS, XSD
from query.negotiation import NotAcceptableError
from query.sparql import (
    MAX_NESTING,
    QueryTooLargeError,
    UpdateRefusedError,
    _skeleton,
    check_query,
    run_query,
)

INSTANCE = NamedNode(BASE + "instance/lccn-2002036483")  # george_eliot.marc, 010 $a
RESULTS = [
    QueryResultsFormat.JSON,
    QueryResultsFormat.XML,
    QueryResultsFormat.CSV,
    QueryResultsFormat.TSV,
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return open_latest_snapshot(build_data_dir(tmp_path_factory.mktemp("sparql")))


def run(store: Store, text: str, fmt=QueryResultsFormat.JSON, graph=RdfFormat.TURTLE, rows=100):
    return run_query(
        store, text, results_format=fmt, graph_format=graph, max_rows=rows, max_bytes=100_000
    )


def test_select_over_the_union_with_predefined_prefixes(store: Store) -> None:
    result = run(store, f"SELECT ?title WHERE {{ <{INSTANCE.value}> rdfs:label ?title }}")
    data = json.loads(result.body)
    assert [b["title"]["value"] for b in data["results"]["bindings"]] == [
        "Rereading George Eliot : changing responses to her experiments in life"
    ]
    assert (result.form, result.rows, result.truncated) == ("select", 1, False)
    assert result.content_type == "application/sparql-results+json; charset=utf-8"


def test_ask_and_construct(store: Store) -> None:
    yes = run(store, f"ASK {{ <{INSTANCE.value}> a bf:Instance }}")
    assert yes.form == "ask" and json.loads(yes.body)["boolean"] is True
    no = run(store, f"ASK {{ <{INSTANCE.value}> a bf:Work }}", fmt=QueryResultsFormat.XML)
    assert b"<boolean>false</boolean>" in no.body
    construct = "CONSTRUCT { ?i bf:instanceOf ?w } WHERE { BIND(<%s> AS ?i) ?i bf:instanceOf ?w }"
    graph = run(store, construct % INSTANCE.value)
    triples = list(parse(graph.body, format=RdfFormat.TURTLE))
    assert graph.form == "graph" and len(triples) == 1
    assert triples[0].subject == INSTANCE and triples[0].predicate == BF.instanceOf
    assert graph.content_type.startswith("text/turtle")


@pytest.mark.parametrize("fmt", RESULTS)
def test_rows_are_capped_and_the_cap_is_said(store: Store, fmt: QueryResultsFormat) -> None:
    result = run(store, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }", fmt=fmt, rows=7)
    assert result.truncated and result.rows == 7
    if fmt == QueryResultsFormat.CSV:
        assert len(result.body.decode().strip().splitlines()) == 1 + 7
    else:
        assert len(list(parse_query_results(result.body, fmt))) == 7
    if fmt == QueryResultsFormat.JSON:
        assert json.loads(result.body)["truncated"] is True


def test_construct_is_capped_too(store: Store) -> None:
    result = run(store, "CONSTRUCT WHERE { ?s ?p ?o }", graph=RdfFormat.N_TRIPLES, rows=5)
    assert result.truncated and len(result.body.decode().strip().splitlines()) == 5


def test_exactly_max_rows_is_not_truncated(store: Store) -> None:
    result = run(store, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3", rows=3)
    assert result.rows == 3 and not result.truncated


@pytest.mark.parametrize("fmt", RESULTS)
def test_serialisation_equals_pyoxigraph_own(fmt: QueryResultsFormat) -> None:
    """Rows pass through TSV and back: the answer must be byte-identical to pyoxigraph's."""
    store = Store()
    g = NamedNode("http://example.org/g")
    s = NamedNode("http://example.org/s")
    for obj in (
        Literal('tab\there\nnew line "quoted" \\ back', language="en"),
        Literal("רצבי, שלום", language="he-Hebr"),
        Literal("42", datatype=XSD.integer),
        Literal("plain"),
        BlankNode("b0"),
        NamedNode("http://example.org/o?x=1&y=<2>".replace("<", "%3C").replace(">", "%3E")),
    ):
        store.add(Quad(s, RDFS.label, obj, g))
    text = "SELECT ?s ?o ?unbound WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?unbound } } ORDER BY STR(?o)"
    ours = run(store, text, fmt=fmt).body
    theirs = store.query(text, use_default_graph_as_union=True).serialize(format=fmt)
    assert ours == theirs


def test_no_acceptable_format_for_this_form(store: Store) -> None:
    with pytest.raises(NotAcceptableError):
        run(store, "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", graph=None)
    with pytest.raises(NotAcceptableError):
        run(store, "SELECT * WHERE { ?s ?p ?o } LIMIT 1", fmt=None)


def test_syntax_error_carries_the_parser_message(store: Store) -> None:
    with pytest.raises(QueryError) as caught:
        run(store, "SELECT * WHERE { ?s ?p }")
    assert caught.value.http_status == 400
    assert "SPARQL syntax error" in caught.value.message and "1:" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }",
        "PREFIX ex: <http://e/> DELETE WHERE { ?s ex:p ?o }",
        "# a comment\nBASE <http://e/>\nLOAD <http://e/data.ttl>",
        "  clear all",
        "DROP GRAPH <http://e/g>",
        "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    ],
)
def test_updates_are_refused_before_parsing(store: Store, text: str) -> None:
    with pytest.raises(UpdateRefusedError) as caught:
        run(store, text)
    assert caught.value.http_status == 403


def test_service_is_refused_but_the_word_in_a_string_or_iri_is_not() -> None:
    with pytest.raises(QueryError, match="SERVICE"):
        check_query("SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }", 1000)
    with pytest.raises(QueryError, match="SERVICE"):
        check_query("SELECT * WHERE { ?a ?b ?c . service?x{ ?s ?p ?o } }", 1000)
    check_query("SELECT * WHERE { ?s ?p 'SERVICE' . ?s ?q <http://e/SERVICE> } # SERVICE", 1000)


def test_nesting_is_limited_before_the_parser_sees_it() -> None:
    deep = "SELECT * WHERE " + "{" * (MAX_NESTING + 1) + "}" * (MAX_NESTING + 1)
    with pytest.raises(QueryError, match="nests"):
        check_query(deep, 100_000)
    check_query("SELECT * WHERE { ?s ?p '" + "{" * 5000 + "' }", 100_000)


def test_size_limit_is_in_bytes() -> None:
    text = "SELECT * WHERE { ?s ?p 'éé' }"
    limit = len(text.encode("utf-8"))
    check_query(text, limit)
    with pytest.raises(QueryTooLargeError) as caught:
        check_query(text, limit - 1)
    assert caught.value.http_status == 413


def test_skeleton_is_linear_on_hostile_text() -> None:
    """Unterminated long strings and lone '<' must not make the scan quadratic."""
    import time

    hostile = ('"""\\"' * 20_000) + ("<a" * 20_000)
    started = time.perf_counter()
    _skeleton(hostile)
    assert time.perf_counter() - started < 2.0


def test_skeleton_keeps_syntax_only() -> None:
    assert _skeleton('SELECT * { ?s <http://x/#y> \'}\' . ?s ?p """a\n}""" } # }') == (
        'SELECT * { ?s <> \'\' . ?s ?p """""" }  '
    )
    assert _skeleton("FILTER(?a < ?b)") == "FILTER(?a < ?b)"


def test_dataset_from_the_protocol(store: Store, tmp_path: Path) -> None:
    eliot = BASE + "graph/marc/2329645"
    hebrew = BASE + "graph/marc/4083985"
    ask = f"ASK {{ <{INSTANCE.value}> bf:title ?title }}"  # the record's own statement
    inside = run_query(
        store,
        ask,
        results_format=QueryResultsFormat.JSON,
        graph_format=None,
        max_rows=10,
        max_bytes=1000,
        default_graphs=[eliot],
    )
    outside = run_query(
        store,
        ask,
        results_format=QueryResultsFormat.JSON,
        graph_format=None,
        max_rows=10,
        max_bytes=1000,
        default_graphs=[hebrew],
    )
    assert json.loads(inside.body)["boolean"] is True
    assert json.loads(outside.body)["boolean"] is False
    with pytest.raises(QueryError, match="invalid graph IRI"):
        run_query(
            store,
            ask,
            results_format=QueryResultsFormat.JSON,
            graph_format=None,
            max_rows=10,
            max_bytes=1000,
            default_graphs=["not an iri"],
        )
