"""Running a user's SPARQL query with limits, and writing its results.

Everything here works on plain values (query text, formats, a row cap) and
returns bytes, so the hardening step can move ``run_query`` into a worker
process that can be killed at its deadline without changing callers.

Rows are capped by reading at most ``max_rows + 1`` solutions; the kept rows are
written as SPARQL TSV (whose terms are N-Triples, exactly ``str(term)``), read
back by pyoxigraph and serialised by it into the requested format, so every
results format stays pyoxigraph's own and truncation is never silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    parse_query_results,
    serialize,
)

from ontology.errors import QueryError, StoreError
from ontology.namespaces import PREFIXES
from query.negotiation import NotAcceptableError, content_type

#: Deepest nesting of ``{`` / ``(`` / ``[`` accepted: pyoxigraph's recursive
#: parser crashes the whole process on a few thousand levels.
MAX_NESTING = 200


class QueryTooLargeError(QueryError):
    """The query text is longer than the configured limit (HTTP 413)."""

    http_status = 413


class UpdateRefusedError(QueryError):
    """A SPARQL Update reached a read-only endpoint (HTTP 403)."""

    http_status = 403


@dataclass(frozen=True, slots=True)
class SparqlResult:
    """A serialised answer: what to send and what to say about it."""

    body: bytes
    content_type: str
    form: str  # "select", "ask" or "graph" (CONSTRUCT / DESCRIBE)
    rows: int
    truncated: bool


_SPECIAL = re.compile(r"[#\"'<]")
_IRI_END = re.compile(r"[<>\"{}|^`\\\s]")
_PROLOGUE = re.compile(r"^\s*(?:(?:PREFIX\s+[^\s:]*:\s*|BASE\s*)<>\s*)*", re.IGNORECASE)
_UPDATE_START = re.compile(
    r"(?:INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.IGNORECASE
)
_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)


def _skeleton(text: str) -> str:
    """The query with strings and IRIs emptied and comments removed: only its syntax.

    A single left-to-right pass (linear time on any input, unlike a regex with
    alternatives), so a '#' inside an IRI or a brace inside a string is never
    read as syntax.

    >>> _skeleton("SELECT * { ?s <http://x#y> '}' } # {")
    "SELECT * { ?s <> '' }  "
    """
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        found = _SPECIAL.search(text, i)
        if found is None:
            parts.append(text[i:])
            break
        j = found.start()
        parts.append(text[i:j])
        char = text[j]
        if char == "#":
            end = text.find("\n", j)
            parts.append(" ")
            i = n if end < 0 else end
        elif char == "<":
            stop = _IRI_END.search(text, j + 1)
            if stop is not None and text[stop.start()] == ">":
                parts.append("<>")
                i = stop.start() + 1
            else:
                parts.append("<")
                i = j + 1
        else:
            quote = char * 3 if text.startswith(char * 3, j) else char
            k = j + len(quote)
            while k < n and not text.startswith(quote, k):
                if len(quote) == 1 and text[k] == "\n":
                    break
                k += 2 if text[k] == "\\" else 1
            parts.append(quote + quote)
            i = k + len(quote)
    return "".join(parts)


def check_query(text: str, max_bytes: int) -> None:
    """Refuse, before parsing, what must never reach the parser or the network.

    >>> check_query("SELECT * WHERE { ?s ?p '{{{' }", 1000)
    >>> check_query("INSERT DATA { <a> <b> <c> }", 1000)
    Traceback (most recent call last):
    ...
    query.sparql.UpdateRefusedError: SPARQL Update is not accepted here: this endpoint is read-only
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise QueryTooLargeError(f"the query is {size} bytes long; the limit is {max_bytes}")
    skeleton = _skeleton(text)
    if _UPDATE_START.match(_PROLOGUE.sub("", skeleton)):
        raise UpdateRefusedError("SPARQL Update is not accepted here: this endpoint is read-only")
    depth = deepest = 0
    for char in skeleton:
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth -= 1
    if deepest > MAX_NESTING:
        raise QueryError(f"the query nests {deepest} levels deep; the limit is {MAX_NESTING}")
    if _SERVICE.search(skeleton):
        raise QueryError("SERVICE (federated query) is disabled on this endpoint")


def run_query(
    store: Store,
    text: str,
    *,
    results_format: QueryResultsFormat | None,
    graph_format: RdfFormat | None,
    max_rows: int,
    max_bytes: int,
    default_graphs: list[str] | None = None,
    named_graphs: list[str] | None = None,
    prefixes: dict[str, str] | None = None,
) -> SparqlResult:
    """Check, run and serialise one query.

    The default graph is the union of all graphs unless the request names its
    dataset (the protocol's ``default-graph-uri`` / ``named-graph-uri``).
    ``results_format`` serves SELECT and ASK, ``graph_format`` CONSTRUCT and
    DESCRIBE; the form is only known once the query is parsed, so the caller
    negotiates both and passes ``None`` where the client accepts none
    (``NotAcceptableError`` is raised if that is the one needed).
    """
    check_query(text, max_bytes)
    dataset: dict[str, object] = {"use_default_graph_as_union": not default_graphs}
    try:
        if default_graphs:
            dataset["default_graph"] = [NamedNode(iri) for iri in default_graphs]
        if named_graphs:
            dataset["named_graphs"] = [NamedNode(iri) for iri in named_graphs]
    except ValueError as exc:
        raise QueryError(f"invalid graph IRI in the dataset: {exc}") from None
    try:
        result = store.query(text, prefixes=PREFIXES if prefixes is None else prefixes, **dataset)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from None
    except OSError as exc:
        raise StoreError(f"the store could not be read: {exc}") from exc
    except (RuntimeError, ValueError) as exc:
        raise QueryError(f"the query could not be evaluated: {exc}") from None
    try:
        if isinstance(result, QueryBoolean):
            return _boolean(result, results_format)
        if isinstance(result, QuerySolutions):
            return _solutions(result, results_format, max_rows)
        return _triples(result, graph_format, max_rows)
    except OSError as exc:
        raise StoreError(f"the store could not be read: {exc}") from exc
    except (RuntimeError, ValueError) as exc:
        raise QueryError(f"the query could not be evaluated: {exc}") from None


def _need(fmt: QueryResultsFormat | RdfFormat | None, form: str) -> None:
    if fmt is None:
        kind = "a SPARQL results format" if form != "graph" else "an RDF format"
        raise NotAcceptableError(
            f"this {form.upper()} query answers in {kind}, and none is acceptable"
        )


def _boolean(result: QueryBoolean, fmt: QueryResultsFormat | None) -> SparqlResult:
    _need(fmt, "ask")
    return SparqlResult(result.serialize(format=fmt), content_type(fmt), "ask", 1, False)


def _solutions(
    result: QuerySolutions, fmt: QueryResultsFormat | None, max_rows: int
) -> SparqlResult:
    _need(fmt, "select")
    variables = result.variables
    rows = list(islice(result, max_rows + 1))
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    lines = ["\t".join(f"?{v.value}" for v in variables)]
    for solution in rows:
        lines.append("\t".join("" if solution[v] is None else str(solution[v]) for v in variables))
    tsv = ("\n".join(lines) + "\n").encode("utf-8")
    body = parse_query_results(tsv, QueryResultsFormat.TSV).serialize(format=fmt)
    if truncated and fmt == QueryResultsFormat.JSON and body.startswith(b"{"):
        body = b'{"truncated":true,"maxRows":%d,' % max_rows + body[1:]
    return SparqlResult(body, content_type(fmt), "select", len(rows), truncated)


def _triples(result: QueryTriples, fmt: RdfFormat | None, max_rows: int) -> SparqlResult:
    _need(fmt, "graph")
    triples = list(islice(result, max_rows + 1))
    truncated = len(triples) > max_rows
    triples = triples[:max_rows]
    body = serialize(triples, format=fmt, prefixes=PREFIXES)
    return SparqlResult(body, content_type(fmt), "graph", len(triples), truncated)
