"""One SQLite write transaction, taken at once: ``BEGIN IMMEDIATE`` ... ``COMMIT``.

The record index and the search index inside it write from one writer, but
readers of the same file (a rebuild, ``catalograph stats``) may be present:
``IMMEDIATE`` takes the write lock when the transaction begins, so a writer
never learns half-way through that it cannot commit. On an exception the
transaction is rolled back, unless SQLite already did so itself (it does
after some errors, a full disk among them).
"""

from __future__ import annotations

import sqlite3


class ImmediateTransaction:
    """``with ImmediateTransaction(db) as db: ...``: committed at the end, rolled back on an error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        elif self.db.in_transaction:  # SQLite rolls back by itself after some errors (disk full)
            self.db.execute("ROLLBACK")
