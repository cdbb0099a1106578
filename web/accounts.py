"""Accounts that may write: the ``users.json`` file of a data directory.

An account has a name, a role (``cataloger`` may write, ``reader`` may not)
and a password stored as a salted scrypt hash (werkzeug), never in clear. The
file (mode 0600) is made and changed by ``catalograph user add|list|remove``
and read by the server (``web.auth``), which notices every change at once.

Nothing here touches the store or the web app: the ``user`` commands import
only this module, so they run without loading pyoxigraph (a test checks it).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from ontology.errors import CatalographError, UsageError

USERS_FILE = "users.json"
ROLES = ("reader", "cataloger")
WRITER_ROLES = frozenset({"cataloger"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: A verified password is remembered this long (scrypt costs ~0.1 s per check).
VERIFIED_TTL_S = 300.0


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sent a request: an account name, or ``token N`` for the N-th configured token."""

    name: str
    role: str

    @property
    def may_write(self) -> bool:
        return self.role in WRITER_ROLES


def users_path(data_dir: Path) -> Path:
    return Path(data_dir) / USERS_FILE


def _read(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CatalographError(f"cannot read the accounts file {path}: {exc}") from exc
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise CatalographError(f"{path} is not a Catalograph accounts file")
    return users


def _write(path: Path, users: dict[str, dict[str, str]]) -> None:
    """Replace the file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"version": 1, "users": users}, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def add_user(data_dir: Path, name: str, password: str, role: str, replace: bool = False) -> bool:
    """Create (or with ``replace``, update) an account; returns whether it existed."""
    if not _NAME.match(name):
        raise UsageError(f"invalid user name {name!r}: 1-64 letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if len(password) < 8:
        raise UsageError("the password must be at least 8 characters long")
    path = users_path(data_dir)
    users = _read(path)
    existed = name in users
    if existed and not replace:
        raise UsageError(f"user {name!r} exists; use --replace to set a new password or role")
    users[name] = {
        "role": role,
        "password": generate_password_hash(password),
        "changed": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write(path, users)
    return existed


def remove_user(data_dir: Path, name: str) -> None:
    path = users_path(data_dir)
    users = _read(path)
    if users.pop(name, None) is None:
        raise UsageError(f"there is no user {name!r}")
    _write(path, users)


def list_users(data_dir: Path) -> list[tuple[str, str, str]]:
    """``(name, role, changed)`` of every account, by name."""
    return [
        (name, entry.get("role", "?"), entry.get("changed", ""))
        for name, entry in sorted(_read(users_path(data_dir)).items())
    ]


def valid_name(name: str) -> bool:
    """Whether ``name`` could be an account: no other name needs a password check."""
    return bool(_NAME.match(name))


@dataclass(frozen=True, slots=True)
class _Verified:
    """A password found right: its keyed digest, the hash it matched, and until when."""

    digest: bytes
    stored: str
    until: float


class Accounts:
    """The accounts file as the server reads it: reloaded when it changes on disk.

    A password found right is remembered for ``VERIFIED_TTL_S`` as an HMAC
    under a key made at start (never the password), so a client sending Basic
    with every request pays the scrypt check once. What is remembered is
    forgotten when the file changes, and an entry counts only while the
    account's stored hash is the one it matched: a new password, a removed
    account or a changed role take effect at once.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = users_path(data_dir)
        self._lock = threading.Lock()
        self._stamp: tuple[int, ...] | None = None
        self._users: dict[str, dict[str, str]] = {}
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, _Verified] = {}  # one per account at most

    def _current(self) -> dict[str, dict[str, str]]:
        try:
            info = self.path.stat()  # replaced atomically: a change is a new inode
            stamp = (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._users = _read(self.path) if stamp else {}
                self._stamp = stamp
                self._verified.clear()
            return self._users

    def _digest(self, name: str, password: str) -> bytes:
        return hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()

    def remembered(self, name: str, password: str) -> Principal | None:
        """The account if this password was found right lately; no hash is computed."""
        entry = self._current().get(name)
        with self._lock:
            known = self._verified.get(name)
        if entry is None or known is None or known.until <= time.monotonic():
            return None
        if known.stored != entry.get("password"):
            return None
        if not hmac.compare_digest(known.digest, self._digest(name, password)):
            return None
        return Principal(name, entry.get("role", "reader"))

    def verify(self, name: str, password: str) -> Principal | None:
        """The account if ``password`` is its password: an scrypt check (~0.13 s, 32 MiB).

        Callers throttle this (``web.throttle``); an unknown name costs a
        hash too, so timing does not tell names apart.
        """
        entry = self._current().get(name)
        stored = entry.get("password") if entry else None
        ok = check_password_hash(stored or _dummy_hash(), password)
        if not ok or not stored or entry is None:
            return None
        with self._lock:
            self._verified[name] = _Verified(
                self._digest(name, password), stored, time.monotonic() + VERIFIED_TTL_S
            )
        return Principal(name, entry.get("role", "reader"))


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))
