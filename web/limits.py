"""The limits of the public SPARQL endpoint: per client, per query, per process.

A query passes, in order: the per-client count (at most ``max_client_queries``
running or waiting per remote address, else 429 with ``Retry-After``), the
worker pool's admission (``query_workers`` running plus ``query_queue``
waiting, else 503 with ``Retry-After``), then runs in a worker process until
its deadline (``query_timeout_s``, or less if the client asks with
``timeout``), when the worker is killed and the client gets a 503 saying so.

The client address is the connection's, or, behind the proxy named by
``trusted_proxy``, the one it puts in X-Forwarded-For (waitress resolves it).
Resource pages use the same workers (``run_in_worker``) under limits of their
own (``web.page_limits``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from flask import Flask, current_app, request
from pyoxigraph import QueryResultsFormat, RdfFormat

from ontology.errors import QueryError, StoreError, UsageError
from ontology.namespaces import PREFIXES
from query.execution import Outcome, QueryPool, WorkerJob, job_for
from query.sparql import SparqlResult, check_query
from web.config import Settings
from web.state import StoreHolder, app_state, on_close
from web.throttle import client_key

log = logging.getLogger(__name__)
_EXTENSION = "catalograph.limits"
_CREATING = threading.Lock()
Answer = TypeVar("Answer")


class TooManyQueriesError(QueryError):
    """A client has its allowed number of queries in flight already (HTTP 429)."""

    http_status = 429
    retry_after = 1


class ClientLimiter:
    """How many queries each client has in flight, bounded by ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, client: str) -> Iterator[None]:
        with self._lock:
            count = self._counts.get(client, 0)
            if count >= self.limit:
                raise TooManyQueriesError(
                    f"you have {count} queries in progress, the most one client may have; "
                    "wait for one to finish"
                )
            self._counts[client] = count + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._counts[client] - 1
                if left:
                    self._counts[client] = left
                else:
                    del self._counts[client]


class SparqlLimits:
    """The limiter and the worker pool of one app, made on its first query."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        admitted = settings.query_workers + settings.query_queue
        if settings.threads < admitted:
            log.warning(
                "threads (%d) < query_workers + query_queue (%d): queries beyond %d wait in "
                "waitress's own queue rather than being refused with 503",
                settings.threads,
                admitted,
                settings.threads,
            )
        self.clients = ClientLimiter(settings.max_client_queries)
        self.pool = QueryPool(
            settings.query_workers,
            settings.query_queue,
            memory_mb=settings.query_memory_mb,
            isolate_network=not settings.service_allow,
        )

    def close(self) -> None:
        self.pool.close()


def sparql_limits() -> SparqlLimits:
    """The current app's limits, starting its query workers on first use."""
    app = current_app._get_current_object()  # the app itself, not its proxy
    found = app.extensions.get(_EXTENSION)
    if found is None:
        with _CREATING:
            found = app.extensions.get(_EXTENSION)
            if found is None:
                found = SparqlLimits(app_state().settings)
                app.extensions[_EXTENSION] = found
                on_close(found.close)
    return found


def start_query_workers(app: Flask) -> None:
    """Start ``app``'s query workers now (``catalograph serve``, before it listens).

    Why not on the first query, as tests' servers do: the first researcher
    would wait for the forkserver to import the workers' modules (about
    0.3 s of CPU). Started from any thread, the forkserver and its workers
    die with the server (``query.lifeline``).
    """
    with app.app_context():
        sparql_limits()


def client_address() -> str:
    """Who the request counts against: its address, or its /64 for IPv6
    (``web.throttle.client_key``: one host holds a whole /64, so counting its
    addresses one by one would give it billions of shares)."""
    return client_key(request.remote_addr or "unknown")


def timeout_s(settings: Settings, values: list[str]) -> float:
    """The query's deadline in seconds: the ``timeout`` parameter, capped at the configured one.

    >>> timeout_s(Settings(), ["2.5"]), timeout_s(Settings(), ["600"]), timeout_s(Settings(), [])
    (2.5, 10.0, 10.0)
    """
    limit = settings.query_timeout_s
    if not values:
        return limit
    if len(values) > 1:
        raise UsageError(f"the 'timeout' parameter is given {len(values)} times; give it once")
    try:
        asked = float(values[0])
    except ValueError:
        asked = float("nan")
    if not asked > 0 or asked == float("inf"):
        raise UsageError(
            f"timeout must be a positive number of seconds (at most {limit:g}), got {values[0]!r}"
        )
    return min(asked, limit)


def run_limited(
    holder: StoreHolder,
    text: str,
    *,
    results_format: QueryResultsFormat | None,
    graph_format: RdfFormat | None,
    default_graphs: list[str] | None,
    named_graphs: list[str] | None,
    timeout: list[str],
) -> Outcome[SparqlResult]:
    """Run one query of the current request under every limit, on the newest checkpoint."""
    limits = sparql_limits()
    config = limits.settings
    deadline = timeout_s(config, timeout)
    # Refuse what must not reach a worker (size, nesting, SERVICE) without using one.
    check_query(text, config.max_query_bytes, service_allow=config.service_allow, prefixes=PREFIXES)
    with limits.clients.slot(client_address()):
        return run_in_worker(
            holder,
            lambda store_path: job_for(
                store_path,
                text,
                results_type=results_format.media_type if results_format else None,
                graph_type=graph_format.media_type if graph_format else None,
                max_rows=config.max_rows,
                max_query_bytes=config.max_query_bytes,
                max_response_bytes=config.max_response_bytes,
                default_graphs=default_graphs,
                named_graphs=named_graphs,
                service_allow=config.service_allow,
            ),
            deadline,
        )


def run_in_worker(
    holder: StoreHolder, make_job: Callable[[str], WorkerJob[Answer]], deadline_s: float
) -> Outcome[Answer]:
    """Answer a job on the newest checkpoint in a query worker within ``deadline_s`` seconds.

    ``make_job`` gets the checkpoint's path (empty when there is none yet, an
    ingest's first commit being due: the worker answers from an empty store).
    An app given an open store (embedding) answers in this thread instead.
    """
    started = time.monotonic()
    store = holder.get()  # follows the newest checkpoint; the workers open it by path
    if holder.source == "given":
        return Outcome(make_job("").run(store), 0.0, 0.0, 0.0)
    pool = sparql_limits().pool
    job = make_job(str(holder.path or ""))
    try:
        return pool.run(job, deadline_s)
    except StoreError:
        if not job.store_path or Path(job.store_path).exists():
            raise
        # Two newer checkpoints were published meanwhile and this one was pruned.
        holder.refresh()
        holder.get()
        left = deadline_s - (time.monotonic() - started)
        return pool.run(make_job(str(holder.path or "")), max(left, 0.001))
