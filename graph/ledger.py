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
    pending_unit(hash, old_refs, quad)
        the journal of a batch: the counts it changes, as they were before

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
    hash BLOB PRIMARY KEY,
    refs INTEGER NOT NULL,
    quad TEXT NOT NULL,
    choice TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unit_statement_choice ON unit_statement(choice) WHERE choice IS NOT NULL;
CREATE TABLE IF NOT EXISTS unit_edit (
    hash BLOB PRIMARY KEY,
    quad TEXT NOT NULL,
    sign INTEGER NOT NULL,
    changeset TEXT NOT NULL,
    choice TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending_unit (
    hash BLOB PRIMARY KEY,
    old_refs INTEGER NOT NULL,
    quad TEXT
) WITHOUT ROWID;
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

    #: hash -> (count before, count after)
    refs: dict[bytes, tuple[int, int]] = field(default_factory=dict)
    #: hash -> row as it will be (refs after); rows whose count falls to 0 are deleted
    rows: dict[bytes, Row] = field(default_factory=dict)
    #: N-Quads lines to load into the store
    add: list[str] = field(default_factory=list)
    #: N-Quads lines to remove from the store
    remove: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.refs)


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
            plan.refs[digest] = (before, after)
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
        for choice in groups:
            old = before.get(choice, {})
            new = dict(old)
            for digest, row in plan.rows.items():
                if row.choice == choice:
                    new[digest] = row
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
        """Inside the journal's transaction: the new counts, and the old ones for a rollback."""
        db = self.db
        gone = [(d, before, plan.rows[d].quad) for d, (before, after) in plan.refs.items() if not after]
        kept = [(d, before, None) for d, (before, after) in plan.refs.items() if after]
        insert_many(db, "INSERT OR REPLACE INTO pending_unit", gone + kept, width=3)
        insert_many(
            db,
            "INSERT INTO unit_statement",
            ((d, row.refs, row.quad, row.choice) for d, row in plan.rows.items() if row.refs),
            width=4,
            tail=" ON CONFLICT(hash) DO UPDATE SET refs = excluded.refs",
        )
        delete_many(db, "unit_statement", [d for d, _, _ in gone])

    def clear_journal(self) -> None:
        self.db.execute("DELETE FROM pending_unit")

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

    def recover(self, store: Store, rolled_back: Iterable[bytes | None]) -> int:
        """Inside the recovery's transaction: undo an interrupted batch's counts.

        The batch's records are being rolled back (their graphs dropped), so
        their committed statements are retracted too (``rolled_back``: their
        ``units``); then every statement touched is put in the store, or taken
        out, as the ledger now says. Store writes are idempotent, so a
        recovery cut short is simply run again. Returns the statements settled.
        """
        db = self.db
        journal = db.execute("SELECT hash, old_refs, quad FROM pending_unit").fetchall()
        touched = [digest for digest, _, _ in journal]
        current = self.rows(touched)
        restore = []
        lines: dict[bytes, str] = {}
        for digest, old_refs, quad in journal:
            row = current.get(digest)
            line = quad if row is None else row.quad
            if line is None:
                continue
            lines[digest] = line
            restore.append((digest, old_refs, line))
        delete_many(db, "unit_statement", touched)
        insert_many(
            db,
            "INSERT INTO unit_statement",
            ((d, refs, line, choice_key(line)) for d, refs, line in restore if refs),
            width=4,
        )
        retract: dict[bytes, int] = {}
        for units in rolled_back:
            for digest in split_hashes(units):
                retract[digest] = retract.get(digest, 0) + 1
        rows = self.rows(list(retract))
        for digest, count in retract.items():
            row = rows.get(digest)
            if row is None:
                continue
            lines[digest] = row.quad
            refs = max(row.refs - count, 0)
            if refs:
                db.execute("UPDATE unit_statement SET refs = ? WHERE hash = ?", (refs, digest))
            else:
                db.execute("DELETE FROM unit_statement WHERE hash = ?", (digest,))
        self.settle(store, lines)
        db.execute("DELETE FROM pending_unit")
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
