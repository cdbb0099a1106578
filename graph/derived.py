"""The derived graph of associations: what associative retrieval found, queryable over SPARQL.

Every statement lives in one graph (``ontology.layout``): the association
nodes are fragments of the graph ``{base}graph/derived/associations``
(``…/associations#a{hash of the source and the target}``), so all their
statements live there, and nothing else does. Each node, with its reasons
(``…#a{hash}-1`` to ``-6``, strongest first)::

    <…#a1f…> a cg:Association ; cg:source <work/k1> ; cg:target <work/k9> ;
        cg:rank 1 ; cg:score 0.412 ; cg:explainedBy <concept/k3>, <concept/k5> ;
        cg:hasReason <…#a1f…-1>, <…#a1f…-2> .
    <…#a1f…-1> cg:reasonUnit <concept/k3> .
    <…#a1f…-2> cg:reasonUnit <concept/k5> ; cg:through <concept/k4> .

and the graph names the projection it was computed from
(``<…/associations> cg:projection "token"``; ``graph.projection``), which is
how a reader of a checkpoint finds the projection that matches it.

**Units by IRI, not by label.** A reason names its unit (and the seed's unit
it was met through, ``cg:through``), in the order of their shares of the
score (``-1`` strongest); the words a reader sees are made when they are
read, with the labels the store holds then (``query.related`` for the API,
the pages and the CLI; the endpoint's
example query joins them in SPARQL). So a new record that gives a unit
another label changes no node here, and an update need not look for the
nodes naming it (it once explained 13,252 nodes again for 847 quads that
changed: docs/benchmarks.md). The shares themselves are not stated: they
move with every weight that moves, and would rewrite nodes whose reasons
and their order stay the same (the API gives them, with the weights).

A node is named by its source and target, not by its rank: when a new work
enters a list at rank 3, the nodes below it keep their names and statements
and only their ``cg:rank`` changes (two quads each), instead of every
statement of eight nodes. Scores are written in the canonical form of an
``xsd:decimal`` (``0.5``, not ``0.500000000``), the form the store gives
back, so a node read back equals the node written.

Written by the writer that holds the store (the ingest, at the end of its
session, before its checkpoint), never by readers, and only the difference
with what the graph holds: ``rebuild_associations`` for a full build (it
finds what the graph holds source by source, whatever names its nodes have:
checked by encoded lookups and a count, ``_holds_exactly``, and read back only
where it differs),
``update_associations`` for an update (the caller says which nodes go, which
change rank or score only, which are new, and which changed, as held and as
now: it reads nothing back). The token goes first
(removed) and last (added): a session killed in between leaves a graph with
no token, which the next session rebuilds whole instead of trusting.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import chain, islice
from typing import TYPE_CHECKING, NamedTuple

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse

from graph.projection import LiveStore
from ontology.layout import Layout
from ontology.namespaces import CG, RDF, XSD

if TYPE_CHECKING:
    from collections.abc import Buffer

ASSOCIATIONS = "derived/associations"
#: New association quads written at once (a bulk load, or a transaction when fewer). Pyoxigraph's
#: bulk loader holds about 1 KB a quad while it works: 50,000 made the refresh's peak (+80 MB at
#: x10); 10,000 keep it at about +10 MB, for 45 loads instead of 9 at x10 (a transaction instead
#: keeps every quad in RocksDB's memtables: 720 MB).
BATCH_QUADS = 10_000


class ReasonStated(NamedTuple):
    """One unit behind an association, as the derived graph states it (``query.association.Reason``).

    Named tuples, this and the node types below, not frozen dataclasses: an update makes
    tens of thousands of them (a full build hundreds of thousands), and a frozen dataclass
    is made attribute by attribute through ``object.__setattr__``, a tuple at once."""

    unit: str
    through: str | None = None  # the seed's unit it was met through (the hierarchy), if not shared


class AssociationNode(NamedTuple):
    """One materialised association (computed in ``query.association``, written here)."""

    source: str
    target: str
    rank: int
    score: float
    reasons: tuple[ReasonStated, ...]

    @property
    def units(self) -> tuple[str, ...]:
        """The units that explain it (``cg:explainedBy``), once each, strongest first."""
        return tuple(dict.fromkeys(r.unit for r in self.reasons))


class Restated(NamedTuple):
    """A node that stays as it is but for its rank or its score (its explanation is unchanged)."""

    source: str
    target: str
    old_rank: int
    new_rank: int
    old_score: float
    new_score: float


def associations_graph(layout: Layout) -> NamedNode:
    return _graph_named(layout.graphs)


@lru_cache(maxsize=8)
def _graph_named(graphs: str) -> NamedNode:
    return NamedNode(f"{graphs}{ASSOCIATIONS}")


def node_iri(layout: Layout, source: str, target: str) -> NamedNode:
    return NamedNode(_node_value(layout, source, target))


def _node_value(layout: Layout, source: str, target: str) -> str:
    digest = hashlib.blake2b(f"{source}\n{target}".encode(), digest_size=12).hexdigest()
    return f"{associations_graph(layout).value}#a{digest}"


def decimal(score: float) -> Literal:
    """A score as the store gives an ``xsd:decimal`` back (nine decimals at most, no trailing zero).

    >>> decimal(0.5).value, decimal(0.151706538).value, decimal(1.0).value
    ('0.5', '0.151706538', '1')
    """
    return Literal(_decimal_text(score), datatype=XSD.decimal)


def _decimal_text(score: float) -> str:
    return f"{score:.9f}".rstrip("0").rstrip(".") or "0"


def read_token(store: Store, layout: Layout) -> str | None:
    """The token of the projection the store's associations were computed from, if whole."""
    graph = associations_graph(layout)
    for quad in store.quads_for_pattern(graph, CG.projection, None, graph):
        if isinstance(quad.object, Literal):
            return quad.object.value
    return None


_HAS_REASON = CG.hasReason


def _lines(layout: Layout, node: AssociationNode) -> list[str]:
    """The statements of ``node`` as N-Quads lines: what an update loads (``_add_lines``) and removes.

    Text, not ``Quad`` objects: making a ``Quad`` in Python validates each IRI again and, for a
    literal object, builds two error messages while pyoxigraph tries the other kinds of term
    first (a third of the update's quad making went to those messages, measured with py-spy);
    the lines are parsed by pyoxigraph's own reader instead, in Rust. Every IRI written here
    is one the store gave (works, units) or made by ``node_iri``: none can hold ``>`` or a
    space, which pyoxigraph refuses in any IRI.
    """
    graph = _graph_text(layout.graphs)
    part_of = _node_value(layout, node.source, node.target)
    subject = f"<{part_of}>"
    lines = [
        f"{subject} {_T_TYPE} {_T_ASSOCIATION} {graph} .\n",
        f"{subject} {_T_SOURCE} <{node.source}> {graph} .\n",
        f"{subject} {_T_TARGET} <{node.target}> {graph} .\n",
        f'{subject} {_T_RANK} "{node.rank}"^^{_T_INTEGER} {graph} .\n',
        f'{subject} {_T_SCORE} "{_decimal_text(node.score)}"^^{_T_DECIMAL} {graph} .\n',
    ]
    stated: set[str] = set()
    for number, reason in enumerate(node.reasons, start=1):
        unit = f"<{reason.unit}>"
        if reason.unit not in stated:  # cg:explainedBy: each unit once
            stated.add(reason.unit)
            lines.append(f"{subject} {_T_EXPLAINED_BY} {unit} {graph} .\n")
        part = f"<{part_of}-{number}>"
        lines.append(f"{subject} {_T_HAS_REASON} {part} {graph} .\n")
        lines.append(f"{part} {_T_REASON_UNIT} {unit} {graph} .\n")
        if reason.through is not None:
            lines.append(f"{part} {_T_THROUGH} <{reason.through}> {graph} .\n")
    return lines


def _rank_line(layout: Layout, source: str, target: str, rank: int) -> str:
    subject = _node_value(layout, source, target)
    return f'<{subject}> {_T_RANK} "{rank}"^^{_T_INTEGER} {_graph_text(layout.graphs)} .\n'


def _score_line(layout: Layout, source: str, target: str, score: float) -> str:
    subject, value = _node_value(layout, source, target), _decimal_text(score)
    return f'<{subject}> {_T_SCORE} "{value}"^^{_T_DECIMAL} {_graph_text(layout.graphs)} .\n'


def _quads(layout: Layout, node: AssociationNode) -> list[Quad]:
    """The statements of ``node`` as quads (a full build compares them with what is held)."""
    return _parsed(_lines(layout, node))


def _parsed(lines: Iterable[str]) -> list[Quad]:
    return list(parse("".join(lines).encode(), format=RdfFormat.N_QUADS, lenient=True))


@lru_cache(maxsize=8)
def _graph_text(graphs: str) -> str:
    return str(_graph_named(graphs))


_T_TYPE, _T_ASSOCIATION, _T_SOURCE, _T_TARGET, _T_RANK, _T_SCORE = (
    str(t) for t in (RDF.type, CG.Association, CG.source, CG.target, CG.rank, CG.score)
)
_T_EXPLAINED_BY, _T_HAS_REASON, _T_REASON_UNIT, _T_THROUGH = (
    str(t) for t in (CG.explainedBy, CG.hasReason, CG.reasonUnit, CG.through)
)
_T_INTEGER, _T_DECIMAL, _T_PROJECTION = str(XSD.integer), str(XSD.decimal), str(CG.projection)


def _node_quads(store: Store, subject: NamedNode, graph: NamedNode) -> set[Quad]:
    """Every statement of one node: its own and its reasons'."""
    held = set(store.quads_for_pattern(subject, None, None, graph))
    for quad in list(held):
        if quad.predicate == _HAS_REASON:
            held.update(store.quads_for_pattern(quad.object, None, None, graph))  # type: ignore[arg-type]
    return held


def _drop_token(store: Store, graph: NamedNode) -> None:
    for quad in list(store.quads_for_pattern(graph, CG.projection, None, graph)):
        store.remove(quad)


def _state_token(store: Store, graph: NamedNode, token: str | None) -> None:
    if token is not None:  # None: the graph stays empty, leaving nothing of itself in the store
        store.add(Quad(graph, CG.projection, Literal(token), graph))


def rebuild_associations(
    store: Store | LiveStore,
    layout: Layout,
    token: str | None,
    lists: Iterable[tuple[str, Sequence[AssociationNode]]],
) -> int:
    """Make the graph hold exactly the nodes of ``lists`` (a full build), writing only the difference.

    ``lists`` is a stream of (source, its nodes), each source once: one list
    is in memory at a time, with what the graph holds of it (the nodes whose
    ``cg:source`` it is, however they are named); a source the graph holds
    and the stream does not name loses its nodes at the end. New quads go in
    batches of ``BATCH_QUADS``; given as a ``graph.projection.LiveStore``, the
    store is taken again after each batch (and every ``HELD_SLICE`` sources when
    what the graph holds is read back), so that a writer can give back what the
    tables loaded or read took (each bulk load adds tables; RocksDB keeps the
    index and filter blocks of every table until the store is closed). The token is stated only if
    some list has a node (a store with no association keeps no derived quad).
    Returns the number of quads added.
    """
    live = (lambda: store) if isinstance(store, Store) else store
    graph = associations_graph(layout)
    held = live()
    _drop_token(held, graph)
    # a graph empty before (the first build, as at the end of a store's first ingest) has no
    # stale source to look for at the end: that scan reads every node just written, and
    # RocksDB's memory for the tables it opens was the peak of the refresh (70 MB at x10)
    held_before = next(held.quads_for_pattern(None, CG.source, None, graph), None) is not None
    del held
    if not held_before:
        return _build_new(live, layout, graph, token, lists)
    added, stated = _build_over_held(live, layout, graph, lists)
    if stated:  # the graph now holds exactly the nodes of ``lists``
        _state_token(live(), graph, token)
    return added


def _build_new(
    live: LiveStore,
    layout: Layout,
    graph: NamedNode,
    token: str | None,
    lists: Iterable[tuple[str, Sequence[AssociationNode]]],
) -> int:
    """A first build (the graph holds no node): every node's statements are new, so they go
    as N-Quads text, ``BATCH_QUADS`` lines a bulk load, each load on a thread of its own
    (``_Load``) while the next lists are computed. Text rather than ``Quad`` objects:
    pyoxigraph parses it in Rust and lets go of the GIL while it loads, where
    ``bulk_extend`` holds it to take every ``Quad`` from Python (docs/benchmarks.md). The
    store is taken again (``live``) only between loads, none running.

    After bulk loads, the last lines and the token go in one more, however few, not in a
    transaction: every bulk load adds a table to the first level of each index, and once
    RocksDB has more than it merges (36), a transaction waits until its compactions have
    caught up, holding what the build holds while they take their memory (at x160
    open-access records, 1,000 loads: minutes, and the ingest's peak, 278 -> 361 MB). A
    bulk load is not held back; the writer waits for the compactions later, when the
    build's memory is gone (``web.association_build``). Returns the quads added."""
    added, stated = 0, False
    lines: list[str] = []
    loading: _Load | None = None
    try:
        for _source, nodes in lists:
            stated = stated or bool(nodes)
            for node in nodes:
                lines.extend(_lines(layout, node))
            if len(lines) >= BATCH_QUADS:
                data, count = "".join(lines).encode(), len(lines)
                lines.clear()
                if loading is not None:
                    added += loading.wait()
                    loading = None
                loading = _Load(live(), data, count)  # none runs while ``live`` may close the store
        if loading is not None:
            added += loading.wait()
            loading = None
    finally:
        if loading is not None:  # the lists or a load failed: the load ends before anything closes
            loading.join()
    loaded_before, added = added > 0, added + len(lines)
    if stated and token is not None:  # the graph holds exactly ``lists``' nodes, these lines in
        lines.append(f"{graph} {_T_PROJECTION} {Literal(token)} {graph} .\n")
    if lines and loaded_before:  # after bulk loads: one more, not a transaction (above)
        live().bulk_load("".join(lines).encode(), format=RdfFormat.N_QUADS)
    elif lines:  # a graph smaller than one batch: a transaction, cheaper than a bulk load
        live().load("".join(lines).encode(), format=RdfFormat.N_QUADS)
    return added


class _Load:
    """One bulk load of N-Quads text, on a thread of its own (``_build_new``).

    A plain thread, not an executor's: ``wait`` returns once the thread has ended, its
    reference to the store gone with it, so the store can then be closed and reopened
    (``LiveStore``), which a RocksDB still open in another reference would refuse."""

    def __init__(self, store: Store, data: bytes, count: int) -> None:
        self.count = count
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(store, data), name="associations-load"
        )
        self._thread.start()

    def _run(self, store: Store, data: bytes) -> None:
        try:
            store.bulk_load(data, format=RdfFormat.N_QUADS)
        except BaseException as exc:  # given to the thread that waits (``wait``), without
            self._error = exc.with_traceback(None)  # this frame, which holds the store

    def join(self) -> None:
        """Wait for the load to end."""
        self._thread.join()

    def wait(self) -> int:
        """Wait for the load to end; its error, if it failed; else the quads it loaded."""
        self.join()
        if self._error is not None:
            raise self._error
        return self.count


def _build_over_held(
    live: LiveStore,
    layout: Layout,
    graph: NamedNode,
    lists: Iterable[tuple[str, Sequence[AssociationNode]]],
) -> tuple[int, bool]:
    """A full build over a graph that holds nodes: each list's statements are compared with
    what the graph holds of its source (``_holds_exactly``, else read back and the
    difference written), and a source the graph holds that ``lists`` does not name loses
    its nodes at the end. Returns the quads added, and whether any list had a node."""
    added, stated = 0, False
    pending: list[Quad] = []
    seen: set[str] = set()  # the sources streamed, to find the graph's stale ones
    writing = live()
    for source, nodes in lists:
        seen.add(source)
        stated = stated or bool(nodes)
        wanted = {q for node in nodes for q in _quads(layout, node)}
        if not _holds_exactly(writing, source, graph, wanted):
            held = _held(writing, source, graph)
            for quad in held - wanted:
                writing.remove(quad)
            pending.extend(wanted - held)
        if len(pending) >= BATCH_QUADS:
            added += _flush(writing, pending)
        elif len(seen) % HELD_SLICE:
            continue
        del writing  # the last reference: ``live`` may close it
        writing = live()
    added += _flush(writing, pending)
    del writing
    writing = live()
    for source in sorted(_sources(writing, graph) - seen):
        for quad in _held(writing, source, graph):
            writing.remove(quad)
    return added, stated


def update_associations(
    store: Store,
    layout: Layout,
    token: str | None,
    *,
    changed: Iterable[tuple[AssociationNode, AssociationNode]] = (),
    new: Iterable[AssociationNode] = (),
    restated: Iterable[Restated] = (),
    dropped: Iterable[AssociationNode] = (),
) -> int:
    """Bring the nodes an update names up to date; every other node stays as it is.

    The caller knows what the graph holds of each node it names (the graph is
    what a full build of the projection its token names writes, node for node:
    ``web.association_build`` explains the nodes held from that projection), so
    nothing is read back: ``changed``, (the node as held, as it is now) pairs,
    write only the quads that differ; ``new``: nodes the graph does not hold (a
    pair no list held, most of an update's nodes, those of new works);
    ``restated``: nodes whose rank or score alone changes; ``dropped``: nodes as
    held, that go. Returns the number of quads added.

    The quads that go and those that come are disjoint (a node is dropped or
    new, never both; a restated node's rank or score is replaced by another),
    so every removal is made first and the new quads follow in as few bulk
    loads as ``UPDATE_BATCH_QUADS`` allows (``_add``), made as they are loaded
    rather than held in a list: each bulk load adds a table to every index of
    the store, which RocksDB then merges in its background threads, so ten
    loads of ``BATCH_QUADS`` cost the update after 1,000 records more in those
    merges than in the loads themselves (docs/benchmarks.md).
    """
    graph = associations_graph(layout)
    _drop_token(store, graph)
    gone: list[str] = []  # lines of the quads that go, removed a slice at a time
    come: list[str] = []  # lines of the new quads of the nodes held, made with their removals
    for node in dropped:
        gone.extend(_lines(layout, node))
        _remove_past(store, gone, REMOVE_SLICE)
    for moved in restated:
        source, target = moved.source, moved.target
        if moved.old_rank != moved.new_rank:
            gone.append(_rank_line(layout, source, target, moved.old_rank))
            come.append(_rank_line(layout, source, target, moved.new_rank))
        if moved.old_score != moved.new_score:
            gone.append(_score_line(layout, source, target, moved.old_score))
            come.append(_score_line(layout, source, target, moved.new_score))
        _remove_past(store, gone, REMOVE_SLICE)
    for held, node in changed:
        before, after = set(_lines(layout, held)), _lines(layout, node)
        gone.extend(before.difference(after))
        come.extend(line for line in after if line not in before)
        _remove_past(store, gone, REMOVE_SLICE)
    _remove_past(store, gone, 0)
    added = _add_lines(store, chain(come, (line for node in new for line in _lines(layout, node))))
    _state_token(store, graph, token)
    return added


#: Lines of quads to remove parsed and removed at a time (about 2 MB of text).
REMOVE_SLICE = 10_000


def _remove_past(store: Store, lines: list[str], slice_size: int) -> None:
    """Remove the quads of ``lines`` and clear it, once it holds more than ``slice_size``."""
    if len(lines) > slice_size:
        remove = store.remove
        for quad in _parsed(lines):
            remove(quad)
        lines.clear()


#: An update's new quads go in bulk loads of at most this many (one load for the 104,255 quads
#: of the update after 1,051 records at x6). The bulk loader holds about 0.8 KB a quad while it
#: works (measured: +78 MB for 100,000 quads), so the update gives memory back before it writes
#: when that would take it past the writer's budget (``web.association_build``); a load fewer
#: saves RocksDB a merge of tables in the background (at x6, 1, 2, 3, 4 and 10 loads for the
#: same quads: 0.2, 0.6, 0.8, 1.2 and 1.6 s of its compaction threads' CPU).
UPDATE_BATCH_QUADS = 200_000


def _add_lines(store: Store, lines: Iterable[str], batch: int | None = None) -> int:
    """Add the quads of ``lines`` (N-Quads lines, an iterable consumed once): fewer than
    ``BULK_FROM`` in one transaction, more in bulk loads of up to ``batch``
    (``UPDATE_BATCH_QUADS``) each, which read the lines as they are made (``_LineReader``)
    rather than from one text held whole. Returns how many."""
    batch = max(batch or UPDATE_BATCH_QUADS, BULK_FROM)
    stream = iter(lines)
    added = 0
    while True:
        head = list(islice(stream, BULK_FROM))
        if len(head) < BULK_FROM:
            if head:
                store.load("".join(head).encode(), format=RdfFormat.N_QUADS, lenient=True)
            return added + len(head)
        reader = _LineReader(chain(head, islice(stream, batch - BULK_FROM)))
        del head
        store.bulk_load(reader, format=RdfFormat.N_QUADS, lenient=True)
        added += reader.lines


class _LineReader(io.RawIOBase):
    """A binary file over N-Quads lines made on demand, counting them (a bulk load's input)."""

    def __init__(self, lines: Iterator[str]) -> None:
        super().__init__()
        self._lines = lines
        self._pending = b""
        self.lines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        wanted = len(buffer)  # type: ignore[arg-type]
        chunks, size = [self._pending], len(self._pending)
        for line in self._lines:
            encoded = line.encode()
            chunks.append(encoded)
            size += len(encoded)
            self.lines += 1
            if size >= wanted:
                break
        data = b"".join(chunks)
        given, self._pending = data[:wanted], data[wanted:]
        buffer[: len(given)] = given  # type: ignore[index]
        return len(given)


#: Sources whose nodes are read back (a full build over a graph that holds nodes) between two
#: chances to give memory back: reading back 500 sources' nodes (5,000 nodes, 40,000 lookups)
#: added about 90 MB of RocksDB's memory at x40 open-access records.
HELD_SLICE = 25


def _sources(store: Store, graph: NamedNode) -> set[str]:
    """Every ``cg:source`` the graph names, once each: by SPARQL, which compares the store's
    encoded terms and decodes only the distinct sources, where a scan of the ``cg:source``
    quads decoded every node's IRI too (at x40 open-access records, 15,242 sources of 160,000
    nodes: 0.3 s and +59 MB against 2.1 s and +133 MB)."""
    query = f"SELECT DISTINCT ?s WHERE {{ GRAPH {graph} {{ ?n <{CG.source.value}> ?s }} }}"
    return {row[0].value for row in store.query(query) if isinstance(row[0], NamedNode)}  # type: ignore[index,union-attr]


# Terms go into these queries as ``NamedNode``s written out (``<iri>``): pyoxigraph refuses to
# make a ``NamedNode`` of a string that is not an IRI (no ``>``, space or brace can close it
# early), so nothing can be injected; ``substitutions=`` would need each bound variable in the
# projection, and a ``GROUP BY`` that gives no row instead of a count of 0.
_COUNT = (
    "SELECT (COUNT(*) AS ?c) WHERE {{ GRAPH {graph} {{ ?n <" + CG.source.value + "> {source} . "
    "{{ ?n ?p ?o }} UNION {{ ?n <" + CG.hasReason.value + "> ?r . ?r ?p ?o }} }} }}"
)


def _holds_exactly(store: Store, source: str, graph: NamedNode, wanted: set[Quad]) -> bool:
    """Whether the statements of ``source``'s nodes (those ``_held`` reads) are exactly ``wanted``,
    found without decoding a term: every quad of ``wanted`` is in the store (a lookup of its
    encoded key), and the statements of the nodes whose ``cg:source`` it is and of their
    reasons number as many (a SPARQL count, over encoded terms). The count covers every held
    statement at least once, so with ``wanted`` among them it cannot equal ``len(wanted)``
    unless they are those. A full build over a graph in step (``catalograph related
    --refresh --full``) then reads nothing back: at x40 open-access records, 2.3 s of CPU
    for 1,000 sources against 4.2 s for ``_held``, and no memory (``_held``'s decoding of
    every term took 179 MB of RocksDB's); a source that differs is read back (``_held``)."""
    if not all(quad in store for quad in wanted):
        return False
    (row,) = store.query(_COUNT.format(graph=graph, source=NamedNode(source)))  # type: ignore[misc]
    return int(row[0].value) == len(wanted)  # type: ignore[index,union-attr]


def _held(store: Store, source: str, graph: NamedNode) -> set[Quad]:
    """Every statement of the nodes whose source is ``source``."""
    held: set[Quad] = set()
    for link in store.quads_for_pattern(None, CG.source, NamedNode(source), graph):
        held.update(_node_quads(store, link.subject, graph))  # type: ignore[arg-type]
    return held


#: From this many quads on, a bulk load; fewer go in one transaction (an update's ten thousand
#: quads: 0.88 s in a transaction against 1.18 s by bulk load, measured under the profiler).
BULK_FROM = BATCH_QUADS


def _flush(store: Store, pending: list[Quad]) -> int:
    count = len(pending)
    if count >= BULK_FROM:
        store.bulk_extend(pending)
    elif count:
        store.extend(pending)
    pending.clear()
    return count


def association_quads(store: Store, layout: Layout) -> int:
    """Quads in the derived graph of associations (for the figures of the benchmark)."""
    return sum(1 for _ in store.quads_for_pattern(None, None, None, associations_graph(layout)))
