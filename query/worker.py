"""The query worker process: its limits, its isolation, and the loop that answers jobs.

``query.execution`` starts these processes (from a forkserver) and talks to
each over one pipe: a job in (a ``WorkerJob``: plain values, pickled small; a
SPARQL query is a ``Job``, a resource's page or twin a
``query.resource_job.ResourceJob``), a tuple out (``("ok", what the job's
``run`` returned, seconds)`` or ``("error", code, message)``: an error
travels as its stable ``code``, and ``error_from`` rebuilds it from
``RETURNED_ERRORS``, an explicit table, never from a class name).
A worker runs queries on a thread with a large stack, under a memory limit,
and, unless some ``SERVICE`` endpoint is allowed, without any network.
"""

from __future__ import annotations

import ctypes
import logging
import os
import resource
import signal
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any, NamedTuple, Protocol, TypeVar

from pyoxigraph import QueryResultsFormat, RdfFormat, Store

from graph.snapshots import open_checkpoint
from ontology.errors import (
    CatalographError,
    NotFoundError,
    QueryError,
    StoreError,
    UsageError,
)
from query.guard import QueryTooLargeError, ServiceRefusedError, UpdateRefusedError
from query.lifeline import WATCH_EVERY_S, die_with_parent
from query.negotiation import NotAcceptableError
from query.sparql import SparqlResult, run_query

log = logging.getLogger(__name__)

#: Stack of the thread that runs queries in a worker: pyoxigraph recurses once
#: per nesting level; 256 MB is reserved address space, used only as needed.
STACK_BYTES = 256 * 2**20

#: The errors a worker's answer may carry, by code. A subclass raised in a
#: worker without a code of its own comes back as its parent (same code).
RETURNED_ERRORS: dict[str, type[CatalographError]] = {
    cls.code: cls
    for cls in (
        CatalographError,
        UsageError,
        StoreError,
        QueryError,
        NotFoundError,
        NotAcceptableError,
        QueryTooLargeError,
        UpdateRefusedError,
        ServiceRefusedError,
    )
}


def error_from(code: str, message: str) -> CatalographError:
    """The error a worker sent as ``("error", code, message)``; an unknown code is a generic one.

    >>> error_from("not-acceptable", "no format").http_status
    406
    >>> type(error_from("no-such-code", "what went wrong")).__name__
    'CatalographError'
    """
    return RETURNED_ERRORS.get(code, CatalographError)(message)


Answer = TypeVar("Answer", covariant=True)


class WorkerJob(Protocol[Answer]):
    """What a worker answers: which checkpoint to read, and what to do with it there."""

    @property
    def store_path(self) -> str: ...

    def run(self, store: Store) -> Answer: ...


class Job(NamedTuple):
    """One SPARQL query for a worker: plain values only, so it pickles small."""

    store_path: str
    text: str
    results_type: str | None  # media type of the results format, if acceptable
    graph_type: str | None  # media type of the RDF format, if acceptable
    max_rows: int
    max_query_bytes: int
    max_response_bytes: int
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    service_allow: tuple[str, ...] = ()

    def run(self, store: Store) -> SparqlResult:
        return run_query(
            store,
            self.text,
            results_format=QueryResultsFormat.from_media_type(self.results_type)
            if self.results_type
            else None,
            graph_format=RdfFormat.from_media_type(self.graph_type) if self.graph_type else None,
            max_rows=self.max_rows,
            max_bytes=self.max_query_bytes,
            max_response_bytes=self.max_response_bytes,
            default_graphs=list(self.default_graphs) if self.default_graphs else None,
            named_graphs=list(self.named_graphs) if self.named_graphs else None,
            service_allow=self.service_allow,
        )


def job_for(
    store_path: str,
    text: str,
    *,
    results_type: str | None,
    graph_type: str | None,
    max_rows: int,
    max_query_bytes: int,
    max_response_bytes: int,
    default_graphs: Sequence[str] | None = None,
    named_graphs: Sequence[str] | None = None,
    service_allow: Sequence[str] = (),
) -> Job:
    """A ``Job`` from the request's values (sequences made tuples, empty lists ``None``)."""
    return Job(
        store_path,
        text,
        results_type,
        graph_type,
        max_rows,
        max_query_bytes,
        max_response_bytes,
        tuple(default_graphs) if default_graphs else None,
        tuple(named_graphs) if named_graphs else None,
        tuple(service_allow),
    )


def _without_network() -> bool:
    """Move this process into new, empty user and network namespaces (Linux); False if refused."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(0x10000000 | 0x40000000) == 0  # CLONE_NEWUSER | CLONE_NEWNET
    except (OSError, AttributeError):
        return False


def _started(pid: int) -> bytes | None:
    """When process ``pid`` started (field 22 of /proc/PID/stat), or ``None`` if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def serve(conn: Connection, memory_bytes: int, isolate_network: bool, server: int = 0) -> None:
    """A worker's life: set its limits, then answer jobs until told to stop.

    The worker dies with its parent, the forkserver, which dies with the
    server (``query.lifeline``); the main thread also watches the server
    process (``server``, its pid) where the kernel cannot be asked.
    """
    die_with_parent()
    server_started = _started(server) if server else None
    if server and server_started is None:
        os._exit(1)  # the server died while this worker started
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    os.environ["RUST_BACKTRACE"] = "0"  # a query that runs out of memory: one line, not 40
    if isolate_network and not _without_network():
        log.warning(
            "query worker %d could not leave the network: SERVICE relies on the text check only",
            os.getpid(),
        )
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    threading.stack_size(STACK_BYTES)
    runner = threading.Thread(target=_answer_jobs, args=(conn,), name="query")
    runner.start()
    while runner.is_alive():
        runner.join(timeout=WATCH_EVERY_S)
        if server_started is not None and _started(server) != server_started:
            os._exit(1)  # the server is gone: stop whatever query is running


def _answer_jobs(conn: Connection) -> None:
    store: Store | None = None
    opened: str | None = None
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        started = time.perf_counter()
        try:
            if job.store_path != opened:
                store = opened = None
                # No path: the data directory has no checkpoint yet; answer from nothing.
                store = open_checkpoint(job.store_path)
                opened = job.store_path
            reply: tuple[Any, ...] = ("ok", job.run(store), time.perf_counter() - started)
        except CatalographError as exc:
            reply = ("error", exc.code, exc.format_message())
        except OSError as exc:
            reply = ("error", StoreError.code, f"cannot open the store {job.store_path}: {exc}")
        except MemoryError:
            reply = ("error", QueryError.code, "the query needs more memory than a query may use")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
