"""The class hierarchy read from ``catalograph.ttl`` (``ontology.hierarchy``)."""

from __future__ import annotations

from pyoxigraph import NamedNode, Triple

from ontology.hierarchy import ClassHierarchy, class_hierarchy
from ontology.namespaces import BF, CG, DCMITYPE, RDFS, SDO, SKOS


def test_the_kinds_of_unit_are_the_ontologys() -> None:
    hierarchy = class_hierarchy()
    assert hierarchy.units == (
        BF.Work, BF.Instance, BF.Agent, SKOS.Concept, BF.Place, BF.Event, BF.Identifier,
    )  # fmt: skip
    # BIBFRAME 2.2, then the alignments to schema.org and DCMI types (nearest first)
    assert hierarchy.ancestors(BF.Manuscript) == (BF.Work, CG.KnowledgeUnit, SDO.CreativeWork)
    assert hierarchy.ancestors(BF.Print) == (BF.Instance, CG.KnowledgeUnit, SDO.CreativeWork)
    assert hierarchy.ancestors(BF.MusicAudio) == (
        BF.Audio, BF.Work, DCMITYPE.Sound, CG.KnowledgeUnit, SDO.CreativeWork,
    )  # fmt: skip
    assert not set(hierarchy.ancestors(BF.Title)) & set(hierarchy.units)
    assert BF.Manuscript in hierarchy.descendants(BF.Work)
    assert BF.Manuscript not in hierarchy.descendants(BF.Instance)


def test_a_cycle_in_the_hierarchy_ends_the_walk() -> None:
    a, b = NamedNode("http://example.org/A"), NamedNode("http://example.org/B")
    looped = ClassHierarchy.from_triples([Triple(a, RDFS.subClassOf, b), Triple(b, RDFS.subClassOf, a)])
    assert looped.ancestors(a) == (b,) and looped.descendants(a) == (b,)
