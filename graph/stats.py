"""Counts of what a store holds: the one place resources are counted.

``catalograph stats``, the home page, ``/-/stats`` and VoID all show these
figures, so they agree. What is counted:

- ``classes``: per class, the distinct resources typed with it *or with one
  of its subclasses* in the ontology (``ontology.hierarchy``), for every class
  the store states and every kind of knowledge unit. A resource typed only
  ``bf:Manuscript`` counts for ``bf:Work``; one typed ``bf:Instance`` and
  ``bf:Print`` counts once for ``bf:Instance``.
- ``groups``: each kind of knowledge unit's count, named in the plural
  (``works`` is ``classes[bf:Work]``), in the order the ontology states them.
- ``entities``: distinct resources that have any class.
- ``quads`` (what ``COUNT(*)`` over the union sees: pyoxigraph 0.5 repeats a
  statement once per graph holding it, oxigraph#1919), ``named_graphs``, and
  ``record_graphs`` (``classes[cg:RecordGraph]``).

How: index scans, not SPARQL (all SPARQL text lives in ``query/``, which
``graph`` may not import), in constant memory. Every ``rdf:type`` quad is read
once; Oxigraph returns them from its POSG index, so the quads of one class
come together and, within them, those of one subject (tests check this): a
subject typed in many record graphs (a shared Work) is met once per class.
Met under class D, it counts for ``entities`` if D is the class the store
lists first for it (one lookup), and for each counted class A that D is a
kind of unless a class of A ranked before D types it too (A ranks first, so
a subject typed A as well costs one lookup). The default graph, written only
by SPARQL Update, comes before the named graphs in the scan; a type stated in
both counts from the default graph only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyoxigraph import DefaultGraph, NamedNode, Quad, Store

from ontology.hierarchy import ClassHierarchy, class_hierarchy
from ontology.namespaces import CG, RDF, compact

__all__ = ["Figures", "compact", "count", "group_name", "stats"]

#: Type quads of one subject read at once (see ``_ClassCounter._classes_of``).
_FEW_QUADS = 8
_TYPE = RDF.type


@dataclass(frozen=True, slots=True)
class Figures:
    """What one store holds, counted once for every page and command that shows it."""

    quads: int
    named_graphs: int
    entities: int
    #: Class IRI -> distinct resources of the class or its subclasses (none at zero).
    classes: dict[str, int]
    #: ``"works"`` -> distinct works, for every kind of knowledge unit (zeros included).
    groups: dict[str, int]

    @property
    def record_graphs(self) -> int:
        return self.classes.get(CG.RecordGraph.value, 0)

    def totals(self) -> dict[str, int]:
        """Quads, graphs, entities, then each kind of knowledge unit."""
        return {
            "quads": self.quads,
            "named_graphs": self.named_graphs,
            "record_graphs": self.record_graphs,
            "entities": self.entities,
            **self.groups,
        }

    def by_class(self) -> dict[str, int]:
        """``classes`` by compact name (``bf:Work``), largest first."""
        ranked = sorted(self.classes.items(), key=lambda item: (-item[1], item[0]))
        return {compact(iri): n for iri, n in ranked}

    def summary(self) -> dict[str, object]:
        """The figures as ``catalograph stats --json`` and ``/-/stats`` give them."""
        return {**self.totals(), "classes": self.by_class()}


def group_name(cls: NamedNode) -> str:
    """The plural a kind of knowledge unit is counted under.

    >>> from ontology.namespaces import BF, SKOS
    >>> group_name(BF.Work), group_name(SKOS.Concept), group_name(BF.Identifier)
    ('works', 'concepts', 'identifiers')
    """
    local = re.split(r"[#/]", cls.value)[-1].lower()
    return local + ("es" if local.endswith(("s", "x", "ch", "sh")) else "s")


def count(store: Store, hierarchy: ClassHierarchy | None = None) -> Figures:
    """Count ``store`` (see the module's docstring); ``hierarchy`` defaults to the ontology's."""
    counter = _ClassCounter(store, hierarchy or class_hierarchy())
    for subject, cls, graph in _typings(store):
        counter.add(subject, cls, graph)
    units = counter.hierarchy.units
    return Figures(
        quads=len(store),
        named_graphs=sum(1 for _ in store.named_graphs()),
        entities=counter.entities,
        classes={cls.value: n for cls, n in counter.classes.items() if n},
        groups={group_name(unit): counter.classes.get(unit, 0) for unit in units},
    )


def stats(store: Store) -> dict[str, object]:
    """``count(store).summary()``: the figures as a plain dict."""
    return count(store).summary()


def _typings(store: Store) -> Iterator[tuple[Any, Any, Any]]:
    """Every ``(subject, class)`` stated with ``rdf:type`` once, in POSG order, with a graph stating it."""
    in_default = next(iter(store.quads_for_pattern(None, _TYPE, None, DefaultGraph())), None)
    previous = None
    for quad in store.quads_for_pattern(None, _TYPE, None, None):
        subject, cls = quad.subject, quad.object
        if previous is not None and subject == previous[0] and cls == previous[1]:
            continue  # the same statement in another record graph
        previous = (subject, cls)
        graph = quad.graph_name
        if (
            in_default is not None
            and not isinstance(graph, DefaultGraph)
            and Quad(subject, _TYPE, cls, DefaultGraph()) in store
        ):
            continue  # counted when the default graph was read
        yield subject, cls, graph


class _ClassCounter:
    """Distinct subjects per counted class, and in all, from ``(subject, class)`` pairs."""

    def __init__(self, store: Store, hierarchy: ClassHierarchy) -> None:
        self.store = store
        self.hierarchy = hierarchy
        self.classes: dict[NamedNode, int] = dict.fromkeys(hierarchy.units, 0)
        self.entities = 0
        self._stated: dict[NamedNode, bool] = {}
        self._targets: dict[NamedNode, tuple[tuple[NamedNode, tuple[NamedNode, ...]], ...]] = {}

    def add(self, subject: Any, cls: Any, graph: Any) -> None:
        """Count ``subject``, stated in ``graph`` to be a ``cls``, where it counts."""
        first, known = self._classes_of(subject)
        if first == cls:
            self.entities += 1
        if not isinstance(cls, NamedNode):
            return
        for target, earlier in self._targets_of(cls):
            if known is not None:
                counted = not any(other in known for other in earlier)
            else:
                counted = not any(self._typed(subject, other, graph) for other in earlier)
            if counted:
                self.classes[target] = self.classes.get(target, 0) + 1

    def _classes_of(self, subject: Any) -> tuple[Any, list[Any] | None]:
        """The class the store lists first for ``subject``, and all of them if that is cheap.

        A subject stated in one record graph (a title, a note, an identifier)
        has a few ``rdf:type`` quads, read with the first; one stated in many
        graphs (a shared agent) has them once per graph, so after
        ``_FEW_QUADS`` its classes are looked up one by one instead.
        """
        found: list[Any] = []
        for seen, quad in enumerate(self.store.quads_for_pattern(subject, _TYPE, None, None)):
            if seen == _FEW_QUADS:
                return found[0], None
            if quad.object not in found:
                found.append(quad.object)
        return found[0], found

    def _targets_of(self, cls: NamedNode) -> tuple[tuple[NamedNode, tuple[NamedNode, ...]], ...]:
        """The classes a subject of ``cls`` counts for, each with the classes ranked before it.

        ``cls`` itself, and its superclasses that the store states or that are
        kinds of knowledge unit. A superclass ranks itself first, then its
        subclasses nearest first; only those the store states are looked up.
        """
        found = self._targets.get(cls)
        if found is None:
            targets = [(cls, ())]
            for above in self.hierarchy.ancestors(cls):
                if above in self.hierarchy.units or self._is_stated(above):
                    ranked = (above, *self.hierarchy.descendants(above))
                    before = ranked[: ranked.index(cls)]
                    targets.append((above, tuple(c for c in before if self._is_stated(c))))
            found = self._targets[cls] = tuple(targets)
        return found

    def _is_stated(self, cls: NamedNode) -> bool:
        known = self._stated.get(cls)
        if known is None:
            pattern = self.store.quads_for_pattern(None, _TYPE, cls, None)
            known = self._stated[cls] = next(iter(pattern), None) is not None
        return known

    def _typed(self, subject: Any, cls: NamedNode, graph: Any) -> bool:
        """Whether ``subject`` is a ``cls``; asked of ``graph`` first, where both types usually are.

        (A point lookup costs a third of opening an index scan.)
        """
        if Quad(subject, _TYPE, cls, graph) in self.store:
            return True
        pattern = self.store.quads_for_pattern(subject, _TYPE, cls, None)
        return next(iter(pattern), None) is not None
