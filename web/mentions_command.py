"""``catalograph mentions --refresh [--full]``: bring the derived graph of mentions up to date.

Composition: ``query.mentions`` reads the labels and texts and matches them,
``graph.mention_graph`` writes the difference, inside one writing session
(``graph.writer.Writer``: the store's lock, and a checkpoint for readers).

Incremental by content, not by change log: a small SQLite file
(``mentions.sqlite`` in the data directory) keeps a digest of each work's
texts and the label rows (unit, kind, label) the graph was matched with. A
refresh matches again only the works it must, whatever wrote the store (an
ingest, a harvest, a SPARQL Update, the Graph Store Protocol):

* those whose texts changed, appeared or went;
* for a label gone (a concept renamed, a unit deleted): the works the graph
  says mention its unit (a mention can only come or go where it was);
* for a label added: the works whose texts contain its form once white
  space is taken out (``query.mentions.may_mention``, a substring test that
  no match can escape, since tokens cover every character but white space).

That is exact: any other work would be matched to the very mentions it has
(a longest match that a new label could hide contains that label). The
matcher is built only when some work is matched. The file is written after
the store: a refresh killed in between sees the same differences next time,
which write nothing new.

``refresh_after_ingest`` is the call at the end of ``catalograph ingest``
and ``catalograph harvest`` (``web.ingest_command.ingest_items``): skipped,
with no read at all, when the run wrote and deleted nothing, unless
``mark_stale``, called before the run's first write, found that an earlier
run was killed before its refresh ended (its records would now all be
unchanged, and its mentions never made).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from graph.mention_graph import held_works, works_mentioning, write_mentions
from graph.writer import Writer
from ingest import PIPELINE_VERSION
from ontology.layout import Layout
from query.mentions import (
    build_matcher,
    label_forms,
    may_mention,
    read_labels,
    text_rows,
    work_texts,
)
from web.config import Settings

DIGESTS_FILE = "mentions.sqlite"
#: Bumped when matching rules change, so that every work is matched again.
RULES_VERSION = "2"
#: Added label forms times works with texts, at most, for the substring test that picks the
#: works a new label may be in (``query.mentions.may_mention``); beyond it every work is
#: matched again, which then costs about as much (some 10 M substring tests a second).
PREFILTER_BUDGET = 20_000_000
#: Works matched and written at once: a refresh holds their texts and mentions, not every work's.
CHUNK_WORKS = 100


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


def _row_hash(field_name: str, text: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{field_name}\t{text}".encode(), digest_size=16).digest(), "big")


def _open_digests(data_dir: Path) -> sqlite3.Connection:
    db = sqlite3.connect(data_dir / DIGESTS_FILE)
    db.execute("CREATE TABLE IF NOT EXISTS work_text (work TEXT PRIMARY KEY, digest TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS label (unit TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, "
        "PRIMARY KEY (unit, kind, label)) WITHOUT ROWID"
    )
    return db


@dataclass
class _Plan:
    """What a refresh matches, found in one streaming pass over the texts."""

    digests: dict[str, str]
    todo: set[str]
    gone: set[str]
    reason: str


def _plan(
    store, layout: Layout, held: dict[str, str], full: bool,
    added: set[tuple[str, str, str]], removed: set[tuple[str, str, str]],
) -> _Plan:  # fmt: skip
    """Each work's digest (a sum of its rows' hashes: no text kept), and the works to match:
    every one when ``full``; else those whose texts changed, those that mention a unit that
    lost a label, and those with a text that contains (squashed) a new label, or every one
    when that test would cost more than matching."""
    forms = {form for _u, kind, label in added for form in label_forms(label, kind)[0]} if not full else set()
    test = bool(forms) and len(forms) * max(len(held), 1) <= PREFILTER_BUDGET
    sums: dict[str, int] = defaultdict(int)
    hits: set[str] = set()
    for work, field_name, text in text_rows(store):
        sums[work] = (sums[work] + _row_hash(field_name, text)) % (1 << 128)
        if test and work not in hits and may_mention([(field_name, text)], forms):
            hits.add(work)
    digests = {work: f"{total:032x}" for work, total in sums.items()}
    gone = (set(held) | held_works(store, layout)) - set(digests)
    if full:
        return _Plan(digests, set(digests), gone, "everything")
    if forms and not test:
        return _Plan(digests, set(digests), gone, f"{len(forms):,} new label forms: every work")
    todo = {work for work, digest in digests.items() if held.get(work) != digest}
    reasons = [f"{len(todo):,} with new texts"] if todo else []
    if removed:
        lost = works_mentioning(store, layout, {unit for unit, _k, _l in removed}) & set(digests)
        todo |= lost
        reasons.append(f"{len(lost):,} mentioning a unit that lost a label")
    if forms:
        todo |= hits
        reasons.append(f"{len(hits):,} containing one of {len(forms):,} new label form(s)")
    return _Plan(digests, todo, gone, "; ".join(reasons) or "nothing changed")


def refresh_mentions(
    writer: Writer, layout: Layout, data_dir: Path, *, full: bool = False, release: bool = False
) -> MentionRefresh:
    """Match the works whose texts changed, or that a changed label can concern, and write
    their mentions (the module docstring says why this is exact), ``CHUNK_WORKS`` at a time.

    ``release``: give memory back as it goes (``Writer.release_memory``, and past the writer's
    budget between chunks), for a caller that holds no reference to the writer's store.
    RocksDB keeps what a read brought in (up to its 128 MB cache of terms, and the tables'
    indexes) until the store is closed: reading the labels and texts, then each chunk's
    texts and mentions, would otherwise pile up on the matcher and on each other."""
    if release:
        writer.release_memory()  # what the steps before left (at the end of an ingest: the other refreshes)
    store = writer.store
    started = time.perf_counter()
    labels = set(read_labels(store))
    with closing(_open_digests(data_dir)) as db:
        _set_state(db, "stale")  # until the digests below say what the graph now holds
        held = dict(db.execute("SELECT work, digest FROM work_text"))
        row = db.execute("SELECT value FROM meta WHERE key = 'rules'").fetchone()
        full = full or row is None or row[0] != RULES_VERSION
        if full:
            added, removed = labels, None
        else:
            held_labels = set(db.execute("SELECT unit, kind, label FROM label"))
            added, removed = labels - held_labels, held_labels - labels
            del held_labels
        plan = _plan(store, layout, held, full, added, removed or set())
        del held
        # the labels wait on disk (a temporary table) while the works are matched, not in memory
        db.execute("CREATE TEMP TABLE IF NOT EXISTS label_now (unit TEXT, kind TEXT, label TEXT)")
        db.execute("DELETE FROM label_now")
        db.executemany("INSERT INTO label_now (unit, kind, label) VALUES (?, ?, ?)", labels)
        del labels
        if full:
            added = set()  # every label goes in from label_now at the end
        if release:
            del store  # the last reference must go for the store to close
            writer.release_memory()  # RocksDB's blocks of every label and text read, before the matcher
            store = writer.store
        read_seconds = time.perf_counter() - started
        match_seconds = write_seconds = 0.0
        matcher = (
            build_matcher(db.execute("SELECT unit, kind, label FROM label_now")) if plan.todo else None
        )
        count = added_quads = removed_quads = 0
        todo = sorted(plan.todo)
        for start in range(0, len(todo), CHUNK_WORKS):
            clock = time.perf_counter()
            found = {}
            for work in todo[start : start + CHUNK_WORKS]:
                mentions = matcher.mentions(work_texts(store, work))
                found[work] = [(m.unit, m.field, m.count) for m in mentions]
                count += len(mentions)
            match_seconds += time.perf_counter() - clock
            clock = time.perf_counter()
            plus, minus = write_mentions(store, layout, found)
            added_quads, removed_quads = added_quads + plus, removed_quads + minus
            with db:  # after the store: a kill in between matches these again, to the same result
                db.executemany(
                    "INSERT OR REPLACE INTO work_text (work, digest) VALUES (?, ?)",
                    ((w, plan.digests[w]) for w in found),
                )
            write_seconds += time.perf_counter() - clock
            if release:  # each chunk reads other works' texts and mentions: past the budget, reopened
                del store
                writer.keep_within_budget()
                store = writer.store
        clock = time.perf_counter()
        plus, minus = write_mentions(store, layout, {}, plan.gone)
        added_quads, removed_quads = added_quads + plus, removed_quads + minus
        if added_quads or removed_quads:
            writer.session.changed = True
        with db:
            db.executemany("DELETE FROM work_text WHERE work = ?", ((w,) for w in plan.gone))
            if removed is None:
                db.execute("DELETE FROM label")
                db.execute("INSERT OR IGNORE INTO label (unit, kind, label) SELECT unit, kind, label FROM label_now")
            else:
                db.executemany("DELETE FROM label WHERE unit = ? AND kind = ? AND label = ?", removed)
            db.executemany("INSERT OR IGNORE INTO label (unit, kind, label) VALUES (?, ?, ?)", added)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('rules', ?)", (RULES_VERSION,))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('state', 'clean')")
        write_seconds += time.perf_counter() - clock
    return MentionRefresh(
        full, len(plan.digests), len(todo), count, added_quads, removed_quads,
        matcher.labels if matcher else 0, read_seconds, match_seconds, write_seconds, plan.reason,
    )  # fmt: skip


def _set_state(db: sqlite3.Connection, state: str) -> None:
    with db:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('state', ?)", (state,))


def mark_stale(data_dir: Path) -> bool:
    """Say, before an ingest writes anything, that the mentions may lag the store; returns
    whether they already did (a refresh or an ingest killed before its refresh ended).

    The mark stays if the process is killed, so the next ingest refreshes even if it finds
    every record unchanged; ``refresh_after_ingest`` takes it off.
    """
    with closing(_open_digests(data_dir)) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'state'").fetchone()
        _set_state(db, "stale")
    return row is not None and row[0] != "clean"


def refresh_after_ingest(writer: Writer, layout: Layout, data_dir: Path, changed: bool) -> MentionRefresh | None:
    """The mentions brought up to date at the end of an ingest or a harvest that ``changed``
    the store (records written or deleted, or an earlier run stopped before its refresh:
    ``mark_stale``); when it did not, no read at all, the mark taken off."""
    if changed:
        return refresh_mentions(writer, layout, data_dir, release=True)
    with closing(_open_digests(data_dir)) as db:
        _set_state(db, "clean")
    return None


def run_mentions_command(settings: Settings, *, full: bool) -> str:
    """Refresh the mentions of the live store in a writing session of its own."""
    layout = Layout(settings.base_iri)
    with Writer(settings.data_dir, layout, PIPELINE_VERSION) as writer:
        done = refresh_mentions(writer, layout, settings.data_dir, full=full, release=True)
    return done.summary()
