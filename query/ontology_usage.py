"""Where an ontology term is used in a store: how many statements, and a few of them, bounded.

The ontology editor shows this on a term's delete page (and refuses to
delete while anything uses it), and beside each class and property of its
trees. A **use** is a statement, in any graph but the ones below, that has
the term as its predicate, as the class of a resource (``rdf:type``), or as
its object otherwise (another term's domain, range, superclass or
superproperty, a replacement, a value). Not uses: the term's own statements
in the ontology graph, and the changesets' records of past edits (a
changeset names every term it touched, and would otherwise keep a term
alive for ever).

Index lookups (``Store.quads_for_pattern``) with the term bound as a term:
nothing is pasted into query text, and every count stops at ``cap``, so the
cost is bounded whatever the size of the store (a count that reached the
cap is shown as "cap or more").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pyoxigraph import NamedNode, Quad, Store

from ontology.layout import Layout
from ontology.namespaces import RDF

#: Statements counted for a delete page, at most.
USAGE_CAP = 10_000
#: Uses counted for each term of the trees, at most.
TREE_CAP = 100
#: Statements shown as examples of a use.
SAMPLE = 10


@dataclass(frozen=True, slots=True)
class TermUsage:
    """How a term is used: counts by kind of use (each at most the cap) and a sample of statements."""

    as_predicate: int
    as_class: int
    as_object: int
    #: Some count reached the cap: the true figure is larger.
    capped: bool
    sample: tuple[Quad, ...]

    @property
    def total(self) -> int:
        return self.as_predicate + self.as_class + self.as_object


def term_usage(store: Store, iri: str, layout: Layout, cap: int = USAGE_CAP, sample: int = SAMPLE) -> TermUsage:
    """The uses of ``iri`` in ``store`` (see the module docstring)."""
    term = NamedNode(iri)
    shown: list[Quad] = []

    def counted(quads: Iterable[Quad]) -> int:
        n = 0
        for quad in _uses(quads, term, layout):
            n += 1
            if len(shown) < sample:
                shown.append(quad)
            if n >= cap:
                break
        return n

    as_predicate = counted(store.quads_for_pattern(None, term, None, None))
    as_class = counted(store.quads_for_pattern(None, RDF.type, term, None))
    as_object = counted(q for q in store.quads_for_pattern(None, None, term, None) if q.predicate != RDF.type)
    return TermUsage(
        as_predicate, as_class, as_object, cap in (as_predicate, as_class, as_object), tuple(shown)
    )


def use_counts(store: Store, iris: Iterable[str], layout: Layout, cap: int = TREE_CAP) -> dict[str, int]:
    """For each class its resources, for each property its statements, outside the ontology graph.

    ``iris`` are classes and properties mixed: a term is counted both ways
    and the larger count is kept (a class is rarely a predicate). Each count
    stops at ``cap``.
    """
    found: dict[str, int] = {}
    for iri in iris:
        term = NamedNode(iri)
        typed = _bounded(store.quads_for_pattern(None, RDF.type, term, None), layout, cap)
        stated = _bounded(store.quads_for_pattern(None, term, None, None), layout, cap)
        found[iri] = max(typed, stated)
    return found


def _bounded(quads: Iterable[Quad], layout: Layout, cap: int) -> int:
    n = 0
    for quad in quads:
        graph = quad.graph_name
        if isinstance(graph, NamedNode) and (graph == layout.ontology_graph or graph.value.startswith(layout.changesets)):
            continue
        n += 1
        if n >= cap:
            break
    return n


def _uses(quads: Iterable[Quad], term: NamedNode, layout: Layout) -> Iterator[Quad]:
    for quad in quads:
        graph = quad.graph_name
        if isinstance(graph, NamedNode):
            if graph.value.startswith(layout.changesets):
                continue
            if graph == layout.ontology_graph and quad.subject == term:
                continue
        yield quad
