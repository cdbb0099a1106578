"""Tie the query workers' forkserver, and every worker it forks, to the server's life.

A ``kill -9``ed server must leave no process behind, even a worker busy with a
runaway query (which may hold its GIL in pyoxigraph for minutes, so no thread
of the worker can be relied on). Three ties, none needing the server's help:

- the forkserver, on importing ``query.forkserver_preload`` (first in its
  preload list), exits at once if the server is already gone, and keeps a
  thread that exits it within ``WATCH_EVERY_S / 2`` of the server's death
  (the forkserver waits in ``select``, so that thread always runs);
- each process the forkserver forks asks the kernel, before anything else
  runs in it, to ``SIGKILL`` it when the forkserver dies (``PR_SET_PDEATHSIG``
  fires when the parent *thread* ends: the forkserver forks from its one
  main thread, which lives as long as it does), and exits if the forkserver
  is already gone;
- ``query.worker.serve`` watches the server itself as well.

Why the forkserver does not ask for the kernel's signal too: it fires when the
*thread* that started it ends, and a forkserver may be (re)started from a
short-lived request thread. And why the tie is made on fork rather than in
``serve``: a worker forked while the server dies, orphaned before ``serve``
ran, stayed (seen once in CI, ``tests/test_web_limits.py``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time

#: How often a process checks that the process it lives for still runs.
WATCH_EVERY_S = 0.5
#: prctl's option: the signal a process gets when its parent exits (Linux).
_PR_SET_PDEATHSIG = 1
#: Set by a server before its query pool starts the forkserver (``query.execution``):
#: the server's pid, which the forkserver lives for.
FORKSERVER_PARENT_VARIABLE = "CATALOGRAPH_FORKSERVER_PARENT"


def die_with_parent(expected_parent: int | None = None) -> None:
    """Have the kernel SIGKILL this process when its parent exits (Linux; elsewhere nothing).

    ``expected_parent``: the parent this process was started by; if it is
    already gone (this process was orphaned before asking), exit now.
    """
    parent = os.getppid() if expected_parent is None else expected_parent
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def exit_when_orphaned(parent: int) -> None:
    """Watch, on a daemon thread, that ``parent`` is still this process's parent; exit if not.

    Forked children do not inherit the thread (they are tied by ``die_with_parent``).
    """
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_EVERY_S / 2)
        os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def guard_forkserver() -> None:
    """Tie this process, a server's forkserver, and whatever it forks to the server.

    Without ``FORKSERVER_PARENT_VARIABLE`` (a pool started by code that did not
    set it) nothing is tied here; workers still watch the server in ``serve``.
    """
    server = os.environ.get(FORKSERVER_PARENT_VARIABLE, "")
    if not server.isdigit():
        return
    exit_when_orphaned(int(server))
    forkserver = os.getpid()
    forking = [0]  # who is forking: the hooks are inherited, and a worker's own child is not tied

    def note_forking() -> None:
        forking[0] = os.getpid()

    def tie_child() -> None:
        if forking[0] == forkserver:
            die_with_parent(forkserver)

    os.register_at_fork(before=note_forking, after_in_child=tie_child)
