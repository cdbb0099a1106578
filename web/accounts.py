"""Accounts, their passwords and their browser sessions: ``DATA_DIR/accounts.sqlite``.

Readers need no account. An account has a name, a role (``web.permissions``:
``cataloger``, ``reviewer``, ``admin``; ``reader`` survives from older data
directories and may nothing) and a password stored as an argon2id hash
(argon2-cffi's ``PasswordHasher``), never in clear. ``catalograph user``
makes and changes them; the server reads them on every check, so a removed
account, a new role or a new password take effect at once.

Why SQLite: two processes change this file (the CLI and the server, which
rehashes passwords and keeps sessions), and each change is one transaction
(``BEGIN IMMEDIATE``), so no change is lost and no reader sees half of one.
The file and its journal are readable by their owner only (0600).

Older data directories kept accounts in ``users.json`` with werkzeug scrypt
hashes: the first process that opens the accounts imports them (a name that
exists already is left alone), remembers the file's digest so it is never
imported twice, and renames it ``users.json.migrated``. An scrypt hash keeps
working, and is replaced by an argon2id hash at the account's next right
password, as is an argon2 hash made with weaker parameters than today's.

Nothing here touches the store or the web app: the ``user`` commands import
only this module, so they run without loading pyoxigraph (a test checks it).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

from ontology.errors import CatalographError, UsageError
from web.permissions import KNOWN_ROLES, ROLES, may

log = logging.getLogger(__name__)

ACCOUNTS_FILE = "accounts.sqlite"
LEGACY_FILE = "users.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
#: Longer passwords are refused before any hash: hashing is the costly part.
MAX_PASSWORD = 1024
#: A verified password is remembered this long (an argon2 check costs ~0.1 s and 64 MiB).
VERIFIED_TTL_S = 300.0
#: A browser session lasts a working day, then its cataloger signs in again.
SESSION_LIFETIME_S = 12 * 3600
#: Sessions one account may hold at once (browsers, devices); the oldest goes first.
SESSIONS_PER_ACCOUNT = 20
#: argon2id with argon2-cffi's defaults, RFC 9106's second recommended profile
#: (t=3, 64 MiB, 4 lanes). A hash made with other parameters is redone at sign-in.
HASHER = PasswordHasher()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password TEXT NOT NULL,
    changed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS session (
    digest BLOB PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(name) ON DELETE CASCADE ON UPDATE CASCADE,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS session_by_account ON session(account, created);
CREATE TABLE IF NOT EXISTS imported (digest TEXT PRIMARY KEY, source TEXT NOT NULL, at TEXT NOT NULL);
PRAGMA user_version = 1;
"""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sent a request: an account (by password or session) or ``token N``."""

    name: str
    role: str
    #: How they proved it: ``token``, ``password`` (HTTP Basic, the login form) or ``session``.
    via: str = "password"

    def may(self, permission: str) -> bool:
        return may(self.role, permission)


def accounts_path(data_dir: Path) -> Path:
    return Path(data_dir) / ACCOUNTS_FILE


def valid_name(name: str) -> bool:
    """Whether ``name`` could be an account: no other name needs a password check."""
    return bool(_NAME.match(name))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _private_file(path: Path) -> None:
    """Make ``path`` if it is missing, readable by its owner only (SQLite gives its
    journal and WAL files the database's mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


@contextmanager
def _connect(data_dir: Path, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the accounts; with ``write``, inside one ``BEGIN IMMEDIATE`` transaction."""
    path = accounts_path(data_dir)
    _private_file(path)
    try:
        db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    except sqlite3.Error as exc:
        raise CatalographError(f"cannot open the accounts file {path}: {exc}") from exc
    try:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA secure_delete = ON")  # a removed hash or session is overwritten
        if db.execute("PRAGMA user_version").fetchone()[0] == 0:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(_SCHEMA)
        if (Path(data_dir) / LEGACY_FILE).exists():
            _import_legacy(db, Path(data_dir))
        if write:
            db.execute("BEGIN IMMEDIATE")
        yield db
        if write:
            db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()


def _import_legacy(db: sqlite3.Connection, data_dir: Path) -> None:
    """Import ``users.json`` once (names that exist are left alone), then set it aside."""
    legacy = data_dir / LEGACY_FILE
    try:
        raw = legacy.read_bytes()
    except FileNotFoundError:
        return  # another process moved it first
    except OSError as exc:
        raise CatalographError(f"cannot read the old accounts file {legacy}: {exc}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    try:
        users = json.loads(raw)["users"]
        entries = [(str(n), e["role"], e["password"], e.get("changed", "")) for n, e in users.items()]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CatalographError(f"{legacy} is not a Catalograph accounts file: {exc}") from exc
    db.execute("BEGIN IMMEDIATE")
    if db.execute("SELECT 1 FROM imported WHERE digest = ?", (digest,)).fetchone() is None:
        for name, role, password, changed in entries:
            if valid_name(name) and role in KNOWN_ROLES and isinstance(password, str):
                db.execute(
                    "INSERT OR IGNORE INTO account VALUES (?, ?, ?, ?)",
                    (name, role, password, changed or _now()),
                )
            else:
                log.warning("%s: account %r skipped (bad name, role or hash)", legacy, name[:64])
        db.execute("INSERT INTO imported VALUES (?, ?, ?)", (digest, str(legacy), _now()))
    db.execute("COMMIT")
    os.replace(legacy, legacy.with_name(LEGACY_FILE + ".migrated"))
    log.warning("imported the accounts of %s into %s", legacy, accounts_path(data_dir))


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise UsageError(f"the password must be at most {MAX_PASSWORD} characters long")
    return password


def _checked_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def add_user(data_dir: Path, name: str, password: str, role: str, replace: bool = False) -> bool:
    """Create (or with ``replace``, update) an account; returns whether it existed."""
    if not valid_name(name):
        raise UsageError(f"invalid user name {name!r}: 1-64 letters, digits, '.', '_', '@' or '-'")
    _checked_role(role)
    hashed = HASHER.hash(_checked_password(password))
    with _connect(data_dir, write=True) as db:
        existed = db.execute("SELECT 1 FROM account WHERE name = ?", (name,)).fetchone() is not None
        if existed and not replace:
            raise UsageError(f"user {name!r} exists; use --replace to set a new password or role")
        db.execute("DELETE FROM session WHERE account = ?", (name,))
        db.execute(
            "INSERT OR REPLACE INTO account VALUES (?, ?, ?, ?)", (name, role, hashed, _now())
        )
    return existed


def _change(data_dir: Path, name: str, sql: str, values: tuple[object, ...]) -> None:
    with _connect(data_dir, write=True) as db:
        if db.execute(sql, values).rowcount == 0:
            raise UsageError(f"there is no user {name!r}")


def set_role(data_dir: Path, name: str, role: str) -> None:
    """Give an account another role; its sessions go on with the new role at once."""
    _checked_role(role)
    sql = "UPDATE account SET role = ?, changed = ? WHERE name = ?"
    _change(data_dir, name, sql, (role, _now(), name))


def set_password(data_dir: Path, name: str, password: str) -> None:
    """A new password; every session of the account ends (a stolen one with it)."""
    hashed = HASHER.hash(_checked_password(password))
    with _connect(data_dir, write=True) as db:
        changed = db.execute(
            "UPDATE account SET password = ?, changed = ? WHERE name = ?", (hashed, _now(), name)
        ).rowcount
        if not changed:
            raise UsageError(f"there is no user {name!r}")
        db.execute("DELETE FROM session WHERE account = ?", (name,))


def remove_user(data_dir: Path, name: str) -> None:
    """Delete an account and its sessions."""
    _change(data_dir, name, "DELETE FROM account WHERE name = ?", (name,))


def list_users(data_dir: Path) -> list[tuple[str, str, str]]:
    """``(name, role, changed)`` of every account, by name."""
    with _connect(data_dir) as db:
        return list(db.execute("SELECT name, role, changed FROM account ORDER BY name"))


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored``: an argon2 hash, or a werkzeug one from users.json."""
    if stored.startswith("$argon2"):
        try:
            return HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    if stored.startswith(("scrypt:", "pbkdf2:")):
        return check_password_hash(stored, password)
    return False


def needs_rehash(stored: str) -> bool:
    """An old werkzeug hash, or argon2 with other parameters than ``HASHER``'s."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class _Verified:
    """A password found right: its keyed digest, the hash it matched, and until when."""

    digest: bytes
    stored: str
    until: float


class Accounts:
    """The accounts as the server uses them: password checks and browser sessions.

    A password found right is remembered for ``VERIFIED_TTL_S`` as an HMAC
    under a key made at start (never the password), so a client sending Basic
    with every request pays the argon2 check once. It counts only while the
    account's stored hash is the one it matched, read from the file each
    time: a new password, a removed account or a changed role take effect at once.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, _Verified] = {}  # one per account at most
        self._argon2_s: float | None = None  # how long an argon2 check takes here, lately

    def _row(self, name: str) -> tuple[str, str] | None:
        """``(role, password hash)`` of an account."""
        with _connect(self.data_dir) as db:
            return db.execute(
                "SELECT role, password FROM account WHERE name = ?", (name,)
            ).fetchone()

    def _digest(self, name: str, password: str) -> bytes:
        return hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()

    def remembered(self, name: str, password: str) -> Principal | None:
        """The account if this password was found right lately; no hash is computed."""
        with self._lock:
            known = self._verified.get(name)
        if known is None or known.until <= time.monotonic():
            return None
        row = self._row(name)
        if row is None or known.stored != row[1]:
            return None
        if not hmac.compare_digest(known.digest, self._digest(name, password)):
            return None
        return Principal(name, row[0])

    def verify(self, name: str, password: str) -> Principal | None:
        """The account if ``password`` is its password: one hash check (~0.1 s, 64 MiB).

        Callers throttle this (``web.throttle``). An unknown name costs an
        argon2 check too, so time does not tell which names exist. A right
        password whose hash is old (scrypt from users.json, or weaker argon2)
        is hashed again now, unless the hash changed meanwhile.
        """
        row = self._row(name) if valid_name(name) and len(password) <= MAX_PASSWORD else None
        ok = self._timed_check(row[1] if row else _dummy_hash(), password)
        if not ok or row is None:
            return None
        role, stored = row
        if needs_rehash(stored):
            fresh = HASHER.hash(password)
            with _connect(self.data_dir, write=True) as db:
                db.execute(
                    "UPDATE account SET password = ? WHERE name = ? AND password = ?",
                    (fresh, name, stored),
                )
            stored = fresh
        with self._lock:
            self._verified[name] = _Verified(
                self._digest(name, password), stored, time.monotonic() + VERIFIED_TTL_S
            )
        return Principal(name, role)

    def _timed_check(self, stored: str, password: str) -> bool:
        """``check_password``, taking as long as an argon2 check whatever the hash.

        An unknown name costs an argon2 check of a dummy hash; an imported scrypt
        hash is quicker (measured: ~0.55 of the time), which would tell an old
        account that has not signed in since from a name nobody has. So a check
        of another kind of hash waits out the rest of an argon2 check's recent time.
        """
        if self._argon2_s is None:
            started = time.perf_counter()
            check_password(_dummy_hash(), password)
            self._argon2_s = time.perf_counter() - started
        started = time.perf_counter()
        ok = check_password(stored, password)
        took = time.perf_counter() - started
        if stored.startswith("$argon2"):
            self._argon2_s = 0.8 * self._argon2_s + 0.2 * took
        else:
            time.sleep(max(0.0, self._argon2_s - took))
        return ok

    def open_session(self, name: str) -> str:
        """A new session of ``name``: its id, for the cookie only (the file keeps its digest)."""
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        with _connect(self.data_dir, write=True) as db:
            db.execute("DELETE FROM session WHERE expires <= ?", (now,))
            db.execute(
                "INSERT INTO session VALUES (?, ?, ?, ?)",
                (_session_digest(session_id), name, now, now + SESSION_LIFETIME_S),
            )
            db.execute(
                "DELETE FROM session WHERE account = ? AND digest NOT IN "
                "(SELECT digest FROM session WHERE account = ? ORDER BY created DESC LIMIT ?)",
                (name, name, SESSIONS_PER_ACCOUNT),
            )
        return session_id

    def session_principal(self, session_id: object) -> Principal | None:
        """The account a live session belongs to, with its role as it is now."""
        if not isinstance(session_id, str) or not 20 <= len(session_id) <= 100:
            return None
        with _connect(self.data_dir) as db:
            row = db.execute(
                "SELECT account.name, account.role FROM session JOIN account "
                "ON account.name = session.account WHERE session.digest = ? AND session.expires > ?",
                (_session_digest(session_id), time.time()),
            ).fetchone()
        return Principal(row[0], row[1], via="session") if row else None

    def close_session(self, session_id: object) -> None:
        if isinstance(session_id, str):
            with _connect(self.data_dir, write=True) as db:
                db.execute("DELETE FROM session WHERE digest = ?", (_session_digest(session_id),))


def _session_digest(session_id: str) -> bytes:
    """What the file keeps of a session id: a copy of the file cannot be used as a cookie."""
    return hashlib.sha256(session_id.encode("utf-8")).digest()
