"""SPARQL queries in worker processes that can be killed at their deadline.

pyoxigraph's ``Store.query`` has no timeout and cannot be cancelled from
Python, and its recursive parser and evaluator can crash the process that runs
them. So queries never run in the server process: a small pool of worker
processes each opens the store's current checkpoint read-only (about 13 ms,
so a worker keeps it open and reopens only when the path sent with a job
changes), runs one query at a time with ``query.sparql.run_query`` and sends
back the serialised bytes. A query still running at its deadline is ended by
killing its worker (SIGKILL: its CPU and memory are released at once) and a
fresh worker replaces it; a worker that crashes is replaced the same way.

Each worker (``query.worker``) runs queries on a thread with a large stack
(deep but legal queries parse instead of overflowing), under a memory limit (a
query that builds huge intermediate results fails alone instead of exhausting
the machine's memory), and, when no ``SERVICE`` endpoint is allowed, in a
network namespace of its own with no interfaces: whatever the parser lets
through, the worker cannot open a connection. A query still running after
``LONG_QUERY_S`` has its worker's priority lowered, so short queries keep
their latency next to it.

Messages are small: the query text and a few numbers go in, the serialised
answer comes out, over one pipe per worker. A worker answers any
``WorkerJob``: a SPARQL query (``Job``) or a resource's page or RDF twin
(``query.resource_job.ResourceJob``), under the same deadline and kill.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from ontology.errors import QueryError, StoreError
from query.lifeline import FORKSERVER_PARENT_VARIABLE
from query.worker import Job, WorkerJob, error_from, job_for, serve

__all__ = [
    "Job",
    "Outcome",
    "PoolStats",
    "QueryBusyError",
    "QueryPool",
    "QueryTimeoutError",
    "WorkerCrashedError",
    "WorkerJob",
    "job_for",
]

log = logging.getLogger(__name__)

#: A query still running after this long is "long": its worker's CPU priority is
#: lowered (nice 5), so that short queries keep their latency next to it.
LONG_QUERY_S = 0.5
LONG_QUERY_NICE = 5
#: How long a closing pool waits for an idle worker to exit before killing it.
_EXIT_WAIT_S = 2.0
#: Imported by the forkserver once: first what ties it and its workers to the server
#: (``query.lifeline``), then the modules of the jobs the workers answer, so that each
#: worker starts with them loaded.
_PRELOAD = ["query.forkserver_preload", "query.worker", "query.resource_job"]

Answer = TypeVar("Answer")


class QueryTimeoutError(QueryError):
    """A query ran past its deadline and was stopped (HTTP 503)."""

    http_status = 503


class QueryBusyError(QueryError):
    """Every worker is busy and the waiting line is full (HTTP 503 with Retry-After)."""

    http_status = 503
    retry_after = 1


class WorkerCrashedError(QueryError):
    """The process evaluating a query died of it (HTTP 500); the server is unaffected."""

    http_status = 500


@dataclass(frozen=True, slots=True)
class Outcome(Generic[Answer]):
    """A worker's answer, with where the time went (for ``Server-Timing``)."""

    result: Answer
    wait_s: float  # waiting for a free worker
    query_s: float  # inside the worker: open, evaluate, serialise
    total_s: float  # from ``run`` being called to the answer being back


# ----------------------------------------------------------------- the server side


def _stopped_after(pid: int, since: float, limit_s: float = 5.0) -> float:
    """Seconds from ``since`` until process ``pid`` no longer runs (a zombie, or gone).

    That is when its CPU is released; reaping it (the forkserver's job) may come later.
    """
    stat = Path(f"/proc/{pid}/stat")
    while time.monotonic() - since < limit_s:
        try:
            if stat.read_bytes().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
                break
        except (OSError, IndexError):
            break
        time.sleep(0.001)
    return time.monotonic() - since


class _Overdue(Exception):
    pass


class _Died(Exception):
    pass


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: Any, memory_bytes: int, isolate_network: bool) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=serve,
            args=(child, memory_bytes, isolate_network, os.getpid()),
            name="catalograph-query",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.niced = False

    @property
    def pid(self) -> int:
        return int(self.process.pid or 0)

    def ask(self, job: Job, deadline: float) -> tuple[Any, ...]:
        try:
            self.conn.send(job)
        except (OSError, ValueError) as exc:
            raise _Died("before the job") from exc
        if not self.conn.poll(max(0.0, min(deadline - time.monotonic(), LONG_QUERY_S))):
            self._yield_cpu()
            if not self.conn.poll(max(0.0, deadline - time.monotonic())):
                raise _Overdue
        try:
            return self.conn.recv()
        except (EOFError, OSError) as exc:
            raise _Died("during the job") from exc

    def _yield_cpu(self) -> None:
        """Lower this worker's priority: a long query takes CPU only when short ones leave it.

        An unprivileged process cannot raise it again, so the pool retires the
        worker once its query is done.
        """
        try:  # Linux keeps a priority per thread: lower every thread's (the query runs in one)
            threads = [int(tid) for tid in os.listdir(f"/proc/{self.pid}/task")]
        except OSError:
            threads = [self.pid]
        for tid in threads:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, tid, LONG_QUERY_NICE)
                self.niced = True

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(timeout=_EXIT_WAIT_S)
        self.kill()

    def exit_reason(self) -> str:
        self.process.join(timeout=1)
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"


@dataclass(slots=True)
class PoolStats:
    """What the pool has done since it started (shown by ``/-/health``)."""

    started: int = 0
    answered: int = 0
    overdue: int = 0
    crashed: int = 0
    refused_busy: int = 0


class QueryPool:
    """``workers`` processes answering queries; at most ``queue`` more queries wait for one.

    ``run`` blocks the calling (request) thread until its query is answered,
    has failed, or reaches its deadline; the deadline counts from the call, so
    time spent waiting for a free worker is part of it.
    """

    def __init__(
        self,
        workers: int,
        queue: int,
        memory_mb: int = 0,
        isolate_network: bool = True,
    ) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("a query pool needs at least one worker and a queue of zero or more")
        self.size, self.queue = workers, queue
        self._memory = memory_mb * 2**20
        self._isolate = isolate_network
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(_PRELOAD)
        # The forkserver, from whichever thread it is started, and its workers die with
        # this process, even while a runaway query holds a worker's GIL (query.lifeline).
        os.environ[FORKSERVER_PARENT_VARIABLE] = str(os.getpid())
        multiprocessing.forkserver.ensure_running()
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._inside = 0  # queries running or waiting
        self._closed = False
        self.stats = PoolStats()
        for _ in range(workers):
            self._start_later()

    # -- workers

    def _start_later(self) -> None:
        threading.Thread(target=self._start_one, name="query-worker-start", daemon=True).start()

    def _start_one(self) -> None:
        try:
            worker = _Worker(self._context, self._memory, self._isolate)
        except OSError:
            log.exception("cannot start a query worker; trying again in a second")
            time.sleep(1)
            if not self._closed:
                self._start_later()
            return
        with self._cond:
            if self._closed:
                worker.stop()
                return
            self.stats.started += 1
            self._idle.append(worker)
            self._cond.notify()

    def pids(self) -> list[int]:
        """Process ids of the live workers (idle and busy)."""
        with self._cond:
            return sorted(w.pid for w in [*self._idle, *self._busy])

    def busy(self) -> int:
        with self._cond:
            return len(self._busy)

    # -- queries

    def run(self, job: WorkerJob[Answer], timeout_s: float) -> Outcome[Answer]:
        """Answer ``job`` in a worker within ``timeout_s`` seconds, or raise why not."""
        called = time.monotonic()
        deadline = called + timeout_s
        with self._cond:
            if self._closed:
                raise StoreError("the query service is shutting down")
            if self._inside >= self.size + self.queue:
                self.stats.refused_busy += 1
                raise QueryBusyError(
                    f"the server is busy ({self.size} queries running, {self.queue} waiting); "
                    "try again in a moment"
                )
            self._inside += 1
        try:
            return self._run(job, timeout_s, called, deadline)
        finally:
            with self._cond:
                self._inside -= 1

    def _run(
        self, job: WorkerJob[Answer], timeout_s: float, called: float, deadline: float
    ) -> Outcome[Answer]:
        for _attempt in range(3):  # a worker found dead before it took the job: use another
            worker = self._take(deadline, timeout_s)
            waited = time.monotonic() - called
            try:
                reply = worker.ask(job, deadline)
            except _Overdue:
                self._replace(worker, "overdue")
                raise QueryTimeoutError(
                    f"the query exceeded its {timeout_s:g} s deadline and was stopped; "
                    "narrow it (more specific patterns, LIMIT) and try again"
                ) from None
            except _Died as died:
                reason = worker.exit_reason()
                self._replace(worker, "crashed")
                if str(died) == "before the job":
                    continue
                raise WorkerCrashedError(
                    f"the query stopped the process evaluating it ({reason}): it may nest or "
                    "repeat too deeply, or need more memory than a query may use; "
                    "the server is unaffected"
                ) from None
            self._give_back(worker)
            return self._outcome(reply, waited, called)
        raise StoreError("query workers keep dying before they take a job; see the server log")

    def _take(self, deadline: float, timeout_s: float) -> _Worker:
        with self._cond:
            while not self._idle:
                remaining = deadline - time.monotonic()
                if self._closed:
                    raise StoreError("the query service is shutting down")
                if remaining <= 0:
                    raise QueryTimeoutError(
                        f"no query worker became free within the {timeout_s:g} s deadline "
                        "(the server is busy); try again in a moment"
                    )
                self._cond.wait(remaining)
            worker = self._idle.pop()
            self._busy.add(worker)
            return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._cond:
            self._busy.discard(worker)
            if self._closed:
                worker.stop()
                return
            self.stats.answered += 1
            if not worker.niced:
                self._idle.append(worker)
                self._cond.notify()
                return
        # It ran a long query at low priority: let it go and start a fresh one.
        threading.Thread(target=worker.stop, name="query-worker-retire", daemon=True).start()
        self._start_later()

    def _replace(self, worker: _Worker, why: str) -> None:
        """SIGKILL ``worker`` now; reap it and start its successor in the background.

        The client's answer does not wait for the reaping: the process has
        stopped running queries the moment the signal is sent.
        """
        started = time.monotonic()
        if worker.process.is_alive():
            worker.process.kill()
        with self._cond:
            self._busy.discard(worker)
            if why == "overdue":
                self.stats.overdue += 1
            else:
                self.stats.crashed += 1
        threading.Thread(
            target=self._bury, args=(worker, why, started), name="query-worker-bury", daemon=True
        ).start()

    def _bury(self, worker: _Worker, why: str, started: float) -> None:
        stopped = _stopped_after(worker.pid, started)
        worker.kill()  # already signalled: waits until the process is reaped
        log.warning(
            "query worker %d %s: killed, stopped in %.1f ms, gone in %.1f ms; starting a new one",
            worker.pid,
            why,
            stopped * 1000,
            (time.monotonic() - started) * 1000,
        )
        if not self._closed:
            self._start_one()

    @staticmethod
    def _outcome(reply: tuple[Any, ...], waited: float, called: float) -> Outcome[Any]:
        if reply[0] == "error":
            raise error_from(reply[1], reply[2])
        _, result, query_s = reply
        return Outcome(result, waited, query_s, time.monotonic() - called)

    def close(self) -> None:
        """Stop every worker: idle ones are asked to exit, busy ones are killed."""
        with self._cond:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
            self._cond.notify_all()
        for worker in idle:
            worker.stop()
        for worker in busy:
            worker.kill()
