"""What the vocabulary editor reads: schemes, their concepts, one concept, what refers to it.

The editor shows what the store holds *now* (the checkpoint its last edit
published), so nothing here is cached: schemes are counted by one bounded
aggregate, a scheme's concepts are listed by one query (filtered by a label
fragment that is bound as a literal, never pasted into the text), and one
concept is read by indexed pattern scans. Every list is capped
(``MAX_LISTED``, ``MAX_REFERENCES``) so a page or a merge plan costs a
bounded amount of work whatever the store holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from pyoxigraph import Literal, NamedNode, Quad, Store, Variable

from ontology.layout import Layout
from ontology.namespaces import DCT, MADS, OWL, PREFIXES, RDF, RDFS, SKOS
from query.browse import sort_key

#: Concepts of one scheme read for a listing (a page is a slice of them).
MAX_LISTED = 100_000
#: Statements that refer to one concept read for a merge or a split; more is refused.
MAX_REFERENCES = 20_000
#: The literals an editor edits, by the name its forms use.
LITERAL_PROPERTIES: dict[str, NamedNode] = {
    "prefLabel": SKOS.prefLabel,
    "altLabel": SKOS.altLabel,
    "hiddenLabel": SKOS.hiddenLabel,
    "note": SKOS.note,
    "scopeNote": SKOS.scopeNote,
    "definition": SKOS.definition,
}
LABEL_KINDS = ("prefLabel", "altLabel", "hiddenLabel")
NOTE_KINDS = ("note", "scopeNote", "definition")
#: The links between concepts an editor edits, and the inverse each implies.
RELATIONS: dict[str, tuple[NamedNode, NamedNode]] = {
    "broader": (SKOS.broader, SKOS.narrower),
    "narrower": (SKOS.narrower, SKOS.broader),
    "related": (SKOS.related, SKOS.related),
}
#: Labels a concept may carry from ingest (a MARC heading's ``rdfs:label``) besides SKOS's.
_SHOWN_LABELS = (SKOS.prefLabel, RDFS.label, MADS.authoritativeLabel)
_TRUE = Literal("true", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))

SCHEMES = """
SELECT ?scheme (COUNT(DISTINCT ?concept) AS ?concepts) WHERE {
  { ?concept skos:inScheme ?scheme } UNION { ?scheme a skos:ConceptScheme }
  FILTER(isIRI(?scheme))
} GROUP BY ?scheme ORDER BY DESC(?concepts) ?scheme
"""

#: A scheme's concepts with the label they sort by (sorted here, in Python: ``query.browse.sort_key``,
#: the order browse uses, and faster than ORDER BY). Bound: ``?scheme``.
SCHEME_CONCEPTS = """
SELECT ?scheme ?concept (MIN(STR(?shown)) AS ?label) WHERE {
  ?concept skos:inScheme ?scheme .
  OPTIONAL { ?concept skos:prefLabel|rdfs:label ?shown }
} GROUP BY ?scheme ?concept
"""

#: The same, only those with a label (of any kind) containing ``?needle`` (lower case). Bound:
#: ``?scheme``, ``?needle``.
SCHEME_CONCEPTS_MATCHING = """
SELECT ?scheme ?needle ?concept (MIN(STR(?shown)) AS ?label) WHERE {
  ?concept skos:inScheme ?scheme .
  ?concept skos:prefLabel|rdfs:label|skos:altLabel|skos:hiddenLabel ?any .
  FILTER(CONTAINS(LCASE(STR(?any)), ?needle))
  OPTIONAL { ?concept skos:prefLabel|rdfs:label ?shown }
} GROUP BY ?scheme ?needle ?concept
"""

#: Concepts (of any scheme) one of whose labels is ``?label`` exactly, ignoring case.
CONCEPTS_LABELLED = """
SELECT DISTINCT ?label ?concept WHERE {
  ?concept skos:prefLabel|rdfs:label|skos:altLabel ?any .
  FILTER(LCASE(STR(?any)) = ?label)
  ?concept a skos:Concept .
  FILTER NOT EXISTS { ?concept owl:deprecated true }
} LIMIT 20
"""


@dataclass(frozen=True, slots=True)
class SchemeSize:
    iri: str
    concepts: int


@dataclass(frozen=True, slots=True)
class ListedConcept:
    iri: str
    label: str
    deprecated: bool


@dataclass(slots=True)
class ConceptListing:
    """A page of a scheme's concepts: ``total`` matched (at most ``MAX_LISTED``)."""

    concepts: list[ListedConcept]
    start: int
    total: int


@dataclass(slots=True)
class ConceptView:
    """One concept as the editor shows it."""

    iri: str
    types: list[str] = field(default_factory=list)
    schemes: list[str] = field(default_factory=list)
    #: ``(kind, text, language)`` for each kind of ``LITERAL_PROPERTIES``.
    literals: list[tuple[str, str, str]] = field(default_factory=list)
    #: Labels given by ingest (``rdfs:label``): shown, not edited as SKOS labels.
    headings: list[tuple[str, str]] = field(default_factory=list)
    #: ``(relation, concept IRI)`` for each of ``RELATIONS``.
    relations: list[tuple[str, str]] = field(default_factory=list)
    deprecated: bool = False
    replaced_by: str | None = None

    @property
    def exists(self) -> bool:
        return bool(self.types or self.literals or self.headings or self.schemes)

    @property
    def is_concept(self) -> bool:
        return SKOS.Concept.value in self.types


def _select(store: Store, text: str, **bound: object) -> Iterator:
    return store.query(
        text,
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={Variable(k): v for k, v in bound.items()},
    )


def schemes(store: Store) -> list[SchemeSize]:
    """Every scheme a concept is in, or declared as one, with its number of concepts."""
    return [SchemeSize(row["scheme"].value, int(row["concepts"].value)) for row in _select(store, SCHEMES)]


def scheme_concepts(store: Store, scheme: str, needle: str = "", start: int = 0, size: int = 50) -> ConceptListing:
    """A page of ``scheme``'s concepts whose labels contain ``needle`` (case ignored), alphabetically."""
    bound: dict[str, object] = {"scheme": NamedNode(scheme)}
    if needle.strip():
        bound["needle"] = Literal(needle.strip().lower())
    rows = _select(store, SCHEME_CONCEPTS_MATCHING if "needle" in bound else SCHEME_CONCEPTS, **bound)
    found = [
        (row["label"].value if row["label"] is not None else row["concept"].value, row["concept"].value)
        for row in islice(rows, MAX_LISTED)
        if isinstance(row["concept"], NamedNode)
    ]
    found.sort(key=lambda pair: (sort_key(pair[0]), pair[1]))
    page = [
        ListedConcept(iri, label, _TRUE in _objects(store, NamedNode(iri), OWL.deprecated))
        for label, iri in found[start : start + size]
    ]
    return ConceptListing(page, start, len(found))


def concepts_labelled(store: Store, label: str) -> list[str]:
    """The concepts (not deprecated) with ``label`` as one of their labels, ignoring case."""
    rows = _select(store, CONCEPTS_LABELLED, label=Literal(label.strip().lower()))
    return sorted(row["concept"].value for row in rows)


def _objects(store: Store, subject: NamedNode, predicate: NamedNode) -> list:
    found = []
    for quad in store.quads_for_pattern(subject, predicate, None, None):
        if quad.object not in found:
            found.append(quad.object)
    return found


def concept(store: Store, iri: str) -> ConceptView:
    """What the store says about ``iri`` that the editor shows (empty if nothing)."""
    node = NamedNode(iri)
    view = ConceptView(iri)
    view.types = [t.value for t in _objects(store, node, RDF.type) if isinstance(t, NamedNode)]
    view.schemes = [s.value for s in _objects(store, node, SKOS.inScheme) if isinstance(s, NamedNode)]
    for kind, predicate in LITERAL_PROPERTIES.items():
        for value in _objects(store, node, predicate):
            if isinstance(value, Literal):
                view.literals.append((kind, value.value, value.language or ""))
    for predicate in _SHOWN_LABELS[1:]:
        for value in _objects(store, node, predicate):
            if isinstance(value, Literal):
                view.headings.append((value.value, value.language or ""))
    for name, (predicate, _inverse) in RELATIONS.items():
        for value in _objects(store, node, predicate):
            if isinstance(value, NamedNode):
                view.relations.append((name, value.value))
    view.deprecated = _TRUE in _objects(store, node, OWL.deprecated)
    replaced = [v for v in _objects(store, node, DCT.isReplacedBy) if isinstance(v, NamedNode)]
    view.replaced_by = replaced[0].value if replaced else None
    return view


def label_of(store: Store, iri: str, languages: tuple[str, ...] = ("en",)) -> str:
    """One label to show for ``iri``: a preferred label in the first language that has one."""
    node = NamedNode(iri)
    for predicate in _SHOWN_LABELS:
        values = [v for v in _objects(store, node, predicate) if isinstance(v, Literal)]
        for language in languages:
            for value in values:
                if (value.language or "").split("-")[0] == language:
                    return value.value
        if values:
            return values[0].value
    return iri


def references(store: Store, iri: str, layout: Layout) -> list[Quad]:
    """Every statement whose object is ``iri``, in the graphs an edit may change.

    Derived graphs (associations, mentions) and Catalograph's own (provenance,
    changesets) are left out: they are rebuilt or kept as history, never moved.
    Refused (``ValueError``) beyond ``MAX_REFERENCES``.
    """
    found: list[Quad] = []
    for quad in store.quads_for_pattern(None, None, NamedNode(iri), None):
        if not is_editable_graph(layout, quad.graph_name):
            continue
        found.append(quad)
        if len(found) > MAX_REFERENCES:
            raise ValueError(f"more than {MAX_REFERENCES:,} statements refer to <{iri}>")
    return found


def derived_references(store: Store, iri: str, layout: Layout) -> int:
    """How many statements of derived graphs (mentions, associations) name ``iri`` as object."""
    count = 0
    for quad in store.quads_for_pattern(None, None, NamedNode(iri), None):
        graph = quad.graph_name
        if isinstance(graph, NamedNode) and graph.value.startswith(f"{layout.graphs}derived/"):
            count += 1
            if count > MAX_REFERENCES:
                break
    return count


def is_editable_graph(layout: Layout, graph: object) -> bool:
    """A unit graph or a record graph: not the default graph, a derived graph, provenance or a changeset."""
    if not isinstance(graph, NamedNode):
        return False
    if layout.is_catalograph_graph(graph.value):
        return layout.is_record_graph(graph.value) and not graph.value.startswith(f"{layout.graphs}derived/")
    return True


def narrower_of(store: Store, iri: str) -> set[str]:
    """The concepts directly under ``iri``: its ``skos:narrower``, and ``skos:broader`` read backwards."""
    node = NamedNode(iri)
    below = {q.object.value for q in store.quads_for_pattern(node, SKOS.narrower, None, None)
             if isinstance(q.object, NamedNode)}
    below |= {q.subject.value for q in store.quads_for_pattern(None, SKOS.broader, node, None)
              if isinstance(q.subject, NamedNode)}  # fmt: skip
    return below


def narrower_closure(store: Store, iri: str, limit: int = 10_000, extra: dict[str, set[str]] | None = None) -> set[str]:
    """Every concept under ``iri``, bounded; ``extra`` adds links not in the store yet (parent -> children)."""
    seen: set[str] = set()
    todo = [iri]
    while todo and len(seen) < limit:
        current = todo.pop()
        below = narrower_of(store, current) | (extra or {}).get(current, set())
        for child in below - seen:
            seen.add(child)
            todo.append(child)
    return seen
