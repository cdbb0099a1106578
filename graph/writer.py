"""Batched, crash-safe writes of record graphs: the only way ingest output enters the store.

One batch (a thousand records by default) goes through these steps::

    1 classify   per record, from the record index: deleted, unchanged (same
                 content hash), new or changed; a graph IRI twice in the batch:
                 the later record wins (a Collision); then, from the ledger
                 (``graph.ledger``), which unit statements enter or leave the
                 store because a record starts or stops stating them
    2 journal    list every graph about to be dropped or written, and the unit
                 statements' counts before and after (one SQLite commit, synced)
    3 drop       remove the old graphs of changed and deleted records and their
                 provenance, and the unit statements no one states any more
    4 load       bulk loads of the new data, the new unit statements and the
                 provenance, several at once (fast, not transactional)
    5 commit     flush the drops (if any), derive the search documents of the
                 resources new to the store from the batch's own N-Quads and
                 mark the others it touched stale (``_search_update``), then
                 record the batch, those documents and marks in the index and
                 clear the journal (one SQLite commit); the stale documents
                 are derived from the store once, when the session ends or
                 publishes a checkpoint (``graph.search_index``)

One record's fault never costs the others: a record whose provenance the
store cannot hold (a name or identifier that is not Unicode text) is set
aside in step 1, before anything is written; a record whose statements turn
out not to be N-Quads in step 4 (a bug upstream) is found once the journal
has rolled the batch back, and the rest of the batch is written again. Both
come back as ``BatchResult.rejected``, with their position and the reason.

A process killed anywhere leaves the journal (``graph.record_index``); the
next writer drops those graphs, so every record graph in the store is complete
and has provenance, and re-running the ingest rewrites exactly what is
missing. Unchanged records cost one indexed lookup and write nothing, so
re-ingesting the same file leaves the store identical. In a batch of new
records the store sees nothing but the bulk load: no lookup and no
transaction, which would stall behind the compactions bulk loads cause.

Record graphs come as ``ontology.records.RecordGraph``, the one type both
``ingest`` (which makes them) and ``graph`` may import.
"""

from __future__ import annotations

import functools
import gc
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

from pyoxigraph import NamedNode, RdfFormat, Store, parse

from graph.compaction import CompactionPriority
from graph.disk_space import BATCH_SPACE_FACTOR, MIN_FREE_BYTES, require_room
from graph.ledger import UnitPlan, parse_line
from graph.ontology_graph import SeedReport, seed_ontology
from graph.provenance import ProvenanceNQuads, drop_record_graph, timestamp
from graph.record_index import IndexedGraph
from graph.search_batch import BatchStatements
from graph.search_index import SearchUpdate
from graph.store import StoreSession, release_freed_memory, resident_memory_mb
from ontology.errors import StoreError
from ontology.layout import Layout
from ontology.records import Position, RecordGraph, Rejected
from ontology.vocabulary import functional_properties

#: How many collisions a session's totals keep (all are counted).
MAX_KEPT_COLLISIONS = 1000


@dataclass(frozen=True, slots=True)
class Collision:
    """Two records named the same graph (same 001/003, say); ``later`` replaced ``earlier``."""

    graph: str
    earlier: Position
    later: Position

    def __str__(self) -> str:
        return f"{self.later}: same graph {self.graph} as {self.earlier}, which it replaces"


@dataclass(slots=True)
class BatchResult:
    """Counts of one batch (or of a session, in ``Writer.totals``).

    ``records == written + unchanged + deleted + deleted_absent + superseded + len(rejected)``:
    a superseded record lost a collision within its batch and was not written;
    a rejected one could not be stored and changed nothing.
    """

    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    deleted_absent: int = 0
    superseded: int = 0
    quads: int = 0
    #: Statements about shared units the written records make (however many records make each).
    unit_statements: int = 0
    #: Unit statements that entered or left the store (``graph.ledger``).
    unit_statements_added: int = 0
    unit_statements_removed: int = 0
    collision_count: int = 0
    collisions: list[Collision] = field(default_factory=list)
    #: Records the store could not take, each with its reason (not kept in ``Writer.totals``).
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def records(self) -> int:
        return (
            self.written
            + self.unchanged
            + self.deleted
            + self.deleted_absent
            + self.superseded
            + len(self.rejected)
        )

    def add(self, other: BatchResult) -> None:
        self.written += other.written
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.deleted_absent += other.deleted_absent
        self.superseded += other.superseded
        self.quads += other.quads
        self.unit_statements += other.unit_statements
        self.unit_statements_added += other.unit_statements_added
        self.unit_statements_removed += other.unit_statements_removed
        self.collision_count += other.collision_count
        room = MAX_KEPT_COLLISIONS - len(self.collisions)
        self.collisions.extend(other.collisions[: max(room, 0)])


#: The writer's resident memory past which it reopens the store (see ``StoreSession.reopen``).
DEFAULT_MEMORY_BUDGET_MB = 250.0

#: References to the live store when only its session holds it, as ``sys.getrefcount`` counts
#: them in ``Writer.keep_within_budget`` (the session's, and the call's own argument).
_SESSION_REFERENCES = 2

#: Growth (MB) since the last reopen past which ``Writer.keep_within_budget`` reopens, when the
#: process already held more than the budget right after it.
REOPEN_HEADROOM_MB = 64.0

#: Search documents derived in one transaction when the writer settles them (``Writer.settle_search``):
#: small, so that the memory RocksDB keeps for one transaction's reads stays small.
SETTLE_DOCUMENTS = 250

#: Bulk loads run at once for one batch (``Writer._load`` has the measurements).
DEFAULT_LOAD_PARTS = 4
#: Of a batch's parts, how many are loaded at once (``Writer._load`` has the measurements).
DEFAULT_LOADS_AT_ONCE = 2

#: A session compacts the store before its last checkpoint (``Writer.compacts``) when
#: it made at least this many bulk loads (each adds a level-0 table to every index)...
COMPACT_MIN_LOADS = 8
#: ... and wrote at least this share of the graphs the store then holds.
COMPACT_MIN_SHARE = 0.25


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _watched(action: str) -> Callable[[_Method], _Method]:
    """Run a ``Writer`` method as a phase of its session's stall watch (``graph.disk_space``)."""

    def decorate(method: _Method) -> _Method:
        @functools.wraps(method)
        def watched(self: Writer, *args: Any, **kwargs: Any) -> Any:
            with self.session.watching(action):
                return method(self, *args, **kwargs)

        return cast(_Method, watched)

    return decorate


class Writer:
    """The single writer of a data directory, as a context manager.

    Usage (``layout`` is ``ontology.layout.Layout(base)``)::

        with Writer(data_dir, layout, "0.1.0") as writer:
            for batch in batches:
                result = writer.write(batch)

    Entering takes the lock (``StoreError`` naming the holder if taken),
    removes temporary files of killed bulk loads and rolls back an interrupted
    batch (``recovered`` lists the graphs). Leaving compacts the store if the
    session wrote much of it (``compacts``), flushes, publishes a checkpoint
    for readers (unless nothing changed) and releases the lock.
    """

    def __init__(
        self,
        data_dir: Path | str,
        layout: Layout,
        pipeline_version: str,
        *,
        make_checkpoint: bool = True,
        memory_budget_mb: float | None = DEFAULT_MEMORY_BUDGET_MB,
        compaction_nice: int | None = None,
        on_stall: Callable[[StoreError], None] | None = None,
        ontology: bool = False,
    ) -> None:
        self.layout = layout
        #: Seed the ontology graph from ``catalograph.ttl`` at open (``graph.ontology_graph``);
        #: ``catalograph ingest`` and ``harvest`` ask for it.
        self.ontology = ontology
        self.metadata_graph = layout.metadata_graph
        self.pipeline_version = pipeline_version
        #: ``on_stall``: see ``StoreSession`` (a command ends its process on a full disk).
        self.session = StoreSession(
            data_dir, make_checkpoint=make_checkpoint, on_stall=on_stall
        )
        self.totals = BatchResult()
        self.generated_at = timestamp()
        self.checkpoint_path: Path | None = None
        #: Past this resident size (MB) the store is reopened between batches; None: never.
        self.memory_budget_mb = memory_budget_mb
        self.reopened = 0
        #: RocksDB's compaction threads at this nice value during the session (``graph.compaction``);
        #: for a process that does nothing but ingest, as they are shared by the whole process.
        self.compaction_priority = (
            CompactionPriority(compaction_nice) if compaction_nice is not None else None
        )
        #: A batch's new records are bulk-loaded as up to this many parts at once
        #: (``_load``), each of at least ``min_part_records`` records.
        self.load_parts = DEFAULT_LOAD_PARTS
        #: Of those, how many run at once (``_load``).
        self.loads_at_once = DEFAULT_LOADS_AT_ONCE
        self.min_part_records = 100
        #: When the session's end compacts the store (``compacts``); see the module constants.
        self.compact_min_loads = COMPACT_MIN_LOADS
        self.compact_min_share = COMPACT_MIN_SHARE
        #: Bulk loads made in this session.
        self.loads = 0
        #: Whether the session compacted the store before its last checkpoint.
        self.compacted = False
        self._helper: ThreadPoolExecutor | None = None
        self._provenance_nquads = self._new_provenance()
        #: Seconds this session spent deriving search documents from the store.
        self.search_seconds = 0.0
        self.ontology_seed = SeedReport()
        #: Resident memory (MB) right after the last reopen (``keep_within_budget``).
        self._reopened_at_mb = 0.0

    # ------------------------------------------------------------ session

    def __enter__(self) -> Writer:
        functional_properties()  # read once, here: in the writer thread it waits for the GIL
        self.session.open()
        if self.ontology:
            try:  # what seeding the ontology graph did at the start of this session
                self.ontology_seed = seed_ontology(self.session.store, self.layout)
            except BaseException:
                self.session.close(commit=False)
                raise
            if self.ontology_seed.changed:
                self.session.changed = True
        self.generated_at = timestamp()
        self._provenance_nquads = self._new_provenance()  # this session's time
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._helper is not None:
            self._helper.shutdown()
            self._helper = None
        if self.compaction_priority is not None:
            self.compaction_priority.restore()  # the last compaction is not background work
        if exc_type is None and self.memory_budget_mb:
            try:
                self.settle_search()
            except BaseException:
                self.session.close(commit=False)  # the stale rows stay: the next session settles them
                raise
        self.compacted = exc_type is None and self.compacts()
        self.checkpoint_path = self.session.close(commit=True, compact=self.compacted)
        self.compacted = self.compacted and self.session.compaction_skipped is None

    def compacts(self) -> bool:
        """Whether this session's end merges the store's tables before the checkpoint.

        Every bulk load adds a level-0 table to each of the store's indexes,
        and RocksDB's single compaction thread (as Oxigraph configures it)
        falls behind a long ingest. Readers search every table left: measured
        on the x10 benchmark store, the SPARQL query mix of bench/sparql_load.py
        ran at 345 queries/s in one thread on the checkpoint an ingest left,
        100/s on one taken without waiting for compactions, and 494/s once the
        store was compacted. ``Store.optimize`` compacts it fully; it rewrites
        the whole store (11-14 s for those 5 million quads, where the final
        checkpoint otherwise waited 7-9 s for the background compactions), so
        a session asks for it only when it loaded many times and wrote a large
        share of the store.
        """
        if self.loads < self.compact_min_loads or not self.totals.written:
            return False
        try:
            held = self.session.index.count()
        except sqlite3.Error:
            return False
        return self.totals.written >= self.compact_min_share * held

    @property
    def store(self) -> Store:
        """The live store, for reads inside the session (never keep it past the session)."""
        return self.session.store

    def release_memory(self) -> None:
        """Give back what the process holds beyond what it needs: Python's garbage, the heap
        pages malloc keeps once freed, and RocksDB's memory for the tables read so far (the
        store is reopened, keeping the lock: ``StoreSession.reopen``). Between batches the
        writer does this past its memory budget; a long step of the session that reads the
        whole store (the association refresh at the end of an ingest) does it before and
        after, so its peak is its own plus the store's, not added to what the ingest left.
        Take ``store`` again afterwards: the one held before is closed.
        """
        gc.collect()
        release_freed_memory()
        self.session.reopen()
        self._reopened_at_mb = resident_memory_mb() or 0

    def release_memory_past_budget(self) -> bool:
        """``release_memory`` when this process holds more than ``memory_budget_mb``; returns
        whether it did (take ``store`` again). For the steps at the end of an ingest: a small
        ingest stays well under the budget, and a reopen there only costs (about 40 ms, and
        RocksDB's cache read again; the test suite's hundreds of small ingests paid it)."""
        if self.memory_budget_mb and (resident_memory_mb() or 0) <= self.memory_budget_mb:
            return False
        self.release_memory()
        return True

    def settle_search(self) -> None:
        """Derive the search documents the batches left stale now (the session's end does it
        otherwise, in the checkpoint), ``SETTLE_DOCUMENTS`` at a time, the store reopened
        between them past the memory budget: deriving reads much of the store, and RocksDB
        keeps what it read until the store is closed (at x10, 33,000 documents in
        transactions of 2,000 added 160 MB to what the session held). Hold no reference
        to ``store`` across the call. ``catalograph ingest`` calls it right after its
        batches, where the session holds least (the refreshes that follow write derived
        graphs, which no document reads), and leaving the session calls it again."""
        index = self.session.index
        while index.settle_search(self.session.store, chunks=1, size=SETTLE_DOCUMENTS):
            self.keep_within_budget()

    def keep_within_budget(self) -> bool:
        """Reopen the store if this process holds more than ``memory_budget_mb`` (as between
        batches); returns whether it did (take ``store`` again). Not while a caller holds the
        store (RocksDB's lock would not be let go): then it stays open, and the memory with it.
        For a long read of the store in steps (the mentions' chunks, the search documents):
        RocksDB keeps the blocks and indexes it read until the store is closed, so the steps'
        reads would otherwise add up."""
        if not self.memory_budget_mb:
            return False
        # past the budget, and grown by REOPEN_HEADROOM_MB since the last reopen: a reopen empties
        # RocksDB's cache, which the next reads fill again (at the end of an ingest the process
        # holds more than the budget once everything is given back; measured on the benchmark
        # set, reopening after every step cost 14 % more CPU for the whole ingest)
        limit = max(self.memory_budget_mb, self._reopened_at_mb + REOPEN_HEADROOM_MB)
        if (resident_memory_mb() or 0) <= limit:
            return False
        if sys.getrefcount(self.session.store) > _SESSION_REFERENCES:
            return False  # a caller still holds the store (at a session's end, say): it stays open
        gc.collect()
        release_freed_memory()
        self.session.reopen()
        self.reopened += 1
        self._reopened_at_mb = resident_memory_mb() or 0
        return True

    @property
    def recovered(self) -> list[str]:
        return self.session.recovered

    @property
    def orphans_removed(self) -> list[str]:
        return self.session.orphans_removed

    def checkpoint(self) -> Path:
        """Publish a checkpoint now (between batches), e.g. every N batches of a long ingest."""
        return self.session.checkpoint()

    # ------------------------------------------------------------ one batch

    @_watched("write")
    def write(self, batch: Sequence[RecordGraph]) -> BatchResult:
        """Write one batch of record graphs; see the module docstring for the steps."""
        return self._write(batch, [])

    def _write(self, batch: Sequence[RecordGraph], rejected: list[Rejected]) -> BatchResult:
        store = self.session.store
        index = self.session.index
        result = BatchResult(rejected=list(rejected))
        latest = self._latest_per_graph(batch, result)
        try:
            known = index.lookup([r.graph for r in latest])
            drop, load, provenance = self._classify(latest, known, result)
            if drop or load:
                self._require_room(load)
                self.session.changed = True
                loaded = {r.graph for r in load}
                units, stated = index.ledger.plan(
                    retracted=(known[g].units for g in drop if g not in loaded),
                    stated=((_units(known.get(r.graph)), r.units, r.unit_groups) for r in load),
                )
                said = dict(zip((r.graph for r in load), stated, strict=True))
                index.begin_batch(
                    ((g, said.get(g) or None) for g in _union(drop, load)),
                    self.metadata_graph.value,
                    units,
                )
                for graph in drop:
                    drop_record_graph(store, NamedNode(graph), self.metadata_graph)
                for line in units.remove:
                    store.remove(parse_line(line))
                if load or units.add:
                    self._load(store, load, units.add, provenance)
                if drop or units.remove:
                    store.flush()  # drops live in RocksDB's unsynced log until flushed
                index.commit_batch(
                    (self._indexed(r, u) for r, u in zip(load, stated, strict=True)),
                    (g for g in drop if g not in loaded),
                    units,
                    self._search_update(load, drop, units),
                )
                result.unit_statements_added = len(units.add)
                result.unit_statements_removed = len(units.remove)
        except (OSError, sqlite3.Error) as exc:
            raise self.session.fail(exc, "write") from exc
        except SyntaxError as exc:  # a record graph that is not N-Quads: a bug upstream
            index.recover(store)
            faulty = _not_nquads(load)
            if not faulty:
                raise ValueError(
                    f"a record graph of this batch is not valid N-Quads: {exc}"
                ) from exc
            retry = [r for r in batch if id(r) not in faulty], [*rejected, *faulty.values()]
        else:
            retry = None
        if retry is not None:
            # The journal rolled the whole batch back: write it again without them, once the
            # failed load has let go of the store. Its error sits in a cycle (the error's
            # traceback holds the loading frame, whose futures hold the error), which keeps
            # that frame's store alive until the cyclic collector runs; a reopen during the
            # retry then found RocksDB's lock still held by this process (seen once in CI).
            del store
            gc.collect()
            return self._write(*retry)
        result.quads = sum(r.quad_count for r in load)
        result.unit_statements = sum(r.unit_count for r in load)
        self.totals.add(result)
        if self.compaction_priority is not None:
            self.compaction_priority.lower()  # RocksDB starts its threads on first use
        del store  # the session's reference must be the last one for a reopen to close it
        release_freed_memory()  # the batch's buffers (measured: ~90 MB kept by malloc otherwise)
        if self.memory_budget_mb and (resident_memory_mb() or 0) > self.memory_budget_mb:
            self.session.reopen()  # keeps the writer's memory flat however large the store grows
            self.reopened += 1
        return result

    def _search_update(self, load: list[RecordGraph], drop: list[str], units: UnitPlan) -> SearchUpdate:
        """The change to the search index for the batch's commit (``graph.search_index``),
        over the resources its records' statements are about, those the graphs it drops
        described, and the subjects of the unit statements that entered or left the
        store: a resource new to the store is derived from the batch's own N-Quads, the
        others are marked stale, derived once when the session settles the index."""
        started = time.perf_counter()
        search = self.session.index.search
        lines = BatchStatements([*(r.nquads for r in load), b"".join(units.add)])
        added, removed = units.cut()
        touched = search.touched(lines.resources(), (r.graph for r in load), drop, removed, added)
        update = search.derive_batch(touched, lines, self.session.store)
        self.search_seconds += time.perf_counter() - started
        return update

    def _require_room(self, load: list[RecordGraph]) -> None:
        """``DiskFullError`` before the batch is journaled if the disk cannot hold it; the
        session stays open, and what it committed before is published when it ends."""
        size = sum(len(r.nquads) + len(r.units) for r in load)
        require_room("write", self.session.path, BATCH_SPACE_FACTOR * size + MIN_FREE_BYTES)

    def _load(
        self,
        store: Store,
        records: list[RecordGraph],
        unit_lines: list[bytes],
        provenance: dict[str, bytes],
    ) -> None:
        """Bulk-load the records' data, the unit statements new to the store, and the provenance.

        The journal, not a transaction, is what makes this safe. A large batch
        is loaded as ``load_parts`` parts, ``loads_at_once`` at a time, all but
        one of those in helper threads (pyoxigraph releases the GIL): one bulk load keeps about one
        core busy, and its parsing, sorting and file writing leave gaps that
        the others fill. Measured on the x10 input (57,380 records, 2 cores,
        interleaved runs): one load per batch 71 s (2 runs), two 55-64 s (7
        runs, mean 58.6 s), four 54-59 s (5 runs, mean 56.0 s), six 60-64 s
        (3 runs); peak memory alike (265-290 MB), since the parts share the
        batch's quads. But the loader holds what it sorts (about a kilobyte a
        quad) until its tables are written, so the parts in flight set the
        batch's memory: loaded ``loads_at_once`` (2) at a time, the batches
        of three copies of the benchmark set peaked at 282 MB against 316 MB
        with all four at once (270 MB one at a time), for the same CPU time
        (56-61 s, all three run together at load 13-16: docs/benchmarks.md,
        "The x10 ingest's memory in the writer's own steps"). ``lenient`` skips
        re-validating IRIs and tags: the mapper built every term with
        pyoxigraph's own validating constructors.
        Each part's provenance comes last, so a load cut short leaves data
        without provenance, which is never trusted, rather than the reverse.
        """
        count = max(1, min(self.load_parts, len(records) // self.min_part_records))
        size = max(1, -(-len(records) // count))  # ceiling: at most ``count`` parts
        parts = [records[i : i + size] for i in range(0, len(records), size)] or [[]]
        self.loads += len(parts)
        at_once = max(1, self.loads_at_once)
        for wave in range(0, len(parts), at_once):
            # one wave's parts joined at a time: the loader's memory is the wave's, not the batch's
            self._load_wave(
                store,
                [
                    b"".join(
                        [
                            *unit_lines[k :: len(parts)],
                            *[r.nquads for r in parts[k]],
                            *[provenance[r.graph] for r in parts[k]],
                        ]
                    )  # one join, one copy of the part's bytes
                    for k in range(wave, min(wave + at_once, len(parts)))
                ],
            )

    def _load_wave(self, store: Store, inputs: list[bytes]) -> None:
        """Bulk-load ``inputs`` at once, all but the first in helper threads; every load is
        waited for, and the first error raised."""
        if len(inputs) > 1 and self._helper is None:
            self._helper = ThreadPoolExecutor(
                max(1, self.load_parts - 1), thread_name_prefix="catalograph-bulk-load"
            )
        others = [
            self._helper.submit(store.bulk_load, data, format=RdfFormat.N_QUADS, lenient=True)
            for data in inputs[1:]
        ]  # fmt: skip
        error: BaseException | None = None
        try:
            store.bulk_load(inputs[0], format=RdfFormat.N_QUADS, lenient=True)
        except BaseException as exc:  # noqa: BLE001 - raised below, once every load has ended
            error = exc
        for other in others:  # always waited for: no load may outlive the batch
            try:
                other.result()
            except BaseException as exc:  # noqa: BLE001 - the first error is raised below
                error = error or exc
        if error is not None:
            raise error

    def _latest_per_graph(
        self, batch: Sequence[RecordGraph], result: BatchResult
    ) -> list[RecordGraph]:
        """One record per graph IRI, the later winning; collisions reported."""
        by_graph: dict[str, RecordGraph] = {}
        for record in batch:
            earlier = by_graph.pop(record.graph, None)
            if earlier is not None:
                result.superseded += 1
                self._collide(result, record.graph, earlier.position, record.position)
            by_graph[record.graph] = record
        return list(by_graph.values())

    def _collide(self, result: BatchResult, graph: str, earlier: Position, later: Position) -> None:
        result.collision_count += 1
        result.collisions.append(Collision(graph, earlier, later))

    def _classify(
        self, records: list[RecordGraph], known: dict[str, IndexedGraph], result: BatchResult
    ) -> tuple[list[str], list[RecordGraph], dict[str, bytes]]:
        """Split into graphs to drop and records to load (with their provenance), counting the rest.

        A record to load whose provenance cannot be built is rejected here,
        before the batch changes anything: the store keeps what it had for
        its graph (an earlier record of the batch naming the same graph stays
        superseded).
        """
        drop: list[str] = []
        load: list[RecordGraph] = []
        provenance: dict[str, bytes] = {}
        session = self.generated_at.value
        for record in records:
            stored = known.get(record.graph)
            # Written earlier in this session, by another record of the input: the later
            # record wins with its provenance even when it says the same, as it would in
            # one batch, so the store does not depend on where the batches were cut.
            # (The very record again, from the same position, is unchanged.)
            moved_in_session = False
            if stored is not None and stored.written_at == session:
                self._collide(result, record.graph, stored.stored_position, record.position)
                moved_in_session = stored.stored_position != record.position
            if record.deleted:
                if stored is not None:
                    drop.append(record.graph)
                    result.deleted += 1
                else:
                    result.deleted_absent += 1
            elif (stored is not None and stored.content_hash == record.content_hash
                  and not moved_in_session):
                result.unchanged += 1
            else:
                try:
                    provenance[record.graph] = self._provenance(record)
                except ValueError as exc:  # pyoxigraph refuses text that is not Unicode
                    result.rejected.append(
                        Rejected(record.position, "provenance", _unstorable(record, exc))
                    )
                    continue
                if stored is not None:  # changed, edited, or data without provenance
                    drop.append(record.graph)
                load.append(record)
                result.written += 1
        return drop, load, provenance

    def _indexed(self, record: RecordGraph, units: bytes) -> IndexedGraph:
        position = record.position
        return IndexedGraph(
            record.graph,
            record.content_hash,
            self.generated_at.value,
            position.source,
            position.number,
            position.offset,
            position.line,
            position.identifier,
            position.datestamp,
            units or None,
        )

    def _new_provenance(self) -> ProvenanceNQuads:
        return ProvenanceNQuads(self.metadata_graph, self.pipeline_version, self.generated_at)

    def _provenance(self, record: RecordGraph) -> bytes:
        """The record's provenance as N-Quads (``graph.provenance``); ``ValueError`` if it cannot be."""
        return self._provenance_nquads.record(
            record.graph,
            source_file=record.position.source,
            position=record.position.number,
            byte_offset=record.position.offset,
            line=record.position.line,
            content_hash=record.content_hash,
            identifier=record.position.identifier,
            datestamp=record.position.datestamp,
        ).encode("utf-8")


def _unstorable(record: RecordGraph, error: ValueError) -> str:
    """Why the record's provenance cannot be stored, naming the value at fault."""
    position = record.position
    for what, value in (
        ("graph IRI", record.graph),
        ("source name", position.source),
        ("identifier", position.identifier),
        ("datestamp", position.datestamp),
    ):
        if value is not None and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                shown = value.encode("utf-8", "backslashreplace").decode("utf-8")
                return f'its {what} "{shown}" is not Unicode text, which the store cannot hold'
    return f"its provenance cannot be stored: {error}"


def _not_nquads(records: list[RecordGraph]) -> dict[int, Rejected]:
    """The records whose statements a bulk load cannot parse, by ``id``, each with the parser's reason.

    Run only after a bulk load failed, as the loads themselves (``lenient``) do.
    """
    faulty: dict[int, Rejected] = {}
    for record in records:
        try:
            for _quad in parse(record.all_nquads, format=RdfFormat.N_QUADS, lenient=True):
                pass
        except SyntaxError as exc:
            faulty[id(record)] = Rejected(
                record.position, "nquads", f"its statements are not N-Quads: {exc}"
            )
    return faulty


def _units(stored: IndexedGraph | None) -> bytes | None:
    return None if stored is None else stored.units


def _union(drop: list[str], load: list[RecordGraph]) -> list[str]:
    graphs = dict.fromkeys(drop)
    graphs.update(dict.fromkeys(r.graph for r in load))
    return list(graphs)
