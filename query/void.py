"""A VoID description of the dataset.

The resource figures come from ``graph.stats``, the one module that counts
resources, so VoID says what ``catalograph stats``, the home page and
``/-/stats`` say: ``void:triples`` (quads, as ``SELECT (COUNT(*) AS ?n)
WHERE { ?s ?p ?o }`` counts them over the union), ``void:entities``
(distinct resources that have a class), ``void:documents`` (named graphs),
a subset for the record graphs, and one ``void:classPartition`` per class
the store states and per kind of knowledge unit, whose ``void:entities``
counts the resources of the class *or of its subclasses in the ontology*
(so the ``bf:Work`` partition is the home page's works, manuscripts
included). A researcher checks a partition at ``/sparql`` with
``SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { VALUES ?c { bf:Work bf:Text ... } ?s a ?c }``.

Counted here, with SPARQL, is only what nothing else shows: triples per
property (``void:propertyPartition``) and an example resource of each kind of
knowledge unit. Counting scans the store, so the web layer caches both.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pyoxigraph import Literal, NamedNode, Store, Triple, Variable

from graph.stats import Figures
from ontology.hierarchy import class_hierarchy
from ontology.namespaces import DCT, PREFIXES, RDF, RDFS, VOID, XSD

TRIPLES_BY_PROPERTY = (
    "SELECT ?property (COUNT(*) AS ?triples) WHERE { ?s ?property ?o } GROUP BY ?property"
)
#: Run once per kind of knowledge unit, with ``?class`` bound.
EXAMPLE = "SELECT ?class ?resource WHERE { ?resource a ?class } LIMIT 1"


@dataclass(frozen=True, slots=True)
class Usage:
    """What VoID says besides the resource figures: triples per property, example resources."""

    properties: dict[str, int] = field(default_factory=dict)
    examples: tuple[str, ...] = ()


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


def vocabularies(figures: Figures, usage: Usage) -> list[str]:
    """The namespace of every class and property used, sorted."""
    return sorted({namespace_of(iri) for iri in (*figures.classes, *usage.properties)})


def _rows(store: Store, query: str, **options: object) -> list:
    return list(store.query(query, use_default_graph_as_union=True, **options))


def _int(term: object) -> int:
    return int(term.value) if isinstance(term, Literal) else 0


def usage(store: Store) -> Usage:
    """Triples per property, and one resource of each kind of knowledge unit the store has."""
    properties = {
        row["property"].value: _int(row["triples"])
        for row in _rows(store, TRIPLES_BY_PROPERTY)
        if isinstance(row["property"], NamedNode)
    }
    examples = []
    for cls in class_hierarchy().units:
        found = _rows(store, EXAMPLE, substitutions={Variable("class"): cls})
        if found and isinstance(found[0]["resource"], NamedNode):
            examples.append(found[0]["resource"].value)
    return Usage(properties, tuple(examples))


def partition_iri(dataset: NamedNode, kind: str, iri: str) -> NamedNode:
    """A stable name for the partition of one class or property (the same in every answer).

    >>> bf_work = "http://id.loc.gov/ontologies/bibframe/Work"
    >>> partition_iri(NamedNode("http://x/void#dataset"), "class", bf_work).value
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
    figures: Figures,
    usage: Usage,
    *,
    dataset: NamedNode,
    base_iri: str,
    sparql_endpoint: str,
    formats: Iterable[str] = (),
    modified: datetime | None = None,
) -> list[Triple]:
    """The VoID description of the dataset ``dataset`` (its IRI) as triples."""
    properties = usage.properties
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
        Triple(dataset, VOID.triples, _count(figures.quads)),
        Triple(dataset, VOID.entities, _count(figures.entities)),
        Triple(dataset, VOID.classes, _count(len(figures.classes))),
        Triple(dataset, VOID.properties, _count(len(properties))),
        Triple(dataset, VOID.documents, _count(figures.named_graphs)),
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
        Triple(record_graphs, VOID.documents, _count(figures.record_graphs)),
    ]
    if modified is not None:
        stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ")
        triples.append(Triple(dataset, DCT.modified, Literal(stamp, datatype=XSD.dateTime)))
    triples += [Triple(dataset, VOID.vocabulary, NamedNode(v)) for v in vocabularies(figures, usage)]
    triples += [Triple(dataset, VOID.exampleResource, NamedNode(e)) for e in usage.examples]
    triples += [Triple(dataset, VOID.feature, NamedNode(f)) for f in formats]
    for iri, count in sorted(figures.classes.items()):
        partition = partition_iri(dataset, "class", iri)
        triples += [
            Triple(dataset, VOID.classPartition, partition),
            Triple(partition, VOID["class"], NamedNode(iri)),
            Triple(partition, VOID.entities, _count(count)),
        ]
    for iri, count in sorted(properties.items()):
        partition = partition_iri(dataset, "property", iri)
        triples += [
            Triple(dataset, VOID.propertyPartition, partition),
            Triple(partition, VOID.property, NamedNode(iri)),
            Triple(partition, VOID.triples, _count(count)),
        ]
    return triples
