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
from collections.abc import Iterable, Iterator, Sequence

from pyoxigraph import NamedNode, RdfFormat, Store

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


def _work_lines(graph: str, work: str, found: Iterable[tuple[str, str, int]]) -> set[str]:
    """The quads of one work's mentions (``(unit, field, count)`` each: the shape in the module
    docstring) as N-Quads lines without their final `` .``, which is how ``str`` writes a
    ``Quad``: what the graph holds is compared with them as text, and they are loaded as text
    (``load_mentions``). No ``Quad`` or ``NamedNode`` is made for a mention: making them (an IRI
    check each) and holding them was most of the writing's time and memory."""
    lines: set[str] = set()
    g, subject = f"<{graph}>", f"<{work}>"
    for unit, field, count in found:
        node, target = f"<{_node_value(graph, work, unit, field)}>", f"<{unit}>"
        lines.update((
            f"{node} {_TYPE} {_MENTION} {g}",
            f"{node} {_IN} {subject} {g}",
            f"{node} {_OF} {target} {g}",
            f"{node} {_PROPERTY} <{FIELDS[field].value}> {g}",
            f'{node} {_COUNT} "{count}"^^{_INTEGER} {g}',
            f"{subject} {_MENTIONS} {target} {g}",
        ))
    return lines


_TYPE, _MENTION, _IN, _OF = (f"<{t.value}>" for t in (RDF.type, CG.Mention, CG.mentionedIn, CG.mentionOf))
_PROPERTY, _COUNT, _MENTIONS = (f"<{t.value}>" for t in (CG.textProperty, CG.mentionCount, CG.mentions))
_INTEGER = f"<{XSD.integer.value}>"


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


def stage_mentions(
    store: Store, layout: Layout, found: Iterator[tuple[str, Sequence[tuple[str, str, int]]]], pending: list[str]
) -> tuple[int, bool]:
    """Make the mentions of each ``(work, mentions)`` of ``found`` (``(unit, field, count)``
    each; none: the work mentions nothing) what they say: the quads no longer wanted removed,
    the new ones appended to ``pending`` as N-Quads lines for ``load_mentions``. Returns (quads
    removed, whether ``found`` has more) once ``BATCH_QUADS`` lines wait or ``found`` is done.

    ``found`` is consumed as it goes (the caller may match a work when it is asked for), so no
    more than one work's mentions and a bulk load's lines are held; and the caller may give
    memory back before the load (a bulk load into a large store reads the index blocks of the
    tables its own overlap: some 50 MB on the x10 benchmark store)."""
    graph = mentions_graph(layout)
    removed = 0
    for work, mentions in found:
        subject = NamedNode(work)
        held = {str(q): q for q in store.quads_for_pattern(subject, CG.mentions, None, graph)}
        for quad in store.quads_for_pattern(None, CG.mentionedIn, subject, graph):
            held.update((str(q), q) for q in store.quads_for_pattern(quad.subject, None, None, graph))
        wanted = _work_lines(graph.value, work, mentions)
        for line in held.keys() - wanted:
            store.remove(held[line])
            removed += 1
        pending.extend(wanted.difference(held))
        if len(pending) >= BATCH_QUADS:
            return removed, True
    return removed, False


def load_mentions(store: Store, pending: list[str]) -> int:
    """``pending`` lines (``stage_mentions``) loaded and cleared: by the bulk loader when there
    are many (new tables, no log), else in one transaction. Returns how many."""
    count = len(pending)
    if count:
        data = (" .\n".join(pending) + " .\n").encode()
        if count >= BATCH_QUADS:
            store.bulk_load(data, format=RdfFormat.N_QUADS, lenient=True)
        else:
            store.load(data, format=RdfFormat.N_QUADS)
    pending.clear()
    return count


def mention_quads(store: Store, layout: Layout) -> int:
    """Quads in the derived graph of mentions (for the benchmark's figures)."""
    return sum(1 for _ in store.quads_for_pattern(None, None, None, mentions_graph(layout)))
