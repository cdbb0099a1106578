"""An ingest killed at any point leaves a consistent store; rerunning completes it.

The real command is killed with SIGKILL (with its worker processes) at
several moments, then run again; the store must then equal, quad for quad,
the store of a clean run (provenance times aside: they say when a record
was written, which differs between runs by nature), and the search index its
checkpoint carries must equal the documents derived afresh from that store.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from graph import latest_snapshot, open_latest_snapshot
from graph.search_index import PUBLISHED_FILE
from tests.conftest import ROOT, SAMPLE_DATA
from tests.test_cli_ingest import catalograph, sorted_dump
from tests.test_graph_search_index import fresh_rows, rows

pytestmark = pytest.mark.slow


def published_search(data_dir: Path) -> dict[str, tuple]:
    """The search index the newest checkpoint carries, row by row."""
    with closing(sqlite3.connect(latest_snapshot(data_dir) / PUBLISHED_FILE)) as db:
        return rows(db)


def start_ingest(data_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "web.cli",
            "--data-dir",
            str(data_dir),
            "ingest",
            "--quiet",
            "--batch-size",
            "40",
            str(SAMPLE_DATA),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )


def test_killed_ingest_then_rerun_equals_clean_run(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    started = time.perf_counter()
    done = catalograph(clean, "ingest", "--batch-size", "40", str(SAMPLE_DATA))
    clean_seconds = time.perf_counter() - started
    assert done.returncode in (0, 1), done.stderr
    expected = sorted_dump(clean, drop_times=True)
    assert len(expected) > 10_000

    # Kill points spread over the clean run's duration, from start-up to the end.
    for fraction in (0.25, 0.5, 0.75, 0.9):
        data = tmp_path / f"killed-{fraction}"
        process = start_ingest(data)
        time.sleep(clean_seconds * fraction)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        rerun = catalograph(data, "ingest", "--batch-size", "40", str(SAMPLE_DATA))
        assert rerun.returncode in (0, 1), rerun.stderr
        assert "Traceback" not in rerun.stderr
        assert sorted_dump(data, drop_times=True) == expected, f"killed at {fraction:.0%}"
        assert published_search(data) == fresh_rows(open_latest_snapshot(data)), f"search, killed at {fraction:.0%}"
        store_dir = data / "store"
        assert not list(store_dir.glob("bulk-*.sst")), "orphan bulk-load files left behind"
