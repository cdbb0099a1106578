"""Bring the derived graph of match candidates up to date: the blocks a change touched, or all of them.

Composition: ``query.candidates`` reads headings and titles from the store,
``query.candidate_rules`` compares the members of a block,
``graph.candidate_state`` keeps on disk what each block holds and gave, and
``graph.candidates`` writes the graph, inside the caller's writing session
(``graph.writer.Writer``).

**Incremental** (the default, at the end of an ingest or a harvest and for
``catalograph candidates --refresh``): what changed since the last refresh,
and only that, found as the mentions' refresh finds it
(``web.mentions_refresh``): the resources the ledger noted
(``graph.candidate_changes``: labels, types, contributions, agents and sameAs
of unit statements), the writers' unit edits, and, once works are tracked,
the record graphs whose hash differs from the state's manifest (their works,
old and new). Each resource is read again as an agent (its labels) and as a
work (its titles, sources and creators); an agent whose labels changed sends
the works it is the primary contributor of. Every block such a resource was
or is in is compared again from the state (never from the store), and only
the candidates whose pair, rule, score or reasons changed are written. Blocks
are small (at most ``MAX_BLOCK`` members are compared; a larger one is
counted, not read), so the cost follows the change, not the store.

**Full** (``--full``, a state missing or from another store, a refresh that
did not end, or new rules): every agent's labels and every work's facts
streamed into the state, every block compared, the whole graph written by
difference (``graph.candidates.write_candidates``). Both ways compare the
same blocks with the same functions, so an incremental refresh ends with the
graph a full one makes (tests/test_query_candidates.py checks it after
records are added and deleted).

Works are read only once an open-access source links some (a catalogue's own
works met by their keys at ingest): until then the state does not track them,
and the first refresh that finds open-access works reads them all once.

Memory does not grow with the store: the lists of what to examine are tables
on disk, listed by key (the agents from the ledger of unit statements, the
works from the record graphs), resources are read a slice at a time, and
between slices the store is reopened when the process has grown by
``MEMORY_HEADROOM_MB``: every term decoded fills the 128 MB block cache
Oxigraph gives the terms' column family, which only closing the store empties
(docs/storage.md), and no whole-store query or scan runs in one go.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Set
from contextlib import closing
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from graph import candidate_changes
from graph import candidate_state as state
from graph.candidates import MatchCandidate, update_candidate, write_candidates
from graph.mention_state import changed_graphs, edits_changed
from graph.refresh_state import get_meta, insert_streamed, set_meta
from graph.store import release_freed_memory, resident_memory_mb
from graph.writer import Writer
from ontology.layout import Layout
from query.candidate_rules import (
    MAX_BLOCK,
    MAX_CANDIDATES,
    THRESHOLD,
    WorkTitle,
    agent_block_candidates,
    blocking_keys,
    chosen_heading,
    heading,
    work_block_candidates,
)
from query.candidates import (
    WorkFact,
    agent_labels,
    agents_typed_in,
    graph_works,
    graphs_writers_changed,
    has_open_access_works,
    labels_in_graphs,
    said_to_be_one,
    typed_agents,
    work_facts,
    works_of_creator,
)

#: Bumped when the rules or the state's tables change, so that the next refresh is full.
RULES_VERSION = "1"
#: Growth of the process (MB) past which the store is reopened between slices (as the
#: mentions' refresh: 64 MB let the x10 benchmark ingest's candidates step reach 300-309 MB).
MEMORY_HEADROOM_MB = 32.0
#: Agents (each with a graph typing it) whose labels a full refresh reads between two breaths
#: (``_Run.breathe``).
AGENT_SLICE = state.SLICE
#: The ledger's groups typing an agent (or graphs a writer changed) whose statements a full
#: refresh looks up in the store between two breaths (``_list_agents``).
TYPE_SLICE = 5_000
#: Works, or record graphs, whose facts or works a full refresh reads between two breaths.
WORK_SLICE = state.SLICE


@dataclass(frozen=True, slots=True)
class CandidatesRefresh:
    """What a refresh found and wrote."""

    candidates: int
    above_threshold: int
    added: int
    removed: int
    seconds: float
    #: This process's CPU time for it (``seconds`` is wall time, which a busy machine stretches).
    cpu_seconds: float = 0.0
    full: bool = True
    #: Resources read again (agents or works), and blocks compared.
    examined: int = 0
    blocks: int = 0

    def summary(self) -> str:
        how = "rebuilt" if self.full else f"updated: {self.examined:,} resource(s) read, {self.blocks:,} block(s) compared"
        return (
            f"{self.candidates} match candidates ({self.above_threshold} at or above {THRESHOLD}); "
            f"{self.added} quads added, {self.removed} removed in {self.seconds:.1f} s, CPU {self.cpu_seconds:.2f} s ({how})"
        )


class _Run:
    """One refresh: the writer, the state, the open-access sources, and the memory's floor."""

    def __init__(
        self, writer: Writer, layout: Layout, db: sqlite3.Connection, open_access: Set[str], reopen: bool
    ) -> None:
        self.writer, self.layout, self.db, self.open_access = writer, layout, db, open_access
        self.minted = f"{layout.base}agent/"
        self.examined = 0
        release_freed_memory()
        if reopen:  # what an ingest's reads left in RocksDB's caches is not this refresh's floor
            writer.session.reopen()
        self.floor = resident_memory_mb() or 0.0

    def breathe(self) -> None:
        """Between slices: give back what the reads held once the process grew past its headroom."""
        if (resident_memory_mb() or 0.0) > self.floor + MEMORY_HEADROOM_MB:
            release_freed_memory()
            self.writer.session.reopen()
            self.floor = resident_memory_mb() or self.floor

    def name_rows(self, labels: Iterable[str]) -> set[tuple[str, str]]:
        return {(label, heading("", label, self.minted).name) for label in labels}


def refresh_candidates(
    writer: Writer, layout: Layout, data_dir: Path, open_access: Set[str], *, full: bool = False, reopen: bool = False
) -> CandidatesRefresh:
    """Bring the candidates graph of ``writer``'s store up to date (module docstring);
    ``open_access``: the sources of open-access record graphs; ``reopen``: start from a store
    reopened (at the end of an ingest, whose reads filled RocksDB's caches)."""
    started, cpu = time.perf_counter(), time.process_time()
    index = writer.session.index
    row = index.db.execute("SELECT value FROM about WHERE key = 'store'").fetchone()
    identity = row[0] if row else ""
    with closing(state.open_state(data_dir)) as db:
        full = (
            full
            or get_meta(db, "refreshing") is not None
            or get_meta(db, "rules") != RULES_VERSION
            or get_meta(db, "store") != identity
            or index.rebuilt
        )
        set_meta(db, "refreshing", "1")
        state.clear_lists(db)
        run = _Run(writer, layout, db, open_access, reopen)
        if full:
            state.clear_all(db)
            _edits_seen(db, index.db)
            _read_all_agents(run)
            if _has_open_access_works(run):
                _read_all_works(run)
        else:
            _read_changes(run)
        blocks = _compare_blocks(run)
        count = state.choose_wanted(db, MAX_CANDIDATES)
        above = db.execute("SELECT COUNT(*) FROM wanted WHERE score >= ?", (THRESHOLD,)).fetchone()[0]
        added, removed = _write(run, full)
        with db:
            state.settle_written(db)
            for key, value in (("rules", RULES_VERSION), ("store", identity)):
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            db.execute("DELETE FROM meta WHERE key = 'refreshing'")
        candidate_changes.forget(index.db)
        state.clear_lists(db)
    if added or removed:
        writer.session.changed = True
    return CandidatesRefresh(
        count, above, added, removed, time.perf_counter() - started, time.process_time() - cpu,
        full, run.examined, blocks,
    )  # fmt: skip


def _has_open_access_works(run: _Run) -> bool:
    """``query.candidates.has_open_access_works``, asked of the store only when the record index
    holds a record graph of an open-access source. On a catalogue alone the query reads every
    record's work link to find none: 1.3 s of CPU and +88 MB of RocksDB's memory on the x10
    benchmark store (57 -> 145 MB in a fresh process), the candidates' peak of that ingest, paid
    again by every later ingest's refresh while no open-access work has come."""
    index = run.writer.session.index
    if any(index.holds_graph_under(f"{run.layout.graphs}{source}/") for source in run.open_access):
        return has_open_access_works(run.writer.store, run.layout, run.open_access)  # as the query's prefixes
    return False


# ------------------------------------------------------------------ reading everything


def _read_all_agents(run: _Run) -> None:
    """Every agent's labels into the state; every block of two agents or more to compare.

    The agents are listed first with the graphs typing them (``_list_agents``, into
    ``todo_agent``), then their labels read ``AGENT_SLICE`` of those at a time by index
    lookups, the store let breathe between slices: one query over the whole store held what
    RocksDB read until its end (the x10 benchmark ingest's peak)."""
    db = run.db
    _list_agents(run)
    last = ("", "")
    while pairs := db.execute(
        "SELECT agent, graph FROM todo_agent WHERE (agent, graph) > (?, ?) ORDER BY agent, graph LIMIT ?",
        (*last, AGENT_SLICE),
    ).fetchall():
        store = run.writer.store
        labels = labels_in_graphs(store, pairs)
        rows = [(agent, label, heading(agent, label, run.minted).name) for agent, label in labels]
        with db:
            db.executemany("INSERT OR IGNORE INTO agent_label VALUES (?, ?, ?)", rows)
        last = pairs[-1]
        del store, labels
        run.breathe()
    with db:
        db.execute("DELETE FROM todo_agent")
        db.execute(
            "INSERT OR IGNORE INTO todo_block SELECT 'agent' || ? || name FROM agent_label WHERE name != '' "
            "GROUP BY name HAVING COUNT(DISTINCT agent) >= 2",
            (state.SEPARATOR,),
        )


def _list_agents(run: _Run) -> None:
    """Every ``(agent, graph)`` whose statement typing the agent ``bf:Agent`` the store holds in
    a named graph (an agent of its own, not a record graph's node) into ``todo_agent``: what
    ``GRAPH ?g { ?agent a bf:Agent }`` gives over the whole store, listed by key.

    Such a statement is about a unit, in its unit graph (``ontology.layout``), so the ledger
    counts it: the lines of its groups and of the writers' unit edits that type an agent
    (``graph.candidate_changes.agent_type_lines``, by id and hash), ``TYPE_SLICE`` groups at a
    time, each statement looked up in the store (``query.candidates.typed_agents``). The one
    kind the ledger does not count, a writer's statement about an IRI the layout does not file
    (in any graph), is in a graph a changeset names: those graphs are read too
    (``agents_typed_in``), ``TYPE_SLICE`` at a time. The store breathes between slices. The
    listing went by ``OFFSET`` pages of the store's type statements before, and each page
    scanned every statement before it: quadratic in CPU, and at the x160 open-access ingest
    the agents' read peaked at 258 MB (docs/benchmarks.md)."""
    db, layout = run.db, run.layout
    for lines in candidate_changes.agent_type_lines(run.writer.session.index.path, TYPE_SLICE):
        store = run.writer.store
        pairs = typed_agents(store, layout, lines)
        with db:
            db.executemany("INSERT OR IGNORE INTO todo_agent VALUES (?, ?)", pairs)
        del store, pairs  # the last reference: a reopen closes it
        run.breathe()
    with db:
        db.execute("DELETE FROM todo")
    state.add_rows(db, "todo", graphs_writers_changed(run.writer.store))
    for graphs in state.slices(db, "todo", TYPE_SLICE):
        store = run.writer.store
        pairs = [pair for graph in graphs for pair in agents_typed_in(store, layout, graph)]
        with db:
            db.executemany("INSERT OR IGNORE INTO todo_agent VALUES (?, ?)", pairs)
        del store, pairs
        run.breathe()
    with db:
        db.execute("DELETE FROM todo")


def _read_all_works(run: _Run) -> None:
    """Every work's facts, every record graph's works and hashes into the state, a slice at a
    time with the store let breathe between them (a query over the whole store held what RocksDB
    read until its end: +117 MB, the x40 open-access ingest's peak); works tracked from now on;
    every block of two works or more to compare.

    The record graphs are the record index's (the manifest): ``graph_work`` is only ever read
    for them (``_changed_graphs``). The works are those some graph links, each read by
    ``work_facts``, the function the incremental refresh reads a work with; they are listed
    from ``graph_work`` (every work a record graph names: a work no graph links has no facts),
    not by pages of the store's ``cg:linkedWork`` statements: a page at an ``OFFSET`` scanned
    every statement before it, and RocksDB kept the blocks of that scan until the reopen
    (+145 MB in the slice after a page at x160 open-access records, docs/benchmarks.md)."""
    db, layout = run.db, run.layout
    with db:
        for table in ("work_fact", "work_key", "graph_work", "manifest"):
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - the names above
    _insert_streamed(db, "manifest", run.writer.session.index.db.execute("SELECT graph, content_hash FROM record_graph"))
    last = ""
    while graphs := [g for (g,) in db.execute(
        "SELECT graph FROM manifest WHERE graph > ? ORDER BY graph LIMIT ?", (last, WORK_SLICE)
    )]:  # fmt: skip
        store = run.writer.store
        with db:
            db.executemany(
                "INSERT OR IGNORE INTO graph_work VALUES (?, ?)",
                [(g, w) for g in graphs for w in graph_works(store, layout, g)],
            )
        last = graphs[-1]
        del store
        run.breathe()
    # the works to read: those the record graphs name (a superset of the linked ones, whose
    # facts only ``work_facts`` finds), listed from the state on disk, not from the store
    db.execute("CREATE TEMP TABLE IF NOT EXISTS named_work (work TEXT PRIMARY KEY) WITHOUT ROWID")
    with db:
        db.execute("DELETE FROM named_work")
        db.execute("INSERT OR IGNORE INTO named_work SELECT work FROM graph_work")
    last = ""
    while works := [w for (w,) in db.execute(
        "SELECT work FROM named_work WHERE work > ? ORDER BY work LIMIT ?", (last, WORK_SLICE)
    )]:  # fmt: skip
        store = run.writer.store
        rows = [
            (work, kind, value)
            for work in works
            for kind, value in work_facts(store, layout, work, run.open_access)
        ]
        with db:
            db.executemany("INSERT OR IGNORE INTO work_fact VALUES (?, ?, ?)", rows)
        last = works[-1]
        del store
        run.breathe()
    with db:
        db.execute("DELETE FROM named_work")
    last = ""
    while True:  # each work's blocking keys, from its facts, a slice of works at a time
        works = [w for (w,) in db.execute(
            "SELECT DISTINCT work FROM work_fact WHERE work > ? ORDER BY work LIMIT ?", (last, state.SLICE)
        )]  # fmt: skip
        if not works:
            break
        with db:
            for work in works:
                keys = blocking_keys(_work_title(work, state.work_facts(db, work)))
                db.executemany("INSERT INTO work_key VALUES (?, ?, ?)", ((k, key, work) for k, key in keys))
        last = works[-1]
    db.execute(
        "INSERT OR IGNORE INTO todo_block SELECT kind || ? || key FROM work_key GROUP BY kind, key HAVING COUNT(*) >= 2",
        (state.SEPARATOR,),
    )
    set_meta(db, "works", "1")


def _insert_streamed(db: sqlite3.Connection, table: str, rows: Iterable[tuple]) -> None:
    """``rows`` (tuples, or rows of a cursor) into ``table`` of the state, streamed."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        db.commit()
        return
    sql = f"INSERT OR IGNORE INTO {table} VALUES ({','.join('?' * len(first))})"  # noqa: S608 - names of this module
    insert_streamed(db, sql, chain([tuple(first)], (tuple(row) for row in rows)), state.SLICE)


def _work_title(work: str, facts: Set[WorkFact]) -> WorkTitle:
    found = WorkTitle(work, set(), set(), set(), set())
    for kind, value in facts:
        {"source": found.sources, "oa": found.open_access, "title": found.titles, "family": found.families}[kind].add(value)
    return found


# ------------------------------------------------------------------ reading what changed


def _read_changes(run: _Run) -> None:
    """What changed since the last refresh, read again: into the lists of blocks to compare."""
    db, index = run.db, run.writer.session.index.db
    after = ""
    while rows := candidate_changes.noted(index, after, state.SLICE):
        state.add_rows(db, "todo", rows)
        after = rows[-1]
    state.add_rows(db, "todo", sorted(_edits_seen(db, index)))
    tracked = get_meta(db, "works") == "1"
    if not tracked and _has_open_access_works(run):
        _read_all_works(run)  # the first open-access works: every work read once, every block compared
    elif tracked:
        _changed_graphs(run)
    _examine_agents(run, tracked)
    if tracked:
        _examine_works(run)


def _edits_seen(db: sqlite3.Connection, index: sqlite3.Connection) -> set[str]:
    """The writers' unit edits new or gone since the state last looked (``graph.mention_state``),
    noted as seen; returns the resources they are about."""
    subjects, rows, gone = edits_changed(db, index)
    with db:
        db.executemany("INSERT OR REPLACE INTO edit (hash, subjects) VALUES (?, ?)", rows)
        db.executemany("DELETE FROM edit WHERE hash = ?", ((h,) for h in gone))
    return subjects


def _changed_graphs(run: _Run) -> None:
    """The record graphs changed since the manifest: their works, old and new, into ``todo_work``;
    the manifest and each graph's works brought up to date."""
    db, index = run.db, run.writer.session.index.db
    pending: list[tuple[str, str | None, bool]] = []

    def flush() -> None:
        store = run.writer.store
        with db:
            for graph, content_hash, present in pending:
                old = [w for (w,) in db.execute("SELECT work FROM graph_work WHERE graph = ?", (graph,))]
                new = graph_works(store, run.layout, graph) if present else set()
                db.executemany("INSERT OR IGNORE INTO todo_work (work) VALUES (?)", ((w,) for w in {*old, *new}))
                db.execute("DELETE FROM graph_work WHERE graph = ?", (graph,))
                db.executemany("INSERT INTO graph_work VALUES (?, ?)", ((graph, w) for w in new))
                if present:
                    db.execute("INSERT OR REPLACE INTO manifest VALUES (?, ?)", (graph, content_hash))
                else:
                    db.execute("DELETE FROM manifest WHERE graph = ?", (graph,))
        pending.clear()
        del store  # the last reference: a reopen closes it
        run.breathe()

    with db:  # taken out first: the manifest they are compared with is written below
        db.execute("DELETE FROM changed_graph")
        db.executemany("INSERT INTO changed_graph VALUES (?, ?, ?)", changed_graphs(db, index))
    last = ""
    while rows := db.execute(
        "SELECT graph, content_hash, present FROM changed_graph WHERE graph > ? ORDER BY graph LIMIT ?",
        (last, state.SLICE),
    ).fetchall():
        pending.extend((graph, content_hash, bool(present)) for graph, content_hash, present in rows)
        last = rows[-1][0]
        flush()


def _examine_agents(run: _Run, tracked: bool) -> None:
    """Each resource noted: its labels as an agent read and compared with the state's; the blocks
    of its names, old and new, to compare; if they changed and works are tracked, the works it
    is the primary contributor of to read; as a work, itself."""
    db = run.db
    for iris in state.slices(db, "todo"):
        store = run.writer.store
        with db:
            for iri in iris:
                now = run.name_rows(agent_labels(store, run.layout, iri))
                held = state.agent_rows(db, iri)
                if now != held:
                    state.set_agent(db, iri, now)
                    if tracked:
                        state.add_rows(db, "todo_work", sorted(works_of_creator(store, iri)))
                names = {name for _label, name in now | held if name}
                db.executemany("INSERT OR IGNORE INTO todo_block VALUES (?)", ((state.block("agent", n),) for n in names))
        if tracked:
            state.add_rows(db, "todo_work", iris)
        run.examined += len(iris)
        del store
        run.breathe()


def _examine_works(run: _Run) -> None:
    """Each work to read: its facts compared with the state's; the blocks it was and is in to compare."""
    db = run.db
    for works in state.slices(db, "todo_work"):
        store = run.writer.store
        with db:
            for work in works:
                now = work_facts(store, run.layout, work, run.open_access)
                keys = blocking_keys(_work_title(work, now))
                old_keys = state.work_keys(db, work)
                if now != state.work_facts(db, work):
                    state.set_work(db, work, now, keys)
                db.executemany(
                    "INSERT OR IGNORE INTO todo_block VALUES (?)",
                    ((state.block(kind, key),) for kind, key in keys | old_keys),
                )
        run.examined += len(works)
        del store
        run.breathe()


# ------------------------------------------------------------------ comparing, writing


def _compare_blocks(run: _Run) -> int:
    """Each block to compare: its members read from the state, compared, the candidates it
    gives (none of a pair already said to be one) written into ``pair``; returns how many."""
    db, count = run.db, 0
    for names in state.slices(db, "todo_block"):
        store = run.writer.store
        with db:
            for name in names:
                kind, key = name.split(state.SEPARATOR, 1)
                found = _block_candidates(run, kind, key)
                rows = [
                    (*c.pair, c.rule, c.score, "\n".join(c.reasons))
                    for c in found
                    if not said_to_be_one(store, *c.pair)
                ]
                state.set_pairs(db, name, rows)
        count += len(names)
        del store
        run.breathe()
    return count


def _block_candidates(run: _Run, kind: str, key: str) -> list[MatchCandidate]:
    db = run.db
    if kind == "agent":
        if not 2 <= state.agent_block_size(db, key) <= MAX_BLOCK:
            return []
        members = [chosen_heading(agent, labels, run.minted)[key] for agent, labels in state.agent_block(db, key).items()]
        return agent_block_candidates(members)
    if not 2 <= state.work_block_size(db, kind, key) <= MAX_BLOCK:
        return []
    members = [_work_title(work, state.work_facts(db, work)) for work in state.work_block(db, kind, key)]
    return work_block_candidates(members)


def _candidate(first: str, second: str, rule: str, score: float, reasons: str) -> MatchCandidate:
    return MatchCandidate(first, second, rule, score, tuple(reasons.split("\n")) if reasons else ())


def _write(run: _Run, full: bool) -> tuple[int, int]:
    """The graph made to hold ``wanted``: by difference with the whole graph when full, else the
    candidates that differ from ``written`` only."""
    store, layout = run.writer.store, run.layout
    if full:
        return write_candidates(store, layout, [_candidate(*row) for row in state.wanted_rows(run.db)])
    added = removed = 0
    for first, second, found in state.wanted_changes(run.db):
        candidate = None if found is None else _candidate(first, second, *found)
        plus, minus = update_candidate(store, layout, (first, second), candidate)
        added, removed = added + plus, removed + minus
    return added, removed
