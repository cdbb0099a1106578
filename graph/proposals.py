"""Changes waiting for a reviewer: ``proposals.sqlite`` in the data directory.

When the configuration asks for approval (``review_changes``), a change a
cataloger submits is checked (a dry run of the edit) and kept here instead
of being applied: its quads to add and remove as N-Quads, who proposed it,
when and why, and whether it must apply exactly (a revert: see
``graph.changesets``). A reviewer then approves it (it is applied then,
checked again against the store as it is then, and the row names the
changeset it became) or rejects it (the row keeps who refused it, when and
why). Rows are never deleted: the table is the record of what was proposed.

An approval holds the table's write lock from the moment it reads the
proposal as pending until the decision is recorded (``Proposals.approving``),
so two reviewers cannot both apply one proposal, and a rejection cannot land
between an approval's check and its write; a process that dies while
approving releases the lock with it (SQLite), leaving the proposal pending.

SQLite, not the store: a proposal is not yet part of the graph, must not
show in SPARQL, and its decision must be one small atomic write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse, serialize

from graph.provenance import timestamp
from ontology.errors import NotFoundError, StoreBusyError, UsageError

FILE = "proposals.sqlite"
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
#: How long a proposal's table waits for another decision (an approval applies its change meanwhile).
BUSY_WAIT_S = 10.0
#: Most statements one proposal may hold.
MAX_PROPOSAL_QUADS = 50_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS proposal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author TEXT NOT NULL,
    created TEXT NOT NULL,
    reason TEXT,
    additions TEXT NOT NULL,
    removals TEXT NOT NULL,
    about TEXT NOT NULL,
    exact INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    decided TEXT,
    decision_reason TEXT,
    changeset TEXT
);
CREATE INDEX IF NOT EXISTS proposal_status ON proposal(status, id);
"""
#: The subject ``about`` statements are stored with (the changeset does not exist yet).
_ABOUT = NamedNode("urn:catalograph:proposed-changeset")


@dataclass(frozen=True, slots=True)
class Proposal:
    """One proposed change and what became of it."""

    id: int
    author: str
    created: str
    reason: str | None
    additions: tuple[Quad, ...]
    removals: tuple[Quad, ...]
    about: tuple[tuple[NamedNode, NamedNode | Literal], ...]
    exact: bool
    status: str
    decided_by: str | None
    decided: str | None
    decision_reason: str | None
    changeset: str | None


class Proposals:
    """The proposals of one data directory."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / FILE

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_WAIT_S, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous = FULL")
            db.executescript(_SCHEMA)
            yield db
        finally:
            db.close()

    def propose(
        self,
        *,
        author: str,
        add: Iterable[Quad],
        remove: Iterable[Quad],
        reason: str | None,
        about: Iterable[tuple[NamedNode, NamedNode | Literal]] = (),
        exact: bool = False,
    ) -> int:
        """Keep a change for review; its number."""
        additions, removals = list(add), list(remove)
        if len(additions) + len(removals) > MAX_PROPOSAL_QUADS:
            raise UsageError(f"a proposal holds at most {MAX_PROPOSAL_QUADS:,} statements")
        about_quads = [Quad(_ABOUT, p, o) for p, o in about]
        with self._db() as db, _busy():
            cursor = db.execute(
                "INSERT INTO proposal (author, created, reason, additions, removals, about, exact) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (author, timestamp().value, reason, _text(additions), _text(removals), _text(about_quads), int(exact)),
            )
            return int(cursor.lastrowid or 0)

    def get(self, number: int) -> Proposal:
        with self._db() as db:
            row = db.execute("SELECT * FROM proposal WHERE id = ?", (number,)).fetchone()
        if row is None:
            raise NotFoundError(f"there is no proposal {number}")
        return _proposal(row)

    def listed(self, status: str | None = PENDING, limit: int = 50, offset: int = 0) -> list[Proposal]:
        """Proposals newest first (``status`` ``None``: all)."""
        with self._db() as db:
            if status is None:
                rows = db.execute("SELECT * FROM proposal ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset))
            else:
                rows = db.execute(
                    "SELECT * FROM proposal WHERE status = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                    (status, limit, offset),
                )
            return [_proposal(row) for row in rows.fetchall()]

    def decide(
        self, number: int, *, status: str, by: str, reason: str | None = None, changeset: str | None = None
    ) -> None:
        """Record a decision on a pending proposal (refused if it was decided already)."""
        if status not in (APPROVED, REJECTED):
            raise ValueError(f"unknown decision {status!r}")
        with self._db() as db:
            _locked(db)
            try:
                _record(db, number, status, by, reason, changeset)
                db.execute("COMMIT")
            finally:
                if db.in_transaction:
                    db.execute("ROLLBACK")

    @contextmanager
    def approving(self, number: int, by: str) -> Iterator[Approval]:
        """The proposal ``number``, checked pending and held so while the caller applies it.

        The caller sets ``Approval.changeset`` once applied; leaving the block
        records the approval. An exception inside leaves the proposal pending.
        """
        with self._db() as db:
            _locked(db)
            try:
                row = db.execute("SELECT * FROM proposal WHERE id = ?", (number,)).fetchone()
                if row is None:
                    raise NotFoundError(f"there is no proposal {number}")
                proposal = _proposal(row)
                if proposal.status != PENDING:
                    raise UsageError(f"proposal {number} was {proposal.status} already")
                approval = Approval(proposal)
                yield approval
                _record(db, number, APPROVED, by, None, approval.changeset)
                db.execute("COMMIT")
            finally:
                if db.in_transaction:
                    db.execute("ROLLBACK")


@dataclass(slots=True)
class Approval:
    """A proposal being approved, and the changeset it became (set by the caller)."""

    proposal: Proposal
    changeset: str | None = None


def _locked(db: sqlite3.Connection) -> None:
    """Take the table's write lock (waits ``BUSY_WAIT_S`` for a decision in progress)."""
    with _busy():
        db.execute("BEGIN IMMEDIATE")


@contextmanager
def _busy() -> Iterator[None]:
    """SQLite's "database is locked" after ``BUSY_WAIT_S``, said as what it is: an approval is
    applying its change (only this module's own statements: an error of the caller's inside
    ``approving`` is not one)."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        raise StoreBusyError("another reviewer is deciding a proposal right now; try again in a moment") from error


def _record(
    db: sqlite3.Connection, number: int, status: str, by: str, reason: str | None, changeset: str | None
) -> None:
    cursor = db.execute(
        "UPDATE proposal SET status = ?, decided_by = ?, decided = ?, decision_reason = ?, changeset = ? "
        "WHERE id = ? AND status = 'pending'",
        (status, by, timestamp().value, reason, changeset, number),
    )
    if cursor.rowcount != 1:
        if db.execute("SELECT 1 FROM proposal WHERE id = ?", (number,)).fetchone() is None:
            raise NotFoundError(f"there is no proposal {number}")
        raise UsageError(f"proposal {number} was decided already")


def _text(quads: list[Quad]) -> str:
    return serialize(quads, format=RdfFormat.N_QUADS).decode("utf-8") if quads else ""


def _quads(text: str) -> tuple[Quad, ...]:
    return tuple(parse(text.encode("utf-8"), format=RdfFormat.N_QUADS)) if text else ()


def _proposal(row: tuple) -> Proposal:
    (number, author, created, reason, additions, removals, about, exact, status,
     decided_by, decided, decision_reason, changeset) = row  # fmt: skip
    return Proposal(
        id=number,
        author=author,
        created=created,
        reason=reason,
        additions=_quads(additions),
        removals=_quads(removals),
        about=tuple((q.predicate, q.object) for q in _quads(about)),  # type: ignore[misc]
        exact=bool(exact),
        status=status,
        decided_by=decided_by,
        decided=decided,
        decision_reason=decision_reason,
        changeset=changeset,
    )
