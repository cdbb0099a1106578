"""Where each OAI-PMH harvest stands: ``data_dir/harvests.sqlite``, one row per (endpoint, prefix, set).

Two things are remembered, each written only once the store has committed
what it stands for (``web.harvest_command`` writes it from the writer's
after-commit hook), so a harvest that fails or is killed at any point loses
nothing and repeats at most one page:

* ``token``: the resumption token of the next page of a harvest under way,
  with the ``from``/``until`` that harvest asked for (``token_from``,
  ``token_until``), so a repository that no longer knows the token can be
  asked again from the same start;
* ``next_from``: where the next incremental harvest starts, set when a
  harvest ends: the ``responseDate`` of its first page (the OAI-PMH
  guidelines for harvesters: a record changed while the harvest ran has a
  datestamp after it), in the repository's granularity; ``last_datestamp``
  is the latest datestamp of the records harvested, for people.

A file of its own rather than a table of the record index: it is written
between batches, by the harvest alone, and a crash between the store's
commit and this one only repeats a page, which re-ingest makes harmless
(unchanged records are recognised by their content hash).
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "harvests.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS harvest (
    endpoint TEXT NOT NULL,
    metadata_prefix TEXT NOT NULL,
    set_spec TEXT NOT NULL,          -- '' for the whole repository
    next_from TEXT,
    last_datestamp TEXT,
    token TEXT,
    token_from TEXT,
    token_until TEXT,
    started TEXT,                    -- responseDate of the first page of the harvest under way
    pages INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (endpoint, metadata_prefix, set_spec)
)
"""


@dataclass(frozen=True)
class HarvestKey:
    """Which harvest: a repository's base URL, a metadata format and a set (``""``: none)."""

    endpoint: str
    metadata_prefix: str
    set_spec: str = ""


@dataclass(frozen=True)
class HarvestState:
    """One row: where the harvest of ``key`` stands."""

    key: HarvestKey
    next_from: str | None
    last_datestamp: str | None
    token: str | None
    token_from: str | None
    token_until: str | None
    started: str | None
    pages: int
    records: int


class HarvestStates:
    """The harvests of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / FILE_NAME
        with closing(self._connect()) as db, db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA synchronous=FULL")
        return db

    def load(self, key: HarvestKey) -> HarvestState | None:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT next_from, last_datestamp, token, token_from, token_until, started, pages, records "
                "FROM harvest WHERE endpoint = ? AND metadata_prefix = ? AND set_spec = ?",
                (key.endpoint, key.metadata_prefix, key.set_spec),
            ).fetchone()
        return HarvestState(key, *row) if row else None

    def page_committed(self, key: HarvestKey, *, token: str | None, token_from: str | None,
                       token_until: str | None, started: str | None,
                       latest_datestamp: str | None, records: int) -> None:
        """A page's records are in the store: resume after it (``token``) if the harvest stops.

        ``started``: the first responseDate of the harvest the page belongs to.
        """
        with closing(self._connect()) as db, db:
            self._ensure(db, key)
            db.execute(
                "UPDATE harvest SET token = ?, token_from = ?, token_until = ?, started = ?, "
                "last_datestamp = CASE WHEN last_datestamp IS NULL OR ? > last_datestamp "
                "THEN ? ELSE last_datestamp END, pages = pages + 1, records = records + ?, "
                "updated_at = ? WHERE endpoint = ? AND metadata_prefix = ? AND set_spec = ?",
                (token, token_from, token_until, started, latest_datestamp, latest_datestamp,
                 records, _now(), key.endpoint, key.metadata_prefix, key.set_spec),
            )

    def finished(self, key: HarvestKey, next_from: str | None) -> None:
        """The harvest reached its last page: no token to resume; the next one starts at ``next_from``."""
        with closing(self._connect()) as db, db:
            self._ensure(db, key)
            db.execute(
                "UPDATE harvest SET token = NULL, token_from = NULL, token_until = NULL, started = NULL, "
                "pages = 0, next_from = COALESCE(?, next_from), updated_at = ? "
                "WHERE endpoint = ? AND metadata_prefix = ? AND set_spec = ?",
                (next_from, _now(), key.endpoint, key.metadata_prefix, key.set_spec),
            )

    def forget_token(self, key: HarvestKey) -> None:
        """Start the next harvest afresh rather than resume (``--restart``, a stale token)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE harvest SET token = NULL, token_from = NULL, token_until = NULL, "
                "started = NULL, pages = 0 WHERE endpoint = ? AND metadata_prefix = ? AND set_spec = ?",
                (key.endpoint, key.metadata_prefix, key.set_spec),
            )

    @staticmethod
    def _ensure(db: sqlite3.Connection, key: HarvestKey) -> None:
        db.execute(
            "INSERT OR IGNORE INTO harvest (endpoint, metadata_prefix, set_spec, updated_at) "
            "VALUES (?, ?, ?, ?)",
            (key.endpoint, key.metadata_prefix, key.set_spec, _now()),
        )


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
