"""Keep associations in step with the store: the projection and the derived graph, after an ingest.

Composition (it wires ``graph`` and ``query``, which may not import each
other's callers): at the end of a writing session, before its checkpoint,
``refresh_associations`` brings the projection up to date
(``graph.projection.refresh``: incremental unless none can be trusted),
recomputes the association lists of the works a change can have touched
(``query.association.AssociationIndex.affected``), writes their nodes in the
derived graph (``graph.derived``) with the new projection's token, and saves
the projection. The checkpoint the session then publishes carries that token,
so the server loads the projection that matches what it serves.

Why at the end of ``catalograph ingest`` and not after each edit of a
writer: an edit through SPARQL Update or the Graph Store Protocol is one
request that must answer fast, and may touch a unit thousands of works use;
the record index and the ledger remember what it changed (a NULL hash, a
unit edit), so the next ingest, or ``catalograph related --refresh``, reads
those resources again. Until then the server keeps answering from the
projection of the checkpoint it serves, which stays consistent with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Store

from graph.derived import AssociationNode, read_token, write_associations
from graph.projection import Projection, load, refresh, save
from graph.writer import Writer
from ontology.layout import Layout
from query.association import TOP_K, AssociationIndex
from query.related import Association, Labels, role_names


@dataclass
class AssociationRefresh:
    """What a refresh did: for the ingest's summary and ``bench/association.py``."""

    full: bool
    reason: str
    resources_read: int
    works_listed: int
    lists_changed: int
    quads_written: int
    projection_seconds: float
    lists_seconds: float
    write_seconds: float
    token: str

    def summary(self) -> str:
        how = "rebuilt" if self.full else "updated"
        return (
            f"associations {how} in {self.projection_seconds + self.lists_seconds + self.write_seconds:.1f} s: "
            f"{self.resources_read:,} resource(s) read, lists of {self.works_listed:,} work(s) "
            f"computed, {self.lists_changed:,} changed"
        )


def refresh_associations(
    writer: Writer, layout: Layout, data_dir: Path, *, full: bool = False
) -> AssociationRefresh:
    """Bring the projection and the derived graph of ``writer``'s store up to date (module docstring)."""
    store = writer.store
    token = None if full else read_token(store, layout)
    done = refresh(store, writer.session.index.db, layout, data_dir, token)
    projection = done.projection
    if not done.full and not projection.changed_resources and not projection.changed_units:
        return AssociationRefresh(
            False, "nothing changed", 0, 0, 0, 0, done.seconds, 0.0, 0.0, token or ""
        )
    started = time.perf_counter()
    index = AssociationIndex(projection)
    previous = load(data_dir, token) if token and not done.full else None
    lists_before = previous.lists() if previous is not None else {}
    if previous is None:
        positions = set(range(len(index.works)))
    else:
        positions = index.affected(
            AssociationIndex(previous),
            projection.changed_resources or set(),
            lists_before,
            projection.changed_units or set(),
        )
    lists = index.lists(positions)
    if previous is not None:  # a list that came out as it was keeps its nodes as they are
        lists = {
            p: items for p, items in lists.items()
            if [(index.work_iri(t), score) for t, score in items] != lists_before.get(index.work_iri(p), [])
        }  # fmt: skip
    nodes = _nodes(index, store, layout, lists)
    lists_seconds = time.perf_counter() - started
    started = time.perf_counter()
    current = {index.work_iri(p) for p in range(len(index.works))}
    gone = [source for source in lists_before if source not in current]
    merged = {s: items for s, items in lists_before.items() if s in current}
    merged.update({source: [(n.target, n.score) for n in items] for source, items in nodes.items()})
    merged = {s: items for s, items in merged.items() if items}
    # a store with no association at all keeps no derived quad (not even the token)
    token_stated = projection.token if merged else None
    written = write_associations(
        store, layout, token_stated, nodes, replace_all=previous is None, gone=gone
    )
    projection.set_lists(merged)
    save(projection, data_dir)
    writer.session.changed = True
    return AssociationRefresh(
        full=previous is None,
        reason=done.reason,
        resources_read=len(projection.changed_resources)
        if projection.changed_resources is not None
        else len(projection.resources),
        works_listed=len(positions),
        lists_changed=len(lists),
        quads_written=written,
        projection_seconds=done.seconds,
        lists_seconds=lists_seconds,
        write_seconds=time.perf_counter() - started,
        token=projection.token,
    )


def _nodes(
    index: AssociationIndex, store: Store, layout: Layout, lists: dict[int, list[tuple[int, float]]]
) -> dict[str, list[AssociationNode]]:
    """The association nodes of each listed work, explained as ``related`` explains them."""
    association = Association(index, store, layout)
    labels = Labels(store, ("en",), role_names=role_names(("en",)))
    nodes: dict[str, list[AssociationNode]] = {}
    for source, items in lists.items():
        seed = index.row_units(index.W, source)
        source_iri = index.work_iri(source)
        nodes[source_iri] = []
        for rank, (target, score) in enumerate(items[:TOP_K], start=1):
            units, words = association.explain(seed, target, labels)
            nodes[source_iri].append(
                AssociationNode(
                    source=source_iri,
                    target=index.work_iri(target),
                    rank=rank,
                    score=score,
                    units=tuple(u.iri for u in units),
                    explanation=words,
                )
            )
    return nodes


def projection_of(store: Store, layout: Layout, data_dir: Path) -> Projection | None:
    """The projection that matches ``store`` (a checkpoint), or ``None`` if none was saved."""
    token = read_token(store, layout)
    return load(data_dir, token) if token else None
