"""RocksDB's compaction thread gives way to the ingest while the ingest runs.

Oxigraph gives RocksDB one compaction thread, which at the default priority
takes a core's share from the bulk loads and the mapping, and spends it
merging each level-0 table into the whole index as soon as two are there,
rewriting the same data over and over while a long ingest goes on. When the
session ends with a full compaction anyway (``Writer.compacts``), that work
is mostly wasted. At nice 19 the thread still runs whenever a core is free,
but merges more tables per run. Measured on the x10 ingest benchmark (57,380
records, 2 cores shared with other jobs), ending with the full compaction
either way, runs interleaved: mean wall time 62.2 s at nice 19 (9 runs)
against 67.7 s at the default (8 runs), CPU time ~98 s against ~107 s; single
runs vary by +-10 % on that machine.

RocksDB names the threads of its process-wide pools ``rocksdb:low``
(compactions) and ``rocksdb:high`` (flushes); they are found by that name
under ``/proc/self/task``, so this works on Linux and does nothing elsewhere.
They live as long as the process, so the writer puts them back to normal
priority before its final compaction; an unprivileged process may not raise
a priority it lowered (``RLIMIT_NICE``), and then that compaction runs at nice
19 too, which only slows it when other processes keep every core busy.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

#: The thread name RocksDB gives the threads of its compaction pool.
COMPACTION_THREAD_NAME = "rocksdb:low"
#: The nice value of those threads while an ingest runs.
INGEST_COMPACTION_NICE = 19

_TASKS = Path("/proc/self/task")


def compaction_threads() -> list[int]:
    """Thread ids of RocksDB's compaction pool in this process (empty if none yet, or not Linux)."""
    found = []
    try:
        tasks = list(_TASKS.iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            name = (task / "comm").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue  # the thread has ended
        if name.startswith(COMPACTION_THREAD_NAME) and task.name.isdigit():
            found.append(int(task.name))
    return found


class CompactionPriority:
    """Lower, then restore, the priority of RocksDB's compaction threads.

    RocksDB starts the threads on first use, so ``lower`` is called after
    every batch and handles the threads it has not seen yet (a directory
    listing: microseconds).
    """

    def __init__(self, nice: int = INGEST_COMPACTION_NICE) -> None:
        self.nice = nice
        self.lowered: dict[int, int] = {}  # thread id -> its nice value before

    def lower(self) -> int:
        """Set ``nice`` on compaction threads not yet lowered; returns how many were."""
        count = 0
        for tid in compaction_threads():
            if tid in self.lowered:
                continue
            try:
                before = os.getpriority(os.PRIO_PROCESS, tid)
                if before < self.nice:
                    os.setpriority(os.PRIO_PROCESS, tid, self.nice)
            except (OSError, AttributeError):
                continue
            self.lowered[tid] = before
            count += 1
        return count

    def restore(self) -> bool:
        """Give the lowered threads their priority back; False where the system refused."""
        restored = True
        for tid, before in self.lowered.items():
            try:
                os.setpriority(os.PRIO_PROCESS, tid, before)
            except ProcessLookupError:
                continue
            except (OSError, AttributeError):
                restored = False
        if not restored:
            log.info(
                "RocksDB's compaction threads stay at nice %d: this process may not raise a "
                "priority it lowered (RLIMIT_NICE)",
                self.nice,
            )
        self.lowered.clear()
        return restored
