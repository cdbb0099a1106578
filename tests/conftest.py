"""Shared fixtures: real records, real stores on disk.

``tests/data/`` holds copies of permissively licensed files from
``../shared/data`` (see tests/data/README.md); files from GPL/AGPL/LGPL sources
are read from ``../shared/data`` in place, and tests that need them skip with a
clear reason when that folder is absent.
"""

from __future__ import annotations

import os
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
