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
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse

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
    store: Store,
    layout: Layout,
    found: Iterator[tuple[str, Sequence[tuple[str, str, int]]]],
    pending: list[str],
    *,
    exhaustive: bool = False,
    state: sqlite3.Connection | None = None,
    trusted: bool = False,
) -> tuple[int, bool]:
    """Make the mentions of each ``(work, mentions)`` of ``found`` (``(unit, field, count)``
    each; none: the work mentions nothing) what they say: the quads no longer wanted removed,
    the new ones appended to ``pending`` as N-Quads lines for ``load_mentions``. Returns (quads
    removed, whether ``found`` has more) once ``BATCH_QUADS`` lines wait or ``found`` is done.

    What a work holds: with ``state`` ``trusted``, the rows ``graph.mention_state.work_found``
    keeps of what the last refreshes wrote (``_recorded_difference``: nothing read from the store);
    else read by ``_held_differing`` (its nodes, each with the number of its statements and
    its count, and the units it links), a node's statements only where they differ from what
    is wanted; ``exhaustive`` (a full refresh: after a killed one, new matching rules, or
    ``--full``, which trust nothing) reads every statement of every node. Each work's mentions
    are recorded into ``state`` (uncommitted: the caller commits after the store).

    ``found`` is consumed as it goes (the caller may match a work when it is asked for), so no
    more than one work's mentions and a bulk load's lines are held; and the caller may give
    memory back before the load (a bulk load into a large store reads the index blocks of the
    tables its own overlap: some 50 MB on the x10 benchmark store)."""
    graph = mentions_graph(layout)
    removed = 0
    for work, mentions in found:
        if state is not None and trusted and not exhaustive:
            gone, new = _recorded_difference(graph, work, mentions, work_found(state, work))
        else:
            held, wanted = (_held_quads if exhaustive else _held_differing)(store, graph, work, mentions)
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
    ``Quad`` made only for the lines that go."""
    old = _work_lines(graph.value, work, recorded)
    wanted = _work_lines(graph.value, work, mentions)
    gone = [next(iter(parse((line + " .").encode(), RdfFormat.N_QUADS))) for line in old - wanted]
    return gone, wanted - old  # type: ignore[return-value]


#: A work's nodes, each with how many statements it has and its count (-1: none), and the units
#: it links, in one query: only the nodes' and units' names are decoded (an integer literal is
#: held in its encoded term).
_HELD = (
    "SELECT ?n ?s ?c WHERE {{ GRAPH <{graph}> {{ "
    "{{ SELECT ?n (COUNT(*) AS ?s) (MAX(IF(?p = <" + CG.mentionCount.value + ">, ?o, -1)) AS ?c) "
    "WHERE {{ ?n <" + CG.mentionedIn.value + "> <{work}> . ?n ?p ?o }} GROUP BY ?n }} "
    "UNION {{ <{work}> <" + CG.mentions.value + "> ?n }} }} }}"
)
#: Statements of a node as ``_work_lines`` writes it.
NODE_STATEMENTS = 5


def _held_differing(
    store: Store, graph: NamedNode, work: str, mentions: Sequence[tuple[str, str, int]]
) -> tuple[dict[str, Quad], set[str]]:
    """``_held_quads``'s difference for a fraction of its reads: the statements held of the
    nodes and links that differ from those wanted, and the lines wanted but those of the nodes
    and links held as wanted. A node is named from its work, unit and field (``_node_value``)
    and this module writes it whole, so a node linked to the work that has five statements and
    the count wanted holds the five lines wanted; any other node held (one a killed run left
    short among them) is read statement by statement. Every statement of every node read and
    decoded (``_held_quads``) was most of an ingest's refresh: 590,000 statements read back to
    find 39 to remove (docs/benchmarks.md, 2026-12-07, ment17); the count of a node still costs
    a seek each."""
    g = graph.value
    nodes = {_node_value(g, work, unit, field): (unit, field, count) for unit, field, count in mentions}
    units = {unit for unit, _field, _count in mentions}
    held: dict[str, Quad] = {}
    kept_nodes: set[str] = set()
    kept_units: set[str] = set()
    subject = NamedNode(work)
    for name_term, statements, count in store.query(_HELD.format(graph=g, work=work)):  # type: ignore[misc]
        name = name_term.value
        if statements is None:  # a unit the work links
            if name in units:
                kept_units.add(name)
            else:
                quad = Quad(subject, CG.mentions, name_term, graph)
                held[str(quad)] = quad
            continue
        want = nodes.get(name)
        if (
            want is not None
            and int(statements.value) == NODE_STATEMENTS
            and isinstance(count, Literal)
            and count.datatype == XSD.integer
            and count.value == str(want[2])
        ):
            kept_nodes.add(name)
        else:
            held.update((str(q), q) for q in store.quads_for_pattern(name_term, None, None, graph))
    wanted = _work_lines(g, work, (m for node, m in nodes.items() if node not in kept_nodes), units - kept_units)
    return held, wanted


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
