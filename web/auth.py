"""Who sent a request, and whether they may do what the route they called does.

Reading is open to everyone. A route that changes something names the
permission it needs with ``requires`` (``web.permissions`` says which roles
have it), and the sender is, in order:

- ``Authorization: Bearer <token>``: one of ``settings.update_tokens`` (from
  ``CATALOGRAPH_UPDATE_TOKENS``), compared in constant time; a token may edit.
- ``Authorization: Basic <name:password>``: an account of
  ``DATA_DIR/accounts.sqlite`` (``web.accounts``), made with ``catalograph
  user add NAME --role cataloger|reviewer|admin``; the old role ``reader``
  is known but may nothing (403).
- the browser's session cookie (``web.sessions``, made by ``/login``), whose
  state-changing requests must also carry the session's CSRF token (form
  field ``csrf_token`` or header ``X-CSRFToken``): a cookie alone never
  changes anything, so a cross-site form cannot borrow a browser's session.

Missing or wrong credentials are a 401 with ``WWW-Authenticate`` challenges
for both schemes. A password the server does not remember as right is
checked only if ``web.throttle`` lets it (per client, per account, and one
hash at a time; else 429 or 503), so wrong passwords cannot take the threads
and cores that readers need.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from ontology.errors import CatalographError
from web.accounts import Accounts, Principal, valid_name
from web.config import Settings
from web.permissions import PERMISSIONS
from web.sessions import SESSION_ID
from web.state import settings
from web.throttle import SignInBusyError, SignInThrottle, TooManySignInsError

REALM = "catalograph"
_ACCOUNTS = "catalograph.accounts"
_THROTTLE = "catalograph.sign-in-throttle"
#: Methods that change nothing: a session needs no CSRF token for them.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"

View = TypeVar("View", bound=Callable[..., Any])


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


class CsrfError(ForbiddenError):
    """A session's state-changing request without its CSRF token, or with a wrong one (HTTP 403)."""


#: What a request's credentials may fail with: refused (401), or not checked now (429, 503).
SIGN_IN_ERRORS = (AuthenticationError, TooManySignInsError, SignInBusyError)


def accounts() -> Accounts:
    """The current app's accounts (``web.accounts``), made on first use."""
    extensions = current_app.extensions
    return extensions.get(_ACCOUNTS) or extensions.setdefault(
        _ACCOUNTS, Accounts(settings().data_dir)
    )


def sign_in_throttle() -> SignInThrottle:
    """The one throttle of password checks: HTTP Basic and the login form share it."""
    extensions = current_app.extensions
    return extensions.get(_THROTTLE) or extensions.setdefault(_THROTTLE, SignInThrottle())


def _token_principal(token: str, settings: Settings) -> Principal | None:
    found = None
    for index, known in enumerate(settings.update_tokens, start=1):
        if hmac.compare_digest(token.encode("utf-8"), known.encode("utf-8")) and found is None:
            found = Principal(f"token {index}", "cataloger", via="token")
    return found


def _basic_principal(
    credentials: str, accounts: Accounts, throttle: SignInThrottle, client: str
) -> Principal | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, colon, password = decoded.partition(":")
    if not colon or not valid_name(name):  # no account has such a name: nothing to hash
        return None
    principal = accounts.remembered(name, password)
    if principal is None:
        with throttle.attempt(client, name) as accepted:
            principal = accounts.verify(name, password)
            if principal is not None:
                accepted()
    return principal


def authenticate(
    header: str | None,
    settings: Settings,
    accounts: Accounts,
    throttle: SignInThrottle,
    client: str,
) -> Principal | None:
    """The principal an ``Authorization`` header names; ``None`` without one.

    ``AuthenticationError`` for a header that names nobody (wrong token or
    password, unknown scheme): a client that sent credentials must learn they
    failed. ``TooManySignInsError`` / ``SignInBusyError`` for a password that
    ``client`` (its address) may not have checked now.
    """
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    principal = None
    if scheme.lower() == "bearer" and credentials:
        principal = _token_principal(credentials, settings)
    elif scheme.lower() == "basic" and credentials:
        principal = _basic_principal(credentials, accounts, throttle, client)
    if principal is None:
        raise AuthenticationError("the credentials were not accepted")
    return principal


def session_principal() -> Principal | None:
    """The account of the browser's session, if it has a live one (no password is checked)."""
    if "session_principal" not in g:
        session_id = session.get(SESSION_ID) if current_app.secret_key else None
        g.session_principal = accounts().session_principal(session_id) if session_id else None
    return g.session_principal


def request_principal() -> Principal | None:
    """The sender of the current request: its ``Authorization`` header, else its session.

    Checked once per request, refusal included: ``web.update`` asks before it
    knows whether the request writes, and asking again must not hash again.
    A request with an ``Authorization`` header is judged by it alone.
    """
    if "principal" not in g:
        header = request.headers.get("Authorization")
        try:
            g.principal = authenticate(
                header, settings(), accounts(), sign_in_throttle(), request.remote_addr or "unknown"
            )
        except SIGN_IN_ERRORS as refused:
            g.principal = refused
        if g.principal is None and not header:
            g.principal = session_principal()
    if isinstance(g.principal, CatalographError):
        raise g.principal
    return g.principal


def check_csrf() -> None:
    """The session's CSRF token must come with this request (header or form field)."""
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        token = request.form.get(CSRF_FIELD)
    try:
        validate_csrf(token)
    except ValidationError as refused:
        raise CsrfError(f"refused: {refused} (a signed-in browser sends its page's CSRF token)") from None


def require(permission: str) -> Principal:
    """The current request's sender if they have ``permission``; 401 or 403 otherwise.

    A sender known by their session cookie must also send its CSRF token with
    any request that may change something.
    """
    principal = request_principal()
    if principal is None:
        raise AuthenticationError(
            "this needs credentials: sign in, or send an Authorization header with a "
            "bearer token or an account's name and password (HTTP Basic)"
        )
    if not principal.may(permission):
        raise ForbiddenError(f"{principal.name} ({principal.role}) may not {permission}")
    if principal.via == "session" and request.method not in SAFE_METHODS:
        check_csrf()
    return principal


def require_writer() -> Principal:
    """The current request's sender if they may edit the graph (SPARQL Update, Graph Store)."""
    return require("edit")


@dataclass(frozen=True, slots=True)
class Guard:
    """What a view declared: the permission it needs, and when (``None``: always);
    or, with no permission, why it may change something without one (``open_because``)."""

    permission: str | None
    when: Callable[[], bool] | None = None
    open_because: str = ""


def requires(permission: str, *, when: Callable[[], bool] | None = None) -> Callable[[View], View]:
    """Decorate a view: its sender needs ``permission`` (for requests where ``when()`` holds).

    The check runs before the view, and the view carries it as ``guard``, which
    ``tests/test_web_permissions.py`` reads from every route that writes.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if when is None or when():
                try:
                    require(permission)
                except AuthenticationError:
                    if _browser_reading():  # a page: the login form, then back here
                        return redirect(url_for("login.login", next=_here()), code=303)
                    raise
            return view(*args, **kwargs)

        guarded.guard = Guard(permission, when)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def _browser_reading() -> bool:
    """A browser asking for a page without credentials (a program gets its 401)."""
    wanted = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.method in ("GET", "HEAD") and wanted == "text/html" and "Authorization" not in request.headers


def _here() -> str:
    return request.full_path.rstrip("?") if request.query_string else request.path


def open_to_all(reason: str) -> Callable[[View], View]:
    """Declare that a view accepting POST needs no permission, and why (it only reads, say)."""
    if not reason:
        raise ValueError("say why the view needs no permission")

    def decorate(view: View) -> View:
        view.guard = Guard(None, open_because=reason)  # type: ignore[attr-defined]
        return view

    return decorate


def writes_by_method() -> bool:
    """``when=`` for a view that reads by GET and writes by its other methods."""
    return request.method not in SAFE_METHODS
