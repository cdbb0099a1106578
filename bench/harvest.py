"""Harvest benchmark: ``catalograph harvest`` from a loopback repository against the bare parse.

Run it from the repository root::

    .venv/bin/python bench/harvest.py             # 20 pages of arXiv's 150 physics records
    .venv/bin/python bench/harvest.py --pages 5

A real HTTP server on 127.0.0.1 (``tests/oai_repository.py``) stands in for
arXiv: it serves invenio-oaiharvester's real answer of 150 arXiv records
(../shared/data, GPL: read in place) as ``--pages`` pages joined by tokens,
each page's OAI identifiers and arXiv ids renamed (``p{n}-``) so that every
page is new data, not records the store skips as unchanged. It prints:

(a) end to end: records per second of ``catalograph harvest`` into a fresh
    on-disk store (a subprocess; peak memory of its process tree sampled);
(b) the bare rate of reading the same pages: defusedxml's iterparse, the
    parser under the OAI reader, over every page's bytes;

and (a) / (b). Nothing here asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from io import BytesIO
from pathlib import Path

from defusedxml.ElementTree import iterparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.oai_repository import OaiRepository, Reply  # noqa: E402

PHYSICS = ROOT.parent / "shared/data/oa/arxiv_oai/invenio-oaiharvester/sample_arxiv_response_listrecords_physics.xml"
IDENTIFY = ROOT / "tests/data/oai_pmh/sickle/Identify.xml"


def pages(count: int) -> list[bytes]:
    """``count`` pages of the real answer, renamed per page, each but the last with a token."""
    text = PHYSICS.read_bytes()
    made = []
    for n in range(count):
        page = text.replace(b"oai:arXiv.org:", b"oai:arXiv.org:p%d-" % n)
        page = page.replace(b"<id>", b"<id>p%d-" % n)
        token = b"<resumptionToken>page-%d</resumptionToken>" % (n + 1) if n + 1 < count else b""
        made.append(page.replace(b"</ListRecords>", token + b"</ListRecords>"))
    return made


def peak_rss_mb(pid: int, stop: threading.Event, peak: list[float]) -> None:
    """Sample the resident memory of ``pid`` and its children until ``stop``."""
    while not stop.is_set():
        total = 0
        for proc in [pid, *_children(pid)]:
            try:
                with open(f"/proc/{proc}/status") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        peak[0] = max(peak[0], total / 1024)
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    if not PHYSICS.exists():
        sys.exit(f"{PHYSICS} is absent (GPL-sourced: read from ../shared/data)")
    bodies = pages(args.pages)
    records = 150 * args.pages

    def answer(params: dict[str, str]) -> Reply:
        if params.get("verb") == "Identify":
            return Reply(IDENTIFY.read_bytes())
        token = params.get("resumptionToken")
        return Reply(bodies[int(token.split("-")[1]) if token else 0])

    started = time.perf_counter()
    for body in bodies:
        for _event, element in iterparse(BytesIO(body), forbid_dtd=True):
            element.clear()
    parse_rate = records / (time.perf_counter() - started)

    with OaiRepository(answer) as repo, tempfile.TemporaryDirectory() as data:
        command = [sys.executable, "-m", "web.cli", "--data-dir", data, "harvest", repo.url,
                   "--metadata-prefix", "arXiv", "-q"]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        stop, peak = threading.Event(), [0.0]
        sampler = threading.Thread(target=peak_rss_mb, args=(process.pid, stop, peak))
        sampler.start()
        _out, err = process.communicate()
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
    if process.returncode != 0:
        sys.exit(f"harvest failed ({process.returncode}):\n{err}")
    rate = records / seconds
    print(f"records: {records} in {args.pages} pages of 150")
    print(f"(a) catalograph harvest, end to end: {rate:,.0f} records/s ({seconds:.1f} s, "
          f"peak memory {peak[0]:,.0f} MB)")
    print(f"(b) bare parse (defusedxml iterparse) of the same pages: {parse_rate:,.0f} records/s")
    print(f"(a) / (b) = {rate / parse_rate:.3f}")
    print(err.strip().splitlines()[0])


if __name__ == "__main__":
    main()
