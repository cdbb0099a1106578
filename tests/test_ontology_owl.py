"""The ontology as OWL: owlready2 loads it, and HermiT finds it consistent (where Java is).

The reasoner runs here and in ``catalograph ontology validate --reason``, never
on a request path. A contradiction added on purpose must be found, so the
consistency test can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Triple

from ontology.namespaces import BF, CG, OWL, RDF
from ontology.owl_model import check_consistency, java_path, load_owl_model, owl_triples

owlready2 = pytest.importorskip(
    "owlready2", reason="owlready2 is the optional [ontology] extra: pip install '.[ontology]'"
)
needs_java = pytest.mark.skipif(
    java_path() is None, reason="the HermiT reasoner runs on Java, and no 'java' is on the PATH"
)


def test_owlready2_loads_every_declared_class_and_property(tmp_path: Path) -> None:
    world, ontology = load_owl_model(tmp_path)
    classes = {c.iri for c in ontology.classes()}
    assert {BF.Work.value, BF.Instance.value, CG.KnowledgeUnit.value, CG.WorkLink.value} <= classes
    assert world[CG.linkedWork.value] in set(ontology.object_properties())
    assert world[CG.matchKey.value] in set(ontology.data_properties())
    assert world[CG.KnowledgeUnit.value] in world[BF.Work.value].is_a
    assert world["http://schema.org/CreativeWork"] in world[BF.Work.value].is_a  # an alignment
    assert world[CG.Pending.value] in set(world[CG.ReviewStatus.value].instances())


def test_the_owl_model_leaves_out_only_redeclared_built_ins() -> None:
    from ontology.vocabulary import ontology_triples

    left_out = set(ontology_triples()) - set(owl_triples())
    assert left_out and all(t.predicate == RDF.type for t in left_out)
    assert {t.subject.value.split("#")[0] for t in left_out} <= {
        "http://www.w3.org/1999/02/22-rdf-syntax-ns",
        "http://www.w3.org/2000/01/rdf-schema",
        "http://www.w3.org/2002/07/owl",
    }


@needs_java
def test_hermit_finds_the_ontology_consistent() -> None:
    result = check_consistency()
    assert result.consistent, result
    assert result.unsatisfiable == ()


@needs_java
def test_hermit_finds_a_contradiction_added_on_purpose() -> None:
    # review statuses and clustering reasons made disjoint, then one individual made both
    contradiction = [
        Triple(CG.ReviewStatus, OWL.disjointWith, CG.ClusteringReason),
        Triple(CG.Pending, RDF.type, CG.ClusteringReason),
    ]
    assert not check_consistency(contradiction).consistent


@needs_java
def test_hermit_finds_an_unsatisfiable_class() -> None:
    impossible = NamedNode("https://w3id.org/catalograph/ontology#Impossible")
    extra = [
        Triple(impossible, RDF.type, OWL.Class),
        Triple(impossible, NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"), BF.Work),
        Triple(impossible, NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"), CG.WorkLink),
        Triple(BF.Work, OWL.disjointWith, CG.WorkLink),
    ]
    result = check_consistency(extra)
    assert not result.consistent
    assert impossible.value in result.unsatisfiable
