"""The ontology as a reader's reference: every declared term with its labels, definitions and links.

The ``/ontology`` page and its JSON twin are drawn from this model, built once
per process from the statements of ``catalograph.ttl`` (pyoxigraph, no
reasoner), or from a store's copy of the ontology as catalogers edited it
(``build_reference``): classes with their super- and subclasses, properties with their
kind, domain, range and superproperties, individuals with their classes.
Labels and definitions are kept per language tag so the page can show the
reader's language first; anchors are stable (a ``cg:`` term's anchor is its
local name, so ``https://w3id.org/catalograph/ontology#KnowledgeUnit``
redirected to the page lands on it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from pyoxigraph import Literal, NamedNode, Triple

from ontology.namespaces import CG, DCT, OWL, RDF, RDFS, SKOS, compact
from ontology.vocabulary import ONTOLOGY_IRI, ontology_triples

#: ``rdf:type`` objects that declare a term, and the kind each makes it.
KINDS: dict[NamedNode, str] = {
    OWL.Class: "class",
    RDFS.Class: "class",
    OWL.ObjectProperty: "object property",
    OWL.DatatypeProperty: "datatype property",
    OWL.AnnotationProperty: "annotation property",
    RDF.Property: "property",
    OWL.NamedIndividual: "individual",
}
_DEFINITIONS = (SKOS.definition, RDFS.comment)


@dataclass
class Term:
    """One declared term: what it is, what it is called and means in each language, how it relates."""

    iri: str
    curie: str
    anchor: str
    kind: str
    labels: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    own: bool = False
    #: ``owl:deprecated true``: kept so old data still reads, not to be used for new data.
    deprecated: bool = False
    #: What to use instead (``dcterms:isReplacedBy``), for a deprecated term.
    replaced_by: list[str] = field(default_factory=list)

    def label(self, language: str) -> str:
        """The label in ``language``, else English, else the compact IRI."""
        return self.labels.get(language) or self.labels.get("en") or self.curie

    def definition(self, language: str) -> tuple[str, str] | None:
        """The definition in ``language`` (else English) and the language it is in."""
        for tag in (language, "en"):
            if tag in self.definitions:
                return self.definitions[tag], tag
        return None


@dataclass(frozen=True)
class OntologyReference:
    """Every declared term by IRI, and the lists the page shows, each in a stable order."""

    iri: str
    version: str
    terms: dict[str, Term]
    classes: tuple[str, ...]
    properties: tuple[str, ...]
    individuals: tuple[str, ...]
    #: Classes without a declared superclass: the roots of the class tree.
    roots: tuple[str, ...]

    def anchor(self, iri: str) -> str | None:
        """The anchor of a declared term on the page, ``None`` for a term declared elsewhere."""
        term = self.terms.get(iri)
        return term.anchor if term else None


def _anchor(iri: str) -> str:
    return iri[len(str(CG)) :] if iri.startswith(str(CG)) else compact(iri).replace(":", "-")


def _sort_key(term: Term) -> tuple:
    return (not term.own, term.curie.split(":", 1)[0], term.curie.lower())


@lru_cache(maxsize=1)
def ontology_reference() -> OntologyReference:
    """The reference model of the shipped ontology (``catalograph.ttl``), built once per process.

    >>> reference = ontology_reference()
    >>> work = reference.terms["http://id.loc.gov/ontologies/bibframe/Work"]
    >>> work.kind, work.label("zh"), work.anchor
    ('class', '作品', 'bf-Work')
    >>> "https://w3id.org/catalograph/ontology#KnowledgeUnit" in work.parents
    True
    >>> reference.anchor("https://w3id.org/catalograph/ontology#WorkLink")
    'WorkLink'
    """
    return build_reference(ontology_triples())


def build_reference(triples: Iterable[Triple]) -> OntologyReference:
    """The reference model of an ontology given as its statements (the file's, or a store's copy).

    >>> from pyoxigraph import Literal, NamedNode, Triple
    >>> from ontology.namespaces import OWL, RDF, RDFS
    >>> term = NamedNode("https://w3id.org/catalograph/ontology#Draft")
    >>> model = build_reference([Triple(term, RDF.type, OWL.Class),
    ...     Triple(term, OWL.deprecated, Literal(True))])
    >>> model.terms[term.value].deprecated, model.roots
    (True, ('https://w3id.org/catalograph/ontology#Draft',))
    """
    triples = tuple(triples)
    terms: dict[str, Term] = {}
    version = ""
    for t in triples:
        if t.predicate == RDF.type and isinstance(t.subject, NamedNode) and t.object in KINDS:
            iri = t.subject.value
            kind = KINDS[t.object]
            if iri not in terms:
                terms[iri] = Term(iri, compact(iri), _anchor(iri), kind, own=iri.startswith(str(CG)))
            elif kind != "individual" and terms[iri].kind == "individual":
                terms[iri].kind = kind
        if t.subject == NamedNode(ONTOLOGY_IRI) and t.predicate == OWL.versionInfo:
            version = t.object.value
    for t in triples:
        if not isinstance(t.subject, NamedNode) or t.subject.value not in terms:
            continue
        term = terms[t.subject.value]
        value = t.object
        if t.predicate == OWL.deprecated:
            term.deprecated = isinstance(value, Literal) and value.value in ("true", "1")
            continue
        if isinstance(value, Literal):
            language = (value.language or "en").split("-")[0].lower()
            if t.predicate == RDFS.label:
                term.labels.setdefault(language, value.value)
            elif t.predicate in _DEFINITIONS:
                term.definitions.setdefault(language, " ".join(value.value.split()))
            continue
        if not isinstance(value, NamedNode):
            continue  # an anonymous class (owl:oneOf...) is shown by its members
        if t.predicate in (RDFS.subClassOf, RDFS.subPropertyOf):
            term.parents.append(value.value)
            if value.value in terms:
                terms[value.value].children.append(term.iri)
        elif t.predicate == RDFS.domain:
            term.domains.append(value.value)
        elif t.predicate == RDFS.range:
            term.ranges.append(value.value)
        elif t.predicate == DCT.isReplacedBy:
            term.replaced_by.append(value.value)
        elif t.predicate == RDF.type and value not in KINDS:
            term.classes.append(value.value)
    ordered = sorted(terms.values(), key=_sort_key)

    def of(kinds: set[str]) -> tuple[str, ...]:
        return tuple(t.iri for t in ordered if t.kind in kinds)

    classes = of({"class"})
    for term in terms.values():
        term.children.sort(key=lambda iri: _sort_key(terms[iri]))
    return OntologyReference(
        iri=ONTOLOGY_IRI,
        version=version,
        terms=terms,
        classes=classes,
        properties=of({"object property", "datatype property", "annotation property", "property"}),
        individuals=of({"individual"}),
        roots=tuple(c for c in classes if not any(p in terms for p in terms[c].parents)),
    )
