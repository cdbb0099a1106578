"""The refresh of the derived graph of mentions: what changed, or everything, examined in slices.

Composition: ``query.mentions`` reads labels and texts and matches them,
``graph.mention_graph`` writes the difference, ``graph.mention_state`` keeps
on disk what the graph was made from, all inside one writing session
(``graph.writer.Writer``: the store's lock, and a checkpoint for readers).

Two ways to find what to examine, one way to examine it:

* **At the end of an ingest or a harvest** (``refresh_after_ingest``): what
  the writer changed since the last refresh, and only that. The record
  graphs written, replaced or dropped (the record index's hashes against
  the manifest the state keeps) name their works and labelled units, old
  and new; the ledger notes the units whose labels, type or deprecation
  entered or left as unit statements (``graph.mention_changes``); the
  writers' unit edits name the resources they changed. The cost follows the
  change, not the store.
* **``catalograph mentions --refresh``**: every unit and every work with
  texts, compared by content with the state, whatever wrote the store
  (SPARQL Update, the Graph Store Protocol and the editor also go through
  the writer, ``graph.updates``: their unit edits and the record graphs
  they mark edited reach the first way too); ``--full`` forgets the state.

Then: each unit examined has its label rows read by pattern and compared
with the state's (a full refresh, which holds none, reads every unit's rows
by pages of one query instead: ``_all_labels``); a label gone sends the works the graph says mention its
unit to be matched again, a pattern added the works whose word tokens
contain all of its words (``work_token``: a match needs every token of the
phrase). The works examined are ``web.mentions_works``'s: matched when
their texts changed or a label sent them, against the patterns whose first
token occurs in their chunk (never a matcher of the whole vocabulary). Any
other work would be matched to the very mentions it has, so the graph
equals a full rebuild (tests/test_mentions.py checks it).

Memory does not grow with the store: the lists of what to examine are
tables on disk, units and works are read a slice at a time by pattern, the
mentions written as they are found, and the memory that reads leave in
RocksDB and spaCy is given back past a headroom (``web.mentions_session``).
An ingest's refresh starts by reopening the store, so that its floor is not
what the ingest's own reads left.

The state is written after the store; a refresh killed midway leaves the
mark ``refreshing`` and the next one is full.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from graph import mention_changes
from graph.mention_graph import mentions_graph, works_mentioning
from graph.mention_state import (
    STATE_FILE,
    WORD_SEPARATOR,
    add_rows,
    changed_graphs,
    clear_all,
    clear_todo,
    edits_changed,
    open_state,
    works_with_words,
)
from graph.refresh_state import get_meta, set_meta, slices
from graph.store import release_freed_memory, resident_memory_mb
from graph.writer import Writer
from ontology.layout import Layout
from query.mentions import (
    GRAPH_LINKS,
    all_units_page,
    deprecated_units,
    graph_links_page,
    graph_units,
    graph_works,
    held_works_page,
    unit_labels,
    unit_labels_page,
    unit_type_count,
    word_tokens,
    works_with_texts_page,
)
from web.mentions_session import RefreshSession
from web.mentions_works import examine_works

#: The state file (kept under its old name: ``graph.mention_state``).
DIGESTS_FILE = STATE_FILE
#: Bumped when matching rules or the state's tables change, so that every work is matched again.
RULES_VERSION = "5"  # 4: each work's mentions recorded (``work_found``): a refresh of an older
# version's state, or of one an older version refreshed since, is full and records them all;
# 5: a record's own nodes are no mention targets (``query.mentions.is_mention_target``)
#: Units or record graphs read between two looks at the memory.
SLICE = 500
#: Changed record graphs read by a scan per predicate when they are at least 1/SCAN_SHARE of all.
SCAN_SHARE = 4
#: Statements a scan of the whole store (``_scan``) reads between two looks at the memory.
SCAN_PAGE = 5_000


@dataclass
class MentionRefresh:
    """What a refresh did (for the command's line, the ingest's summary and the benches)."""

    full: bool
    works_with_text: int
    works_matched: int
    mentions_found: int
    quads_added: int
    quads_removed: int
    labels: int
    seconds_read: float
    seconds_match: float
    seconds_write: float
    #: Why the works matched were matched: texts changed, labels added or gone, everything.
    reason: str = ""
    #: Units and works examined (read), and how often the store was reopened to give memory back.
    units_examined: int = 0
    works_examined: int = 0
    reopened: int = 0

    @property
    def seconds(self) -> float:
        return self.seconds_read + self.seconds_match + self.seconds_write

    def summary(self) -> str:
        how = "rebuilt" if self.full else "updated"
        return (
            f"mentions {how} in {self.seconds:.1f} s (read {self.seconds_read:.1f}, match "
            f"{self.seconds_match:.1f}, write {self.seconds_write:.1f}): {self.works_with_text:,} work(s) with texts, "
            f"{self.works_matched:,} matched against {self.labels:,} label(s), "
            f"{self.mentions_found:,} mention(s) found, {self.quads_added:,} quad(s) added, "
            f"{self.quads_removed:,} removed"
            + (f" ({self.reason})" if self.reason and not self.full else "")
        )


def refresh_mentions(
    writer: Writer, layout: Layout, data_dir: Path, *, full: bool = False, changes_only: bool = False, reopen: bool = False
) -> MentionRefresh:
    """Bring the mentions graph of ``writer``'s store up to date (module docstring):
    ``changes_only``, examine what the writer changed since the last refresh; else every unit
    and work, by content; ``full``, forget what was matched and match everything. ``reopen``:
    reopen the store first (the caller holds no reference to it), so that the memory measured
    as the refresh's floor is not what earlier reads left."""
    with closing(open_state(data_dir)) as db:
        # this connection's commits not synced (WAL: a killed process loses none; a power cut
        # may lose the last ones, which leaves the mark ``refreshing`` or an older state, both
        # redone to the same graph): a sync per slice was most of the refresh's wall time
        db.execute("PRAGMA synchronous=NORMAL")
        started = time.perf_counter()
        killed = get_meta(db, "refreshing") is not None
        full = full or killed or get_meta(db, "rules") != RULES_VERSION
        trusted = not full and get_meta(db, "found") == "1"
        set_meta(db, "state", "stale")  # until the end says what the graph now holds
        set_meta(db, "refreshing", "1")
        if full:
            clear_all(db)
            # nothing in the graph: the record of what it holds (none, just cleared) is whole, and
            # each work's mentions are written without reading its nodes back (a fresh store's)
            trusted = next(writer.store.quads_for_pattern(None, None, None, mentions_graph(layout)), None) is None
        clear_todo(db)
        run = RefreshSession(writer, layout, db, full, trusted)
        if reopen:  # what an ingest's reads left in RocksDB's caches is not the refresh's
            run.give_back()
        else:
            release_freed_memory()
            run.floor = resident_memory_mb() or 0.0
        index = writer.session.index.db
        edits, edit_rows, edits_gone = edits_changed(db, index)
        examine = changes_only and not full
        graphs = _changed_graphs(run, index, examine)
        if examine:
            _noted_units(run, index)
            add_rows(db, "todo_unit", "unit", edits)
            add_rows(db, "todo_work", "work", edits)
        else:  # a scan of the store each, by pages (``_scan``)
            if not full:  # a full refresh reads the units' labels by pages instead (``_all_labels``)
                _scan(run, "todo_unit", "unit", all_units_page, run.layout)
            _scan(run, "todo_work", "work", works_with_texts_page)
            _scan(run, "todo_work", "work", held_works_page, layout)
            add_rows(db, "todo_unit", "unit", (u for (u,) in db.execute("SELECT DISTINCT unit FROM label")))
            add_rows(db, "todo_work", "work", (w for (w,) in db.execute("SELECT work FROM work_text")))
        run.timed("read", started)
        units = _all_labels(run) if full else _examine_units(run)
        lost, formed, forms = _label_works(run)
        done = examine_works(run)
        clock = time.perf_counter()
        with db:
            _settle_graphs(db, graphs)
            db.executemany("INSERT OR REPLACE INTO edit (hash, subjects) VALUES (?, ?)", edit_rows)
            db.executemany("DELETE FROM edit WHERE hash = ?", ((h,) for h in edits_gone))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('rules', ?)", (RULES_VERSION,))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('state', 'clean')")
            if full:  # every work with mentions or texts matched: their record is whole
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('found', '1')")
            db.execute("DELETE FROM meta WHERE key = 'refreshing'")
        mention_changes.forget(index, None)
        if done["added"] or done["removed"]:
            writer.session.changed = True
        clear_todo(db)
        run.timed("write", clock)
        with_text = db.execute("SELECT COUNT(*) FROM work_text").fetchone()[0]
        labels = db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT form, exact FROM pattern)").fetchone()[0]
        run._patterns = run._nlp = None  # the cache's function refers to the run: no cycle left
    reasons = [f"{done['texts']:,} with new texts"] if done["texts"] else []
    if lost:
        reasons.append(f"{lost:,} mentioning a unit that lost a label")
    if forms:
        reasons.append(f"{formed:,} containing one of {forms:,} new label form(s)")
    return MentionRefresh(
        full, with_text, done["matched"], done["mentions"], done["added"], done["removed"], labels,
        run.clock["read"], run.clock["match"], run.clock["write"],
        "everything" if full else "; ".join(reasons) or "nothing changed",
        units, done["examined"], run.reopened,
    )  # fmt: skip


def _changed_graphs(run: RefreshSession, index: sqlite3.Connection, examine: bool) -> str:
    """The record graphs changed since the manifest, into the temp table ``graph_now`` with the
    works and units they name now (read graph by graph, or by one scan per link when most graphs
    changed: ``query.mentions.graph_links_page``, by pages); when ``examine``, their works and units,
    old and new, into the lists to examine (a refresh of everything has them already). Returns the table's name (``_settle_graphs`` writes it into the manifest)."""
    db = run.db
    rows = ((graph, content_hash, int(present)) for graph, content_hash, present in changed_graphs(db, index))
    add_rows(db, "graph_now", "graph, content_hash, present", rows)
    changed = db.execute("SELECT COUNT(*) FROM graph_now WHERE present = 1").fetchone()[0]
    total = index.execute("SELECT COUNT(*) FROM record_graph").fetchone()[0]
    if changed * SCAN_SHARE >= total:  # most graphs: one scan per link beats seven seeks per graph
        for kind, predicate, value in GRAPH_LINKS:
            _scan(run, "graph_link", "graph, iri", graph_links_page, run.layout, kind, predicate, value)
            table = "graph_now_unit" if kind == "unit" else "graph_now_work"
            db.execute(
                f"INSERT OR IGNORE INTO {table} SELECT l.graph, l.iri FROM graph_link l "  # noqa: S608 - our names
                "JOIN graph_now g ON g.graph = l.graph AND g.present = 1"
            )
            db.execute("DELETE FROM graph_link")
            db.commit()
            run.breathe()
    else:
        for graphs in slices(db, "SELECT graph FROM graph_now WHERE present = 1 AND graph > ? ORDER BY graph LIMIT ?", SLICE):
            store = run.writer.store
            for graph in graphs:
                db.executemany("INSERT OR IGNORE INTO graph_now_work VALUES (?, ?)", ((graph, w) for w in graph_works(store, graph)))
                db.executemany("INSERT OR IGNORE INTO graph_now_unit VALUES (?, ?)", ((graph, u) for u in graph_units(store, run.layout, graph)))
            db.commit()
            del store  # the last reference: a reopen closes it
            run.breathe()
    if examine:
        for todo, column, table, old in (
            ("todo_work", "work", "graph_now_work", "graph_work"),
            ("todo_unit", "unit", "graph_now_unit", "graph_unit"),
        ):
            db.execute(f"INSERT OR IGNORE INTO {todo} ({column}) SELECT {column} FROM {table}")  # noqa: S608
            db.execute(
                f"INSERT OR IGNORE INTO {todo} ({column}) SELECT {column} FROM {old} "  # noqa: S608
                "WHERE graph IN (SELECT graph FROM graph_now)"
            )
        db.commit()
    return "graph_now"


def _scan(run: RefreshSession, table: str, column: str, page: Callable[..., tuple[list, bool]], *args: object) -> None:
    """A scan of the whole store into one of the refresh's lists, ``SCAN_PAGE`` statements at a
    time (``page(store, *args, offset, size)``: the rows and whether more follow), the store let breathe
    between pages: one scan in one go decoded every row it read, and RocksDB's caches held them
    until the store was closed (+105-110 MB each at the x40 open-access ingest). Nothing is
    written to the store meanwhile, so each page's query lists the rows in the same order."""
    offset, more = 0, True
    while more:
        store = run.writer.store
        rows, more = page(store, *args, offset, SCAN_PAGE)
        add_rows(run.db, table, column, rows)
        run.db.commit()
        offset += SCAN_PAGE
        del store, rows  # the last reference: a reopen closes it
        run.breathe()


def _settle_graphs(db: sqlite3.Connection, _table: str) -> None:
    """The changed graphs' rows written into the manifest (inside the caller's transaction)."""
    db.execute("DELETE FROM graph_work WHERE graph IN (SELECT graph FROM graph_now)")
    db.execute("DELETE FROM graph_unit WHERE graph IN (SELECT graph FROM graph_now)")
    db.execute("INSERT OR IGNORE INTO graph_work SELECT graph, work FROM graph_now_work")
    db.execute("INSERT OR IGNORE INTO graph_unit SELECT graph, unit FROM graph_now_unit")
    db.execute("DELETE FROM manifest WHERE graph IN (SELECT graph FROM graph_now WHERE present = 0)")
    db.execute(
        "INSERT OR REPLACE INTO manifest SELECT graph, content_hash FROM graph_now WHERE present = 1"
    )


def _noted_units(run: RefreshSession, index: sqlite3.Connection) -> None:
    """The units the ledger noted (``graph.mention_changes.mention_subjects``), into ``todo_unit``."""
    after = ""
    while rows := mention_changes.noted(index, after, SLICE):
        add_rows(run.db, "todo_unit", "unit", rows)
        after = rows[-1]


def _examine_units(run: RefreshSession) -> int:
    """Each unit to examine: its label rows read and compared with the state's; the patterns of
    rows gone deleted (their unit into ``lost_unit``), of rows new inserted (into ``new_form``).
    The state's rows of a slice are read by one range (``label``'s key starts with the unit) and
    written by one statement per kind of row: a statement per row cost more than the reads."""
    db, count = run.db, 0
    for units in slices(db, "SELECT unit FROM todo_unit WHERE unit > ? ORDER BY unit LIMIT ?", SLICE):
        clock = time.perf_counter()
        store = run.writer.store
        held_of: dict[str, set[tuple[str, str]]] = {unit: set() for unit in units}
        for unit, kind, label in db.execute(
            "SELECT unit, kind, label FROM label WHERE unit >= ? AND unit <= ?", (units[0], units[-1])
        ):
            if unit in held_of:
                held_of[unit].add((kind, label))
        changes = []
        for unit in units:
            now = unit_labels(store, run.layout, unit)
            held = held_of[unit]
            if now != held:
                changes.append((unit, now - held, held - now))
        count += len(units)
        del store, held_of  # the last reference: a reopen closes it
        run.timed("read", clock)
        clock = time.perf_counter()
        gone = [(unit, kind, label) for unit, _added, removed in changes for kind, label in removed]
        new = [(unit, kind, label) for unit, added, _removed in changes for kind, label in added]
        patterns = _pattern_rows(run, new)
        with db:
            db.executemany("DELETE FROM label WHERE unit = ? AND kind = ? AND label = ?", gone)
            db.executemany("DELETE FROM pattern WHERE unit = ? AND kind = ? AND label = ?", gone)
            db.executemany(
                "INSERT OR IGNORE INTO lost_unit (unit) VALUES (?)", ((unit,) for unit, _a, removed in changes if removed)
            )
            _insert_labels(db, new, patterns)
            if not run.full:
                db.executemany(
                    "INSERT OR IGNORE INTO new_form VALUES (?, ?, ?)", ((row[1], row[2], row[3]) for row in patterns)
                )
        run.timed("write", clock)
        run.breathe()
    return count


def _pattern_rows(run: RefreshSession, labels: list[tuple[str, str, str]]) -> list[tuple]:
    """The ``pattern`` rows of new ``(unit, kind, label)`` rows: one per form of the label
    (``RefreshSession.patterns``), keyed by its first word, lower-cased."""
    return [
        (words[0].lower(), form, int(exact), WORD_SEPARATOR.join(words), unit, kind, label)
        for unit, kind, label in labels
        for form, exact, words in run.patterns(kind, label)
    ]


def _insert_labels(db: sqlite3.Connection, labels: list[tuple[str, str, str]], patterns: list[tuple]) -> None:
    """New label rows and their patterns into the state (inside the caller's transaction)."""
    db.executemany("INSERT OR IGNORE INTO label VALUES (?, ?, ?)", labels)
    db.executemany("INSERT OR IGNORE INTO pattern VALUES (?, ?, ?, ?, ?, ?, ?)", patterns)


def _all_labels(run: RefreshSession) -> int:
    """A full refresh's units (the state forgotten: every label row is new): the label rows of
    every unit the store types, read by pages of its type statements (``unit_labels_page``, the
    store let breathe between pages), written with their patterns. What ``_examine_units`` does
    with every unit listed by ``all_units_page`` and nothing held, without a scan of each unit's
    statements: that decoded every term of every statement in Python, this query only the
    labels and the units that have one. Returns the units with a label."""
    db = run.db
    deprecated = deprecated_units(run.writer.store)
    for offset in range(0, unit_type_count(run.writer.store), SCAN_PAGE):
        clock = time.perf_counter()
        store = run.writer.store
        # by label: the units that share one come together, tokenized once (``RefreshSession.patterns``)
        new = sorted(unit_labels_page(store, run.layout, offset, SCAN_PAGE, deprecated), key=lambda row: (row[1], row[2], row[0]))
        del store  # the last reference: a reopen closes it
        run.timed("read", clock)
        clock = time.perf_counter()
        patterns = _pattern_rows(run, new)
        new.sort()  # in the order of the tables' keys: inserts in key order cost half as much (measured)
        patterns.sort()
        with db:
            _insert_labels(db, new, patterns)
        run.timed("write", clock)
        run.breathe()
    return db.execute("SELECT COUNT(DISTINCT unit) FROM label").fetchone()[0]


def _label_works(run: RefreshSession) -> tuple[int, int, int]:
    """The works a changed label may concern, into ``rematch``: those the graph says mention a
    unit that lost a label, those whose word tokens hold every word of a new pattern. Returns
    how many of each, and how many new patterns."""
    db, lost, formed = run.db, 0, 0
    clock = time.perf_counter()
    if run.full:
        return 0, 0, 0
    for units in slices(db, "SELECT unit FROM lost_unit WHERE unit > ? ORDER BY unit LIMIT ?", SLICE):
        works = works_mentioning(run.writer.store, run.layout, units)
        lost += len(works)
        add_rows(db, "rematch", "work", sorted(works))
    before = db.execute("SELECT COUNT(*) FROM rematch").fetchone()[0]
    forms = 0
    for (joined,) in db.execute("SELECT DISTINCT words FROM new_form").fetchall():
        forms += 1
        works_with_words(db, word_tokens(w.lower() for w in joined.split(WORD_SEPARATOR)))
    db.commit()
    formed = db.execute("SELECT COUNT(*) FROM rematch").fetchone()[0] - before
    run.timed("read", clock)
    return lost, formed, forms
