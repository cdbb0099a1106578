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

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store

from ontology.hierarchy import class_hierarchy
from ontology.namespaces import BF, LANGUAGES, MADS, RDF, RDFS, SKOS, XSD

#: The text fields of a document, in the order of the full-text table's columns.
FIELDS = ("title", "label", "variant", "abstract", "note")

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
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
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


def derive(store: Store, iri: str) -> tuple[Document | None, set[str]]:
    """The document of ``iri`` as the store holds it now (``None``: nothing to search for:
    no kind of resource, or a node with a fragment, which belongs to a record or a unit),
    and the graphs other than its own that hold statements about it (its record graphs)."""
    if "#" in iri:  # a record's local node or a part of a unit: searched through its owner
        return None, set()
    try:
        node = NamedNode(iri)
    except ValueError:
        return None, set()
    quads = list(store.quads_for_pattern(node, None, None, None))
    graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, NamedNode)}
    graphs.discard(iri)
    kinds = kinds_by_class()
    kind = next(
        (kinds[q.object.value] for q in quads if q.predicate == RDF.type and q.object.value in kinds),
        None,
    )
    if kind is None:
        return None, graphs
    texts: dict[str, dict[str, None]] = {name: {} for name in FIELDS}
    languages: dict[str, None] = {}
    years: list[int] = []
    work: str | None = None
    titles: list[Literal] = []
    labels: list[Literal] = []
    for quad in quads:
        predicate, value = quad.predicate.value, quad.object
        if isinstance(value, Literal):
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
        if predicate == BF.title.value:
            for part in _node(store, quad, _TITLE_PARTS):
                texts["title"][part.value] = None
                if part.language is None or not part.language.endswith("-latn"):
                    titles.append(part)
        elif predicate in _NODE_TEXT:
            for text in _node(store, quad, (RDFS.label.value, RDF.value.value)):
                texts[_NODE_TEXT[predicate]][text.value] = None
        elif predicate == BF.provisionActivity.value:
            years += _years(_node(store, quad, (BF.date.value,)))
        elif predicate == BF.language.value and isinstance(value, NamedNode):
            languages[_language_code(value.value)] = None
        elif predicate == BF.instanceOf.value and isinstance(value, NamedNode):
            work = value.value
    document = Document(
        iri,
        kind,
        _display(labels, titles) or iri,
        min(years) if years else None,
        tuple(languages),
        work,
        {name: list(values) for name, values in texts.items() if values},
    )
    return document, graphs


def _node(store: Store, link: Quad, predicates: Iterable[str]) -> list[Literal]:
    """The literals of the node ``link`` points to, in ``link``'s graph, under ``predicates``."""
    node = link.object
    if not isinstance(node, NamedNode | BlankNode):
        return []
    wanted = set(predicates)
    return [
        q.object
        for q in store.quads_for_pattern(node, None, None, link.graph_name)
        if q.predicate.value in wanted and isinstance(q.object, Literal)
    ]


def _years(values: Iterable[Literal]) -> list[int]:
    """A ``xsd:gYear`` as it is; else the first four-digit year of the text."""
    years = []
    for value in values:
        if value.datatype == XSD.gYear and value.value[-4:].isdigit():
            years.append(int(value.value[-4:]))
            continue
        found = _YEAR.search(value.value)
        if found:
            years.append(int(found.group(1)))
    return years


def _language_code(iri: str) -> str:
    """``http://id.loc.gov/vocabulary/languages/jpn`` -> ``jpn``; another IRI as it is."""
    return iri[len(LANGUAGES.iri) :] if iri.startswith(LANGUAGES.iri) else iri


def _display(labels: list[Literal], titles: list[Literal]) -> str:
    """The label a hit is shown with: a label in no language or a transcribed script first."""
    candidates = labels or titles
    if not candidates:
        return ""
    ranked = sorted(candidates, key=lambda v: (v.language is not None, v.value))
    return ranked[0].value
