"""The ledger of unit statements: who says what about the shared knowledge units.

A statement about a shared unit (an agent's name, a concept's scheme, a
Work's subject) lives once, in the unit's own graph (``ontology.layout``),
however many records make it. The store alone cannot tell when to remove it,
so the ledger, kept in the record index (``graph.record_index``), counts it:

    unit_statement(hash, refs, quad, choice)
        every unit statement some record makes: its 16-byte BLAKE2b hash, how
        many records make it, its N-Quads line, and for a functional property
        (one value per subject: ``bf:instanceOf``) the ``<s> <p>`` it is a value of
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
The rows are kept in insertion order with a unique index on the hash, not
keyed by the hash itself: a statement's row (~200 bytes) then goes at the
end of the table and only the 16-byte key lands at a random place. Measured
on 224,000 upserts in batches of 28,000: 1.8 s, against 4.1 s keyed by hash.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

from ontology.namespaces import BF, OWL, RDF
from ontology.vocabulary import ontology_path

log = logging.getLogger(__name__)

#: Bytes of a statement hash (BLAKE2b): collisions are out of reach at any catalogue's size.
HASH_SIZE = 16
#: Parameters per statement (SQLite before 3.32 allows 999).
_MAX_PARAMETERS = 999

SCHEMA = """
CREATE TABLE IF NOT EXISTS unit_statement (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    refs INTEGER NOT NULL,
    quad TEXT NOT NULL,
    choice TEXT
);
CREATE INDEX IF NOT EXISTS unit_statement_choice ON unit_statement(choice) WHERE choice IS NOT NULL;
CREATE TABLE IF NOT EXISTS unit_edit (
    hash BLOB PRIMARY KEY,
    quad TEXT NOT NULL,
    sign INTEGER NOT NULL,
    changeset TEXT NOT NULL,
    choice TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unit_statement_unstated ON unit_statement(refs) WHERE refs <= 0;
"""


def statement_hash(line: bytes) -> bytes:
    """The ledger's key of one N-Quads line (``<s> <p> <o> <g> .\\n``)."""
    return hashlib.blake2b(line, digest_size=HASH_SIZE).digest()


def quad_line(quad: Quad) -> str:
    """A quad as the one N-Quads line ingest writes for it (pyoxigraph's own term syntax).

    >>> from pyoxigraph import Literal
    >>> g = NamedNode("http://example.org/agent/k1")
    >>> quad_line(Quad(g, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), Literal("Zola, Émile"), g))
    '<http://example.org/agent/k1> <http://www.w3.org/2000/01/rdf-schema#label> "Zola, Émile" <http://example.org/agent/k1> .\\n'
    """
    return f"{quad.subject} {quad.predicate} {quad.object} {quad.graph_name} .\n"


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


def choice_key(line: str) -> str | None:
    """``<s> <p>`` when the line states a functional property, else ``None``."""
    subject_end = line.find("> <")
    if subject_end < 0:
        return None
    predicate_end = line.find(">", subject_end + 3)
    if line[subject_end + 3 : predicate_end] not in functional_properties():
        return None
    return line[: predicate_end + 1]


def parse_line(line: str) -> Quad:
    return next(iter(parse(line.encode("utf-8"), RdfFormat.N_QUADS)))


@dataclass(slots=True)
class Row:
    """A ``unit_statement`` row as a batch sees it."""

    refs: int
    quad: str
    choice: str | None


@dataclass(slots=True)
class UnitPlan:
    """What one batch does to the unit statements: counts to write, quads to add and remove."""

    #: hash -> row as it will be (its count after the batch; 0: deleted when the batch commits)
    rows: dict[bytes, Row] = field(default_factory=dict)
    #: N-Quads lines to load into the store
    add: list[str] = field(default_factory=list)
    #: N-Quads lines to remove from the store
    remove: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.rows)

    @property
    def unstated(self) -> list[bytes]:
        """Statements no record makes any more: their rows go when the batch commits."""
        return [digest for digest, row in self.rows.items() if not row.refs]


class Edits:
    """The writers' edits, read once per writing session (a session holds the lock, so
    no edit can be made while it runs)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        #: hash -> (sign, quad, choice)
        self.by_hash: dict[bytes, tuple[int, str, str | None]] = {}
        self.by_choice: dict[str, dict[bytes, tuple[int, str]]] = {}
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
    candidates: dict[bytes, Row], edits: dict[bytes, tuple[int, str]]
) -> dict[bytes, str]:
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
        self.edits = Edits(db)

    # ------------------------------------------------------------ a batch

    def plan(
        self, retracted: Iterable[bytes | None], stated: Iterable[tuple[bytes | None, bytes]]
    ) -> tuple[UnitPlan, list[bytes]]:
        """The changes of one batch.

        ``retracted``: the ``units`` of records whose graph is dropped (deleted);
        ``stated``: ``(units stored before or None, N-Quads of the record's unit
        statements)`` of every record loaded. Returns the plan and, per loaded
        record in order, the ``units`` value to store for it.
        """
        delta: dict[bytes, int] = {}
        lines: dict[bytes, str] = {}
        for units in retracted:
            for digest in split_hashes(units):
                delta[digest] = delta.get(digest, 0) - 1
        stored: list[bytes] = []
        for old_units, data in stated:
            new: dict[bytes, None] = {}
            for raw in data.splitlines(keepends=True):
                digest = statement_hash(raw)
                if digest not in new:
                    new[digest] = None
                    if digest not in lines:
                        lines[digest] = raw.decode("utf-8")
            old = set(split_hashes(old_units))
            for digest in new:
                if digest not in old:
                    delta[digest] = delta.get(digest, 0) + 1
            for digest in old:
                if digest not in new:
                    delta[digest] = delta.get(digest, 0) - 1
            stored.append(b"".join(new))
        plan = UnitPlan()
        changed = [digest for digest, change in delta.items() if change]
        if not changed:
            return plan, stored
        rows = self.rows(changed)
        groups: set[str] = set()
        edits = self.edits
        for digest in changed:
            row = rows.get(digest)
            before = row.refs if row is not None else 0
            after = before + delta[digest]
            if after < 0:  # never: a record retracts only what it stated
                log.error("unit statement counted below zero; kept at zero")
                after = 0
            if row is None:
                line = lines.get(digest)
                if line is None:  # retracted, unknown to the ledger: nothing to do
                    continue
                row = Row(0, line, choice_key(line))
            plan.rows[digest] = Row(after, row.quad, row.choice)
            if row.choice is not None:
                groups.add(row.choice)
                continue
            sign = edits.sign(digest)
            was, now = present(before, sign), present(after, sign)
            if now and not was:
                plan.add.append(row.quad)
            elif was and not now:
                plan.remove.append(row.quad)
        if groups:
            self._plan_groups(plan, groups)
        return plan, stored

    def _plan_groups(self, plan: UnitPlan, groups: set[str]) -> None:
        """Settle the functional properties whose values this batch changes."""
        before = self.candidates(groups)
        changed: dict[str, dict[bytes, Row]] = {}
        for digest, row in plan.rows.items():
            if row.choice is not None:
                changed.setdefault(row.choice, {})[digest] = row
        for choice in groups:
            old = before.get(choice, {})
            new = {**old, **changed.get(choice, {})}
            edits = self.edits.by_choice.get(choice, {})
            was, now = group_present(old, edits), group_present(new, edits)
            plan.add.extend(line for digest, line in now.items() if digest not in was)
            plan.remove.extend(line for digest, line in was.items() if digest not in now)

    def rows(self, hashes: Sequence[bytes]) -> dict[bytes, Row]:
        found: dict[bytes, Row] = {}
        for chunk in _chunks(hashes, _MAX_PARAMETERS):
            marks = ",".join("?" * len(chunk))  # placeholders only: the hashes are parameters
            query = f"SELECT hash, refs, quad, choice FROM unit_statement WHERE hash IN ({marks})"  # noqa: S608
            for digest, refs, quad, choice in self.db.execute(query, chunk):
                found[digest] = Row(refs, quad, choice)
        return found

    def candidates(self, groups: Iterable[str]) -> dict[str, dict[bytes, Row]]:
        """Every value records give for each functional property ``<s> <p>`` of ``groups``."""
        found: dict[str, dict[bytes, Row]] = {}
        for chunk in _chunks(list(groups), _MAX_PARAMETERS):
            marks = ",".join("?" * len(chunk))  # placeholders only
            query = f"SELECT hash, refs, quad, choice FROM unit_statement WHERE choice IN ({marks})"  # noqa: S608
            for digest, refs, quad, choice in self.db.execute(query, chunk):
                found.setdefault(choice, {})[digest] = Row(refs, quad, choice)
        return found

    def journal(self, plan: UnitPlan) -> None:
        """Inside the journal's transaction: the batch's new counts (see the module docstring)."""
        insert_many(
            self.db,
            "INSERT INTO unit_statement (hash, refs, quad, choice)",
            ((d, row.refs, row.quad, row.choice) for d, row in plan.rows.items()),
            width=4,
            tail=" ON CONFLICT(hash) DO UPDATE SET refs = excluded.refs",
        )

    def commit(self, plan: UnitPlan) -> None:
        """Inside the commit's transaction: the rows of statements no record makes any more go."""
        delete_many(self.db, "unit_statement", plan.unstated)

    # ------------------------------------------------------------ writers' edits

    def record_edits(self, changeset: str, added: Iterable[str], removed: Iterable[str]) -> None:
        """Inside the edit's transaction: what a writer added (+1) to or removed (-1) from
        unit graphs, as N-Quads lines. The last word on a statement is the writer's, and it
        outlives every re-ingest of the records that state it."""
        rows = [(line, 1) for line in added] + [(line, -1) for line in removed]
        entries = []
        for line, sign in rows:
            digest = statement_hash(line.encode("utf-8"))
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
        unstated = db.execute("SELECT hash, quad FROM unit_statement WHERE refs <= 0").fetchall()
        lines.update(unstated)
        self.settle(store, lines)
        db.execute("DELETE FROM unit_statement WHERE refs <= 0")
        return len(lines)

    def settle(self, store: Store, lines: dict[bytes, str]) -> None:
        """Make the store hold exactly those of ``lines`` (hash -> N-Quads) the ledger says it holds."""
        rows = self.rows(list(lines))
        groups: set[str] = set()
        keep: list[str] = []
        drop: list[str] = []
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
    per_statement = max(1, _MAX_PARAMETERS // width)
    row_marks = "(" + ",".join("?" * width) + ")"
    values = list(rows)
    for chunk in _chunks(values, per_statement):
        marks = ",".join([row_marks] * len(chunk))  # placeholders only: values are parameters
        db.execute(f"{head} VALUES {marks}{tail}", [value for row in chunk for value in row])


def delete_many(db: sqlite3.Connection, table: str, keys: Sequence[object], column: str = "hash") -> None:
    """Delete the rows of ``table`` whose ``column`` is one of ``keys`` (999 at a time)."""
    for chunk in _chunks(list(keys), _MAX_PARAMETERS):
        marks = ",".join("?" * len(chunk))  # placeholders only; table and column are ours
        db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)  # noqa: S608
