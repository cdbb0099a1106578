"""A full disk, told apart from other failures and told to the user in one way.

A write that finds the disk full usually fails at once (ENOSPC from a bulk
load, SQLITE_FULL from the record index). But RocksDB, inside pyoxigraph,
does not always fail: once one of its background compactions has met a full
disk, it refuses every further compaction until space is freed and retries
each second, and a call that waits for compactions waits with it, with no
message and for ever: ``Store.optimize``, and a flush (a checkpoint's backup,
recovery, the drops of a batch) while 20 or more level-0 tables are waiting.
Measured with the sample of ``data/`` ingested in batches of 10 to 20 records
onto tmpfs of 41-46 MB, or the benchmark set onto 200-240 MB (and 500 MB for
it three times): the run wrote every record graph, then hung in the final
compaction; a rerun on the still-full disk hung in recovery. pyoxigraph
can neither cancel such a call nor report RocksDB's background error;
RocksDB reports each retry in its ``LOG`` only.

So a writing session (``graph.store.StoreSession``):

- checks the free space before each phase and refuses with ``DiskFullError``
  when it is clearly short (``require_room``): nothing of the phase is
  written, and what the session committed before stays and is published;
- skips the compaction before its last checkpoint unless the disk could hold
  a second copy of the store (``compaction_room``): a compaction is an
  optimisation, and RocksDB compacts in the background anyway;
- runs every phase under a ``StallWatch``, which reads RocksDB's ``LOG``
  while the phase runs and, when RocksDB has been retrying a failed
  background job for ``STALL_S`` seconds, names the cause (a full disk, or
  the error RocksDB reports) to the session's ``on_stall``. The ingest
  command then ends the process with the disk-full message and exit code 4:
  the blocked call cannot be interrupted, and an ended writer loses nothing
  (the journal rolls back an unfinished batch at the next open, as after a
  kill).

Every full disk reaches the user as one ``DiskFullError`` with one message
(``disk_full_error``), whatever the phase.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ontology.errors import DiskFullError, StoreError

log = logging.getLogger(__name__)

#: Free space a writing session keeps in reserve beyond a phase's own writes: RocksDB's
#: write-ahead log (preallocated in steps of a few MB), a memtable flushed by a checkpoint,
#: the record index's journal, the files of a checkpoint.
MIN_FREE_BYTES = 8 * 1024 * 1024
#: Disk space a batch takes, per byte of its N-Quads: the bulk load's tables (1.9 bytes per
#: byte of N-Quads, measured on the benchmark set: 93 MB of N-Quads, 178 MB of tables once
#: compacted) and the record index's rows (0.5: 49 MB), rounded up.
BATCH_SPACE_FACTOR = 3
#: ``compaction_room`` counts the largest of the store's indexes as this fraction of it.
COMPACTION_SHARE = 4
#: How long RocksDB may retry a failed background job, while a phase waits, before the
#: phase is declared stuck. It retries each second and writes its log every few seconds.
STALL_S = 10.0
#: Retries, seen in the last ``STALL_S`` seconds, that make a stall (RocksDB retries about
#: once a second; a transient failure retries once or twice and goes on).
STALL_RETRIES = 5

_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_DISK_FULL_TEXT = (
    "no space left",
    "quota exceeded",
    "file too large",
    "disk is full",
    "compaction too large",  # RocksDB: no room for a compaction after a full disk
    "needed headroom",
    "space limit reached",
)
#: SQLite's codes for a write the disk refused: full (ENOSPC), or a file size limit (EFBIG
#: comes back as a failed write).
_DISK_FULL_SQLITE = ("SQLITE_FULL", "SQLITE_IOERR_WRITE")
#: RocksDB's line, in its LOG, for each retry of a failed background job.
_RETRY = re.compile(rb"Waiting after background (compaction|flush) error: (.*?)(?:, Accumulated|$)")
_LOG_NAME = "LOG"
#: Most of RocksDB's LOG read per look (a bulk load writes a few hundred lines).
_MAX_READ = 1024 * 1024


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (from pyoxigraph, SQLite or the file system) says the disk is full.

    >>> is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    True
    >>> is_disk_full(OSError("IO error: No space left on device: While appending to file"))
    True
    >>> is_disk_full(OSError(errno.EACCES, "Permission denied"))
    False
    """
    return (
        getattr(exc, "errno", None) in _DISK_FULL_ERRNOS
        or getattr(exc, "sqlite_errorname", None) in _DISK_FULL_SQLITE
        or is_disk_full_text(str(exc))
    )


def is_disk_full_text(text: str) -> bool:
    lowered = text.lower()
    return any(t in lowered for t in _DISK_FULL_TEXT)


def disk_full_error(action: str, where: Path, detail: str) -> DiskFullError:
    """The one message of a full disk, whatever the phase that met it."""
    return DiskFullError(
        f"cannot {action} the store at {where}: the disk is full or a file size limit was "
        f"reached ({detail}); free some space and run the command again: what was committed "
        f"is kept, and an interrupted batch is rolled back when the store is next opened for "
        f"writing"
    )


def free_bytes(path: Path) -> int:
    """Free space (for this user) on the file system holding ``path`` or its nearest parent."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def used_bytes(directory: Path, shared_only: bool = False) -> int:
    """Bytes of the files directly in ``directory`` (a store: its tables, logs, manifest).

    ``shared_only``: only files with another link (a checkpoint's), which a
    compaction of the store cannot free.
    """
    total = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            status = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # deleted meanwhile by a compaction
        if not shared_only or status.st_nlink > 1:
            total += status.st_size
    return total


def megabytes(size: int) -> str:
    """``12.3 MB``: sizes in messages.

    >>> megabytes(12_345_678)
    '12.3 MB'
    """
    return f"{size / 1e6:,.1f} MB"


def require_room(action: str, where: Path, need: int) -> None:
    """``DiskFullError`` unless the disk holding ``where`` has ``need`` bytes free."""
    free = free_bytes(where)
    if free < need:
        raise disk_full_error(
            action, where, f"{megabytes(free)} free, about {megabytes(need)} needed"
        )


def compaction_room(store_dir: Path) -> str | None:
    """Why the store at ``store_dir`` cannot be compacted now, or ``None`` if it can.

    ``Store.optimize`` rewrites the store's indexes one after the other, each
    table kept until its rewrite is done: the largest index, about a sixth of
    the store (six quad indexes of equal size, and the strings), must fit
    beside the store, counted here as a quarter. The tables a checkpoint still
    links stay on disk after their rewrite, so the rewrite of those must fit
    too. On less, RocksDB may meet a full disk halfway and wait for ever (the
    module docstring).
    """
    total = used_bytes(store_dir)
    need = used_bytes(store_dir, shared_only=True) + total // COMPACTION_SHARE + MIN_FREE_BYTES
    free = free_bytes(store_dir)
    if free >= need:
        return None
    return (
        f"the store was not compacted: the disk has {megabytes(free)} free, and compacting "
        f"may need {megabytes(need)}; queries read more tables until RocksDB merges them "
        f"in the background, which needs that space too"
    )


class StallWatch:
    """Tells when a phase of a writing session waits on RocksDB retrying a failed background job.

    ``phase(action)`` marks a call into the store that may wait for
    RocksDB's background work; a thread reads the store's ``LOG`` once a
    second meanwhile. When RocksDB has logged ``STALL_RETRIES`` retries in the
    last ``stall_s`` seconds of a phase at least that old, the phase is stuck:
    ``on_stall`` gets the error to report (a ``DiskFullError`` when RocksDB or
    the free space says the disk is full), once per phase, in the watch's
    thread. Without ``on_stall`` the error is logged and the phase waits on.
    """

    def __init__(
        self,
        store_dir: Path,
        on_stall: Callable[[StoreError], None] | None = None,
        stall_s: float = STALL_S,
        poll_s: float = 1.0,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.on_stall = on_stall
        self.stall_s = stall_s
        self.poll_s = poll_s
        #: The error of the last stall found (for callers and tests), or None.
        self.stalled: StoreError | None = None
        self._lock = threading.Lock()
        self._depth = 0
        self._action = ""
        self._started = 0.0
        self._fired = False
        self._retries: deque[tuple[float, bytes, bytes]] = deque()
        self._log_id: tuple[int, int] | None = None
        self._offset = 0
        self._partial = b""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def phase(self, action: str) -> Iterator[None]:
        """Watch the calls made inside; phases may nest (the outermost names the action)."""
        with self._lock:
            if self._depth == 0:
                self._action, self._started, self._fired = action, time.monotonic(), False
            self._depth += 1
            self._start_thread()
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1

    def stop(self) -> None:
        """End the watch's thread (a session that closes); ``phase`` starts it again."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _start_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._skip_existing_log()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="catalograph-stall-watch", daemon=True
        )
        self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.poll_s):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - a watch that fails must not end the writer
                log.exception("the store's stall watch failed")

    def check(self, now: float | None = None) -> StoreError | None:
        """One look at RocksDB's log; returns (and reports) the error of a stuck phase."""
        now = time.monotonic() if now is None else now
        for kind, reason in self._new_retries():
            self._retries.append((now, kind, reason))
        while self._retries and self._retries[0][0] < now - self.stall_s:
            self._retries.popleft()
        with self._lock:
            stuck = (
                self._depth > 0
                and not self._fired
                and now - self._started >= self.stall_s
                and len(self._retries) >= STALL_RETRIES
            )
            if not stuck:
                return None
            self._fired = True
            action = self._action
        _, kind, reason = self._retries[-1]
        error = self._error(action, kind.decode(), reason.decode("utf-8", "replace").strip(" :,"))
        self.stalled = error
        if self.on_stall is None:
            log.error("%s", error.message)
        else:
            self.on_stall(error)
        return error

    def _error(self, action: str, kind: str, reason: str) -> StoreError:
        free = free_bytes(self.store_dir)
        detail = (
            f"RocksDB has retried a failed background {kind} for {self.stall_s:.0f} s: "
            f"{reason or 'no reason given'}; {megabytes(free)} free"
        )
        if is_disk_full_text(reason) or free < MIN_FREE_BYTES:
            return disk_full_error(action, self.store_dir, detail)
        return StoreError(
            f"cannot {action} the store at {self.store_dir}: RocksDB has retried a failed "
            f"background {kind} for {self.stall_s:.0f} s ({reason}); stop the command, fix the "
            f"cause and run it again: what was committed is kept"
        )

    # ------------------------------------------------------------ RocksDB's LOG

    def _skip_existing_log(self) -> None:
        """Start reading at the end of the LOG: retries of an earlier session do not count."""
        path = self.store_dir / _LOG_NAME
        try:
            status = path.stat()
        except OSError:
            self._log_id, self._offset = None, 0
            return
        self._log_id, self._offset, self._partial = (
            (status.st_dev, status.st_ino),
            status.st_size,
            b"",
        )

    def _new_retries(self) -> list[tuple[bytes, bytes]]:
        """The retries RocksDB logged since the last look (a reopened store starts a new LOG)."""
        path = self.store_dir / _LOG_NAME
        try:
            with path.open("rb") as handle:
                status = os.fstat(handle.fileno())
                identity = (status.st_dev, status.st_ino)
                if identity != self._log_id or status.st_size < self._offset:
                    self._log_id, self._offset, self._partial = identity, 0, b""
                handle.seek(self._offset)
                data = handle.read(_MAX_READ)
        except OSError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        return [(m[1], m[2]) for line in lines if (m := _RETRY.search(line))]
