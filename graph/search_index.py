"""The full-text index of resources, in the record index's SQLite file and its transactions.

Why here: the search must say what the store says, after every batch, every
deletion, every writer's edit and every recovery from a kill. The record index
already commits each of those in one SQLite transaction (its journal and
ledger, ``graph.record_index``), so the index's rows change in that same
transaction: a batch that commits changes both, one that does not changes
neither (SQLite FTS5 against tantivy: docs/benchmarks.md, "Seed search").

Tables (``SCHEMA``)::

    search_doc(id, iri, kind, label, year, languages, work, forms)   one row per resource
    search_fts(title, creator, label, variant, abstract, note) FTS5, rowid = search_doc.id
    search_facet(doc, facet, value)                            a document's facet values
    search_feed(graph, iri)                                    which resources each graph
                                                               says something about that a
                                                               document reads
    search_stale(iri)                                          documents to derive again
                                                               before the session ends

What a change touches is worked out without reading the store (``touched``):
the resources that a written record graph's statements are about, those that
the graphs it replaces or drops used to describe (``search_feed``), and the
subjects of unit statements that entered or left the store. A resource new
to the store (no ``search_feed`` rows) is derived in the batch's commit from
the batch's own N-Quads (``graph.search_batch``), which hold all it has and
cost a fraction of reading the store. A resource the store held before is
only marked stale (``search_stale``, in the same commit) and derived from the
store once, when the session settles the index (``settle``: before every
checkpoint's copy and at the end of every writer session). Deriving it in each
batch read back from the store every record graph that describes it, again
for each new record: an Instance that 18 records share (copies with one ISBN)
was read 18 times, 1 + 2 + ... + 18 graphs in all, and that took the ingest
from 1,081 to 252 records/s (docs/benchmarks.md). A stale row is committed
with the batch that made it, so a session killed before it settles leaves the
rows for the next session to settle: the index is never wrong about a
resource without knowing it.

Readers never open this file: each checkpoint carries a copy of the index as
it was when the checkpoint was taken (``publish``), settled first, so a search
answers from the same state as the SPARQL of the same checkpoint.
"""

from __future__ import annotations

import itertools
import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import NamedNode, Store

from graph.ledger import Cut, delete_many, insert_many, max_parameters
from graph.search_batch import BatchStatements
from graph.search_documents import (
    FIELDS,
    Document,
    Statement,
    Statements,
    StoreStatements,
    derive,
    kinds_by_class,
)
from graph.search_text import index_text
from graph.sqlite_transaction import ImmediateTransaction
from ontology.namespaces import BF, CG, RDF

log = logging.getLogger(__name__)

#: The copy of the index each checkpoint holds (``publish``), beside RocksDB's files.
PUBLISHED_FILE = "search.sqlite"
#: Bump when the tables or what goes in them change: the index is rebuilt from the store.
SEARCH_VERSION = "4"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS search_doc (
    id INTEGER PRIMARY KEY,
    iri TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    year INTEGER,
    languages TEXT NOT NULL,
    work TEXT,
    forms TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS search_doc_work ON search_doc(work) WHERE work IS NOT NULL;
CREATE TABLE IF NOT EXISTS search_feed (
    graph TEXT NOT NULL,
    iri TEXT NOT NULL,
    PRIMARY KEY (graph, iri)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_feed_iri ON search_feed(iri);
CREATE TABLE IF NOT EXISTS search_stale (iri TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search_facet (
    doc INTEGER NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (doc, facet, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_facet_value ON search_facet(facet, value);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    {", ".join(FIELDS)},
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
"""
_TABLES = ("search_doc", "search_feed", "search_fts", "search_stale", "search_facet")
#: Stale documents derived per transaction when the index is settled.
SETTLE_CHUNK = 2000
#: FTS5's own tables behind ``search_fts``: a checkpoint's copy takes them as they are.
_FTS_SHADOWS = ("data", "idx", "content", "docsize", "config")


#: A document's forms as JSON: one encoder (``json.dumps`` with options makes one a call).
_FORMS_JSON = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(slots=True)
class SearchUpdate:
    """Documents derived again, to be written in the commit of the change that touched them."""

    #: iri -> its document (``None``: no longer searchable)
    documents: dict[str, Document | None] = field(default_factory=dict)
    #: iri -> the graphs holding statements about it that its document reads (``search_feed``)
    feeds: dict[str, set[str]] = field(default_factory=dict)
    #: Resources whose documents the change may have made stale, derived when the index settles.
    stale: set[str] = field(default_factory=set)
    #: Seconds spent deriving them.
    seconds: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.documents or self.stale)

    def merge(self, other: SearchUpdate) -> None:
        self.documents.update(other.documents)
        self.feeds.update(other.feeds)
        self.stale |= other.stale
        self.seconds += other.seconds


def subjects(nquads: bytes) -> set[str]:
    """The resources N-Quads lines are about: each subject IRI without its fragment.

    >>> sorted(subjects(b'<http://e.org/w/1#title-1> <p> "x" <g> .\\n<http://e.org/i/2> <p> <o> <g> .\\n'))
    ['http://e.org/i/2', 'http://e.org/w/1']
    """
    found = {line[1 : line.find(b">")] for line in nquads.split(b"\n") if line.startswith(b"<")}
    return {subject.partition(b"#")[0].decode() for subject in found}


def subjects_of(cuts: Iterable[Cut]) -> set[str]:
    """``subjects`` of lines already cut (``graph.ledger.cut_lines``: a batch's unit statements).

    >>> from graph.ledger import cut_lines
    >>> sorted(subjects_of(cut_lines([b'<http://e.org/w/1#title-1> <p> "x" <g> .\\n<http://e.org/i/2> <p> <o> <g> .\\n'])))
    ['http://e.org/i/2', 'http://e.org/w/1']
    """
    found = {subject for subject, _, _ in cuts}
    return {subject.partition(b"#")[0].decode() for subject in found}


class SearchIndex:
    """The search tables of one record index connection (the writer's)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def ensure(self, store: Store) -> bool:
        """Create the tables; rebuild them from ``store`` if they are of another version
        (or new beside a store that holds data). Returns whether it rebuilt."""
        db = self.db
        version = db.execute("SELECT value FROM about WHERE key = 'search'").fetchone()
        if version is not None and version[0] == SEARCH_VERSION:
            db.executescript(SCHEMA)
            return False
        for table in _TABLES:
            db.execute(f"DROP TABLE IF EXISTS {table}")  # noqa: S608 - our own names
        db.executescript(SCHEMA)
        with ImmediateTransaction(db):
            self.rebuild(store)
            db.execute("INSERT OR REPLACE INTO about VALUES ('search', ?)", (SEARCH_VERSION,))
        return True

    # ------------------------------------------------------------ what changed

    def fed_by(self, graphs: Iterable[str]) -> set[str]:
        """The resources ``graphs`` described when the index was last written."""
        found: set[str] = set()
        keys = list(graphs)
        for start in range(0, len(keys), max_parameters(self.db)):
            chunk = keys[start : start + max_parameters(self.db)]
            marks = ",".join("?" * len(chunk))  # placeholders only
            query = f"SELECT iri FROM search_feed WHERE graph IN ({marks})"  # noqa: S608
            found.update(iri for (iri,) in self.db.execute(query, chunk))
        return found

    def touched(
        self,
        written: set[str],
        graphs: Iterable[str],
        dropped: Iterable[str],
        removed: Iterable[Cut],
        added: Iterable[Cut] = (),
    ) -> set[str]:
        """The resources a batch may have changed.

        ``written``: the resources its lines are about (``BatchStatements.resources``);
        ``graphs``: the record graphs it wrote (no resources); ``dropped``: the graphs it
        dropped or replaced (what they described, from ``search_feed``); ``removed`` and
        ``added``: the unit statements that left or entered the store (cut once for the
        batch: ``UnitPlan.cut``), and with them what their unit graphs feed
        (``unit_feeds``: a work reads its contributors' names).
        """
        dropped = set(dropped)
        removed_subjects = subjects_of(removed)
        found = written | self.fed_by(dropped) | removed_subjects
        found |= self.unit_feeds(removed_subjects | subjects_of(added))
        return found - dropped - set(graphs)

    def unit_feeds(self, units: set[str]) -> set[str]:
        """The other resources whose documents read the unit graphs of ``units`` (a unit's
        graph is named by its IRI): the works of an agent whose name changed. A common agent
        may feed thousands of works; they are marked stale and derived once when the
        index settles, not in the batch."""
        return self.fed_by(units) - units if units else set()

    # ------------------------------------------------------------ derive, then write

    def known(self, iris: Iterable[str]) -> set[str]:
        """Those of ``iris`` the store holds statements about that a document reads (they
        have ``search_feed`` rows: every change writes the rows of what it touched)."""
        found: set[str] = set()
        keys = list(iris)
        for start in range(0, len(keys), max_parameters(self.db)):
            chunk = keys[start : start + max_parameters(self.db)]
            marks = ",".join("?" * len(chunk))  # placeholders only
            query = f"SELECT DISTINCT iri FROM search_feed WHERE iri IN ({marks})"  # noqa: S608
            found.update(iri for (iri,) in self.db.execute(query, chunk))
        return found

    def derive_batch(self, touched: set[str], lines: BatchStatements, store: Store | None = None) -> SearchUpdate:
        """The change to the index of a batch that wrote ``lines`` (its records' N-Quads and
        the unit statements that entered the store) and touched ``touched``: what is new
        to the store derived from the lines, what the store held before marked stale.

        A new work may name an agent the store held before: the agent's name is not in
        the lines (its statements did not enter the store again), so the names of such
        agents are read from ``store`` (already holding the batch), a few statements each
        (``_LinesThenStore``)."""
        known = self.known(touched)
        fresh = touched - known
        source: Statements = lines
        if store is not None and fresh:
            held = self.known(lines.linked(BF.agent.value))
            if held:
                source = _LinesThenStore(lines, StoreStatements(store), held)
        update = _derived(source, fresh)
        update.stale = known
        return update

    def settle(self, store: Store, chunks: int | None = None, size: int = SETTLE_CHUNK) -> int:
        """Derive every stale document from ``store`` as it is now, in transactions of
        ``SETTLE_CHUNK`` documents (each also clears their stale rows, so one cut short
        is simply run again). Returns how many were derived. ``chunks``: at most that many
        transactions, of ``size`` documents (a caller that gives memory back between them:
        ``Writer.settle_search``)."""
        settled = 0
        for _ in range(chunks) if chunks is not None else itertools.count():
            with ImmediateTransaction(self.db):
                iris = [iri for (iri,) in self.db.execute("SELECT iri FROM search_stale LIMIT ?", (size,))]
                if not iris:
                    return settled
                self.apply(self.derive(store, iris))
            settled += len(iris)
        return settled

    def stale_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM search_stale").fetchone()[0]

    @staticmethod
    def derive(store: Store, iris: Iterable[str]) -> SearchUpdate:
        """Read the documents of ``iris`` from ``store`` as it is now (after the writes)."""
        return _derived(StoreStatements(store), iris)

    def apply(self, update: SearchUpdate) -> None:
        """Inside the change's commit: replace the rows of every resource derived again, and
        mark the stale ones."""
        if not update:
            return
        db = self.db
        iris = list(update.documents)
        delete_many(db, "search_stale", iris, column="iri")
        insert_many(db, "INSERT OR IGNORE INTO search_stale (iri)", ((iri,) for iri in update.stale), 1)
        old: dict[str, int] = {}
        for start in range(0, len(iris), max_parameters(db)):
            chunk = iris[start : start + max_parameters(db)]
            marks = ",".join("?" * len(chunk))  # placeholders only
            query = f"SELECT iri, id FROM search_doc WHERE iri IN ({marks})"  # noqa: S608
            old.update(db.execute(query, chunk))
        ids = list(old.values())
        # before the deletions: an id freed here is kept by its own resource, never given to another
        next_id = (db.execute("SELECT max(id) FROM search_doc").fetchone()[0] or 0) + 1
        delete_many(db, "search_fts", ids, column="rowid")
        delete_many(db, "search_facet", ids, column="doc")
        delete_many(db, "search_doc", ids, column="id")
        delete_many(db, "search_feed", iris, column="iri")
        docs: list[tuple[object, ...]] = []
        texts: list[tuple[object, ...]] = []
        facets: list[tuple[object, ...]] = []
        for iri, document in update.documents.items():
            if document is None:
                continue
            number = old.get(iri)
            if number is None:
                number, next_id = next_id, next_id + 1
            docs.append(
                (number, iri, document.kind, document.label, document.year,
                 " ".join(document.languages), document.work,
                 _FORMS_JSON(document.forms))
            )  # fmt: skip
            texts.append((number, *(index_text(document.text(name)) for name in FIELDS)))
            facets.extend((number, facet, value) for facet, value in document.facets)
        insert_many(db, "INSERT INTO search_doc (id, iri, kind, label, year, languages, work, forms)", docs, 8)
        insert_many(db, f"INSERT INTO search_fts (rowid, {', '.join(FIELDS)})", texts, 1 + len(FIELDS))
        insert_many(db, "INSERT INTO search_facet (doc, facet, value)", facets, 3)
        insert_many(
            db,
            "INSERT OR IGNORE INTO search_feed (graph, iri)",
            ((graph, iri) for iri, graphs in update.feeds.items() for graph in graphs),
            2,
        )

    def rebuild(self, store: Store) -> int:
        """Inside a transaction: every resource of ``store`` derived afresh. Returns the documents.

        For a store the rows cannot be trusted to describe (``RecordIndex``
        rebuilds its rows) and for an index of another version.
        """
        started = time.perf_counter()
        for table in _TABLES:
            self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - our own names
        kinds = kinds_by_class()
        iris = {
            q.subject.value
            for q in store.quads_for_pattern(None, RDF.type, None, None)
            if q.object.value in kinds and isinstance(q.subject, NamedNode) and "#" not in q.subject.value
        }
        # and every unit graph: its resource may hold statements a document reads, untyped
        ours = {q.graph_name.value for q in store.quads_for_pattern(None, RDF.type, CG.RecordGraph, None)}
        ours |= {q.subject.value for q in store.quads_for_pattern(None, RDF.type, None, None)
                 if q.object in (CG.RecordGraph, CG.Changeset)}  # fmt: skip
        iris |= {g.value for g in store.named_graphs() if isinstance(g, NamedNode) and g.value not in ours}
        count = 0
        batch: list[str] = []
        for iri in sorted(iris):
            batch.append(iri)
            if len(batch) >= 2000:
                count += self._write_fresh(store, batch)
                batch = []
        count += self._write_fresh(store, batch)
        if count:
            log.warning(
                "rebuilt the search index from the store: %d resource(s) in %.1f s",
                count,
                time.perf_counter() - started,
            )
        return count

    def _write_fresh(self, store: Store, iris: Sequence[str]) -> int:
        update = self.derive(store, iris)
        self.apply(update)
        return sum(1 for d in update.documents.values() if d is not None)

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM search_doc").fetchone()[0]

    # ------------------------------------------------------------ readers' copy

    def publish(self, path: Path) -> float:
        """Copy the index as it is now into a new SQLite file at ``path`` (a checkpoint's);
        returns the seconds it took.

        The writer calls it between batches, while nothing else writes the
        index, so the copy holds exactly what the checkpoint's store holds.
        FTS5's own tables are copied as they are (no text is tokenised
        again): the cost is a copy of the index's pages.
        """
        started = time.perf_counter()
        path.unlink(missing_ok=True)
        with closing(sqlite3.connect(path, isolation_level=None)) as copy:
            copy.executescript(SCHEMA)
        db = self.db
        db.execute("ATTACH DATABASE ? AS published", (str(path),))
        try:
            with ImmediateTransaction(db):
                for shadow in _FTS_SHADOWS:
                    table = f"search_fts_{shadow}"
                    db.execute(f"DELETE FROM published.{table}")  # noqa: S608 - our own names
                    db.execute(f"INSERT INTO published.{table} SELECT * FROM main.{table}")  # noqa: S608
                for table in ("search_doc", "search_facet"):
                    db.execute(f"INSERT INTO published.{table} SELECT * FROM main.{table}")  # noqa: S608
        finally:
            db.execute("DETACH DATABASE published")
        return time.perf_counter() - started


class _LinesThenStore:
    """A batch's lines, except the nodes in ``held`` (agents the store held before the
    batch), read from the store: the same statements the store holds, so the same document."""

    def __init__(self, lines: BatchStatements, store: StoreStatements, held: set[str]) -> None:
        self.lines, self.store, self.held = lines, store, held

    def about(self, subject: str) -> list[Statement]:
        return self.lines.about(subject)

    def of_node(self, node: str, graph: str) -> list[Statement]:
        if node in self.held:
            return self.store.of_node(node, graph)
        return self.lines.of_node(node, graph)


def _derived(source: Statements, iris: Iterable[str]) -> SearchUpdate:
    started = time.perf_counter()
    update = SearchUpdate()
    for iri in sorted(set(iris)):
        document, graphs = derive(source, iri)
        update.documents[iri] = document
        update.feeds[iri] = graphs
    update.seconds = time.perf_counter() - started
    return update
