"""Readers' pages at 100,000 records: browse lists, resource pages, the graph view's data.

Run it from the repository root (after ``bash .ci/install``)::

    .venv/bin/python bench/pages.py                  # builds (or reuses) the store
    .venv/bin/python bench/pages.py --requests 200   # fewer requests per phase

The store is ``bench/retrieval_load.py``'s (the benchmark set replicated to
at least ``--min-records`` records, cached under the temporary folder; copies
of one record meet in one Instance and one Work, so the graph holds 100,000
records but not 100,000 distinct works: say so wherever its figures are
quoted). The real ``catalograph serve`` runs on a free loopback port.

First the time of the first browse request (the browse index of the
checkpoint is made then, once) and of the first resource page; then, per
phase, ``--requests`` requests from one client with a keep-alive connection,
in random order, after a warm-up:

- ``browse``: ``/browse/{kind}`` at a random position (``start``), sorted
  alphabetically or by use, a letter's page, a scheme's hierarchy;
- ``resource``: the HTML page of a random work, instance, agent or concept
  (the related panel and the graph view's neighbourhood included);
- ``neighbourhood``: ``/api/neighbourhood?iri=`` of the same kinds.

Each phase prints p50, p95, the slowest and errors, beside the target of
issue 13 (p95 <= 100 ms). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import random
import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph import latest_snapshot  # noqa: E402
from graph.search_index import PUBLISHED_FILE  # noqa: E402

TARGET_MS = 100.0
BASE = "http://127.0.0.1:5000/"


def _load(name: str):  # bench/*.py, imported by path ('ingest' is our package)
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


RETRIEVAL = _load("retrieval_load")
SPARQL_LOAD = RETRIEVAL.SPARQL_LOAD


def draw(data_dir: Path, seed: int, count: int) -> dict[str, list[str]]:
    """Paths of each phase, drawn from the search index of the checkpoint served."""
    rng = random.Random(seed)
    db = sqlite3.connect(f"file:{latest_snapshot(data_dir) / PUBLISHED_FILE}?mode=ro", uri=True)
    sizes = dict(db.execute("SELECT kind, count(*) FROM search_doc GROUP BY kind"))
    iris = {
        kind: [iri for (iri,) in db.execute(
            "SELECT iri FROM search_doc WHERE kind = ? AND iri LIKE ? ORDER BY random() LIMIT ?",
            (kind, BASE + "%", count))]
        for kind in ("work", "instance", "agent", "concept")
    }  # fmt: skip
    db.close()
    browse = []
    for _ in range(count):
        kind = rng.choice(["work", "instance", "agent", "concept", "place"])
        start = rng.randrange(0, max(1, sizes.get(kind, 1)))
        sort = "count" if kind != "instance" and rng.random() < 0.3 else None
        params = {"start": str(start), **({"sort": sort} if sort else {})}
        if kind == "concept" and rng.random() < 0.2:
            params = {"scheme": "http://id.loc.gov/authorities/subjects", "view": "tree"}
        browse.append(f"/browse/{kind}?{urlencode(params)}")
    resources = [iri[len(BASE) - 1 :] for kind in iris for iri in iris[kind]]
    rng.shuffle(resources)
    neighbourhoods = [f"/api/neighbourhood?{urlencode({'iri': BASE + p[1:]})}" for p in resources]
    return {"browse": browse, "resource": resources, "neighbourhood": neighbourhoods}


def timed(conn: http.client.HTTPConnection, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Accept": "text/html"})
    answer = conn.getresponse()
    answer.read()
    return (time.perf_counter() - started) * 1000, answer.status


def run(url: str, paths: list[str]) -> tuple[list[float], int]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    times, errors = [], 0
    for path in paths:
        ms, status = timed(conn, path)
        times.append(ms)
        errors += status != 200
    conn.close()
    return times, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-records", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    data_dir, info = RETRIEVAL.build_store(args.min_records, False)
    print(f"store: {data_dir} ({info['records']:,} records, {info['copies']} copies of the benchmark set)")
    paths = draw(data_dir, args.seed, args.requests)
    server = SPARQL_LOAD.Server(data_dir)
    try:
        first_browse, status = run(server.url, ["/browse/agent"])
        print(f"first browse request (the checkpoint's browse index made): {first_browse[0]:.0f} ms ({status} errors)")
        first_page, status = run(server.url, paths["resource"][:1])
        print(f"first resource page (associations loaded): {first_page[0]:.0f} ms ({status} errors)")
        for phase in ("browse", "resource", "neighbourhood"):
            run(server.url, paths[phase][:30])  # warm-up
            times, errors = run(server.url, paths[phase])
            print(
                f"{phase:>13}: {len(times)} requests  p50 {pct(times, 0.5):6.1f} ms  "
                f"p95 {pct(times, 0.95):6.1f} ms  max {max(times):6.1f} ms  errors {errors}  "
                f"(target p95 <= {TARGET_MS:.0f} ms)"
            )
            if phase == "resource":  # by kind: where the slow pages are
                for kind in ("work", "instance", "agent", "concept"):
                    mine = [t for t, p in zip(times, paths[phase], strict=True) if p.startswith(f"/{kind}/")]
                    print(f"{kind:>22}: p50 {pct(mine, 0.5):6.1f} ms  p95 {pct(mine, 0.95):6.1f} ms")
        print(f"load average {os.getloadavg()[0]:.1f}; server tree RSS {server.memory() / 2**20:.0f} MB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
