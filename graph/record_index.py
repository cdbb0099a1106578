"""The record index and the write journal: a small SQLite file beside the live store.

Why it exists: a batch must know, for each of its records, whether the store
already holds that record's graph and with which content hash, and it must
list the graphs it is about to touch before touching them (the journal). Kept
in the store itself, both cost RocksDB work on every batch: three lookups per
record that probe every level-0 table the bulk loads left, and journal writes
and a flush that stall behind the compactions those bulk loads cause.
Measured on 57,380 records, that was 45 % of the writer's time and grew with
the store; answered here, a batch reads and writes the store through its bulk
load only. docs/storage.md describes the protocol.

``data_dir/record-index.sqlite`` holds::

    record_graph(graph, content_hash, written_at, source_file, position, byte_offset, line)
        one row per named graph or record provenance the store holds; content_hash NULL:
        present but not to be trusted (edited, or data without provenance)
    pending(graph, metadata_graph)
        the journal: graphs a batch is dropping or writing; empty between batches
    about(key, value)
        the identity of the store the rows describe (RocksDB's IDENTITY file)

The store stays the truth. The index is rebuilt from it (named graphs and
their ``cg:contentHash``) whenever it cannot be trusted: no file, another
store's identity, a schema change, or a write the index could not follow
(``invalidate``: an arbitrary SPARQL Update, ``open_store`` for writing).
Commits use ``synchronous=FULL``: a journal entry is on disk before the data
it protects is touched, even across a power cut. Rows go in with multi-row
statements (``_insert_many``), never ``executemany``, for the GIL's sake.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode, Store

from graph.provenance import drop_record_graph
from ontology.errors import StoreError
from ontology.namespaces import CG, RDF

log = logging.getLogger(__name__)

INDEX_FILE = "record-index.sqlite"
#: Bump when the tables change: an index of another schema is rebuilt.
SCHEMA_VERSION = "1"
#: Graph IRIs per ``IN (...)`` lookup (well below SQLite's parameter limit).
_CHUNK = 500
#: Parameters one statement may have: SQLite before 3.32 allows no more than 999.
_MAX_PARAMETERS = 999

_SELECT_ROWS = (
    "SELECT graph, content_hash, written_at, source_file, position, byte_offset, line "
    "FROM record_graph"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS record_graph (
    graph TEXT PRIMARY KEY,
    content_hash TEXT,
    written_at TEXT,
    source_file TEXT,
    position INTEGER,
    byte_offset INTEGER,
    line INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending (
    graph TEXT PRIMARY KEY,
    metadata_graph TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS about (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class IndexedGraph:
    """What the index knows of one graph in the store."""

    graph: str
    content_hash: str | None
    #: The session time (``prov:generatedAtTime``) that wrote it; None when rebuilt.
    written_at: str | None = None
    source_file: str | None = None
    position: int | None = None
    byte_offset: int | None = None
    line: int | None = None


def index_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / INDEX_FILE


def store_identity(store_dir: Path) -> str:
    """RocksDB's IDENTITY of the live store: a new store (or one put in its place) has another."""
    try:
        return (store_dir / "IDENTITY").read_text(encoding="ascii").strip()
    except OSError:
        return ""


class RecordIndex:
    """The index of one data directory; opened by the writing session that holds the lock."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = index_path(data_dir)
        self._db: sqlite3.Connection | None = None
        #: Whether the last ``open`` had to rebuild the rows from the store.
        self.rebuilt = False

    # ------------------------------------------------------------ open / close

    def open(self, store: Store, store_dir: Path) -> None:
        """Connect, and rebuild the rows from ``store`` if they may not describe it."""
        # The writer thread and the session's thread take turns, never both at once.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db = self._db
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            about = dict(db.execute("SELECT key, value FROM about").fetchall())
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(
                f"the record index {self.path} is damaged ({exc}); delete it (and any "
                f"{self.path.name}-wal and -shm beside it) and run the command again: it is "
                "rebuilt from the store"
            ) from exc
        identity = store_identity(store_dir)
        stale = about.get("store") != identity or about.get("schema") != SCHEMA_VERSION
        self.rebuilt = stale and not _is_empty(store)  # a new store needs no rebuild to speak of
        if stale:
            self._rebuild(store, identity)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the record index is not open")
        return self._db

    def invalidate(self) -> None:
        """The store was changed in ways the rows do not follow: rebuild them at the next open."""
        self.db.execute("DELETE FROM about WHERE key = 'store'")

    def _rebuild(self, store: Store, identity: str) -> None:
        """Rows for every named graph and every record provenance of ``store``, in one transaction.

        A content hash is kept only for a graph that has data: provenance
        alone (data removed by hand) makes the next ingest rewrite the graph.

        A journal of another store means nothing here, so it goes too.
        Measured: 2.5 s for the 55,838 graphs of the x10 benchmark store;
        logged, as it only happens after a change the index could not follow.
        """
        started = time.perf_counter()
        with self._transaction() as db:
            db.execute("DELETE FROM record_graph")
            db.execute("DELETE FROM pending")
            db.executemany(
                "INSERT OR IGNORE INTO record_graph (graph) VALUES (?)",
                ((g.value,) for g in store.named_graphs() if isinstance(g, NamedNode)),
            )
            db.executemany(
                "UPDATE record_graph SET content_hash = ? WHERE graph = ?",
                (
                    (q.object.value, q.subject.value)
                    for q in store.quads_for_pattern(None, CG.contentHash, None, None)
                    if isinstance(q.subject, NamedNode)
                ),
            )
            # provenance of a graph whose data is gone: present, its hash not trusted
            db.executemany(
                "INSERT OR IGNORE INTO record_graph (graph) VALUES (?)",
                (
                    (q.subject.value,)
                    for q in store.quads_for_pattern(None, RDF.type, CG.RecordGraph, None)
                    if isinstance(q.subject, NamedNode)
                ),
            )
            db.executemany(
                "INSERT OR REPLACE INTO about VALUES (?, ?)",
                [("store", identity), ("schema", SCHEMA_VERSION)],
            )
            count = db.execute("SELECT count(*) FROM record_graph").fetchone()[0]
        if not count:
            return
        log.warning(
            "rebuilt the record index from the store: %d graph(s) in %.1f s",
            count,
            time.perf_counter() - started,
        )

    # ------------------------------------------------------------ reads

    def lookup(self, graphs: Sequence[str]) -> dict[str, IndexedGraph]:
        """The rows of those of ``graphs`` the store holds."""
        found: dict[str, IndexedGraph] = {}
        for start in range(0, len(graphs), _CHUNK):
            chunk = graphs[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))  # placeholders only: the IRIs are parameters
            query = f"{_SELECT_ROWS} WHERE graph IN ({marks})"  # noqa: S608
            for row in self.db.execute(query, chunk):
                found[row[0]] = IndexedGraph(*row)
        return found

    def count(self) -> int:
        """How many graphs the store holds (record graphs and any other named graph)."""
        return self.db.execute("SELECT COUNT(*) FROM record_graph").fetchone()[0]

    def pending(self) -> list[tuple[str, str]]:
        """The journal: ``(graph, metadata graph)`` of a batch that did not finish."""
        return self.db.execute("SELECT graph, metadata_graph FROM pending").fetchall()

    # ------------------------------------------------------------ a batch

    def begin_batch(self, graphs: Iterable[str], metadata_graph: str) -> None:
        """Journal ``graphs`` (durably) before the batch drops or writes any of them."""
        with self._transaction() as db:
            _insert_many(
                db,
                "INSERT OR REPLACE INTO pending",
                ((graph, metadata_graph) for graph in graphs),
                width=2,
            )

    def commit_batch(self, written: Iterable[IndexedGraph], removed: Iterable[str]) -> None:
        """The batch is in the store: record what it wrote and removed, and clear the journal."""
        with self._transaction() as db:
            _delete_rows(db, removed)
            _insert_many(
                db,
                "INSERT OR REPLACE INTO record_graph",
                (
                    (e.graph, e.content_hash, e.written_at, e.source_file, e.position,
                     e.byte_offset, e.line)
                    for e in written
                ),  # fmt: skip
                width=7,
            )
            db.execute("DELETE FROM pending")

    def recover(self, store: Store) -> list[str]:
        """Drop every graph an interrupted batch left in the journal; returns their IRIs.

        The drops are flushed to disk before the journal is cleared, so a
        recovery cut short is simply run again.
        """
        entries = self.pending()
        if not entries:
            return []
        for graph, metadata_graph in entries:
            drop_record_graph(store, NamedNode(graph), NamedNode(metadata_graph))
        store.flush()
        with self._transaction() as db:
            _delete_rows(db, (g for g, _ in entries))
            db.execute("DELETE FROM pending")
        log.warning("rolled back %d record graph(s) of an interrupted batch", len(entries))
        return [graph for graph, _ in entries]

    # ------------------------------------------------------------ other writers

    def refresh(self, store: Store, graphs: Iterable[str]) -> None:
        """Set the rows of ``graphs`` to what the store now holds (after an edit naming them)."""
        with self._transaction() as db:
            for iri in set(graphs):
                try:
                    graph = NamedNode(iri)
                except ValueError:
                    continue
                has_data = store.contains_named_graph(graph)
                described = next(store.quads_for_pattern(graph, RDF.type, CG.RecordGraph, None), None)
                if described is None and not has_data:
                    db.execute("DELETE FROM record_graph WHERE graph = ?", (iri,))
                    continue
                hashed = next(store.quads_for_pattern(graph, CG.contentHash, None, None), None)
                trusted = hashed.object.value if hashed is not None and has_data else None
                db.execute(
                    "INSERT OR REPLACE INTO record_graph (graph, content_hash) VALUES (?, ?)",
                    (iri, trusted),
                )

    # ------------------------------------------------------------ helpers

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


def _insert_many(
    db: sqlite3.Connection, head: str, rows: Iterable[tuple[object, ...]], width: int
) -> None:
    """``head VALUES (...), (...), ...``: one statement per few hundred rows, not one per row.

    Why not ``executemany``: it steps once per row, and the sqlite3 module
    releases the GIL around every step. In the writer thread each release
    waits to get the GIL back from the mapping thread: measured, 1,000 rows
    took 2 ms alone and 5 s beside a busy Python thread, and the batches'
    index writes took 11 s of a 56 s ingest.
    """
    per_statement = max(1, _MAX_PARAMETERS // width)
    row_marks = "(" + ",".join("?" * width) + ")"
    values = list(rows)
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        marks = ",".join([row_marks] * len(chunk))  # placeholders only: values are parameters
        db.execute(f"{head} VALUES {marks}", [value for row in chunk for value in row])


def _delete_rows(db: sqlite3.Connection, graphs: Iterable[str]) -> None:
    """The index rows of ``graphs``, deleted up to 999 at a time (see ``_insert_many``)."""
    doomed = list(graphs)
    for start in range(0, len(doomed), _MAX_PARAMETERS):
        chunk = doomed[start : start + _MAX_PARAMETERS]
        marks = ",".join("?" * len(chunk))  # placeholders only: the IRIs are parameters
        db.execute(f"DELETE FROM record_graph WHERE graph IN ({marks})", chunk)  # noqa: S608


def _is_empty(store: Store) -> bool:
    return next(iter(store), None) is None


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")

