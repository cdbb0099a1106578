"""The projection's arrays of IRIs as UTF-8 bytes (format 5): their width, the token, the file.

The assembling is run on edges made by hand (``_Edges``, as the store's reading fills it),
without a store: what is checked here is the arrays, not the reading
(``tests/test_query_association.py`` runs the whole refresh on real records).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import graph.projection
from graph.projection import (
    INSTANCE,
    SUBJECT,
    WORK,
    Projection,
    _assemble,
    _Edges,
    iri_list,
    load,
    save,
)

BASE = "http://x/"
SHORT = ("http://x/i/a", "http://x/w/a", "http://x/c/1")
LONG = ("http://x/i/b-a-much-longer-instance", "http://x/w/b", "http://x/c/a-much-longer-unité")


def _edges(records: list[tuple[str, str, str]]) -> _Edges:
    found = _Edges()
    for instance, work, unit in records:
        i, w = found.id(instance), found.id(work)
        found.kind[i], found.work_of[i], found.kind[w] = INSTANCE, w, WORK
        found.add(i, found.id(unit), SUBJECT, 0)
    return found


def _full(records: list[tuple[str, str, str]]) -> Projection:
    manifest = {f"g{n}": ("h", r[0]) for n, r in enumerate(records)}
    return _assemble(BASE, None, None, _edges(records), set(), manifest, set())


def test_arrays_of_iris_are_utf8_bytes() -> None:
    p = _full([SHORT, LONG])
    for name in ("resources", "units", "roles", "edits", "manifest_graph"):
        assert getattr(p, name).dtype.kind == "S", name
    assert iri_list(p.units) == [SHORT[2], LONG[2]]
    assert p.unit(LONG[2]) == 1 and p.unit_iri(1) == LONG[2]
    assert p.resource_iri(p.row(SHORT[0]) or 0) == SHORT[0]


def test_an_update_that_drops_the_longest_iri_gives_a_full_builds_token() -> None:
    """An update's arrays are cut from the previous ones, as wide as they were; the width is
    digested in the token, so they are made as wide as their longest IRI (with numpy str,
    before format 5, this update's token differed from the full build's)."""
    before = _full([SHORT, LONG])
    keep = np.isin(np.array(iri_list(before.resources)), [SHORT[0], SHORT[1]])
    updated = _assemble(BASE, before, keep, _edges([]), set(), {"g0": ("h", SHORT[0])}, set())
    rebuilt = _full([SHORT])
    assert updated.same_as(rebuilt)
    assert updated.resources.dtype == rebuilt.resources.dtype
    assert updated.token == rebuilt.token


def test_saved_and_loaded_without_pickle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _full([SHORT, LONG])
    save(p, tmp_path)
    back = load(tmp_path, p.token)
    assert back is not None and back.same_as(p) and back.resources.dtype == p.resources.dtype
    # a file of another format is not read: rebuilt, never misread
    monkeypatch.setattr(graph.projection, "FORMAT_VERSION", 4)
    older = _full([SHORT])
    save(older, tmp_path)
    monkeypatch.undo()
    assert load(tmp_path, older.token) is None
