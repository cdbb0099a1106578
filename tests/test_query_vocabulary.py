"""The vocabulary editor's operations on a real store: each one's change, its refusals, re-ingest.

Real records (``data/marcxml/nlm.xml``, the National Library of Medicine's)
written by the real ``Writer``; each operation of ``query.vocabulary_edits``
and ``query.skos_import`` builds its change from the store, which
``graph.updates.apply_changes`` (what ``web.changes.submit_change`` calls)
applies as one changeset; the records are then ingested again and the edit
must still be there.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pymarc import Field, Record, Subfield
from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

from graph import Writer
from graph.updates import InvalidChangeError, apply_changes
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import RecordGraph, SourceRecord
from ingest.sources import get_source
from ontology.errors import UsageError
from ontology.namespaces import BF, CG, RDF, SKOS
from ontology.records import Position
from query.skos_import import plan_import, read_skos
from query.vocabulary import concept, references, scheme_concepts, schemes
from query.vocabulary_edits import (
    edit_literals,
    edit_relations,
    language_tag,
    new_concept,
)
from query.vocabulary_merge import merge, split

ROOT = Path(__file__).resolve().parent.parent
MINTER = IriMinter("http://127.0.0.1:5000/")
LAYOUT = MINTER.layout
LCSH = "http://id.loc.gov/authorities/subjects"
MESH = NamedNode("http://id.nlm.nih.gov/mesh")
SLICE = ROOT / "tests" / "data" / "skos" / "mesh-slice.ttl"


@pytest.fixture(scope="module")
def records() -> list[RecordGraph]:
    path = ROOT / "data" / "marcxml" / "nlm.xml"
    sources = [r for r in get_source("marcxml").read(path, name="nlm.xml") if isinstance(r, SourceRecord)]
    mapped = [map_record(r, MINTER) for r in sources]
    assert all(isinstance(m, RecordGraph) for m in mapped)
    return mapped


def _write(data_dir: Path, batch: list[RecordGraph]) -> None:
    with Writer(data_dir, LAYOUT, "vocabulary-test", make_checkpoint=False) as writer:
        writer.write(batch)


def _store(data_dir: Path) -> Store:
    return Store.read_only(str(data_dir / "store"))


def _apply(data_dir: Path, change) -> None:  # noqa: ANN001
    edit = apply_changes(data_dir, add=change.add, remove=change.remove, layout=LAYOUT, who="carl",
                         reason=change.reason)  # fmt: skip
    assert edit.changeset is not None


def _subjects(store: Store, concept_iri: str) -> set[str]:
    return {q.subject.value for q in store.quads_for_pattern(None, BF.subject, NamedNode(concept_iri), None)}


def _two_used_concepts(store: Store) -> tuple[str, str]:
    """Two concepts of a scheme, each the subject of works, the first of the most works, the
    second of a work the first is not the subject of."""
    used: dict[str, int] = {}
    for q in store.quads_for_pattern(None, BF.subject, None, None):
        if next(store.quads_for_pattern(q.object, SKOS.inScheme, None, None), None) is not None:
            used[q.object.value] = used.get(q.object.value, 0) + 1
    ranked = sorted(used, key=lambda iri: (-used[iri], iri))
    first = _subjects(store, ranked[0])
    return ranked[0], next(iri for iri in ranked[1:] if _subjects(store, iri) - first)


def _heading_concept(heading: str) -> NamedNode:
    """The concept a record with ``650 _0 $a heading`` (LCSH) names, mapped by the MARC mapper."""
    record = Record(force_utf8=True)
    record.leader = record.leader[:5] + "nam" + record.leader[8:]
    record.add_field(Field(tag="001", data="vocabulary-test-1"))
    record.add_field(Field(tag="245", indicators=["1", "0"], subfields=[Subfield("a", "A title")]))
    record.add_field(Field(tag="650", indicators=[" ", "0"], subfields=[Subfield("a", heading)]))
    mapped = map_record(SourceRecord(Position("test.mrc", 1), "marc", record), MINTER)
    quads = parse(mapped.all_nquads, RdfFormat.N_QUADS)
    return next(q.object for q in quads if q.predicate == BF.subject)


def test_language_tags_are_checked_as_bcp_47() -> None:
    assert [language_tag(t) for t in ("en", "zh-Hant-TW", "yue", "x-local", "es-419")] == [
        "en", "zh-hant-tw", "yue", "x-local", "es-419"
    ]
    for bad in ("", "e", "english1", "en_US", "zh-", "en--us", "a" * 9, "en-US-", "中文"):
        with pytest.raises(ValueError, match="not a language tag"):
            language_tag(bad)


def test_a_new_concept_with_two_languages_narrower_than_another_survives_reingest(
    tmp_path: Path, records
) -> None:
    _write(tmp_path, records)
    store = _store(tmp_path)
    parent = _two_used_concepts(store)[0]
    iri = MINTER.from_key("concept", f"{LCSH}|Telehealth")
    change = new_concept(store, LAYOUT, iri, LCSH, [("Telehealth", "en"), ("远程医疗", "zh")], broader=parent)
    del store
    _apply(tmp_path, change)
    _write(tmp_path, records)  # re-ingest: the writer's statements stay
    store = _store(tmp_path)
    view = concept(store, iri.value)
    assert view.is_concept and view.schemes == [LCSH]
    assert sorted(v for v in view.literals) == [("prefLabel", "Telehealth", "en"), ("prefLabel", "远程医疗", "zh")]
    assert ("broader", parent) in view.relations
    assert Quad(NamedNode(parent), SKOS.narrower, iri, NamedNode(parent)) in set(
        store.quads_for_pattern(NamedNode(parent), SKOS.narrower, iri, None)
    )
    assert iri.value in {c.iri for c in scheme_concepts(store, LCSH, "telehe").concepts}
    assert _heading_concept("Telehealth") == iri  # a record's heading later meets it in one node
    sizes = {s.iri: s.concepts for s in schemes(store)}
    for scheme, size in sizes.items():
        members = {q.subject for q in store.quads_for_pattern(None, SKOS.inScheme, NamedNode(scheme), None)}
        assert size == len(members)
    assert sizes[LCSH] >= 1 and len(sizes) >= 2
    # the same concept again, a second preferred label in one language, a bad tag: refused in words
    with pytest.raises(InvalidChangeError, match="needs a preferred label"):
        edit_literals(store, LAYOUT, iri.value, remove=[("prefLabel", "Telehealth", "en"),
                                                        ("prefLabel", "远程医疗", "zh")], add=[])  # fmt: skip
    with pytest.raises(InvalidChangeError, match="exists already"):
        new_concept(store, LAYOUT, iri, LCSH, [("Telehealth", "en")])
    other = MINTER.from_key("concept", f"{LCSH}|Other")
    with pytest.raises(InvalidChangeError) as refused:
        new_concept(store, LAYOUT, other, LCSH, [("A", "en"), ("B", "en"), ("C", "english")])
    assert any("2 preferred labels" in p for p in refused.value.problems)
    assert any("not a language tag" in p for p in refused.value.problems)


def test_labels_and_notes_change_and_the_change_outlives_reingest(tmp_path: Path, records) -> None:
    _write(tmp_path, records)
    store = _store(tmp_path)
    target = _two_used_concepts(store)[0]
    change = edit_literals(store, LAYOUT, target, remove=[], add=[
        ("prefLabel", "Preferred by a cataloger", "en"), ("altLabel", "另一个名字", "zh"),
        ("hiddenLabel", "misspeled", "en"), ("scopeNote", "Used for works about it.\nNot others.", "en"),
    ])  # fmt: skip
    del store
    _apply(tmp_path, change)
    _write(tmp_path, records)
    store = _store(tmp_path)
    literals = set(concept(store, target).literals)
    assert {("prefLabel", "Preferred by a cataloger", "en"), ("altLabel", "另一个名字", "zh"),
            ("hiddenLabel", "misspeled", "en")} <= literals  # fmt: skip
    # a second preferred label in English is refused; removing the first lets it in
    with pytest.raises(InvalidChangeError, match="preferred labels"):
        edit_literals(store, LAYOUT, target, remove=[], add=[("prefLabel", "Another", "en")])
    change = edit_literals(store, LAYOUT, target, remove=[("prefLabel", "Preferred by a cataloger", "en")],
                           add=[("prefLabel", "Another", "en")])  # fmt: skip
    assert len(change.add) == 1 and len(change.remove) == 1
    for bad, words in (
        (("prefLabel", "", "en"), "needs some text"),
        (("prefLabel", "two\nlines", "en"), "control characters"),
        (("prefLabel", "x", "en us"), "not a language tag"),
        (("nonsense", "x", "en"), "unknown kind"),
    ):
        with pytest.raises(InvalidChangeError, match=words):
            edit_literals(store, LAYOUT, target, remove=[], add=[bad])
    with pytest.raises(InvalidChangeError, match="not on this concept"):
        edit_literals(store, LAYOUT, target, remove=[("altLabel", "never there", "en")], add=[])
    with pytest.raises(InvalidChangeError, match="not a concept"):
        edit_literals(store, LAYOUT, "http://127.0.0.1:5000/concept/none", remove=[], add=[])


def test_links_are_written_both_ways_and_loops_are_refused(tmp_path: Path, records) -> None:
    _write(tmp_path, records)
    store = _store(tmp_path)
    a, b = _two_used_concepts(store)
    change = edit_relations(store, LAYOUT, a, remove=[], add=[("narrower", b)])
    del store
    _apply(tmp_path, change)
    store = _store(tmp_path)
    assert ("narrower", b) in concept(store, a).relations and ("broader", a) in concept(store, b).relations
    with pytest.raises(InvalidChangeError, match="loop"):
        edit_relations(store, LAYOUT, a, remove=[], add=[("broader", b)])
    with pytest.raises(InvalidChangeError, match="itself"):
        edit_relations(store, LAYOUT, a, remove=[], add=[("related", a)])
    with pytest.raises(InvalidChangeError, match="not an http"):
        edit_relations(store, LAYOUT, a, remove=[], add=[("related", "javascript:alert(1)")])
    with pytest.raises(InvalidChangeError, match="not a concept"):
        edit_relations(store, LAYOUT, a, remove=[], add=[("related", "http://example.org/nothing")])
    change = edit_relations(store, LAYOUT, a, remove=[("narrower", b)], add=[])
    assert len(change.remove) == 2
    del store
    _apply(tmp_path, change)
    assert ("broader", a) not in concept(_store(tmp_path), b).relations


def test_a_merge_moves_every_reference_and_survives_reingest(tmp_path: Path, records) -> None:
    _write(tmp_path, records)
    store = _store(tmp_path)
    survivor, merged = _two_used_concepts(store)
    works_of_merged = _subjects(store, merged)
    works_of_survivor = _subjects(store, survivor)
    assert works_of_merged and works_of_merged - works_of_survivor
    plan = merge(store, LAYOUT, merged, survivor)
    assert plan.total == len(references(store, merged, LAYOUT))
    assert dict((p, u) for p, u, _r in plan.moved)["bf:subject"] == len(works_of_merged)
    assert plan.in_record_graphs == 0  # MARC files subjects in the Work's unit graph
    merged_labels = [v for _k, v, _l in concept(store, merged).literals] + [h for h, _l in concept(store, merged).headings]
    del store
    _apply(tmp_path, plan.change)
    for round_ in ("after the merge", "after re-ingest"):
        store = _store(tmp_path)
        assert _subjects(store, merged) == set(), round_
        assert _subjects(store, survivor) == works_of_merged | works_of_survivor, round_
        gone = concept(store, merged)
        assert gone.deprecated and gone.replaced_by == survivor, round_
        assert gone.headings  # it keeps its labels: its IRI still resolves with a name
        alternates = {text for kind, text, _l in concept(store, survivor).literals if kind == "altLabel"}
        assert set(merged_labels) <= alternates, round_
        del store
        _write(tmp_path, records)
    store = _store(tmp_path)
    with pytest.raises(InvalidChangeError, match="merged already"):
        merge(store, LAYOUT, merged, survivor)
    with pytest.raises(InvalidChangeError, match="deprecated"):
        merge(store, LAYOUT, survivor, merged)
    with pytest.raises(InvalidChangeError, match="itself"):
        merge(store, LAYOUT, survivor, survivor)


def test_a_split_moves_the_chosen_labels_and_references(tmp_path: Path, records) -> None:
    _write(tmp_path, records)
    store = _store(tmp_path)
    source = _two_used_concepts(store)[0]
    works = sorted(_subjects(store, source))
    assert len(works) >= 2
    setup = edit_literals(store, LAYOUT, source, remove=[], add=[("altLabel", "Split-off sense", "en")])
    del store
    _apply(tmp_path, setup)
    store = _store(tmp_path)
    iri = MINTER.from_key("concept", f"{LCSH}|New sense")
    change = split(store, LAYOUT, source, iri, [("New sense", "en")],
                   [("altLabel", "Split-off sense", "en")], [works[0]])  # fmt: skip
    del store
    _apply(tmp_path, change)
    _write(tmp_path, records)
    store = _store(tmp_path)
    assert _subjects(store, iri.value) == {works[0]}
    assert works[0] not in _subjects(store, source) and works[1] in _subjects(store, source)
    assert ("altLabel", "Split-off sense", "en") in concept(store, iri.value).literals
    assert ("altLabel", "Split-off sense", "en") not in concept(store, source).literals
    assert concept(store, iri.value).schemes == concept(store, source).schemes
    with pytest.raises(InvalidChangeError, match="does not refer"):
        split(store, LAYOUT, source, MINTER.from_key("concept", "x"), [("X", "en")], [], [works[0]])


def test_a_skos_slice_is_previewed_then_imported_as_one_changeset(tmp_path: Path, records) -> None:
    _write(tmp_path, records)
    store = _store(tmp_path)
    triples = read_skos(SLICE.read_bytes(), RdfFormat.TURTLE)
    plan = plan_import(store, LAYOUT, triples, MESH)
    assert len(plan.new_concepts) == plan.concepts_in_file == 7
    assert len(plan.new_relations) == 5 and plan.conflicts == [] and plan.changed_labels == []
    before = len(list(store.quads_for_pattern(None, None, None, None)))
    assert len(list(_store(tmp_path).quads_for_pattern(None, None, None, None))) == before  # a preview writes nothing
    del store
    _apply(tmp_path, plan.change)
    store = _store(tmp_path)
    breast = "http://id.nlm.nih.gov/mesh/D001943"
    assert ("prefLabel", "乳腺肿瘤", "zh") in concept(store, breast).literals
    assert ("broader", "http://id.nlm.nih.gov/mesh/D009371") in concept(store, breast).relations
    assert ("narrower", breast) in concept(store, "http://id.nlm.nih.gov/mesh/D009371").relations
    changesets = {q.subject for q in store.quads_for_pattern(None, RDF.type, CG.Changeset, None)}
    assert len(changesets) == 1
    # the same file again changes nothing; a revised one is reported before it changes anything
    assert plan_import(store, LAYOUT, triples, MESH).empty
    revised = SLICE.read_text(encoding="utf-8").replace('"Humans"@en', '"Human beings"@en').replace(
        '"Neoplasms by Site"@en ,', '"Neoplasms by Site"@en , "Site neoplasms"@en ,'
    ) + (
        "<http://id.nlm.nih.gov/mesh/D009369> skos:broader <http://id.nlm.nih.gov/mesh/D001943> .\n"
        "<http://id.nlm.nih.gov/mesh/D006801> skos:related <http://example.org/unknown> .\n"
        "<javascript:alert(1)> a skos:Concept ; skos:prefLabel \"x\"@en .\n"
    )
    plan = plan_import(store, LAYOUT, read_skos(revised.encode(), RdfFormat.TURTLE), MESH)
    assert plan.new_concepts == []
    assert plan.changed_labels == [("http://id.nlm.nih.gov/mesh/D006801", "en", "Humans", "Human beings")]
    assert any("D009371> has several preferred labels" in c for c in plan.conflicts)
    assert any("broader loop" in c for c in plan.conflicts)
    assert any("neither the file nor the graph" in c for c in plan.conflicts)
    assert any("<javascript:alert(1)> is not an http(s) IRI" in c for c in plan.conflicts)
    del store
    _apply(tmp_path, plan.change)
    store = _store(tmp_path)
    humans = concept(store, "http://id.nlm.nih.gov/mesh/D006801").literals
    assert ("prefLabel", "Human beings", "en") in humans and ("altLabel", "Humans", "en") in humans


def test_unsafe_or_oversized_files_are_refused() -> None:
    entity = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    )
    with pytest.raises(UsageError, match="DOCTYPE"):
        read_skos(entity, RdfFormat.RDF_XML)
    with pytest.raises(UsageError, match="not valid"):
        read_skos(b"<http://x.org/a> <http://x.org/b> .", RdfFormat.TURTLE)


def test_merge_refuses_what_is_not_a_concept(tmp_path: Path, records) -> None:
    _write(tmp_path, records)
    store = _store(tmp_path)
    work = next(q.subject.value for q in store.quads_for_pattern(None, RDF.type, BF.Work, None))
    concept_iri = _two_used_concepts(store)[0]
    with pytest.raises(InvalidChangeError, match="not a concept"):
        merge(store, LAYOUT, work, concept_iri)


def test_a_reference_in_a_record_graph_moves_but_its_source_record_wins_on_reingest(
    tmp_path: Path, records
) -> None:
    """No mapping states a concept from a record's own graph today; this one is made so.

    The merge moves it like any other (counted apart in the plan); the record
    graph is then marked edited, so re-ingesting its source record states it
    again of the merged concept, which resolves to the survivor.
    """
    _write(tmp_path, records)
    store = _store(tmp_path)
    survivor, merged = _two_used_concepts(store)
    del store
    first = records[0]
    local = f"<{first.graph}#vocabulary-test> <{BF.subject.value}> <{merged}> <{first.graph}> .\n".encode()
    crafted = dataclasses.replace(first, nquads=first.nquads + local, quad_count=first.quad_count + 1,
                                  content_hash=first.content_hash[:-4] + "beef")  # fmt: skip
    batch = [crafted, *records[1:]]
    _write(tmp_path, batch)
    store = _store(tmp_path)
    plan = merge(store, LAYOUT, merged, survivor)
    assert plan.in_record_graphs == 1
    del store
    _apply(tmp_path, plan.change)
    node = NamedNode(f"{first.graph}#vocabulary-test")
    store = _store(tmp_path)
    assert {q.object.value for q in store.quads_for_pattern(node, BF.subject, None, None)} == {survivor}
    del store
    _write(tmp_path, batch)  # the source record wins inside its own graph
    store = _store(tmp_path)
    assert {q.object.value for q in store.quads_for_pattern(node, BF.subject, None, None)} == {merged}
    assert concept(store, merged).replaced_by == survivor  # which still leads to the survivor
    assert _subjects(store, merged) == {node.value}  # the works' subjects, in unit graphs, stay moved
