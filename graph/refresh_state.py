"""The SQLite file a derived graph's refresh keeps beside the store, and its marks.

Why one module: the mentions' refresh (``graph.mention_state``) and the match
candidates' (``graph.candidate_state``) each keep what they saw in a file of
the data directory, opened the same way (WAL: a reader of the file never
blocks the refresh; temporary tables on disk: a refresh's lists do not grow
the process) and marked the same way (a ``meta`` table of keys: the rules'
version, a refresh in progress, a refresh owed). The state is rebuildable:
a missing or foreign file only makes the next refresh a full one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


def open_state_file(path: Path, schema: Iterable[str]) -> sqlite3.Connection:
    """The state file at ``path``, its ``meta`` table and the tables of ``schema`` made if absent.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     db = open_state_file(Path(folder) / "state.sqlite", ["CREATE TABLE IF NOT EXISTS seen (iri TEXT)"])
    ...     set_meta(db, "rules", "3")
    ...     before = get_meta(db, "rules")
    ...     set_meta(db, "rules", None)
    ...     after = get_meta(db, "rules")
    ...     db.close()
    >>> before, after
    ('3', None)
    """
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA temp_store=FILE")
    db.execute(META_SCHEMA)
    for statement in schema:
        db.execute(statement)
    return db


def get_meta(db: sqlite3.Connection, key: str) -> str | None:
    """The mark ``key``, or ``None`` when it is not set."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_meta(db: sqlite3.Connection, key: str, value: str | None) -> None:
    """``key`` set to ``value`` (``None``: removed), committed."""
    with db:
        if value is None:
            db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def swap_meta(db: sqlite3.Connection, key: str, value: str) -> str | None:
    """``key`` set to ``value``, committed, and what it was before (``None``: not set).

    A refresh's mark of a lag is read and set in one transaction: an ingest sets it before its
    first write and learns from the old value whether an earlier run had left it (killed after
    its writes, before its refresh), so that it refreshes even when it changes nothing itself.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     db = open_state_file(Path(folder) / "state.sqlite", [])
    ...     first, second = swap_meta(db, "owed", "1"), swap_meta(db, "owed", "1")
    ...     db.close()
    >>> first, second
    (None, '1')
    """
    with db:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
    return None if row is None else row[0]


def slices(db: sqlite3.Connection, sql: str, size: int) -> Iterator[list[str]]:
    """The single-column rows of ``sql`` (``SELECT x FROM list WHERE x > ? ORDER BY x LIMIT ?``),
    ``size`` at a time, read by key after the last one, so that the caller may write between
    slices (and add to the list: later values are read too) without holding the list."""
    last = ""
    while True:
        rows = [row[0] for row in db.execute(sql, (last, size))]
        if not rows:
            return
        yield rows
        last = rows[-1]


def insert_streamed(db: sqlite3.Connection, sql: str, rows: Iterable[Sequence[object]], size: int) -> None:
    """``rows`` into the state by ``sql`` (an ``INSERT`` with one ``?`` per column), ``size``
    at a time, then committed: an iterator is consumed as it goes, never held, so a refresh
    streams the store's rows into its tables in bounded memory."""
    batch: list[Sequence[object]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            db.executemany(sql, batch)
            batch.clear()
    if batch:
        db.executemany(sql, batch)
    db.commit()
