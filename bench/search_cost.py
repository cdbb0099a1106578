"""What the search index costs: at ingest, at each checkpoint, and per query.

Run it from the repository root::

    .venv/bin/python bench/search_cost.py --baseline ../main   # a checkout without the index
    .venv/bin/python bench/search_cost.py                      # this tree only

(a) ``catalograph ingest --quiet`` of the benchmark set (bench/ingest.py's
    files) into a fresh data directory, ``--runs`` times per tree, the trees
    interleaved; the CPU time of the command (user + system of its process
    tree) per record, and the wall time. With ``--baseline``, the same for
    the other tree, and the difference: what writing the index adds.
(b) The checkpoint's copy of the index (``SearchIndex.publish``) from the
    record index the ingest left: seconds (min of 5) and size.
(c) Query latency over the published copy, in process (``query.search``):
    p50 / p95 of a mix of words, a prefix, CJK words and filtered queries.
Nothing here is a pass/fail assertion: it prints figures.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import benchmark_files  # noqa: E402
from graph.record_index import index_path  # noqa: E402
from graph.search_index import SearchIndex  # noqa: E402
from graph.snapshots import latest_snapshot  # noqa: E402
from query.search import SearchQuery, search  # noqa: E402

QUERIES = [
    {"text": "pride and prejudice"},
    {"text": "jazz"},
    {"text": "jazz", "kind": "work", "year_from": 1950, "year_to": 1970},
    {"text": "shakesp*"},
    {"text": "dvorak"},
    {"text": "muller"},
    {"text": "偏见"},
    {"text": "傲慢与偏见"},
    {"text": "history", "language": "fre"},
    {"text": "music", "kind": "concept"},
    {"text": "austen jane"},
    {"text": "correspondence"},
]


def ingest(tree: Path, files: list[Path], data_dir: Path) -> tuple[float, float]:
    """CPU seconds (the command's process tree) and wall seconds of one ingest."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "ingest", "--quiet"]
    done = subprocess.run([*command, *map(str, files)], cwd=tree, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"ingest failed in {tree}: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def record_count(data_dir: Path) -> int:
    with closing(sqlite3.connect(index_path(data_dir))) as db:
        return db.execute("SELECT count(*) FROM record_graph").fetchone()[0]


def publish_cost(data_dir: Path, work: Path) -> tuple[float, int, int]:
    """Seconds (min of 5) to copy the index for a checkpoint, the copy's bytes, the documents."""
    copy = work / "index-copy.sqlite"
    shutil.copy(index_path(data_dir), copy)
    times = []
    with closing(sqlite3.connect(copy, isolation_level=None)) as db:
        index = SearchIndex(db)
        for _ in range(5):
            times.append(index.publish(work / "published.sqlite"))
        documents = index.count()
    return min(times), (work / "published.sqlite").stat().st_size, documents


def latencies(checkpoint: Path, passes: int = 30) -> list[float]:
    found = []
    for _ in range(passes):
        for query in QUERIES:
            options = dict(query)
            built = SearchQuery.build(options.pop("text"), **options)
            started = time.perf_counter()
            search(checkpoint, built)
            found.append(time.perf_counter() - started)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="another checkout (without the search index) to compare")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    files = benchmark_files()
    trees = {"this tree": ROOT}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    records = 0
    with tempfile.TemporaryDirectory(prefix="catalograph-search-cost-") as tmp:
        work = Path(tmp)
        kept = work / "kept"
        for run in range(args.runs):
            for name, tree in trees.items():
                data = work / f"{name.replace(' ', '-')}-{run}"
                results[name].append(ingest(tree, files, data))
                records = record_count(data)
                if name == "this tree" and not kept.exists():
                    data.rename(kept)
                else:
                    shutil.rmtree(data)
        print(f"benchmark set: {records:,} record graphs; min of {args.runs} runs, trees interleaved")
        for name, runs in results.items():
            cpu, wall = min(r[0] for r in runs), min(r[1] for r in runs)
            print(f"  {name:10} CPU {cpu:6.2f} s ({1000 * cpu / records:.3f} ms/record), wall {wall:6.2f} s")
        if args.baseline:
            added = min(r[0] for r in results["this tree"]) - min(r[0] for r in results["baseline"])
            ratio = min(r[1] for r in results["baseline"]) / min(r[1] for r in results["this tree"])
            print(f"  the index adds {1000 * added / records:.3f} ms of CPU per record; wall ratio {ratio:.3f}")
        seconds, size, documents = publish_cost(kept, work)
        print(f"checkpoint copy: {documents:,} documents, {size / 2**20:.1f} MB, {1000 * seconds:.0f} ms (min of 5)")
        checkpoint = latest_snapshot(kept)
        times = sorted(latencies(checkpoint))
        p50 = statistics.median(times)
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"query latency in process: p50 {1000 * p50:.2f} ms, p95 {1000 * p95:.2f} ms ({len(times)} searches)")


if __name__ == "__main__":
    main()
