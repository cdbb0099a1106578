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
with no read at all, when the run wrote and deleted nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from graph.mention_graph import held_works, works_mentioning, write_mentions
from graph.writer import Writer
from ingest import PIPELINE_VERSION
from ontology.layout import Layout
from query.mentions import build_matcher, label_forms, may_mention, read_labels, read_texts
from web.config import Settings

DIGESTS_FILE = "mentions.sqlite"
#: Bumped when matching rules change, so that every work is matched again.
RULES_VERSION = "2"
#: Added label forms times works with texts, at most, for the substring test that picks the
#: works a new label may be in (``query.mentions.may_mention``); beyond it every work is
#: matched again, which then costs about as much (some 10 M substring tests a second).
PREFILTER_BUDGET = 20_000_000


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
            f"mentions {how} in {self.seconds:.1f} s: {self.works_with_text:,} work(s) with texts, "
            f"{self.works_matched:,} matched against {self.labels:,} label(s), "
            f"{self.mentions_found:,} mention(s) found, {self.quads_added:,} quad(s) added, "
            f"{self.quads_removed:,} removed"
            + (f" ({self.reason})" if self.reason and not self.full else "")
        )


def _digest(parts) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def _open_digests(data_dir: Path) -> sqlite3.Connection:
    db = sqlite3.connect(data_dir / DIGESTS_FILE)
    db.execute("CREATE TABLE IF NOT EXISTS work_text (work TEXT PRIMARY KEY, digest TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS label (unit TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, "
        "PRIMARY KEY (unit, kind, label)) WITHOUT ROWID"
    )
    return db


def _to_match(
    store, layout: Layout, texts: dict, changed: set[str],
    added: set[tuple[str, str, str]], removed: set[tuple[str, str, str]],
) -> tuple[set[str], str]:  # fmt: skip
    """The works to match again when the label set moved from ``removed`` to ``added``: those
    whose texts changed, those that mention a unit that lost a label, and those whose texts
    contain (squashed) a new label; every work when that test would cost more than matching."""
    todo = set(changed) & set(texts)
    reasons = [f"{len(todo):,} with new texts"] if todo else []
    if removed:
        lost = works_mentioning(store, layout, {unit for unit, _k, _l in removed}) & set(texts)
        todo |= lost
        reasons.append(f"{len(lost):,} mentioning a unit that lost a label")
    forms = {form for _u, kind, label in added for form in label_forms(label, kind)[0]}
    if forms and len(forms) * len(texts) > PREFILTER_BUDGET:
        return set(texts), f"{len(forms):,} new label forms: every work"
    if forms:
        hits = {work for work, pairs in texts.items() if work not in todo and may_mention(pairs, forms)}
        todo |= hits
        reasons.append(f"{len(hits):,} containing one of {len(forms):,} new label form(s)")
    return todo, "; ".join(reasons) or "nothing changed"


def refresh_mentions(writer: Writer, layout: Layout, data_dir: Path, *, full: bool = False) -> MentionRefresh:
    """Match the works whose texts changed, or that a changed label can concern, and write
    their mentions (the module docstring says why this is exact)."""
    store = writer.store
    started = time.perf_counter()
    labels = set(read_labels(store))
    texts = read_texts(store)
    digests = {work: _digest(f"{f}\t{t}" for f, t in pairs) for work, pairs in texts.items()}
    with closing(_open_digests(data_dir)) as db:
        held = dict(db.execute("SELECT work, digest FROM work_text"))
        row = db.execute("SELECT value FROM meta WHERE key = 'rules'").fetchone()
        full = full or row is None or row[0] != RULES_VERSION
        in_graph = held_works(store, layout)
        gone = (set(held) | in_graph) - set(texts)
        if full:
            todo, reason, added, removed = set(texts), "everything", labels, None
        else:
            held_labels = set(db.execute("SELECT unit, kind, label FROM label"))
            added, removed = labels - held_labels, held_labels - labels
            changed = {w for w, d in digests.items() if held.get(w) != d}
            todo, reason = _to_match(store, layout, texts, changed, added, removed)
        read_seconds = time.perf_counter() - started
        started = time.perf_counter()
        matcher = build_matcher(labels) if todo else None
        found: dict[str, list[tuple[str, str, int]]] = {}
        count = 0
        for work in sorted(todo):
            mentions = matcher.mentions(texts[work]) if matcher else []
            found[work] = [(m.unit, m.field, m.count) for m in mentions]
            count += len(mentions)
        match_seconds = time.perf_counter() - started
        started = time.perf_counter()
        added_quads, removed_quads = write_mentions(store, layout, found, gone)
        if added_quads or removed_quads:
            writer.session.changed = True
        with db:
            db.executemany("DELETE FROM work_text WHERE work = ?", ((w,) for w in gone))
            db.executemany(
                "INSERT OR REPLACE INTO work_text (work, digest) VALUES (?, ?)",
                ((w, digests[w]) for w in todo),
            )
            if removed is None:
                db.execute("DELETE FROM label")
            else:
                db.executemany("DELETE FROM label WHERE unit = ? AND kind = ? AND label = ?", removed)
            db.executemany("INSERT OR IGNORE INTO label (unit, kind, label) VALUES (?, ?, ?)", added)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('rules', ?)", (RULES_VERSION,))
        write_seconds = time.perf_counter() - started
    return MentionRefresh(
        full, len(texts), len(todo), count, added_quads, removed_quads,
        matcher.labels if matcher else 0, read_seconds, match_seconds, write_seconds, reason,
    )  # fmt: skip


def refresh_after_ingest(writer: Writer, layout: Layout, data_dir: Path, changed: bool) -> MentionRefresh | None:
    """The mentions brought up to date at the end of an ingest or a harvest that ``changed``
    the store (records written or deleted); nothing at all, not even a read, when it did not."""
    return refresh_mentions(writer, layout, data_dir) if changed else None


def run_mentions_command(settings: Settings, *, full: bool) -> str:
    """Refresh the mentions of the live store in a writing session of its own."""
    layout = Layout(settings.base_iri)
    with Writer(settings.data_dir, layout, PIPELINE_VERSION) as writer:
        done = refresh_mentions(writer, layout, settings.data_dir, full=full)
    return done.summary()
