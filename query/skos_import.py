"""A SKOS file (a slice of a thesaurus) read into a scheme: first a report, then one change.

``plan_import`` parses the file with pyoxigraph under the same guards as
any uploaded graph (``graph.updates.parse_graph``: RDF/XML with a DOCTYPE or
entities refused, JSON-LD depth bounded), at most ``MAX_IMPORT_TRIPLES``
statements, and compares each ``skos:Concept`` of the file with what the
store holds. The ``ImportPlan`` says what would change (new concepts,
changed preferred labels, new labels and notes, new links) and what will
not be done and why (conflicts: a concept the store holds as deprecated or
as something other than a concept, two preferred labels in one language,
a link to a concept neither the file nor the store knows, a
``skos:broader`` loop); its ``change`` is applied as one changeset only
when the cataloger confirms the report.

Concepts keep the file's IRIs, so a slice of LCSH meets the concepts that
MARC headings with ``$0`` already name. A changed preferred label replaces
the store's, which stays as an alternate label: an import never makes a
concept lose the words it was found by.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Store

from graph.updates import parse_graph
from ontology.errors import UsageError
from ontology.layout import Layout
from ontology.namespaces import RDF, RDFS, SKOS
from query.vocabulary import LITERAL_PROPERTIES, RELATIONS, concept, narrower_closure
from query.vocabulary_edits import (
    MAX_LABEL,
    MAX_NOTE,
    VocabularyChange,
    link_both_ways,
    placed,
    strict_iri,
    text_value,
)

#: Most statements a file may hold.
MAX_IMPORT_TRIPLES = 50_000
#: The formats a file may come in, by extension.
FORMATS = {"ttl": RdfFormat.TURTLE, "rdf": RdfFormat.RDF_XML, "xml": RdfFormat.RDF_XML,
           "nt": RdfFormat.N_TRIPLES, "jsonld": RdfFormat.JSON_LD}  # fmt: skip
_KIND_OF = {p.value: kind for kind, p in LITERAL_PROPERTIES.items()}
_RELATION_OF = {p.value: name for name, (p, _inverse) in RELATIONS.items()}
_SCHEME_LABELS = (SKOS.prefLabel, RDFS.label)


@dataclass(slots=True)
class ImportPlan:
    """What importing a file into ``scheme`` would change (see the module docstring)."""

    scheme: str
    concepts_in_file: int = 0
    new_concepts: list[str] = field(default_factory=list)
    #: ``(concept, language, label in the store, label in the file)``.
    changed_labels: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: Alternate and hidden labels and notes the store does not have yet.
    new_literals: int = 0
    #: ``(concept, relation, target)``.
    new_relations: list[tuple[str, str, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    #: Statements of the file that are not about its concepts' labels, notes and links.
    ignored: int = 0
    change: VocabularyChange = field(default_factory=VocabularyChange)

    @property
    def empty(self) -> bool:
        return not self.change.add and not self.change.remove


def read_skos(body: bytes, fmt: RdfFormat) -> list:
    """The triples of an uploaded file (``UsageError`` if unreadable, too large or unsafe)."""
    triples = parse_graph(body, fmt, None)
    if len(triples) > MAX_IMPORT_TRIPLES:
        raise UsageError(
            f"the file holds {len(triples):,} statements; at most {MAX_IMPORT_TRIPLES:,} are imported at once"
        )
    return triples


def plan_import(store: Store, layout: Layout, triples: list, scheme: NamedNode) -> ImportPlan:
    """Compare the file's concepts with the store's; the plan and its change."""
    plan = ImportPlan(scheme.value)
    plan.change.reason = f"SKOS import into <{scheme.value}>"
    plan.change.concept = scheme.value
    concepts = {t.subject for t in triples if t.predicate == RDF.type and t.object == SKOS.Concept}
    for node in sorted((c for c in concepts if isinstance(c, BlankNode)), key=str):
        plan.conflicts.append(f"a concept without an IRI ({node}) cannot be imported: skipped")
    named = sorted((c for c in concepts if isinstance(c, NamedNode)), key=lambda n: n.value)
    plan.concepts_in_file = len(named)
    literals: dict[NamedNode, list[tuple[str, Literal]]] = defaultdict(list)
    links: dict[NamedNode, list[tuple[str, NamedNode]]] = defaultdict(list)
    scheme_labels: list[Literal] = []
    for t in triples:
        if t.subject in concepts and isinstance(t.subject, NamedNode):
            if t.predicate.value in _KIND_OF and isinstance(t.object, Literal):
                literals[t.subject].append((_KIND_OF[t.predicate.value], t.object))
                continue
            if t.predicate.value in _RELATION_OF and isinstance(t.object, NamedNode):
                links[t.subject].append((_RELATION_OF[t.predicate.value], t.object))
                continue
            if t.predicate in (RDF.type, SKOS.inScheme, SKOS.topConceptOf):
                continue
        elif t.subject == scheme and t.predicate in _SCHEME_LABELS and isinstance(t.object, Literal):
            scheme_labels.append(t.object)
            continue
        elif t.predicate in (RDF.type, SKOS.hasTopConcept) or t.object == SKOS.ConceptScheme:
            continue
        plan.ignored += 1
    _declare_scheme(store, layout, scheme, scheme_labels, plan)
    usable: set[NamedNode] = set()
    for node in named:
        try:
            strict_iri(node.value)
        except ValueError:
            plan.conflicts.append(f"<{node.value[:200]}> is not an http(s) IRI a concept can have: skipped")
            continue
        if _concept_literals(store, layout, node, scheme, literals[node], plan):
            usable.add(node)
    new_edges: dict[str, set[str]] = defaultdict(set)  # parent -> children added by the file
    for node in named:
        if node in usable:
            _concept_links(store, layout, node, links[node], usable, new_edges, plan)
    return plan


def _declare_scheme(store: Store, layout: Layout, scheme: NamedNode, labels: list[Literal], plan: ImportPlan) -> None:
    if next(store.quads_for_pattern(scheme, RDF.type, SKOS.ConceptScheme, None), None) is not None:
        return
    plan.change.add.append(placed(layout, scheme, RDF.type, SKOS.ConceptScheme))
    seen = set()
    for label in labels:
        if label.language not in seen:  # one preferred label per language
            seen.add(label.language)
            plan.change.add.append(placed(layout, scheme, SKOS.prefLabel, label))


def _concept_literals(
    store: Store, layout: Layout, node: NamedNode, scheme: NamedNode,
    values: list[tuple[str, Literal]], plan: ImportPlan,
) -> bool:  # fmt: skip
    """The labels and notes of one concept of the file; ``False`` if it is not imported at all."""
    iri = node.value
    view = concept(store, iri)
    if view.exists and not view.is_concept:
        plan.conflicts.append(f"<{iri}> is not a concept in this graph: skipped")
        return False
    if view.deprecated:
        plan.conflicts.append(f"<{iri}> was merged into <{view.replaced_by}>: skipped (import it as that one)")
        return False
    preferred: dict[str, list[Literal]] = defaultdict(list)
    for kind, value in values:
        if kind == "prefLabel":
            preferred[value.language or ""].append(value)
    doubled = sorted(lang or "-" for lang, found in preferred.items() if len(set(found)) > 1)
    if doubled:
        plan.conflicts.append(f"<{iri}> has several preferred labels in {', '.join(doubled)}: skipped")
        return False
    add = plan.change.add
    if not view.exists:
        plan.new_concepts.append(iri)
        add.append(placed(layout, node, RDF.type, SKOS.Concept))
    if scheme.value not in view.schemes:
        add.append(placed(layout, node, SKOS.inScheme, scheme))
    held = set(view.literals)
    store_preferred = {lang: text for kind, text, lang in view.literals if kind == "prefLabel"}
    for kind, value in dict.fromkeys(values):
        lang = value.language or ""
        try:
            text_value(value.value, MAX_LABEL if kind.endswith("Label") else MAX_NOTE,
                       "label" if kind.endswith("Label") else "note")  # fmt: skip
        except ValueError as error:
            plan.conflicts.append(f"<{iri}>: {error}: skipped")
            continue
        if (kind, value.value, lang) in held:
            continue
        if kind == "prefLabel" and lang in store_preferred:
            old = Literal(store_preferred[lang], language=lang or None)
            plan.changed_labels.append((iri, lang, old.value, value.value))
            plan.change.remove.append(placed(layout, node, SKOS.prefLabel, old))
            if ("altLabel", old.value, lang) not in held:
                add.append(placed(layout, node, SKOS.altLabel, old))
        elif kind != "prefLabel" and view.exists:
            plan.new_literals += 1
        add.append(placed(layout, node, LITERAL_PROPERTIES[kind], value))
    return True


def _concept_links(
    store: Store, layout: Layout, node: NamedNode, links: list[tuple[str, NamedNode]],
    usable: set[NamedNode], new_edges: dict[str, set[str]], plan: ImportPlan,
) -> None:  # fmt: skip
    held = set(concept(store, node.value).relations)
    for name, target in dict.fromkeys(links):
        if (name, target.value) in held or target == node:
            continue
        try:
            strict_iri(target.value)
        except ValueError:
            plan.conflicts.append(f"<{node.value}> {name} <{target.value[:200]}>: not an http(s) IRI: skipped")
            continue
        if target not in usable:
            other = concept(store, target.value)
            if not other.is_concept or other.deprecated:
                why = "is deprecated" if other.deprecated else "is a concept neither the file nor the graph has"
                plan.conflicts.append(f"<{node.value}> {name} <{target.value}>: the target {why}: skipped")
                continue
        parent, child = (target.value, node.value) if name == "broader" else (node.value, target.value)
        if name != "related":
            if parent in narrower_closure(store, child, extra=new_edges) or parent == child:
                plan.conflicts.append(f"<{node.value}> {name} <{target.value}> would make a broader loop: skipped")
                continue
            new_edges[parent].add(child)
        plan.new_relations.append((node.value, name, target.value))
        plan.change.add += link_both_ways(layout, node, name, target)
