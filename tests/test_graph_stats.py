"""Counting what a store holds (``graph.stats``) by the ontology's class hierarchy.

The constant-memory count is checked against plain set counts, with the
subclass closure computed independently by rdflib from ``catalograph.ttl``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from pyoxigraph import DefaultGraph, NamedNode, Quad, Store, Triple

from graph import Writer, open_latest_snapshot
from graph.stats import Figures, count
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import SourceRecord
from ingest.quads import GraphBuilder
from ingest.sources import get_source
from ontology.hierarchy import ClassHierarchy, class_hierarchy
from ontology.namespaces import BF, CG, RDF, RDFS, SKOS
from ontology.records import Position, RecordGraph
from ontology.vocabulary import ontology_path, ontology_triples
from tests.conftest import BASE, test_path

MINTER = IriMinter(BASE)
ZINE = NamedNode("http://example.org/terms#Zine")


def write(tmp_path: Path, graphs: list[RecordGraph]) -> Store:
    with Writer(tmp_path, MINTER.layout, "test") as writer:
        writer.write(graphs)
    return open_latest_snapshot(tmp_path)


def hand_made(typings: list[list[tuple[NamedNode, tuple[NamedNode, ...]]]]) -> list[RecordGraph]:
    """One record graph per list of ``(resource, classes)``."""
    graphs = []
    for n, typed in enumerate(typings, start=1):
        builder = GraphBuilder(MINTER.graph("test", str(n)), MINTER.layout)
        for resource, classes in typed:
            builder.type(resource, *classes)
        graphs.append(builder.to_record_graph(Position("hand-made", n)))
    return graphs


def iri(path: str) -> NamedNode:
    return NamedNode(BASE + path)


# ------------------------------------------------------------------ counting


def test_a_resource_counts_once_per_class_and_group(tmp_path: Path) -> None:
    work, person = iri("work/shared"), iri("agent/austen")
    graphs = hand_made(
        [
            [
                (iri(f"instance/{n}"), (BF.Instance, BF.Print)),  # two classes, one instance
                (work, (BF.Work, BF.Text)),  # the same work stated in both graphs
                (person, (BF.Agent, BF.Person)),
                (iri(f"agent/org{n}"), (BF.Organization,)),  # only the subclass
                (iri(f"concept/c{n}"), (SKOS.Concept,)),
                (iri("place/p"), (BF.Place,)),
            ]
            for n in (1, 2)
        ]
    )
    figures = count(write(tmp_path, graphs))
    assert figures.groups == {
        "works": 1, "instances": 2, "agents": 3, "concepts": 2, "places": 1, "events": 0,
        "identifiers": 0,
    }  # fmt: skip
    assert figures.by_class() == {
        "bf:Agent": 3, "bf:Instance": 2, "bf:Organization": 2, "bf:Print": 2,
        "cg:RecordGraph": 2, "skos:Concept": 2, "bf:Person": 1, "bf:Place": 1, "bf:Text": 1,
        "bf:Work": 1,
    }  # fmt: skip
    # the records state only unit statements: nine unit graphs and the metadata graph
    assert figures.record_graphs == 2 and figures.named_graphs == 10
    assert figures.entities == 9 + 2  # the resources, and the two record graphs


def test_a_subclass_counts_in_its_superclasss_group(tmp_path: Path) -> None:
    """A manuscript is a work (not an instance), and so is a class the ontology gains later."""
    graphs = hand_made(
        [[(iri("work/letters"), (BF.Manuscript,)), (iri("work/zine"), (ZINE,))]]
    )
    store = write(tmp_path, graphs)
    shipped = count(store)
    assert shipped.groups["works"] == 1 and shipped.groups["instances"] == 0
    assert shipped.classes[BF.Work.value] == 1  # the partition of bf:Work includes it
    assert shipped.classes[ZINE.value] == 1  # a class the ontology does not know counts alone
    grown = ClassHierarchy.from_triples(
        [*ontology_triples(), Triple(ZINE, RDFS.subClassOf, BF.Work)]
    )
    assert count(store, grown).groups["works"] == 2


def test_a_type_in_the_default_graph_and_a_record_graph_counts_once(tmp_path: Path) -> None:
    """SPARQL Update can state in the default graph what a record graph states too."""
    store = Store(str(tmp_path / "store"))
    work, other = iri("work/1"), iri("work/2")
    record = iri("graph/marc/1")
    store.extend(
        [
            Quad(work, RDF.type, BF.Work, DefaultGraph()),
            Quad(work, RDF.type, BF.Work, record),
            Quad(work, RDF.type, BF.Text, record),
            Quad(other, RDF.type, BF.Text, DefaultGraph()),
            Quad(other, RDF.type, BF.Work, record),
        ]
    )
    figures = count(store)
    assert figures.groups["works"] == 2 and figures.entities == 2
    assert figures.classes == {BF.Work.value: 2, BF.Text.value: 2}


# ------------------------------------------------------------------ against set counts


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = test_path("marc/pymarc/marc.dat")
    records = [r for r in get_source("marc").read(path) if isinstance(r, SourceRecord)]
    graphs = [map_record(r, MINTER) for r in records]
    assert len(graphs) == 20 and all(isinstance(g, RecordGraph) for g in graphs)
    return write(tmp_path_factory.mktemp("stats"), graphs)


def set_counts(store: Store) -> tuple[dict[str, int], int]:
    """Per class with its subclasses (rdflib's closure), distinct subjects; and typed subjects."""
    ontology = rdflib.Graph().parse(ontology_path(), format="turtle")
    by_class: dict[str, set] = {}
    for quad in store.quads_for_pattern(None, RDF.type, None, None):
        by_class.setdefault(quad.object.value, set()).add(quad.subject)
    wanted = set(by_class) | {unit.value for unit in class_hierarchy().units}
    closed = {}
    for cls in wanted:
        kinds = {str(c) for c in ontology.transitive_subjects(rdflib.RDFS.subClassOf, rdflib.URIRef(cls))}
        members = set().union(*(by_class.get(kind, set()) for kind in kinds | {cls}))
        if members:
            closed[cls] = len(members)
    return closed, len(set().union(*by_class.values()))


def test_counts_agree_with_set_counts_on_real_records(real_store: Store) -> None:
    """The constant-memory count relies on Oxigraph returning one subject's quads together."""
    figures: Figures = count(real_store)
    classes, entities = set_counts(real_store)
    assert figures.classes == classes
    assert figures.entities == entities
    assert figures.groups["instances"] == classes[BF.Instance.value] >= 20
    assert figures.record_graphs == classes[CG.RecordGraph.value] == 20
    assert figures.quads == len(real_store)
