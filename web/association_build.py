"""Keep associations in step with the store: the projection and the derived graph, after an ingest.

Composition (it wires ``graph`` and ``query``, which may not import each
other's callers): at the end of a writing session, before its checkpoint,
``refresh_associations`` brings the projection up to date
(``graph.projection.read`` and ``assemble``: incremental unless none can be trusted),
recomputes the association lists a change can have touched
(``query.association.AssociationIndex.relist``: exact, not approximate), sorts
their nodes into those that stay, those whose rank or score alone changes and those
explained again (``_edits``), writes only those in the derived graph
(``graph.derived``) with the new projection's token, and saves the projection.
The derived graph names units by IRI, not by label, so a label that changed
touches no node (the words are made when read).
A full build streams every list to the writer, one at a time. The checkpoint the session then publishes carries that token,
so the server loads the projection that matches what it serves.

Why at the end of ``catalograph ingest`` and not after each edit of a
writer: an edit through SPARQL Update or the Graph Store Protocol is one
request that must answer fast, and may touch a unit thousands of works use;
the record index and the ledger remember what it changed (a NULL hash, a
unit edit), so the next ingest, or ``catalograph related --refresh``, reads
those resources again. Until then the server keeps answering from the
projection of the checkpoint it serves, which stays consistent with it.
"""

from __future__ import annotations

import gc
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pyoxigraph import Store

from graph import derived
from graph.derived import (
    AssociationNode,
    ReasonStated,
    Restated,
    read_token,
    rebuild_associations,
    update_associations,
)
from graph.projection import PendingRefresh, Projection, assemble, load, read, save
from graph.store import release_freed_memory, resident_memory_mb
from graph.writer import Writer
from ontology.layout import Layout
from query.association import MAX_REASONS, TOP_K, AssociationIndex, Relisting


@dataclass
class AssociationRefresh:
    """What a refresh did: for the ingest's summary and ``bench/association.py``."""

    full: bool
    reason: str
    resources_read: int
    works_listed: int
    lists_changed: int
    quads_written: int
    projection_seconds: float
    lists_seconds: float
    write_seconds: float
    token: str
    #: Nodes explained (their reasons computed and compared with what the graph holds).
    nodes_explained: int = 0

    def summary(self) -> str:
        how = "rebuilt" if self.full else "updated"
        return (
            f"associations {how} in {self.projection_seconds + self.lists_seconds + self.write_seconds:.1f} s: "
            f"{self.resources_read:,} resource(s) read, lists of {self.works_listed:,} work(s) "
            f"computed, {self.lists_changed:,} changed"
        )


def refresh_associations(
    writer: Writer, layout: Layout, data_dir: Path, *, full: bool = False
) -> AssociationRefresh:
    """Bring the projection and the derived graph of ``writer``'s store up to date (module docstring).

    Memory: the refresh runs in the writer's process, at the end of an ingest, and reads the
    whole store. It starts from the memory given back (``Writer.release_memory``: what the
    ingest left in the heap and in RocksDB's tables), gives back what reading the projection
    freed, and gives everything back at its end, before the checkpoint; each only when the
    process holds more than the writer's memory budget (``release_memory_past_budget``).
    In between, the reading (500 resources at a time) and a full build's writing (one bulk
    load at a time) take the store again from ``_Breath``, which reopens it whenever the
    process has grown by ``MEMORY_HEADROOM_MB``: what RocksDB keeps of the tables read and
    loaded would otherwise grow with the store (+150 MB at x40 open-access records).
    """
    writer.release_memory_past_budget()
    done = _refresh(writer, layout, data_dir, full)  # its store and readers end with it
    writer.release_memory_past_budget()
    if done.full and done.quads_written > LEVEL0_STOP_WRITES * derived.BATCH_QUADS:
        writer.session.wait_for_compactions()  # now, not in the next writer's transaction
    return done


#: Tables in the first level of an index past which RocksDB holds writes back until its
#: compactions merge them (its ``level0_stop_writes_trigger``): a full build of more bulk loads
#: waits for them at its end (``StoreSession.wait_for_compactions``).
LEVEL0_STOP_WRITES = 36


#: Growth of the process (MB) past which the store is reopened between slices of the reading
#: and between the full build's bulk loads (as the match candidates' and the mentions' refreshes).
MEMORY_HEADROOM_MB = 32.0


class _Breath:
    """The writer's store, taken again between slices of a long read or write
    (``graph.projection.LiveStore``): reopened first once the process has grown by
    ``MEMORY_HEADROOM_MB`` since the last time, so that what RocksDB keeps of the tables
    read or loaded (their index and filter blocks, until the store is closed) does not
    add up with the size of the store. Call it holding no reference to the store."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.floor = resident_memory_mb() or 0.0
        self.reopened = 0

    def __call__(self) -> Store:
        if (resident_memory_mb() or 0.0) > self.floor + MEMORY_HEADROOM_MB:
            release_freed_memory()
            self.writer.session.reopen()
            self.reopened += 1
            self.floor = resident_memory_mb() or self.floor
        return self.writer.store

    def restart(self) -> None:
        """Take the floor again, after giving back the heap pages freed since the last time (and
        RocksDB's memory, by a reopen, past the writer's budget: ``release_memory_past_budget``).
        Before a full build's lists: building the index frees its scipy temporaries without
        handing their pages back, so a floor taken just after it counted them (40-50 MB at
        x160 open access), and the first lists and bulk loads grew the headroom on top of that
        before the first reopen (the ingest's peak, 337 -> 366 MB: docs/benchmarks.md)."""
        release_freed_memory()
        if self.writer.release_memory_past_budget():
            self.reopened += 1
        self.floor = resident_memory_mb() or self.floor


def _read(
    writer: Writer, layout: Layout, data_dir: Path, full: bool, breath: _Breath
) -> tuple[PendingRefresh, str]:
    """The projection's reading, in slices (``breath``), and the token the derived graph states."""
    token = None if full else read_token(writer.store, layout)
    return read(breath, writer.session.index.db, layout, data_dir, token), token or ""


def _refresh(writer: Writer, layout: Layout, data_dir: Path, full: bool) -> AssociationRefresh:
    breath = _Breath(writer)
    pending, token = _read(writer, layout, data_dir, full, breath)
    # RocksDB's memory for the tables just read goes back before the arrays are assembled
    writer.release_memory_past_budget()
    done = assemble(pending)
    del pending
    projection, previous = done.projection, done.previous
    if previous is not None and not projection.changed_resources and not projection.changed_units:
        return AssociationRefresh(
            False, "nothing changed", 0, 0, 0, 0, done.seconds, 0.0, 0.0, token
        )
    gc.collect()
    release_freed_memory()  # what assembling the projection freed (its Python objects of IRIs)
    started = time.perf_counter()
    index = AssociationIndex(projection)
    if previous is None:
        explainer = _Explainer(index)
        kept = _Kept()
        token_stated = projection.token
        breath.restart()  # the floor: the index's arrays, not their temporaries nor the reads'
        written = rebuild_associations(breath, layout, token_stated, explainer.stream(kept))
        lists_seconds, write_started = explainer.seconds, started + explainer.seconds
        projection.list_source, projection.list_target, projection.list_score = kept.rows(index)
        listed, changed, explained = len(index.works), kept.lists, explainer.explained
        # the index and what the lists left go before the projection is saved (its last peak at x160)
        del index, explainer, kept
        gc.collect()
        release_freed_memory()
    else:
        before = AssociationIndex(previous)
        relisting = index.relist(
            before, projection.changed_resources or set(), projection.hierarchy_units or set()
        )
        explainer = _Explainer(index)
        edits = _edits(index, before, relisting, explainer)
        lists_seconds = time.perf_counter() - started
        write_started = time.perf_counter()
        projection.list_source = relisting.list_source
        projection.list_target = relisting.list_target
        projection.list_score = relisting.list_score
        token_stated = projection.token if len(projection.list_source) else None
        listed, changed = len(relisting.computed), edits.lists_changed
        explained = explainer.explained
        # what the update read and computed goes before it writes (``_room_to_write``)
        del index, before, relisting, explainer, previous
        done.previous = None
        store = _room_to_write(writer, edits)
        written = update_associations(
            store, layout, token_stated,
            changed=edits.changed, new=edits.new, restated=edits.restated,
            dropped=edits.dropped,
        )  # fmt: skip
    save(projection, data_dir)
    writer.session.changed = True
    return AssociationRefresh(
        full=done.full,
        reason=done.reason,
        resources_read=len(projection.changed_resources)
        if projection.changed_resources is not None
        else len(projection.resources),
        works_listed=listed,
        lists_changed=changed,
        quads_written=written,
        projection_seconds=done.seconds,
        lists_seconds=lists_seconds,
        write_seconds=time.perf_counter() - write_started,
        token=projection.token,
        nodes_explained=explained,
    )


#: What the bulk loader holds while it loads, in MB a quad (``graph.derived.UPDATE_BATCH_QUADS``),
#: and about how many quads a new node has (eleven measured at x6: five of its own, its reasons').
_LOADER_MB_PER_QUAD = 0.0008
_QUADS_PER_NODE = 12


def _room_to_write(writer: Writer, edits: _Edits) -> Store:
    """The store to write ``edits`` in, after giving memory back (``Writer.release_memory``) if the
    bulk load they make would otherwise take the process past the writer's budget: what the
    update read and computed is garbage by then, and RocksDB's memory for the tables read
    goes back with a reopen, so the load's own memory comes on top of what writing needs
    and not of what reading took. Before the removals, not between them and the load: a
    reopen then replays their deletes from RocksDB's write-ahead log into a new table,
    which its threads then merge (measured: 1.2 s more CPU for the update after 1,051
    records, docs/benchmarks.md)."""
    budget = writer.memory_budget_mb
    quads = _QUADS_PER_NODE * (len(edits.new) + len(edits.changed)) + 2 * len(edits.restated)
    if budget and (resident_memory_mb() or 0) + _LOADER_MB_PER_QUAD * quads > budget:
        writer.release_memory()
    return writer.store


@dataclass
class _Edits:
    """What an update writes in the derived graph (``graph.derived.update_associations``)."""

    #: (the node as the graph holds it, the node now): pairs held whose explanation changed
    changed: list[tuple[AssociationNode, AssociationNode]] = field(default_factory=list)
    new: list[AssociationNode] = field(default_factory=list)  # pairs no list held
    restated: list[Restated] = field(default_factory=list)
    dropped: list[AssociationNode] = field(default_factory=list)  # as the graph holds them
    lists_changed: int = 0


def _edits(
    index: AssociationIndex, before: AssociationIndex, relisting: Relisting, explainer: _Explainer
) -> _Edits:
    """Each list computed again against what the graph holds of it: a node whose pair is as it was
    (``AssociationIndex.same_pair``) keeps its statements and at most changes rank; the others
    are explained now and as held: with the same reasons, in the same order, a node changes its
    score and rank only; with others, the writer writes what differs; targets gone are dropped.

    What the graph holds of a node is not read from the store: the graph is what a full build of
    ``before``'s projection writes (its token says so, and a refresh killed half-way leaves no
    token), so a node held is explained again from ``before``, as that build explained it."""
    edits = _Edits()
    held_explainer = _Explainer(before)
    for old_source, old_targets in sorted(relisting.gone.items()):
        edits.dropped += [
            held_explainer.node(old_source, t, rank, x)
            for rank, (t, x) in enumerate(old_targets, start=1)
        ]
        edits.lists_changed += 1
    change = relisting.change
    for source, items in sorted(relisting.computed.items()):
        source_iri = index.work_iri(source)
        old = relisting.old.get(source, [])
        if [(t, x) for t, _iri, x, _then in old] == items and all(
            index.same_pair(change, source, t) for t, _ in items
        ):
            continue  # the list and every node as they were
        edits.lists_changed += 1
        held = {
            iri: (rank, score, then) for rank, (_t, iri, score, then) in enumerate(old, start=1)
        }
        now = set()
        for rank, (target, score) in enumerate(items, start=1):
            target_iri = index.work_iri(target)
            now.add(target_iri)
            was = held.get(target_iri)
            if was is None:
                edits.new.append(explainer.node(source, target, rank, score))
                continue
            if not (was[1] == score and index.same_pair(change, source, target)):
                node = explainer.node(source, target, rank, score)
                held_node = held_explainer.node(change.before[source], was[2], was[0], was[1])
                if node.reasons != held_node.reasons:
                    edits.changed.append((held_node, node))
                    continue
            if was[:2] != (rank, score):  # the same reasons: its rank or score alone moved
                edits.restated.append(Restated(source_iri, target_iri, was[0], rank, was[1], score))
        edits.dropped += [
            held_explainer.node(change.before[source], then, rank, score)
            for iri, (rank, score, then) in held.items()
            if iri not in now
        ]
    return edits


_reason = ReasonStated._make


class _Explainer:
    """Association nodes explained as ``related`` explains them: the units behind the score,
    strongest first (by IRI: the words are made when read)."""

    def __init__(self, index: AssociationIndex) -> None:
        self.index = index
        self._seed: tuple[int, dict[int, float]] = (-1, {})
        self.seconds = 0.0
        self.explained = 0

    def node(self, source: int, target: int, rank: int, score: float) -> AssociationNode:
        if self._seed[0] != source:
            self._seed = (source, self.index.work_units(source))
        self.explained += 1
        paths = self.index.reason_paths(self._seed[1], target, MAX_REASONS)
        return AssociationNode(
            source=self.index.work_iri(source),
            target=self.index.work_iri(target),
            rank=rank,
            score=score,
            reasons=tuple(map(_reason, paths)),
        )

    def stream(self, kept: _Kept) -> Iterator[tuple[str, list[AssociationNode]]]:
        """Every work's list with its nodes, one at a time (a full build: memory for one list, not
        all of them); each non-empty list is also put in ``kept``; ``seconds`` counts the time
        spent here (scores and explanations), not in the writer that consumes the stream."""
        index = self.index
        clock = time.perf_counter()
        for source, works, scores in index.score_rows(range(len(index.works))):
            if source % FORGET_EVERY == 0:
                index.forget_rows()  # the rows explained so far: a full build needs each once or so
            items = index.best(source, works, scores, TOP_K)
            if items:
                kept.add(source, items)
            nodes = [self.node(source, t, rank, x) for rank, (t, x) in enumerate(items, start=1)]
            self.seconds += time.perf_counter() - clock
            yield index.work_iri(source), nodes
            clock = time.perf_counter()


#: Sources a full build explains between two clearings of the index's rows (``forget_rows``).
FORGET_EVERY = 1_000


class _Kept:
    """A full build's lists as the projection keeps them, in arrays of numbers as they are made
    (sources ascending, as ``Explainer.stream`` gives them): ten per work as Python lists of
    tuples took about 1 KB a work until the build's end; works are numbered as C ints (``"i"``,
    read back as ``np.intc``: 32 bits here, the projection's own width), 16 bytes a node."""

    def __init__(self) -> None:
        self.source, self.target, self.score = array("i"), array("i"), array("d")
        self.lists = 0

    def add(self, source: int, items: list[tuple[int, float]]) -> None:
        self.lists += 1
        for target, score in items:
            self.source.append(source)
            self.target.append(target)
            self.score.append(score)

    def rows(self, index: AssociationIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``Projection.list_*``: rows of the projection's resources, and the scores."""
        works = index.works
        return (
            works[np.frombuffer(self.source, dtype=np.intc)].astype(np.int32),
            works[np.frombuffer(self.target, dtype=np.intc)].astype(np.int32),
            np.frombuffer(self.score, dtype=np.float64).copy(),
        )


def projection_of(store: Store, layout: Layout, data_dir: Path) -> Projection | None:
    """The projection that matches ``store`` (a checkpoint), or ``None`` if none was saved."""
    token = read_token(store, layout)
    return load(data_dir, token) if token else None
