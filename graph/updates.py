"""Writes that do not come from ingest: SPARQL Update and the Graph Store Protocol.

They go through the same single writer as ingest (``StoreSession``: the
exclusive lock, recovery, a checkpoint at the end, so the server's readers see
the change), taking the lock with a short wait: when an ingest holds it, the
caller gets ``WriterBusyError`` (HTTP 503 with ``Retry-After``) instead of a
request that hangs for the length of an ingest.

Every edit is one protocol (``_edit``):

1. the graphs it may change (those the update names, the default graph, the
   Graph Store's target) are read and journaled as they are
   (``RecordIndex.begin_edit``), so a process killed at any later point is
   rolled back by the next writer (``RecordIndex.recover_edit``);
2. it runs (``Store.update`` is one transaction), and the same graphs are read
   again: the difference is what the edit added and removed;
3. a statement about a resource Catalograph files (one under the base, or a
   unit with its own graph) must be where the layout puts it
   (``ontology.layout.Layout.home_graph``: the graph of its subject, or for a
   statement about a record's own node, that record's graph), and no triple
   may end up in two graphs; otherwise the graphs are put back and the edit
   is refused (``MisplacedStatementError``, naming the graph to use). So each
   triple stays in one graph and the union stays the RDF merge;
4. it is recorded (the search documents of the resources it touched with
   it, in the same SQLite commit: ``graph.search_index``): statements added to or removed from a unit's graph go to
   the ledger as the writer's (``Ledger.record_edits``), and outlive every
   re-ingest of the records that state them; an edited record graph loses its
   ``cg:contentHash`` and gets ``dcterms:modified`` in its provenance, so the
   next ingest of its source record replaces it (the source record wins
   inside its own graph); and a **changeset** graph
   (``{base}graph/changeset/{time}-{n}``, a ``cg:Changeset``) says who, when,
   why, and every statement added and removed, with its graph
   (``rdf:Statement``), queryable like any other graph.

An update that can reach graphs it does not name (``GRAPH ?g`` in a
template, ``CLEAR``/``DROP ALL``/``NAMED``) is refused: its change could not
be read back and recorded. Provenance and changesets are Catalograph's own
and are not edited by hand.
"""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Store,
    Triple,
    parse,
    serialize,
)

from graph.change_validation import (  # InvalidChangeError: callers import it from here
    ChangeCheck,
    InvalidChangeError,  # noqa: F401
    integrity,
)
from graph.derived import ASSOCIATIONS
from graph.ledger import quad_line
from graph.mention_graph import MENTIONS
from graph.ontology_graph import seed_ontology
from graph.provenance import timestamp
from graph.record_index import restore_graphs
from graph.store import StoreSession
from ontology.errors import (
    CatalographError,
    NotFoundError,
    QueryError,
    StoreError,
    UsageError,
)
from ontology.layout import Layout
from ontology.namespaces import CG, DCT, PROV, RDF, RDFS

log = logging.getLogger(__name__)

#: How long a write waits for the lock (another write, or an ingest) before giving up.
WRITE_WAIT_S = 2.0
#: What a refused writer is told to wait, in seconds (an ingest batch takes a few).
RETRY_AFTER_S = 10
#: The most statements the graphs one edit may change can hold (they are read twice and
#: journaled): an edit of a larger graph is refused rather than left unbounded.
MAX_EDIT_QUADS = 200_000

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
    """A graph Catalograph maintains itself (provenance, changesets) (HTTP 403)."""

    http_status = 403


class MisplacedStatementError(UsageError):
    """A statement written where the layout does not keep it (HTTP 400); nothing changed."""


@dataclass(frozen=True, slots=True)
class Edit:
    """What a write did."""

    #: Record graphs now marked as edited (re-ingest of their record replaces them).
    edited: tuple[str, ...] = ()
    #: Graph Store Protocol: the graph did not exist before (HTTP 201).
    created: bool = False
    #: The changeset that records the edit (``None``: nothing changed).
    changeset: str | None = None
    #: Statements added and removed.
    added: int = 0
    removed: int = 0
    #: The proposal waiting for a reviewer's approval, when the change was not applied.
    proposal: int | None = None


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
    layout: Layout,
    who: str,
    prefixes: Mapping[str, str] | None = None,
    reason: str | None = None,
) -> Edit:
    """Run a user's SPARQL Update (already checked by ``query.update_check``) as one edit.

    ``iris`` are the IRIs the update names and ``all_graphs`` whether it can
    reach graphs it does not name (refused). pyoxigraph parses the text: a
    syntax error is a ``QueryError`` with its message, and nothing is changed.
    """
    if all_graphs:
        raise UsageError(
            "this update can change graphs it does not name (GRAPH ?g in a template, or "
            "CLEAR/DROP ALL or NAMED), so its change could not be recorded: name each graph "
            "it writes (GRAPH <iri>)"
        )
    targets: list[Graph] = [DefaultGraph()]
    for iri in dict.fromkeys(iris):
        try:
            targets.append(NamedNode(iri))
        except ValueError:
            continue

    def run(store: Store) -> None:
        try:
            store.update(text, prefixes=dict(prefixes or {}))
        except SyntaxError as exc:
            raise QueryError(f"SPARQL Update syntax error: {exc}") from None
        except (RuntimeError, ValueError) as exc:
            raise QueryError(f"the update could not be applied: {exc}") from None

    return _edit(data_dir, layout, who, targets, run, reason, check=integrity)


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


def write_graph(
    data_dir: Path | str,
    graph: Graph,
    triples: list[Triple],
    *,
    merge: bool,
    layout: Layout,
    who: str,
    reason: str | None = None,
) -> Edit:
    """Graph Store Protocol PUT (``merge=False``: replace) or POST (merge) of one graph."""
    quads = [Quad(t.subject, t.predicate, t.object, graph) for t in triples]

    def run(store: Store) -> None:
        if isinstance(graph, DefaultGraph):
            if not merge:
                store.clear_graph(graph)
        else:
            if not merge:
                store.remove_graph(graph)
            store.add_graph(graph)
        store.extend(quads)

    return _edit(data_dir, layout, who, [graph], run, reason, check=integrity)


def delete_graph(
    data_dir: Path | str, graph: Graph, *, layout: Layout, who: str, reason: str | None = None
) -> Edit:
    """Graph Store Protocol DELETE: drop a named graph (``NotFoundError`` if absent), or empty
    the default graph (which holds nothing Catalograph writes)."""

    def run(store: Store) -> None:
        if isinstance(graph, DefaultGraph):
            store.clear_graph(graph)
            return
        if not store.contains_named_graph(graph):
            raise NotFoundError(f"there is no graph {graph.value}")
        store.remove_graph(graph)

    return _edit(data_dir, layout, who, [graph], run, reason)


def apply_changes(
    data_dir: Path | str,
    *,
    add: Iterable[Quad] = (),
    remove: Iterable[Quad] = (),
    layout: Layout,
    who: str,
    reason: str | None = None,
    check: ChangeCheck | None = None,
    about: Iterable[tuple[NamedNode, NamedNode | Literal]] = (),
    dry_run: bool = False,
) -> Edit:
    """Remove, then add, the given statements as one edit: the editor's way to write.

    The graphs the quads name are the edit's targets (journaled, read back,
    recorded like any other edit: see the module docstring), so an editor
    never writes SPARQL text and no user's label or IRI is ever pasted into
    a query. ``check`` runs inside the edit, after the change and before it
    is recorded, on the store as the change leaves it, with what was really
    added and removed: it raises (``InvalidChangeError`` with the problems)
    and the graphs are put back. ``about`` adds statements about the
    changeset itself (``cg:reverts``, say) to its graph. ``dry_run``: all
    of that but the recording; the graphs are put back and the ``Edit``
    says what the change would add and remove (``changeset`` ``None``): a
    change checked before it waits for a reviewer.
    """
    additions = list(add)
    removals = list(remove)
    targets: list[Graph] = list(dict.fromkeys(q.graph_name for q in (*removals, *additions)))
    if not targets:
        return Edit()

    def run(store: Store) -> None:
        for quad in removals:
            store.remove(quad)
        store.extend(additions)

    if not dry_run:
        return _edit(data_dir, layout, who, targets, run, reason, check=check, about=about)
    seen: list[Edit] = []

    def check_then_stop(store: Store, added: list[Quad], removed: list[Quad]) -> None:
        if check is not None:
            check(store, added, removed)
        seen.append(Edit(added=len(added), removed=len(removed)))
        raise _DryRunDone("checked; nothing is kept")

    try:
        _edit(data_dir, layout, who, targets, run, reason, check=check_then_stop, about=about)
    except _DryRunDone:
        return seen[0]
    return Edit()  # nothing would change


class _DryRunDone(CatalographError):
    """Raised inside a dry run's edit once it is checked, so that the edit is put back."""


# ------------------------------------------------------------ the edit protocol


def _edit(
    data_dir: Path | str,
    layout: Layout,
    who: str,
    targets: list[Graph],
    run: Callable[[Store], None],
    reason: str | None,
    *,
    check: ChangeCheck | None = None,
    about: Iterable[tuple[NamedNode, NamedNode | Literal]] = (),
) -> Edit:
    """Journal, run, check, record (see the module docstring)."""
    _refuse_maintained(layout, targets)
    with writing(data_dir) as session:
        store = session.store
        index = session.index
        if layout.ontology_graph in targets:
            seed_ontology(store, layout)  # an older store gets the ontology before its first edit
        before = _read_graphs(store, targets)
        created = any(isinstance(t, NamedNode) and not store.contains_named_graph(t) for t in targets)
        changeset = layout.changeset(f"{_compact_time()}-{secrets.token_hex(4)}")
        index.begin_edit({_key(g): _nquads(quads) for g, quads in before.items()}, changeset.value)
        try:
            run(store)
            after = _read_graphs(store, targets)
            added, removed = _difference(before, after)
            _check_placement(layout, store, added)
            if check is not None:  # even for no change: a revert must find what it undoes
                check(store, added, removed)
        except BaseException:
            changed = [g for g, quads in before.items() if quads != _graph_quads(store, g)]
            restore_graphs(store, {_key(g): _nquads(before[g]) for g in changed})
            store.flush()
            with index.transaction():
                index.end_edit()
            raise
        if not added and not removed:
            with index.transaction():
                index.end_edit()
            return Edit()
        record_graphs = sorted(
            {q.graph_name.value for q in (*added, *removed)
             if isinstance(q.graph_name, NamedNode) and layout.is_record_graph(q.graph_name.value)}
        )  # fmt: skip
        # the search documents the edit may change: what its graphs were and are about
        touched = index.search.fed_by(_key(g) for g in targets) | {
            q.subject.value.partition("#")[0] for q in (*added, *removed) if isinstance(q.subject, NamedNode)
        }
        edited = _mark_edited(store, layout, record_graphs)
        unit_added = [quad_line(q) for q in added if _in_unit_graph(layout, q)]
        unit_removed = [quad_line(q) for q in removed if _in_unit_graph(layout, q)]
        now = timestamp()
        store.extend(_changeset_quads(changeset, who, now, reason, added, removed))
        store.extend(Quad(changeset, p, o, changeset) for p, o in about)
        ledger = index.ledger
        store.flush()
        index.refresh(store, record_graphs)
        with index.transaction():
            ledger.record_edits(changeset.value, unit_added, unit_removed)
            # a writer's value of a functional property (bf:instanceOf) displaces the others
            ledger.settle(store, unit_added + unit_removed)
            store.flush()
            index.search.apply(index.search.derive(store, touched))
            index.end_edit()
        log.info(
            "edit by %s: %d statement(s) added, %d removed (%s)", who, len(added), len(removed), changeset.value
        )
        return Edit(
            edited=edited,
            created=created,
            changeset=changeset.value,
            added=len(added),
            removed=len(removed),
        )


def _graph_quads(store: Store, graph: Graph) -> list[Quad]:
    return sorted(store.quads_for_pattern(None, None, None, graph), key=str)


def _read_graphs(store: Store, targets: list[Graph]) -> dict[Graph, list[Quad]]:
    """Each target graph's statements, refused beyond ``MAX_EDIT_QUADS`` in all."""
    found: dict[Graph, list[Quad]] = {}
    total = 0
    for graph in targets:
        quads = _graph_quads(store, graph)
        total += len(quads)
        if total > MAX_EDIT_QUADS:
            raise UsageError(
                f"this edit names graphs holding more than {MAX_EDIT_QUADS:,} statements; "
                "edit fewer or smaller graphs at a time"
            )
        found[graph] = quads
    return found


def _difference(
    before: dict[Graph, list[Quad]], after: dict[Graph, list[Quad]]
) -> tuple[list[Quad], list[Quad]]:
    added: list[Quad] = []
    removed: list[Quad] = []
    for graph, old in before.items():
        old_set, new_set = set(old), set(after[graph])
        added.extend(q for q in after[graph] if q not in old_set)
        removed.extend(q for q in old if q not in new_set)
    return added, removed


def _check_placement(layout: Layout, store: Store, added: list[Quad]) -> None:
    """Refuse a statement that breaks "each triple in one graph" (see the module docstring).

    Two rules. A statement about a resource Catalograph files (one under the
    base, or a unit that has its own graph, such as an authority's IRI) must
    be in the graph the layout gives it, since that is where ingest states
    it too. And no triple may end up in two graphs. Statements about other
    resources (a writer's own data) may go in any named graph or the default
    graph, as the protocols allow.
    """
    for quad in added:
        graph = quad.graph_name
        triple = f"{quad.subject} {quad.predicate} {quad.object}"
        home = _home(layout, quad)
        if home is not None and _key(graph) != home and _filed(layout, store, quad.subject):
            raise MisplacedStatementError(
                f"{triple} was written into {_shown(graph)}, but a statement about "
                f"<{quad.subject.value}> lives in the graph <{home}> (the default graph is the "
                "merge of the named graphs): write it there; nothing was changed"
            )
        holders = {
            _key(q.graph_name) for q in store.quads_for_pattern(quad.subject, quad.predicate, quad.object, None)
        }
        if len(holders) > 1:
            others = ", ".join(_shown(_graph(g)) for g in sorted(holders - {_key(graph)}))
            raise MisplacedStatementError(
                f"{triple} is already stated in {others}; a triple lives in one graph (the default "
                "graph is their merge): nothing was changed"
            )


def _filed(layout: Layout, store: Store, subject: object) -> bool:
    """Whether the layout files statements about ``subject`` (ours, or a unit with its graph)."""
    if not isinstance(subject, NamedNode):
        return False
    if layout.is_ontology_term(subject.value):
        return True  # the ontology graph's, wherever a writer puts it
    return subject.value.startswith(layout.base) or store.contains_named_graph(
        NamedNode(layout.owner(subject.value))
    )


def _shown(graph: Graph) -> str:
    return "the default graph" if isinstance(graph, DefaultGraph) else f"<{graph.value}>"


def _graph(key: str) -> Graph:
    return DefaultGraph() if key == "" else NamedNode(key)


def _home(layout: Layout, quad: Quad) -> str | None:
    if not isinstance(quad.subject, NamedNode):
        return None
    obj = quad.object.value if isinstance(quad.object, NamedNode) else None
    return layout.home_graph(quad.subject.value, obj)


def _in_unit_graph(layout: Layout, quad: Quad) -> bool:
    """A statement in the graph of the unit it is about, where ingest would state it too."""
    graph = quad.graph_name
    if not isinstance(graph, NamedNode) or layout.is_catalograph_graph(graph.value):
        return False
    return _home(layout, quad) == graph.value


def _key(graph: Graph) -> str:
    return "" if isinstance(graph, DefaultGraph) else graph.value


def _nquads(quads: list[Quad]) -> bytes:
    return serialize(quads, format=RdfFormat.N_QUADS) if quads else b""


def _compact_time() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time() % 1:.6f}"[1:] + "Z"


def _changeset_quads(
    changeset: NamedNode,
    who: str,
    when: Literal,
    reason: str | None,
    added: list[Quad],
    removed: list[Quad],
) -> Iterator[Quad]:
    """The ``cg:Changeset`` of one edit, in its own graph (named like its subject)."""
    g = changeset
    writer = NamedNode(f"{changeset.value}#writer")
    yield Quad(g, RDF.type, CG.Changeset, g)
    yield Quad(g, PROV.wasAssociatedWith, writer, g)
    yield Quad(writer, RDF.type, PROV.Agent, g)
    yield Quad(writer, RDFS.label, Literal(who), g)
    yield Quad(g, PROV.startedAtTime, when, g)
    if reason:
        yield Quad(g, CG.changeReason, Literal(reason), g)
    graphs = {q.graph_name.value for q in (*added, *removed) if isinstance(q.graph_name, NamedNode)}
    for graph in sorted(graphs):
        yield Quad(g, CG.changedGraph, NamedNode(graph), g)
    subjects = {q.subject.value for q in (*added, *removed) if isinstance(q.subject, NamedNode)}
    for subject in sorted(subjects):
        yield Quad(g, CG.subjectOfChange, NamedNode(subject), g)
    for kind, link, quads in (("add", CG.addition, added), ("remove", CG.removal, removed)):
        for n, quad in enumerate(sorted(quads, key=str), start=1):
            node = NamedNode(f"{changeset.value}#{kind}-{n}")
            yield Quad(g, link, node, g)
            yield Quad(node, RDF.type, RDF.Statement, g)
            yield Quad(node, RDF.subject, quad.subject, g)
            yield Quad(node, RDF.predicate, quad.predicate, g)
            yield Quad(node, RDF.object, quad.object, g)
            if isinstance(quad.graph_name, NamedNode):
                yield Quad(node, CG.inGraph, quad.graph_name, g)


# ------------------------------------------------------------ provenance marks


def _mark_edited(store: Store, layout: Layout, graphs: list[str]) -> tuple[str, ...]:
    """Take the content hash of edited record graphs and stamp ``dcterms:modified``.

    Without the hash, the next ingest of the source record no longer finds it
    "unchanged": it replaces the graph with the mapping of the source record,
    so the source record wins inside its own graph.
    """
    metadata = layout.metadata_graph
    now = timestamp()
    edited = []
    for iri in graphs:
        graph = NamedNode(iri)
        if next(store.quads_for_pattern(graph, RDF.type, CG.RecordGraph, metadata), None) is None:
            continue
        for old in [
            *store.quads_for_pattern(graph, CG.contentHash, None, metadata),
            *store.quads_for_pattern(graph, DCT.modified, None, metadata),
        ]:
            store.remove(old)
        store.add(Quad(graph, DCT.modified, now, metadata))
        edited.append(iri)
    if edited:
        log.info("marked %d record graph(s) as edited", len(edited))
    return tuple(edited)


def _refuse_maintained(layout: Layout, targets: list[Graph]) -> None:
    """Refuse an edit of a graph Catalograph alone writes.

    Provenance and changesets record what happened. The associations and the mentions are
    computed from the rest of the store, and their refreshes trust their own record of what
    those graphs hold (the projection the associations' token names, each work's mentions
    in ``mentions.sqlite``) rather than read them back: a hand-made change there would be
    kept by every update until a full rebuild, and change no record. The match candidates'
    graph is not among them: reviewers' decisions are edits of it (``graph.review``).
    """
    computed = {f"{layout.graphs}{ASSOCIATIONS}", f"{layout.graphs}{MENTIONS}"}
    for graph in targets:
        if not isinstance(graph, NamedNode):
            continue
        if graph == layout.metadata_graph or graph.value.startswith(layout.changesets):
            raise ProtectedGraphError(
                f"<{graph.value}> is maintained by Catalograph (provenance or a changeset) and is "
                "not edited by hand; read it with a query"
            )
        if graph.value in computed:
            raise ProtectedGraphError(
                f"<{graph.value}> is computed by Catalograph from the records and units (`catalograph "
                "related --refresh`, `catalograph mentions --refresh`) and is not edited by hand: "
                "change what it is computed from; read it with a query"
            )
