"""The query worker pool on a real checkpoint: answers, deadlines, crashes, isolation."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, Store
from web_fixtures import BASE, build_data_dir, hostile_record, ingest

from graph import latest_snapshot
from ontology.errors import CatalographError, QueryError, StoreError
from query.execution import (
    LONG_QUERY_NICE,
    LONG_QUERY_S,
    QueryBusyError,
    QueryPool,
    QueryTimeoutError,
    WorkerCrashedError,
    job_for,
)
from query.guard import QueryTooLargeError, ServiceRefusedError, UpdateRefusedError
from query.negotiation import NotAcceptableError
from query.sparql import run_query
from query.worker import RETURNED_ERRORS, error_from

INSTANCE = BASE + "instance/lccn-2002036483"  # george_eliot.marc 010 $a
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
#: Thirty doublings of a 16-character string: 16 GiB, far beyond a 1 GiB worker.
MEMORY_BOMB = (
    "SELECT (STRLEN(?a30) AS ?n) WHERE { BIND('aaaaaaaaaaaaaaaa' AS ?a0) "
    + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(30))
    + " }"
)


def job(path: Path, text: str, results=QueryResultsFormat.JSON, graph=RdfFormat.TURTLE, **kw):
    return job_for(
        str(path),
        text,
        results_type=results.media_type if results else None,
        graph_type=graph.media_type if graph else None,
        max_rows=kw.pop("max_rows", 1000),
        max_query_bytes=100_000,
        max_response_bytes=kw.pop("max_response_bytes", 10_000_000),
        **kw,
    )


def count_of(outcome) -> int:
    return int(json.loads(outcome.result.body)["results"]["bindings"][0]["n"]["value"])


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def gone_within(pids: list[int], seconds: float) -> list[int]:
    """The processes of ``pids`` that have ended, waiting up to ``seconds`` for one to end."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop and all(alive(pid) for pid in pids):
        time.sleep(0.01)
    return [pid for pid in pids if not alive(pid)]


def wait_for(pool: QueryPool, count: int) -> list[int]:
    for _ in range(200):
        if len(pool.pids()) == count:
            return pool.pids()
        time.sleep(0.025)
    raise AssertionError(f"expected {count} workers, have {pool.pids()}")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = latest_snapshot(build_data_dir(tmp_path_factory.mktemp("execution")))
    assert path is not None
    return path


@pytest.fixture(scope="module")
def pool() -> Iterator[QueryPool]:
    pool = QueryPool(2, 1, memory_mb=1024)
    yield pool
    pool.close()


@pytest.mark.parametrize(
    ("text", "results", "graph"),
    [
        (
            f"SELECT ?p ?o WHERE {{ <{INSTANCE}> ?p ?o }} ORDER BY ?p ?o",
            QueryResultsFormat.JSON,
            None,
        ),
        (
            f"SELECT ?p ?o WHERE {{ <{INSTANCE}> ?p ?o }} ORDER BY ?p ?o",
            QueryResultsFormat.TSV,
            None,
        ),
        (f"ASK {{ <{INSTANCE}> a bf:Instance }}", QueryResultsFormat.XML, None),
        (f"CONSTRUCT WHERE {{ <{INSTANCE}> ?p ?o }}", None, RdfFormat.N_TRIPLES),
    ],
)
def test_a_worker_answers_what_the_store_answers_in_process(
    pool, checkpoint, text, results, graph
) -> None:
    outcome = pool.run(job(checkpoint, text, results, graph), 10)
    here = run_query(
        Store.read_only(str(checkpoint)),
        text,
        results_format=results,
        graph_format=graph,
        max_rows=1000,
        max_bytes=100_000,
    )
    if graph is None:
        assert outcome.result == here
    else:  # triples come in the store's order either way; compare as sets
        assert set(outcome.result.body.splitlines()) == set(here.body.splitlines())
        assert outcome.result.rows == here.rows == len(here.body.splitlines())
    assert 0 < outcome.query_s <= outcome.total_s


def test_the_deadline_kills_the_worker_and_a_new_one_takes_its_place(pool, checkpoint) -> None:
    before = wait_for(pool, 2)
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="exceeded its 0.5 s deadline"):
        pool.run(job(checkpoint, RUNAWAY), 0.5)
    assert 0.5 <= time.monotonic() - started < 1.0
    gone = gone_within(before, 1.0)
    assert len(gone) == 1
    after = wait_for(pool, 2)
    assert gone[0] not in after and pool.stats.overdue >= 1
    assert count_of(pool.run(job(checkpoint, COUNT), 5)) > 1000


def test_a_query_that_exhausts_its_memory_kills_only_its_worker(pool, checkpoint) -> None:
    wait_for(pool, 2)
    crashed = pool.stats.crashed
    with pytest.raises(WorkerCrashedError, match="SIGABRT") as caught:
        pool.run(job(checkpoint, MEMORY_BOMB), 20)
    assert caught.value.http_status == 500 and pool.stats.crashed == crashed + 1
    assert count_of(pool.run(job(checkpoint, COUNT), 5)) > 1000


#: About 1.3 s on the test store (its ~1,500 triples squared, times 5): long, within its deadline.
LONG = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . VALUES ?k { 1 2 3 4 5 } }"


def nice_of(pid: int) -> set[int]:
    """The nice value of every thread of a process (field 19 of /proc/PID/task/TID/stat)."""
    values = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        values.add(int(task.joinpath("stat").read_text().rsplit(")", 1)[1].split()[16]))
    return values


def test_a_long_query_yields_the_cpu_and_its_worker_is_then_retired(checkpoint) -> None:
    own = QueryPool(1, 0)
    try:
        triples = count_of(own.run(job(checkpoint, COUNT), 5))
        (pid,) = wait_for(own, 1)
        assert nice_of(pid) == {0}
        seen: list[set[int]] = []
        watcher = threading.Timer(LONG_QUERY_S + 0.4, lambda: seen.append(nice_of(pid)))
        watcher.start()
        outcome = own.run(job(checkpoint, LONG), 20)
        watcher.join()
        assert count_of(outcome) == triples**2 * 5
        assert seen == [{LONG_QUERY_NICE}]  # every thread, the query's included
        (fresh,) = wait_for(own, 1)
        assert fresh != pid and nice_of(fresh) == {0}
        assert count_of(own.run(job(checkpoint, COUNT), 5)) == triples
    finally:
        own.close()


@pytest.mark.parametrize(
    ("text", "options", "error", "status", "message"),
    [
        ("SELECT * WHERE { ?s ?p }", {}, QueryError, 400, "SPARQL syntax error"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", {"graph": None}, NotAcceptableError, 406, "none is acceptable"),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", {}, ServiceRefusedError, 400, "SERVICE"),
        ("DELETE WHERE { ?s ?p ?o }", {}, UpdateRefusedError, 403, "read-only"),
        ("SELECT * WHERE { ?s ?p ?o } # " + "x" * 100_000, {}, QueryTooLargeError, 413, "limit"),
    ],
    ids=["syntax", "not-acceptable", "service", "update", "too-large"],
)
def test_errors_come_back_as_their_own_class(pool, checkpoint, text, options, error, status, message) -> None:
    """Raised in the worker, sent as a code, raised again here as the same class."""
    with pytest.raises(CatalographError, match=message) as caught:
        pool.run(job(checkpoint, text, **options), 5)
    assert type(caught.value) is error and caught.value.http_status == status


def test_error_codes_are_one_per_class() -> None:
    """Each class a worker may send has a code of its own, so none comes back as another."""
    for code, cls in RETURNED_ERRORS.items():
        assert cls.__dict__.get("code") == code, cls
    assert type(error_from("bogus", "m")) is CatalographError
    assert type(error_from(QueryTooLargeError.code, "m")) is QueryTooLargeError


def test_a_full_pool_refuses_at_once_and_a_waiting_query_keeps_its_deadline(checkpoint) -> None:
    small = QueryPool(1, 1)
    try:
        wait_for(small, 1)
        outcomes: list[str] = []

        def runaway() -> None:
            try:
                small.run(job(checkpoint, RUNAWAY), 1.5)
            except QueryTimeoutError as exc:
                outcomes.append(str(exc))

        first = threading.Thread(target=runaway)
        first.start()
        while small.busy() < 1:
            time.sleep(0.01)
        waiting = threading.Thread(target=runaway)  # waits for the only worker...
        waiting.start()
        time.sleep(0.2)
        with pytest.raises(QueryBusyError, match="busy") as caught:  # ...so the line is full
            small.run(job(checkpoint, COUNT), 5)
        assert caught.value.http_status == 503 and caught.value.retry_after == 1
        first.join()
        waiting.join()
        assert sorted(outcomes)[0].startswith("no query worker became free within the 1.5 s")
    finally:
        small.close()


def test_a_worker_follows_the_checkpoint_named_by_each_job(pool, checkpoint, tmp_path) -> None:
    other = ingest(tmp_path / "other", [hostile_record(tmp_path / "hostile.mrc")])
    smaller = latest_snapshot(other)
    counts = {count_of(pool.run(job(path, COUNT), 5)) for path in (checkpoint, smaller, checkpoint)}
    assert len(counts) == 2


def test_no_path_means_an_empty_store(pool) -> None:
    """Before a data directory's first checkpoint (an ingest under way), queries see nothing."""
    assert count_of(pool.run(job("", COUNT), 5)) == 0


def test_closing_the_pool_ends_every_worker(checkpoint) -> None:
    own = QueryPool(2, 0)
    own.run(job(checkpoint, COUNT), 5)
    pids = wait_for(own, 2)
    own.close()
    for _ in range(100):
        if not any(alive(pid) for pid in pids):
            break
        time.sleep(0.02)
    assert not any(alive(pid) for pid in pids)
    with pytest.raises(StoreError, match="shutting down"):
        own.run(job(checkpoint, COUNT), 5)


class _Listener(BaseHTTPRequestHandler):
    calls: list[str] = []

    def do_GET(self) -> None:
        self.calls.append(self.path)
        self.send_response(500)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


def _namespaces_allowed() -> bool:
    probe = "import ctypes; print(ctypes.CDLL(None).unshare(0x50000000))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return result.stdout.strip() == "0"


def test_an_isolated_worker_cannot_reach_the_network(checkpoint) -> None:
    """Even a SERVICE call the text check let through (here: allowed on purpose) goes nowhere."""
    if not _namespaces_allowed():
        pytest.skip("this kernel does not let an unprivileged process make a network namespace")
    listener = ThreadingHTTPServer(("127.0.0.1", 0), _Listener)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{listener.server_address[1]}/sparql"
    query = f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
    isolated, open_ = QueryPool(1, 0, isolate_network=True), QueryPool(1, 0, isolate_network=False)
    try:
        with pytest.raises(CatalographError, match="(?i)unreachable"):
            isolated.run(job(checkpoint, query, service_allow=[endpoint]), 5)
        assert _Listener.calls == []
        with pytest.raises(CatalographError):  # the listener answers 500: but it was reached
            open_.run(job(checkpoint, query, service_allow=[endpoint]), 5)
        assert len(_Listener.calls) == 1
    finally:
        isolated.close()
        open_.close()
        listener.shutdown()
