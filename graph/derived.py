"""The derived graph of associations: what associative retrieval found, queryable over SPARQL.

Every statement lives in one graph (``ontology.layout``): the association
nodes are fragments of the graph ``{base}graph/derived/associations``
(``…/associations#a{hash of the source}-{rank}``), so all their statements
live there, and nothing else does. Each node::

    <…#a1f…-1> a cg:Association ; cg:source <work/k1> ; cg:target <work/k9> ;
        cg:rank 1 ; cg:score 0.412 ; cg:explainedBy <concept/k3>, <agent/k7> ;
        cg:explanation "Shares the subject *…* and the composer *…*."@en .

and the graph names the projection it was computed from
(``<…/associations> cg:projection "token"``; ``graph.projection``), which is
how a reader of a checkpoint finds the projection that matches it.

Written by the writer that holds the store (the ingest, at the end of its
session, before its checkpoint), never by readers, and only the difference
with what the graph holds. The token goes first (removed) and last (added): a
session killed in between leaves a graph with no token, which the next
session rebuilds whole instead of trusting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad, Store

from ontology.layout import Layout
from ontology.namespaces import CG, RDF, XSD

ASSOCIATIONS = "derived/associations"
#: Most association nodes one source may have (``query.association.TOP_K`` is below it).
MAX_RANK = 50


@dataclass(frozen=True, slots=True)
class AssociationNode:
    """One materialised association (computed in ``query.association``, written here)."""

    source: str
    target: str
    rank: int
    score: float
    units: tuple[str, ...]
    explanation: str


def associations_graph(layout: Layout) -> NamedNode:
    return NamedNode(f"{layout.graphs}{ASSOCIATIONS}")


def node_iri(layout: Layout, source: str, rank: int) -> NamedNode:
    digest = hashlib.blake2b(source.encode("utf-8"), digest_size=10).hexdigest()
    return NamedNode(f"{associations_graph(layout).value}#a{digest}-{rank}")


def read_token(store: Store, layout: Layout) -> str | None:
    """The token of the projection the store's associations were computed from, if whole."""
    graph = associations_graph(layout)
    for quad in store.quads_for_pattern(graph, CG.projection, None, graph):
        if isinstance(quad.object, Literal):
            return quad.object.value
    return None


def _quads(layout: Layout, node: AssociationNode) -> list[Quad]:
    graph = associations_graph(layout)
    subject = node_iri(layout, node.source, node.rank)
    quads = [
        Quad(subject, RDF.type, CG.Association, graph),
        Quad(subject, CG.source, NamedNode(node.source), graph),
        Quad(subject, CG.target, NamedNode(node.target), graph),
        Quad(subject, CG.rank, Literal(str(node.rank), datatype=XSD.integer), graph),
        Quad(subject, CG.score, Literal(f"{node.score:.9f}", datatype=XSD.decimal), graph),
    ]
    quads += [Quad(subject, CG.explainedBy, NamedNode(unit), graph) for unit in node.units]
    if node.explanation:
        quads.append(Quad(subject, CG.explanation, Literal(node.explanation, language="en"), graph))
    return quads


def write_associations(
    store: Store,
    layout: Layout,
    token: str | None,
    lists: Mapping[str, Sequence[AssociationNode]],
    *,
    replace_all: bool,
    gone: Iterable[str] = (),
) -> int:
    """Make the nodes of ``lists``' sources (and of ``gone`` sources: none) what ``lists`` says.

    ``replace_all``: every node of a source not in ``lists`` goes too (a full
    build). Only the difference is written, source by source (most lists an
    update recomputes come out as they were, and Oxigraph removes quads one
    transaction at a time), and new quads go in batches of ``BATCH_QUADS``, so
    memory stays bounded however many lists there are. Returns the number of
    quads added. ``token`` ``None``: the graph states none.
    """
    graph = associations_graph(layout)
    for quad in list(store.quads_for_pattern(graph, CG.projection, None, graph)):
        store.remove(quad)
    sources = set(gone)
    if replace_all:
        sources |= {
            q.object.value for q in store.quads_for_pattern(None, CG.source, None, graph)
            if isinstance(q.object, NamedNode) and q.object.value not in lists
        }  # fmt: skip
    added = 0
    pending: list[Quad] = []
    for source in sorted(sources | set(lists)):
        held = _held(store, layout, source, graph)
        wanted = {q for node in lists.get(source, ()) for q in _quads(layout, node)}
        for quad in held - wanted:
            store.remove(quad)
        pending.extend(wanted - held)
        if len(pending) >= BATCH_QUADS:
            added += _flush(store, pending)
    added += _flush(store, pending)
    if token is not None:  # None: the graph stays empty, leaving nothing of itself in the store
        store.add(Quad(graph, CG.projection, Literal(token), graph))
    return added


#: New association quads written at once (a bulk load, or a transaction when fewer).
BATCH_QUADS = 50_000


def _held(store: Store, layout: Layout, source: str, graph: NamedNode) -> set[Quad]:
    held: set[Quad] = set()
    for rank in range(1, MAX_RANK + 1):
        old = list(store.quads_for_pattern(node_iri(layout, source, rank), None, None, graph))
        if not old:
            break
        held.update(old)
    return held


def _flush(store: Store, pending: list[Quad]) -> int:
    count = len(pending)
    if count >= 10_000:
        store.bulk_extend(pending)
    elif count:
        store.extend(pending)
    pending.clear()
    return count


def association_quads(store: Store, layout: Layout) -> int:
    """Quads in the derived graph of associations (for the figures of the benchmark)."""
    return sum(1 for _ in store.quads_for_pattern(None, None, None, associations_graph(layout)))
