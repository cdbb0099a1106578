"""The store: one on-disk pyoxigraph store per data directory, one writer at a time.

Public API (everything else in ``graph`` is internal)::

    from graph import Writer, open_latest_snapshot, open_store, dump, stats

    # write (the ingest command): one writer per data directory
    with Writer(data_dir, IriMinter(base).metadata_graph(), pipeline_version) as writer:
        for batch in batches_of_record_graphs:          # a few thousand each
            result = writer.write(batch)                # BatchResult: counts + collisions
    writer.totals, writer.recovered, writer.checkpoint_path

    # read while ingests may run (server, export, stats): a consistent checkpoint
    store = open_latest_snapshot(data_dir)              # read-only pyoxigraph Store

    # read or maintain the live store when no writer runs
    with open_store(data_dir, read_only=True) as store: ...

    dump(data_dir_or_store, out, "nq" | "trig" | RdfFormat)   # export
    stats(store) -> dict;  graph_count(store) -> int
    checkpoint(store, data_dir) -> Path;  latest_snapshot(data_dir) -> Path | None
    publish_first_checkpoint(data_dir) -> Path | None   # for a server finding none
    lock_holder(data_dir) -> "PID started host" | None

Errors reach the user as ``ontology.errors.StoreError`` (lock taken, disk
full, unreadable store), one line each. docs/storage.md describes the
layout, the write protocol and crash recovery.
"""

from graph.lock import lock_holder
from graph.snapshots import checkpoint, latest_snapshot, open_latest_snapshot
from graph.stats import stats
from graph.store import (
    dump,
    graph_count,
    open_store,
    publish_first_checkpoint,
    rdf_format,
    store_path,
)
from graph.writer import BatchResult, Collision, Writer

__all__ = [
    "BatchResult",
    "Collision",
    "Writer",
    "checkpoint",
    "dump",
    "graph_count",
    "latest_snapshot",
    "lock_holder",
    "open_latest_snapshot",
    "open_store",
    "publish_first_checkpoint",
    "rdf_format",
    "stats",
    "store_path",
]
