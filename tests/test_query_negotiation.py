"""The one content-negotiation function: Accept with q-values, format names, 406."""

from __future__ import annotations

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat

from ontology.errors import UsageError
from query.negotiation import (
    HTML,
    RDF_FORMATS,
    RESULTS_FORMATS,
    NotAcceptableError,
    content_type,
    negotiate,
    parse_format,
)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_formats_come_from_pyoxigraph_tables() -> None:
    assert RdfFormat.TURTLE in RDF_FORMATS and RdfFormat.JSON_LD in RDF_FORMATS
    assert RdfFormat.RDF_XML in RDF_FORMATS and RdfFormat.N_QUADS in RDF_FORMATS
    assert set(RESULTS_FORMATS) == {
        QueryResultsFormat.JSON,
        QueryResultsFormat.XML,
        QueryResultsFormat.CSV,
        QueryResultsFormat.TSV,
    }
    assert RDF_FORMATS[0] == RdfFormat.TURTLE
    assert RESULTS_FORMATS[0] == QueryResultsFormat.JSON


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, QueryResultsFormat.JSON),
        ("", QueryResultsFormat.JSON),
        ("*/*", QueryResultsFormat.JSON),
        ("application/sparql-results+xml", QueryResultsFormat.XML),
        ("text/csv", QueryResultsFormat.CSV),
        ("text/tab-separated-values", QueryResultsFormat.TSV),
        ("application/json", QueryResultsFormat.JSON),  # pyoxigraph's alias
        ("text/csv;q=0.5, text/tab-separated-values", QueryResultsFormat.TSV),
        (
            "application/sparql-results+json;q=0.1, application/sparql-results+xml;q=0.2",
            QueryResultsFormat.XML,
        ),
        ("text/*", QueryResultsFormat.CSV),  # first text/* format in server order
        ("text/*, text/csv;q=0", QueryResultsFormat.TSV),  # q=0: "not this one"
        ("TEXT/CSV", QueryResultsFormat.CSV),
        ("text/csv; charset=utf-8", QueryResultsFormat.CSV),
    ],
)
def test_results_negotiation(accept: str | None, expected: QueryResultsFormat) -> None:
    assert negotiate(accept, RESULTS_FORMATS) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/turtle", RdfFormat.TURTLE),
        ("application/n-triples", RdfFormat.N_TRIPLES),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/n-quads", RdfFormat.N_QUADS),
        ("application/x-turtle", RdfFormat.TURTLE),  # an alias pyoxigraph knows
        ("application/n-triples;q=0.4, text/turtle;q=0.9", RdfFormat.TURTLE),
    ],
)
def test_rdf_negotiation(accept: str, expected: RdfFormat) -> None:
    assert negotiate(accept, RDF_FORMATS) == expected


def test_a_browser_gets_html_and_curl_gets_turtle() -> None:
    offered = [*RDF_FORMATS, HTML]
    assert negotiate(BROWSER, offered) == HTML
    assert negotiate("*/*", offered) == RdfFormat.TURTLE
    assert negotiate(None, offered) == RdfFormat.TURTLE


def test_nothing_acceptable_raises_406() -> None:
    with pytest.raises(NotAcceptableError) as caught:
        negotiate("image/png", RESULTS_FORMATS)
    assert caught.value.http_status == 406
    assert "application/sparql-results+json" in caught.value.message
    with pytest.raises(NotAcceptableError):
        negotiate("text/csv;q=0", [QueryResultsFormat.CSV])


def test_malformed_accept_is_not_fatal() -> None:
    assert negotiate("garbage, text/csv;q=abc, text/tab-separated-values", RESULTS_FORMATS) == (
        QueryResultsFormat.TSV
    )


@pytest.mark.parametrize(
    ("name", "offered", "expected"),
    [
        ("json", RESULTS_FORMATS, QueryResultsFormat.JSON),
        ("srj", RESULTS_FORMATS, QueryResultsFormat.JSON),
        ("xml", RESULTS_FORMATS, QueryResultsFormat.XML),
        ("csv", RESULTS_FORMATS, QueryResultsFormat.CSV),
        ("tsv", RESULTS_FORMATS, QueryResultsFormat.TSV),
        ("text/csv", RESULTS_FORMATS, QueryResultsFormat.CSV),
        ("ttl", RDF_FORMATS, RdfFormat.TURTLE),
        ("turtle", RDF_FORMATS, RdfFormat.TURTLE),
        ("nt", RDF_FORMATS, RdfFormat.N_TRIPLES),
        ("ntriples", RDF_FORMATS, RdfFormat.N_TRIPLES),
        ("jsonld", RDF_FORMATS, RdfFormat.JSON_LD),
        ("json", RDF_FORMATS, RdfFormat.JSON_LD),
        ("application/rdf+xml", RDF_FORMATS, RdfFormat.RDF_XML),
        ("csv", RDF_FORMATS, None),  # known, but not an RDF format
        ("ttl", RESULTS_FORMATS, None),
    ],
)
def test_parse_format(name: str, offered: tuple, expected: object) -> None:
    assert parse_format(name, offered) == expected


def test_unknown_format_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown format 'docx'"):
        parse_format("docx", RESULTS_FORMATS)


def test_format_parameter_beats_accept() -> None:
    assert negotiate("text/csv", RESULTS_FORMATS, "tsv") == QueryResultsFormat.TSV
    with pytest.raises(NotAcceptableError, match="'ttl' is not available"):
        negotiate("text/csv", RESULTS_FORMATS, "ttl")


def test_content_type_says_utf8() -> None:
    assert content_type(QueryResultsFormat.CSV) == "text/csv; charset=utf-8"
    assert content_type(RdfFormat.TURTLE) == "text/turtle; charset=utf-8"
    assert content_type(HTML) == "text/html; charset=utf-8"
