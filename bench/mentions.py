"""Mention extraction: its rate against the bare tokenizer's, and a refresh with nothing changed.

    .venv/bin/python bench/mentions.py [--keep DIR]

1. The shipped sample (``data/``) and the MARC and MARCXML records of
   ../shared/data are ingested by ``catalograph ingest`` into a fresh data
   directory (real records; the open-access ones are mapped in memory by the
   real mappers, as the CLI does not read those formats on this branch).
2. On each store: the labels are read and the matcher built (seconds,
   labels), the texts are read, then every work's texts are (a) only
   tokenised by the same blank pipeline, the limit of the method, and (b)
   matched: works/s, mentions/s, and (b)/(a) as a ratio.
3. ``catalograph mentions --refresh --full`` then ``--refresh`` with nothing
   changed run on the ingested store: their wall times and the ratio.

Prints one line per figure; peak RSS of this process at the end.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyoxigraph import RdfFormat, Store  # noqa: E402

from graph import open_latest_snapshot  # noqa: E402
from ingest.iri import IriMinter  # noqa: E402
from ingest.mapping import map_record  # noqa: E402
from ingest.model import Rejected  # noqa: E402
from ingest.sources import detect_format, get_source  # noqa: E402
from ontology.layout import Layout  # noqa: E402
from query.mentions import build_matcher, read_labels, read_texts, segment  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
BASE = "http://127.0.0.1:5000/"


def cli(data_dir: Path, *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    return time.perf_counter() - started


def oa_store() -> Store:
    store, minter = Store(), IriMinter(BASE)
    for path in sorted(p for p in (SHARED / "oa").rglob("*") if p.is_file()):
        name = detect_format(path)
        if name is None:
            continue
        for item in get_source(name).read(path):
            graph = item if isinstance(item, Rejected) else map_record(item, minter)
            if not isinstance(graph, Rejected):
                store.load(graph.all_nquads, format=RdfFormat.N_QUADS)
    return store


def measure(name: str, store: Store) -> None:
    started = time.perf_counter()
    labels = list(read_labels(store, Layout(BASE)))
    matcher = build_matcher(labels)
    build = time.perf_counter() - started
    started = time.perf_counter()
    texts = read_texts(store)
    read = time.perf_counter() - started
    chars = sum(len(t) for pairs in texts.values() for _, t in pairs)
    started = time.perf_counter()
    for pairs in texts.values():
        for _, text in pairs:
            matcher.nlp.make_doc(segment(text))
    tokenise = time.perf_counter() - started
    started = time.perf_counter()
    found = sum(len(matcher.mentions(pairs)) for pairs in texts.values())
    match = time.perf_counter() - started
    works = len(texts)
    print(f"{name}: {len(labels):,} label rows -> {matcher.labels:,} patterns ({matcher.skipped:,} refused) in {build:.2f} s")
    print(f"{name}: {works:,} works with texts ({chars:,} characters) read in {read:.2f} s")
    print(f"{name}: tokenise only {works / tokenise:,.0f} works/s; match {works / match:,.0f} works/s, "
          f"{found / match:,.0f} mentions/s ({found:,} mentions); match/tokenise time {match / tokenise:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="Keep the data directory here.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-mentions-"))
    data_dir = folder / "data"
    sources = [str(ROOT / "data")] + [str(SHARED / d) for d in ("marc", "marcxml") if (SHARED / d).is_dir()]
    seconds = cli(data_dir, "ingest", "--quiet", *sources)
    print(f"ingest of {', '.join(sources)}: {seconds:.1f} s")
    measure("catalog", open_latest_snapshot(data_dir))
    if (SHARED / "oa").is_dir():
        measure("open access", oa_store())
    full = cli(data_dir, "mentions", "--refresh", "--full")
    again = cli(data_dir, "mentions", "--refresh")
    print(f"refresh --full {full:.2f} s; refresh with nothing changed {again:.2f} s (ratio {again / full:.2f}; "
          "both include the process start and the store's opening)")
    print(f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
