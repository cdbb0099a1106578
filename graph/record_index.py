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

    record_graph(graph, content_hash, written_at, source_file, position, byte_offset, line,
                 identifier, datestamp, units)
        one row per record graph or record provenance the store holds; content_hash NULL:
        present but not to be trusted (edited, or data without provenance); units: the
        keys of the groups of statements the record makes about shared units (``graph.ledger``)
    pending(graph, metadata_graph, units)
        the journal: graphs a batch is dropping or writing, with the keys of what each
        record written now says about units; empty between batches
    pending_edit(graph, before, changeset)
        the journal of a writer's edit (``graph.updates``): each graph it may change, as
        N-Quads before it; empty between edits
    unit_group, unit_group_text, unit_edit
        the ledger of unit statements (``graph.ledger``)
    mention_change(iri)
        units whose labels, type or deprecation entered or left through the ledger since
        the mentions' last refresh (``graph.mention_changes``)
    search_doc, search_fts, search_feed
        the full-text index of resources (``graph.search_index``), written in the same
        transactions as the rest
    about(key, value)
        the identity of the store the rows describe (RocksDB's IDENTITY file), and
        ``unpublished``: the live store holds writes that no checkpoint holds yet

The store stays the truth for record graphs: their rows are rebuilt from it
(named graphs and their ``cg:contentHash``) whenever they cannot be trusted:
no file, another store's identity, a schema change, or a write the index
could not follow (``invalidate``: ``open_store`` for writing). The ledger is
the one thing the store does not hold (who states a unit statement); a
rebuild keeps it when the store is the same, and otherwise counts every unit
statement the store holds as stated by nobody in particular, so that none is
lost (``_rebuild``: a logged, degraded state that a fresh ingest avoids).
Commits use ``synchronous=FULL``: a journal entry is on disk before the data
it protects is touched, even across a power cut. Rows go in with multi-row
statements (``_insert_many``), never ``executemany``, for the GIL's sake.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import DefaultGraph, NamedNode, RdfFormat, Store, parse

from graph import candidate_changes, mention_changes
from graph.ledger import SCHEMA as LEDGER_SCHEMA
from graph.ledger import (
    Ledger,
    UnitPlan,
    count_unattributed,
    delete_many,
    insert_many,
    quad_line,
)
from graph.provenance import drop_record_graph
from graph.search_index import PUBLISHED_FILE, SETTLE_CHUNK, SearchIndex, SearchUpdate, subjects
from graph.sqlite_transaction import ImmediateTransaction
from ontology.errors import StoreError
from ontology.layout import Layout
from ontology.namespaces import CG, RDF
from ontology.records import Position

log = logging.getLogger(__name__)

INDEX_FILE = "record-index.sqlite"
#: SQLite's page cache for the index, in KiB (``open``).
CACHE_KIB = 16 * 1024
#: Bump when the tables change: an index of another schema is rebuilt.
SCHEMA_VERSION = "3"
#: Graph IRIs per ``IN (...)`` lookup (well below SQLite's parameter limit).
_CHUNK = 500

_COLUMNS = (
    "graph, content_hash, written_at, source_file, position, byte_offset, line, identifier, "
    "datestamp, units"
)
_SELECT_ROWS = f"SELECT {_COLUMNS} FROM record_graph"  # noqa: S608 - our own column names
_ABOUT = "CREATE TABLE IF NOT EXISTS about (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
_DROP_ALL = """
DROP TABLE IF EXISTS record_graph; DROP TABLE IF EXISTS pending; DROP TABLE IF EXISTS pending_edit;
DROP TABLE IF EXISTS unit_statement; DROP TABLE IF EXISTS unit_text; DROP TABLE IF EXISTS unit_edit;
DROP TABLE IF EXISTS unit_group; DROP TABLE IF EXISTS unit_group_text;
DROP TABLE IF EXISTS label_change;
DROP TABLE IF EXISTS mention_change;
DELETE FROM about;
"""
#: A table of earlier versions, no longer kept: the resources whose labels changed, which the
#: derived graph of associations needed while it held labels (it names units by IRI now).
_RETIRED = "DROP TABLE IF EXISTS label_change"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS record_graph (
    graph TEXT PRIMARY KEY,
    content_hash TEXT,
    written_at TEXT,
    source_file TEXT,
    position INTEGER,
    byte_offset INTEGER,
    line INTEGER,
    identifier TEXT,
    datestamp TEXT,
    units BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending (
    graph TEXT PRIMARY KEY,
    metadata_graph TEXT NOT NULL,
    units BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending_edit (
    graph TEXT PRIMARY KEY,
    before BLOB NOT NULL,
    changeset TEXT NOT NULL
) WITHOUT ROWID;
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
    identifier: str | None = None
    datestamp: str | None = None
    #: The keys of the record's groups of unit statements (``graph.ledger``), ``None`` for none.
    units: bytes | None = None

    @property
    def stored_position(self) -> Position:
        """Where the stored version came from (the earlier record of a collision)."""
        return Position(
            self.source_file or "?",
            self.position or 0,
            self.byte_offset,
            self.line,
            self.identifier,
            self.datestamp,
        )


def index_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / INDEX_FILE


def committed_record_graphs(data_dir: Path | str) -> int | None:
    """How many record graphs the live store holds, by its index, read without the lock.

    For readers that find no checkpoint and must say why (``graph.snapshots``);
    ``None`` when there is no index or it cannot be read. A writer may be
    committing meanwhile: the answer is a snapshot of SQLite's last commit.
    """
    path = index_path(data_dir)
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            return db.execute("SELECT COUNT(*) FROM record_graph").fetchone()[0]
    except sqlite3.Error:
        return None


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
        #: The ledger of unit statements, while open.
        self.ledger: Ledger | None = None
        #: The full-text index of resources, while open.
        self.search: SearchIndex | None = None
        #: Whether the last ``open`` built the search index anew (a version without it, or
        #: another): the session then publishes a checkpoint, so that readers get it.
        self.search_rebuilt = False

    # ------------------------------------------------------------ open / close

    def open(self, store: Store, store_dir: Path) -> None:
        """Connect, and rebuild the rows from ``store`` if they may not describe it."""
        # The writer thread and the session's thread take turns, never both at once.
        # A few statements cached: the batch's statements are large (``ledger.MAX_PARAMETERS``)
        # and vary in length, and each cached one keeps its memory.
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=16
        )
        db = self._db
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            # The ledger's counts are looked up at random places: a cache that holds them
            # (bounded, so memory does not grow with the catalogue).
            db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            db.execute(_ABOUT)
            about = dict(db.execute("SELECT key, value FROM about").fetchall())
            if about.get("schema") not in (None, SCHEMA_VERSION):
                db.executescript(_DROP_ALL)  # another layout: everything is rebuilt below
            db.executescript(_SCHEMA)
            db.executescript(LEDGER_SCHEMA)
            db.execute(_RETIRED)
            db.execute(mention_changes.SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(
                f"the record index {self.path} is damaged ({exc}); restore it from the backup "
                f"of this data directory, or delete it (and any {self.path.name}-wal and -shm "
                "beside it) and run the command again: it is rebuilt from the store, and the "
                "statements about shared units are then kept as stated by no record "
                "(docs/storage.md)"
            ) from exc
        identity = store_identity(store_dir)
        same_store = about.get("store") == identity and about.get("schema") == SCHEMA_VERSION
        stale = not same_store or about.get("records") == "stale"
        self.rebuilt = stale and not _is_empty(store)  # a new store needs no rebuild to speak of
        if stale:
            self._rebuild(store, identity, keep_ledger=same_store)
        self.ledger = Ledger(db)
        self.search = SearchIndex(db)
        try:
            self.search_rebuilt = self.search.ensure(store)
            if not self.search_rebuilt and stale:
                with self._transaction():
                    self.search.rebuild(store)  # the store changed in ways no row followed
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"the search index in {self.path} cannot be built: {exc}") from exc

    def close(self) -> None:
        self.ledger = None
        self.search = None
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the record index is not open")
        return self._db

    @property
    def is_open(self) -> bool:
        return self._db is not None

    def unpublished(self) -> bool:
        """Whether a session wrote the store and stopped before publishing a checkpoint of it."""
        row = self.db.execute("SELECT value FROM about WHERE key = 'unpublished'").fetchone()
        return row is not None

    def note_unpublished(self, unpublished: bool) -> None:
        """Note (durably, before the writes) or clear (once published) ``unpublished``."""
        if unpublished:
            self.db.execute("INSERT OR REPLACE INTO about VALUES ('unpublished', 'yes')")
        else:
            self.db.execute("DELETE FROM about WHERE key = 'unpublished'")

    def invalidate(self) -> None:
        """The store's record graphs were changed in ways the rows do not follow: rebuild the
        rows at the next open (the ledger of unit statements stays)."""
        self.db.execute("INSERT OR REPLACE INTO about VALUES ('records', 'stale')")

    def _rebuild(self, store: Store, identity: str, keep_ledger: bool) -> None:
        """Rows for every record graph and every record provenance of ``store``, in one transaction.

        A content hash is kept only for a graph that has data: provenance
        alone (data removed by hand) makes the next ingest rewrite the graph.
        Record graphs are told from unit graphs by the layout of the metadata
        graphs their provenance is in (``{base}graph/meta``).

        ``keep_ledger`` (the same store, its record rows only untrusted): each
        row keeps its ``units``, so the record's unit statements are still
        retracted when it is replaced. Otherwise (another store, or an index
        of another schema) nothing says who stated a unit statement: each one
        the store holds is counted once, as stated by no record, so nothing is
        lost, but it stays until a writer removes it. Logged as a warning.

        A journal of another store means nothing here, so it goes too.
        Measured: 2.5 s for the 55,838 graphs of the x10 benchmark store;
        logged, as it only happens after a change the index could not follow.
        """
        started = time.perf_counter()
        provenance = [
            q for q in store.quads_for_pattern(None, RDF.type, CG.RecordGraph, None)
            if isinstance(q.subject, NamedNode) and isinstance(q.graph_name, NamedNode)
        ]  # fmt: skip
        bases = {q.graph_name.value for q in provenance}
        layouts = [layout for layout in map(_layout_of, bases) if layout is not None]
        record_graphs = [
            g.value
            for g in store.named_graphs()
            if isinstance(g, NamedNode) and any(layout.is_record_graph(g.value) for layout in layouts)
        ]
        units: dict[str, bytes] = {}
        unattributed = 0
        with self._transaction() as db:
            if keep_ledger:
                units = dict(db.execute("SELECT graph, units FROM record_graph WHERE units IS NOT NULL"))
            db.execute("DELETE FROM record_graph")
            db.execute("DELETE FROM pending")
            insert_many(db, "INSERT OR IGNORE INTO record_graph (graph)", ((g,) for g in record_graphs), 1)
            db.executemany(
                "UPDATE record_graph SET content_hash = ? WHERE graph = ?",
                (
                    (q.object.value, q.subject.value)
                    for q in store.quads_for_pattern(None, CG.contentHash, None, None)
                    if isinstance(q.subject, NamedNode)
                ),
            )
            # provenance of a graph whose data is gone: present, its hash not trusted
            insert_many(
                db, "INSERT OR IGNORE INTO record_graph (graph)", ((q.subject.value,) for q in provenance), 1
            )
            # rows of graphs gone from the store keep their unit statements, to retract them later
            insert_many(db, "INSERT OR IGNORE INTO record_graph (graph)", ((g,) for g in units), 1)
            db.executemany("UPDATE record_graph SET units = ? WHERE graph = ?", ((u, g) for g, u in units.items()))
            if not keep_ledger:
                unattributed = self._count_unit_statements(db, store, layouts)
            db.executemany(
                "INSERT OR REPLACE INTO about VALUES (?, ?)",
                [("store", identity), ("schema", SCHEMA_VERSION)],
            )
            db.execute("DELETE FROM about WHERE key = 'records'")
            count = db.execute("SELECT count(*) FROM record_graph").fetchone()[0]
        if not keep_ledger and unattributed:
            log.warning(
                "the record index did not describe this store: %d statement(s) about shared units "
                "are kept as stated by no record (they stay until a writer removes them); a fresh "
                "ingest into a new data directory avoids this",
                unattributed,
            )
        if not count:
            return
        log.warning(
            "rebuilt the record index from the store: %d graph(s) in %.1f s",
            count,
            time.perf_counter() - started,
        )

    @staticmethod
    def _count_unit_statements(db: sqlite3.Connection, store: Store, layouts: list[Layout]) -> int:
        """Start the ledger afresh from the unit graphs of ``store`` (``_rebuild``)."""
        for table in ("unit_group", "unit_group_text", "unit_edit"):  # not executescript: it commits
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table names
        count = 0
        batch: list[bytes] = []
        for quad in store:
            graph = quad.graph_name
            if not isinstance(graph, NamedNode) or any(
                layout.is_catalograph_graph(graph.value) for layout in layouts
            ):
                continue
            batch.append(quad_line(quad))
            if len(batch) >= 10_000:
                count_unattributed(db, batch)
                count += len(batch)
                batch = []
        count_unattributed(db, batch)
        return count + len(batch)

    # ------------------------------------------------------------ reads

    def lookup(self, graphs: Sequence[str]) -> dict[str, IndexedGraph]:
        """The rows of those of ``graphs`` the index knows (held by the store, or retracted later)."""
        found: dict[str, IndexedGraph] = {}
        for start in range(0, len(graphs), _CHUNK):
            chunk = graphs[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))  # placeholders only: the IRIs are parameters
            query = f"{_SELECT_ROWS} WHERE graph IN ({marks})"  # noqa: S608
            for row in self.db.execute(query, chunk):
                found[row[0]] = IndexedGraph(*row)
        return found

    def count(self) -> int:
        """How many record graphs the store holds."""
        return self.db.execute("SELECT COUNT(*) FROM record_graph").fetchone()[0]

    def holds_graph_under(self, prefix: str) -> bool:
        """Whether the index has a record graph whose IRI starts with ``prefix`` (a source's
        graphs: ``{base}graph/crossref/``), by one seek: a question the store could answer only
        by a scan of every record graph's statements."""
        row = self.db.execute(
            "SELECT graph FROM record_graph WHERE graph >= ? ORDER BY graph LIMIT 1", (prefix,)
        ).fetchone()
        return row is not None and row[0].startswith(prefix)

    def pending(self) -> list[tuple[str, str]]:
        """The journal: ``(graph, metadata graph)`` of a batch that did not finish."""
        return self.db.execute("SELECT graph, metadata_graph FROM pending").fetchall()

    # ------------------------------------------------------------ a batch

    def begin_batch(
        self,
        graphs: Iterable[tuple[str, bytes | None]],
        metadata_graph: str,
        units: UnitPlan | None = None,
    ) -> None:
        """Journal the batch (durably) before it drops or writes anything: every graph it
        drops or writes, with what each record written now says about units (``None`` for a
        graph only dropped), and the unit statements' new counts (``Ledger.journal``)."""
        with self._transaction() as db:
            insert_many(
                db,
                "INSERT OR REPLACE INTO pending",
                ((graph, metadata_graph, said) for graph, said in graphs),
                width=3,
            )
            if units:
                self.ledger.journal(units)
                units.said.clear()  # counted: what the records say is not needed past here
                units.texts.clear()

    def commit_batch(
        self,
        written: Iterable[IndexedGraph],
        removed: Iterable[str],
        units: UnitPlan | None = None,
        search: SearchUpdate | None = None,
    ) -> None:
        """The batch is in the store: record what it wrote and removed, write the search
        documents it changed, note the units whose patterns for the mentions it may have
        changed (``graph.mention_changes``), and clear the journal."""
        with self._transaction() as db:
            if units is not None:  # (its ``said`` is cleared once journaled: not its lines)
                entered, left = units.cut()  # cut once for the search and both notes
                lines = [*entered, *left]
                mention_changes.note(db, mention_changes.mention_subjects(lines))
                candidate_changes.note(db, candidate_changes.candidate_subjects(lines))  # the same, for the candidates
            if search:
                self.search.apply(search)
            delete_many(db, "record_graph", list(removed), column="graph")
            insert_many(
                db,
                "INSERT OR REPLACE INTO record_graph",
                (
                    (e.graph, e.content_hash, e.written_at, e.source_file, e.position,
                     e.byte_offset, e.line, e.identifier, e.datestamp, e.units)
                    for e in written
                ),  # fmt: skip
                width=10,
            )
            db.execute("DELETE FROM pending")
            self.ledger.commit()

    def recover(self, store: Store) -> list[str]:
        """Roll back a batch the journal says did not finish; returns the graphs dropped.

        Every graph in the journal is dropped with its provenance, and the
        records behind them take back what they said about units
        (``Ledger.recover``), so they are absent as a whole. The store's
        writes are flushed before the journal is cleared, in one transaction
        with the ledger's, so a recovery cut short is simply run again.
        """
        self.recover_edit(store)
        entries = self.pending()
        if not entries:
            return []
        graphs = [graph for graph, _ in entries]
        with self._transaction() as db:
            loaded = [units for (units,) in db.execute("SELECT units FROM pending WHERE units IS NOT NULL")]
            settled = self.ledger.recover(store, loaded)
            for graph, metadata_graph in entries:
                drop_record_graph(store, NamedNode(graph), NamedNode(metadata_graph))
            store.flush()
            # what the rolled-back graphs described before, and the units that changed
            changed_units = subjects(b"".join(settled))
            touched = self.search.fed_by(graphs) | changed_units | self.search.unit_feeds(changed_units)
            self.search.apply(self.search.derive(store, touched - set(graphs)))
            delete_many(db, "record_graph", graphs, column="graph")
            db.execute("DELETE FROM pending")
        log.warning("rolled back %d record graph(s) of an interrupted batch", len(entries))
        return graphs

    # ------------------------------------------------------------ other writers

    def begin_edit(self, before: dict[str, bytes], changeset: str) -> None:
        """Journal an edit: every graph it may change (``""``: the default graph), as it is now."""
        with self._transaction() as db:
            insert_many(
                db,
                "INSERT OR REPLACE INTO pending_edit",
                ((graph, data, changeset) for graph, data in before.items()),
                width=3,
            )

    def end_edit(self) -> None:
        """Inside the edit's closing transaction: the edit is done, its journal goes."""
        self.db.execute("DELETE FROM pending_edit")

    def recover_edit(self, store: Store) -> list[str]:
        """Undo an edit the journal says did not finish: each graph back to its journaled
        state, its changeset graph dropped. Idempotent, like every recovery here."""
        rows = self.db.execute("SELECT graph, before, changeset FROM pending_edit").fetchall()
        if not rows:
            return []
        graphs = [graph for graph, _, _ in rows]
        touched = self.search.fed_by(graphs) | subjects(b"".join(before for _, before, _ in rows))
        touched |= self.graph_subjects(store, graphs)
        restore_graphs(store, {graph: before for graph, before, _ in rows})
        for changeset in {changeset for _, _, changeset in rows}:
            store.remove_graph(NamedNode(changeset))
        store.flush()
        with self._transaction():
            self.search.apply(self.search.derive(store, touched))  # a unit graph is its resource
            self.end_edit()
        log.warning("rolled back an interrupted edit of %d graph(s)", len(rows))
        return [graph for graph, _, _ in rows]

    @staticmethod
    def graph_subjects(store: Store, graphs: Iterable[str]) -> set[str]:
        """The resources the statements of ``graphs`` are about now (for the search index)."""
        found: set[str] = set()
        for iri in graphs:
            for quad in store.quads_for_pattern(None, None, None, graph_name(iri)):
                if isinstance(quad.subject, NamedNode):
                    found.add(quad.subject.value.partition("#")[0])
        return found

    def publish_search(self, store: Store, checkpoint: Path) -> float:
        """Give a checkpoint being published (``graph.snapshots.checkpoint``) its copy of the
        search index, settled first (``settle_search``); returns the seconds the copy took.
        After writes the index could not follow (``open_store`` for writing:
        ``invalidate``) the search is derived again first."""
        if self.db.execute("SELECT 1 FROM about WHERE key = 'records'").fetchone() is not None:
            with self._transaction():
                self.search.rebuild(store)
        self.settle_search(store)
        return self.search.publish(checkpoint / PUBLISHED_FILE)

    def settle_search(self, store: Store, chunks: int | None = None, size: int = SETTLE_CHUNK) -> int:
        """Derive the documents the session's batches left stale (``SearchIndex.settle``, at
        most ``chunks`` transactions of ``size``); returns how many. The writer's session calls
        it before it publishes or ends."""
        started = time.perf_counter()
        settled = self.search.settle(store, chunks, size)
        if settled:
            log.info("settled %d search document(s) in %.1f s", settled, time.perf_counter() - started)
        return settled

    def refresh(self, store: Store, graphs: Iterable[str]) -> None:
        """Set the rows of ``graphs`` to what the store now holds (after an edit naming them).

        A row keeps the record's unit statements (``units``) even when an edit
        dropped its graph: the record still states them until it is ingested
        again or deleted, which retracts them.
        """
        with self._transaction() as db:
            for iri in set(graphs):
                try:
                    graph = NamedNode(iri)
                except ValueError:
                    continue
                has_data = store.contains_named_graph(graph)
                described = next(store.quads_for_pattern(graph, RDF.type, CG.RecordGraph, None), None)
                if described is None and not has_data:
                    db.execute("DELETE FROM record_graph WHERE graph = ? AND units IS NULL", (iri,))
                    db.execute("UPDATE record_graph SET content_hash = NULL WHERE graph = ?", (iri,))
                    continue
                hashed = next(store.quads_for_pattern(graph, CG.contentHash, None, None), None)
                trusted = hashed.object.value if hashed is not None and has_data else None
                db.execute(
                    "INSERT INTO record_graph (graph, content_hash) VALUES (?, ?) "
                    "ON CONFLICT(graph) DO UPDATE SET content_hash = excluded.content_hash",
                    (iri, trusted),
                )

    # ------------------------------------------------------------ helpers

    def transaction(self) -> ImmediateTransaction:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` on the index (``ROLLBACK`` on an exception)."""
        return ImmediateTransaction(self.db)

    _transaction = transaction


def graph_name(iri: str) -> NamedNode | DefaultGraph:
    """The graph an edit's journal names (``""`` is the default graph)."""
    return DefaultGraph() if iri == "" else NamedNode(iri)


def restore_graphs(store: Store, before: dict[str, bytes]) -> None:
    """Put each graph back as it was (N-Quads of its statements, ``""``: the default graph)."""
    for graph, data in before.items():
        name = graph_name(graph)
        if isinstance(name, DefaultGraph):
            store.clear_graph(name)
        else:
            store.remove_graph(name)
        quads = list(parse(data, RdfFormat.N_QUADS))
        if quads:
            store.extend(quads)


def _layout_of(metadata_graph: str) -> Layout | None:
    """The layout whose metadata graph is ``metadata_graph`` (``{base}graph/meta``)."""
    probe = Layout("http://example.org/")
    suffix = probe.metadata_graph.value[len(probe.base) :]
    if not metadata_graph.endswith(suffix):
        return None
    try:
        return Layout(metadata_graph[: -len(suffix)])
    except ValueError:
        return None


def _is_empty(store: Store) -> bool:
    return next(iter(store), None) is None

