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
with the state's; a label gone sends the works the graph says mention its
unit to be matched again, a pattern added the works whose word tokens
contain all of its words (``work_token``: a match needs every token of the
phrase). Each work examined has its texts read; it is matched when they
changed or a label sent it, against the patterns whose first token occurs
in its chunk of ``CHUNK_WORKS`` works (never a matcher of the whole
vocabulary). Any other work would be matched to the very mentions it has,
so the graph equals a full rebuild (tests/test_mentions.py checks it).

Memory does not grow with the store: the lists of what to examine are
tables on disk, units and works are read a slice at a time by pattern, and
between slices the store is reopened when the process has grown by
``MEMORY_HEADROOM_MB`` (RocksDB keeps the index and filter blocks of every
table it reads until it is closed: ``graph.store.StoreSession.reopen``) and
spaCy's tokenizer replaced by a fresh one (its vocabulary keeps every token
it has seen: ``_Run.breathe``).

The state is written after the store; a refresh killed midway leaves the
mark ``refreshing`` and the next one is full.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from graph import mention_changes
from graph.mention_graph import held_works, works_mentioning, write_mentions
from graph.mention_state import (
    STATE_FILE,
    WORD_SEPARATOR,
    add_rows,
    changed_graphs,
    clear_all,
    clear_todo,
    edits_changed,
    joined_tokens,
    open_state,
    recalled_text,
    remember_text,
    set_work,
    text_seen,
    works_with_words,
)
from graph.refresh_state import get_meta, set_meta, slices
from graph.store import release_freed_memory, resident_memory_mb
from graph.writer import Writer
from ontology.layout import Layout
from query.mentions import (
    GRAPH_LINKS,
    MentionMatcher,
    all_units,
    blank_pipeline,
    doc_tokens,
    graph_links,
    graph_units,
    graph_works,
    label_patterns,
    pattern_matcher,
    text_docs,
    unit_labels,
    word_tokens,
    work_texts,
    works_with_texts,
)

#: The state file (kept under its old name: ``graph.mention_state``).
DIGESTS_FILE = STATE_FILE
#: Bumped when matching rules or the state's tables change, so that every work is matched again.
RULES_VERSION = "3"
#: Works matched and written at once: a refresh holds their texts and mentions, not every work's.
CHUNK_WORKS = 500
#: Works read between two looks at the memory.
READ_WORKS = 100
#: Units or record graphs read between two looks at the memory.
SLICE = 500
#: Labels whose patterns a refresh keeps tokenized (many units share a label: local agents).
PATTERN_CACHE = 5_000
#: Changed record graphs read by a scan per predicate when they are at least 1/SCAN_SHARE of all.
SCAN_SHARE = 4
#: Growth of the process (MB) past which the store is reopened between slices.
MEMORY_HEADROOM_MB = 48.0


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


def _digest(texts: Iterable[tuple[str, str]]) -> str:
    return hashlib.blake2b("\n".join(f"{f}\t{t}" for f, t in texts).encode(), digest_size=16).hexdigest()


@dataclass
class _Run:
    """One refresh's session: the writer, the state, and what it counted."""

    writer: Writer
    layout: Layout
    db: sqlite3.Connection
    full: bool
    _nlp: object = None
    floor: float = 0.0
    reopened: int = 0
    _patterns: Callable | None = None
    clock: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "match": 0.0, "write": 0.0})

    def breathe(self) -> None:
        """Between slices: give back what the reads held once the process grew past its headroom
        (no garbage collection first: it costs half a second with spaCy loaded, and this code
        keeps no reference to the store or to the tokenizer across slices).

        Two things grow: RocksDB's blocks, given back by reopening the store, and spaCy's
        vocabulary, which keeps every distinct token it has seen (a lexeme, its string and the
        tokenizer's cache entry: 135 MB for 300,000 new words, measured) and is given back by
        starting a fresh tokenizer (20 ms; it tokenizes the same way, and pattern keys are
        hashes of their names, the same in any vocabulary)."""
        if (resident_memory_mb() or 0.0) > self.floor + MEMORY_HEADROOM_MB:
            self._nlp = None
            self.give_back()
            self.reopened += 1

    def give_back(self) -> None:
        """Reopen the store and hand freed pages back; what is left is the refresh's floor."""
        release_freed_memory()
        self.writer.session.reopen()
        self.floor = resident_memory_mb() or self.floor

    @property
    def nlp(self) -> object:
        """spaCy's tokenizer, loaded when first needed (its import costs a second or two, and a
        refresh with nothing to read or match needs none), and again after ``breathe``."""
        if self._nlp is None:
            self._nlp = blank_pipeline()
        return self._nlp

    def patterns(self, kind: str, label: str) -> list[tuple[str, bool, tuple[str, ...]]]:
        """``label_patterns``, each form tokenized once per refresh (many units share a label;
        the cache outlives a tokenizer ``breathe`` drops: its rows are plain strings)."""
        if self._patterns is None:
            self._patterns = lru_cache(maxsize=PATTERN_CACHE)(lambda k, text: label_patterns(self.nlp, k, text))
        return self._patterns(kind, label)

    def timed(self, part: str, started: float) -> None:
        self.clock[part] += time.perf_counter() - started


def refresh_mentions(
    writer: Writer, layout: Layout, data_dir: Path, *, full: bool = False, changes_only: bool = False
) -> MentionRefresh:
    """Bring the mentions graph of ``writer``'s store up to date (module docstring):
    ``changes_only``, examine what the writer changed since the last refresh; else every unit
    and work, by content; ``full``, forget what was matched and match everything."""
    with closing(open_state(data_dir)) as db:
        # this connection's commits not synced (WAL: a killed process loses none; a power cut
        # may lose the last ones, which leaves the mark ``refreshing`` or an older state, both
        # redone to the same graph): a sync per slice was most of the refresh's wall time
        db.execute("PRAGMA synchronous=NORMAL")
        started = time.perf_counter()
        killed = get_meta(db, "refreshing") is not None
        full = full or killed or get_meta(db, "rules") != RULES_VERSION
        set_meta(db, "state", "stale")  # until the end says what the graph now holds
        set_meta(db, "refreshing", "1")
        if full:
            clear_all(db)
        clear_todo(db)
        run = _Run(writer, layout, db, full)
        run.give_back()  # what the ingest's reads left in RocksDB's caches is not the refresh's
        index = writer.session.index.db
        edits, edit_rows, edits_gone = edits_changed(db, index)
        examine = changes_only and not full
        graphs = _changed_graphs(run, index, examine)
        if examine:
            _noted_units(run, index)
            add_rows(db, "todo_unit", "unit", edits)
            add_rows(db, "todo_work", "work", edits)
        else:
            add_rows(db, "todo_unit", "unit", all_units(writer.store))
            add_rows(db, "todo_unit", "unit", (u for (u,) in db.execute("SELECT DISTINCT unit FROM label")))
            add_rows(db, "todo_work", "work", works_with_texts(writer.store))
            add_rows(db, "todo_work", "work", (w for (w,) in db.execute("SELECT work FROM work_text")))
            add_rows(db, "todo_work", "work", held_works(writer.store, layout))
        run.timed("read", started)
        units = _examine_units(run)
        lost, formed, forms = _label_works(run)
        done = _examine_works(run)
        clock = time.perf_counter()
        with db:
            _settle_graphs(db, graphs)
            db.executemany("INSERT OR REPLACE INTO edit (hash, subjects) VALUES (?, ?)", edit_rows)
            db.executemany("DELETE FROM edit WHERE hash = ?", ((h,) for h in edits_gone))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('rules', ?)", (RULES_VERSION,))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('state', 'clean')")
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


def _changed_graphs(run: _Run, index: sqlite3.Connection, examine: bool) -> str:
    """The record graphs changed since the manifest, into the temp table ``graph_now`` with the
    works and units they name now (read graph by graph, or by one scan per link when most graphs
    changed: ``query.mentions.graph_links``); when ``examine``, their works and units,
    old and new, into the lists to examine (a refresh of everything has them already). Returns the table's name (``_settle_graphs`` writes it into the manifest)."""
    db = run.db
    rows = ((graph, content_hash, int(present)) for graph, content_hash, present in changed_graphs(db, index))
    add_rows(db, "graph_now", "graph, content_hash, present", rows)
    changed = db.execute("SELECT COUNT(*) FROM graph_now WHERE present = 1").fetchone()[0]
    total = index.execute("SELECT COUNT(*) FROM record_graph").fetchone()[0]
    if changed * SCAN_SHARE >= total:  # most graphs: one scan per link beats seven seeks per graph
        for kind, predicate, value in GRAPH_LINKS:
            add_rows(db, "graph_link", "graph, iri", graph_links(run.writer.store, kind, predicate, value))
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
                db.executemany("INSERT OR IGNORE INTO graph_now_unit VALUES (?, ?)", ((graph, u) for u in graph_units(store, graph)))
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


def _noted_units(run: _Run, index: sqlite3.Connection) -> None:
    """The units the ledger noted (``graph.mention_changes.mention_subjects``), into ``todo_unit``."""
    after = ""
    while rows := mention_changes.noted(index, after, SLICE):
        add_rows(run.db, "todo_unit", "unit", rows)
        after = rows[-1]


def _examine_units(run: _Run) -> int:
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
            now = unit_labels(store, unit)
            held = held_of[unit]
            if now != held:
                changes.append((unit, now - held, held - now))
        count += len(units)
        del store, held_of  # the last reference: a reopen closes it
        run.timed("read", clock)
        clock = time.perf_counter()
        gone = [(unit, kind, label) for unit, _added, removed in changes for kind, label in removed]
        new = [(unit, kind, label) for unit, added, _removed in changes for kind, label in added]
        patterns = [
            (words[0].lower(), form, int(exact), WORD_SEPARATOR.join(words), unit, kind, label)
            for unit, kind, label in new
            for form, exact, words in run.patterns(kind, label)
        ]
        with db:
            db.executemany("DELETE FROM label WHERE unit = ? AND kind = ? AND label = ?", gone)
            db.executemany("DELETE FROM pattern WHERE unit = ? AND kind = ? AND label = ?", gone)
            db.executemany(
                "INSERT OR IGNORE INTO lost_unit (unit) VALUES (?)", ((unit,) for unit, _a, removed in changes if removed)
            )
            db.executemany("INSERT OR IGNORE INTO label VALUES (?, ?, ?)", new)
            db.executemany("INSERT OR IGNORE INTO pattern VALUES (?, ?, ?, ?, ?, ?, ?)", patterns)
            if not run.full:
                db.executemany(
                    "INSERT OR IGNORE INTO new_form VALUES (?, ?, ?)", ((row[1], row[2], row[3]) for row in patterns)
                )
        run.timed("write", clock)
        run.breathe()
    return count


def _label_works(run: _Run) -> tuple[int, int, int]:
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


def _examine_works(run: _Run) -> dict[str, int]:
    """Each work to examine, ``CHUNK_WORKS`` at a time: its texts read, matched if they changed
    (or a label sent it, or the refresh is full), its mentions, digest and tokens written."""
    db, layout = run.db, run.layout
    done = {"examined": 0, "matched": 0, "texts": 0, "mentions": 0, "added": 0, "removed": 0}
    sql = (
        "SELECT work FROM (SELECT work FROM todo_work UNION SELECT work FROM rematch) "
        "WHERE work > ? ORDER BY work LIMIT ?"
    )
    for works in slices(db, sql, CHUNK_WORKS):
        clock = time.perf_counter()
        store = run.writer.store
        todo: dict[str, list[str]] = {}  # digest of texts -> the works that have them
        texts_of: dict[str, list[tuple[str, str]]] = {}  # digest -> texts not matched yet
        tokens: set[str] = set()  # their lower-cased tokens
        for number, work in enumerate(works, 1):
            texts = work_texts(store, work)
            digest = _digest(texts) if texts else ""
            held = db.execute("SELECT digest FROM work_text WHERE work = ?", (work,)).fetchone()
            changed = (held[0] if held else "") != digest
            sent = db.execute("SELECT 1 FROM rematch WHERE work = ?", (work,)).fetchone() is not None
            if run.full or changed or sent:
                todo.setdefault(digest, []).append(work)
                if digest and digest not in texts_of and not text_seen(db, digest):
                    texts_of[digest] = texts
                    tokens.update(doc_tokens(text_docs(run.nlp, texts)))  # tokenized again to match
                done["texts"] += changed and not run.full
            if number % READ_WORKS == 0:  # RocksDB's cache of the terms decoded grows meanwhile
                del store
                run.breathe()
                store = run.writer.store
        done["matched"] += sum(len(found) for digest, found in todo.items() if digest)
        done["examined"] += len(works)
        del store
        run.timed("read", clock)
        clock = time.perf_counter()
        matcher = _chunk_matcher(run, tokens)
        run.timed("match", clock)
        pending = _matched(run, matcher, todo, texts_of, done)
        more = True
        while more:
            clock = time.perf_counter()
            store = run.writer.store
            plus, minus, more = write_mentions(store, layout, pending, pause=True)
            done["added"] += plus
            done["removed"] += minus
            db.commit()  # the works' state after the store: a kill in between matches them again, alike
            del store
            run.timed("write", clock)
            run.breathe()
    return done


def _matched(
    run: _Run, matcher: MentionMatcher, todo: dict[str, list[str]], texts_of: dict, done: dict[str, int]
) -> Iterator[tuple[str, list[tuple[str, str, int]]]]:
    """Each work of ``todo`` (digest of texts -> works) and its mentions, as ``write_mentions``
    asks for them: texts are tokenized and matched once per refresh (``remember_text``), one at
    a time, so that a chunk holds neither every text's tokens nor every work's mentions. Each
    work's state is written (uncommitted: the store comes first)."""
    db = run.db
    for digest, works in todo.items():
        clock = time.perf_counter()
        texts = texts_of.pop(digest, None)
        if texts is not None:
            docs = text_docs(run.nlp, texts)
            found = [(m.unit, m.field, m.count) for m in matcher.mentions_in(docs)]
            tokens = joined_tokens(word_tokens(doc_tokens(docs)))
            remember_text(db, digest, found, tokens)
            del docs
        else:
            found, tokens = recalled_text(db, digest) or ([], "")
        run.timed("match", clock)
        for work in works:
            set_work(db, work, digest, tokens)
            done["mentions"] += len(found)
            yield work, found


def _chunk_matcher(run: _Run, tokens: set[str]) -> MentionMatcher:
    """The matcher of a chunk's texts: the patterns whose first token is one of their ``tokens``."""
    db = run.db
    with db:
        db.execute("DELETE FROM chunk_token")
        db.executemany("INSERT OR IGNORE INTO chunk_token (token) VALUES (?)", ((t,) for t in tokens))
    rows = db.execute(
        "SELECT p.form, p.exact, p.words, p.unit FROM pattern p JOIN chunk_token c ON p.first = c.token"
    )
    return pattern_matcher(
        run.nlp, ((form, bool(exact), tuple(words.split(WORD_SEPARATOR)), unit) for form, exact, words, unit in rows)
    )
