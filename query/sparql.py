"""Running a user's SPARQL query with limits, and writing its results.

Everything here works on plain values (query text, formats, caps) and returns
bytes, so ``query.execution`` runs ``run_query`` in worker processes that can
be killed at their deadline; what is checked before parsing lives in
``query.guard``.

Rows are capped by reading at most ``max_rows + 1`` solutions; the kept rows are
written as SPARQL TSV (whose terms are N-Triples, exactly ``str(term)``), read
back by pyoxigraph and serialised by it into the requested format, so every
results format stays pyoxigraph's own and truncation is never silent. The
response size is capped the same way: rows are dropped from the end until the
serialised answer fits, and the answer says which cap cut it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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
    Triple,
    parse_query_results,
    serialize,
)

from ontology.errors import QueryError, StoreError
from ontology.namespaces import PREFIXES
from query.guard import (
    MAX_NESTING,
    QueryTooLargeError,
    ServiceRefusedError,
    UpdateRefusedError,
    _skeleton,
    check_query,
)
from query.negotiation import NotAcceptableError, content_type

__all__ = [
    "MAX_NESTING",
    "QueryTooLargeError",
    "ServiceRefusedError",
    "SparqlResult",
    "UpdateRefusedError",
    "_skeleton",
    "check_query",
    "run_query",
    "write_triples",
]


@dataclass(frozen=True, slots=True)
class SparqlResult:
    """A serialised answer: what to send and what to say about it.

    When ``truncated``, ``cap`` names the limit that cut the answer
    (``"max-rows=10000"`` or ``"max-bytes=10000000"``).
    """

    body: bytes
    content_type: str
    form: str  # "select", "ask" or "graph" (CONSTRUCT / DESCRIBE)
    rows: int
    truncated: bool
    cap: str = ""


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
    max_response_bytes: int | None = None,
    service_allow: Sequence[str] = (),
) -> SparqlResult:
    """Check, run and serialise one query.

    The default graph is the union of all graphs unless the request names its
    dataset (the protocol's ``default-graph-uri`` / ``named-graph-uri``).
    ``results_format`` serves SELECT and ASK, ``graph_format`` CONSTRUCT and
    DESCRIBE; the form is only known once the query is parsed, so the caller
    negotiates both and passes ``None`` where the client accepts none
    (``NotAcceptableError`` is raised if that is the one needed).
    ``max_bytes`` caps the query text, ``max_response_bytes`` the answer: rows
    are dropped from its end until it fits, and the answer says so.
    """
    prefixes = PREFIXES if prefixes is None else prefixes
    check_query(text, max_bytes, service_allow=service_allow, prefixes=prefixes)
    dataset: dict[str, object] = {"use_default_graph_as_union": not default_graphs}
    try:
        if default_graphs:
            dataset["default_graph"] = [NamedNode(iri) for iri in default_graphs]
        if named_graphs:
            dataset["named_graphs"] = [NamedNode(iri) for iri in named_graphs]
    except ValueError as exc:
        raise QueryError(f"invalid graph IRI in the dataset: {exc}") from None
    caps = _Caps(max_rows, max_response_bytes)
    try:
        result = store.query(text, prefixes=prefixes, **dataset)
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
            return _solutions(result, results_format, caps)
        return _triples(result, graph_format, caps)
    except OSError as exc:
        raise StoreError(f"the store could not be read: {exc}") from exc
    except (RuntimeError, ValueError) as exc:
        raise QueryError(f"the query could not be evaluated: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Caps:
    rows: int
    bytes: int | None

    def fit(self, items: list, write: Callable[[list, str], bytes]) -> tuple[bytes, int, str]:
        """The body of as many of ``items`` as both caps allow, their count, and the cap hit.

        ``items`` holds at most ``rows + 1`` entries; ``write(kept, cap)``
        serialises them, saying in the body which cap cut it, if any.
        """
        cap = f"max-rows={self.rows}" if len(items) > self.rows else ""
        kept = items[: self.rows]
        body = write(kept, cap)
        while self.bytes is not None and len(body) > self.bytes and kept:
            # Keep a share of the rows in proportion to the room, then check again.
            share = int(len(kept) * self.bytes / len(body) * 0.95)
            kept = kept[: min(share, len(kept) - 1)]
            cap = f"max-bytes={self.bytes}"
            body = write(kept, cap)
        return body, len(kept), cap


def _need(fmt: QueryResultsFormat | RdfFormat | None, form: str) -> None:
    if fmt is None:
        kind = "a SPARQL results format" if form != "graph" else "an RDF format"
        raise NotAcceptableError(
            f"this {form.upper()} query answers in {kind}, and none is acceptable"
        )


def _boolean(result: QueryBoolean, fmt: QueryResultsFormat | None) -> SparqlResult:
    _need(fmt, "ask")
    return SparqlResult(result.serialize(format=fmt), content_type(fmt), "ask", 1, False)


class _Enough(Exception):
    """Raised by ``_Lines`` to stop pyoxigraph's serialiser once enough rows are written."""


class _Lines:
    """A write-only sink that keeps what it is given until ``limit`` lines have come."""

    def __init__(self, limit: int) -> None:
        self.chunks: list[bytes] = []
        self.lines, self.limit, self.full = 0, limit, False

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.lines += data.count(b"\n")
        if self.lines >= self.limit:
            self.full = True
            raise _Enough
        return len(data)

    def flush(self) -> None:
        pass


def _solutions(result: QuerySolutions, fmt: QueryResultsFormat | None, caps: _Caps) -> SparqlResult:
    """Rows through pyoxigraph's TSV writer (fast, and lines are rows), cut at the caps."""
    _need(fmt, "select")
    sink = _Lines(caps.rows + 2)  # the header, the rows allowed, one more to know it was cut
    try:
        result.serialize(sink, format=QueryResultsFormat.TSV)
    except _Enough:
        pass
    except OSError:
        if not sink.full:
            raise
    header, *rows = b"".join(sink.chunks).split(b"\n")[: caps.rows + 2]
    if not sink.full:
        rows = rows[:-1]  # what follows the last newline: nothing

    def write(kept: list[bytes], cap: str) -> bytes:
        tsv = b"\n".join([header, *kept]) + b"\n"
        if fmt == QueryResultsFormat.TSV:
            return tsv
        body = parse_query_results(tsv, QueryResultsFormat.TSV).serialize(format=fmt)
        if cap and fmt == QueryResultsFormat.JSON and body.startswith(b"{"):
            name, _, value = cap.partition("=")
            key = "maxRows" if name == "max-rows" else "maxBytes"
            body = b'{"truncated":true,"%s":%d,' % (key.encode(), int(value)) + body[1:]
        return body

    body, count, cap = caps.fit(rows, write)
    return SparqlResult(body, content_type(fmt), "select", count, bool(cap), cap)


def _triples(result: QueryTriples, fmt: RdfFormat | None, caps: _Caps) -> SparqlResult:
    _need(fmt, "graph")
    assert fmt is not None
    return write_triples(result, fmt, max_rows=caps.rows, max_bytes=caps.bytes)


def write_triples(
    triples: Iterable[Triple], fmt: RdfFormat, *, max_rows: int, max_bytes: int | None
) -> SparqlResult:
    """At most ``max_rows`` of ``triples`` (read no further) serialised in at most ``max_bytes``.

    What a CONSTRUCT answer and a resource's RDF twin are written with: a cut
    answer says which cap cut it (``SparqlResult.cap``).
    """
    caps = _Caps(max_rows, max_bytes)
    kept = list(islice(triples, caps.rows + 1))
    body, count, cap = caps.fit(
        kept, lambda rows, _cap: serialize(rows, format=fmt, prefixes=PREFIXES)
    )
    return SparqlResult(body, content_type(fmt), "graph", count, bool(cap), cap)
