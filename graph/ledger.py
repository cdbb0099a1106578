"""The ledger of unit statements: who says what about the shared knowledge units.

A statement about a shared unit (an agent's name, a concept's scheme, a
Work's subject) lives once, in the unit's own graph (``ontology.layout``),
however many records make it. The store alone cannot tell when to remove it,
so the ledger, kept in the record index (``graph.record_index``), counts it:

    unit_statement(hash, refs, choice)
        every unit statement some record makes: its 16-byte BLAKE2b hash, how
        many records make it, and for a functional property (one value per
        subject: ``bf:instanceOf``) the ``<s> <p>`` it is a value of
    unit_text(hash, quad)
        its N-Quads line, read only to take it out of the store
    record_graph.units
        the hashes of each stored record's unit statements, so that replacing
        or deleting a record retracts exactly what it said
    unit_edit(hash, quad, sign, changeset, choice)
        what writers (catalogers, SPARQL Update, the Graph Store Protocol)
        added (+1) or removed (-1) in unit graphs; it outlives every re-ingest

A batch writes its new counts with its journal (``RecordIndex.begin_batch``),
which also keeps, for each record it loads, the hashes of what that record
now says (``pending.units``). A count that falls to zero keeps its row (and
so its N-Quads line) until the batch commits. So a batch cut short is rolled
back by taking each loaded record's statements off the counts again
(``Ledger.recover``): the records it touched end up absent, as the journal's
rollback of their graphs requires, and every statement touched is put in or
taken out of the store as the counts then say.

A statement is in the store when a writer added it, or when some record
makes it and no writer removed it. For a functional property, among the
values records give, the store keeps one: the one most records give (ties:
the first in code-point order of their N-Quads), unless a writer added one
(then the writer's). The result is a function of the records stored and the
edits made, never of their order: a store built by any sequence of
ingests, re-ingests, deletions and edits equals one built from scratch.

Why counts in SQLite and not the store: Oxigraph keeps a set of quads and
cannot count who states one; a count per statement costs one row here, and a
batch of new records still touches the store through its bulk load only.
The counts are kept apart from the texts: a batch looks up and updates the
count of each statement it touches, at random places in the table, and a
row of a hash and a count keeps that table small enough for SQLite's cache;
a text (~200 bytes) is written once, at the end of its table, and read only
when its statement leaves the store.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

from ontology.namespaces import BF, OWL, RDF
from ontology.records import STATEMENT_HASH_SIZE, statement_hashes
from ontology.vocabulary import ontology_path

log = logging.getLogger(__name__)

HASH_SIZE = STATEMENT_HASH_SIZE
#: Parameters per SQL statement at most. Few statements matter: the sqlite3 module releases
#: the GIL at each one, and the writer thread then waits for the mapping thread to give it
#: back (up to the 5 ms switch interval: measured, 1,002 statements of 999 parameters cost
#: 5.1 s of a 13 s writer). But not too many either: a prepared statement takes memory in
#: proportion (tens of MB for statements of 32,766, kept in the connection's cache).
MAX_PARAMETERS = 8_192

SCHEMA = """
CREATE TABLE IF NOT EXISTS unit_statement (
    hash BLOB PRIMARY KEY,
    refs INTEGER NOT NULL,
    choice BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS unit_text (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    quad BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS unit_statement_choice ON unit_statement(choice) WHERE choice IS NOT NULL;
CREATE TABLE IF NOT EXISTS unit_edit (
    hash BLOB PRIMARY KEY,
    quad BLOB NOT NULL,
    sign INTEGER NOT NULL,
    changeset TEXT NOT NULL,
    choice BLOB
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unit_statement_unstated ON unit_statement(refs) WHERE refs <= 0;
"""

#: A batch's working tables, private to the writer's connection (SQLite's temporary
#: storage: pages beyond its small cache go to a temporary file, so memory stays bounded).
TEMPORARY = """
CREATE TEMP TABLE IF NOT EXISTS unit_delta (
    hash BLOB PRIMARY KEY,
    change INTEGER NOT NULL,
    before INTEGER NOT NULL,
    edit INTEGER NOT NULL,
    line BLOB,
    choice BLOB
) WITHOUT ROWID;
"""
#: Each statement the batch changes (``{values}``: hash, change, line, choice): its count
#: before, any writer's edit of it, and its line (the ledger's, or the batch's for a
#: statement new to it). A statement only retracted and unknown to the ledger (never
#: counted) is left out.
_DELTA = """
INSERT INTO temp.unit_delta (hash, change, before, edit, line, choice)
SELECT s.column1, s.column2, COALESCE(u.refs, 0), COALESCE(e.sign, 0),
       s.column3, COALESCE(u.choice, s.column4)
FROM (VALUES {values}) AS s
LEFT JOIN unit_statement AS u ON u.hash = s.column1
LEFT JOIN unit_edit AS e ON e.hash = s.column1
WHERE u.hash IS NOT NULL OR s.column3 IS NOT NULL
"""
#: In the store after the batch, not before (``present``: a writer's edit decides, else the
#: count), and not a functional property's value (settled apart).
_ENTERING = """
SELECT line FROM temp.unit_delta
WHERE choice IS NULL AND edit = 0 AND before <= 0 AND before + change > 0
"""
_LEAVING = """
SELECT t.quad AS line FROM temp.unit_delta AS d JOIN unit_text AS t ON t.hash = d.hash
WHERE d.choice IS NULL AND d.edit = 0 AND d.before > 0 AND d.before + d.change <= 0
"""
_GROUPS = """
SELECT json_group_array(json_array(
    hex(d.hash), d.before, d.before + d.change, hex(COALESCE(d.line, t.quad)), hex(d.choice)))
FROM temp.unit_delta AS d LEFT JOIN unit_text AS t ON t.hash = d.hash
WHERE d.choice IS NOT NULL
"""
_COUNT = """
INSERT INTO unit_statement (hash, refs, choice)
SELECT hash, MAX(before + change, 0), choice FROM temp.unit_delta WHERE true
ON CONFLICT(hash) DO UPDATE SET refs = excluded.refs
"""
_TEXT = """
INSERT OR IGNORE INTO unit_text (hash, quad)
SELECT hash, line FROM temp.unit_delta WHERE before = 0 AND line IS NOT NULL
"""
_UNSTATED = "SELECT s.hash, t.quad FROM unit_statement AS s JOIN unit_text AS t USING (hash) WHERE s.refs <= 0"
_FORGET = """
DELETE FROM unit_text WHERE hash IN (SELECT hash FROM unit_statement WHERE refs <= 0);
DELETE FROM unit_statement WHERE refs <= 0
"""


def statement_hash(line: bytes) -> bytes:
    """The ledger's key of one N-Quads line (``<s> <p> <o> <g> .\\n``)."""
    return statement_hashes([line])


def quad_line(quad: Quad) -> bytes:
    """A quad as the one N-Quads line ingest writes for it (pyoxigraph's own term syntax, UTF-8).

    The ledger keeps lines as bytes, as the mapper makes them and the bulk
    load takes them: nothing on the writer's path decodes or encodes them.

    >>> from pyoxigraph import Literal
    >>> g = NamedNode("http://example.org/agent/k1")
    >>> line = quad_line(Quad(g, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), Literal("Zola, Émile"), g))
    >>> line.decode().split(" ", 2)[2]
    '"Zola, Émile" <http://example.org/agent/k1> .\\n'
    """
    return f"{quad.subject} {quad.predicate} {quad.object} {quad.graph_name} .\n".encode()


def split_hashes(units: bytes | None) -> list[bytes]:
    """The hashes a ``record_graph.units`` value holds."""
    if not units:
        return []
    return [units[i : i + HASH_SIZE] for i in range(0, len(units), HASH_SIZE)]


@lru_cache(maxsize=1)
def functional_properties() -> frozenset[str]:
    """Properties a unit has one value of (``owl:FunctionalProperty`` in the ontology on BIBFRAME terms).

    >>> "http://id.loc.gov/ontologies/bibframe/instanceOf" in functional_properties()
    True
    """
    found = set()
    with ontology_path().open("rb") as handle:
        for quad in parse(handle, RdfFormat.TURTLE):
            if quad.predicate == RDF.type and quad.object == OWL.FunctionalProperty:
                subject = quad.subject
                if isinstance(subject, NamedNode) and subject.value.startswith(str(BF)):
                    found.add(subject.value)
    return frozenset(found)


@lru_cache(maxsize=1)
def _functional_iris() -> frozenset[bytes]:
    return frozenset(iri.encode() for iri in functional_properties())


@lru_cache(maxsize=1)
def _functional_hint() -> bytes | None:
    """The one functional property's ``<iri>``: a line without it needs no ``choice_key`` (a
    cheap test on the writer's path); ``None`` when there are several to look for."""
    iris = functional_properties()
    return f"<{next(iter(iris))}>".encode() if len(iris) == 1 else None


def choice_key(line: bytes) -> bytes | None:
    """``<s> <p>`` when the line states a functional property, else ``None``.

    >>> choice_key(b"<http://e.org/i> <http://id.loc.gov/ontologies/bibframe/instanceOf> <http://e.org/w> <http://e.org/i> .")
    b'<http://e.org/i> <http://id.loc.gov/ontologies/bibframe/instanceOf>'
    >>> choice_key(b'<http://e.org/i> <http://www.w3.org/2000/01/rdf-schema#label> "x" <http://e.org/i> .') is None
    True
    """
    subject_end = line.find(b"> <")
    if subject_end < 0:
        return None
    predicate_end = line.find(b">", subject_end + 3)
    if line[subject_end + 3 : predicate_end] not in _functional_iris():
        return None
    return line[: predicate_end + 1]


def _lines(db: sqlite3.Connection, query: str) -> list[bytes]:
    """The lines a query selects, fetched as one value (one step of SQLite, not one per row:
    each step gives the GIL away)."""
    (joined,) = db.execute(f"SELECT CAST(group_concat(line, '') AS BLOB) FROM ({query})").fetchone()  # noqa: S608
    return joined.splitlines(keepends=True) if joined else []


def _forget(db: sqlite3.Connection) -> None:
    """Drop the rows (and texts) of statements no record makes any more."""
    for statement in _FORGET.split(";"):
        db.execute(statement)


def max_parameters(db: sqlite3.Connection) -> int:
    """Parameters one statement may bind on ``db`` (``MAX_PARAMETERS`` at most)."""
    return min(db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), MAX_PARAMETERS)


def parse_line(line: bytes) -> Quad:
    return next(iter(parse(line, RdfFormat.N_QUADS)))


@dataclass(slots=True)
class Row:
    """A ``unit_statement`` row as a batch sees it (``quad`` ``None``: its text, unread)."""

    refs: int
    quad: bytes | None
    choice: bytes | None


@dataclass(slots=True)
class UnitPlan:
    """One batch's unit statements: what its records say and no longer say, and, once it is
    journaled (``Ledger.journal``), the N-Quads lines to load into and remove from the store."""

    #: ``(hash, change of its count, N-Quads line or None, choice or None)`` per statement the
    #: batch's records start or stop making; the line is known when a record starts making it
    said: list[tuple[bytes, int, bytes | None, bytes | None]] = field(default_factory=list)
    #: N-Quads lines to load into the store
    add: list[bytes] = field(default_factory=list)
    #: N-Quads lines to remove from the store
    remove: list[bytes] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.said)


class Edits:
    """The writers' edits, read once per writing session (a session holds the lock, so
    no edit can be made while it runs)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        #: hash -> (sign, quad, choice)
        self.by_hash: dict[bytes, tuple[int, bytes, bytes | None]] = {}
        self.by_choice: dict[bytes, dict[bytes, tuple[int, bytes]]] = {}
        for digest, quad, sign, choice in db.execute(
            "SELECT hash, quad, sign, choice FROM unit_edit"
        ):
            self.by_hash[digest] = (sign, quad, choice)
            if choice is not None:
                self.by_choice.setdefault(choice, {})[digest] = (sign, quad)

    def sign(self, digest: bytes) -> int:
        found = self.by_hash.get(digest)
        return 0 if found is None else found[0]


def present(refs: int, sign: int) -> bool:
    """Whether a (non-functional) statement is in the store."""
    return sign > 0 or (sign == 0 and refs > 0)


def group_present(
    candidates: dict[bytes, Row], edits: dict[bytes, tuple[int, bytes]]
) -> dict[bytes, bytes]:
    """The values of a functional property the store keeps: hash -> N-Quads line."""
    asserted = {h: quad for h, (sign, quad) in edits.items() if sign > 0}
    if asserted:
        return asserted
    best = min(
        (
            (-row.refs, row.quad, h)
            for h, row in candidates.items()
            if row.refs > 0 and edits.get(h, (0, ""))[0] >= 0
        ),
        default=None,
    )
    return {} if best is None else {best[2]: best[1]}


class Ledger:
    """The unit-statement tables of one record index (its SQLite connection)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        for statement in TEMPORARY.split(";"):
            if statement.strip():
                db.execute(statement)
        self.edits = Edits(db)

    # ------------------------------------------------------------ a batch

    def plan(
        self,
        retracted: Iterable[bytes | None],
        stated: Iterable[tuple[bytes | None, bytes, bytes]],
    ) -> tuple[UnitPlan, list[bytes]]:
        """What one batch's records start and stop saying about units.

        ``retracted``: the ``units`` of records whose graph is dropped (deleted);
        ``stated``: ``(units stored before or None, N-Quads of the record's unit
        statements, their hashes)`` of every record loaded (the hashes as the
        mapper computed them, ``ontology.records.statement_hashes``, or empty).
        Returns the plan and, per loaded record in order, the ``units`` value
        to store for it.

        The batch's changes are summed per statement here with C-level
        containers (``Counter.update``, ``dict.update``), so what SQL then
        counts (``journal``) is each statement the batch touches once, however
        many of its records make it. This runs in the writer thread beside the
        mapping thread, which it takes the GIL from: measured on the benchmark
        set, a per-statement Python loop here cost 1.4-2.6 s of a 6-8 s writer.
        """
        change: Counter[bytes] = Counter()
        lines: dict[bytes, bytes] = {}
        stored: list[bytes] = []
        for old_units, data, given in stated:
            raws = data.splitlines(keepends=True)
            joined = given or statement_hashes(raws)
            hashes = split_hashes(joined)
            stored.append(joined)
            lines.update(zip(hashes, raws, strict=True))
            if old_units:
                new, old = set(hashes), set(split_hashes(old_units))
                change.update(new - old)
                change.subtract(old - new)
            else:  # GraphBuilder states each line once
                change.update(hashes)
        for units in retracted:
            change.subtract(split_hashes(units))
        hint = _functional_hint()
        plan = UnitPlan()
        plan.said = [
            (h, n, line, None if line is None or (hint is not None and hint not in line) else choice_key(line))
            for h, n in change.items()
            if n
            for line in (lines.get(h),)
        ]
        return plan, stored

    def journal(self, plan: UnitPlan) -> None:
        """Inside the journal's transaction: count the batch and fill ``plan.add``/``remove``.

        In SQL: each statement the batch touches, with its change (``plan.said``)
        joined to its count before and any writer's edit of it, into a
        temporary table; then the lines that enter and leave the store, and the
        new counts (a count that falls to zero keeps its row until the batch
        commits). A statement enters the store when its count leaves zero,
        leaves it when its count falls to zero, unless a writer's edit says
        otherwise; a functional property's values are settled in Python
        (``_plan_groups``), a few per batch.
        """
        db = self.db
        db.execute("DELETE FROM temp.unit_delta")
        per_statement = max(1, max_parameters(db) // 4)
        for start in range(0, len(plan.said), per_statement):
            chunk = plan.said[start : start + per_statement]
            values = ",".join(["(?,?,?,?)"] * len(chunk))  # placeholders only
            db.execute(_DELTA.format(values=values), [v for row in chunk for v in row])
        plan.add = _lines(db, _ENTERING)
        plan.remove = _lines(db, _LEAVING)
        (groups,) = db.execute(_GROUPS).fetchone()
        db.execute(_COUNT)
        db.execute(_TEXT)
        rows = json.loads(groups)
        if rows:
            self._plan_groups(plan, rows)

    def _plan_groups(self, plan: UnitPlan, rows: list[list]) -> None:
        """Settle the functional properties whose values this batch changes.

        ``rows``: ``[hash, count before, count after, line, choice]`` (hex for
        the bytes) of each value whose count changed; the ledger already
        holds the counts after.
        """
        changed: dict[bytes, dict[bytes, Row]] = {}
        for digest, before, _after, line, choice in rows:
            changed.setdefault(bytes.fromhex(choice), {})[bytes.fromhex(digest)] = Row(
                before, bytes.fromhex(line), bytes.fromhex(choice)
            )
        after = self.candidates(changed)
        for choice, old_values in changed.items():
            new = after.get(choice, {})
            old = {d: r for d, r in new.items() if d not in old_values} | {
                d: r for d, r in old_values.items() if r.refs > 0
            }
            edits = self.edits.by_choice.get(choice, {})
            was, now = group_present(old, edits), group_present(new, edits)
            plan.add.extend(line for digest, line in now.items() if digest not in was)
            plan.remove.extend(line for digest, line in was.items() if digest not in now)

    def rows(self, hashes: Sequence[bytes]) -> dict[bytes, Row]:
        found: dict[bytes, Row] = {}
        for chunk in _chunks(hashes, max_parameters(self.db)):
            marks = ",".join("?" * len(chunk))  # placeholders only: the hashes are parameters
            query = (
                "SELECT s.hash, s.refs, t.quad, s.choice FROM unit_statement AS s "  # noqa: S608
                f"JOIN unit_text AS t USING (hash) WHERE s.hash IN ({marks})"
            )
            for digest, refs, quad, choice in self.db.execute(query, chunk):
                found[digest] = Row(refs, quad, choice)
        return found

    def candidates(self, groups: Iterable[bytes]) -> dict[bytes, dict[bytes, Row]]:
        """Every value records give for each functional property ``<s> <p>`` of ``groups``."""
        found: dict[bytes, dict[bytes, Row]] = {}
        for chunk in _chunks(list(groups), max_parameters(self.db)):
            marks = ",".join("?" * len(chunk))  # placeholders only
            query = (  # one JSON value, not one row each: each row's step gives the GIL away
                "SELECT json_group_array(json_array(hex(s.hash), s.refs, hex(t.quad), hex(s.choice))) "  # noqa: S608
                f"FROM unit_statement AS s JOIN unit_text AS t USING (hash) WHERE s.choice IN ({marks})"
            )
            (text,) = self.db.execute(query, chunk).fetchone()
            for digest, refs, quad, choice in json.loads(text):
                key = bytes.fromhex(choice)
                found.setdefault(key, {})[bytes.fromhex(digest)] = Row(refs, bytes.fromhex(quad), key)
        return found

    def commit(self) -> None:
        """Inside the commit's transaction: the rows of statements no record makes any more go."""
        _forget(self.db)

    # ------------------------------------------------------------ writers' edits

    def record_edits(self, changeset: str, added: Iterable[bytes], removed: Iterable[bytes]) -> None:
        """Inside the edit's transaction: what a writer added (+1) to or removed (-1) from
        unit graphs, as N-Quads lines. The last word on a statement is the writer's, and it
        outlives every re-ingest of the records that state it."""
        rows = [(line, 1) for line in added] + [(line, -1) for line in removed]
        entries = []
        for line, sign in rows:
            digest = statement_hash(line)
            choice = choice_key(line)
            entries.append((digest, line, sign, changeset, choice))
            previous = self.edits.by_hash.get(digest)
            if previous is not None and previous[2] is not None:
                self.edits.by_choice.get(previous[2], {}).pop(digest, None)
            self.edits.by_hash[digest] = (sign, line, choice)
            if choice is not None:
                self.edits.by_choice.setdefault(choice, {})[digest] = (sign, line)
        insert_many(self.db, "INSERT OR REPLACE INTO unit_edit", entries, width=5)

    # ------------------------------------------------------------ recovery

    def recover(self, store: Store, loaded: Iterable[bytes | None]) -> int:
        """Inside the recovery's transaction: undo an interrupted batch's counts.

        ``loaded``: for each record the batch was loading, the hashes of what
        it says (``pending.units``). Taking them off the counts leaves those
        records absent, as the rollback of their graphs does (the batch had
        already taken off what they, and the records it deleted, said
        before). Then every statement touched, and every one no record makes
        any more, is put in the store or taken out as the ledger says, and
        the rows no record needs go. Store writes are idempotent, so a
        recovery cut short is simply run again. Returns the statements settled.
        """
        db = self.db
        retract: dict[bytes, int] = {}
        for units in loaded:
            for digest in split_hashes(units):
                retract[digest] = retract.get(digest, 0) + 1
        rows = self.rows(list(retract))
        for digest, count in retract.items():
            row = rows.get(digest)
            if row is not None:
                db.execute(
                    "UPDATE unit_statement SET refs = ? WHERE hash = ?", (max(row.refs - count, 0), digest)
                )
        lines = {digest: row.quad for digest, row in rows.items()}
        lines.update(db.execute(_UNSTATED).fetchall())
        self.settle(store, lines)
        _forget(db)
        return len(lines)

    def settle(self, store: Store, lines: dict[bytes, bytes]) -> None:
        """Make the store hold exactly those of ``lines`` (hash -> N-Quads) the ledger says it holds."""
        rows = self.rows(list(lines))
        groups: set[bytes] = set()
        keep: list[bytes] = []
        drop: list[bytes] = []
        for digest, line in lines.items():
            row = rows.get(digest)
            choice = row.choice if row is not None else choice_key(line)
            if choice is not None:
                groups.add(choice)
                continue
            if present(row.refs if row is not None else 0, self.edits.sign(digest)):
                keep.append(line)
            else:
                drop.append(line)
        if groups:
            found = self.candidates(groups)
            for choice in groups:
                candidates = found.get(choice, {})
                edits = self.edits.by_choice.get(choice, {})
                winners = group_present(candidates, edits)
                keep.extend(winners.values())
                losers = {d: r.quad for d, r in candidates.items() if d not in winners}
                losers.update({d: q for d, (_, q) in edits.items() if d not in winners})
                losers.update(
                    {d: line for d, line in lines.items() if d not in winners and choice_key(line) == choice}
                )
                drop.extend(losers.values())
        if keep:
            store.extend(parse_line(line) for line in keep)
        for line in drop:
            store.remove(parse_line(line))


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_many(
    db: sqlite3.Connection,
    head: str,
    rows: Iterable[tuple[object, ...]],
    width: int,
    tail: str = "",
) -> None:
    """``head VALUES (...), (...), ... tail``: one statement per few hundred rows, not one per row.

    Why not ``executemany``: it steps once per row, and the sqlite3 module
    releases the GIL at every step; in the writer thread each release waits
    to get the GIL back from the mapping thread (measured: 1,000 rows took
    2 ms alone and 5 s beside a busy Python thread).
    """
    per_statement = max(1, max_parameters(db) // width)
    row_marks = "(" + ",".join("?" * width) + ")"
    values = list(rows)
    for chunk in _chunks(values, per_statement):
        marks = ",".join([row_marks] * len(chunk))  # placeholders only: values are parameters
        db.execute(f"{head} VALUES {marks}{tail}", [value for row in chunk for value in row])


def delete_many(db: sqlite3.Connection, table: str, keys: Sequence[object], column: str = "hash") -> None:
    """Delete the rows of ``table`` whose ``column`` is one of ``keys`` (``max_parameters`` at a time)."""
    for chunk in _chunks(list(keys), max_parameters(db)):
        marks = ",".join("?" * len(chunk))  # placeholders only; table and column are ours
        db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)  # noqa: S608
