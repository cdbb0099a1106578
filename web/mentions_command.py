"""``catalograph mentions --refresh [--full]``: bring the derived graph of mentions up to date.

Composition: ``query.mentions`` reads the labels and texts and matches them,
``graph.mention_graph`` writes the difference, inside one writing session
(``graph.writer.Writer``: the store's lock, and a checkpoint for readers).

Incremental by content, not by change log: a small SQLite table
(``mentions.sqlite`` in the data directory) keeps a digest of each work's
texts and one of the whole label set. A refresh re-matches only the works
whose texts changed, appeared or went, whatever wrote them (an ingest, a
SPARQL Update, the Graph Store Protocol); a changed label set (a concept
renamed, a place added) re-matches every work, as any text may mention the
new label, but still writes only the nodes that differ. The table is written
after the store: a refresh killed in between re-matches those works next time,
which writes nothing new.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from graph.mention_graph import held_works, write_mentions
from graph.writer import Writer
from ingest import PIPELINE_VERSION
from ontology.layout import Layout
from query.mentions import build_matcher, read_labels, read_texts
from web.config import Settings

DIGESTS_FILE = "mentions.sqlite"
#: Bumped when matching rules change, so that every work is matched again.
RULES_VERSION = "1"


@dataclass
class MentionRefresh:
    """What a refresh did (for the command's line and ``bench/mentions.py``)."""

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

    def summary(self) -> str:
        how = "rebuilt" if self.full else "updated"
        total = self.seconds_read + self.seconds_match + self.seconds_write
        return (
            f"mentions {how} in {total:.1f} s: {self.works_with_text:,} work(s) with texts, "
            f"{self.works_matched:,} matched against {self.labels:,} label(s), "
            f"{self.mentions_found:,} mention(s) found, {self.quads_added:,} quad(s) added, "
            f"{self.quads_removed:,} removed"
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
    return db


def refresh_mentions(writer: Writer, layout: Layout, data_dir: Path, *, full: bool = False) -> MentionRefresh:
    """Match the works whose texts (or the labels) changed and write their mentions."""
    store = writer.store
    started = time.perf_counter()
    labels = sorted(set(read_labels(store)))
    label_digest = _digest([RULES_VERSION] + [f"{u}\t{k}\t{v}" for u, k, v in labels])
    texts = read_texts(store)
    digests = {work: _digest(f"{f}\t{t}" for f, t in pairs) for work, pairs in texts.items()}
    with closing(_open_digests(data_dir)) as db:
        held = dict(db.execute("SELECT work, digest FROM work_text"))
        row = db.execute("SELECT value FROM meta WHERE key = 'labels'").fetchone()
        full = full or row is None or row[0] != label_digest
        in_graph = held_works(store, layout)
        if full:
            todo = set(texts)
            gone = (set(held) | in_graph) - set(texts)
        else:
            todo = {w for w, d in digests.items() if held.get(w) != d}
            gone = (set(held) | in_graph) - set(texts)
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
        added, removed = write_mentions(store, layout, found, gone)
        if added or removed:
            writer.session.changed = True
        with db:
            db.executemany("DELETE FROM work_text WHERE work = ?", ((w,) for w in gone))
            db.executemany(
                "INSERT OR REPLACE INTO work_text (work, digest) VALUES (?, ?)",
                ((w, digests[w]) for w in todo),
            )
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('labels', ?)", (label_digest,))
        write_seconds = time.perf_counter() - started
    return MentionRefresh(
        full, len(texts), len(todo), count, added, removed,
        matcher.labels if matcher else 0, read_seconds, match_seconds, write_seconds,
    )  # fmt: skip


def run_mentions_command(settings: Settings, *, full: bool) -> str:
    """Refresh the mentions of the live store in a writing session of its own."""
    layout = Layout(settings.base_iri)
    with Writer(settings.data_dir, layout, PIPELINE_VERSION) as writer:
        done = refresh_mentions(writer, layout, settings.data_dir, full=full)
    return done.summary()
