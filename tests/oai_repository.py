"""A real HTTP server on loopback that stands in for a remote OAI-PMH repository.

It answers with real OAI-PMH responses (files of ``tests/data/oai_pmh`` or
``../shared/data/oa``) chosen by a test's ``answer(params)`` function, and can
misbehave as remote repositories do: a 503 with ``Retry-After``, a page cut
short, a slow or silent answer. Every request it receives is kept in
``requests`` (its query parameters), so a test can check what the harvester
asked for (a resumption token, ``from=``).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """One answer: a body and its status, or a fault."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: The body cut to this many bytes, sent whole as such (a page cut short upstream: its XML ends early).
    cut_at: int | None = None
    #: Send this many bytes of the body, then drop the connection (the length says more).
    drop_at: int | None = None
    #: Seconds to wait before answering (a slow repository).
    delay: float = 0.0
    #: Send the body gzip-compressed.
    gzip: bool = False


def file_reply(path: Path, **kwargs) -> Reply:
    return Reply(path.read_bytes(), **kwargs)


class OaiRepository:
    """``with OaiRepository(answer) as repo:`` serves ``answer`` at ``repo.url`` until the block ends."""

    def __init__(self, answer: Callable[[dict[str, str]], Reply]) -> None:
        self.answer = answer
        self.requests: list[dict[str, str]] = []
        repository = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                repository.requests.append(params)
                reply = repository.answer(params)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body if reply.cut_at is None else reply.body[: reply.cut_at]
                body = gzip.compress(body) if reply.gzip else body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "text/xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    if reply.gzip:
                        self.send_header("Content-Encoding", "gzip")
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body if reply.drop_at is None else body[: reply.drop_at])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the harvester gave up on a slow answer
                if reply.drop_at is not None:
                    self.close_connection = True

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oai"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OaiRepository:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def verbs(self) -> list[str]:
        return [params.get("verb", "") for params in self.requests]
