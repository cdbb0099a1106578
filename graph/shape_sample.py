"""Bounded slices of a store for the SHACL shapes: focus nodes per class, with what their shapes read.

pyshacl holds its whole data graph in memory and its time grows faster than
the graph, so a store is never handed to it whole. ``shape_slices`` walks the
classes the shapes target (``sh:targetClass``), takes at most ``limit`` focus
nodes of each (a class's subclasses included, in the store's index order),
and cuts them into chunks of ``chunk`` nodes. Each chunk becomes one small
graph: the focus nodes' own statements, the statements of every node they
point to (a title, a contribution, the work of an instance), and the types of
the nodes those point to in turn (the agent of a contribution, checked with
``sh:class``). A shape that looks at most one step beyond its focus node sees
everything it needs for the nodes of the first two rings; results about nodes
of the third ring (seen only by their types) are not to be trusted, so the
slice names the nodes whose results count (``complete``).

Memory is bounded by ``chunk`` times the statements per node, itself capped
(``max_statements_per_node``): a node with more is left out of ``complete``
and counted as skipped, never loaded whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pyoxigraph import BlankNode, NamedNode, Quad, RdfFormat, Store, Triple, parse, serialize

from ontology.hierarchy import ClassHierarchy, class_hierarchy
from ontology.namespaces import RDF
from ontology.vocabulary import shapes_path

_TARGET_CLASS = NamedNode("http://www.w3.org/ns/shacl#targetClass")

#: Focus nodes per class when the caller does not say.
DEFAULT_LIMIT = 200
#: Focus nodes validated together (one pyshacl run).
DEFAULT_CHUNK = 100
#: A node with more statements than this is not loaded (a shared unit stated by thousands of records).
MAX_STATEMENTS_PER_NODE = 5_000


@dataclass(frozen=True, slots=True)
class ShapeSlice:
    """One chunk of focus nodes of ``target`` and the statements their shapes read, as N-Triples."""

    target: NamedNode
    focus: tuple[NamedNode | BlankNode, ...]
    #: Nodes whose every statement is in ``ntriples`` (the focus nodes and the nodes they point to).
    complete: frozenset[str]
    #: Nodes left out because they have more than ``max_statements_per_node`` statements.
    skipped: int
    ntriples: bytes


def shape_target_classes() -> list[NamedNode]:
    """The classes ``shapes.ttl`` targets, in the order it names them (each once).

    >>> from ontology.namespaces import BF
    >>> classes = shape_target_classes()
    >>> BF.Instance in classes and BF.Agent in classes
    True
    """
    found: dict[NamedNode, None] = {}
    for triple in parse(path=shapes_path(), format=RdfFormat.TURTLE):
        if triple.predicate == _TARGET_CLASS and isinstance(triple.object, NamedNode):
            found[triple.object] = None
    return list(found)


def focus_nodes(
    store: Store, cls: NamedNode, limit: int, hierarchy: ClassHierarchy | None = None
) -> Iterator[NamedNode | BlankNode]:
    """Distinct subjects typed ``cls`` or one of its subclasses, at most ``limit`` (0: all), streamed."""
    seen: set[NamedNode | BlankNode] = set()
    for kind in (cls, *(hierarchy or class_hierarchy()).descendants(cls)):
        for quad in store.quads_for_pattern(None, RDF.type, kind, None):
            if quad.subject in seen or not isinstance(quad.subject, NamedNode | BlankNode):
                continue
            seen.add(quad.subject)
            yield quad.subject
            if limit and len(seen) >= limit:
                return


def shape_slices(
    store: Store,
    *,
    limit: int = DEFAULT_LIMIT,
    chunk: int = DEFAULT_CHUNK,
    classes: Iterable[NamedNode] | None = None,
    max_statements_per_node: int = MAX_STATEMENTS_PER_NODE,
) -> Iterator[ShapeSlice]:
    """Slices of ``store`` for every class the shapes target (or ``classes``), chunk by chunk."""
    hierarchy = class_hierarchy()
    for cls in shape_target_classes() if classes is None else classes:
        batch: list[NamedNode | BlankNode] = []
        for node in focus_nodes(store, cls, limit, hierarchy):
            batch.append(node)
            if len(batch) == chunk:
                yield _slice(store, cls, batch, max_statements_per_node)
                batch = []
        if batch:
            yield _slice(store, cls, batch, max_statements_per_node)


def describe_nodes(
    store: Store, nodes: Iterable[NamedNode | BlankNode], max_statements_per_node: int = MAX_STATEMENTS_PER_NODE
) -> ShapeSlice:
    """The slice the shapes need to judge ``nodes`` (whatever their classes): an edit's resources."""
    return _slice(store, RDF.type, list(nodes), max_statements_per_node)


def _slice(store: Store, cls: NamedNode, focus: list, cap: int) -> ShapeSlice:
    triples: set[Triple] = set()
    complete: set[str] = set()
    skipped = 0
    ring = list(focus)
    seen = set(ring)
    for _depth in range(2):  # the focus nodes, then the nodes they point to
        following: list = []
        for node in ring:
            statements = _statements(store, node, cap)
            if statements is None:
                skipped += 1
                continue
            complete.add(_name(node))
            for triple in statements:
                triples.add(triple)
                if triple.predicate == RDF.type:
                    continue  # a class is not a node to describe (the ontology may be in the store)
                if isinstance(triple.object, NamedNode | BlankNode) and triple.object not in seen:
                    seen.add(triple.object)
                    following.append(triple.object)
        ring = following
    for node in ring:  # the third ring: types only, for sh:class
        for quad in _limited(store.quads_for_pattern(node, RDF.type, None, None), cap):
            triples.add(Triple(quad.subject, quad.predicate, quad.object))
    return ShapeSlice(
        target=cls,
        focus=tuple(focus),
        complete=frozenset(complete),
        skipped=skipped,
        ntriples=serialize(triples, format=RdfFormat.N_TRIPLES) or b"",
    )


def _statements(store: Store, node: NamedNode | BlankNode, cap: int) -> list[Triple] | None:
    """The statements about ``node`` in every graph, each once; ``None`` past ``cap`` quads."""
    found: dict[Triple, None] = {}
    for count, quad in enumerate(store.quads_for_pattern(node, None, None, None), 1):
        if count > cap:
            return None
        found[Triple(quad.subject, quad.predicate, quad.object)] = None
    return list(found)


def _limited(quads: Iterable[Quad], cap: int) -> Iterator[Quad]:
    for count, quad in enumerate(quads, 1):
        if count > cap:
            return
        yield quad


def _name(node: NamedNode | BlankNode) -> str:
    """How ``ontology.validation`` names the node in its results (blank nodes of the one chunk: ``c0_``)."""
    return node.value if isinstance(node, NamedNode) else f"c0_{node.value}"
