"""The production WSGI server: waitress, never Flask's development server.

``serve`` is what ``catalograph serve`` calls; ``create_server`` lets tests and
benchmarks run the same server in a background thread on a free port
(``port=0``) and stop it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
import time
from typing import TextIO

from flask import Flask
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.server import create_server as _waitress_server

from ontology.errors import ConfigurationError
from web.app import close_app, create_app
from web.config import Settings
from web.limits import start_query_workers

Server = BaseWSGIServer | MultiSocketServer


#: waitress warns "Task queue depth is N" for every request that finds all its
#: threads busy. Under load that is every request: measured with 16 clients,
#: 10,233 lines in 15 s, and the logging took CPU from answering. A full
#: queue is normal here (the query pool decides who waits, and says so with
#: 503 + Retry-After); ``/-/health`` shows the pool's figures instead.
_QUIET_LOGGERS = ("waitress.queue",)


def create_server(settings: Settings, app: Flask | None = None) -> Server:
    """A waitress server bound to ``settings.host:port``, not yet running.

    A port that is taken, or an address that cannot be bound, is a
    ``ConfigurationError`` whose message says so in one line.
    """
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    app = app or create_app(settings)
    try:
        server = _waitress_server(
            app,
            host=settings.host,
            port=settings.port,
            threads=settings.threads,
            ident="catalograph",
            clear_untrusted_proxy_headers=True,
            **_proxy(settings),
        )
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        if exc.errno == errno.EADDRINUSE:
            raise ConfigurationError(
                f"{where} is already in use; stop the other server or choose another port"
            ) from None
        raise ConfigurationError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    server.catalograph_app = app  # waitress keeps only a wrapped callable; ``stop`` needs the app
    return server


def _proxy(settings: Settings) -> dict[str, object]:
    """Trust X-Forwarded-For and -Proto from the configured proxy only: they then name the
    client, and whether it came over TLS (a session cookie is then ``Secure``).

    waitress sets ``REMOTE_ADDR`` to the address the proxy saw (the rightmost
    entry), which is what per-client query limits count by.
    """
    if not settings.trusted_proxy:
        return {}
    return {
        "trusted_proxy": settings.trusted_proxy,
        "trusted_proxy_count": 1,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
    }


def server_url(server: Server) -> str:
    """The URL a server answers on (its real port when 0 was asked for)."""
    if isinstance(server, MultiSocketServer):
        host, port = server.effective_listen[0][:2]
    else:
        host, port = server.effective_host, server.effective_port
    if ":" in str(host):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


#: How long ``stop`` waits for the server's loop to close its own sockets.
_LOOP_EXIT_S = 5.0


def stop(server: Server, loop_running: bool = True) -> None:
    """Stop a server: close its listening socket, open connections and worker threads.

    ``server.close()`` alone closes only the listening socket; a connection a
    client left open would keep the loop (and its thread) alive. While the
    loop runs in another thread, the sockets are closed in that thread
    (waitress's trigger runs a function there): closed from outside, a
    socket the loop is waiting on makes its ``select`` fail with EBADF and
    the thread die with a traceback. ``loop_running=False``: the loop has
    already returned (``serve``), close them here.
    """
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
    app = getattr(server, "catalograph_app", None)
    if isinstance(app, Flask):
        close_app(app)
    socket_map = server._map  # waitress keeps its dispatchers only there
    if loop_running and server.trigger in socket_map.values():
        try:
            server.trigger.pull_trigger(lambda: [d.close() for d in list(socket_map.values())])
        except OSError as exc:  # the trigger's pipe is gone: the loop cannot be asked
            logging.getLogger(__name__).warning("stopping the server: %s; closing here", exc)
        else:
            deadline = time.monotonic() + _LOOP_EXIT_S
            while socket_map and time.monotonic() < deadline:
                time.sleep(0.01)
    for _attempt in range(100):  # the loop is gone or did not answer: close them here
        if not socket_map:
            break
        for dispatcher in list(socket_map.values()):
            if dispatcher is not server.trigger:
                dispatcher.close()
        if server.trigger in socket_map.values():
            with contextlib.suppress(OSError):  # wake the loop now, not at its next timeout
                server.trigger.pull_trigger()
            server.trigger.close()


def serve(settings: Settings, out: TextIO | None = None) -> None:
    """Run the server until interrupted, after printing where it listens."""
    server = create_server(settings)
    start_query_workers(server.catalograph_app)
    print(
        f"Catalograph at {server_url(server)} (data: {settings.data_dir})", file=out or sys.stderr
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop(server, loop_running=False)
