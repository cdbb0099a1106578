"""Shared fixtures: real records, real stores on disk, small disks (a tmpfs, root only).

``tests/data/`` holds copies of permissively licensed files from
``../shared/data`` (see tests/data/README.md); files from GPL/AGPL/LGPL sources
are read from ``../shared/data`` in place, and tests that need them skip with a
clear reason when that folder is absent.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(os.environ.get("CATALOGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
SAMPLE_DATA = ROOT / "data"
BASE = "http://127.0.0.1:5000/"


def shared_path(relative: str) -> Path:
    """A file of ../shared/data; skip the calling test, saying why, if it is not there."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(
            f"{relative} is read from ../shared/data (its licence forbids a copy here), "
            f"and {SHARED_DATA} is absent"
        )
    return path


def test_path(relative: str) -> Path:
    path = TEST_DATA / relative
    assert path.exists(), f"missing committed test file {path}"
    return path


test_path.__test__ = False  # not a test, despite the name


class SmallDisk:
    """A tmpfs of ``size_mb`` MB at ``path``, standing for a small disk."""

    def __init__(self, path: Path, size_mb: int) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        done = _run("mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path))
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs to stand for a small disk: {done.stderr.strip()}")

    def resize(self, size_mb: int) -> None:
        """Free space, as a user would: the same files on a larger disk."""
        done = _run("mount", "-o", f"remount,size={size_mb}m", str(self.path))
        assert done.returncode == 0, done.stderr

    def unmount(self) -> None:
        for _attempt in range(20):  # a process just ended may still hold a file for a moment
            if _run("umount", str(self.path)).returncode == 0:
                return
            time.sleep(0.5)
        _run("umount", "-l", str(self.path))  # never leave a mount behind


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int], SmallDisk]]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to stand for a small disk needs root")
    mounted: list[SmallDisk] = []

    def mount(size_mb: int) -> SmallDisk:
        disk = SmallDisk(tmp_path / f"disk-{len(mounted)}", size_mb)
        mounted.append(disk)
        return disk

    yield mount
    for disk in mounted:
        disk.unmount()
