"""The ties of ``query.lifeline``, each tested alone with real processes and ``kill -9``.

A stand-in "server" (a Python process) starts a stand-in "forkserver" (a
Python process that imports ``query.forkserver_preload``, as the real
forkserver does first), which forks a stand-in "worker" that sleeps. The
real server, forkserver and workers are tested together in
``tests/test_web_limits.py``; here each tie is checked on its own, at the
moments the whole cannot reach on purpose (a server that died before its
forkserver finished starting).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT

from query.lifeline import FORKSERVER_PARENT_VARIABLE

#: A stand-in forkserver: tied by the preload, then forks a worker, says both pids, waits.
#: Given ``nested``, the worker forks a child of its own (the fork hooks are inherited) and
#: says its own pid and its child's instead.
FORKSERVER = """
import os, sys, time
import query.forkserver_preload
nested = sys.argv[1:] == ["nested"]
worker = os.fork()
if worker == 0:
    if nested:
        grandchild = os.fork()
        if grandchild == 0:
            time.sleep(60)
            os._exit(0)
        print(os.getpid(), grandchild, flush=True)
    time.sleep(60)
    os._exit(0)
if not nested:
    print(os.getpid(), worker, flush=True)
time.sleep(60)
"""

#: A stand-in server: starts the forkserver with its own pid in the variable, passes on
#: what the forkserver says, waits.
SERVER = f"""
import os, subprocess, sys, time
env = dict(os.environ, {FORKSERVER_PARENT_VARIABLE}=str(os.getpid()))
child = subprocess.Popen([sys.executable, "-c", {FORKSERVER!r}], env=env, stdout=subprocess.PIPE, text=True)
print(child.stdout.readline().strip(), flush=True)
time.sleep(60)
"""


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def ended_within(pids: list[int], seconds: float) -> bool:
    stop = time.monotonic() + seconds
    while time.monotonic() < stop and any(running(pid) for pid in pids):
        time.sleep(0.01)
    return not any(running(pid) for pid in pids)


def start(code: str, env: dict[str, str] | None = None, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def test_a_forkserver_whose_server_is_already_gone_exits_at_once() -> None:
    """Its parent is not the server the variable names (that server died while it started)."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    env = dict(os.environ, **{FORKSERVER_PARENT_VARIABLE: str(gone.pid)})
    forkserver = start(FORKSERVER, env)
    try:
        assert forkserver.wait(timeout=30) == 1
        assert forkserver.stdout.read() == ""  # it forked nothing
    finally:
        forkserver.kill()


def test_without_the_variable_nothing_is_tied() -> None:
    """A forkserver of a pool that named no server (its workers still watch the server)."""
    env = {k: v for k, v in os.environ.items() if k != FORKSERVER_PARENT_VARIABLE}
    forkserver = start(FORKSERVER, env)
    try:
        pids = [int(pid) for pid in forkserver.stdout.readline().split()]
        assert all(running(pid) for pid in pids)
    finally:
        forkserver.kill()
        forkserver.wait()
    os.kill(pids[1], signal.SIGKILL)


def test_the_forkserver_and_its_worker_end_when_the_server_is_killed() -> None:
    server = start(SERVER)
    try:
        forkserver, worker = (int(pid) for pid in server.stdout.readline().split())
        assert running(forkserver) and running(worker)
    finally:
        server.kill()
        server.wait()
    assert ended_within([forkserver, worker], 3), "a process of the killed server still runs"


def test_a_worker_ends_when_its_forkserver_is_killed() -> None:
    """The kernel's signal, asked for on fork, before anything of the worker ran."""
    server = start(SERVER)
    try:
        forkserver, worker = (int(pid) for pid in server.stdout.readline().split())
        os.kill(forkserver, signal.SIGKILL)
        assert ended_within([worker], 3), "the worker outlived its forkserver"
    finally:
        server.kill()
        server.wait()


def test_a_child_of_a_worker_is_not_tied_to_the_forkserver() -> None:
    """Only what the forkserver forks is tied to it: a worker's own child lives with the worker."""
    env = dict(os.environ, **{FORKSERVER_PARENT_VARIABLE: str(os.getpid())})
    forkserver = start(FORKSERVER, env, "nested")
    try:
        worker, grandchild = (int(pid) for pid in forkserver.stdout.readline().split())
        time.sleep(0.5)
        assert running(worker) and running(grandchild)
    finally:
        forkserver.kill()
        forkserver.wait()
    assert ended_within([worker], 3)  # the worker, tied, goes with the forkserver
    os.kill(grandchild, signal.SIGKILL)
