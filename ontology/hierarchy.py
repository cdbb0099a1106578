"""The class hierarchy of ``catalograph.ttl``: which classes are kinds of which.

Counting groups resources by what the ontology says, not by a list kept by
hand: BIBFRAME 2.2 made ``bf:Manuscript`` a kind of Work, and the ontology
states it (``bf:Manuscript rdfs:subClassOf bf:Work``), so a manuscript counts
as a work wherever resources are counted (``graph.stats``). The kinds of
knowledge unit (works, instances, agents, concepts, places, events,
identifiers) are the classes the ontology states to be direct subclasses of
``cg:KnowledgeUnit``, in the order it states them.

Only ``rdfs:subClassOf`` between named classes is read; no reasoner runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from pyoxigraph import NamedNode, Triple

from ontology.namespaces import CG, RDFS
from ontology.vocabulary import ontology_triples


@dataclass(frozen=True, slots=True)
class ClassHierarchy:
    """Direct super- and subclasses of every named class, and the kinds of knowledge unit."""

    parents: Mapping[NamedNode, tuple[NamedNode, ...]]
    children: Mapping[NamedNode, tuple[NamedNode, ...]]
    #: Direct subclasses of ``cg:KnowledgeUnit``, in the order the ontology states them.
    units: tuple[NamedNode, ...]

    @classmethod
    def from_triples(cls, triples: Iterable[Triple]) -> ClassHierarchy:
        """The hierarchy the ``rdfs:subClassOf`` statements of ``triples`` describe."""
        parents: dict[NamedNode, list[NamedNode]] = {}
        children: dict[NamedNode, list[NamedNode]] = {}
        for t in triples:
            if t.predicate != RDFS.subClassOf:
                continue
            if not isinstance(t.subject, NamedNode) or not isinstance(t.object, NamedNode):
                continue  # restrictions and other anonymous classes say nothing we count by
            if t.object not in parents.setdefault(t.subject, []):
                parents[t.subject].append(t.object)
                children.setdefault(t.object, []).append(t.subject)
        return cls(
            parents={k: tuple(v) for k, v in parents.items()},
            children={k: tuple(v) for k, v in children.items()},
            units=tuple(children.get(CG.KnowledgeUnit, ())),
        )

    def ancestors(self, cls: NamedNode) -> tuple[NamedNode, ...]:
        """Every superclass of ``cls``, nearest first, ``cls`` itself not included."""
        return self._walk(cls, self.parents)

    def descendants(self, cls: NamedNode) -> tuple[NamedNode, ...]:
        """Every subclass of ``cls``, nearest first, ``cls`` itself not included."""
        return self._walk(cls, self.children)

    @staticmethod
    def _walk(
        start: NamedNode, edges: Mapping[NamedNode, tuple[NamedNode, ...]]
    ) -> tuple[NamedNode, ...]:
        seen: dict[NamedNode, None] = {}
        todo = list(edges.get(start, ()))
        while todo:
            current = todo.pop(0)
            if current != start and current not in seen:  # a cycle stops here
                seen[current] = None
                todo.extend(edges.get(current, ()))
        return tuple(seen)


@lru_cache(maxsize=1)
def class_hierarchy() -> ClassHierarchy:
    """The hierarchy of the shipped ontology, read once per process.

    >>> from ontology.namespaces import BF, SKOS
    >>> hierarchy = class_hierarchy()
    >>> BF.Work in hierarchy.ancestors(BF.Manuscript), BF.Work in hierarchy.ancestors(BF.MusicAudio)
    (True, True)
    >>> BF.Instance in hierarchy.units and SKOS.Concept in hierarchy.units
    True
    """
    return ClassHierarchy.from_triples(ontology_triples())
