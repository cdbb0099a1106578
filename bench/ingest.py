"""Ingest benchmark: Catalograph's end-to-end rate against the limits of its parts.

Run it from the repository root (after ``bash .ci/install``)::

    .venv/bin/python bench/ingest.py            # the ~5,700-record benchmark set, then x10
    .venv/bin/python bench/ingest.py --repeat 1 # only the set once

All in one run, on the benchmark files listed in ../shared/data/MANIFEST.md:

(a) end to end: ``catalograph ingest`` into a fresh on-disk store, in a
    subprocess whose whole process tree is sampled for peak memory; the rate is
    records committed per second of wall time;
(b) pymarc's bare parse rate on the same files (``MARCReader`` for binary MARC,
    ``parse_xml_to_array`` for MARCXML);
(c) pyoxigraph's bulk-load rate for the very quads (a) produced: the store is
    dumped to N-Quads and bulk-loaded into a fresh on-disk store.

The limit is min(b, c / quads per record); the script prints (a) divided by it.
Then everything again with the input repeated ``--repeat`` times: each copy's
records get fresh control numbers (001 + "-rN"), so every copy is new data and
not skipped as unchanged. Nothing here is a pass/fail assertion: it prints figures.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymarc  # noqa: E402
from pyoxigraph import RdfFormat, Store  # noqa: E402

SHARED = Path(os.environ.get("CATALOGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: The benchmark set of MANIFEST.md ("Large set for throughput benchmarks"), 5,738 records.
BENCHMARK_FILES = [
    "marc/solrmarc/uva_001_2000.mrc",
    "marc/evergreen/authority/auth-1066.mrc",
    "marc/evergreen/jazz_1k.mrc",
    "marc/evergreen/lul_fre_500.mrc",
    "marc/marc4j/pride-and-prejudice-fixed.mrc",
    "marcxml/marc2bibframe2/dataset/british_library.xml",
    "marcxml/marc2bibframe2/dataset/dnb.xml",
    "marcxml/marc2bibframe2/dataset/gwu.xml",
    "marcxml/marc2bibframe2/dataset/loc_general.xml",
    "marcxml/marc2bibframe2/dataset/nlm.xml",
    "marcxml/marc2bibframe2/dataset/oclc.xml",
    "marcxml/marc2bibframe2/dataset/princeton.xml",
    "marc/evergreen/nepali.marc",
]
#: marc2bibframe2 (the Library of Congress XSLT converter) on rich records, as
#: measured on this kind of machine and given in the Foundation issue; not
#: re-measured here (it needs the XSLT toolchain and the converter's sources).
MARC2BIBFRAME2_RATE = 190.0
#: pymarc's rate on rich binary records on the machine where MARC2BIBFRAME2_RATE
#: was measured (the same issue's orientation figures).
ISSUE_PYMARC_BINARY_RATE = 8000.0


# ----------------------------------------------------------------- inputs


def benchmark_files() -> list[Path]:
    missing = [name for name in BENCHMARK_FILES if not (SHARED / name).exists()]
    if missing:
        sys.exit(
            f"the benchmark set is read from {SHARED} (several files are GPL/AGPL-licensed and not "
            f"copied into the repository), and these are missing: {', '.join(missing)}"
        )
    return [SHARED / name for name in BENCHMARK_FILES]


_XML_001 = re.compile(rb'(<(?:marc:)?controlfield tag="001">)([^<]*)(<)')


def replicate(files: list[Path], copies: int, into: Path) -> list[Path]:
    """``copies`` copies of every file, each copy's records with a fresh 001."""
    if copies == 1:
        return files
    out = []
    for copy in range(1, copies + 1):
        folder = into / f"copy{copy:02d}"
        folder.mkdir(parents=True)
        suffix = f"-r{copy}"
        for path in files:
            target = folder / path.name
            if path.suffix == ".xml":
                target.write_bytes(
                    _XML_001.sub(
                        lambda m, s=suffix: m[1] + m[2] + s.encode() + m[3], path.read_bytes()
                    )
                )
            else:
                with path.open("rb") as src, target.open("wb") as dst:
                    for record in pymarc.MARCReader(src, to_unicode=False, permissive=True):
                        if record is None:
                            continue
                        for field in record.get_fields("001"):
                            data = field.data or ""
                            field.data = data + (
                                suffix.encode() if isinstance(data, bytes) else suffix
                            )
                        dst.write(record.as_marc())
            out.append(target)
    return out


# ----------------------------------------------------------------- (b) pymarc


def pymarc_rate(files: list[Path]) -> tuple[float, int, float]:
    """Records per second of pymarc alone, reading (and decoding) every record.

    Also returns the rate on the binary MARC files alone, which is what the
    Foundation issue's orientation figure (~8,000 rich binary records/s) is.
    """
    count = binary_count = 0
    binary_seconds = 0.0
    started = time.perf_counter()
    for path in files:
        if path.suffix == ".xml":
            count += len(pymarc.parse_xml_to_array(str(path)))
            continue
        binary_started = time.perf_counter()
        with path.open("rb") as handle:
            reader = pymarc.MARCReader(handle, to_unicode=True, force_utf8=False, permissive=True)
            for record in _quiet(reader):
                if record is not None:
                    count += 1
                    binary_count += 1
        binary_seconds += time.perf_counter() - binary_started
    binary_rate = binary_count / binary_seconds if binary_seconds else 0.0
    return count / (time.perf_counter() - started), count, binary_rate


def _quiet(iterable):  # pymarc prints MARC-8 warnings to stdout
    saved = sys.stdout
    sys.stdout = io.StringIO()
    try:
        yield from iterable
    finally:
        sys.stdout = saved


# ----------------------------------------------------------------- (a) end to end


class TreeMemory(threading.Thread):
    """Samples the resident memory of a process and all its descendants (Linux /proc)."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.running = pid, every, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self._tree_rss())
            time.sleep(self.every)

    def _tree_rss(self) -> int:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as handle:
                        fields = handle.read().rsplit(b")", 1)[1].split()
                    parents[int(entry)] = int(fields[1])
                except (OSError, IndexError, ValueError):
                    continue
        tree, frontier = {self.pid}, [self.pid]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
            tree.update(children)
            frontier.extend(children)
        total = 0
        for pid in tree:
            try:
                with open(f"/proc/{pid}/status") as handle:
                    for line in handle:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total


def end_to_end(files: list[Path], data_dir: Path, workers: int | None) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "web.cli",
        "--data-dir",
        str(data_dir),
        "ingest",
        "--quiet",
        *([f"--workers={workers}"] if workers else []),
        *map(str, files),
    ]
    started = time.perf_counter()
    cpu_before = _children_cpu()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeMemory(process.pid)
    sampler.start()
    _out, err = process.communicate()
    elapsed = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    summary = err.decode("utf-8", "replace")
    if process.returncode not in (0, 1):
        sys.exit(f"ingest failed ({process.returncode}):\n{summary}")
    figures = {name: int(_figure(summary, name)) for name in ("written", "rejected", "unchanged")}
    figures["read"] = int(re.search(r"read (\d+) records", summary)[1])
    written = re.search(r"written\s+\d+\s+\(([\d,]+) quads[^,]*, ([\d,]+) statements", summary)
    figures["quads"] = int(written[1].replace(",", ""))
    figures["unit_statements"] = int(written[2].replace(",", ""))
    figures["seconds"] = elapsed
    figures["rate"] = figures["written"] / elapsed
    figures["peak_mb"] = sampler.peak / 2**20
    figures["cpu_seconds"] = _children_cpu() - cpu_before
    return figures


def _children_cpu() -> float:
    """CPU seconds (user + system) of all finished descendants, workers included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _figure(summary: str, name: str) -> str:
    found = re.search(rf"^\s+{name}\s+(\d+)", summary, re.MULTILINE)
    if not found:
        sys.exit(f"no '{name}' line in the ingest summary:\n{summary}")
    return found[1]


# ----------------------------------------------------------------- (c) bulk load


def bulk_load_rate(data_dir: Path, work: Path) -> tuple[float, int]:
    """Quads per second of ``Store.bulk_load`` for the quads the ingest stored."""
    from graph.snapshots import open_latest_snapshot

    dump = work / "dump.nq"
    source = open_latest_snapshot(data_dir)
    source.dump(str(dump), RdfFormat.N_QUADS)
    del source
    target = Store(str(work / "bulk-store"))
    started = time.perf_counter()
    target.bulk_load(path=str(dump), format=RdfFormat.N_QUADS)
    target.flush()
    elapsed = time.perf_counter() - started
    quads = len(target)
    return quads / elapsed, quads


# ----------------------------------------------------------------- report


def run(files: list[Path], label: str, workers: int | None, keep: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="catalograph-bench-"))
    try:
        a = end_to_end(files, work / "data", workers)
        b, parsed, b_binary = pymarc_rate(files)
        c, loaded = bulk_load_rate(work / "data", work)
        quads_per_record = loaded / a["written"]
        limit = min(b, c / quads_per_record)
        # What the mapper produced: each record's own quads and its statements about shared
        # units, before the store keeps a shared statement once (the pipeline's own output).
        mapped_per_record = (a["quads"] + a["unit_statements"]) / a["written"]
        mapped_limit = min(b, c / mapped_per_record)
        print(f"\n== {label}: {len(files)} files, {a['read']:,} records ==")
        print(
            f"(a) catalograph ingest, end to end   {a['rate']:>10,.0f} records/s  "
            f"({a['written']:,} written, {a['rejected']:,} rejected, {a['seconds']:.1f} s)"
        )
        print(f"(b) pymarc bare parse                {b:>10,.0f} records/s  ({parsed:,} records)")
        print(
            f"(c) pyoxigraph bulk load             {c:>10,.0f} quads/s    "
            f"({loaded:,} quads, {quads_per_record:.1f} per record -> {c / quads_per_record:,.0f} records/s)"
        )
        print(f"limit = min(b, c / quads per record) {limit:>10,.0f} records/s")
        print(
            f"(a) / limit                          {a['rate'] / limit:>10.2f}      (target >= 0.6)"
        )
        print(
            f"   with the quads the mapper produced ({mapped_per_record:.1f} per record, shared "
            f"statements counted per record): limit {mapped_limit:,.0f} records/s, "
            f"(a) / limit {a['rate'] / mapped_limit:.2f}"
        )
        print(
            f"(a) / marc2bibframe2 ({MARC2BIBFRAME2_RATE:.0f}/s, given) {a['rate'] / MARC2BIBFRAME2_RATE:>7.1f} x    (target >= 5)"
        )
        if b_binary:
            # The issue's 190/s was measured where pymarc read ~8,000 rich binary records/s.
            # Scaled by this machine's pymarc rate it is an estimate, printed as context only.
            scaled = MARC2BIBFRAME2_RATE * b_binary / ISSUE_PYMARC_BINARY_RATE
            print(
                f"   context: pymarc reads this set's binary MARC at {b_binary:,.0f} records/s here, "
                f"~{ISSUE_PYMARC_BINARY_RATE:,.0f}/s where the 190/s was measured; scaled to this "
                f"machine (an estimate, not a measurement) marc2bibframe2 would do ~{scaled:.0f}/s, "
                f"and (a) is {a['rate'] / scaled:.1f} x that"
            )
        print(
            f"CPU time of the ingest (all processes) {a['cpu_seconds']:.1f} s = "
            f"{a['cpu_seconds'] / a['written'] * 1000:.2f} ms per record; "
            f"load average now {os.getloadavg()[0]:.1f} (2 cores: above 2, others compete)"
        )
        print(
            f"peak memory of the ingest (all processes) {a['peak_mb']:>6.0f} MB     (target < 300)"
        )
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=10, help="copies for the second run (1: skip it)"
    )
    parser.add_argument("--workers", type=int, help="ingest worker processes (default: the CLI's)")
    parser.add_argument("--keep", action="store_true", help="keep the stores and dumps")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # pymarc logs each odd record it meets while timed
    files = benchmark_files()
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; pymarc {version('pymarc')}; pyoxigraph {version('pyoxigraph')}"
    )
    run(files, "benchmark set", args.workers, args.keep)
    if args.repeat > 1:
        with tempfile.TemporaryDirectory(prefix="catalograph-bench-input-") as folder:
            copies = replicate(files, args.repeat, Path(folder))
            run(
                copies,
                f"benchmark set x{args.repeat} (fresh 001 per copy)",
                args.workers,
                args.keep,
            )


if __name__ == "__main__":
    main()
