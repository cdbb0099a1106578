"""A resource's neighbourhood for the graph view: the resources it links to and that link to it.

Readers wander from a work to its subjects, contributors and editions, and
from there on; the graph view draws this neighbourhood and grows it a node at
a time. Only resources a reader can open are nodes (works, instances,
agents, concepts, places, events: our own or an authority's IRI the store
describes); literals, a record's own nodes and vocabulary terms are not. A
record's subsidiary node is looked through: a work's contribution
(``{work}#contribution-…``) becomes an edge from the work to the agent,
labelled with the agent's roles; an instance's provision activity an edge to
its place.

Bounded by construction, whatever the resource: at most ``SCAN`` statements
read in each direction and ``MAX_EDGES`` edges kept, each node's labels read
with a few indexed seeks. So it answers in the request thread (no SPARQL is
run), in milliseconds even for an author of thousands of works, and says when
it was cut (``cut``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pyoxigraph import BlankNode, Literal, NamedNode, Store

from graph.search_documents import kinds_by_class
from ontology.layout import Layout
from ontology.namespaces import BF, CG, RDF
from query.browse import labels_of
from query.listings import best_label

#: Statements read in each direction (out of the node, into it).
SCAN = 2000
#: Edges kept in each direction.
MAX_EDGES = 60
#: Predicates that say nothing a reader follows (bookkeeping, links to records).
_SKIPPED = frozenset(
    {RDF.type.value, CG.linkedWork.value, CG.linkedInstance.value, CG.explainedBy.value,
     CG.source.value, CG.target.value}
)  # fmt: skip
#: Subsidiary nodes looked through, and the predicate of theirs that leads on.
_THROUGH = {
    BF.contribution.value: (BF.agent.value,),
    BF.provisionActivity.value: (BF.place.value, BF.agent.value),
}


@dataclass(slots=True)
class Node:
    iri: str
    label: str
    lang: str | None
    kind: str


@dataclass(slots=True)
class Edge:
    source: str
    target: str
    #: The predicate, and the subsidiary node's predicate when it was looked through.
    predicate: str
    via: str | None = None
    #: Relator role IRIs of a contribution.
    roles: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Neighbourhood:
    center: str
    nodes: list[Node]
    edges: list[Edge]
    #: More statements than were read, or edges than were kept: the view is partial.
    cut: bool = False


@lru_cache(maxsize=1)
def _kinds() -> dict[str, str]:
    return kinds_by_class()


class NeighbourhoodReader:
    """Reads neighbourhoods from one store for a reader of ``languages``."""

    def __init__(self, store: Store, layout: Layout, languages: Sequence[str] = ()) -> None:
        self.store, self.layout, self.languages = store, layout, list(languages)
        self._nodes: dict[str, Node | None] = {}

    def read(self, iri: str) -> Neighbourhood | None:
        """The neighbourhood of ``iri``; ``None`` when it is no node a reader can open."""
        center = self.node(iri)
        if center is None:
            return None
        edges: list[Edge] = []
        cut = self._outgoing(iri, edges) | self._incoming(iri, edges)
        seen = {iri}
        nodes = [center]
        for edge in edges:
            for end in (edge.source, edge.target):
                if end not in seen:
                    seen.add(end)
                    found = self.node(end)
                    if found is not None:
                        nodes.append(found)
        return Neighbourhood(iri, nodes, edges, cut)

    def node(self, iri: str) -> Node | None:
        """``iri`` as a node (its label and kind), or ``None`` if a reader cannot open it."""
        if iri not in self._nodes:
            self._nodes[iri] = self._find(iri)
        return self._nodes[iri]

    def _find(self, iri: str) -> Node | None:
        if "#" in iri and iri.startswith(self.layout.base):
            return None
        kind = self.layout.kind(iri)
        if kind is None:
            node = NamedNode(iri)
            for quad in self.store.quads_for_pattern(node, RDF.type, None, None):
                kind = _kinds().get(quad.object.value)
                if kind is not None:
                    break
        if kind is None or kind == "graph":
            return None
        labels = labels_of(self.store, iri)
        if not labels and not iri.startswith(self.layout.base):
            return None  # an outside IRI the store does not describe: no page here
        best = best_label(labels, self.languages)
        if best is None:
            return Node(iri, iri.rstrip("/").rpartition("/")[2], None, kind)
        return Node(iri, best.value, best.language, kind)

    def _outgoing(self, iri: str, edges: list[Edge]) -> bool:
        kept = 0
        read = 0
        for quad in self.store.quads_for_pattern(NamedNode(iri), None, None, None):
            read += 1
            if read > SCAN or kept >= MAX_EDGES:
                return True
            predicate, target = quad.predicate.value, quad.object
            if predicate in _SKIPPED or isinstance(target, Literal):
                continue
            if self._subsidiary(target):
                for edge in self._through(iri, predicate, target):
                    if kept < MAX_EDGES and _new(edges, edge):
                        edges.append(edge)
                        kept += 1
                continue
            edge = Edge(iri, target.value, predicate)
            if self.node(target.value) is not None and _new(edges, edge):
                edges.append(edge)
                kept += 1
        return False

    def _through(self, iri: str, predicate: str, node: NamedNode | BlankNode) -> list[Edge]:
        leads = _THROUGH.get(predicate)
        if leads is None:
            return []
        found: list[Edge] = []
        roles = []
        for quad in self.store.quads_for_pattern(node, None, None, None):
            inner = quad.predicate.value
            if inner == BF.role.value and isinstance(quad.object, NamedNode):
                roles.append(quad.object.value)
            elif (
                inner in leads
                and isinstance(quad.object, NamedNode)
                and self.node(quad.object.value) is not None
            ):
                found.append(Edge(iri, quad.object.value, predicate, via=inner))
            if len(found) > 8:
                break
        for edge in found:
            if edge.via == BF.agent.value and predicate == BF.contribution.value:
                edge.roles = sorted(set(roles))
        return found

    def _incoming(self, iri: str, edges: list[Edge]) -> bool:
        kept = 0
        read = 0
        for quad in self.store.quads_for_pattern(None, None, NamedNode(iri), None):
            read += 1
            if read > SCAN or kept >= MAX_EDGES:
                return True
            predicate, source = quad.predicate.value, quad.subject
            if predicate in _SKIPPED:
                continue
            if self._subsidiary(source):
                owners = self._owners(source)
                for owner, outer in owners:
                    edge = Edge(owner, iri, outer, via=predicate)
                    if outer in _THROUGH and self.node(owner) is not None and _new(edges, edge):
                        if outer == BF.contribution.value:
                            edge.roles = self._roles(source)
                        edges.append(edge)
                        kept += 1
                continue
            edge = Edge(source.value, iri, predicate)
            if self.node(source.value) is not None and _new(edges, edge):
                edges.append(edge)
                kept += 1
        return False

    def _owners(self, node: NamedNode | BlankNode) -> list[tuple[str, str]]:
        """Who points at a subsidiary node, and by what (a work at its contribution)."""
        found = []
        for quad in self.store.quads_for_pattern(None, None, node, None):
            if isinstance(quad.subject, NamedNode) and not self._subsidiary(quad.subject):
                found.append((quad.subject.value, quad.predicate.value))
            if len(found) >= 4:
                break
        return found

    def _roles(self, node: NamedNode | BlankNode) -> list[str]:
        return sorted(
            {q.object.value for q in self.store.quads_for_pattern(node, BF.role, None, None)}
        )

    def _subsidiary(self, term: object) -> bool:
        return isinstance(term, BlankNode) or (
            isinstance(term, NamedNode) and term.value.startswith(self.layout.base) and "#" in term.value
        )


def _new(edges: list[Edge], edge: Edge) -> bool:
    return not any(
        e.source == edge.source and e.target == edge.target and e.predicate == edge.predicate
        for e in edges
    )
