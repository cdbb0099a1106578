"""A VoID description of the dataset, counted with SPARQL over what queries see.

Every figure is the answer to one of the queries below, run over the default
graph of the endpoint (the union of all graphs), so a researcher can check any
of them with the same query at ``/sparql``:

- ``void:triples``: ``SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }`` (the sum of
  the property partitions: quads, as the union keeps a triple stated in two
  record graphs twice);
- ``void:entities``: distinct resources that have a class;
- ``void:classPartition`` / ``void:propertyPartition``: per class, distinct
  subjects; per property, triples;
- ``void:documents``: named graphs (each dereferenceable at ``/graph/...``),
  with a subset for the record graphs (one per source record).

A full count scans the store, so the web layer computes it once per
checkpoint and caches it (docs/web.md has the measured cost).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pyoxigraph import Literal, NamedNode, Store, Triple, Variable

from ontology.namespaces import BF, CG, DCT, PREFIXES, RDF, RDFS, SKOS, VOID, XSD

TRIPLES_BY_PROPERTY = (
    "SELECT ?property (COUNT(*) AS ?triples) WHERE { ?s ?property ?o } GROUP BY ?property"
)
ENTITIES_BY_CLASS = (
    "SELECT ?class (COUNT(DISTINCT ?s) AS ?entities) WHERE { ?s a ?class } GROUP BY ?class"
)
#: Distinct resources that have a class. Not filtered with ``isIRI``, which makes it
#: ten times slower: the mapper names every node with an IRI.
ENTITIES = "SELECT (COUNT(DISTINCT ?s) AS ?entities) WHERE { ?s a ?class }"
NAMED_GRAPHS = "SELECT (COUNT(*) AS ?graphs) WHERE { GRAPH ?g { } }"
#: Run once per class of ``EXAMPLE_CLASSES``, with ``?class`` bound.
EXAMPLE = "SELECT ?class ?resource WHERE { ?resource a ?class } LIMIT 1"
EXAMPLE_CLASSES = (BF.Work, BF.Instance, BF.Agent, SKOS.Concept, BF.Place)


@dataclass(frozen=True, slots=True)
class Statistics:
    """The counts of one checkpoint."""

    triples: int
    entities: int
    named_graphs: int
    classes: dict[str, int] = field(default_factory=dict)
    properties: dict[str, int] = field(default_factory=dict)
    examples: tuple[str, ...] = ()

    @property
    def record_graphs(self) -> int:
        return self.classes.get(CG.RecordGraph.value, 0)

    @property
    def vocabularies(self) -> list[str]:
        """The namespace of every class and property used, sorted."""
        return sorted({namespace_of(iri) for iri in (*self.classes, *self.properties)})


def namespace_of(iri: str) -> str:
    """A known prefix's namespace, else the IRI up to its last ``#`` or ``/``.

    >>> namespace_of("http://id.loc.gov/ontologies/bibframe/Work")
    'http://id.loc.gov/ontologies/bibframe/'
    >>> namespace_of("http://example.org/terms#thing")
    'http://example.org/terms#'
    """
    for namespace in PREFIXES.values():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return namespace
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1] if cut > 0 else iri


def _rows(store: Store, query: str, **options: object) -> list:
    return list(store.query(query, use_default_graph_as_union=True, **options))


def _int(term: object) -> int:
    return int(term.value) if isinstance(term, Literal) else 0


def statistics(store: Store) -> Statistics:
    """Count everything VoID states about ``store``."""
    properties = {
        row["property"].value: _int(row["triples"])
        for row in _rows(store, TRIPLES_BY_PROPERTY)
        if isinstance(row["property"], NamedNode)
    }
    classes = {
        row["class"].value: _int(row["entities"])
        for row in _rows(store, ENTITIES_BY_CLASS)
        if isinstance(row["class"], NamedNode)
    }
    examples = []
    for cls in EXAMPLE_CLASSES:
        if cls.value in classes:
            found = _rows(store, EXAMPLE, substitutions={Variable("class"): cls})
            if found and isinstance(found[0]["resource"], NamedNode):
                examples.append(found[0]["resource"].value)
    return Statistics(
        triples=sum(properties.values()),
        entities=_int(_rows(store, ENTITIES)[0]["entities"]),
        named_graphs=_int(_rows(store, NAMED_GRAPHS)[0]["graphs"]),
        classes=classes,
        properties=properties,
        examples=tuple(examples),
    )


def partition_iri(dataset: NamedNode, kind: str, iri: str) -> NamedNode:
    """A stable name for the partition of one class or property (the same in every answer).

    >>> partition_iri(NamedNode("http://x/void#dataset"), "class", str(BF) + "Work").value
    'http://x/void#class-bf-Work'
    """
    for prefix, namespace in PREFIXES.items():
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and re.fullmatch(r"[\w.-]+", local):
            return NamedNode(f"{dataset.value.partition('#')[0]}#{kind}-{prefix}-{local}")
    digest = hashlib.sha256(iri.encode("utf-8")).hexdigest()[:16]
    return NamedNode(f"{dataset.value.partition('#')[0]}#{kind}-{digest}")


def _count(value: int) -> Literal:
    return Literal(str(value), datatype=XSD.integer)


def void_triples(
    stats: Statistics,
    *,
    dataset: NamedNode,
    base_iri: str,
    sparql_endpoint: str,
    formats: Iterable[str] = (),
    modified: datetime | None = None,
) -> list[Triple]:
    """The VoID description of the dataset ``dataset`` (its IRI) as triples."""
    record_graphs = NamedNode(dataset.value.partition("#")[0] + "#record-graphs")
    triples = [
        Triple(dataset, RDF.type, VOID.Dataset),
        Triple(dataset, DCT.title, Literal("Catalograph")),
        Triple(
            dataset,
            DCT.description,
            Literal(
                "Library catalogue records as a knowledge graph (BIBFRAME 2, SKOS, MADS/RDF, "
                "PROV): one named graph per source record; queries see their union."
            ),
        ),
        Triple(dataset, VOID.sparqlEndpoint, NamedNode(sparql_endpoint)),
        Triple(dataset, VOID.uriSpace, Literal(base_iri)),
        Triple(dataset, VOID.triples, _count(stats.triples)),
        Triple(dataset, VOID.entities, _count(stats.entities)),
        Triple(dataset, VOID.classes, _count(len(stats.classes))),
        Triple(dataset, VOID.properties, _count(len(stats.properties))),
        Triple(dataset, VOID.documents, _count(stats.named_graphs)),
        Triple(dataset, VOID.subset, record_graphs),
        Triple(record_graphs, RDF.type, VOID.Dataset),
        Triple(record_graphs, DCT.title, Literal("record graphs")),
        Triple(
            record_graphs,
            RDFS.comment,
            Literal(
                "One named graph per source record, {base}graph/{source}/{id}; "
                "its provenance is in the metadata graph"
            ),
        ),
        Triple(record_graphs, VOID.documents, _count(stats.record_graphs)),
    ]
    if modified is not None:
        stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ")
        triples.append(Triple(dataset, DCT.modified, Literal(stamp, datatype=XSD.dateTime)))
    triples += [Triple(dataset, VOID.vocabulary, NamedNode(v)) for v in stats.vocabularies]
    triples += [Triple(dataset, VOID.exampleResource, NamedNode(e)) for e in stats.examples]
    triples += [Triple(dataset, VOID.feature, NamedNode(f)) for f in formats]
    for iri, count in sorted(stats.classes.items()):
        partition = partition_iri(dataset, "class", iri)
        triples += [
            Triple(dataset, VOID.classPartition, partition),
            Triple(partition, VOID["class"], NamedNode(iri)),
            Triple(partition, VOID.entities, _count(count)),
        ]
    for iri, count in sorted(stats.properties.items()):
        partition = partition_iri(dataset, "property", iri)
        triples += [
            Triple(dataset, VOID.propertyPartition, partition),
            Triple(partition, VOID.property, NamedNode(iri)),
            Triple(partition, VOID.triples, _count(count)),
        ]
    return triples
