"""Open-access ingest and mention extraction: ``catalograph ingest`` against the bare parse.

Run it from the repository root::

    .venv/bin/python bench/oa_ingest.py                 # 10 then 40 copies
    .venv/bin/python bench/oa_ingest.py --copies 2 8

Every file of ../shared/data/oa that ``catalograph ingest`` reads (Crossref
JSON and XML, OpenAlex, DataCite JSON and XML, JATS, PubMed, OAI-PMH Dublin
Core and arXiv) is written ``--copies`` times into a temporary folder, each
copy's identifiers renamed (DOIs, OAI identifiers, arXiv, OpenAlex and PubMed
ids, and titles, so that a copy is a work of its own: ``replicate``) so that
every copy is new data, not records the store skips as unchanged; authors,
ORCIDs, journals and concepts stay shared, as in a real corpus. Then, for each size, in one run:

(a) ``catalograph ingest`` of the copies into a fresh store on disk, in a
    subprocess whose process tree's resident memory is sampled every 50 ms:
    records read per second of wall time, the whole command (reading,
    mapping, the writer, the search index, the associations, and the
    mentions refreshed at its end, whose own time its summary gives); peak
    RSS over the whole run, and apart while the records stream (before the
    refreshes at the end, dated back from the end by their durations);
(b) the bare parse of the same files, the limit no reader can beat:
    ``ijson`` (streaming, every event) for JSON, ``defusedxml``'s iterparse
    (elements cleared as they end) for XML: records per second;
(c) mention extraction alone: ``catalograph mentions --refresh --full`` on
    the store (a subprocess, peak RSS sampled): works with texts per second;
(d) an ingest of the same copies again (nothing changes): its time, and
    that the mentions are not refreshed;
(e) an ingest of one more copy of 10 of the files (new records into the
    store (a) made): the match candidates' and the mentions' refreshes at its
    end, whose cost should follow those few records, not the store;
(f) ``catalograph candidates --refresh --full``: every block compared again,
    its CPU and peak RSS as a whole command.

For the ingests of (a) and (e), the peak RSS while the match candidates were
refreshed is told apart too (dated back from the end by the refreshes'
durations, as the streaming part is). ``--checkout DIR`` runs the commands
of another checkout of the project (a before/after pair on one machine).

Prints (a) / (b) and how memory moves between the two sizes. Nothing here
asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import ijson
from defusedxml.ElementTree import iterparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.sources import detect_format  # noqa: E402

OA = Path(os.environ.get("CATALOGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data")) / "oa"

#: Each copy's identifiers renamed: (pattern, replacement with ``%d`` for the copy's number).
RENAMES = [
    (re.compile(rb"(10\.\d{4,9}/)"), rb"\g<1>c%d-"),  # DOIs: a new suffix, still a valid DOI
    (re.compile(rb"(<identifier>[^<]+)(</identifier>)"), rb"\g<1>-c%d\g<2>"),  # OAI headers
    (re.compile(rb"<id>"), rb"<id>c%d-"),  # arXiv ids
    (re.compile(rb"(openalex\.org/W\d+)"), rb"\g<1>0%d"),  # OpenAlex works
    (re.compile(rb"(<PMID[^>]*>|pub-id-type=\"pmid\">)(\d+)"), rb"\g<1>9%d\g<2>"),  # PubMed ids
    # titles, so that each copy is a work of its own, not an instance of the same work
    (re.compile(rb'("title":\s*\[?\s*")'), rb"\g<1>c%d "),
    (re.compile(rb"(<(?:[a-z]+:)?(?:title|article-title|ArticleTitle)(?:\s[^>]*)?>)"), rb"\g<1>c%d "),
]


def replicate(source: bytes, copy: int) -> bytes:
    """``source`` with its identifiers renamed for copy number ``copy``.

    >>> replicate(b'"DOI": "10.7554/eLife.01567"', 3)
    b'"DOI": "10.7554/c3-eLife.01567"'
    """
    for pattern, replacement in RENAMES:
        source = pattern.sub(replacement.replace(b"%d", b"%d" % copy), source)
    return source


def oa_files() -> list[Path]:
    return [p for p in sorted(OA.rglob("*")) if p.is_file() and detect_format(p) is not None]


def write_copies(files: list[Path], copies: int, folder: Path, first: int = 0) -> int:
    """The copies written under ``folder`` (one sub-folder each), numbered from ``first``; their
    total bytes."""
    size = 0
    for copy in range(first, first + copies):
        for path in files:
            target = folder / f"c{copy}" / path.relative_to(OA)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = replicate(path.read_bytes(), copy)
            target.write_bytes(data)
            size += len(data)
    return size


def bare_parse(folder: Path) -> float:
    """Seconds to parse every file under ``folder`` with a streaming parser and nothing else."""
    started = time.perf_counter()
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            head = handle.read(64).lstrip()
            handle.seek(0)
            if head[:1] in (b"{", b"["):
                for _event in ijson.parse(handle):
                    pass
            else:
                for _event, element in iterparse(handle):
                    element.clear()
    return time.perf_counter() - started


def _children(pid: int) -> list[int]:
    found = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            for child in handle.read().split():
                found += [int(child), *_children(int(child))]
    except OSError:
        pass
    return found


def _sample(pid: int, stop: threading.Event, timeline: list[tuple[float, float]]) -> None:
    """``(time, MB)`` of ``pid``'s process tree's resident memory, every 50 ms until ``stop``."""
    while not stop.is_set():
        total = 0
        for proc in [pid, *_children(pid)]:
            try:
                with open(f"/proc/{proc}/status") as status:
                    total += next(int(x.split()[1]) for x in status if x.startswith("VmRSS:"))
            except (OSError, StopIteration):
                pass
        timeline.append((time.monotonic(), total / 1024))
        time.sleep(0.05)


@dataclass
class Run:
    seconds: float
    err: str
    #: Peak RSS (MB) of the process tree over the whole run, and over the part before the
    #: refreshes at the end of an ingest (associations, mentions: their own durations, from
    #: the summary, dated back from the end, less a second for closing the store).
    peak: float
    peak_streaming: float
    peak_after: float
    #: CPU seconds (user + system) of the command's process tree.
    cpu: float = 0.0
    #: Peak RSS (MB) while the match candidates were refreshed (dated back from the end by the
    #: mentions' and the candidates' durations), 0 when they were not.
    peak_candidates: float = 0.0


#: The checkout whose ``catalograph`` is run (``--checkout``; this one by default).
CHECKOUT = [ROOT]


def _refresh_seconds(err: str) -> float:
    return sum(float(x) for x in re.findall(r"^\s*(?:associations|mentions) \w+ in ([\d.]+) s", err, re.MULTILINE))


def _seconds(err: str, pattern: str) -> float:
    found = re.search(pattern, err, re.MULTILINE)
    return float(found[1]) if found else 0.0


def cli(data_dir: Path, *args: str) -> Run:
    """``catalograph`` run in a subprocess, its memory sampled (``Run``)."""
    command = [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), *args]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=CHECKOUT[0], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    stop, timeline = threading.Event(), []
    sampler = threading.Thread(target=_sample, args=(process.pid, stop, timeline))
    sampler.start()
    _out, err = process.communicate()
    ended = time.monotonic()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if process.returncode not in (0, 1):  # 1: records rejected (a few hostile test files)
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{err}")
    streamed = ended - _refresh_seconds(err) - 1.0
    peak = max((mb for _t, mb in timeline), default=0.0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    mentions = _seconds(err, r"^\s*mentions \w+ in ([\d.]+) s")
    candidates = _seconds(err, r"match candidates .* in ([\d.]+) s")
    until = ended - 1.0 - mentions
    during = [mb for t, mb in timeline if until - candidates - 0.1 <= t <= until + 0.1] if candidates else []
    return Run(seconds, err, peak, max((mb for t, mb in timeline if t <= streamed), default=0.0),
               max((mb for t, mb in timeline if t > streamed), default=0.0), cpu, max(during, default=0.0))


def line(err: str, start: str) -> str:
    return next((x.strip() for x in err.splitlines() if x.strip().startswith(start)), "")


def candidates_line(err: str) -> str:
    return next((x.strip() for x in err.splitlines() if "match candidates (" in x), "candidates not refreshed")


def count(err: str, name: str) -> int:
    found = re.search(rf"^\s*{name}\s+(\d+)", err, re.MULTILINE)
    return int(found[1]) if found else 0


def measure(files: list[Path], copies: int, work: Path) -> dict[str, float]:
    inputs, data_dir = work / f"in-{copies}", work / f"store-{copies}"
    size = write_copies(files, copies, inputs)
    ingest = cli(data_dir, "ingest", "--quiet", str(inputs))
    seconds, err = ingest.seconds, ingest.err
    read = int(re.search(r"read (\d+) records", err)[1])
    mentions = line(err, "mentions")
    mention_seconds = float(re.search(r"in ([\d.]+) s", mentions)[1]) if mentions else 0.0
    parse = bare_parse(inputs)
    full = cli(data_dir, "mentions", "--refresh", "--full")
    works = int(re.search(r"([\d,]+) work\(s\) with texts", full.err)[1].replace(",", ""))
    again = cli(data_dir, "ingest", "--quiet", str(inputs))
    extra = work / f"extra-{copies}"
    write_copies(files[:10], 1, extra, first=copies)
    more = cli(data_dir, "ingest", "--quiet", str(extra))
    # (f) every block compared again (a checkout without --full rebuilds them all on --refresh)
    helped = subprocess.run([sys.executable, "-m", "web.cli", "candidates", "--help"], cwd=CHECKOUT[0],
                            capture_output=True, text=True).stdout
    rebuild = cli(data_dir, "candidates", "--refresh", *(["--full"] if "--full" in helped else []), "--limit", "1")
    print(f"\n== {copies} copies: {len(files) * copies:,} files, {size / 1e6:.1f} MB, {read:,} records read "
          f"({count(err, 'written'):,} written, {count(err, 'unchanged'):,} unchanged, "
          f"{count(err, 'replaced'):,} replaced, {count(err, 'rejected'):,} rejected)")
    print(f"(a) catalograph ingest: {read / seconds:,.0f} records/s ({seconds:.1f} s, CPU {ingest.cpu:.1f} s, "
          f"load average {os.getloadavg()[0]:.1f}); peak RSS {ingest.peak:,.0f} MB, "
          f"{ingest.peak_streaming:,.0f} MB while records streamed, {ingest.peak_after:,.0f} MB after (the refreshes)")
    print(f"    {line(err, 'associations')}")
    print(f"    {candidates_line(err)}; peak RSS while refreshed {ingest.peak_candidates:,.0f} MB")
    print(f"    mentions at its end: {mention_seconds:.1f} s ({mentions})")
    print(f"(b) bare parse (ijson / defusedxml iterparse): {read / parse:,.0f} records/s ({parse:.2f} s)")
    print(f"    (a) / (b) = {parse / seconds:.4f}")
    print(f"(c) mentions --refresh --full: {works / full.seconds:,.0f} works/s ({works:,} works with texts, "
          f"{full.seconds:.1f} s as a whole command, CPU {full.cpu:.1f} s), peak RSS {full.peak:,.0f} MB")
    split = re.search(r"read ([\d.]+), match ([\d.]+), write ([\d.]+)", full.err)
    print(f"    {line(full.err, 'mentions')}")
    print(f"    match alone (matcher built, texts read by work, matched): {works / float(split[2]):,.0f} works/s; "
          f"read {split[1]} s, write {split[3]} s")
    print(f"(d) the same ingest again: {again.seconds:.1f} s (CPU {again.cpu:.1f} s, peak RSS {again.peak:,.0f} MB), "
          f"{count(again.err, 'written'):,} written "
          f"(records that share a graph with a later one of other content, in another batch), "
          f"{count(again.err, 'unchanged'):,} unchanged")
    print(f"    {line(again.err, 'mentions') or 'mentions not refreshed (nothing changed)'}")
    print(f"(e) one more copy of 10 files into that store: {count(more.err, 'written'):,} written, "
          f"{more.seconds:.1f} s (CPU {more.cpu:.1f} s, peak RSS {more.peak:,.0f} MB)")
    print(f"    {candidates_line(more.err)}; peak RSS while refreshed {more.peak_candidates:,.0f} MB")
    print(f"    {line(more.err, 'mentions')}")
    print(f"(f) candidates --refresh --full alone: CPU {rebuild.cpu:.1f} s as a whole command, "
          f"peak RSS {rebuild.peak:,.0f} MB; {candidates_line(rebuild.err)}")
    shutil.rmtree(inputs, ignore_errors=True)
    shutil.rmtree(extra, ignore_errors=True)
    return {"records": read, "rate": read / seconds, "peak": ingest.peak, "parse": read / parse, "cpu": ingest.cpu,
            "streaming": ingest.peak_streaming, "after": ingest.peak_after, "mentions_peak": full.peak,
            "works": works, "candidates_peak": ingest.peak_candidates, "more_candidates_peak": more.peak_candidates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[10, 40])
    parser.add_argument("--checkout", type=Path, default=ROOT, help="run the catalograph of this checkout")
    args = parser.parse_args()
    CHECKOUT[0] = args.checkout.resolve()
    print(f"catalograph of {CHECKOUT[0]}")
    files = oa_files()
    if not files:
        sys.exit(f"{OA} is absent (the open-access records are read in place)")
    work = Path(tempfile.mkdtemp(prefix="bench-oa-ingest-"))
    try:
        results = [measure(files, copies, work) for copies in args.copies]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(f"\n{large['records'] / small['records']:.1f}x the records: ingest peak RSS "
              f"{small['peak']:,.0f} -> {large['peak']:,.0f} MB (while records streamed "
              f"{small['streaming']:,.0f} -> {large['streaming']:,.0f} MB, after it "
              f"{small['after']:,.0f} -> {large['after']:,.0f} MB), mentions --full peak RSS "
              f"{small['mentions_peak']:,.0f} -> {large['mentions_peak']:,.0f} MB; while the candidates were refreshed "
              f"{small['candidates_peak']:,.0f} -> {large['candidates_peak']:,.0f} MB (after one more copy of 10 files: "
              f"{small['more_candidates_peak']:,.0f} -> {large['more_candidates_peak']:,.0f} MB); CPU per record "
              f"{1000 * small['cpu'] / small['records']:.2f} -> {1000 * large['cpu'] / large['records']:.2f} ms; rate "
              f"{small['rate']:,.0f} -> {large['rate']:,.0f} records/s")


if __name__ == "__main__":
    main()
