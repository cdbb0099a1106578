"""The ledger of unit statements: who says what about the shared knowledge units.

A statement about a shared unit (an agent's name, a concept's scheme, a
Work's subject) lives once, in the unit's own graph (``ontology.layout``),
however many records make it. The store alone cannot tell when to remove it,
so the ledger, kept in the record index (``graph.record_index``), counts who
makes it. It counts groups, not statements: all that one record says about
one unit is one group (``ontology.records.UnitGroup``), and two records that
say the same about a unit give the same group::

    unit_group(key, unit, refs, choice)
        every group some record makes: its 16-byte key (the hash of its
        lines), the unit's 64-bit id (``ontology.records.unit_id``), how many
        records make it, and, for the one statement of a functional property
        (one value per subject: ``bf:instanceOf``), a group of its own, the
        ``<s> <p>`` it is a value of
    unit_group_text(key, lines)
        its N-Quads lines, read when a group leaves and for recovery
    record_graph.units
        the keys of each stored record's groups, so that replacing or
        deleting a record retracts exactly what it said
    unit_edit(hash, quad, sign, changeset, choice)
        what writers (catalogers, SPARQL Update, the Graph Store Protocol)
        added (+1) or removed (-1) in unit graphs, per statement; it outlives
        every re-ingest

A statement is in the store when a writer added it, or when some group that
records make (``refs > 0``) holds it and no writer removed it. For a
functional property, among the values records give, the store keeps one: the
one most records give (ties: the first in code-point order of their
N-Quads), unless a writer added one (then the writer's). The result is a
function of the records stored and the edits made, never of their order: a
store built by any sequence of ingests, re-ingests, deletions and edits
equals one built from scratch.

A batch writes its new counts with its journal (``RecordIndex.begin_batch``),
which also keeps, for each record it loads, the keys of what that record now
says (``pending.units``). A count that falls to zero keeps its row (and so
its lines) until the batch commits. So a batch cut short is rolled back by
taking each loaded record's groups off the counts again (``Ledger.recover``):
the records it touched end up absent, as the journal's rollback of their
graphs requires, and every statement of every group touched is put in or
taken out of the store as the counts then say.

Why counts in SQLite and not the store: Oxigraph keeps a set of quads and
cannot count who states one; a count per group costs one row here, and a
batch of new records still touches the store through its bulk load only.
Why groups: a batch looks up and updates the count of each group it touches,
at random places in the table; per statement that was six times the rows,
and the largest cost of the ledger (docs/benchmarks.md). The price is paid
when a group leaves: its statements go only if no other group of the unit
still holds them, which takes reading the unit's other groups.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pyoxigraph import Quad, RdfFormat, Store, parse

from ontology.records import KEY_SIZE, group_fields, group_nquads, line_graph, line_key, unit_id
from ontology.vocabulary import functional_properties

log = logging.getLogger(__name__)

#: Parameters per SQL statement at most. Few statements matter: the sqlite3 module releases
#: the GIL at each one, and the writer thread then waits for the mapping thread to give it
#: back (up to the 5 ms switch interval: measured, 1,002 statements of 999 parameters cost
#: 5.1 s of a 13 s writer). But not too many either: a prepared statement takes memory in
#: proportion (tens of MB for statements of 32,766, kept in the connection's cache).
MAX_PARAMETERS = 8_192

SCHEMA = """
CREATE TABLE IF NOT EXISTS unit_group (
    key BLOB PRIMARY KEY,
    unit INTEGER NOT NULL,
    refs INTEGER NOT NULL,
    choice BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS unit_group_text (
    id INTEGER PRIMARY KEY,
    key BLOB NOT NULL UNIQUE,
    lines BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS unit_group_unit ON unit_group(unit);
CREATE INDEX IF NOT EXISTS unit_group_choice ON unit_group(choice) WHERE choice IS NOT NULL;
CREATE INDEX IF NOT EXISTS unit_group_unstated ON unit_group(refs) WHERE refs <= 0;
CREATE TABLE IF NOT EXISTS unit_edit (
    hash BLOB PRIMARY KEY,
    quad BLOB NOT NULL,
    sign INTEGER NOT NULL,
    changeset TEXT NOT NULL,
    choice BLOB
) WITHOUT ROWID;
"""

#: A batch's working table, private to the writer's connection (SQLite's temporary
#: storage: pages beyond its small cache go to a temporary file, so memory stays bounded).
#: It holds keys and counts only: group texts (~700 bytes each) go straight to their table.
TEMPORARY = """
CREATE TEMP TABLE IF NOT EXISTS unit_delta (
    key BLOB PRIMARY KEY,
    change INTEGER NOT NULL,
    before INTEGER NOT NULL,
    unit INTEGER NOT NULL,
    choice BLOB,
    known INTEGER NOT NULL
) WITHOUT ROWID;
"""
#: Each group the batch changes (``{values}``: key, change, unit, choice): its count before
#: and whether the ledger knows it. A group only retracted and unknown to the ledger (never
#: counted) is left out.
_DELTA = """
INSERT INTO temp.unit_delta (key, change, before, unit, choice, known)
SELECT s.column1, s.column2, COALESCE(u.refs, 0), COALESCE(u.unit, s.column3),
       COALESCE(u.choice, s.column4), u.key IS NOT NULL
FROM (VALUES {values}) AS s
LEFT JOIN unit_group AS u ON u.key = s.column1
WHERE u.key IS NOT NULL OR s.column3 IS NOT NULL
"""
#: Groups that records start making, and stop making (functional values are settled apart).
_ENTERING_WHERE = "choice IS NULL AND before <= 0 AND before + change > 0"
_LEAVING_WHERE = "d.choice IS NULL AND d.before > 0 AND d.before + d.change <= 0"
#: Keys, fetched as one value (fixed size, so they split back without a separator).
_ENTERING = f"SELECT CAST(group_concat(key, '') AS BLOB) FROM temp.unit_delta WHERE {_ENTERING_WHERE}"  # noqa: S608
_NEW = "SELECT CAST(group_concat(key, '') AS BLOB) FROM temp.unit_delta WHERE NOT known"
#: The lines of the groups records made before the batch, in the units of entering groups:
#: those lines are in the store already.
_HELD = f"""
SELECT t.lines AS line FROM unit_group AS g JOIN unit_group_text AS t USING (key)
WHERE g.refs > 0 AND g.choice IS NULL
  AND g.unit IN (SELECT unit FROM temp.unit_delta WHERE {_ENTERING_WHERE})
"""  # noqa: S608
_LEAVING = f"""
SELECT t.lines AS line FROM temp.unit_delta AS d JOIN unit_group_text AS t ON t.key = d.key
WHERE {_LEAVING_WHERE}
"""  # noqa: S608
#: Lines still held, after the batch, in the units of leaving groups.
_STILL_HELD = f"""
SELECT t.lines AS line FROM unit_group AS g JOIN unit_group_text AS t USING (key)
WHERE g.refs > 0 AND g.choice IS NULL
  AND g.unit IN (SELECT d.unit FROM temp.unit_delta AS d WHERE {_LEAVING_WHERE})
"""  # noqa: S608
#: The functional values the batch changes, with their counts before (their texts are in).
_CHOICES = """
SELECT json_group_array(json_array(d.before, hex(t.lines), hex(d.choice)))
FROM temp.unit_delta AS d JOIN unit_group_text AS t ON t.key = d.key
WHERE d.choice IS NOT NULL
"""
_COUNT = """
INSERT INTO unit_group (key, unit, refs, choice)
SELECT key, unit, MAX(before + change, 0), choice FROM temp.unit_delta WHERE true
ON CONFLICT(key) DO UPDATE SET refs = excluded.refs
"""
_UNSTATED = """
SELECT t.lines AS line FROM unit_group AS g JOIN unit_group_text AS t USING (key) WHERE g.refs <= 0
"""
_FORGET = """
DELETE FROM unit_group_text WHERE key IN (SELECT key FROM unit_group WHERE refs <= 0);
DELETE FROM unit_group WHERE refs <= 0
"""


def quad_line(quad: Quad) -> bytes:
    """A quad as the one N-Quads line ingest writes for it (pyoxigraph's own term syntax, UTF-8).

    The ledger keeps lines as bytes, as the mapper makes them and the bulk
    load takes them: nothing on the writer's path decodes or encodes them.

    >>> from pyoxigraph import Literal, NamedNode
    >>> g = NamedNode("http://example.org/agent/k1")
    >>> line = quad_line(Quad(g, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), Literal("Zola, Émile"), g))
    >>> line.decode().split(" ", 2)[2]
    '"Zola, Émile" <http://example.org/agent/k1> .\\n'
    """
    return f"{quad.subject} {quad.predicate} {quad.object} {quad.graph_name} .\n".encode()


#: One N-Quads line whose subject is an IRI: its subject, its predicate (both without their
#: brackets) and the rest (object, graph, full stop), one space between terms as pyoxigraph
#: writes them. The batch's search documents (``graph.search_batch``) cut their lines with it too.
NQUADS_CUT = re.compile(rb"^<([^>]*)> <([^>]*)> ([^\n]*)", re.MULTILINE)
#: ``(subject, predicate, rest)`` of one line (``cut_lines``).
Cut = tuple[bytes, bytes, bytes]


def cut_lines(lines: Iterable[bytes]) -> list[Cut]:
    """Each line of ``lines`` (N-Quads, one or more lines each) whose subject is an IRI, cut into
    subject, predicate and rest by one regular expression: one pass of C over the text, where a
    loop of Python splitting each line costs about twice as much.

    >>> cut_lines([b'<http://e.org/a> <http://e.org/p> "x y" <http://e.org/g> .\\n', b"_:b <http://e.org/p> <http://e.org/o> ."])
    [(b'http://e.org/a', b'http://e.org/p', b'"x y" <http://e.org/g> .')]
    """
    return NQUADS_CUT.findall(b"\n".join(lines))


def split_keys(units: bytes | None) -> list[bytes]:
    """The group keys a ``record_graph.units`` (or ``pending.units``) value holds."""
    if not units:
        return []
    return [units[i : i + KEY_SIZE] for i in range(0, len(units), KEY_SIZE)]


@lru_cache(maxsize=1)
def _functional_iris() -> frozenset[bytes]:
    return frozenset(iri.encode() for iri in functional_properties())


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


def _lines(db: sqlite3.Connection, query: str, parameters: Sequence[object] = ()) -> list[bytes]:
    """The lines a query selects (column ``line``), fetched as one value: one step of SQLite,
    not one per row (each step gives the GIL away)."""
    (joined,) = db.execute(
        f"SELECT CAST(group_concat(line, '') AS BLOB) FROM ({query})",  # noqa: S608 - our own queries
        parameters,
    ).fetchone()
    return joined.splitlines(keepends=True) if joined else []


def _forget(db: sqlite3.Connection) -> None:
    """Drop the rows (and texts) of groups no record makes any more."""
    for statement in _FORGET.split(";"):
        db.execute(statement)


def max_parameters(db: sqlite3.Connection) -> int:
    """Parameters one statement may bind on ``db`` (``MAX_PARAMETERS`` at most)."""
    return min(db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), MAX_PARAMETERS)


def parse_line(line: bytes) -> Quad:
    return next(iter(parse(line, RdfFormat.N_QUADS)))


@dataclass(slots=True)
class UnitPlan:
    """One batch's unit statements: what its records say and no longer say, and, once it is
    journaled (``Ledger.journal``), the N-Quads lines to load into and remove from the store."""

    #: ``(key, change of its count, unit id or None, choice or None)`` per group the batch's
    #: records start or stop making (the unit is known when a record starts making it)
    said: list[tuple[bytes, int, int | None, bytes | None]] = field(default_factory=list)
    #: key -> N-Quads lines, of the groups the batch's records make
    texts: dict[bytes, bytes] = field(default_factory=dict)
    #: N-Quads lines to load into the store
    add: list[bytes] = field(default_factory=list)
    #: N-Quads lines to remove from the store
    remove: list[bytes] = field(default_factory=list)
    #: ``add`` and ``remove`` cut (``cut``)
    _cut: tuple[list[Cut], list[Cut]] | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.said)

    def cut(self) -> tuple[list[Cut], list[Cut]]:
        """``add`` and ``remove``, each line cut into subject, predicate and rest (``cut_lines``),
        once for the batch. The search (``SearchIndex.touched``) and the notes for the mentions
        and the candidates (``graph.mention_changes``, ``graph.candidate_changes``) all read the
        subjects and predicates of these lines: three loops of Python splitting every line took
        twice the CPU of one cut shared (docs/benchmarks.md, "The writer thread's CPU"). Asked
        for once the plan is journaled, when the lines no longer change."""
        if self._cut is None:
            self._cut = (cut_lines(self.add), cut_lines(self.remove))
        return self._cut


class Edits:
    """The writers' edits, read once per writing session (a session holds the lock, so
    no edit can be made while it runs)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        #: N-Quads line -> sign (+1 added, -1 removed)
        self.by_line: dict[bytes, int] = {}
        #: choice (``<s> <p>``) -> {line: sign}, for functional properties
        self.by_choice: dict[bytes, dict[bytes, int]] = {}
        for quad, sign, choice in db.execute("SELECT quad, sign, choice FROM unit_edit"):
            self._put(quad, sign, choice)

    def _put(self, line: bytes, sign: int, choice: bytes | None) -> None:
        self.by_line[line] = sign
        if choice is not None:
            self.by_choice.setdefault(choice, {})[line] = sign

    def sign(self, line: bytes) -> int:
        return self.by_line.get(line, 0)


def group_present(candidates: dict[bytes, int], edits: dict[bytes, int]) -> set[bytes]:
    """The values of a functional property the store keeps, among ``candidates`` (line ->
    how many records give it) and writers' ``edits`` (line -> sign)."""
    asserted = {line for line, sign in edits.items() if sign > 0}
    if asserted:
        return asserted
    best = min(
        ((-refs, line) for line, refs in candidates.items() if refs > 0 and edits.get(line, 0) >= 0),
        default=None,
    )
    return set() if best is None else {best[1]}


def most_given(candidates: dict[bytes, int]) -> bytes | None:
    """``group_present`` when no writer edited the property: the value most records give
    (ties: the first in code-point order), or ``None`` if none does. A batch settles one
    functional value per new instance, so this runs about once per record.

    >>> most_given({b"b": 2, b"a": 2, b"c": 1}), most_given({b"a": 0})
    (b'a', None)
    """
    best, best_refs = None, 0
    for line, refs in candidates.items():
        if refs > best_refs or (refs == best_refs and refs > 0 and line < best):
            best, best_refs = line, refs
    return best


class Ledger:
    """The unit-group tables of one record index (its SQLite connection)."""

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
        ``stated``: ``(units stored before or None, the record's unit statements
        as N-Quads, its groups)`` of every record loaded (``RecordGraph.units``
        and ``unit_groups``; without groups, the lines are grouped here).
        Returns the plan and, per loaded record in order, the ``units`` value
        to store for it (its group keys).

        The batch's changes are summed per group here, so what SQL then counts
        (``journal``) is each group the batch touches once, however many of
        its records make it. This runs in the writer thread beside the
        mapping thread, which it takes the GIL from: a record makes about six
        groups, and this loop is the only Python per group on the writer's path.
        """
        change: Counter[bytes] = Counter()
        known: dict[bytes, tuple[int, bytes | None]] = {}
        texts: dict[bytes, bytes] = {}
        stored: list[bytes] = []
        for old_units, data, groups in stated:
            if data and not groups:
                data, groups = group_nquads(data, functional_properties())
            keys = []
            start = 0
            for key, unit, size, functional in group_fields(groups):
                end = start + size
                keys.append(key)
                # A key is the hash of its lines: a group met again in the batch (most are:
                # records that mention a unit mostly say the same of it) is not cut out again.
                if key not in known:
                    body = data[start:end]
                    known[key] = (unit, choice_key(body) if functional else None)
                    texts[key] = body
                start = end
            stored.append(b"".join(keys))
            if old_units:
                new, old = set(keys), set(split_keys(old_units))
                change.update(new - old)
                change.subtract(old - new)
            else:
                change.update(keys)
        for units in retracted:
            change.subtract(split_keys(units))
        plan = UnitPlan(texts=texts)
        plan.said = [(key, n, *known.get(key, (None, None))) for key, n in change.items() if n]
        return plan, stored

    def journal(self, plan: UnitPlan) -> None:
        """Inside the journal's transaction: count the batch and fill ``plan.add``/``remove``.

        In SQL: each group the batch touches, with its change (``plan.said``)
        joined to its count before, into a temporary table. A statement of a
        group that records start making enters the store unless a group
        made before already holds it; a statement of a group they stop
        making leaves it unless a group made after still holds it; a
        writer's edit of a statement overrides both. New groups' texts go
        to their table straight from ``plan.texts``; then the new counts (a
        count that falls to zero keeps its row until the batch commits). A
        functional property's values are settled in Python
        (``_plan_choices``), a few per batch.
        """
        db = self.db
        db.execute("DELETE FROM temp.unit_delta")
        per_statement = max(1, max_parameters(db) // 4)
        for start in range(0, len(plan.said), per_statement):
            chunk = plan.said[start : start + per_statement]
            values = ",".join(["(?,?,?,?)"] * len(chunk))  # placeholders only
            db.execute(_DELTA.format(values=values), [v for row in chunk for v in row])
        texts = plan.texts
        entering = b"".join(texts[key] for key in split_keys(db.execute(_ENTERING).fetchone()[0]))
        held = set(_lines(db, _HELD)) if entering else set()
        leaving = _lines(db, _LEAVING)
        insert_many(
            db,
            "INSERT OR IGNORE INTO unit_group_text (key, lines)",
            ((key, texts[key]) for key in split_keys(db.execute(_NEW).fetchone()[0])),
            width=2,
        )
        (choices,) = db.execute(_CHOICES).fetchone()
        db.execute(_COUNT)
        signs = self.edits.by_line
        plan.add = [
            line
            for line in dict.fromkeys(entering.splitlines(keepends=True))
            if line not in held and (not signs or line not in signs)
        ]
        if leaving:
            still = set(_lines(db, _STILL_HELD))
            plan.remove = [
                line for line in dict.fromkeys(leaving) if line not in still and signs.get(line, 0) <= 0
            ]
        rows = json.loads(choices)
        if rows:
            self._plan_choices(plan, rows)

    def _plan_choices(self, plan: UnitPlan, rows: list[list]) -> None:
        """Settle the functional properties whose values this batch changes.

        ``rows``: ``[count before, line, choice]`` (hex for the bytes) of each
        value whose count changed; the ledger already holds the counts after.
        """
        before: dict[bytes, dict[bytes, int]] = {}
        for refs, line, choice in rows:
            before.setdefault(bytes.fromhex(choice), {})[bytes.fromhex(line)] = refs
        after = self.candidates(before)
        for choice, changed in before.items():
            now = after.get(choice, {})
            was = {line: refs for line, refs in now.items() if line not in changed} | changed
            edits = self.edits.by_choice.get(choice)
            if edits:
                kept_before, kept_after = group_present(was, edits), group_present(now, edits)
                plan.add.extend(kept_after - kept_before)
                plan.remove.extend(kept_before - kept_after)
                continue
            # no writer chose (nearly always): what group_present gives, without its sets
            value_before, value_after = most_given(was), most_given(now)
            if value_after != value_before:
                if value_after is not None:
                    plan.add.append(value_after)
                if value_before is not None:
                    plan.remove.append(value_before)

    def candidates(self, choices: Iterable[bytes]) -> dict[bytes, dict[bytes, int]]:
        """Every value records give for each functional property ``<s> <p>`` of ``choices``:
        choice -> {line: how many records give it}."""
        found: dict[bytes, dict[bytes, int]] = {}
        for chunk in _chunks(list(choices), max_parameters(self.db)):
            marks = ",".join("?" * len(chunk))  # placeholders only
            query = (  # one JSON value, not one row each: each row's step gives the GIL away
                "SELECT json_group_array(json_array(g.refs, hex(t.lines), hex(g.choice))) "  # noqa: S608
                f"FROM unit_group AS g JOIN unit_group_text AS t USING (key) WHERE g.choice IN ({marks})"
            )
            (text,) = self.db.execute(query, chunk).fetchone()
            for refs, line, choice in json.loads(text):
                found.setdefault(bytes.fromhex(choice), {})[bytes.fromhex(line)] = refs
        return found

    def held(self, units: Iterable[int]) -> set[bytes]:
        """The lines the groups records make (not functional values) hold in ``units`` (ids)."""
        found: set[bytes] = set()
        for chunk in _chunks(list(units), max_parameters(self.db)):
            marks = ",".join("?" * len(chunk))  # placeholders only
            query = (
                "SELECT t.lines AS line FROM unit_group AS g JOIN unit_group_text AS t USING (key) "  # noqa: S608
                f"WHERE g.refs > 0 AND g.choice IS NULL AND g.unit IN ({marks})"
            )
            found.update(_lines(self.db, query, chunk))
        return found

    def commit(self) -> None:
        """Inside the commit's transaction: the rows of groups no record makes any more go."""
        _forget(self.db)

    # ------------------------------------------------------------ writers' edits

    def record_edits(self, changeset: str, added: Iterable[bytes], removed: Iterable[bytes]) -> None:
        """Inside the edit's transaction: what a writer added (+1) to or removed (-1) from
        unit graphs, as N-Quads lines. The last word on a statement is the writer's, and it
        outlives every re-ingest of the records that state it."""
        rows = [(line, 1) for line in added] + [(line, -1) for line in removed]
        entries = []
        for line, sign in rows:
            choice = choice_key(line)
            entries.append((line_key(line), line, sign, changeset, choice))
            self.edits._put(line, sign, choice)
        insert_many(self.db, "INSERT OR REPLACE INTO unit_edit", entries, width=5)

    # ------------------------------------------------------------ recovery

    def recover(self, store: Store, loaded: Iterable[bytes | None]) -> list[bytes]:
        """Inside the recovery's transaction: undo an interrupted batch's counts.

        ``loaded``: for each record the batch was loading, the keys of the
        groups it makes (``pending.units``). Taking them off the counts
        leaves those records absent, as the rollback of their graphs does
        (the batch had already taken off what they, and the records it
        deleted, said before). Then every statement of every group touched,
        and of every group no record makes any more, is put in the store or
        taken out as the ledger says, and the rows no record needs go. Store
        writes are idempotent, so a recovery cut short is simply run again.
        Returns the statements settled (their subjects' search documents are derived again).
        """
        db = self.db
        retract = Counter(key for units in loaded for key in split_keys(units))
        lines: list[bytes] = []
        for chunk in _chunks(list(retract), max_parameters(db)):
            marks = ",".join("?" * len(chunk))  # placeholders only
            lines += _lines(
                db,
                f"SELECT lines AS line FROM unit_group_text WHERE key IN ({marks})",  # noqa: S608
                chunk,
            )
        # one statement per group: a recovery is rare, and the GIL is not contended here
        db.executemany(
            "UPDATE unit_group SET refs = MAX(refs - ?, 0) WHERE key = ?",
            [(n, key) for key, n in retract.items()],
        )
        lines += _lines(db, _UNSTATED)
        self.settle(store, lines)
        _forget(db)
        return lines

    def settle(self, store: Store, lines: Iterable[bytes]) -> None:
        """Make the store hold exactly those of ``lines`` (N-Quads) the ledger says it holds."""
        plain: list[bytes] = []
        choices: dict[bytes, list[bytes]] = {}
        for line in dict.fromkeys(lines):
            choice = choice_key(line)
            if choice is None:
                plain.append(line)
            else:
                choices.setdefault(choice, []).append(line)
        keep: list[bytes] = []
        drop: list[bytes] = []
        if plain:
            held = self.held({unit_id(line_graph(line)) for line in plain})
            for line in plain:
                sign = self.edits.sign(line)
                (keep if sign > 0 or (sign == 0 and line in held) else drop).append(line)
        if choices:
            found = self.candidates(choices)
            for choice, given in choices.items():
                candidates = found.get(choice, {})
                edits = self.edits.by_choice.get(choice, {})
                winners = group_present(candidates, edits)
                keep.extend(winners)
                drop.extend(line for line in {*candidates, *edits, *given} if line not in winners)
        if keep:
            store.extend(parse_line(line) for line in keep)
        for line in drop:
            store.remove(parse_line(line))


def count_unattributed(db: sqlite3.Connection, lines: Sequence[bytes]) -> None:
    """Count each of ``lines`` (unit statements the store holds) as stated by no record in
    particular: a group of its own, made once (``RecordIndex._rebuild``)."""
    rows = [(line_key(line), unit_id(line_graph(line)), choice_key(line), line) for line in lines]
    insert_many(db, "INSERT OR IGNORE INTO unit_group (key, unit, refs, choice)",
                ((key, unit, 1, choice) for key, unit, choice, _ in rows), 4)  # fmt: skip
    insert_many(db, "INSERT OR IGNORE INTO unit_group_text (key, lines)", ((k, line) for k, _, _, line in rows), 2)


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
