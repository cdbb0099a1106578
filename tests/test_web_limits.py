"""The endpoint's limits through real HTTP: a real waitress server, real worker processes.

One server (``limited``) runs with a 1 s deadline, two workers and no waiting
line, so runaway queries, per-client limits and a full pool can all be shown
in a few seconds. Clients other than the default one connect from other
loopback addresses (127.0.0.2...), which the server sees as other clients.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from conftest import ROOT
from flask import Flask
from test_query_execution import alive, gone_within
from test_query_lifeline import running
from waitress.server import create_server as waitress_server
from web_fixtures import BASE, build_data_dir, settings_for

from query.lifeline import FORKSERVER_PARENT_VARIABLE
from web.config import Settings
from web.limits import SparqlLimits
from web.server import create_server, server_url, stop

#: Counts every triple three times over: about 1,567³ ≈ 3.8 billion steps on the
#: test store, so it runs until stopped (a SELECT * would stop at the row cap).
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
INSTANCE = BASE + "instance/lccn-2002036483"  # george_eliot.marc 010 $a
TITLE_QUERY = f"SELECT ?title WHERE {{ <{INSTANCE}> rdfs:label ?title }}"
TITLE = "Rereading George Eliot : changing responses to her experiments in life"


@contextmanager
def serving(settings: Settings) -> Iterator[tuple[str, Flask]]:
    """The URL of a real waitress server over ``settings``, and its app."""
    server = create_server(settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server_url(server).rstrip("/"), server.catalograph_app
    finally:
        stop(server)
        thread.join(timeout=10)


def limits_of(app: Flask) -> SparqlLimits:
    return app.extensions["catalograph.limits"]


def get(url: str, query: str, source: str = "127.0.0.1", **params: str) -> tuple[int, dict, str]:
    """GET /sparql from the loopback address ``source``: status, headers, body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=30, source_address=(source, 0)
    )
    try:
        conn.request("GET", "/sparql?" + urlencode({"query": query, **params}))
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_data_dir(tmp_path_factory.mktemp("web-limits"))


@pytest.fixture(scope="module")
def limited(data_dir: Path) -> Iterator[tuple[str, Flask]]:
    settings = settings_for(
        data_dir,
        query_timeout_s=1,
        query_workers=2,
        query_queue=0,
        max_rows=50,
        max_response_bytes=3000,
    )
    with serving(settings) as served:
        url, _app = served
        assert requests.get(url + "/sparql", params={"query": TITLE_QUERY}).status_code == 200
        yield served


def wait_for_workers(app: Flask, count: int) -> list[int]:
    for _ in range(100):
        pids = limits_of(app).pool.pids()
        if len(pids) == count:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"expected {count} query workers, have {limits_of(app).pool.pids()}")


def test_a_runaway_query_is_stopped_at_its_deadline_and_its_worker_is_gone(limited) -> None:
    url, app = limited
    before = wait_for_workers(app, 2)
    started = time.monotonic()
    status, headers, body = get(url, RUNAWAY)
    elapsed = time.monotonic() - started
    assert status == 503
    assert "exceeded its 1 s deadline and was stopped" in body
    assert 1.0 <= elapsed < 2.0, elapsed
    assert "Retry-After" not in headers  # the same query would fail again: no invitation
    killed = gone_within(before, 1.0)  # the process is gone (no more CPU) within 1 s
    assert len(killed) == 1, (before, limits_of(app).pool.pids())
    after = wait_for_workers(app, 2)
    assert killed[0] not in after
    status, _headers, body = get(url, TITLE_QUERY)  # the server keeps answering
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["title"]["value"] == TITLE


def test_a_client_may_ask_for_a_shorter_deadline_never_a_longer_one(limited) -> None:
    url, app = limited
    wait_for_workers(app, 2)
    started = time.monotonic()
    status, _headers, body = get(url, RUNAWAY, timeout="0.3")
    assert status == 503 and "its 0.3 s deadline" in body
    assert 0.3 <= time.monotonic() - started < 1.0
    wait_for_workers(app, 2)
    started = time.monotonic()
    status, _headers, body = get(url, RUNAWAY, timeout="3600")
    assert status == 503 and "its 1 s deadline" in body
    assert time.monotonic() - started < 2.0
    for bad in ("0", "-1", "soon", "nan"):
        status, _headers, body = get(url, TITLE_QUERY, timeout=bad)
        assert status == 400 and "timeout must be a positive number of seconds" in body


def test_one_client_gets_429_beyond_its_concurrent_queries(limited) -> None:
    url, app = limited
    wait_for_workers(app, 2)
    answers: list[int] = []
    runaways = [
        threading.Thread(target=lambda: answers.append(get(url, RUNAWAY)[0])) for _ in range(2)
    ]
    for thread in runaways:
        thread.start()
    for _ in range(100):  # both runaways admitted
        if limits_of(app).pool.busy() == 2:
            break
        time.sleep(0.02)
    status, headers, body = get(url, TITLE_QUERY)  # same client: a third query
    assert status == 429 and headers["Retry-After"] == "1"
    assert "2 queries in progress" in body
    status, headers, body = get(url, TITLE_QUERY, source="127.0.0.2")  # another client
    assert status == 503 and headers["Retry-After"] == "1"  # both workers busy, no queue
    assert "the server is busy" in body
    for thread in runaways:
        thread.join()
    assert answers == [503, 503]


def test_rows_and_bytes_are_capped_and_the_cap_is_said(limited) -> None:
    url, app = limited
    wait_for_workers(app, 2)
    status, headers, body = get(url, "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 500")
    assert status == 200 and len(body.encode()) <= 3000
    assert headers["X-Catalograph-Truncated"] == "true; max-bytes=3000"
    data = json.loads(body)
    assert data["truncated"] is True and data["maxBytes"] == 3000
    assert int(headers["X-Catalograph-Rows"]) == len(data["results"]["bindings"]) < 50
    values = " ".join(map(str, range(60)))
    numbers = f"SELECT ?n WHERE {{ VALUES ?n {{ {values} }} }}"
    status, headers, body = get(url, numbers, format="csv")  # 60 short rows: the row cap cuts
    assert status == 200 and headers["X-Catalograph-Truncated"] == "true; max-rows=50"
    assert body.splitlines() == ["n", *map(str, range(50))]
    status, headers, body = get(url, TITLE_QUERY)
    assert "X-Catalograph-Truncated" not in headers
    assert "query;dur=" in headers["Server-Timing"]


def test_pathological_text_is_refused_before_parsing_and_the_server_lives(limited) -> None:
    url, app = limited
    pids = wait_for_workers(app, 2)
    for deep in (
        "SELECT * WHERE " + "{" * 3000 + "}" * 3000,
        "SELECT * WHERE { FILTER(" + "(" * 3000 + "1" + ")" * 3000 + ") }",
        "SELECT * WHERE { ?s ?p " + "[ rdfs:label " * 3000 + "1" + " ]" * 3000 + " }",
    ):
        response = requests.post(url + "/sparql", data={"query": deep})
        assert response.status_code == 400 and "levels deep; the limit is 200" in response.text
    # Escapes do not open brackets: pyoxigraph reads \u only inside strings and IRIs.
    escaped = "SELECT * WHERE { ?s ?p '" + "\\u007B" * 3000 + "' } LIMIT 1"
    assert requests.post(url + "/sparql", data={"query": escaped}).status_code == 200
    oversize = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 100_000
    response = requests.post(
        url + "/sparql",
        data=oversize.encode(),
        headers={"Content-Type": "application/sparql-query"},
    )
    assert response.status_code == 413 and "the limit is 100000" in response.text
    assert requests.get(url + "/-/health").json()["status"] == "ok"
    assert limits_of(app).pool.pids() == pids  # refused before any worker saw them


def test_service_is_refused_by_default(limited) -> None:
    url, _app = limited
    for query in (
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o.SERVICE<http://127.0.0.1:9/sparql>{ ?a ?b ?c } }",
        "SELECT * WHERE { BIND(<http://127.0.0.1:9/> AS ?e) SERVICE ?e { ?a ?b ?c } }",
    ):
        status, _headers, body = get(url, query)
        assert status == 400 and "SERVICE" in body and "disabled" in body


class _StubEndpoint(BaseHTTPRequestHandler):
    """Stands in for a remote SPARQL endpoint, on the loopback interface of this machine."""

    seen: list[str] = []

    def do_GET(self) -> None:  # http.server's name
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self) -> None:
        self.seen.append(self.path)
        body = json.dumps(
            {
                "head": {"vars": ["x"]},
                "results": {"bindings": [{"x": {"type": "literal", "value": "from the stub"}}]},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_service_to_an_allowed_endpoint_only(data_dir: Path) -> None:
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _StubEndpoint)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    allowed = f"http://127.0.0.1:{stub.server_address[1]}/sparql"
    try:
        settings = settings_for(data_dir, service_allow=[allowed], query_workers=1)
        with serving(settings) as (url, _app):
            status, _headers, body = get(
                url, f"SELECT ?x WHERE {{ SERVICE <{allowed}> {{ ?x ?y ?z }} }}"
            )
            assert status == 200, body
            assert json.loads(body)["results"]["bindings"] == [
                {"x": {"type": "literal", "value": "from the stub"}}
            ]
            assert len(_StubEndpoint.seen) == 1
            other = f"http://127.0.0.1:{stub.server_address[1]}/other"
            status, _headers, body = get(
                url, f"SELECT ?x WHERE {{ SERVICE <{other}> {{ ?x ?y ?z }} }}"
            )
            assert status == 400 and f"SERVICE <{other}> is not allowed" in body
            assert len(_StubEndpoint.seen) == 1  # refused before any call
    finally:
        stub.shutdown()


def test_stopping_the_server_stops_its_workers(data_dir: Path) -> None:
    with serving(settings_for(data_dir, query_workers=2)) as (url, app):
        assert get(url, TITLE_QUERY)[0] == 200
        pids = wait_for_workers(app, 2)
        assert all(alive(pid) for pid in pids)
    for _ in range(50):
        if not any(alive(pid) for pid in pids):
            break
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)
    assert os.getpid() not in pids


def test_stop_closes_the_sockets_in_the_server_loop_thread() -> None:
    """``stop`` from another thread, clients holding connections open.

    Closed from outside, a socket the loop is about to ``select`` on makes
    the loop thread die with EBADF and a traceback (seen once in CI, a race
    too narrow to provoke on demand), so ``stop`` has the loop close them
    itself; this checks who closes each socket, and that the loop ends
    quietly. A bare waitress server with a one-line WSGI app: ``stop`` is
    the part under test.

    It runs in a fresh interpreter: once in a full run (1 of 5 that day), the
    trigger's pipe was already closed (EBADF) when ``stop`` pulled it, with
    every other test of the suite passing; a descriptor number reused after
    a leftover thread of another test closed it is the likely cause, and
    the check here is of ``stop``, not of the suite's leftovers.
    """
    code = "from test_web_limits import check_stop_closes_sockets_in_loop; "
    code += "check_stop_closes_sockets_in_loop()"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "tests",
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def check_stop_closes_sockets_in_loop() -> None:
    """The body of the test above, run in its own interpreter."""
    server = waitress_server(_hello, host="127.0.0.1", port=0, threads=2)
    loop = threading.Thread(target=server.run, daemon=True, name="loop")
    errors: list[BaseException | None] = []
    previous = threading.excepthook
    threading.excepthook = lambda hook: errors.append(hook.exc_value)
    try:
        loop.start()
        address = urlsplit(server_url(server))
        clients = [http.client.HTTPConnection(address.hostname, address.port) for _ in range(3)]
        for client in clients:  # kept alive: three connections open in the loop's map
            client.request("GET", "/")
            assert client.getresponse().read() == b"hello"
        closed_by: list[str] = []
        dispatchers = list(server._map.values())  # the sockets waitress keeps
        assert len(dispatchers) >= 5  # the listener, the trigger, three connections
        for dispatcher in dispatchers:
            close = dispatcher.close
            dispatcher.close = lambda close=close: (
                closed_by.append(threading.current_thread().name),
                close(),
            )
        stop(server)
        loop.join(10)
        assert not loop.is_alive()
        assert closed_by and set(closed_by) == {"loop"}, closed_by
        for client in clients:
            client.close()
    finally:
        threading.excepthook = previous
    assert errors == []


def _hello(_environ: dict, start_response) -> list[bytes]:  # WSGI
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def lives_for(server: int) -> set[int]:
    """The processes started for ``server``'s queries (forkserver, workers, resource tracker).

    Found by the server's pid in their environment (``query.lifeline``), so that a
    process forked while the server dies is found too, whoever its parent is by then.
    """
    mark = f"{FORKSERVER_PARENT_VARIABLE}={server}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    found.add(int(entry.name))
    return found - {server}


@pytest.mark.parametrize("moment", ["while a runaway runs", "while its forkserver starts"])
def test_workers_do_not_outlive_a_killed_server(data_dir: Path, moment: str) -> None:
    """``kill -9`` of ``catalograph serve``: no process of it stays.

    Killed while a runaway query runs (a worker that may hold its GIL), or as
    soon as it listens, while its forkserver imports the workers' modules and
    forks them (seen in CI: a process of it outlived the server).
    """
    server = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "serve", "--port", "0"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = re.search(r"at (http://\S+?)/? ", server.stderr.readline())[1]
        if moment == "while a runaway runs":
            runaway = threading.Thread(
                target=_ask_and_ignore, args=(url + "/sparql",), daemon=True
            )
            runaway.start()
            for _ in range(200):  # a worker (not the forkserver, the server's child) is at work
                workers = [pid for pid in lives_for(server.pid) if _parent(pid) != server.pid]
                if any(_cpu(pid) > 20 for pid in workers):
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("no worker took the runaway query")
        else:
            assert lives_for(server.pid), "the server started no forkserver before listening"
    finally:
        server.kill()
        server.wait()
    stop = time.monotonic() + 3
    while time.monotonic() < stop and any(running(pid) for pid in lives_for(server.pid)):
        time.sleep(0.05)
    survivors = [pid for pid in lives_for(server.pid) if running(pid)]
    assert not survivors, [_who(pid) for pid in survivors]


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _who(pid: int) -> str:
    """A survivor, described well enough to tell why it survived: its command, state and parent."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()[:160].replace(b"\0", b" ")
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return f"{pid}: gone"
    fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in status if ":" in line}
    return (
        f"{pid} {command.decode(errors='replace')!r} state={fields.get('State')} "
        f"ppid={fields.get('PPid')} threads={fields.get('Threads')}"
    )


def _cpu(pid: int) -> int:
    """CPU ticks (user + system) a process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _ask_and_ignore(endpoint: str) -> None:
    with contextlib.suppress(requests.RequestException):  # the server is killed meanwhile
        requests.get(endpoint, params={"query": RUNAWAY}, timeout=30)


def test_a_busy_server_does_not_log_a_line_per_queued_request(data_dir, caplog):
    """waitress warns "Task queue depth is N" per request that finds its threads busy.

    Under load that is every request (10,233 lines in 15 s were measured), so
    the server turns that logger down; the pool's own 503s say when it is full.
    """
    caplog.set_level(logging.DEBUG)
    settings = settings_for(data_dir, threads=1, query_workers=1, query_queue=0)
    with serving(settings) as (url, _app), ThreadPoolExecutor(8) as pool:
        # eight clients at once against one thread: requests queue in waitress
        statuses = list(
            pool.map(lambda k: get(url, TITLE_QUERY, source=f"127.0.0.{k % 8 + 2}")[0], range(24))
        )
    assert statuses.count(200) == len(statuses)
    queued = [r for r in caplog.records if r.name == "waitress.queue"]
    assert queued == []


def test_an_ipv6_client_is_counted_by_its_64() -> None:
    """Per-client limits (queries, pages) count an IPv6 client by its /64: one host
    holds a whole /64 and could otherwise take a share per address."""
    from flask import Flask

    from web.limits import client_address

    app = Flask(__name__)
    keys = []
    for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1", "127.0.0.2"):
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            keys.append(client_address())
    assert keys[0] == keys[1] == "2001:db8:1:2::/64"
    assert keys[2] != keys[0] and keys[3] == "127.0.0.2"
