"""What the derived graph of mentions was last made from: ``mentions.sqlite`` in the data directory.

Why a file of its own, and why on disk: a refresh must know what changed
since the graph was last written without holding the store's labels, texts
or works in memory (the store can be far larger than memory allows; issue
15). So the state is kept in SQLite and read a key at a time:

- ``work_text(work, digest)``: a digest of each work's texts as last matched;
- ``work_token``: the lower-cased word tokens of those texts (an FTS5 table
  cut at spaces only, a row per work), so that a label entering the store
  finds the works it may occur in by a lookup (every token of a phrase
  matched must be a token of the text: ``works_with_words``) instead of a
  pass over every text;
- ``label(unit, kind, label)``: the label rows matched with, and
  ``pattern(first, form, exact, words, unit, kind, label)`` the patterns each
  gives (``query.mentions.label_patterns``), found by their first token: a
  chunk of works is matched against the patterns whose first token occurs in
  it, never against a matcher of the whole vocabulary;
- ``manifest(graph, content_hash)``, ``graph_work(graph, work)`` and
  ``graph_unit(graph, unit)``: the record graphs as last seen (their hashes
  from the record index), the works each links and the labelled units it
  holds, so that a record written again or dropped names the works and units
  to examine, old and new;
- ``edit(hash, subjects)``: the writers' unit edits (the record index's
  ``unit_edit``) already seen, with the resources each is about (a reverted
  edit's row is gone from the index, and its subjects must still be examined);
- ``work_found(work, unit, field, count)``: each work's mentions as last
  written into the graph, so that a refresh of what changed diffs a work's
  new mentions against these rows instead of reading the graph back
  (``graph.mention_graph.stage_mentions``); trusted once a full refresh wrote
  them all (``meta`` ``found``), as the graph is only written by a refresh;
- ``meta``: the matching rules' version, ``found``, and ``state`` (``stale`` from an
  ingest's first write until its refresh ended: ``web.mentions_command``).

Everything here is written after the store, so a refresh killed in between
finds the same differences next time, which then write nothing new.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from graph.refresh_state import insert_streamed, open_state_file

STATE_FILE = "mentions.sqlite"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS work_text (work TEXT PRIMARY KEY, digest TEXT NOT NULL)",
    # one row per work (its rowid is the work's in ``work_text``), cut at spaces only: the
    # lookup of a pattern's words is an FTS5 query of each as one quoted token
    "CREATE VIRTUAL TABLE IF NOT EXISTS work_token USING fts5(tokens, "
    "tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* Co Cc Cf Cs M* P* S* Zl Zp'\")",
    "CREATE TABLE IF NOT EXISTS label (unit TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, "
    "PRIMARY KEY (unit, kind, label)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS pattern (first TEXT NOT NULL, form TEXT NOT NULL, exact INTEGER NOT NULL, "
    "words TEXT NOT NULL, unit TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, "
    "PRIMARY KEY (first, form, exact, unit, kind, label)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS pattern_unit ON pattern (unit)",
    "CREATE INDEX IF NOT EXISTS pattern_label ON pattern (label, kind)",
    "CREATE TABLE IF NOT EXISTS manifest (graph TEXT PRIMARY KEY, content_hash TEXT) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS graph_work (graph TEXT NOT NULL, work TEXT NOT NULL, "
    "PRIMARY KEY (graph, work)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS graph_unit (graph TEXT NOT NULL, unit TEXT NOT NULL, "
    "PRIMARY KEY (graph, unit)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS edit (hash BLOB PRIMARY KEY, subjects TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS work_found (work TEXT NOT NULL, unit TEXT NOT NULL, field TEXT NOT NULL, "
    "count INTEGER NOT NULL, PRIMARY KEY (work, unit, field)) WITHOUT ROWID",
    # this refresh's own lists, on disk (temp tables: gone with the connection)
    "CREATE TEMP TABLE IF NOT EXISTS todo_unit (unit TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS todo_work (work TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS rematch (work TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS lost_unit (unit TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS new_form (form TEXT NOT NULL, exact INTEGER NOT NULL, "
    "words TEXT NOT NULL, PRIMARY KEY (form, exact)) WITHOUT ROWID",
    # the record graphs changed since the manifest, and the works and units they name now
    "CREATE TEMP TABLE IF NOT EXISTS graph_now (graph TEXT PRIMARY KEY, content_hash TEXT, present INTEGER)",
    "CREATE TEMP TABLE IF NOT EXISTS graph_now_work (graph TEXT, work TEXT, PRIMARY KEY (graph, work))",
    "CREATE TEMP TABLE IF NOT EXISTS graph_now_unit (graph TEXT, unit TEXT, PRIMARY KEY (graph, unit))",
    "CREATE TEMP TABLE IF NOT EXISTS graph_link (graph TEXT NOT NULL, iri TEXT NOT NULL)",
    # texts matched in this refresh, by digest: many works share their texts (copies of a
    # record, a work and its translation's summary), matched once each
    "CREATE TEMP TABLE IF NOT EXISTS text_seen (digest TEXT PRIMARY KEY, tokens TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS text_found (digest TEXT NOT NULL, unit TEXT NOT NULL, field TEXT NOT NULL, "
    "count INTEGER NOT NULL, PRIMARY KEY (digest, unit, field)) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS chunk_token (token TEXT PRIMARY KEY) WITHOUT ROWID",
)
#: This refresh's own lists (``clear_todo``).
_TODO = ("todo_unit", "todo_work", "rematch", "lost_unit", "new_form", "graph_now", "graph_now_work", "graph_now_unit", "graph_link", "text_seen", "text_found")
#: Rows bound in one statement.
_SLICE = 500
#: The separator of a pattern's words (a control character no label keeps).
WORD_SEPARATOR = "\x1f"


def open_state(data_dir: Path) -> sqlite3.Connection:
    """The state file of ``data_dir``, its tables made if absent (``graph.refresh_state``)."""
    return open_state_file(data_dir / STATE_FILE, _SCHEMA)


def clear_all(db: sqlite3.Connection) -> None:
    """Forget everything seen (a full refresh, or new matching rules): every table but ``meta``,
    and ``meta``'s ``found`` (the rows of ``work_found`` are whole again when the refresh ends)."""
    with db:
        for table in (
            "work_text", "work_token", "label", "pattern", "manifest", "graph_work", "graph_unit", "edit", "work_found"
        ):  # fmt: skip
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - the table names above
        db.execute("DELETE FROM meta WHERE key = 'found'")


def clear_todo(db: sqlite3.Connection) -> None:
    """Empty this refresh's own lists (they are temp tables: gone with the connection anyway)."""
    with db:
        for table in _TODO:
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - the table names above


#: The lists ``add_rows`` fills, and their columns.
_LISTS = frozenset({
    ("todo_unit", "unit"), ("todo_work", "work"), ("rematch", "work"), ("lost_unit", "unit"),
    ("graph_now", "graph, content_hash, present"), ("graph_link", "graph, iri"),
})  # fmt: skip


def add_rows(db: sqlite3.Connection, table: str, columns: str, values: Iterable) -> None:
    """``values`` into one of this refresh's lists (``todo_unit``, ``todo_work``, ``rematch``,
    ``lost_unit``; rows of several ``columns`` into ``graph_now``, ``graph_link``), without
    holding them: an iterator is consumed a slice at a time."""
    assert (table, columns) in _LISTS, (table, columns)
    width = columns.count(",") + 1
    sql = f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({', '.join('?' * width)})"  # noqa: S608
    insert_streamed(db, sql, ((value,) for value in values) if width == 1 else values, _SLICE)


def changed_graphs(db: sqlite3.Connection, index: sqlite3.Connection) -> Iterator[tuple[str, str | None, bool]]:
    """``(graph, content_hash, present)`` of every record graph written, replaced, edited or
    dropped since the manifest was written: the record index's rows and the manifest's, both
    in graph order, merged as they stream (a graph whose hash is NULL, edited, always counts)."""
    now = index.execute("SELECT graph, content_hash FROM record_graph ORDER BY graph")
    then = db.execute("SELECT graph, content_hash FROM manifest ORDER BY graph")
    a, b = next(now, None), next(then, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield a[0], a[1], True
            a = next(now, None)
        elif a is None or b[0] < a[0]:
            yield b[0], None, False
            b = next(then, None)
        else:
            if a[1] is None or a[1] != b[1]:
                yield a[0], a[1], True
            a, b = next(now, None), next(then, None)


def edits_changed(db: sqlite3.Connection, index: sqlite3.Connection) -> tuple[set[str], list[tuple[bytes, str]], list[bytes]]:
    """The resources the writers' unit edits changed since this state last looked (new edits'
    subjects from the index, gone ones' from here), the new edits' rows and the gone hashes."""
    try:
        now = {bytes(h) for (h,) in index.execute("SELECT DISTINCT hash FROM unit_edit")}
    except sqlite3.OperationalError:  # an index without a ledger yet
        now = set()
    seen = {bytes(h): subjects for h, subjects in db.execute("SELECT hash, subjects FROM edit")}
    new = sorted(now - set(seen))
    gone = sorted(set(seen) - now)
    rows = [(h, "\n".join(sorted(_edit_subjects(index, [h])))) for h in new]
    subjects = {s for _h, text in rows for s in text.split("\n") if s}
    subjects |= {s for h in gone for s in seen[h].split("\n") if s}
    return subjects, rows, gone


def _edit_subjects(index: sqlite3.Connection, hashes: list[bytes]) -> set[str]:
    """The subjects (as written, and without their fragment) of the unit edits named by ``hashes``."""
    subjects: set[str] = set()
    for start in range(0, len(hashes), _SLICE):
        chunk = hashes[start : start + _SLICE]
        marks = ",".join("?" * len(chunk))
        for (quad,) in index.execute(f"SELECT quad FROM unit_edit WHERE hash IN ({marks})", chunk):  # noqa: S608
            line = bytes(quad).decode("utf-8", "replace")
            if line.startswith("<"):
                subject = line[1 : line.index(">")]
                subjects.update((subject, subject.partition("#")[0]))
    return subjects


def remember_text(db: sqlite3.Connection, digest: str, found: list[tuple[str, str, int]], tokens: str) -> None:
    """What the texts of ``digest`` were matched to in this refresh (``(unit, field, count)``
    each) and their word tokens (``joined_tokens``), for the next work with the same texts."""
    db.execute("INSERT OR REPLACE INTO text_seen VALUES (?, ?)", (digest, tokens))
    db.executemany("INSERT OR REPLACE INTO text_found VALUES (?, ?, ?, ?)", ((digest, *row) for row in found))


def stored_patterns(db: sqlite3.Connection, kind: str, label: str) -> list[tuple[str, bool, tuple[str, ...]]]:
    """The patterns (``query.mentions.label_patterns``) some unit's label ``label`` of ``kind``
    gave and the state keeps, or none: a label is tokenized once, not once per refresh. (A
    label that gives no pattern is not kept and is worked out again: most such labels are
    refused before any tokenizing.)"""
    rows = db.execute("SELECT DISTINCT form, exact, words FROM pattern WHERE label = ? AND kind = ?", (label, kind))
    return [(form, bool(exact), tuple(words.split(WORD_SEPARATOR))) for form, exact, words in rows]


def text_seen(db: sqlite3.Connection, digest: str) -> bool:
    """Whether the texts of ``digest`` were matched in this refresh (``remember_text``)."""
    return db.execute("SELECT 1 FROM text_seen WHERE digest = ?", (digest,)).fetchone() is not None


def recalled_text(db: sqlite3.Connection, digest: str) -> tuple[list[tuple[str, str, int]], str] | None:
    """``remember_text``'s mentions and tokens of ``digest``, or ``None`` when not matched yet."""
    row = db.execute("SELECT tokens FROM text_seen WHERE digest = ?", (digest,)).fetchone()
    if row is None:
        return None
    found = db.execute("SELECT unit, field, count FROM text_found WHERE digest = ? ORDER BY unit, field", (digest,))
    return list(found), row[0]


def joined_tokens(tokens: Iterable[str]) -> str:
    """Word tokens as ``work_token`` keeps them: sorted, separated by spaces.

    >>> joined_tokens({"york", "new"})
    'new york'
    """
    return " ".join(sorted(tokens))


def work_found(db: sqlite3.Connection, work: str) -> list[tuple[str, str, int]]:
    """``work``'s mentions (``(unit, field, count)`` each) as last written (``set_found``)."""
    return db.execute("SELECT unit, field, count FROM work_found WHERE work = ?", (work,)).fetchall()


def set_found(db: sqlite3.Connection, work: str, found: Iterable[tuple[str, str, int]]) -> None:
    """Record ``work``'s mentions as written into the graph (inside the caller's transaction,
    committed after the store)."""
    db.execute("DELETE FROM work_found WHERE work = ?", (work,))
    db.executemany("INSERT OR REPLACE INTO work_found VALUES (?, ?, ?, ?)", ((work, *row) for row in found))


def set_work(db: sqlite3.Connection, work: str, digest: str, tokens: str) -> None:
    """Record what ``work``'s texts were matched as: their digest and word tokens
    (``joined_tokens``; none, and no digest: the work has no texts now). Inside the caller's
    transaction."""
    row = db.execute("SELECT rowid FROM work_text WHERE work = ?", (work,)).fetchone()
    if row is not None:
        db.execute("DELETE FROM work_token WHERE rowid = ?", row)
    if not digest:
        db.execute("DELETE FROM work_text WHERE work = ?", (work,))
        return
    db.execute(
        "INSERT INTO work_text (work, digest) VALUES (?, ?) ON CONFLICT (work) DO UPDATE SET digest = excluded.digest",
        (work, digest),
    )
    rowid = db.execute("SELECT rowid FROM work_text WHERE work = ?", (work,)).fetchone()[0]
    db.execute("INSERT INTO work_token (rowid, tokens) VALUES (?, ?)", (rowid, tokens))


def fts_query(words: Iterable[str]) -> str:
    """An FTS5 query that every one of ``words`` (tokens without spaces) is a token of the row.

    >>> fts_query(["new", 'say"s'])
    '"new" AND "say""s"'
    """
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def works_with_words(db: sqlite3.Connection, words: Iterable[str], into: str = "rematch") -> None:
    """The works whose texts hold every one of ``words`` (lower-cased tokens with a letter or a
    digit), into this refresh's list ``into``."""
    assert into == "rematch"
    query = fts_query(sorted(set(words)))
    if query:
        db.execute(
            "INSERT OR IGNORE INTO rematch (work) SELECT w.work FROM work_token t JOIN work_text w "
            "ON w.rowid = t.rowid WHERE work_token MATCH ?",
            (query,),
        )
