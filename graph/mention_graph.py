"""The derived graph of mentions: which units a work's abstracts and contents notes name.

One graph, ``{base}graph/derived/mentions``, holds every mention node and
nothing else; a node is a fragment of it, named from the work, the unit and
the field, so the same mention found again is the same node::

    <…/mentions#m3fa…> a cg:Mention ; cg:mentionedIn <work/k1> ;
        cg:mentionOf <concept/k3> ; cg:textProperty bf:summary ;
        cg:mentionCount 2 .
    <work/k1> cg:mentions <concept/k3> .

(the ontology's mention terms; a node stands for every occurrence of the unit
in that property's texts, so it carries a count and no offsets). The direct
``cg:mentions`` link is for queries that need no count.

Written by the writer that holds the store (``web.mentions_refresh``), work
by work and only the difference with what the graph holds, so refreshing a
store where little changed writes little.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence

from pyoxigraph import Literal, NamedNode, Quad, Store

from ontology.layout import Layout
from ontology.namespaces import BF, CG, RDF, XSD

MENTIONS = "derived/mentions"
#: The field names of ``query.mentions`` -> the property whose texts they are.
FIELDS = {"summary": BF.summary, "tableOfContents": BF.tableOfContents}
#: New mention quads written at once.
BATCH_QUADS = 10_000


def mentions_graph(layout: Layout) -> NamedNode:
    return NamedNode(f"{layout.graphs}{MENTIONS}")


def node_iri(layout: Layout, work: str, unit: str, field: str) -> NamedNode:
    return NamedNode(_node_value(mentions_graph(layout).value, work, unit, field))


def _node_value(graph: str, work: str, unit: str, field: str) -> str:
    key = f"{work}\n{unit}\n{field}".encode()
    return f"{graph}#m{hashlib.blake2b(key, digest_size=12).hexdigest()}"


def _work_quads(graph: NamedNode, work: NamedNode, found: Iterable[tuple[str, str, int]]) -> set[Quad]:
    """The quads of one work's mentions (``(unit, field, count)`` each: the shape in the module
    docstring), each term made once: making a
    ``NamedNode`` checks its IRI, and eight per mention were a tenth of a refresh's time."""
    quads: set[Quad] = set()
    units: dict[str, NamedNode] = {}
    for unit, field, count in found:
        node = NamedNode(_node_value(graph.value, work.value, unit, field))
        target = units.get(unit)
        if target is None:
            target = units[unit] = NamedNode(unit)
        quads.update((
            Quad(node, RDF.type, CG.Mention, graph),
            Quad(node, CG.mentionedIn, work, graph),
            Quad(node, CG.mentionOf, target, graph),
            Quad(node, CG.textProperty, FIELDS[field], graph),
            Quad(node, CG.mentionCount, Literal(str(count), datatype=XSD.integer), graph),
            Quad(work, CG.mentions, target, graph),
        ))
    return quads


def held_works(store: Store, layout: Layout) -> Iterator[str]:
    """The works the graph holds mentions of (with repeats), streamed."""
    graph = mentions_graph(layout)
    return (q.object.value for q in store.quads_for_pattern(None, CG.mentionedIn, None, graph))


def works_mentioning(store: Store, layout: Layout, units: Iterable[str]) -> set[str]:
    """The works the graph says mention any of ``units`` (a unit that lost a label: its works
    are matched again)."""
    graph = mentions_graph(layout)
    return {
        q.subject.value
        for unit in units
        for q in store.quads_for_pattern(None, CG.mentions, NamedNode(unit), graph)
    }


def write_mentions(
    store: Store,
    layout: Layout,
    found: Mapping[str, Sequence[tuple[str, str, int]]],
    gone: Iterable[str] = (),
) -> tuple[int, int]:
    """Make the mentions of ``found``'s works (``(unit, field, count)`` each) and of the
    ``gone`` works (none) what they say; returns (quads added, quads removed)."""
    graph = mentions_graph(layout)
    added = removed = 0
    pending: list[Quad] = []
    for work in sorted(set(found) | set(gone)):
        subject = NamedNode(work)
        held = set(store.quads_for_pattern(subject, CG.mentions, None, graph))
        for quad in store.quads_for_pattern(None, CG.mentionedIn, subject, graph):
            held.update(store.quads_for_pattern(quad.subject, None, None, graph))
        wanted = _work_quads(graph, subject, found.get(work, ()))
        for quad in held - wanted:
            store.remove(quad)
            removed += 1
        pending.extend(wanted - held)
        if len(pending) >= BATCH_QUADS:
            added += _flush(store, pending)
    added += _flush(store, pending)
    return added, removed


def _flush(store: Store, pending: list[Quad]) -> int:
    count = len(pending)
    if count >= 10_000:
        store.bulk_extend(pending)
    elif count:
        store.extend(pending)
    pending.clear()
    return count


def mention_quads(store: Store, layout: Layout) -> int:
    """Quads in the derived graph of mentions (for the benchmark's figures)."""
    return sum(1 for _ in store.quads_for_pattern(None, None, None, mentions_graph(layout)))
