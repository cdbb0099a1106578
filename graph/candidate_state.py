"""What the match candidates were last found from: ``candidates.sqlite`` in the data directory.

Why a file of its own, on disk: a refresh at the end of an ingest must
compare only the blocks the ingest touched (``web.candidates_refresh``),
without reading every agent's heading and every work's title again, and
without holding them in memory (the store can be far larger than memory
allows; issue 15). So the blocking keys and what each block gave are kept in
SQLite and read a block at a time:

- ``agent_label(agent, label, name)``: every label of every agent of its own,
  with its folded name without dates (the agents' block);
- ``work_fact(work, kind, value)``: each work's sources, open-access sources,
  folded title forms and primary contributors' family names
  (``query.candidates.WorkFact``), and ``work_key(kind, key, work)`` the
  blocks they put it in (``query.candidate_rules.blocking_keys``);
- ``manifest(graph, content_hash)`` and ``graph_work(graph, work)``: the
  record graphs as last seen (their hashes from the record index) and the
  works each links or gives contributions of, so that a record graph written
  again or dropped names its works, old and new; ``edit(hash, subjects)``:
  the writers' unit edits already seen (as in ``graph.mention_state``);
- ``pair(block, first, second, rule, score, reasons)``: the candidates each
  block gave, and ``written(first, second, rule, score, reasons)`` those the
  derived graph was last made to hold;
- ``meta``: the rules' version, the store's identity, whether works are
  tracked (only once an open-access source links some), and ``refreshing``
  (a refresh that did not end: the next one is full).

Everything here is written before the graph, and ``refreshing`` is taken off
after it: a refresh killed in between leaves the mark, and the next is full.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from graph.refresh_state import insert_streamed, open_state_file
from graph.refresh_state import slices as keyset_slices

STATE_FILE = "candidates.sqlite"
#: Rows bound in one statement.
SLICE = 500
#: Between a block's kind and its key (a control character no folded name keeps).
SEPARATOR = "\x1f"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS agent_label (agent TEXT NOT NULL, label TEXT NOT NULL, name TEXT NOT NULL, "
    "PRIMARY KEY (agent, label)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS agent_label_name ON agent_label (name)",
    "CREATE TABLE IF NOT EXISTS work_fact (work TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY (work, kind, value)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS work_key (kind TEXT NOT NULL, key TEXT NOT NULL, work TEXT NOT NULL, "
    "PRIMARY KEY (kind, key, work)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS work_key_work ON work_key (work)",
    "CREATE TABLE IF NOT EXISTS manifest (graph TEXT PRIMARY KEY, content_hash TEXT) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS graph_work (graph TEXT NOT NULL, work TEXT NOT NULL, "
    "PRIMARY KEY (graph, work)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS edit (hash BLOB PRIMARY KEY, subjects TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS pair (block TEXT NOT NULL, first TEXT NOT NULL, second TEXT NOT NULL, "
    "rule TEXT NOT NULL, score REAL NOT NULL, reasons TEXT NOT NULL, PRIMARY KEY (block, first, second)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS pair_pair ON pair (first, second)",
    "CREATE TABLE IF NOT EXISTS written (first TEXT NOT NULL, second TEXT NOT NULL, rule TEXT NOT NULL, "
    "score REAL NOT NULL, reasons TEXT NOT NULL, PRIMARY KEY (first, second)) WITHOUT ROWID",
    # this refresh's own lists, on disk (temp tables: gone with the connection)
    "CREATE TEMP TABLE IF NOT EXISTS todo (iri TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS todo_agent (agent TEXT NOT NULL, graph TEXT NOT NULL, "
    "PRIMARY KEY (agent, graph)) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS todo_work (work TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS changed_graph (graph TEXT PRIMARY KEY, content_hash TEXT, present INTEGER) "
    "WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS todo_block (block TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS wanted (first TEXT NOT NULL, second TEXT NOT NULL, rule TEXT NOT NULL, "
    "score REAL NOT NULL, reasons TEXT NOT NULL, PRIMARY KEY (first, second)) WITHOUT ROWID",
)
_KEPT = ("agent_label", "work_fact", "work_key", "manifest", "graph_work", "edit", "pair", "written")
_LISTS = {"todo": "iri", "todo_work": "work", "todo_block": "block"}


def open_state(data_dir: Path) -> sqlite3.Connection:
    """The state file of ``data_dir``, its tables made if absent (``graph.refresh_state``)."""
    return open_state_file(data_dir / STATE_FILE, _SCHEMA)


def clear_all(db: sqlite3.Connection) -> None:
    """Forget everything seen (a full refresh): every table but ``meta``."""
    with db:
        for table in _KEPT:
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - the table names above
        db.execute("DELETE FROM meta WHERE key = 'works'")


def clear_lists(db: sqlite3.Connection) -> None:
    with db:
        for table in (*_LISTS, "todo_agent", "wanted", "changed_graph"):
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - the table names above


def add_rows(db: sqlite3.Connection, table: str, values: Iterable[str]) -> None:
    """``values`` into one of this refresh's lists (``todo``, ``todo_work``, ``todo_block``),
    an iterator consumed a slice at a time (never held)."""
    column = _LISTS[table]
    sql = f"INSERT OR IGNORE INTO {table} ({column}) VALUES (?)"  # noqa: S608 - the names above
    insert_streamed(db, sql, ((value,) for value in values), SLICE)


def slices(db: sqlite3.Connection, table: str, size: int = SLICE) -> Iterator[list[str]]:
    """The values of one of the lists, ``size`` at a time, read by key after the last one so that
    the caller may write between slices (and add to the list: later values are read too)."""
    column = _LISTS[table]
    yield from keyset_slices(db, f"SELECT {column} FROM {table} WHERE {column} > ? ORDER BY {column} LIMIT ?", size)  # noqa: S608


def block(kind: str, key: str) -> str:
    """The name of a block: ``agent`` and a folded name, ``creator`` and a family name, ``title``
    and the start of a title."""
    return f"{kind}{SEPARATOR}{key}"


# ------------------------------------------------------------------ agents


def agent_rows(db: sqlite3.Connection, agent: str) -> set[tuple[str, str]]:
    """``(label, name)`` of ``agent`` as last seen."""
    return set(db.execute("SELECT label, name FROM agent_label WHERE agent = ?", (agent,)))


def set_agent(db: sqlite3.Connection, agent: str, rows: set[tuple[str, str]]) -> None:
    """``agent``'s labels now ``rows`` (``(label, name)``), inside the caller's transaction."""
    db.execute("DELETE FROM agent_label WHERE agent = ?", (agent,))
    db.executemany("INSERT INTO agent_label VALUES (?, ?, ?)", ((agent, label, name) for label, name in rows))


def agent_block(db: sqlite3.Connection, name: str) -> dict[str, list[str]]:
    """The agents of the block ``name``, each with its labels of that name."""
    members: dict[str, list[str]] = {}
    for agent, label in db.execute("SELECT agent, label FROM agent_label WHERE name = ?", (name,)):
        members.setdefault(agent, []).append(label)
    return members


def agent_block_size(db: sqlite3.Connection, name: str) -> int:
    return db.execute("SELECT COUNT(DISTINCT agent) FROM agent_label WHERE name = ?", (name,)).fetchone()[0]


# ------------------------------------------------------------------ works


def work_facts(db: sqlite3.Connection, work: str) -> set[tuple[str, str]]:
    return set(db.execute("SELECT kind, value FROM work_fact WHERE work = ?", (work,)))


def work_keys(db: sqlite3.Connection, work: str) -> set[tuple[str, str]]:
    return set(db.execute("SELECT kind, key FROM work_key WHERE work = ?", (work,)))


def set_work(db: sqlite3.Connection, work: str, facts: set[tuple[str, str]], keys: set[tuple[str, str]]) -> None:
    """``work``'s facts and blocking keys now, inside the caller's transaction."""
    db.execute("DELETE FROM work_fact WHERE work = ?", (work,))
    db.execute("DELETE FROM work_key WHERE work = ?", (work,))
    db.executemany("INSERT INTO work_fact VALUES (?, ?, ?)", ((work, kind, value) for kind, value in facts))
    db.executemany("INSERT INTO work_key VALUES (?, ?, ?)", ((kind, key, work) for kind, key in keys))


def work_block(db: sqlite3.Connection, kind: str, key: str) -> list[str]:
    return [w for (w,) in db.execute("SELECT work FROM work_key WHERE kind = ? AND key = ?", (kind, key))]


def work_block_size(db: sqlite3.Connection, kind: str, key: str) -> int:
    return db.execute("SELECT COUNT(*) FROM work_key WHERE kind = ? AND key = ?", (kind, key)).fetchone()[0]


# ------------------------------------------------------------------ pairs


def set_pairs(db: sqlite3.Connection, name: str, pairs: Iterable[tuple[str, str, str, float, str]]) -> None:
    """The candidates block ``name`` gives now (``(first, second, rule, score, reasons)``, the pair
    sorted), inside the caller's transaction."""
    db.execute("DELETE FROM pair WHERE block = ?", (name,))
    db.executemany("INSERT OR REPLACE INTO pair VALUES (?, ?, ?, ?, ?, ?)", ((name, *row) for row in pairs))


def choose_wanted(db: sqlite3.Connection, limit: int) -> int:
    """Into ``wanted``: the candidates of every block, each pair once (the strongest row of the
    blocks that give it), strongest first, at most ``limit``; returns how many."""
    with db:
        db.execute("DELETE FROM wanted")
        db.execute(
            "INSERT INTO wanted SELECT first, second, rule, score, reasons FROM "
            "(SELECT first, second, rule, MAX(score) AS score, reasons FROM pair GROUP BY first, second) "
            "ORDER BY score DESC, first, second LIMIT ?",
            (limit,),
        )
    return db.execute("SELECT COUNT(*) FROM wanted").fetchone()[0]


def wanted_rows(db: sqlite3.Connection) -> Iterator[tuple[str, str, str, float, str]]:
    yield from db.execute("SELECT first, second, rule, score, reasons FROM wanted ORDER BY score DESC, first, second")


def wanted_changes(db: sqlite3.Connection) -> Iterator[tuple[str, str, tuple[str, float, str] | None]]:
    """What differs between ``wanted`` and ``written``: ``(first, second, (rule, score, reasons))``
    for a candidate new or changed, ``(first, second, None)`` for one no longer found."""
    changed = db.execute(
        "SELECT first, second, rule, score, reasons FROM wanted "
        "EXCEPT SELECT first, second, rule, score, reasons FROM written"
    ).fetchall()
    for first, second, rule, score, reasons in changed:
        yield first, second, (rule, score, reasons)
    gone = db.execute("SELECT first, second FROM written EXCEPT SELECT first, second FROM wanted").fetchall()
    for first, second in gone:
        yield first, second, None


def settle_written(db: sqlite3.Connection) -> None:
    """The graph now holds ``wanted``: it becomes ``written`` (inside the caller's transaction)."""
    db.execute("DELETE FROM written")
    db.execute("INSERT INTO written SELECT first, second, rule, score, reasons FROM wanted")
