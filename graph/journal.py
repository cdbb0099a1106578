"""The write-ahead journal that makes non-transactional bulk loads crash-safe.

``Store.bulk_load`` is three times faster than a transaction but can leave half
a batch behind when the process dies. So before a batch touches any data, the
graphs it will drop, replace or write are listed, in one transaction, in a
journal graph::

    GRAPH <m/journal> { <m> cg:pendingGraph <g1>, <g2> ... }

(``<m>`` is the metadata graph holding the provenance of those graphs). The
batch removes the journal when it is complete. Whatever a killed batch left,
``recover`` drops every pending graph with its provenance, so the store holds
only complete record graphs and the next ingest rewrites the missing ones.
Recovery finds journal entries by their predicate in any graph, so it needs no
configuration (not even the base IRI) and is idempotent: a recovery killed in
its turn is simply run again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pyoxigraph import NamedNode, Quad, Store

from graph.provenance import drop_record_graph
from ontology.namespaces import CG

log = logging.getLogger(__name__)


def journal_graph(metadata_graph: NamedNode) -> NamedNode:
    return NamedNode(metadata_graph.value + "/journal")


def mark_pending(store: Store, metadata_graph: NamedNode, graphs: Iterable[NamedNode]) -> int:
    """List ``graphs`` as pending, in one transaction; returns how many."""
    journal = journal_graph(metadata_graph)
    quads = [Quad(metadata_graph, CG.pendingGraph, graph, journal) for graph in graphs]
    if quads:
        store.extend(quads)
    return len(quads)


def clear(store: Store, metadata_graph: NamedNode) -> None:
    """The batch is complete: forget its journal (one transaction)."""
    store.remove_graph(journal_graph(metadata_graph))


def pending(store: Store) -> list[Quad]:
    return list(store.quads_for_pattern(None, CG.pendingGraph, None, None))


def recover(store: Store) -> list[str]:
    """Drop every graph an interrupted batch left pending; returns their IRIs."""
    entries = pending(store)
    if not entries:
        return []
    dropped: list[str] = []
    journals = set()
    for entry in entries:
        graph, metadata_graph = entry.object, entry.subject
        if isinstance(graph, NamedNode) and isinstance(metadata_graph, NamedNode):
            drop_record_graph(store, graph, metadata_graph)
            dropped.append(graph.value)
        if isinstance(entry.graph_name, NamedNode):
            journals.add(entry.graph_name)
    for entry in entries:
        store.remove(entry)
    for journal in journals:
        store.remove_graph(journal)  # the now empty journal graph's name
    log.warning("rolled back %d record graph(s) of an interrupted batch", len(dropped))
    return dropped
