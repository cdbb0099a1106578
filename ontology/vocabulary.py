"""The library ontology as data: where its files are, its quads, its terms' labels.

``catalograph.ttl`` declares Catalograph's own terms *and* the reused
BIBFRAME, SKOS, MADS, DC terms and PROV terms we emit, each with an English
label, so this one file is what pages read to show a property by name
(``term_labels``) and what a test reads to check that every term the code uses
is declared. It is parsed with pyoxigraph (milliseconds), never rdflib.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Triple, parse

from ontology.namespaces import BF, CG, OWL, RDF, RDFS

_HERE = Path(__file__).resolve().parent

#: The ontology's own IRI (the namespace without its ``#``).
ONTOLOGY_IRI = str(CG).rstrip("#")

#: ``rdf:type`` objects that make a subject a declared term.
_DECLARATION_TYPES = frozenset(
    {
        OWL.Class,
        OWL.ObjectProperty,
        OWL.DatatypeProperty,
        OWL.AnnotationProperty,
        OWL.NamedIndividual,
        RDFS.Class,
        RDF.Property,
    }
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def ontology_path() -> Path:
    """``catalograph.ttl``, shipped as package data."""
    return _HERE / "catalograph.ttl"


def shapes_path() -> Path:
    """``shapes.ttl``: the SHACL shapes ``ontology.validation`` applies."""
    return _HERE / "shapes.ttl"


def context_path() -> Path:
    """``context.jsonld``: the JSON-LD context for our prefixes and ``cg:`` terms."""
    return _HERE / "context.jsonld"


def load_ontology_quads(graph: str | NamedNode | None = None) -> list[Quad]:
    """The ontology's statements as quads in ``graph`` (the default graph if ``None``).

    The store loads these into a graph of their own so that SPARQL users can
    query the vocabulary (``?c rdfs:subClassOf* cg:KnowledgeUnit``) next to the
    data.
    """
    target = (
        DefaultGraph()
        if graph is None
        else (graph if isinstance(graph, NamedNode) else NamedNode(graph))
    )
    return [Quad(t.subject, t.predicate, t.object, target) for t in ontology_triples()]


@lru_cache(maxsize=1)
def ontology_triples() -> tuple[Triple, ...]:
    """The statements of ``catalograph.ttl`` in file order, parsed once per process.

    Blank nodes (the few ``owl:unionOf`` lists) are named by their order in
    the file, not at random as the parser names them, so two readings of the
    same file give the same statements: the store's copy of the ontology can
    be compared with the file's (``graph.ontology_graph``).

    >>> sorted({t.subject.value for t in ontology_triples() if isinstance(t.subject, BlankNode)})[:2]
    ['cgontology1', 'cgontology2']
    """
    return stable_blank_nodes(parse(path=ontology_path(), format=RdfFormat.TURTLE))


def stable_blank_nodes(triples: Iterable[Triple], prefix: str = "cgontology") -> tuple[Triple, ...]:
    """``triples`` with each blank node renamed ``{prefix}{n}``, ``n`` counting in order of appearance."""
    names: dict[BlankNode, BlankNode] = {}

    def stable(term: Any) -> Any:
        if isinstance(term, BlankNode):
            if term not in names:
                names[term] = BlankNode(f"{prefix}{len(names) + 1}")
            return names[term]
        return term

    return tuple(Triple(stable(t.subject), t.predicate, stable(t.object)) for t in triples)


@lru_cache(maxsize=1)
def ontology_digest() -> str:
    """A SHA-256 of ``catalograph.ttl``'s bytes: which shipped version a store was seeded from."""
    return hashlib.sha256(ontology_path().read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def functional_properties() -> frozenset[str]:
    """Properties a unit has one value of (``owl:FunctionalProperty`` in the ontology on BIBFRAME terms).

    The mapper keeps each such statement apart (``ontology.records.group_units``)
    and the store's ledger keeps one value per subject (``graph.ledger``).

    >>> "http://id.loc.gov/ontologies/bibframe/instanceOf" in functional_properties()
    True
    """
    found = set()
    for triple in ontology_triples():
        if triple.predicate == RDF.type and triple.object == OWL.FunctionalProperty:
            subject = triple.subject
            if isinstance(subject, NamedNode) and subject.value.startswith(str(BF)):
                found.add(subject.value)
    return frozenset(found)


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    english: dict[str, str] = {}
    other: dict[str, str] = {}
    for t in ontology_triples():
        if t.predicate != RDFS.label or not isinstance(t.subject, NamedNode):
            continue
        if not isinstance(t.object, Literal):
            continue
        language = t.object.language
        if language is not None and language.lower().startswith("en"):
            english.setdefault(t.subject.value, t.object.value)
        elif language is None:
            other.setdefault(t.subject.value, t.object.value)
    return {**other, **english}


def term_labels() -> dict[str, str]:
    """IRI -> English label of every class, property and individual the ontology declares.

    Includes the reused terms the mapper emits (``bf:instanceOf`` -> ``"instance
    of"``), so pages show properties by name. A fresh dict: callers may change it.
    """
    return dict(_labels())


def label_for(iri: str) -> str:
    """The English label of ``iri``, else its local name spelled out (``"originDate"`` -> ``"origin date"``).

    >>> label_for("http://id.loc.gov/ontologies/bibframe/instanceOf")
    'instance of'
    >>> label_for("http://example.org/vocab#copyrightHolderName")
    'copyright holder name'
    >>> label_for("http://example.org/vocab#ReviewQueue")
    'Review queue'
    """
    known = _labels().get(iri)
    if known is not None:
        return known
    local = re.split(r"[#/]", iri.rstrip("/#"))[-1]
    words = [
        word.lower() if word[1:].islower() or len(word) == 1 else word
        for word in _CAMEL.sub(" ", local).replace("_", " ").split()
    ]
    if not words:
        return iri
    if local[:1].isupper():
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


@lru_cache(maxsize=8)
def declared_terms(namespace: str = str(CG)) -> frozenset[str]:
    """IRIs in ``namespace`` that the ontology declares (typed as a class, property or individual)."""
    return frozenset(
        t.subject.value
        for t in ontology_triples()
        if t.predicate == RDF.type
        and t.object in _DECLARATION_TYPES
        and isinstance(t.subject, NamedNode)
        and t.subject.value.startswith(namespace)
    )


@lru_cache(maxsize=1)
def _context() -> str:
    return context_path().read_text(encoding="utf-8")


def json_ld_context() -> dict[str, Any]:
    """The JSON-LD ``@context`` object (a fresh copy), for JSON-LD output and ``/api``."""
    return json.loads(_context())["@context"]
