"""The data directory and the sessions that open its live store.

Layout of a data directory::

    data_dir/
      store/           the live pyoxigraph (RocksDB) store; only the writer opens it
      snapshots/       read-only checkpoints (hard links) and the CURRENT pointer
      record-index.sqlite  which graphs the store holds, and the write journal
      write.lock       held by the one writer (exclusive) or live readers (shared)

A writing session (``StoreSession``, used by ``graph.Writer`` and
``open_store``) takes the lock, deletes the temporary files a killed bulk load
leaves behind, opens the store and its record index (``graph.record_index``),
rolls back an interrupted batch from the journal, and at its end flushes and
publishes a checkpoint. An I/O error (a full disk
above all) closes the handle: RocksDB keeps failing on a handle that saw one,
so it is never reused, and the next session recovers. A full disk that
RocksDB meets in the background, where it retries instead of failing, is
found by ``graph.disk_space`` (free space checked before each phase, each
phase watched while it runs).
"""

from __future__ import annotations

import ctypes
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import NamedNode, RdfFormat, Store

from graph.disk_space import (
    MIN_FREE_BYTES,
    StallWatch,
    compaction_room,
    disk_full_error,
    is_disk_full,
    require_room,
)
from graph.lock import StoreLock
from graph.record_index import RecordIndex
from graph.snapshots import checkpoint, latest_snapshot, open_latest_snapshot
from ontology.errors import StoreError, UsageError

log = logging.getLogger(__name__)

STORE_DIR = "store"
#: Oxigraph's bulk loader writes ``bulk-<random u128>.sst`` into the store
#: directory and moves it into RocksDB when done; a killed load leaves it.
ORPHAN_GLOB = "bulk-*.sst"


def store_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / STORE_DIR


def store_error(exc: BaseException, action: str, where: Path) -> StoreError:
    """One line for the user from an ``OSError`` (pyoxigraph, the file system) or an
    ``sqlite3.Error`` (the record index); a full disk is a ``DiskFullError``."""
    if is_disk_full(exc):
        return disk_full_error(action, where, str(exc))
    return StoreError(f"cannot {action} the store at {where}: {exc}")


def remove_orphans(store_dir: Path) -> list[str]:
    """Delete what killed bulk loads left; only call with the exclusive lock held.

    RocksDB never references these files (a finished load renames them into
    its numbered tables), so deleting them loses nothing; they can be large.
    """
    removed = []
    for path in sorted(store_dir.glob(ORPHAN_GLOB)):
        path.unlink(missing_ok=True)
        removed.append(path.name)
    if removed:
        log.warning("removed %d temporary file(s) of an interrupted bulk load in %s", len(removed), store_dir)
    return removed


#: RocksDB's old information logs kept in the store's folder (``prune_info_logs``).
INFO_LOGS_KEPT = 10


def prune_info_logs(store_dir: Path, keep: int = INFO_LOGS_KEPT) -> int:
    """Delete all but the newest ``keep`` of RocksDB's old information logs; returns how many.

    RocksDB starts a new ``LOG`` (about 140 KB, mostly its options) each time the store
    is opened and keeps the old ones as ``LOG.old.<microseconds>``, up to a thousand:
    the writer reopens the store to give memory back, 113 times in the association
    benchmark's three steps, so a library's store folder would fill with 140 MB of them.
    They are for reading only (RocksDB never opens them again): deleting them loses
    nothing the store needs. Names sort by time (fixed-width microseconds).
    """
    old = sorted(store_dir.glob("LOG.old.*"))
    for path in old[: max(0, len(old) - keep)]:
        path.unlink(missing_ok=True)
    return max(0, len(old) - keep)


class StoreSession:
    """The one read-write handle on a data directory, from lock to checkpoint.

    ``on_stall``: told when a phase waits on RocksDB retrying a failed
    background job, a full disk above all (``graph.disk_space.StallWatch``);
    the call cannot be interrupted, so a command ends its process there.
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        make_checkpoint: bool = True,
        on_stall: Callable[[StoreError], None] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.path = store_path(self.data_dir)
        self.make_checkpoint = make_checkpoint
        self.lock = StoreLock(self.data_dir, exclusive=True)
        self.orphans_removed: list[str] = []
        self.recovered: list[str] = []
        self.index = RecordIndex(self.data_dir)
        self.watch = StallWatch(self.path, on_stall)
        #: Why the last checkpoint's compaction was skipped (``compaction_room``), or None.
        self.compaction_skipped: str | None = None
        self._changed = False
        self._unpublished_noted = False
        self._store: Store | None = None
        self._broken: StoreError | None = None
        #: Seconds the last checkpoint took to copy the search index.
        self.search_publish_seconds = 0.0

    @property
    def changed(self) -> bool:
        """Set by whoever writes; a session that changed nothing publishes no new checkpoint.

        Setting it also notes in the record index that the live store holds
        writes no checkpoint has yet: a session that stops before publishing
        (killed, a full disk) leaves the note, and the next session publishes
        even if it writes nothing (``RecordIndex.unpublished``).
        """
        return self._changed

    @changed.setter
    def changed(self, value: bool) -> None:
        if value and not self._unpublished_noted and self.index.is_open:
            with suppress(sqlite3.Error):  # a full disk fails the write that follows anyway
                self.index.note_unpublished(True)
                self._unpublished_noted = True
        self._changed = value

    def watching(self, action: str) -> AbstractContextManager[None]:
        """Mark a call into the store that may wait for RocksDB's background work."""
        return self.watch.phase(action)

    def open(self) -> Store:
        limit_malloc_arenas()
        self.lock.acquire()
        try:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                self.orphans_removed = remove_orphans(self.path)
                prune_info_logs(self.path)
                require_room("open", self.path, MIN_FREE_BYTES)  # recovery, RocksDB's log
                with self.watching("open"):
                    self._store = Store(str(self.path))
                    self.index.open(self._store, self.path)
                    self.recovered = self.index.recover(self._store)
                    self._unpublished_noted = self.index.unpublished()
            except (OSError, sqlite3.Error) as exc:
                self._store = None
                raise store_error(exc, "open", self.path) from exc
        except BaseException:
            self._store = None  # the last reference: RocksDB closes before the lock is released
            self.index.close()
            self.watch.stop()
            self.lock.release()
            raise
        self.changed = bool(self.recovered) or self._unpublished_noted or self.index.search_rebuilt
        return self._store

    @property
    def store(self) -> Store:
        if self._store is None:
            raise self._broken or StoreError(f"the store at {self.path} is not open")
        return self._store

    def reopen(self) -> Store:
        """Close and reopen the store, keeping the lock, to give its memory back.

        RocksDB keeps the index and filter blocks of every table it has read
        in memory (Oxigraph does not charge them to a bounded cache), so a
        long ingest's writer grows with the store. Closing frees them, and
        ``malloc_trim`` hands the freed pages back to the system. No flush
        first: it would wait for the compactions the bulk loads queued (10 s
        and more, measured), and whatever the memtables hold is in RocksDB's
        write-ahead log, which the reopen replays.
        """
        store = self.store
        self._store = None
        try:
            with self.watching("reopen"):
                del store
                release_freed_memory()
                self._store = Store(str(self.path))
        except OSError as exc:
            raise self.fail(exc, "reopen") from exc
        return self._store

    def wait_for_compactions(self) -> None:
        """Wait until RocksDB's compactions let writes through again.

        Each bulk load adds a table to the first level of every index, and past
        36 of them RocksDB holds every write (a transaction, a flush) until its
        compactions have merged them, taking their memory meanwhile. A step that
        made many bulk loads waits here, after giving back its own memory, so
        that the wait does not come in the next transaction, on top of what that
        step holds (the association build at x160 open-access records: 1,000
        loads, docs/benchmarks.md). A flush waits for it.
        """
        try:
            with self.watching("flush"):
                self.store.flush()
        except OSError as exc:
            raise self.fail(exc, "flush") from exc

    def fail(self, exc: BaseException, action: str) -> StoreError:
        """Close the handle after an I/O error and return the error to raise."""
        self._store = None  # the last reference: RocksDB closes now
        error = store_error(exc, action, self.path)
        self._broken = StoreError(f"{error.message} (this writer is closed; open a new one)")
        return error

    def checkpoint(self, compact: bool = False) -> Path:
        """Roll back any pending batch and publish a read-only checkpoint (the backup flushes).

        ``compact``: first merge every table of the store into one level
        (``Store.optimize``), so that readers of the checkpoint search one
        table per index instead of one per bulk load. It rewrites the whole
        store, so the writer asks for it only after loading a large share of
        it (``Writer``).
        """
        store = self.store
        try:
            with self.watching("checkpoint"):
                if self.index.recover(store):
                    self.changed = True
                self.compaction_skipped = compaction_room(self.path) if compact else None
                if compact and self.compaction_skipped is None:
                    store.optimize()
                require_room("checkpoint", self.path, MIN_FREE_BYTES)  # the backup flushes
                return checkpoint(store, self.data_dir, complete=self._publish_search)
        except (OSError, sqlite3.Error) as exc:
            raise self.fail(exc, "checkpoint") from exc

    def _publish_search(self, checkpoint_dir: Path) -> None:
        """The checkpoint's copy of the search index (``RecordIndex.publish_search``)."""
        self.search_publish_seconds = self.index.publish_search(self.store, checkpoint_dir)

    def close(self, commit: bool = True, compact: bool = False) -> Path | None:
        """End the session: checkpoint (if asked and anything changed), close, unlock.

        ``compact``: see ``checkpoint``.
        """
        published = None
        try:
            if self._store is not None and commit:
                if self.make_checkpoint and (self.changed or latest_snapshot(self.data_dir) is None):
                    published = self.checkpoint(compact=compact)
                    with suppress(sqlite3.Error):  # left noted: the next session publishes again
                        self.index.note_unpublished(False)
                else:
                    try:
                        with self.watching("flush"):
                            self.index.recover(self._store)
                            self.index.settle_search(self._store)
                            self._store.flush()
                    except (OSError, sqlite3.Error) as exc:
                        raise self.fail(exc, "flush") from exc
        finally:
            self._store = None
            self.index.close()
            self.watch.stop()
            self.lock.release()
        return published


#: glibc's mallopt parameter for the number of malloc arenas.
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas for the threads of this process (elsewhere a no-op).

    A writer's threads (the background writer, queue feeders, RocksDB's own)
    each get an arena by default, and freed memory stays scattered across
    them: measured here, a long ingest's writer grew from 130 to 200 MB with
    the default and stayed near 105 MB with two arenas.
    """
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, arenas)


def release_freed_memory() -> None:
    """Return freed heap pages to the system (glibc only; elsewhere a no-op)."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def resident_memory_mb() -> float | None:
    """This process's resident memory in MB (Linux), or ``None`` where unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextmanager
def open_store(data_dir: Path | str, read_only: bool = False) -> Iterator[Store]:
    """The live store of ``data_dir``.

    ``read_only=False``: a writing session (exclusive lock, recovery, a
    checkpoint at the end); prefer ``graph.Writer`` for record graphs. The
    record index cannot follow arbitrary writes, so it is rebuilt from the
    store by the next writer.
    ``read_only=True``: the live store while no writer runs (a shared lock is
    held meanwhile so none can start); a process that must read during
    ingests uses ``open_latest_snapshot`` instead.
    """
    data_dir = Path(data_dir)
    if not read_only:
        session = StoreSession(data_dir)
        store = session.open()
        session.changed = True
        session.index.invalidate()
        try:
            yield store
        except OSError as exc:
            session.fail(exc, "write")
            session.close(commit=False)
            raise store_error(exc, "write", session.path) from exc
        except BaseException:
            session.close(commit=True)
            raise
        session.close(commit=True)
        return
    path = store_path(data_dir)
    if not (path / "CURRENT").exists():
        raise StoreError(f"there is no store at {path}; ingest some records first")
    with StoreLock(data_dir, exclusive=False):
        try:
            store = Store.read_only(str(path))
        except OSError as exc:
            raise store_error(exc, "open", path) from exc
        yield store
        del store


def publish_first_checkpoint(data_dir: Path | str) -> Path | None:
    """A checkpoint of ``data_dir``, published now if it has none (a session that writes nothing).

    ``StoreError`` if a writer holds the lock: that writer publishes its own
    when it commits.
    """
    session = StoreSession(data_dir)
    session.open()
    session.close(commit=True)
    return latest_snapshot(data_dir)


def rdf_format(name: str | RdfFormat) -> RdfFormat:
    """``nq``, ``trig``, ``ttl``... or a MIME type -> ``RdfFormat``; ``UsageError`` if unknown."""
    if isinstance(name, RdfFormat):
        return name
    found = RdfFormat.from_extension(name.lower().lstrip(".")) or RdfFormat.from_media_type(name)
    if found is None:
        raise UsageError(f"unknown RDF format {name!r}; use e.g. nq, trig, ttl, nt or a MIME type")
    return found


def dump(
    source: Store | Path | str,
    out: BinaryIO | Path | str,
    format: str | RdfFormat = RdfFormat.N_QUADS,  # pyoxigraph's own name
    from_graph: str | None = None,
) -> None:
    """Export a store (or a data directory's latest checkpoint) as N-Quads, TriG...

    A data directory is read through its latest checkpoint, so an export never
    waits for, nor disturbs, a running ingest. A triple format (Turtle,
    N-Triples...) needs ``from_graph``.
    """
    fmt = rdf_format(format)
    graph = NamedNode(from_graph) if from_graph else None
    if graph is None and not fmt.supports_datasets:
        raise UsageError(f"{fmt.name} holds one graph: choose the graph to export, or use N-Quads or TriG")
    store = source if isinstance(source, Store) else open_latest_snapshot(Path(source))
    try:
        store.dump(str(out) if isinstance(out, Path) else out, fmt, from_graph=graph)
    except OSError as exc:
        raise StoreError(f"cannot export to {out}: {exc}") from exc


def graph_count(store: Store) -> int:
    """Number of named graphs (record graphs, the metadata graph, derived graphs)."""
    return sum(1 for _ in store.named_graphs())
