"""``graph.updates.apply_changes``: the editor's way to write, one validated changeset.

On a real on-disk store written by the real ``Writer`` from real records
(``data/marcxml/nlm.xml``): a change made of quads is recorded as a changeset
with what it really added and removed, a check that refuses it leaves every
graph as it was, and a change to a unit's graph outlives re-ingest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from graph import Writer
from graph.updates import InvalidChangeError, MisplacedStatementError, apply_changes
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import RecordGraph, SourceRecord
from ingest.sources import get_source
from ontology.namespaces import CG, RDF, SKOS

ROOT = Path(__file__).resolve().parent.parent
MINTER = IriMinter("http://127.0.0.1:5000/")
LAYOUT = MINTER.layout


@pytest.fixture(scope="module")
def records() -> list[RecordGraph]:
    path = ROOT / "data" / "marcxml" / "nlm.xml"
    sources = [r for r in get_source("marcxml").read(path, name="nlm.xml") if isinstance(r, SourceRecord)]
    mapped = [map_record(r, MINTER) for r in sources[:12]]
    assert all(isinstance(m, RecordGraph) for m in mapped)
    return mapped


def _write(data_dir: Path, batch: list[RecordGraph]) -> None:
    with Writer(data_dir, LAYOUT, "changes-test", make_checkpoint=False) as writer:
        writer.write(batch)


def _store(data_dir: Path) -> Store:
    return Store.read_only(str(data_dir / "store"))


def _a_concept(data_dir: Path) -> NamedNode:
    store = _store(data_dir)
    concept = next(
        q.subject for q in store.quads_for_pattern(None, RDF.type, SKOS.Concept, None)
        if q.subject.value.startswith(LAYOUT.base)
    )  # fmt: skip
    del store
    return concept


def test_a_change_is_one_changeset_with_what_it_added_and_removed(tmp_path: Path, records) -> None:
    _write(tmp_path, records)
    concept = _a_concept(tmp_path)
    home = NamedNode(LAYOUT.home_graph(concept.value, None))
    alt = Quad(concept, SKOS.altLabel, Literal("Alias written by a test", language="en"), home)
    already = Quad(concept, RDF.type, SKOS.Concept, home)  # stated by ingest: not an addition
    edit = apply_changes(tmp_path, add=[alt, already], layout=LAYOUT, who="alice", reason="a test",
                         about=[(CG.changeReason, Literal("a second reason"))])  # fmt: skip
    assert (edit.added, edit.removed) == (1, 0)
    store = _store(tmp_path)
    assert alt in set(store.quads_for_pattern(concept, SKOS.altLabel, None, home))
    changeset = NamedNode(edit.changeset)
    reasons = {q.object.value for q in store.quads_for_pattern(changeset, CG.changeReason, None, changeset)}
    assert reasons == {"a test", "a second reason"}
    additions = [q.object for q in store.quads_for_pattern(changeset, CG.addition, None, changeset)]
    assert len(additions) == 1
    assert next(store.quads_for_pattern(additions[0], RDF.object, None, changeset)).object == alt.object
    del store
    # removing it again is a second changeset; re-ingest does not bring it back or drop the edit
    edit = apply_changes(tmp_path, remove=[alt], layout=LAYOUT, who="bob")
    assert (edit.added, edit.removed) == (0, 1)
    _write(tmp_path, records)
    assert not list(_store(tmp_path).quads_for_pattern(concept, SKOS.altLabel, alt.object, None))


def test_a_refused_check_or_a_misplaced_statement_changes_nothing(tmp_path: Path, records) -> None:
    _write(tmp_path, records)
    concept = _a_concept(tmp_path)
    home = NamedNode(LAYOUT.home_graph(concept.value, None))
    before = set(_store(tmp_path).quads_for_pattern(None, None, None, home))
    label = next(q for q in sorted(before, key=str) if q.predicate != RDF.type)
    seen: list[tuple[int, int]] = []

    def refuse(store: Store, added: list[Quad], removed: list[Quad]) -> None:
        seen.append((len(added), len(removed)))
        raise InvalidChangeError(["no preferred label left"])

    with pytest.raises(InvalidChangeError, match="no preferred label left"):
        apply_changes(tmp_path, remove=[label], layout=LAYOUT, who="alice", check=refuse)
    assert seen == [(0, 1)]
    assert set(_store(tmp_path).quads_for_pattern(None, None, None, home)) == before
    elsewhere = Quad(concept, SKOS.note, Literal("in the wrong graph"), NamedNode(f"{LAYOUT.base}elsewhere"))
    with pytest.raises(MisplacedStatementError):
        apply_changes(tmp_path, add=[elsewhere], layout=LAYOUT, who="alice")
    assert set(_store(tmp_path).quads_for_pattern(None, None, None, home)) == before
    assert apply_changes(tmp_path, layout=LAYOUT, who="alice").changeset is None
