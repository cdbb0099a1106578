"""Browser sessions: the signing key, the cookie's flags, and which account a cookie names.

The cookie is Flask's signed one, holding two random values and nothing else:
the session id, whose digest ``web.accounts`` keeps with its account and
expiry (so a logout, a new password or a removed account ends the session on
the server, whatever a copy of the cookie says), and Flask-WTF's CSRF secret.
It is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` whenever the request came
over TLS (behind the proxy named by ``trusted_proxy``: its
``X-Forwarded-Proto``) or the base IRI is ``https``.

The signing key lives in ``DATA_DIR/session.key`` (0600), made on the first
request that needs it, so sessions survive a restart and every process of one
data directory signs alike. A data directory where it cannot be made gives no
sessions (a warning in the log; reading is unaffected, signing in says why).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from pathlib import Path

from flask import Flask, Request, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from web.accounts import SESSION_LIFETIME_S

log = logging.getLogger(__name__)

KEY_FILE = "session.key"
COOKIE = "catalograph_session"
#: The session's keys: the id of its record in the accounts file.
SESSION_ID = "sid"


def load_key(data_dir: Path) -> bytes | None:
    """The data directory's signing key, made (0600) if it has none; ``None`` if it cannot be."""
    path = Path(data_dir) / KEY_FILE
    try:
        return path.read_bytes().strip() or None
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("no browser sessions: cannot read %s: %s", path, exc)
        return None
    key = secrets.token_hex(32).encode("ascii")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use that one
        return path.read_bytes().strip() or None
    except OSError as exc:
        log.warning("no browser sessions: cannot make %s: %s", path, exc)
        return None
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, with a key from the data directory and ``Secure`` per request."""

    def __init__(self, data_dir: Path, https_base: bool) -> None:
        self.data_dir = data_dir
        self.https_base = https_base
        self._lock = threading.Lock()
        self._loaded = False

    def _ensure_key(self, app: Flask) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                app.secret_key = load_key(self.data_dir)
                self._loaded = True

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        self._ensure_key(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return self.https_base or request.is_secure


def register(app: Flask, data_dir: Path, base_iri: str) -> None:
    """Sessions on ``app``: the cookie's name, flags and lifetime; CSRF tokens as long-lived."""
    app.session_interface = SessionCookies(Path(data_dir), base_iri.startswith("https:"))
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME_S,
        # A CSRF token lives as long as its session (the query page may stay open for hours).
        WTF_CSRF_TIME_LIMIT=SESSION_LIFETIME_S,
    )
