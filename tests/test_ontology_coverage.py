"""The ontology describes what the data uses, and the data keeps what the ontology says.

A real store is built from the shipped sample (``data/``) by ``catalograph
ingest``; every distinct predicate and every ``rdf:type`` object in any of its
graphs must be declared in ``catalograph.ttl`` with a label and a definition
in English and in Chinese. The domains and ranges the ontology states must
hold for the typed nodes of that store, and the store must conform to the
shapes (checked the way ``catalograph ontology validate --data`` checks a
store: bounded slices of focus nodes per class).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Store

from graph import open_latest_snapshot
from graph.ontology_graph import ontology_graph_triples
from graph.shape_sample import focus_nodes, shape_slices, shape_target_classes
from ontology.hierarchy import class_hierarchy
from ontology.integrity import check_ontology, term_gaps
from ontology.layout import Layout
from ontology.namespaces import BF, CG, RDF, RDFS, SKOS, compact
from ontology.validation import ValidationTally, validate
from ontology.vocabulary import ontology_triples
from tests.test_cli_ingest import catalograph

# the data's graphs: not the store's copy of the ontology itself (graph.ontology_graph), whose
# statements are about terms (owl:Class, rdfs:subClassOf...), not the catalogue
_DATA = 'FILTER(!STRENDS(STR(?g), "/graph/ontology"))'
_PREDICATES = "SELECT DISTINCT ?p WHERE { GRAPH ?g { ?s ?p ?o } " + _DATA + " }"
_TYPES = "SELECT DISTINCT ?t WHERE { GRAPH ?g { ?s a ?t } " + _DATA + " }"


@pytest.fixture(scope="module")
def sample_dir(sample_copy: Path) -> Path:
    return sample_copy


@pytest.fixture(scope="module")
def sample(sample_dir: Path) -> Store:
    return open_latest_snapshot(sample_dir)


def used_terms(store: Store) -> set[str]:
    """Every distinct predicate and class (``rdf:type`` object) in any graph of ``store``."""
    found = {row["p"].value for row in store.query(_PREDICATES)}
    found |= {row["t"].value for row in store.query(_TYPES) if isinstance(row["t"], NamedNode)}
    return found


def test_the_scan_finds_the_terms_of_every_layer(sample: Store) -> None:
    """Guards the test below against a scan that finds little: record graphs, units,
    provenance and the derived associations are all read."""
    used = used_terms(sample)
    assert len(used) > 100
    expected = {
        BF.instanceOf, BF.Work, BF.Person, SKOS.Concept, RDFS.label,  # records and units
        CG.WorkLink, CG.RecordGraph, CG.sourceFile,  # links and provenance
        CG.Association, CG.score,  # the derived graph
    }  # fmt: skip
    assert {term.value for term in expected} <= used


def test_every_term_the_sample_uses_is_declared_labelled_and_defined_in_two_languages(
    sample: Store,
) -> None:
    gaps = term_gaps(sorted(used_terms(sample)))
    readable = {compact(iri): missing for iri, missing in gaps.items()}
    assert not readable, f"describe these terms in ontology/catalograph.ttl: {readable}"


def test_every_cg_term_is_labelled_and_defined_in_two_languages() -> None:
    own = [
        t.subject.value
        for t in ontology_triples()
        if t.predicate == RDF.type and isinstance(t.subject, NamedNode) and t.subject.value.startswith(str(CG))
    ]
    assert len(own) > 50
    assert term_gaps(own) == {}


def test_an_undeclared_term_is_reported_and_a_described_one_is_not() -> None:
    gaps = term_gaps(["http://example.org/v#madeUp", BF.Hub.value])
    assert gaps == {
        "http://example.org/v#madeUp": [
            "declaration", "label@en", "label@zh", "definition@en", "definition@zh",
        ]
    }  # fmt: skip


def test_the_ontology_is_well_formed() -> None:
    check = check_ontology()
    assert check.ok, check.text()
    assert check.terms > 400


def _typed(store: Store, node: object) -> set[NamedNode]:
    return {q.object for q in store.quads_for_pattern(node, RDF.type, None, None)}


def test_stated_domains_and_ranges_hold_for_the_typed_nodes_of_the_sample(sample: Store) -> None:
    hierarchy = class_hierarchy()
    checked = 0
    wrong: list[str] = []
    for t in ontology_triples():
        if t.predicate not in (RDFS.domain, RDFS.range) or not isinstance(t.object, NamedNode):
            continue
        allowed = {t.object, *hierarchy.descendants(t.object)}
        data = (q for q in sample.quads_for_pattern(None, t.subject, None, None)
                if not q.graph_name.value.endswith("/graph/ontology"))  # fmt: skip
        for count, quad in enumerate(data):
            if count == 2000:
                break  # enough of each property to see whether the statement holds
            node = quad.subject if t.predicate == RDFS.domain else quad.object
            types = _typed(sample, node) if isinstance(node, NamedNode) else set()
            if not types:
                continue  # an untyped node (a code-list IRI): the statement types it, nothing breaks
            checked += 1
            if not types & allowed:
                wrong.append(f"{compact(t.subject.value)} {compact(t.predicate.value)}: {node} is {types}")
    assert checked > 1000
    assert not wrong[:20]


def test_the_sample_conforms_to_the_shapes_in_bounded_slices(sample: Store) -> None:
    tally = ValidationTally()
    chunks = 0
    for piece in shape_slices(sample, limit=40, chunk=40):
        chunks += 1
        assert len(piece.focus) <= 40
        tally.add(piece.target.value, len(piece.focus), validate(piece.ntriples), piece.complete)
    assert tally.conforms, tally.text()
    # every class the shapes target that the sample holds was checked, at most 40 of each
    held = [c for c in shape_target_classes() if next(focus_nodes(sample, c, 1), None) is not None]
    assert {c.value for c in held} <= set(tally.checked)
    assert all(0 < n <= 40 for n in tally.checked.values())
    assert chunks >= len(held)
    for unit in (BF.Instance, BF.Work, BF.Agent, SKOS.Concept, BF.Identifier, BF.Place):
        assert tally.checked[unit.value] == 40, unit


def test_the_ingest_seeded_the_ontology_graph_with_every_shipped_statement(sample: Store) -> None:
    graph = NamedNode("http://127.0.0.1:5000/graph/ontology")
    held = {str(t) for t in ontology_graph_triples(sample, Layout("http://127.0.0.1:5000/"))}
    assert held == {str(t) for t in ontology_triples()}
    assert next(sample.quads_for_pattern(None, None, None, graph), None) is not None


def test_cli_validate_passes_on_the_sample(sample_dir: Path) -> None:
    done = catalograph(sample_dir, "ontology", "validate", "--data", "--limit", "20")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "conforms: True; 0 violations" in done.stdout
    assert "bf:Instance: 20" in done.stdout
