"""One search document per resource, read from the store as it is now.

A resource's words are spread over graphs: an instance's type, label and
work are in its unit graph, its titles, notes and provision in the graph of
each record that describes it (``{graph}#title-1``...), a work's summary and
contents notes in its records' graphs, an agent's or a concept's labels in
its unit graph. Deriving the document from the store itself (every statement
whose subject is the resource, across all graphs, then the record-local nodes
they point to) is what keeps the index equal to the store whatever changed
it: an ingest, a deletion, a unit statement that another record or a writer
added or took back. Each read is one scan of Oxigraph's SPOG index.

What goes in (``FIELDS``, with their boosts in ``query.search``):

- ``title``: ``bf:title`` nodes (``mainTitle``, ``subtitle``, ``partName``,
  ``partNumber``, and their ``rdfs:label``), every script and language;
- ``label``: ``rdfs:label``, ``skos:prefLabel``, ``madsrdf:authoritativeLabel``
  (an agent's name is its label);
- ``variant``: ``skos:altLabel``, ``skos:hiddenLabel``;
- ``abstract``: ``bf:summary`` and ``bf:tableOfContents``;
- ``note``: ``bf:note`` and the transcribed statements (responsibility,
  edition, series, publication).

Beside the text: the kind (the resource's class, by the ontology's kinds of
knowledge unit), its ``bf:language`` codes, its year (the earliest of its
provision dates, ``bf:originDate``, ``bf:copyrightDate``: an ``xsd:gYear``
or the first four-digit year in the text) and, for an instance, its work
(``query.search`` takes a work's languages and an instance's year across
that link, so a change to one never rewrites the other).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple, Protocol

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Store

from ontology.hierarchy import class_hierarchy
from ontology.namespaces import BF, LANGUAGES, MADS, RDF, RDFS, SKOS, XSD

#: The text fields of a document, in the order of the full-text table's columns.
FIELDS = ("title", "creator", "label", "variant", "abstract", "note")
#: The facets a document carries (``search_facet`` rows; ``query.search`` adds kind and year).
FACETS = ("subject", "agent", "language", "type", "source")

_TITLE_PARTS = frozenset(
    p.value for p in (BF.mainTitle, BF.subtitle, BF.partName, BF.partNumber, RDFS.label)
)
_LABELS = frozenset(p.value for p in (RDFS.label, SKOS.prefLabel, MADS.authoritativeLabel))
_VARIANTS = frozenset(p.value for p in (SKOS.altLabel, SKOS.hiddenLabel))
_NODE_TEXT = {BF.summary.value: "abstract", BF.tableOfContents.value: "abstract", BF.note.value: "note"}
_STATEMENTS = frozenset(
    p.value
    for p in (
        BF.responsibilityStatement,
        BF.editionStatement,
        BF.seriesStatement,
        BF.provisionActivityStatement,
    )
)
_DATES = frozenset(p.value for p in (BF.originDate, BF.copyrightDate))
_TYPE = RDF.type.value
_TITLE = BF.title.value
_PROVISION = BF.provisionActivity.value
_LANGUAGE = BF.language.value
_INSTANCE_OF = BF.instanceOf.value
_GYEAR = XSD.gYear.value
_NODE_LABELS = frozenset((RDFS.label.value, RDF.value.value))
_PROVISION_DATES = frozenset((BF.date.value,))
_CONTRIBUTION = BF.contribution.value
_AGENT = BF.agent.value
_SUBJECT = BF.subject.value
_ADMIN = BF.adminMetadata.value
_ASSIGNER = BF.assigner.value
#: Read only on the nodes a resource points to, never scanned on the resource itself.
_NODE_ONLY = frozenset({_AGENT, _ASSIGNER})
#: Every predicate a document reads, of the resource or of the nodes it points to.
RELEVANT = frozenset(
    {_TYPE, _TITLE, _PROVISION, _LANGUAGE, _INSTANCE_OF, *_TITLE_PARTS, *_LABELS, *_VARIANTS,
     *_NODE_TEXT, *_STATEMENTS, *_DATES, *_NODE_LABELS, *_PROVISION_DATES,
     _CONTRIBUTION, _AGENT, _SUBJECT, _ADMIN, _ASSIGNER}
)  # fmt: skip
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_RECORD_GRAPH = re.compile(r"/graph/([^/#]+)/[^/#]+$")
#: Parallel forms of a document's label kept at most (``Document.forms``).
MAX_FORMS = 8
#: Kinds of knowledge unit that are not searched as resources of their own.
_UNSEARCHED = frozenset({"identifier"})


@dataclass(slots=True)
class Document:
    """What the index holds for one resource."""

    iri: str
    kind: str
    label: str
    year: int | None = None
    languages: tuple[str, ...] = ()
    work: str | None = None
    texts: dict[str, list[str]] = field(default_factory=dict)
    #: ``(facet, value)`` pairs, sorted (``FACETS``): IRIs for subject, agent and type.
    facets: tuple[tuple[str, str], ...] = ()
    #: The forms ``label`` was chosen among, ``(text, language tag or "")``, sorted: a page
    #: shows the one in the reader's script where a record has parallel scripts.
    forms: tuple[tuple[str, str], ...] = ()

    def text(self, name: str) -> str:
        return "\n".join(self.texts.get(name, ()))


@lru_cache(maxsize=1)
def kinds_by_class() -> dict[str, str]:
    """Each class IRI the ontology knows as a kind of knowledge unit -> its kind (``work``...).

    >>> kinds = kinds_by_class()
    >>> kinds[BF.Manuscript.value], kinds[SKOS.Concept.value], kinds[BF.Person.value]
    ('work', 'concept', 'agent')
    """
    hierarchy = class_hierarchy()
    kinds: dict[str, str] = {}
    for unit in hierarchy.units:
        kind = re.split(r"[#/]", unit.value)[-1].lower()
        if kind in _UNSEARCHED:
            continue
        for cls in (unit, *hierarchy.descendants(unit)):
            kinds.setdefault(cls.value, kind)
    return kinds


@lru_cache(maxsize=1)
def kind_roots() -> frozenset[str]:
    """The classes that are kinds themselves (``bf:Work``...): a type facet says more than them."""
    return frozenset(unit.value for unit in class_hierarchy().units)


class Term(NamedTuple):
    """An object as a document needs it: an IRI, a blank node (``_:``) or a literal (a tuple:
    a batch's statements make hundreds of thousands of them)."""

    value: str
    literal: bool = False
    language: str | None = None
    datatype: str | None = None


#: ``(predicate IRI, object, graph IRI)`` of one statement about a subject.
Statement = tuple[str, Term, str]


class Statements(Protocol):
    """Where a document's statements are read: the store, or a batch's own N-Quads."""

    def about(self, subject: str) -> list[Statement]:
        """Every statement whose subject is ``subject`` (a ``RELEVANT`` predicate at least)."""

    def of_node(self, node: str, graph: str) -> list[Statement]:
        """The statements about ``node`` in ``graph``."""


class StoreStatements:
    """Statements as the store holds them now, read from its SPOG index.

    A resource's statements are read one predicate at a time, only the
    predicates a document reads (``RELEVANT``): pyoxigraph decodes every term
    of every quad it returns, and most of an Instance's statements are ones no
    document reads (identifiers, carriers, links to its record graphs'
    nodes). Measured on 767 Instances shared by three records each: 184 ms
    against 390 ms for one scan of all their statements filtered here.
    """

    _PREDICATES = tuple(NamedNode(p) for p in sorted(RELEVANT - _NODE_ONLY))

    def __init__(self, store: Store) -> None:
        self.store = store

    def about(self, subject: str) -> list[Statement]:
        node = NamedNode(subject)
        found = []
        for predicate in self._PREDICATES:
            for quad in self.store.quads_for_pattern(node, predicate, None, None):
                found.append((predicate.value, _term(quad.object), _graph(quad.graph_name)))
        return found

    def of_node(self, node: str, graph: str) -> list[Statement]:
        if node.startswith("_:"):
            return []  # never minted by the mapper; a batch's labels would not match the store's
        return self._read(NamedNode(node), NamedNode(graph) if graph else DefaultGraph())

    def _read(self, subject: NamedNode, graph: NamedNode | DefaultGraph | None) -> list[Statement]:
        found = []
        for quad in self.store.quads_for_pattern(subject, None, None, graph):
            predicate = quad.predicate.value
            if predicate not in RELEVANT:
                continue
            found.append((predicate, _term(quad.object), _graph(quad.graph_name)))
        return found


def derive(source: Statements, iri: str) -> tuple[Document | None, set[str]]:
    """The document of ``iri`` (``None``: nothing to search for: no kind of resource, or a
    node with a fragment, which belongs to a record or a unit), and the graphs that hold a
    statement about it that a document reads (``RELEVANT``): the index's ``search_feed``.

    ``source`` is the store (``StoreStatements``) or, for a resource the store did not
    hold before a batch, the batch's own N-Quads (``graph.search_batch``): the same
    statements either way, read in the same order (sorted), so the same document.
    """
    if "#" in iri:  # a record's local node or a part of a unit: searched through its owner
        return None, set()
    try:
        NamedNode(iri)
    except ValueError:
        return None, set()
    statements = sorted(source.about(iri), key=_order)
    graphs = {graph for _, _, graph in statements}
    kinds = kinds_by_class()
    kind = next((kinds[o.value] for p, o, _ in statements if p == _TYPE and o.value in kinds), None)
    if kind is None:
        return None, graphs
    texts: dict[str, dict[str, None]] = {name: {} for name in FIELDS}
    languages: dict[str, None] = {}
    years: list[int] = []
    work: str | None = None
    titles: list[Term] = []
    labels: list[Term] = []
    facets: set[tuple[str, str]] = set()
    sources: set[str] = set()
    roots = kind_roots()
    for predicate, value, graph in statements:
        if value.literal:
            if predicate in _LABELS:
                texts["label"][value.value] = None
                labels.append(value)
            elif predicate in _VARIANTS:
                texts["variant"][value.value] = None
            elif predicate in _STATEMENTS:
                texts["note"][value.value] = None
            elif predicate in _DATES:
                years += _years([value])
            elif predicate in _NODE_TEXT:
                texts[_NODE_TEXT[predicate]][value.value] = None
            continue
        if predicate == _TITLE:
            for part in _node(source, value, graph, _TITLE_PARTS):
                texts["title"][part.value] = None
                if part.language is None or not part.language.endswith("-latn"):
                    titles.append(part)
        elif predicate in _NODE_TEXT:
            for text in _node(source, value, graph, _NODE_LABELS):
                texts[_NODE_TEXT[predicate]][text.value] = None
        elif predicate == _PROVISION:
            years += _years(_node(source, value, graph, _PROVISION_DATES))
        elif predicate == _LANGUAGE:
            code = _language_code(value.value)
            languages[code] = None
            facets.add(("language", code))
        elif predicate == _INSTANCE_OF:
            work = value.value
        elif predicate == _TYPE:
            if value.value not in roots and not value.value.startswith("_:"):
                facets.add(("type", value.value))
        elif predicate == _SUBJECT:
            if not value.value.startswith("_:") and "#" not in value.value:
                facets.add(("subject", value.value))
        elif predicate == _CONTRIBUTION:
            for agent in _links(source, value, graph, _AGENT):
                if "#" in agent.value:  # a record's own agent node: its name is in that graph
                    names = _node(source, agent, graph, _LABELS)
                else:  # a shared agent: its name is in its unit graph, which feeds this document
                    names = _node(source, agent, agent.value, _LABELS)
                    graphs.add(agent.value)
                    facets.add(("agent", agent.value))
                for name in names:
                    texts["creator"][name.value] = None
        elif predicate == _ADMIN:
            for assigner in _links(source, value, graph, _ASSIGNER):
                sources.update(name.value.strip() for name in _node(source, assigner, graph, _LABELS))
    if kind == "instance" and not sources:
        sources.update(filter(None, (_graph_source(g) for g in graphs)))
    facets.update(("source", name) for name in sources if name)
    document = Document(
        iri,
        kind,
        _display(labels, titles) or iri,
        min(years) if years else None,
        tuple(languages),
        work,
        {name: list(values) for name, values in texts.items() if values},
        tuple(sorted(facets)),
        tuple(sorted({(v.value, v.language or "") for v in (labels or titles)}))[:MAX_FORMS],
    )
    return document, graphs


def _node(source: Statements, node: Term, graph: str, predicates: frozenset[str]) -> list[Term]:
    """The literals of ``node`` in ``graph`` under ``predicates``, in a fixed order."""
    if node.literal or node.value.startswith("_:"):
        return []
    found = [o for p, o, _ in source.of_node(node.value, graph) if p in predicates and o.literal]
    return sorted(found, key=_term_order)


def _links(source: Statements, node: Term, graph: str, predicate: str) -> list[Term]:
    """The IRIs ``node`` points to in ``graph`` under ``predicate``, in a fixed order."""
    if node.literal or node.value.startswith("_:"):
        return []
    found = {o for p, o, _ in source.of_node(node.value, graph) if p == predicate and not o.literal}
    return sorted((o for o in found if not o.value.startswith("_:")), key=_term_order)


def _graph_source(graph: str) -> str | None:
    """The source of a record graph ``{base}graph/{source}/{id}`` (``None`` for another graph).

    >>> _graph_source("http://e.org/graph/marc/12"), _graph_source("http://e.org/work/k1")
    ('marc', None)
    """
    found = _RECORD_GRAPH.search(graph)
    return found.group(1) if found else None


def _order(statement: Statement) -> tuple:
    """``(predicate, _term_order(object), graph)``, made in one call: a batch sorts a few hundred
    thousand statements by it."""
    predicate, (value, literal, language, datatype), graph = statement
    return (predicate, (value, literal, language or "", datatype or ""), graph)


def _term_order(term: Term) -> tuple:
    value, literal, language, datatype = term
    return (value, literal, language or "", datatype or "")  # None sorts with ""


def _term(term: NamedNode | BlankNode | Literal | object) -> Term:
    if isinstance(term, Literal):
        return Term(term.value, True, term.language, term.datatype.value)
    if isinstance(term, BlankNode):
        return Term("_:" + term.value)
    return Term(getattr(term, "value", str(term)))


def _graph(graph: object) -> str:
    return graph.value if isinstance(graph, NamedNode) else ""


def _years(values: Iterable[Term]) -> list[int]:
    """A ``xsd:gYear`` as it is; else the first four-digit year of the text."""
    years = []
    for value in values:
        if value.datatype == _GYEAR and value.value[-4:].isdigit():
            years.append(int(value.value[-4:]))
            continue
        found = _YEAR.search(value.value)
        if found:
            years.append(int(found.group(1)))
    return years


def _language_code(iri: str) -> str:
    """``http://id.loc.gov/vocabulary/languages/jpn`` -> ``jpn``; another IRI as it is."""
    return iri[len(LANGUAGES.iri) :] if iri.startswith(LANGUAGES.iri) else iri


def _display(labels: list[Term], titles: list[Term]) -> str:
    """The label a hit is shown with: a label in no language or a transcribed script first."""
    candidates = labels or titles
    if not candidates:
        return ""
    ranked = sorted(candidates, key=lambda v: (v.language is not None, v.value))
    return ranked[0].value
