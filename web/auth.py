"""Who may write: bearer tokens from the configuration, and cataloger accounts.

Reading is open to everyone; writing (SPARQL Update, Graph Store Protocol
PUT/POST/DELETE) needs an ``Authorization`` header:

- ``Bearer <token>``: one of ``settings.update_tokens`` (from
  ``CATALOGRAPH_UPDATE_TOKENS``), compared in constant time; a token may write.
- ``Basic <name:password>``: an account of ``data_dir/users.json`` (mode
  0600), made with ``catalograph user add NAME --role cataloger``; passwords
  are stored as salted scrypt hashes (werkzeug). Role ``cataloger`` may write;
  ``reader`` is known but may not (403).

Missing or wrong credentials are a 401 with ``WWW-Authenticate`` challenges
for both schemes. The write endpoints are API endpoints authenticated by this
header, never by a cookie, so a cross-site form cannot use a browser's
credentials on them: CSRF does not apply (no cookie, no session, no form).
"""

from __future__ import annotations

import base64
import binascii
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

from flask import current_app, g, request
from werkzeug.security import check_password_hash, generate_password_hash

from ontology.errors import CatalographError, UsageError
from web.config import Settings
from web.state import settings

USERS_FILE = "users.json"
ROLES = ("reader", "cataloger")
WRITER_ROLES = frozenset({"cataloger"})
REALM = "catalograph"
_ACCOUNTS = "catalograph.accounts"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: A verified password is remembered this long (scrypt costs ~0.1 s per check).
VERIFIED_TTL_S = 300.0


class AuthenticationError(CatalographError):
    """No credentials, or wrong ones (HTTP 401 with the challenges)."""

    http_status = 401
    http_headers = (
        ("WWW-Authenticate", f'Bearer realm="{REALM}"'),
        ("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"'),
    )


class ForbiddenError(CatalographError):
    """Known, but not allowed to do this (HTTP 403)."""

    http_status = 403


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sent a request: an account name, or ``token N`` for the N-th configured token."""

    name: str
    role: str

    @property
    def may_write(self) -> bool:
        return self.role in WRITER_ROLES


# ------------------------------------------------------------------ the accounts file


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


class Accounts:
    """The accounts file as the server reads it: reloaded when it changes on disk."""

    def __init__(self, data_dir: Path) -> None:
        self.path = users_path(data_dir)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, dict[str, str]] = {}
        self._key = secrets.token_bytes(32)
        self._verified: dict[bytes, float] = {}

    def _current(self) -> dict[str, dict[str, str]]:
        try:
            info = self.path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._users = _read(self.path) if stamp else {}
                self._stamp = stamp
                self._verified.clear()
            return self._users

    def verify(self, name: str, password: str) -> Principal | None:
        users = self._current()
        entry = users.get(name)
        key = hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            if entry is not None and self._verified.get(key, 0.0) > now:
                return Principal(name, entry.get("role", "reader"))
        # An unknown name costs a hash check too, so timing does not tell names apart.
        stored = entry.get("password") if entry else None
        ok = check_password_hash(stored or _dummy_hash(), password)
        if not ok or not stored:
            return None
        with self._lock:
            if len(self._verified) > 256:
                self._verified.clear()
            self._verified[key] = now + VERIFIED_TTL_S
        return Principal(name, entry.get("role", "reader"))


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


# ------------------------------------------------------------------ requests


def _token_principal(token: str, settings: Settings) -> Principal | None:
    found = None
    for index, known in enumerate(settings.update_tokens, start=1):
        if hmac.compare_digest(token.encode("utf-8"), known.encode("utf-8")) and found is None:
            found = Principal(f"token {index}", "cataloger")
    return found


def _basic_principal(credentials: str, accounts: Accounts) -> Principal | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, colon, password = decoded.partition(":")
    if not colon or not name:
        return None
    return accounts.verify(name, password)


def authenticate(header: str | None, settings: Settings, accounts: Accounts) -> Principal | None:
    """The principal an ``Authorization`` header names; ``None`` without one.

    ``AuthenticationError`` for a header that names nobody (wrong token or
    password, unknown scheme): a client that sent credentials must learn they failed.
    """
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    principal = None
    if scheme.lower() == "bearer" and credentials:
        principal = _token_principal(credentials, settings)
    elif scheme.lower() == "basic" and credentials:
        principal = _basic_principal(credentials, accounts)
    if principal is None:
        raise AuthenticationError("the credentials were not accepted")
    return principal


def request_principal() -> Principal | None:
    """The authenticated sender of the current request (checked once per request)."""
    if "principal" not in g:
        config = settings()
        accounts = current_app.extensions.get(_ACCOUNTS)
        if accounts is None:
            accounts = current_app.extensions.setdefault(_ACCOUNTS, Accounts(config.data_dir))
        g.principal = authenticate(request.headers.get("Authorization"), config, accounts)
    return g.principal


def require_writer() -> Principal:
    """The current request's sender if they may write; 401 or 403 otherwise."""
    principal = request_principal()
    if principal is None:
        raise AuthenticationError(
            "writing needs credentials: an Authorization header with a bearer token "
            "or a cataloger account (HTTP Basic)"
        )
    if not principal.may_write:
        raise ForbiddenError(f"{principal.name} ({principal.role}) may not write")
    return principal
