"""Retrieval benchmark: seed search and related resources served over HTTP on 100,000 records.

Run it from the repository root (after ``bash .ci/install``)::

    .venv/bin/python bench/retrieval_load.py                   # builds (or reuses) the store
    .venv/bin/python bench/retrieval_load.py --duration 15     # shorter phases
    .venv/bin/python bench/retrieval_load.py --min-records 20000 --clients 2

The store: the benchmark set of ../shared/data/MANIFEST.md (the files
``bench/ingest.py`` reads, 5,738 real records) replicated with a fresh 001
per copy (``bench/ingest.py``'s ``replicate``) until it holds at least
``--min-records`` records, ingested by one real ``catalograph ingest``
(which also writes the search index and refreshes the associations), and
cached under the temporary folder so reruns start at once. Replicated records
keep their titles, names and identifiers, so copies of one record meet in
the same Instance (same ISBN or LCCN) and the same Work, agents and subjects:
the graph has 100,000 records but not 100,000 distinct works. Say so
wherever its figures are quoted.

Then the real ``catalograph serve`` on a free loopback port, and per phase
``--clients`` clients (threads with one keep-alive connection each, each from
its own loopback address so per-client limits count them apart):

  0. ``/-/health``: the round trip of the server itself, the baseline;
  1. ``/api/search`` with words drawn from the store's titles and names (single
     words, pairs, prefixes for autocomplete, CJK words, a kind filter);
  2. ``/api/related?iri=`` for works, instances, agents and concepts drawn from
     the store;
  3. ``/search?q=`` (the reader's HTML search page: hits, facet counts over at
     most 1,000 hits, creators) with the same kinds of words, and a second page;
  4. ``/search`` with facet filters: a contributor, a subject, a language, a
     kind, a year range, and two contributors at once (OR within a facet).

``--phases`` picks some of them; ``--data-dir`` serves another data directory
(a copy re-indexed by another version, say) instead of the cached one.

Each phase prints requests/s, p50, p95 and errors, and its p95 as a multiple
of the baseline's; the targets of issue 12 are printed beside them (search
p95 <= 50 ms, related p95 <= 150 ms). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import math
import os
import random
import re
import shutil
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

from pyoxigraph import Store  # noqa: E402

from graph import latest_snapshot  # noqa: E402
from ontology.namespaces import PREFIXES  # noqa: E402


def _load(name: str):  # bench/*.py, imported by path ('ingest' is our package)
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


BENCH_INGEST = _load("ingest")
SPARQL_LOAD = _load("sparql_load")
CACHE = Path(tempfile.gettempdir()) / "catalograph-bench" / "retrieval"
TARGETS_MS = {"search": 50.0, "related": 150.0, "page": 100.0, "facets": 100.0}
PHASES = ("health", "search", "related", "page", "facets")

# ----------------------------------------------------------------- the store


def build_store(min_records: int, rebuild: bool) -> tuple[Path, dict]:
    """A data directory of at least ``min_records`` records, cached between runs."""
    data_dir = CACHE / f"store-{min_records}"
    marker = data_dir / "bench.json"
    if marker.exists() and not rebuild:
        _bring_associations_up_to_date(data_dir)
        return data_dir, json.loads(marker.read_text())
    shutil.rmtree(data_dir, ignore_errors=True)
    files = BENCH_INGEST.benchmark_files()
    per_copy = BENCH_INGEST.pymarc_rate(files)[1]  # records pymarc reads in one copy
    copies = max(1, math.ceil(min_records / per_copy))
    print(f"  {per_copy:,} records per copy: {copies} copies", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="catalograph-bench-copies-") as folder:
        made = BENCH_INGEST.replicate(files, copies, Path(folder))
        started = time.perf_counter()
        command = [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "ingest"]
        done = subprocess.run(
            [*command, "--quiet", *map(str, made)], cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode not in (0, 1):
            sys.exit(f"ingest failed:\n{done.stderr[-3000:]}")
        seconds = time.perf_counter() - started
    read = re.search(r"read ([\d,]+) records", done.stderr)
    info = {
        "copies": copies,
        "records": int(read[1].replace(",", "")) if read else copies * per_copy,
        "ingest_s": round(seconds, 1),
    }
    marker.write_text(json.dumps(info))
    return data_dir, info


def _bring_associations_up_to_date(data_dir: Path) -> None:
    """A cached store made by an older version may lack associations this version reads.

    Without them the related panel is left out of every resource page and
    browse cannot sort by use, so the figures would flatter the pages: bring
    them up to date (``catalograph related --refresh``, as a user would) first.
    """
    from pyoxigraph import Store

    from graph import latest_snapshot
    from ontology.layout import Layout
    from web.association_build import projection_of
    from web.config import Settings

    snapshot = latest_snapshot(data_dir)
    current = Store.read_only(str(snapshot)) if snapshot is not None else None
    base = Settings().base_iri  # what `catalograph ingest` used: the default configuration
    if current is not None and projection_of(current, Layout(base), data_dir) is not None:
        return
    del current
    print("  the cached store's associations are missing or of another version: refreshing",
          file=sys.stderr)
    command = [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "related", "--refresh"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"refreshing the associations failed:\n{done.stderr[-3000:]}")


# ----------------------------------------------------------------- what to ask

_SAMPLES = {
    "work": "SELECT DISTINCT ?x WHERE { ?x a bf:Work ; bf:subject ?s } LIMIT 3000",
    "instance": "SELECT DISTINCT ?x WHERE { ?x a bf:Instance ; bf:instanceOf ?w } LIMIT 3000",
    "agent": "SELECT DISTINCT ?x WHERE { ?c bf:agent ?x } LIMIT 3000",
    "concept": "SELECT DISTINCT ?x WHERE { ?w bf:subject ?x } LIMIT 3000",
    "title": "SELECT ?x WHERE { ?w a bf:Work ; rdfs:label ?x } LIMIT 20000",
}
_WORD = re.compile(r"[^\W\d_]{4,}")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]{2,}")


@dataclass(frozen=True)
class Ask:
    name: str
    path: str


def draw(data_dir: Path, seed: int, count: int = 2000) -> dict[str, list[Ask]]:
    """Search texts and resources to relate, drawn from the checkpoint the server will serve."""
    store = Store.read_only(str(latest_snapshot(data_dir)))
    found: dict[str, list[str]] = {}
    for name, text in _SAMPLES.items():
        rows = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
        found[name] = [row["x"].value for row in rows]
    rng = random.Random(seed)
    words = [w for title in found["title"] for w in _WORD.findall(title)]
    cjk = [run[:2] for title in found["title"] for run in _CJK.findall(title)]
    search: list[Ask] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.4 or not words:
            ask = ("word", {"q": rng.choice(words)})
        elif roll < 0.7:
            ask = ("two words", {"q": f"{rng.choice(words)} {rng.choice(words)}"})
        elif roll < 0.85:
            word = rng.choice(words)
            ask = ("prefix", {"q": word[: max(3, len(word) // 2)], "prefix": "true"})
        elif roll < 0.93 and cjk:
            ask = ("cjk", {"q": rng.choice(cjk)})
        else:
            ask = ("kind filter", {"q": rng.choice(words), "kind": "work"})
        search.append(Ask(ask[0], "/api/search?" + urlencode(ask[1])))
    related: list[Ask] = []
    kinds = [k for k in ("work", "instance", "agent", "concept") if found[k]]
    for _ in range(count):
        kind = rng.choice(kinds)
        related.append(Ask(kind, "/api/related?" + urlencode({"iri": rng.choice(found[kind])})))
    page: list[Ask] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.5 or not words:
            ask = ("page word", {"q": rng.choice(words)})
        elif roll < 0.8:
            ask = ("page two words", {"q": f"{rng.choice(words)} {rng.choice(words)}"})
        elif roll < 0.9 and cjk:
            ask = ("page cjk", {"q": rng.choice(cjk)})
        else:
            ask = ("page 2", {"q": rng.choice(words), "page": "2"})
        page.append(Ask(ask[0], "/search?" + urlencode(ask[1])))
    facets: list[Ask] = []
    for _ in range(count):
        roll = rng.random()
        word = rng.choice(words)
        if roll < 0.25 and found["agent"]:
            ask = ("contributor", [("q", word), ("agent", rng.choice(found["agent"]))])
        elif roll < 0.45 and found["concept"]:
            ask = ("subject", [("q", word), ("subject", rng.choice(found["concept"]))])
        elif roll < 0.6:
            ask = ("language", [("q", word), ("language", rng.choice(["eng", "fre", "ger", "chi"]))])
        elif roll < 0.75:
            ask = ("kind+years", [("q", word), ("kind", "work"), ("from", "1950"), ("to", "1999")])
        elif found["agent"]:
            ask = ("two contributors", [("q", word), ("agent", rng.choice(found["agent"])),
                                        ("agent", rng.choice(found["agent"]))])  # fmt: skip
        else:
            ask = ("kind", [("q", word), ("kind", "instance")])
        facets.append(Ask(ask[0], "/search?" + urlencode(ask[1])))
    return {
        "health": [Ask("health", "/-/health")],
        "search": search,
        "related": related,
        "page": page,
        "facets": facets,
    }


# ----------------------------------------------------------------- the load


@dataclass
class Figures:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def all(self) -> list[float]:
        return [t for times in self.times.values() for t in times]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def load(url: str, asks: list[Ask], clients: int, seconds: float) -> Figures:
    figures = Figures()
    lock = threading.Lock()
    parts = urlsplit(url)
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        conn: http.client.HTTPConnection | None = None
        i = k
        while time.monotonic() < stop:
            ask = asks[i % len(asks)]
            i += clients
            if conn is None:
                conn = http.client.HTTPConnection(
                    parts.hostname, parts.port, timeout=60, source_address=(f"127.0.0.{k + 2}", 0)
                )
            started = time.perf_counter()
            try:
                conn.request("GET", ask.path, headers={"Accept": "application/json"})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = None
                with lock:
                    figures.errors[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if response.status == 200:
                    figures.times.setdefault(ask.name, []).append(elapsed)
                else:
                    figures.errors[f"HTTP {response.status}"] += 1

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures.seconds = time.monotonic() - began
    return figures


# ----------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-records", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--rebuild", action="store_true", help="build the store again")
    parser.add_argument("--phases", default=",".join(PHASES), help="which phases, comma-separated")
    parser.add_argument("--data-dir", type=Path, help="serve this data directory instead of the cached store")
    args = parser.parse_args()
    phases = [p for p in PHASES if p in args.phases.split(",")]

    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    if args.data_dir:
        data_dir = args.data_dir
        marker = data_dir / "bench.json"
        info = json.loads(marker.read_text()) if marker.exists() else {"records": 0, "copies": 0, "ingest_s": 0}
    else:
        data_dir, info = build_store(args.min_records, args.rebuild)
    print(
        f"store: {info['records']:,} records ({info['copies']} copies of the benchmark set, "
        f"fresh 001s; built in {info['ingest_s']} s) at {data_dir}"
    )
    asks = draw(data_dir, args.seed)
    server = SPARQL_LOAD.Server(data_dir)
    try:
        warm = [a for phase in phases if phase != "health" for a in asks[phase][:50]]
        load(server.url, warm or asks["health"], 2, 5.0)  # warm up
        rows = []
        baseline = None
        for phase in ["health", *(p for p in phases if p != "health")]:
            figures = load(server.url, asks[phase], args.clients, args.duration)
            p95 = pct(figures.all, 0.95)
            baseline = baseline or p95
            rows.append((phase, figures, p95 / baseline))
        memory = server.memory()
    finally:
        server.stop()

    print(
        f"\n{args.clients} clients, {args.duration:g} s a phase; load average now "
        f"{os.getloadavg()[0]:.1f}; server tree RSS {memory / 2**20:.0f} MB"
    )
    print(
        f"{'phase':<10}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p95/health':>12}"
        f"{'target p95':>12}{'errors':>8}"
    )
    for phase, figures, ratio in rows:
        rate = len(figures.all) / figures.seconds if figures.seconds else 0.0
        target = f"<= {TARGETS_MS[phase]:g}" if phase in TARGETS_MS else ""
        errors = sum(figures.errors.values())
        print(
            f"{phase:<10}{rate:>8.0f}{pct(figures.all, 0.5):>9.1f}{pct(figures.all, 0.95):>9.1f}"
            f"{ratio:>12.1f}{target:>12}{errors:>8}"
            + (f" {dict(figures.errors)}" if errors else "")
        )
        if phase != "health":
            for name, times in sorted(figures.times.items()):
                print(f"  {name:<14}{len(times):>7}{pct(times, 0.5):>9.1f}{pct(times, 0.95):>9.1f}")


if __name__ == "__main__":
    main()
