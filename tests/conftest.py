"""Shared fixtures: real records, real stores on disk, small disks (a tmpfs, root only).

The shipped sample (``data/``) is ingested once per session by the real
``catalograph ingest`` (``ingested_sample``), and the review store (the sample
and Evergreen's jazz catalogue, ``review_fixtures``) once too; a module gets
its own copy of the closed data directory (``copy_data_dir``), which it may
write to and serve. Nothing opens the originals but the copying, so no module
sees another's edits. A copy is a valid data directory (tests/test_data_dir_copy.py).

``tests/data/`` holds copies of permissively licensed files from
``../shared/data`` (see tests/data/README.md); files from GPL/AGPL/LGPL sources
are read from ``../shared/data`` in place, and tests that need them skip with a
clear reason when that folder is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(os.environ.get("CATALOGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
SAMPLE_DATA = ROOT / "data"
BASE = "http://127.0.0.1:5000/"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a ``slow`` test first, the rest in their usual order.

    With ``--dist loadfile`` (``.ci/test``) each module runs whole on one worker,
    and a worker takes the next module when it is done; a module of a few long
    tests taken last (pytest-xdist's default queue puts the modules with the most
    tests first, so these came last) left the other workers idle for minutes at
    the end. ``.ci/test`` passes ``--no-loadscope-reorder`` so that this order
    is the one the workers take.
    """
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)


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


@dataclass(frozen=True)
class IngestedStore:
    """A data directory built once per session: copy it (``copy_data_dir``), never open it."""

    path: Path
    #: what the ``catalograph ingest`` that built it wrote to stderr (its summary)
    stderr: str

    def copy(self, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
        """A copy of its own for the caller, at ``<a new temporary folder>/data``."""
        return copy_data_dir(self.path, tmp_path_factory.mktemp(name) / "data")


def copy_data_dir(source: Path, target: Path) -> Path:
    """A copy of a closed data directory (no writer or server has it open), as a user
    would make with ``cp -a``: the live store, the checkpoints, the sqlite files.

    Copying is valid because nothing in a data directory names its own path
    (docs/storage.md, Layout); the copy is checked against its original in
    tests/test_data_dir_copy.py. Symbolic links are copied as links.
    """
    assert not target.exists(), f"{target} exists already"
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def ingested_sample(tmp_path_factory: pytest.TempPathFactory) -> IngestedStore:
    """The whole of ``data/``, ingested once by the real command (as ``bash .ci/up`` does),
    which rebuilds the associations, the match candidates and the mentions at its end."""
    from tests.test_cli_ingest import catalograph

    data_dir = tmp_path_factory.mktemp("ingested-sample") / "data"
    # "data" from the repository's folder, as .ci/up names it: the records' provenance names it so
    done = catalograph(data_dir, "ingest", "--quiet", str(SAMPLE_DATA.relative_to(ROOT)))
    assert done.returncode == 0, done.stderr
    return IngestedStore(data_dir, done.stderr)


@pytest.fixture(scope="module")
def sample_copy(ingested_sample: IngestedStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's own copy of the ingested sample: it may write to it."""
    return ingested_sample.copy(tmp_path_factory, "sample")


@pytest.fixture(scope="session")
def review_store(tmp_path_factory: pytest.TempPathFactory) -> IngestedStore:
    """The sample and the jazz catalogue, ingested once (``review_fixtures.build_review_store``);
    skipped, saying why, when ../shared/data is absent."""
    from tests.review_fixtures import build_review_store

    data_dir = tmp_path_factory.mktemp("review-store") / "data"
    return IngestedStore(build_review_store(data_dir), "")
