"""Who may write: bearer tokens from the configuration, and cataloger accounts.

Reading is open to everyone; writing (SPARQL Update, Graph Store Protocol
PUT/POST/DELETE) needs an ``Authorization`` header:

- ``Bearer <token>``: one of ``settings.update_tokens`` (from
  ``CATALOGRAPH_UPDATE_TOKENS``), compared in constant time; a token may write.
- ``Basic <name:password>``: an account of ``data_dir/users.json``
  (``web.accounts``), made with ``catalograph user add NAME --role
  cataloger``. Role ``cataloger`` may write; ``reader`` is known but may not
  (403).

Missing or wrong credentials are a 401 with ``WWW-Authenticate`` challenges
for both schemes. A password the server does not remember as right is
checked only if ``web.throttle`` lets it (per client, per account, and one
hash at a time; else 429 or 503), so wrong passwords cannot take the threads
and cores that readers need.

The write endpoints are API endpoints authenticated by this header, never by
a cookie, so a cross-site form cannot use a browser's credentials on them:
CSRF does not apply (no cookie, no session, no form).
"""

from __future__ import annotations

import base64
import binascii
import hmac

from flask import current_app, g, request

from ontology.errors import CatalographError
from web.accounts import Accounts, Principal, valid_name
from web.config import Settings
from web.state import settings
from web.throttle import SignInBusyError, SignInThrottle, TooManySignInsError

REALM = "catalograph"
_ACCOUNTS = "catalograph.accounts"
_THROTTLE = "catalograph.sign-in-throttle"


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


#: What a request's credentials may fail with: refused (401), or not checked now (429, 503).
SIGN_IN_ERRORS = (AuthenticationError, TooManySignInsError, SignInBusyError)


def _token_principal(token: str, settings: Settings) -> Principal | None:
    found = None
    for index, known in enumerate(settings.update_tokens, start=1):
        if hmac.compare_digest(token.encode("utf-8"), known.encode("utf-8")) and found is None:
            found = Principal(f"token {index}", "cataloger")
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


def request_principal() -> Principal | None:
    """The authenticated sender of the current request.

    Checked once per request, refusal included: ``web.update`` asks before it
    knows whether the request writes, and asking again must not hash again.
    """
    if "principal" not in g:
        config = settings()
        extensions = current_app.extensions
        accounts = extensions.get(_ACCOUNTS) or extensions.setdefault(
            _ACCOUNTS, Accounts(config.data_dir)
        )
        throttle = extensions.get(_THROTTLE) or extensions.setdefault(_THROTTLE, SignInThrottle())
        header = request.headers.get("Authorization")
        try:
            g.principal = authenticate(
                header, config, accounts, throttle, request.remote_addr or "unknown"
            )
        except SIGN_IN_ERRORS as refused:
            g.principal = refused
    if isinstance(g.principal, CatalographError):
        raise g.principal
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
