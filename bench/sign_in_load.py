"""Wrong-password benchmark: what a wave of bad sign-ins does to everyone else.

Run it from the repository root (after ``bash .ci/install``)::

    .venv/bin/python bench/sign_in_load.py              # 40 at once, then 10 s of 40 clients
    .venv/bin/python bench/sign_in_load.py --wave 80 --duration 20

It builds the test store (``tests/web_fixtures.py``: the traject records), adds
an account with the real ``web.accounts``, and starts the real server
(``web.server``, 12 threads as by default) on a free loopback port. Then:

1. **wave**: ``--wave`` wrong-password SPARQL Updates at once, each from its
   own loopback address, for one account, then for as many unknown names;
   an anonymous ``ASK`` and ``/-/health`` are sent 0.3 s into each wave;
2. **sustained**: ``--wave`` clients send wrong passwords (a new name each
   time) without pause for ``--duration`` seconds while one client sends a
   query every 0.2 s.

It prints the statuses, how long the wave and the query took, the query's
p50/p95 in phase 2, and the process's peak memory (argon2id needs 64 MiB per
hash running). Nothing is asserted: it prints figures (docs/web.md quotes them).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from web_fixtures import build_data_dir, running_server, settings_for  # noqa: E402

from web.accounts import add_user  # noqa: E402

QUERY = "/sparql?" + urlencode({"query": "ASK { ?s ?p ?o }"})
UPDATE = urlencode({"update": "INSERT DATA {}"})


def send(url: str, method: str, path: str, source: str, auth: str = "") -> tuple[int, float]:
    """One request on its own connection from ``source``: status and seconds taken."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=300, source_address=(source, 0)
    )
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode("ascii")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    try:
        conn.request(method, path, body=UPDATE if auth else None, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def wave(url: str, size: int, name_of: str) -> None:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def wrong(k: int) -> None:
        name = name_of.format(k=k)
        status, _ = send(url, "POST", "/sparql", f"127.0.{k // 250 + 1}.{k % 250 + 1}", f"{name}:x")
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=wrong, args=(k,)) for k in range(size)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    query_status, query_s = send(url, "GET", QUERY, "127.0.0.1")
    health_status, health_s = send(url, "GET", "/-/health", "127.0.0.1")
    for thread in threads:
        thread.join()
    print(
        f"wave of {size} ({name_of.format(k='N')}): {time.perf_counter() - started:.2f} s, "
        f"statuses {dict(sorted(statuses.items()))}; query meanwhile {query_s * 1000:.0f} ms "
        f"({query_status}), /-/health {health_s * 1000:.0f} ms ({health_status})"
    )


def sustained(url: str, clients: int, seconds: float) -> None:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def attacker(k: int) -> None:
        tries = 0
        while time.monotonic() < stop:
            tries += 1
            source = f"127.0.{k // 250 + 1}.{k % 250 + 1}"
            status, _ = send(url, "POST", "/sparql", source, f"user{k}x{tries}:x")
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=attacker, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    latencies = []
    while time.monotonic() < stop:
        latencies.append(send(url, "GET", QUERY, "127.0.0.1")[1])
        time.sleep(0.2)
    for thread in threads:
        thread.join()
    latencies.sort()
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
    print(
        f"{clients} clients for {seconds:g} s: statuses {dict(sorted(statuses.items()))}; "
        f"{len(latencies)} queries, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wave", type=int, default=40, help="wrong passwords at once (40)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of phase 2 (10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="catalograph-sign-in-") as tmp:
        data_dir = build_data_dir(Path(tmp))
        add_user(data_dir, "alice", "correct horse battery staple", "cataloger")
        settings = settings_for(data_dir, threads=12, query_workers=2, query_queue=4)
        with running_server(settings) as url:
            quiet = min(send(url, "GET", QUERY, "127.0.0.1")[1] for _ in range(10))
            print(f"query alone: {quiet * 1000:.1f} ms")
            wave(url, args.wave, "alice")
            wave(url, args.wave, "stranger{k}")
            sustained(url, args.wave, args.duration)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"peak memory of this process (server included): {peak_mb} MB")


if __name__ == "__main__":
    main()
