"""Writes that do not come from ingest: SPARQL Update and the Graph Store Protocol.

They go through the same single writer as ingest (``StoreSession``: the
exclusive lock, recovery, a checkpoint at the end, so the server's readers see
the change), taking the lock with a short wait: when an ingest holds it, the
caller gets ``WriterBusyError`` (HTTP 503 with ``Retry-After``) instead of a
request that hangs for the length of an ingest.

Record graphs stay consistent with their provenance. An edit to a record
graph (``<g> a cg:RecordGraph`` in a metadata graph) removes its
``cg:contentHash`` *before* the edit and stamps ``dcterms:modified`` after it.
Without the hash, the next ingest of the source record no longer finds it
"unchanged": it replaces the graph with the mapping of the source record, edited
or not, and writes fresh provenance. So the rule is simple: **the source record
wins at re-ingest**; ``SELECT ?g WHERE { ?g dcterms:modified ?t }`` lists the
edited graphs to carry over before re-ingesting. A process killed between the
two steps leaves a graph without hash, which the next ingest rewrites: never an
edit that survives one re-ingest and not another.

The record index (``graph.record_index``) follows every write: the graphs an
edit names have their rows set to what the store holds, before the edit (so a
process killed during it leaves them untrusted, never "unchanged") and after
it; an update that can reach graphs it does not name has the index rebuilt
from the store by the next writer.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, Store, Triple, parse

from graph.provenance import timestamp
from graph.store import StoreSession
from ontology.errors import (
    CatalographError,
    NotFoundError,
    QueryError,
    StoreError,
    UsageError,
)
from ontology.namespaces import CG, DCT, RDF

log = logging.getLogger(__name__)

#: How long a write waits for the lock (another write, or an ingest) before giving up.
WRITE_WAIT_S = 2.0
#: What a refused writer is told to wait, in seconds (an ingest batch takes a few).
RETRY_AFTER_S = 10

_IN_PROCESS = threading.Lock()  # writes of this process queue here; flock serialises processes
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_JSON_SPECIAL = re.compile(rb'["{}\[\]]')
_JSON_STRING_END = re.compile(rb'["\\]')
#: Deepest JSON-LD nesting accepted in a body.
MAX_JSON_DEPTH = 200

Graph = NamedNode | DefaultGraph


class WriterBusyError(StoreError):
    """The store is being written (an ingest, another update): try again later (HTTP 503)."""

    http_status = 503
    retry_after = RETRY_AFTER_S


class ProtectedGraphError(UsageError):
    """A graph Catalograph maintains itself (the provenance of record graphs) (HTTP 403)."""

    http_status = 403


@dataclass(frozen=True, slots=True)
class Edit:
    """What a write did."""

    #: Record graphs now marked as edited (re-ingest of their record replaces them).
    edited: tuple[str, ...] = ()
    #: Graph Store Protocol: the graph did not exist before (HTTP 201).
    created: bool = False


@contextmanager
def writing(data_dir: Path | str, wait_s: float = WRITE_WAIT_S) -> Iterator[StoreSession]:
    """A writing session on the live store, under the single-writer lock; a checkpoint when done."""
    deadline = time.monotonic() + wait_s
    if not _IN_PROCESS.acquire(timeout=wait_s):
        raise WriterBusyError("another write is in progress; try again in a few seconds")
    try:
        session = StoreSession(data_dir)
        while True:
            try:
                session.lock.acquire()
                break
            except StoreError as exc:
                if time.monotonic() >= deadline:
                    raise WriterBusyError(f"{exc.message}; try again later") from None
                time.sleep(0.05)
        session.open()  # the lock is held: open only recovers and opens
        try:
            yield session
        except (OSError, sqlite3.Error) as exc:
            error = session.fail(exc, "write")
            session.close(commit=False)
            raise error from exc
        except CatalographError:
            session.close(commit=True)  # refused or rolled back: nothing new to publish
            raise
        except BaseException:
            session.changed = True  # what was written before the error must reach readers too
            session.close(commit=True)
            raise
        session.changed = True
        session.close(commit=True)
    finally:
        _IN_PROCESS.release()


def apply_update(
    data_dir: Path | str,
    text: str,
    *,
    iris: Iterable[str],
    all_graphs: bool,
    prefixes: Mapping[str, str] | None = None,
) -> Edit:
    """Run a user's SPARQL Update (already checked by ``query.update_check``) as one transaction.

    ``iris`` are the IRIs the update names and ``all_graphs`` whether it can
    reach graphs it does not name; record graphs among them are marked as
    edited. pyoxigraph parses the text: a syntax error is a ``QueryError``
    with its message, and nothing is changed.
    """
    with writing(data_dir) as session:
        store = session.store
        named = list(iris)
        marks = _unmark(store, None if all_graphs else named)
        if all_graphs:
            session.index.invalidate()
        else:
            session.index.refresh(store, named)
        try:
            store.update(text, prefixes=dict(prefixes or {}))
        except (SyntaxError, RuntimeError, ValueError) as exc:
            store.extend(marks)  # nothing changed: the hashes go back
            if not all_graphs:
                session.index.refresh(store, named)
            if isinstance(exc, SyntaxError):
                raise QueryError(f"SPARQL Update syntax error: {exc}") from None
            raise QueryError(f"the update could not be applied: {exc}") from None
        edit = Edit(edited=_stamp(store, marks))
        if not all_graphs:
            session.index.refresh(store, named)
        return edit


# ------------------------------------------------------------ Graph Store Protocol


def parse_graph(body: bytes, fmt: RdfFormat, base_iri: str | None) -> list[Triple]:
    """The triples of a request body; ``UsageError`` (400) for anything but one valid graph.

    RDF/XML is refused if it declares a DOCTYPE or entities (pyoxigraph's
    parser expands entities: a few hundred bytes can become gigabytes), and
    must be UTF-8 so that the check sees what the parser will. JSON-LD nested
    a few thousand objects deep crashes the process (a stack overflow in
    pyoxigraph 0.5, measured: 2,000 levels pass, 5,000 kill it), so its depth
    is checked first. Remote JSON-LD contexts are never fetched (pyoxigraph has
    no loader for them and says so).
    """
    if fmt == RdfFormat.JSON_LD and json_depth(body) > MAX_JSON_DEPTH:
        raise UsageError(f"the JSON-LD body nests deeper than {MAX_JSON_DEPTH} levels")
    if fmt == RdfFormat.RDF_XML:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("an RDF/XML body must be UTF-8") from None
        if _DECLARATION.search(body):
            raise UsageError("RDF/XML with a DOCTYPE or entity declarations is not accepted")
    try:
        return [
            quad.triple
            for quad in parse(
                body,
                fmt,
                base_iri=base_iri,
                without_named_graphs=True,
                rename_blank_nodes=True,
            )
        ]
    except SyntaxError as exc:
        raise UsageError(f"the {fmt.name} body is not valid: {exc}") from None
    except ValueError as exc:
        raise UsageError(f"the body cannot be read as {fmt.name}: {exc}") from None


def json_depth(body: bytes) -> int:
    """The deepest nesting of ``{`` and ``[`` outside strings, in one linear pass.

    >>> json_depth(b'{"a": [{"b": "[[["}]}')
    3
    """
    depth = deepest = 0
    i, n = 0, len(body)
    while i < n:
        found = _JSON_SPECIAL.search(body, i)
        if found is None:
            break
        char = found.group()
        i = found.end()
        if char == b'"':
            while i < n:
                end = _JSON_STRING_END.search(body, i)
                if end is None:
                    return deepest
                i = end.end()
                if end.group() == b'"':
                    break
                i += 1  # the escaped character
        elif char in b"{[":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def write_graph(data_dir: Path | str, graph: Graph, triples: list[Triple], *, merge: bool) -> Edit:
    """Graph Store Protocol PUT (``merge=False``: replace) or POST (merge) of one graph."""
    quads = [Quad(t.subject, t.predicate, t.object, graph) for t in triples]
    with writing(data_dir) as session:
        store = session.store
        named = isinstance(graph, NamedNode)
        if named:
            _refuse_maintained(store, graph)
        created = named and not store.contains_named_graph(graph)
        marks = _unmark(store, [graph.value] if named else [])
        if named:
            session.index.refresh(store, [graph.value])
        if not merge:
            if named:
                store.remove_graph(graph)  # each step a transaction: old, absent, or new
            else:
                store.clear_graph(graph)
        if named:
            store.add_graph(graph)
        store.extend(quads)
        edit = Edit(edited=_stamp(store, marks), created=created)
        if named:
            session.index.refresh(store, [graph.value])
        return edit


def delete_graph(data_dir: Path | str, graph: Graph) -> Edit:
    """Graph Store Protocol DELETE: drop a named graph (``NotFoundError`` if absent), or empty
    the default graph."""
    with writing(data_dir) as session:
        store = session.store
        if isinstance(graph, DefaultGraph):
            store.clear_graph(graph)
            return Edit()
        _refuse_maintained(store, graph)
        if not store.contains_named_graph(graph):
            raise NotFoundError(f"there is no graph {graph.value}")
        marks = _unmark(store, [graph.value])
        session.index.refresh(store, [graph.value])
        store.remove_graph(graph)
        edit = Edit(edited=_stamp(store, marks))
        session.index.refresh(store, [graph.value])
        return edit


# ------------------------------------------------------------ provenance marks


def _metadata_graphs_of(store: Store, graph: NamedNode) -> list[NamedNode]:
    return [
        q.graph_name
        for q in store.quads_for_pattern(graph, RDF.type, CG.RecordGraph, None)
        if isinstance(q.graph_name, NamedNode)
    ]


def _unmark(store: Store, iris: Iterable[str] | None) -> list[Quad]:
    """Remove the content hash of the record graphs among ``iris`` (all if ``None``).

    Returns the removed quads, which the caller puts back if the edit fails
    and turns into ``dcterms:modified`` stamps if it succeeds.
    """
    if iris is None:
        hashes = list(store.quads_for_pattern(None, CG.contentHash, None, None))
    else:
        hashes = []
        for iri in set(iris):
            try:
                graph = NamedNode(iri)
            except ValueError:
                continue
            for metadata in _metadata_graphs_of(store, graph):
                hashes.extend(store.quads_for_pattern(graph, CG.contentHash, None, metadata))
    for quad in hashes:
        store.remove(quad)
    return hashes


def _stamp(store: Store, marks: list[Quad]) -> tuple[str, ...]:
    if not marks:
        return ()
    now = timestamp()
    stamps: list[Quad] = []
    for mark in marks:
        subject, metadata = mark.subject, mark.graph_name
        for old in list(store.quads_for_pattern(subject, DCT.modified, None, metadata)):
            store.remove(old)
        stamps.append(Quad(subject, DCT.modified, now, metadata))
    store.extend(stamps)
    edited = tuple(sorted({m.subject.value for m in marks}))
    log.info("marked %d record graph(s) as edited", len(edited))
    return edited


# ------------------------------------------------------------ graphs ingest maintains


def _is_metadata_graph(store: Store, graph: NamedNode) -> bool:
    return next(store.quads_for_pattern(None, RDF.type, CG.RecordGraph, graph), None) is not None


def _refuse_maintained(store: Store, graph: NamedNode) -> None:
    if _is_metadata_graph(store, graph):
        raise ProtectedGraphError(
            f"<{graph.value}> holds the provenance of record graphs and is maintained by ingest; "
            "edit it with SPARQL Update if you must"
        )

