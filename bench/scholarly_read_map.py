"""Scholarly records: reading and mapping rate against the bare parse of the same files.

    .venv/bin/python bench/scholarly_read_map.py [--copies 20]

Every Crossref, OpenAlex, DataCite, JATS and PubMed file of ../shared/data/oa is
read ``--copies`` times in one process: (1) the bare parse (``json.load`` / expat
over the whole file, the limit no reader can beat), (2) the reader alone
(``Source.read``: streaming, limits, positions), (3) reader and mapper
(``map_record``: the record graphs the store would get). Prints records per
second of each and the ratio of (3) to (1), per format, and the peak of the
Python heap during one more pass of (3) (``tracemalloc``, untimed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path
from xml.etree.ElementTree import XMLParser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.iri import IriMinter  # noqa: E402
from ingest.mapping import map_record  # noqa: E402
from ingest.model import SourceRecord  # noqa: E402
from ingest.sources import detect_format, get_source  # noqa: E402

OA = ROOT.parent / "shared" / "data" / "oa"


def bare_parse(path: Path) -> None:
    data = path.read_bytes()
    if data.lstrip()[:1] in (b"{", b"["):
        json.loads(data)
    else:
        parser = XMLParser()
        parser.feed(data)
        parser.close()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--copies", type=int, default=20)
    copies = options.parse_args().copies
    files = [p for folder in ("crossref", "openalex", "datacite", "jats", "pubmed")
             for p in sorted((OA / folder).glob("*/*")) if p.is_file()]
    if not files:
        sys.exit(f"{OA} is absent")
    by_format: dict[str, list[Path]] = defaultdict(list)
    for path in files:
        by_format[detect_format(path)].append(path)
    minter = IriMinter("http://127.0.0.1:5000/")
    print(f"{'format':<14}{'records':>9}{'parse/s':>12}{'read/s':>12}{'read+map/s':>12}{'map:parse':>11}")
    for name, paths in sorted(by_format.items()):
        source = get_source(name)
        start = time.perf_counter()
        for _ in range(copies):
            for path in paths:
                bare_parse(path)
        parse = time.perf_counter() - start
        start = time.perf_counter()
        records = sum(1 for _ in range(copies) for path in paths for _item in source.read(path))
        read = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(copies):
            for path in paths:
                for item in source.read(path):
                    if isinstance(item, SourceRecord):
                        map_record(item, minter)
        mapped = time.perf_counter() - start
        print(f"{name:<14}{records:>9}{records / parse:>12,.0f}{records / read:>12,.0f}"
              f"{records / mapped:>12,.0f}{mapped / parse:>10.1f}x")
    tracemalloc.start()  # apart from the timings: it slows Python several times
    for name, paths in sorted(by_format.items()):
        for path in paths:
            for item in get_source(name).read(path):
                if isinstance(item, SourceRecord):
                    map_record(item, minter)
    print(f"peak Python heap while reading and mapping every file once: "
          f"{tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
