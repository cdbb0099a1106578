"""One writer at a time: an advisory lock file next to the store.

Oxigraph does not detect every write-write conflict, and RocksDB's own ``LOCK``
file only says "in use" with no hint of who holds it. ``data_dir/write.lock``
is taken with ``fcntl.flock`` (released by the kernel when the holder dies, so
a killed ingest never leaves a stale lock) and holds the writer's PID and start
time, so the second writer is told whom to wait for.

Readers of the *live* store take the same lock shared: they may read while no
writer runs, and a writer cannot start under them. The server reads
checkpoints instead (``graph.snapshots``) and takes no lock at all.
"""

from __future__ import annotations

import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from graph.disk_space import disk_full_error, is_disk_full
from ontology.errors import StoreBusyError, StoreError

LOCK_NAME = "write.lock"


class StoreLock:
    """The lock on one data directory; ``exclusive`` for a writer, shared for a live reader.

    A context manager; ``acquire`` never blocks: waiting silently behind a
    long ingest is worse than a clear message.
    """

    def __init__(self, data_dir: Path, exclusive: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_NAME
        self.exclusive = exclusive
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> StoreLock:
        if self._fd is not None:
            return self
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self._error(exc) from exc
        mode = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise StoreBusyError(self._taken_message(holder)) from None
        except OSError as exc:
            os.close(fd)
            raise self._error(exc) from exc
        if self.exclusive:
            started = datetime.now(UTC).isoformat(timespec="seconds")
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {started} {socket.gethostname()}\n".encode(), 0)
            except OSError as exc:  # a full disk above all: not even the holder's line fits
                os.close(fd)  # the lock goes with it
                raise self._error(exc) from exc
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if self.exclusive:
                os.ftruncate(fd, 0)  # an empty file means "no writer": see _taken_message
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _error(self, exc: OSError) -> StoreError:
        if is_disk_full(exc):
            return disk_full_error("lock", self.data_dir / "store", str(exc))
        return StoreError(f"cannot lock {self.path}: {exc}")

    def _taken_message(self, holder: str) -> str:
        store = self.data_dir / "store"
        pid, _, rest = holder.partition(" ")
        started, _, host = rest.partition(" ")
        if holder and host == socket.gethostname() and not _alive(pid):
            holder = ""  # left by a killed writer; the lock is held by a reader
        if holder:
            where = f" on {host}" if host and host != socket.gethostname() else ""
            who = f"process {pid}{where} (started {started})"
            if self.exclusive:
                return f"the store at {store} is being written by {who}; wait for it or stop it"
            return (
                f"the store at {store} is being written by {who}; read the latest checkpoint "
                f"(graph.open_latest_snapshot) or wait for the writer to finish"
            )
        return (
            f"the store at {store} is open read-only by another process; "
            f"close it (or let it read checkpoints instead) before writing"
        )

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def lock_holder(data_dir: Path) -> str | None:
    """``"PID started host"`` of the writer holding ``data_dir``'s lock, or ``None``.

    For status pages and the CLI; a probe only, the answer may be stale at once.
    """
    path = Path(data_dir) / LOCK_NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
