"""A copy of a closed data directory is a data directory: the tests' shared stores rely on it.

``tests/conftest.py`` ingests the sample once per session and gives each
module a copy (``copy_data_dir``) instead of an ingest of its own. These
tests check that a copy holds what its original holds (the checkpoint, the
live store, every SQLite file) and that a writer takes it like the original:
the same records again change nothing.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

from pyoxigraph import RdfFormat

from graph import open_store
from tests.conftest import SAMPLE_DATA, IngestedStore, copy_data_dir
from tests.test_cli_ingest import catalograph, sorted_dump


def sqlite_rows(path: Path) -> list[str]:
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        return list(db.iterdump())


def live_dump(data_dir: Path) -> list[str]:
    with open_store(data_dir, read_only=True) as store:
        return sorted(store.dump(format=RdfFormat.N_QUADS).decode("utf-8").splitlines())


def test_a_copy_holds_what_the_original_holds(ingested_sample: IngestedStore, tmp_path: Path) -> None:
    original = ingested_sample.path
    copy = copy_data_dir(original, tmp_path / "data")
    checkpoint = sorted_dump(copy)
    assert len(checkpoint) > 80_000  # the whole sample, not an empty store
    assert checkpoint == sorted_dump(original)
    assert live_dump(copy) == checkpoint  # the ingest ended: the live store is its checkpoint
    databases = sorted(p.relative_to(original) for p in original.rglob("*.sqlite"))
    assert Path("record-index.sqlite") in databases
    for relative in databases:
        assert sqlite_rows(copy / relative) == sqlite_rows(original / relative), relative


def test_a_writer_takes_a_copy_as_it_takes_the_original(
    ingested_sample: IngestedStore, tmp_path: Path
) -> None:
    copy = copy_data_dir(ingested_sample.path, tmp_path / "data")
    before = (copy / "snapshots" / "CURRENT").read_text()
    done = catalograph(copy, "ingest", "--quiet", str(SAMPLE_DATA / "marc" / "george_eliot.marc"))
    assert done.returncode == 0, done.stderr
    assert re.search(r"written\s+0 ", done.stderr) and re.search(r"unchanged\s+[1-9]", done.stderr)
    assert (copy / "snapshots" / "CURRENT").read_text() == before  # nothing new to publish
    assert catalograph(copy, "stats").returncode == 0
