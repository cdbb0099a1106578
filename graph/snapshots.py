"""Read-only checkpoints of the live store, for readers that must not wait for ingests.

Opening the live store read-only while another process writes it is undefined
behaviour in Oxigraph. ``Store.backup`` instead makes a consistent copy in
milliseconds (hard links to RocksDB's immutable tables), and
``Store.read_only`` opens one in about 13 ms. So the writer publishes a
checkpoint at the end of each writing session (never in the middle of a
batch) and readers open the newest::

    data_dir/snapshots/
      0000000007/        complete checkpoints, numbered in publishing order
      0000000008/
      CURRENT            "0000000008", replaced atomically (write + rename)

A checkpoint is written to ``<id>.tmp`` and renamed to ``<id>`` only when
complete, so a numbered directory is always whole. The newest two are kept:
a reader that has just read ``CURRENT`` still finds its checkpoint after the
next one is published. A long-lived reader (the server) reopens when
``CURRENT`` changes; disk use is the live store plus the tables the two
checkpoints still share links to.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from pyoxigraph import Store

from graph.lock import lock_holder
from graph.record_index import committed_record_graphs
from ontology.errors import StoreError

SNAPSHOTS_DIR = "snapshots"
POINTER = "CURRENT"
KEEP = 2
_WIDTH = 10


def snapshots_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / SNAPSHOTS_DIR


def _numbered(root: Path) -> list[int]:
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())


def latest_snapshot(data_dir: Path | str) -> Path | None:
    """The checkpoint ``CURRENT`` points to, or ``None`` before the first one."""
    root = snapshots_path(data_dir)
    try:
        name = (root / POINTER).read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    path = root / name
    return path if name.isdigit() and path.is_dir() else None


def checkpoint(
    store: Store,
    data_dir: Path | str,
    keep: int = KEEP,
    complete: Callable[[Path], object] | None = None,
) -> Path:
    """Publish a new checkpoint of ``store`` (the live store of ``data_dir``); returns its path.

    The caller is the writer, between batches: the checkpoint then holds no
    half batch. ``complete`` adds what else readers need to the checkpoint's
    directory before it is published (the search index's copy,
    ``graph.search_index``). Older checkpoints beyond ``keep`` are deleted.
    """
    root = snapshots_path(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    current = latest_snapshot(data_dir)
    known = _numbered(root) + ([int(current.name)] if current else [])
    name = f"{max(known, default=0) + 1:0{_WIDTH}d}"
    partial = root / f"{name}.tmp"
    if partial.exists():
        shutil.rmtree(partial)
    store.backup(str(partial))
    if complete is not None:
        complete(partial)
    partial.rename(root / name)
    _write_pointer(root, name)
    _prune(root, max(keep, 1))
    return root / name


def _write_pointer(root: Path, name: str) -> None:
    tmp = root / f"{POINTER}.tmp"
    with tmp.open("w", encoding="ascii") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / POINTER)
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(root: Path, keep: int) -> None:
    current = latest_snapshot(root.parent)
    if current is None:
        return
    published = [n for n in _numbered(root) if n <= int(current.name)]
    survivors = set(published[-keep:])
    for path in root.iterdir():
        stale_number = path.name.isdigit() and int(path.name) not in survivors
        if path.is_dir() and (stale_number or path.name.endswith(".tmp")):
            shutil.rmtree(path, ignore_errors=True)


def no_checkpoint_error(data_dir: Path | str) -> StoreError:
    """Why a reader finds no checkpoint, and what to run.

    A writer publishes its first checkpoint when its session ends, so a
    data directory may hold committed records and no checkpoint: while that
    writer runs, or after it was killed or met a full disk (its batches stay
    committed). Saying "ingest some records first" then would be wrong.
    """
    where = snapshots_path(data_dir)
    holder = lock_holder(Path(data_dir))
    if holder:
        pid, _, started = holder.partition(" ")
        return StoreError(
            f"there is no checkpoint in {where} yet: process {pid} (started "
            f"{started.partition(' ')[0]}) is writing the store and publishes one when it ends; "
            "run this again then"
        )
    graphs = committed_record_graphs(data_dir)
    if graphs:
        return StoreError(
            f"there is no checkpoint in {where} yet, but the live store holds {graphs:,} record "
            "graph(s) committed by an ingest that stopped before publishing one (it was killed, "
            "or the disk was full); free some space if the disk is full, then run the same "
            "`catalograph ingest` again: it keeps what was committed, writes the rest and "
            "publishes a checkpoint (`catalograph serve` publishes one too)"
        )
    return StoreError(f"there is no checkpoint in {where} yet; ingest some records first")


def open_checkpoint(path: Path | str | None) -> Store:
    """A checkpoint opened read-only by its path; ``None`` gives an empty store.

    For processes that are told which checkpoint to read (the query workers)
    rather than finding the newest themselves.
    """
    return Store.read_only(str(path)) if path else Store()


def open_latest_snapshot(data_dir: Path | str) -> Store:
    """The newest checkpoint, read-only: what readers use while ingests run."""
    for _attempt in range(3):
        path = latest_snapshot(data_dir)
        if path is None:
            raise no_checkpoint_error(data_dir)
        try:
            return Store.read_only(str(path))
        except OSError as exc:  # pruned between reading CURRENT and opening: read CURRENT again
            error = exc
    raise StoreError(f"cannot open the checkpoint {path}: {error}")
