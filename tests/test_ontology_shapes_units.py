"""Each kind of knowledge unit has a shape, and each shape catches a broken unit.

Small graphs written here (the way the mapper writes units) are validated by
``ontology.validation.validate``; a store on disk is then cut into slices by
``graph.shape_sample`` to show that a result about a node seen only at the
edge of a slice is not counted, and that a broken unit in a real store is.
"""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import Quad, RdfFormat, Store, parse, serialize

from graph.shape_sample import shape_slices
from ontology.namespaces import BF, CG, PROV, SDO
from ontology.validation import ValidationTally, validate

PREFIXES = """
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix bf: <http://id.loc.gov/ontologies/bibframe/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix schema: <http://schema.org/> .
@prefix cg: <https://w3id.org/catalograph/ontology#> .
@prefix ex: <http://example.org/> .
"""
EX = "http://example.org/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _report(turtle: str):
    triples = parse((PREFIXES + turtle).encode(), format=RdfFormat.TURTLE)
    return validate(serialize(triples, format=RdfFormat.N_TRIPLES))


def _violations(turtle: str) -> set[tuple[str, str | None, str | None]]:
    return {(r.focus_node, r.path, r.shape) for r in _report(turtle).violations}


def _shape(name: str) -> str:
    return "https://w3id.org/catalograph/shapes#" + name


def test_sound_units_of_every_kind_conform() -> None:
    report = _report("""
        ex:i a bf:Instance ; bf:instanceOf ex:w ; bf:title ex:t ; bf:provisionActivity ex:p .
        ex:t a bf:Title ; bf:mainTitle "Emma" .
        ex:w a bf:Work ; rdfs:label "Emma" ; bf:hasSeries ex:s ; bf:classification ex:c .
        ex:s a bf:Work , bf:Series ; rdfs:label "Penguin classics" .
        ex:c a bf:ClassificationLcc ; bf:classificationPortion "PR4034" .
        ex:p a bf:Publication ; bf:place ex:london ; bf:agent ex:penguin .
        ex:london a bf:Place ; rdfs:label "London" .
        ex:penguin a bf:Agent , bf:Organization ; rdfs:label "Penguin" .
        ex:austen a bf:Agent , bf:Person ; rdfs:label "Austen, Jane" ; schema:birthDate "1775" .
        ex:copy a bf:Item ; bf:itemOf ex:i ; bf:shelfMark ex:mark .
        ex:mark a bf:ShelfMarkLcc ; rdfs:label "PR4034 .E5" .
        ex:fair a bf:Event ; rdfs:label "Frankfurt Book Fair" .
        ex:change a cg:Changeset ; prov:wasAssociatedWith ex:cataloger ;
            prov:startedAtTime "2026-12-06T12:00:00Z"^^xsd:dateTime ; cg:addition ex:add-1 .
        ex:add-1 a rdf:Statement ; rdf:subject ex:w ; rdf:predicate rdfs:label ; rdf:object "Emma" .
    """)
    assert report.conforms, report.text()
    assert report.results == []


def test_an_agent_of_two_kinds_is_a_violation() -> None:
    found = _violations("""
        ex:a a bf:Agent , bf:Person , bf:Organization ; rdfs:label "Smith" .
        ex:b a bf:Family ; rdfs:label "Duff family" .
    """)
    assert found == {(EX + "a", TYPE, _shape("AgentKindShape"))}


def test_a_person_with_two_birth_dates_is_a_violation() -> None:
    found = _violations("""ex:a a bf:Person ; rdfs:label "Smith" ; schema:birthDate "1901", "1902" .""")
    assert found == {(EX + "a", SDO.birthDate.value, _shape("PersonShape"))}


def test_an_item_of_no_instance_is_a_violation_and_of_a_missing_one_a_warning() -> None:
    report = _report("""
        ex:lost a bf:Item .
        ex:early a bf:Item ; bf:itemOf ex:not-yet-ingested .
        ex:marked a bf:Item ; bf:itemOf ex:i ; bf:shelfMark ex:m .
        ex:i a bf:Instance ; bf:instanceOf ex:w ; bf:title ex:t .
        ex:t a bf:Title ; bf:mainTitle "Emma" .
        ex:w a bf:Work ; rdfs:label "Emma" .
        ex:m a bf:ShelfMarkLcc .
    """)
    assert {(r.focus_node, r.path) for r in report.violations} == {
        (EX + "lost", BF.itemOf.value),
        (EX + "m", LABEL),  # a shelf mark without its call number
    }
    assert {(r.focus_node, r.path) for r in report.warnings} == {(EX + "early", BF.itemOf.value)}


def test_a_series_that_is_not_a_series_unit_is_a_violation() -> None:
    found = _violations("""
        ex:w1 a bf:Work ; rdfs:label "A" ; bf:hasSeries ex:s1 .
        ex:s1 rdfs:label "Penguin classics" .
        ex:w2 a bf:Work ; rdfs:label "B" ; bf:hasSeries "Penguin classics" .
    """)
    assert {(focus, shape) for focus, _path, shape in found} == {
        (EX + "s1", _shape("SeriesShape")),
        ("Penguin classics", _shape("SeriesShape")),
    }


def test_places_events_and_classifications_need_their_words() -> None:
    found = _violations("""
        ex:p a bf:Place .
        ex:e a bf:Event .
        ex:c a bf:ClassificationDdc ; bf:source ex:ddc .
    """)
    assert found == {
        (EX + "p", LABEL, _shape("PlaceShape")),
        (EX + "e", None, _shape("EventShape")),
        (EX + "c", BF.classificationPortion.value, _shape("ClassificationShape")),
    }


def test_a_provision_with_its_place_as_text_is_a_violation() -> None:
    found = _violations("""ex:p a bf:Publication ; bf:place "London" .""")
    assert found == {(EX + "p", BF.place.value, _shape("ProvisionActivityShape"))}


def test_a_changeset_without_who_or_when_is_a_violation() -> None:
    found = _violations("""
        ex:c a cg:Changeset ; cg:addition ex:s .
        ex:s rdf:subject ex:w .
    """)
    assert found == {
        (EX + "c", PROV.wasAssociatedWith.value, _shape("ChangesetShape")),
        (EX + "c", PROV.startedAtTime.value, _shape("ChangesetShape")),
        (EX + "c", CG.addition.value, _shape("ChangesetShape")),
    }


def _store(tmp_path: Path, trig: str) -> Store:
    store = Store(str(tmp_path / "store"))
    store.extend(
        Quad(q.subject, q.predicate, q.object, q.graph_name)
        for q in parse((PREFIXES + trig).encode(), format=RdfFormat.TRIG)
    )
    store.flush()
    return store


def test_slices_count_only_what_they_hold_whole_and_find_a_broken_unit(tmp_path: Path) -> None:
    # ex:i (an instance) points to its work ex:w, whose contribution ex:c is at the slice's
    # edge (its types only, not its agent); ex:w2 really lacks its label.
    store = _store(tmp_path, """
        ex:g {
          ex:i a bf:Instance ; bf:instanceOf ex:w ; bf:title ex:t .
          ex:t a bf:Title ; bf:mainTitle "Emma" .
          ex:w a bf:Work ; rdfs:label "Emma" ; bf:contribution ex:c .
          ex:c a bf:Contribution ; bf:agent ex:a .
          ex:i2 a bf:Instance ; bf:instanceOf ex:w2 ; bf:title ex:t2 .
          ex:t2 a bf:Title ; bf:mainTitle "Persuasion" .
          ex:w2 a bf:Work .
        }
        ex:h { ex:a a bf:Agent , bf:Person ; rdfs:label "Austen, Jane" . }
    """)
    pieces = list(shape_slices(store, limit=1, chunk=1, classes=[BF.Instance]))
    assert len(pieces) == 1 and len(pieces[0].focus) == 1  # the limit holds
    tally = ValidationTally()
    for piece in shape_slices(store, limit=0, chunk=1, classes=[BF.Instance]):
        report = validate(piece.ntriples)
        tally.add(piece.target.value, len(piece.focus), report, piece.complete, piece.skipped)
        if piece.focus[0].value == EX + "i":
            # the contribution's agent is not in the slice: pyshacl complains, the tally does not count it
            assert any(r.focus_node == EX + "c" for r in report.violations)
            assert EX + "c" not in piece.complete and EX + "w" in piece.complete
    assert tally.checked == {BF.Instance.value: 2}
    assert tally.violation_count == 1
    assert [(r.focus_node, r.path) for r in tally.shown] == [(EX + "w2", LABEL)]
    assert "cgsh:WorkShape: 1 / 0" in tally.text()


def test_a_node_with_too_many_statements_is_skipped_not_loaded(tmp_path: Path) -> None:
    labels = " ; ".join(f'rdfs:label "name {n}"' for n in range(50))
    store = _store(tmp_path, f"ex:g {{ ex:a a bf:Agent ; {labels} . }}")
    [piece] = shape_slices(store, classes=[BF.Agent], max_statements_per_node=10)
    assert piece.skipped == 1 and piece.complete == frozenset()
    assert piece.ntriples == b""
