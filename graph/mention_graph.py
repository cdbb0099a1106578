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
store where little changed writes little. What a work holds is the state's
record of what was written (``graph.mention_state.work_found``) in a refresh
of what changed, and is read back from the graph in a full one.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

from graph.mention_state import set_found, work_found
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


def _work_lines(
    graph: str, work: str, found: Iterable[tuple[str, str, int]], links: Iterable[str] | None = None
) -> set[str]:
    """The quads of one work's mentions (``(unit, field, count)`` each: the shape in the module
    docstring) as N-Quads lines without their final `` .``, which is how ``str`` writes a
    ``Quad``: what the graph holds is compared with them as text, and they are loaded as text
    (``load_mentions``). No ``Quad`` or ``NamedNode`` is made for a mention: making them (an IRI
    check each) and holding them was most of the writing's time and memory. ``links``: the
    units whose ``cg:mentions`` line to write (default: those of ``found``)."""
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
        ))
        if links is None:
            lines.add(f"{subject} {_MENTIONS} {target} {g}")
    if links is not None:
        lines.update(f"{subject} {_MENTIONS} <{unit}> {g}" for unit in links)
    return lines


_TYPE, _MENTION, _IN, _OF = (f"<{t.value}>" for t in (RDF.type, CG.Mention, CG.mentionedIn, CG.mentionOf))
_PROPERTY, _COUNT, _MENTIONS = (f"<{t.value}>" for t in (CG.textProperty, CG.mentionCount, CG.mentions))
_INTEGER = f"<{XSD.integer.value}>"


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
    store: Store,
    layout: Layout,
    found: Iterator[tuple[str, Sequence[tuple[str, str, int]]]],
    pending: list[str],
    *,
    state: sqlite3.Connection | None = None,
    trusted: bool = False,
) -> tuple[int, bool]:
    """Make the mentions of each ``(work, mentions)`` of ``found`` (``(unit, field, count)``
    each; none: the work mentions nothing) what they say: the quads no longer wanted removed,
    the new ones appended to ``pending`` as N-Quads lines for ``load_mentions``. Returns (quads
    removed, whether ``found`` has more) once ``BATCH_QUADS`` lines wait or ``found`` is done.

    What a work holds: with ``state`` ``trusted``, the rows ``graph.mention_state.work_found``
    keeps of what the refreshes wrote (``_recorded_difference``: nothing read from the store,
    so the cost follows what changes, not what the matched works mention); else (a full
    refresh: the first, after a killed one, new matching rules, ``--full``, which trust
    nothing) every statement of every node of the work, read back (``_held_quads``). Each
    work's mentions are recorded into ``state`` (uncommitted: the caller commits after the
    store).

    ``found`` is consumed as it goes (the caller may match a work when it is asked for), so no
    more than one work's mentions and a bulk load's lines are held; and the caller may give
    memory back before the load (a bulk load into a large store reads the index blocks of the
    tables its own overlap: some 50 MB on the x10 benchmark store)."""
    graph = mentions_graph(layout)
    removed = 0
    for work, mentions in found:
        if state is not None and trusted:
            gone, new = _recorded_difference(graph, work, mentions, work_found(state, work))
        else:
            held, wanted = _held_quads(store, graph, work, mentions)
            gone, new = [held[line] for line in held.keys() - wanted], wanted.difference(held)
        if state is not None:
            set_found(state, work, mentions)
        # a node's link to its work last: a run killed in between leaves a node the next one finds
        gone.sort(key=lambda quad: quad.predicate == CG.mentionedIn)
        for quad in gone:
            store.remove(quad)
        removed += len(gone)
        pending.extend(new)
        if len(pending) >= BATCH_QUADS:
            return removed, True
    return removed, False


def _held_quads(
    store: Store, graph: NamedNode, work: str, mentions: Sequence[tuple[str, str, int]]
) -> tuple[dict[str, Quad], set[str]]:
    """Every statement ``work``'s mentions hold (its links, its nodes' statements) by its
    N-Quads line, and the lines wanted: the difference of the two is what to write."""
    subject = NamedNode(work)
    held = {str(q): q for q in store.quads_for_pattern(subject, CG.mentions, None, graph)}
    for quad in store.quads_for_pattern(None, CG.mentionedIn, subject, graph):
        held.update((str(q), q) for q in store.quads_for_pattern(quad.subject, None, None, graph))
    return held, _work_lines(graph.value, work, mentions)


def _recorded_difference(
    graph: NamedNode, work: str, mentions: Sequence[tuple[str, str, int]], recorded: Sequence[tuple[str, str, int]]
) -> tuple[list[Quad], set[str]]:
    """What to remove and what to add, from what the state recorded as written (``recorded``)
    with no read of the store: the lines of the old mentions against those of the new, a
    ``Quad`` made only for the lines that go.

    Reading a matched work's mentions back instead was most of an ingest's refresh, even
    as nodes with a count of their statements (a SPARQL query per work, a seek per node:
    some 70 us each on the x6 benchmark store), let alone decoding every statement
    (docs/benchmarks.md, 2026-12-07, ment17). The record is what the graph holds because
    the refreshes write the graph and write the record after the store (a SPARQL Update or
    Graph Store write into the derived graph is not seen: ``--refresh --full`` reads the
    graph back and makes it whole)."""
    old = _work_lines(graph.value, work, recorded)
    wanted = _work_lines(graph.value, work, mentions)
    gone = [next(iter(parse((line + " .").encode(), RdfFormat.N_QUADS))) for line in old - wanted]
    return gone, wanted - old  # type: ignore[return-value]


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
