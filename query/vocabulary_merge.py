"""Merging two concepts and splitting one: the vocabulary editor's operations that move references.

Both read the store and return one ``VocabularyChange`` (see
``query.vocabulary_edits``, whose checks and placement rules they share):
every statement whose object is the concept, in a unit graph or a record
graph, is stated of the other concept instead, in the graph the layout
gives it. Why a merge lasts across re-ingest, and what it does with
references in record graphs and derived graphs: docs/web.md, "Vocabularies".
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad, Store

from graph.updates import InvalidChangeError
from ontology.layout import Layout
from ontology.namespaces import DCT, OWL, RDFS, SKOS, XSD, compact
from query.vocabulary import LITERAL_PROPERTIES, RELATIONS, is_editable_graph, references
from query.vocabulary_edits import (
    MAX_ROWS,
    Problems,
    VocabularyChange,
    existing_concept,
    new_concept,
    one_preferred_label_per_language,
    placed,
)

_TRUE = Literal("true", datatype=XSD.boolean)


# ------------------------------------------------------------ merge


@dataclass(slots=True)
class MergePlan:
    """What a merge will move, counted by property and by kind of graph, and its change."""

    merged: str
    survivor: str
    #: ``(property, statements in unit graphs, statements in record graphs)``.
    moved: list[tuple[str, int, int]]
    #: Statements of derived graphs (mentions, associations) that name the merged concept.
    derived: int
    #: Labels of the merged concept the survivor takes as alternate (or hidden) labels.
    labels: int
    change: VocabularyChange

    @property
    def total(self) -> int:
        return sum(unit + record for _p, unit, record in self.moved)

    @property
    def in_record_graphs(self) -> int:
        return sum(record for _p, _unit, record in self.moved)


_ALIAS_LABEL = {SKOS.prefLabel: SKOS.altLabel, RDFS.label: SKOS.altLabel,
                SKOS.altLabel: SKOS.altLabel, SKOS.hiddenLabel: SKOS.hiddenLabel}  # fmt: skip


def merge(store: Store, layout: Layout, merged: str, survivor: str, derived: int = 0) -> MergePlan:
    """Merge ``merged`` into ``survivor`` (see docs/web.md, "Vocabularies").

    Every statement in a unit or record graph whose object is ``merged``
    (a work's subject, another concept's broader, narrower or related, a
    complex heading's component) is stated of ``survivor`` instead; the
    merged concept's own links move to the survivor, its labels become the
    survivor's alternate labels (so it is still found by them), and it stays
    as a deprecated alias: ``owl:deprecated true``, ``dcterms:isReplacedBy``.
    """
    problems = Problems()
    if merged == survivor:
        problems.append("a concept cannot be merged into itself")
    gone = existing_concept(store, merged, problems, "the concept merged")
    kept = existing_concept(store, survivor, problems, "the concept kept")
    if gone is not None and gone.deprecated:
        problems.append(f"<{merged}> is merged already (into <{gone.replaced_by}>)")
    if kept is not None and kept.deprecated:
        problems.append(f"<{survivor}> is deprecated: merge into <{kept.replaced_by}> instead")
    problems.raise_any()
    old, new = NamedNode(merged), NamedNode(survivor)
    try:
        refs = references(store, merged, layout)
    except ValueError as error:
        raise InvalidChangeError([f"{error}: too many to move in one change"]) from None
    change = VocabularyChange(reason=f"merge <{merged}> into <{survivor}>", concept=survivor)
    counts: dict[str, list[int]] = {}
    for quad in refs:
        if quad.subject == old:
            continue
        change.remove.append(quad)
        if quad.subject == new:
            continue  # the survivor would point at itself (its broader, its component...)
        graph = quad.graph_name
        if not layout.is_record_graph(graph.value):
            graph = NamedNode(layout.home_graph(quad.subject.value, survivor))
        change.add.append(Quad(quad.subject, quad.predicate, new, graph))
        row = counts.setdefault(compact(quad.predicate.value), [0, 0])
        row[1 if layout.is_record_graph(quad.graph_name.value) else 0] += 1
    for predicate, _inverse in RELATIONS.values():
        for quad in store.quads_for_pattern(old, predicate, None, None):
            if not is_editable_graph(layout, quad.graph_name) or not isinstance(quad.object, NamedNode):
                continue
            change.remove.append(quad)
            if quad.object != new:
                change.add.append(placed(layout, new, predicate, quad.object))
                row = counts.setdefault(f"{compact(predicate.value)} (of the merged concept)", [0, 0])
                row[0] += 1
    kept_labels = {(q.object.value, q.object.language) for q in store.quads_for_pattern(new, None, None, None)
                   if isinstance(q.object, Literal)}  # fmt: skip
    labels = 0
    for predicate, alias in _ALIAS_LABEL.items():
        for quad in store.quads_for_pattern(old, predicate, None, None):
            value = quad.object
            if isinstance(value, Literal) and (value.value, value.language) not in kept_labels:
                kept_labels.add((value.value, value.language))
                change.add.append(placed(layout, new, alias, value))
                labels += 1
    change.add.append(placed(layout, old, OWL.deprecated, _TRUE))
    change.add.append(placed(layout, old, DCT.isReplacedBy, new))
    moved = sorted(((p, u, r) for p, (u, r) in counts.items()), key=lambda row: (-(row[1] + row[2]), row[0]))
    return MergePlan(merged, survivor, moved, derived, labels, change)


# ------------------------------------------------------------ split


def split(
    store: Store, layout: Layout, source: str, iri: NamedNode,
    labels: list[tuple[str, str]], move_literals: list[tuple[str, str, str]],
    move_references: list[str],
) -> VocabularyChange:  # fmt: skip
    """A new concept ``iri`` (minted by the caller) split off ``source``: in the same schemes,
    with ``labels`` as its preferred labels, the chosen labels and notes of ``source`` moved
    to it, and the statements of the chosen subjects that refer to ``source`` moved to it."""
    problems = Problems()
    view = existing_concept(store, source, problems, "the concept split")
    problems.raise_any()
    if view.deprecated:
        raise InvalidChangeError([f"<{source}> is deprecated: split <{view.replaced_by}> instead"])
    if not view.schemes:
        problems.append(f"<{source}> is in no scheme; add it to one first")
    if len(move_literals) + len(move_references) > MAX_ROWS * 10:
        problems.append("too many rows at once")
    problems.raise_any()
    change = new_concept(store, layout, iri, view.schemes[0], labels)
    change.reason = f"split <{iri.value}> off <{source}>"
    change.add += [placed(layout, iri, SKOS.inScheme, NamedNode(s)) for s in view.schemes[1:]]
    old = NamedNode(source)
    held = set(view.literals)
    new_literals = [("prefLabel", q.object.value, q.object.language or "") for q in change.add
                    if q.predicate == SKOS.prefLabel]  # fmt: skip
    for kind, text, lang in move_literals:
        if (kind, text, lang) not in held:
            problems.append(f'"{text[:80]}" ({kind}) is not on <{source}> (reload the page)')
            continue
        value = Literal(text, language=lang or None)
        change.remove.append(placed(layout, old, LITERAL_PROPERTIES[kind], value))
        if kind == "prefLabel":
            kind = "altLabel" if any(lang == row[2] for row in new_literals) else kind
        change.add.append(placed(layout, iri, LITERAL_PROPERTIES[kind], value))
        new_literals.append((kind, text, lang))
    one_preferred_label_per_language(iri.value, new_literals, problems)
    chosen = set(move_references)
    found = set()
    for quad in references(store, source, layout):
        if quad.subject.value in chosen:
            found.add(quad.subject.value)
            change.remove.append(quad)
            graph = quad.graph_name
            if not layout.is_record_graph(graph.value):
                graph = NamedNode(layout.home_graph(quad.subject.value, iri.value))
            change.add.append(Quad(quad.subject, quad.predicate, iri, graph))
            if quad.predicate in (SKOS.broader, SKOS.narrower, SKOS.related):
                inverse = next(inv for p, inv in RELATIONS.values() if p == quad.predicate)
                change.remove.append(placed(layout, old, inverse, quad.subject))
                change.add.append(placed(layout, iri, inverse, quad.subject))
    for missing in sorted(chosen - found):
        problems.append(f"<{missing}> does not refer to <{source}> (reload the page)")
    problems.raise_any()
    return change
