"""The stall watch reads RocksDB's LOG: when does a phase count as stuck, and on what.

RocksDB reports a background job it retries only in its LOG. Producing a
real stall on demand is not reliable (it depends on how far RocksDB's own
compactions got when the disk filled: tests/test_cli_disk_full.py meets them
on a real small disk), so these tests write RocksDB's lines, as copied from
the LOG of a run that hung, and step the watch's clock by hand.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from graph.disk_space import (
    MIN_FREE_BYTES,
    STALL_RETRIES,
    StallWatch,
    compaction_room,
    require_room,
    used_bytes,
)
from ontology.errors import DiskFullError, StoreError
from tests.conftest import SmallDisk

# From the LOG of an ingest that hung on a 45 MB tmpfs (pyoxigraph 0.5.13).
NO_ROOM = (
    b"2026/12/06-07:45:17.741863 140558136456896 [ERROR] [db/db_impl/db_impl_compaction_flush."
    b"cc:3636] Waiting after background compaction error: Compaction too large: , Accumulated "
    b"background error counts: 7\n"
)
ENOSPC = (
    b"2026/12/06-07:45:16.737573 140558128064192 [ERROR] [db/db_impl/db_impl_compaction_flush."
    b"cc:3636] Waiting after background compaction error: IO error: No space left on device: "
    b"While appending to file: /data/store/000628.sst: No space left on device, Accumulated "
    b"background error counts: 6\n"
)
OTHER = (
    b"2026/12/06-07:45:16.737573 140558128064192 [ERROR] [db/db_impl/db_impl_compaction_flush."
    b"cc:3636] Waiting after background flush error: IO error: Input/output error, Accumulated "
    b"background error counts: 2\n"
)
NOISE = (
    b"2026/12/06-07:45:16.738681 140557923714752 [WARN] [db/column_family.cc:1067] [ospg] "
    b"Stopping writes because we have 50 level-0 files\n"
)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    (tmp_path / "LOG").write_bytes(NOISE + NO_ROOM * 20)  # an earlier session's retries
    return tmp_path


def watch_of(store_dir: Path, found: list[StoreError]) -> StallWatch:
    # The thread polls once an hour: the test calls ``check`` with its own clock.
    return StallWatch(store_dir, on_stall=found.append, stall_s=10, poll_s=3600)


def log(store_dir: Path, *lines: bytes) -> None:
    with (store_dir / "LOG").open("ab") as handle:
        handle.write(b"".join(lines))


def test_retries_for_the_whole_window_of_a_phase_are_a_full_disk(store_dir: Path) -> None:
    found: list[StoreError] = []
    watch = watch_of(store_dir, found)
    with watch.phase("checkpoint"):
        start = time.monotonic()
        for second in range(12):
            log(store_dir, NOISE, ENOSPC if second == 0 else NO_ROOM)
            watch.check(start + second)
        watch.check(start + 13)  # reported once
    watch.stop()
    assert len(found) == 1
    error = found[0]
    assert isinstance(error, DiskFullError) and error.exit_code == 4
    assert error.message.startswith(f"cannot checkpoint the store at {store_dir}:")
    assert "the disk is full or a file size limit was reached" in error.message
    assert "Compaction too large" in error.message
    assert watch.stalled is error


def test_an_earlier_session_a_transient_failure_or_no_phase_is_no_stall(store_dir: Path) -> None:
    found: list[StoreError] = []
    watch = watch_of(store_dir, found)
    with watch.phase("write"):
        start = time.monotonic()
        log(store_dir, NO_ROOM, NO_ROOM)  # a compaction that failed twice, then went on
        for second in range(30):
            assert watch.check(start + second) is None
    log(store_dir, *[NO_ROOM] * (STALL_RETRIES * 2))  # retries while no phase waits on them
    assert watch.check(start + 31) is None
    watch.stop()
    assert found == []


def test_retries_for_another_reason_are_a_store_error_not_a_full_disk(store_dir: Path) -> None:
    found: list[StoreError] = []
    watch = watch_of(store_dir, found)
    with watch.phase("write"):
        start = time.monotonic()
        for second in range(11):
            log(store_dir, OTHER)
            watch.check(start + second)
    watch.stop()
    [error] = found
    assert type(error) is StoreError
    assert "Input/output error" in error.message and "disk is full" not in error.message


def test_a_reopened_store_starts_a_new_log_which_is_read_from_its_start(store_dir: Path) -> None:
    found: list[StoreError] = []
    watch = watch_of(store_dir, found)
    with watch.phase("reopen"):
        start = time.monotonic()
        os.replace(store_dir / "LOG", store_dir / "LOG.old.1")  # as RocksDB does on open
        (store_dir / "LOG").write_bytes(NO_ROOM * STALL_RETRIES)
        watch.check(start + 10)
    watch.stop()
    assert len(found) == 1


def test_compaction_needs_room_for_the_largest_index_and_the_tables_a_checkpoint_keeps(
    small_disk: Callable[[int], SmallDisk],
) -> None:
    disk = small_disk(4)  # MB
    store = disk.path / "store"
    store.mkdir()
    (store / "000001.sst").write_bytes(b"x" * 400_000)
    (store / "000002.sst").write_bytes(b"x" * 600_000)
    assert used_bytes(store) == 1_000_000 and used_bytes(store, shared_only=True) == 0
    (disk.path / "checkpoint").mkdir()
    os.link(store / "000002.sst", disk.path / "checkpoint" / "000002.sst")
    assert used_bytes(store, shared_only=True) == 600_000
    # about 3 MB free; the linked table, a quarter of the store and the reserve: 9.2 MB
    reason = compaction_room(store)
    assert reason is not None and reason.startswith("the store was not compacted: the disk has")
    with pytest.raises(DiskFullError, match="about 9.0 MB needed"):
        require_room("write", store, 600_000 + MIN_FREE_BYTES)
