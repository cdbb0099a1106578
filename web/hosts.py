"""The Host header: which hosts a request may name, and redirects that never repeat it.

A client sends whatever ``Host`` it likes, and Werkzeug built the absolute
URL of a redirect from it: ``GET /work//x`` with ``Host: evil.example`` was
answered ``Location: http://evil.example/work/x`` (a poisoned cache or a
crafted link then sends readers to another site). So a request may name only
the base IRI's host, one of ``trusted_hosts``, or, while the base is a
loopback address (the default), the loopback names; any other is refused with
400 (Flask's ``TRUSTED_HOSTS``, checked before routing). A request without
a Host (HTTP/1.0) is taken as naming the base IRI's. Every redirect is sent
relative to the server (its path and query), never naming a host, so it is
right behind a proxy that terminates TLS too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, request

from web.config import Settings

log = logging.getLogger(__name__)

#: The names of this machine a browser may use for a server on a loopback address.
LOOPBACK = ("127.0.0.1", "localhost")


def trusted_hosts(settings: Settings) -> list[str] | None:
    """The host names requests may use (ports are not compared); ``None``: any.

    >>> trusted_hosts(Settings(base_iri="https://catalogue.example.org/"))
    ['catalogue.example.org']
    >>> trusted_hosts(Settings(base_iri="https://c.example.org/", trusted_hosts=(".example.net",)))
    ['c.example.org', '.example.net']
    >>> trusted_hosts(Settings())
    ['127.0.0.1', 'localhost']
    >>> trusted_hosts(Settings(trusted_hosts=("*",))) is None
    True
    """
    if "*" in settings.trusted_hosts:
        return None
    host = urlsplit(settings.base_iri).hostname or ""
    if ":" in host:  # an IPv6 address: Werkzeug's check compares host names only
        log.warning("base_iri names an IPv6 address: the Host header is not checked")
        return None
    hosts = [host, *settings.trusted_hosts]
    if host in LOOPBACK:
        hosts += LOOPBACK
    return list(dict.fromkeys(hosts))


def register(app: Flask, settings: Settings) -> None:
    """Refuse requests naming another host, and send every redirect relative."""
    app.config["TRUSTED_HOSTS"] = trusted_hosts(settings)
    app.wsgi_app = _DefaultHost(app.wsgi_app, urlsplit(settings.base_iri).netloc)  # type: ignore[method-assign]
    app.after_request(_relative_location)


class _DefaultHost:
    """WSGI: a request that names no host (HTTP/1.0 allows it) names the base IRI's.

    Otherwise Werkzeug would use the server's own name (waitress says
    ``waitress.invalid``), which no trusted host list holds.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], host: str) -> None:
        self.app, self.host = app, host

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        environ.setdefault("HTTP_HOST", self.host)
        return self.app(environ, start_response)


def _relative_location(response: Response) -> Response:
    """A redirect to this server as ``/path?query``: the host it names is the client's word.

    A path starting with ``//`` would name a host again (a scheme-relative URL),
    so its leading slashes become one.
    """
    location = response.headers.get("Location")
    if not location:
        return response
    parts = urlsplit(location)
    if parts.netloc and parts.netloc.lower() != request.host.lower():
        return response  # another server, named by us, not by the client
    path = "/" + parts.path.lstrip("/")
    response.headers["Location"] = urlunsplit(("", "", path, parts.query, parts.fragment))
    return response
