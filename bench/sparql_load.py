"""SPARQL load benchmark: the endpoint under a realistic query mix, with and without runaways.

Run it from the repository root (after ``bash .ci/install``)::

    .venv/bin/python bench/sparql_load.py                 # builds (or reuses) the store, starts a server
    .venv/bin/python bench/sparql_load.py --duration 20   # shorter phases
    .venv/bin/python bench/sparql_load.py --url http://127.0.0.1:5000/   # an existing loopback server

The store holds at least ``--min-triples`` (1 million) distinct triples built
from real records: the benchmark set of ../shared/data/MANIFEST.md (the files
``bench/ingest.py`` reads), replicated with a fresh 001 per copy
(``bench.ingest.replicate``) as many times as needed, ingested by the real
``catalograph ingest``, and cached under the temporary folder so reruns start
at once. The server is the real ``catalograph serve`` (default settings) on a
free loopback port; the load never leaves the machine (other targets are refused).

Phases, each printed with throughput, p50, p95 and errors:
  1. in-process: the same queries on ``Store.read_only`` + ``query.sparql.run_query``
     (same serialisation), one thread, then ``--clients`` threads;
  2. endpoint: ``--clients`` clients (threads, one keep-alive connection each, each
     from its own loopback address so per-client limits count them apart);
  3. endpoint again with ``--runaway-clients`` more clients sending cartesian
     products, each stopped at its deadline: time from deadline to the 503, and to
     the worker process being gone (from the server's log, checked in /proc).
The RSS of the server's whole process tree is compared at the start and the end
of phases 2 and 3. Figures are printed next to the targets; nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import ipaddress
import json
import logging
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyoxigraph import QueryResultsFormat, RdfFormat, Store  # noqa: E402

from graph import latest_snapshot  # noqa: E402
from ontology.namespaces import PREFIXES  # noqa: E402
from query.sparql import run_query  # noqa: E402


def _bench_ingest():  # bench/ingest.py, imported by path ('ingest' is our package)
    spec = importlib.util.spec_from_file_location("bench_ingest", ROOT / "bench" / "ingest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench_ingest()
CACHE = Path(tempfile.gettempdir()) / "catalograph-bench" / "sparql-load"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"  # ~10^12 steps

# ----------------------------------------------------------------- the store


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def _distinct_triples(data_dir: Path) -> tuple[int, int]:
    store = Store.read_only(str(latest_snapshot(data_dir)))
    query = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"
    triples = int(next(iter(store.query(query, use_default_graph_as_union=True)))["n"].value)
    return len(store), triples


def build_store(min_triples: int, rebuild: bool) -> tuple[Path, dict]:
    """A data directory of at least ``min_triples`` distinct triples, cached between runs."""
    data_dir = CACHE / f"store-{min_triples}"
    marker = data_dir / "bench.json"
    if marker.exists() and not rebuild:
        return data_dir, json.loads(marker.read_text())
    if data_dir.exists():
        subprocess.run(["rm", "-rf", str(data_dir)], check=True)
    files = BENCH.benchmark_files()
    copies, quads, triples, records = 0, 0, 0, 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="catalograph-bench-copies-") as folder:
        made: list[Path] = []
        while triples < min_triples:
            copies += 1
            if not any(p.parent.name == f"copy{copies:02d}" for p in made):  # more copies, at once
                made = BENCH.replicate(files, copies + 3, Path(folder) / f"from{copies}")
            batch = [p for p in made if p.parent.name == f"copy{copies:02d}"]
            print(f"  ingesting copy {copies} ({len(batch)} files)...", file=sys.stderr)
            done = _cli(data_dir, "ingest", "--quiet", *map(str, batch))
            if done.returncode not in (0, 1):
                sys.exit(f"ingest failed:\n{done.stderr}")
            records += int(re.search(r"read (\d+) records", done.stderr)[1])
            quads, triples = _distinct_triples(data_dir)
    info = {
        "copies": copies,
        "records": records,
        "quads": quads,
        "triples": triples,
        "build_s": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(info))
    return data_dir, info


# ----------------------------------------------------------------- the query mix

MIX = {
    "resource": "SELECT ?p ?o WHERE {{ <{instance}> ?p ?o }}",
    "works-by-agent": "SELECT ?work ?label WHERE {{ ?work bf:contribution/bf:agent <{agent}> . "
    "OPTIONAL {{ ?work rdfs:label ?label }} }} LIMIT 100",
    "subjects-of-work": "SELECT ?subject ?label WHERE {{ <{work}> bf:subject ?subject . "
    "OPTIONAL {{ ?subject rdfs:label ?label }} }}",
    "instances-of-work": "SELECT ?instance ?title WHERE {{ ?instance bf:instanceOf <{work}> . "
    "OPTIONAL {{ ?instance rdfs:label ?title }} }}",
    "count-group-by": "SELECT ?type (COUNT(?work) AS ?n) WHERE {{ "
    "?work bf:contribution/bf:agent <{agent}> ; a ?type }} GROUP BY ?type ORDER BY DESC(?n)",
    "label-search": "SELECT ?work ?label WHERE {{ ?work a bf:Work ; rdfs:label ?label . "
    'FILTER(CONTAINS(?label, "{word}")) }} LIMIT 10',
    "ask": "ASK {{ <{instance}> a bf:Instance }}",
    "construct": "CONSTRUCT {{ <{work}> ?p ?o }} WHERE {{ <{work}> ?p ?o }}",
    "paging": "SELECT ?work ?label WHERE {{ ?work a bf:Work ; rdfs:label ?label }} "
    "LIMIT 20 OFFSET {offset}",
    "provenance": "SELECT ?graph ?file ?when WHERE {{ GRAPH ?graph {{ <{instance}> a bf:Instance }} "
    "?graph cg:sourceFile ?file ; prov:generatedAtTime ?when }}",
}
_SAMPLES = {
    "instance": "SELECT DISTINCT ?x WHERE { ?x a bf:Instance } LIMIT 3000",
    "work": "SELECT DISTINCT ?x WHERE { ?x bf:subject ?s ; bf:contribution ?c } LIMIT 3000",
    "agent": "SELECT DISTINCT ?x WHERE { ?c bf:agent ?x } LIMIT 3000",
    "word": "SELECT ?x WHERE { ?w a bf:Work ; rdfs:label ?x } LIMIT 20000",
}


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    graph: bool  # CONSTRUCT: asks for Turtle

    @property
    def accept(self) -> str:
        return "text/turtle" if self.graph else "application/sparql-results+json"


def draw_queries(store: Store, count: int, seed: int) -> list[Query]:
    """``count`` queries, each kind in turn, with parameters drawn from the store."""
    rng = random.Random(seed)
    pools: dict[str, list[str]] = {}
    for name, sample in _SAMPLES.items():
        rows = store.query(sample, prefixes=PREFIXES, use_default_graph_as_union=True)
        values = [row["x"].value for row in rows]
        if name == "word":  # words in many titles, so that LIMIT 10 ends the scan early
            counts = Counter(w for v in values for w in set(re.findall(r"[A-Za-z]{5,}", v)))
            values = [word for word, seen in counts.most_common(100) if seen >= 10]
        pools[name] = values
    queries = []
    names = list(MIX)
    for i in range(count):
        name = names[i % len(names)]
        params = {key: rng.choice(values) for key, values in pools.items()}
        params["offset"] = rng.randrange(0, 2000)
        queries.append(Query(name, MIX[name].format(**params), name == "construct"))
    return queries


# ----------------------------------------------------------------- measuring


@dataclass
class Figures:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # per query kind, seconds
    errors: dict[str, int] = field(default_factory=dict)
    inside_s: float = 0.0  # the worker's own time (Server-Timing), summed
    seconds: float = 0.0

    def add(self, name: str, elapsed: float) -> None:
        self.latencies.setdefault(name, []).append(elapsed)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def all(self) -> list[float]:
        return sorted(x for values in self.latencies.values() for x in values)

    def rate(self) -> float:
        return len(self.all) / self.seconds if self.seconds else 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def in_process(checkpoint: Path, queries: list[Query], threads: int, seconds: float) -> Figures:
    store = Store.read_only(str(checkpoint))
    figures = Figures()
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(k: int) -> None:
        i = k
        while time.monotonic() < stop:
            query = queries[i % len(queries)]
            i += threads
            started = time.perf_counter()
            run_query(
                store,
                query.text,
                results_format=None if query.graph else QueryResultsFormat.JSON,
                graph_format=RdfFormat.TURTLE if query.graph else None,
                max_rows=10_000,
                max_bytes=100_000,
                max_response_bytes=10_000_000,
            )
            with lock:
                figures.add(query.name, time.perf_counter() - started)

    began = time.monotonic()
    _run_threads([threading.Thread(target=client, args=(k,)) for k in range(threads)])
    figures.seconds = time.monotonic() - began
    return figures


def _run_threads(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class Client:
    """One keep-alive HTTP connection from its own loopback address."""

    def __init__(self, url: str, source: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.source = parts.hostname, parts.port, source
        self.conn: http.client.HTTPConnection | None = None

    def get(self, query: str, accept: str, **params: str) -> tuple[int, dict, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=60, source_address=(self.source, 0)
                )
            try:
                self.conn.request(
                    "GET",
                    "/sparql?" + urlencode({"query": query, **params}),
                    headers={"Accept": accept},
                )
                response = self.conn.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


_INSIDE = re.compile(r"query;dur=([\d.]+)")


def endpoint_load(url: str, queries: list[Query], clients: int, seconds: float) -> Figures:
    figures = Figures()
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(k: int) -> None:
        http_client = Client(url, f"127.0.0.{k + 2}")
        i = k
        while time.monotonic() < stop:
            query = queries[i % len(queries)]
            i += clients
            started = time.perf_counter()
            try:
                status, headers, _body = http_client.get(query.text, query.accept)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    figures.error(type(exc).__name__)
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if status == 200:
                    figures.add(query.name, elapsed)
                    inside = _INSIDE.search(headers.get("Server-Timing", ""))
                    figures.inside_s += float(inside[1]) / 1000 if inside else 0.0
                else:
                    figures.error(f"HTTP {status}")

    began = time.monotonic()
    _run_threads([threading.Thread(target=client, args=(k,)) for k in range(clients)])
    figures.seconds = time.monotonic() - began
    return figures


@dataclass
class Runaways:
    answers: list[tuple[float, float, int]] = field(
        default_factory=list
    )  # deadline, answered, status


def runaway_load(url: str, count: int, timeout_s: float, seconds: float) -> Runaways:
    found = Runaways()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        http_client = Client(url, f"127.0.1.{k + 2}")
        while time.monotonic() < stop:
            sent = time.monotonic()
            try:
                status, _headers, _body = http_client.get(
                    RUNAWAY, "application/sparql-results+json", timeout=f"{timeout_s:g}"
                )
            except (OSError, http.client.HTTPException):
                status = 0
            found.answers.append((sent + timeout_s, time.monotonic(), status))

    _run_threads([threading.Thread(target=client, args=(k,)) for k in range(count)])
    return found


# ----------------------------------------------------------------- the server


class Server:
    """``catalograph serve`` on a free loopback port; its log of killed workers is kept."""

    KILLED = re.compile(
        r"query worker (\d+) overdue: killed, stopped in ([\d.]+) ms, gone in ([\d.]+) ms"
    )

    def __init__(self, data_dir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "serve"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        #: (logged at, pid, stopped after s, reaped after s, gone from /proc when logged)
        self.kills: list[tuple[float, int, float, float, bool]] = []
        threading.Thread(target=self._read_log, daemon=True).start()
        for _ in range(200):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/-/health")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
            finally:
                conn.close()
        self.stop()
        sys.exit("the server did not start")

    def _read_log(self) -> None:
        for line in self.process.stderr:
            found = self.KILLED.search(line)
            if found:
                pid = int(found[1])
                gone = not Path(f"/proc/{pid}").exists()
                stopped, reaped = float(found[2]) / 1000, float(found[3]) / 1000
                self.kills.append((time.monotonic(), pid, stopped, reaped, gone))

    def memory(self) -> int:
        return BENCH.TreeMemory(self.process.pid)._tree_rss()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def loopback_only(url: str) -> str:
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        sys.exit(f"cannot resolve {host!r}")
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        sys.exit(f"refusing to load {url}: this benchmark only targets loopback servers")
    return url.rstrip("/")


# ----------------------------------------------------------------- report


def _row(label: str, clients: str, figures: Figures) -> str:
    errors = sum(figures.errors.values())
    detail = f" {figures.errors}" if errors else ""
    return (
        f"{label:<34}{clients:>8}{figures.rate():>9.0f}{pct(figures.all, 0.5):>9.1f}"
        f"{pct(figures.all, 0.95):>9.1f}{errors:>8}{detail}"
    )


def _runaway_figures(runaways: Runaways, kills: list[tuple]) -> dict:
    """Deadline -> 503 (client side); deadline -> worker stopped and reaped (server log)."""
    answered = [answer - deadline for deadline, answer, _status in runaways.answers]
    deadlines = sorted(deadline for deadline, _a, _s in runaways.answers)
    stopped, reaped, used = [], [], set()
    for logged, _pid, stop_s, reap_s, _gone in sorted(kills, key=lambda k: k[0] - k[3]):
        killed = logged - reap_s  # the SIGKILL instant
        match = next(
            (i for i, d in enumerate(deadlines) if i not in used and d <= killed + 0.05), None
        )
        if match is not None:
            used.add(match)
            stopped.append(killed + stop_s - deadlines[match])
            reaped.append(logged - deadlines[match])
    return {
        "count": len(answered),
        "statuses": sorted({status for _d, _a, status in runaways.answers}),
        "answer_max": max(answered, default=float("nan")),
        "kills": len(kills),
        "stopped_max": max(stopped, default=float("nan")),
        "reaped_max": max(reaped, default=float("nan")),
        "all_gone": all(k[4] for k in kills),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an existing loopback server (default: start one)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--runaway-clients", type=int, default=2)
    parser.add_argument(
        "--runaway-timeout",
        type=float,
        default=10.0,
        help="deadline runaway clients ask for, s (default 10: the server's default)",
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per endpoint phase")
    parser.add_argument("--in-process-duration", type=float, default=10.0)
    parser.add_argument("--min-triples", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400, help="distinct queries in the mix")
    parser.add_argument("--rebuild", action="store_true", help="build the cached store again")
    args = parser.parse_args()
    if not 1 <= args.clients <= 64 or not 0 <= args.runaway_clients <= 8:
        sys.exit("--clients must be 1..64 and --runaway-clients 0..8")
    if not 1 <= args.duration <= 600:
        sys.exit("--duration must be 1..600 seconds")

    logging.disable(logging.WARNING)  # pymarc logs each odd record while the inputs are copied
    data_dir, info = build_store(args.min_triples, args.rebuild)
    checkpoint = latest_snapshot(data_dir)
    print(
        f"store: {info['quads']:,} quads = {info['triples']:,} distinct triples, from "
        f"{info['copies']} copies of the benchmark set ({info['records']:,} records: "
        f"bench/ingest.py's files, each copy with fresh 001s), built in {info['build_s']} s, "
        f"cached in {data_dir}"
    )
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
    queries = draw_queries(Store.read_only(str(checkpoint)), args.queries, seed=7)
    print(f"query mix: {len(MIX)} kinds ({', '.join(MIX)}), {len(queries)} queries\n")

    single = in_process(checkpoint, queries, 1, args.in_process_duration)
    parallel = in_process(checkpoint, queries, args.clients, args.in_process_duration)
    server = None if args.url else Server(data_dir)
    url = loopback_only(args.url) if args.url else server.url
    try:
        endpoint_load(url, queries, args.clients, 5)  # warm-up: workers open the store
        before = server.memory() if server else 0
        normal = endpoint_load(url, queries, args.clients, args.duration)
        after_normal = server.memory() if server else 0
        runaways = Runaways()
        kills_before = len(server.kills) if server else 0
        runaway_thread = threading.Thread(
            target=lambda: runaways.answers.extend(
                runaway_load(url, args.runaway_clients, args.runaway_timeout, args.duration).answers
            )
        )
        runaway_thread.start()
        time.sleep(0.5)  # the runaways are running
        hostile = endpoint_load(url, queries, args.clients, args.duration)
        runaway_thread.join()
        after_hostile = server.memory() if server else 0
        kills = server.kills[kills_before:] if server else []
    finally:
        if server:
            server.stop()

    print(f"{'phase':<34}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    print(_row("in-process, one thread", "1", single))
    print(_row(f"in-process, {args.clients} threads", str(args.clients), parallel))
    print(_row("endpoint", str(args.clients), normal))
    print(
        _row(
            f"endpoint + {args.runaway_clients} runaway clients",
            f"{args.clients}+{args.runaway_clients}",
            hostile,
        )
    )
    print(f"\n{'query kind':<20}{'in-process p50':>16}{'endpoint p50':>14}{'ratio':>7}")
    for name in MIX:
        here = pct(single.latencies.get(name, []), 0.5)
        there = pct(normal.latencies.get(name, []), 0.5)
        print(f"{name:<20}{here:>13.2f} ms{there:>11.2f} ms{there / here:>7.1f}")
    inside = normal.inside_s / max(1, len(normal.all))
    mean = sum(normal.all) / max(1, len(normal.all))
    gone = _runaway_figures(runaways, kills)
    growth = (after_normal / before - 1) * 100 if before else float("nan")
    growth_hostile = (after_hostile / after_normal - 1) * 100 if after_normal else float("nan")
    print(
        f"\nmean endpoint latency {mean * 1000:.1f} ms, of which {inside * 1000:.1f} ms inside the "
        f"worker (query + serialisation): {100 * (1 - inside / mean):.0f} % is HTTP, Flask, IPC "
        f"and waiting; runaway answers {gone['statuses']}, {gone['count']} runaways, "
        f"{gone['kills']} workers killed (server log), all gone from /proc: {gone['all_gone']}"
    )
    print(
        f"server memory (whole process tree): {before / 2**20:.0f} MB -> "
        f"{after_normal / 2**20:.0f} MB -> {after_hostile / 2**20:.0f} MB"
        if server
        else ""
    )
    targets = [
        (f"{args.clients} clients: requests/s", ">= 300", f"{normal.rate():.0f}"),
        (f"{args.clients} clients: p95", "<= 100 ms", f"{pct(normal.all, 0.95):.1f} ms"),
        (f"{args.clients} clients: errors", "0", str(sum(normal.errors.values()))),
        (
            "endpoint / in-process throughput",
            ">= 0.5",
            f"{normal.rate() / parallel.rate():.2f} (same concurrency); "
            f"{normal.rate() / single.rate():.2f} vs one thread",
        ),
        (
            "endpoint / in-process latency",
            "(report)",
            f"p50 {pct(normal.all, 0.5) / pct(parallel.all, 0.5):.1f}x same concurrency, "
            f"{pct(normal.all, 0.5) / pct(single.all, 0.5):.1f}x one thread",
        ),
        ("with runaways: p95 of the others", "<= 250 ms", f"{pct(hostile.all, 0.95):.1f} ms"),
        ("with runaways: errors of the others", "0", str(sum(hostile.errors.values()))),
        ("runaway: deadline -> 503 answer", "<= 1 s", f"max {gone['answer_max']:.3f} s"),
        (
            "runaway: deadline -> worker stopped",
            "<= 1 s",
            f"max {gone['stopped_max']:.3f} s (CPU released; reaped by {gone['reaped_max']:.3f} s)",
        ),
        (
            f"memory growth over {args.duration:.0f} s",
            "<= 10 %",
            f"{growth:+.1f} % (then {growth_hostile:+.1f} % with runaways)",
        ),
    ]
    print(f"\n{'target':<38}{'wanted':>12}   measured")
    for label, wanted, measured in targets:
        print(f"{label:<38}{wanted:>12}   {measured}")


if __name__ == "__main__":
    main()
