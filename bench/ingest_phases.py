"""Where an ingest's memory peaks: one ``catalograph ingest`` in this process, RSS by step.

Run it from the repository root (after ``bash .ci/install``)::

    .venv/bin/python bench/ingest_phases.py DATA_DIR INPUT...   # DATA_DIR: a new folder

The ingest runs as ``catalograph ingest`` runs it (``web.ingest_command.run_ingest``),
with its steps wrapped so that a thread sampling this process's resident memory
(and its children's) every 50 ms knows which step is running: the batches, the
search documents settled, the association refresh (its reading, assembling,
lists and bulk loads), the match candidates (agents read, works read and each
table streamed into their state, blocks compared, written), the mentions, the checkpoint. It
prints each step's peak and the process's CPU time; ``--timeline FILE`` keeps
every sample (JSON: time, step, own MB, children's MB). For the x10 input use
``bench/ingest.py``'s ``replicate`` (docs/benchmarks.md). Figures only, no
assertion; the data folder is left for the caller to remove.

The mentions' refresh is told apart by its own steps too (record graphs
compared, units read, works read and tokenized, matched, written). With
``--mentions-only`` the data folder must exist (a copy of an ingested store:
the refresh writes into it) and only ``catalograph mentions --refresh
--full`` runs, which is what an ingest's first refresh does (no state yet),
in minutes instead of the ×10 ingest's half hour. ``--candidates-only`` does the
same for ``catalograph candidates --refresh --full``, and ``--associations-only`` for
``catalograph related --refresh --full`` (the association refresh's full build: its
reading, assembling, lists and bulk loads).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import graph.writer as writer_module  # noqa: E402
import web.association_build as association_build  # noqa: E402
import web.candidates_command as candidates_command  # noqa: E402
import web.candidates_refresh as candidates_refresh  # noqa: E402
import web.ingest_command as ingest_command  # noqa: E402
import web.mentions_command as mentions_command  # noqa: E402
import web.mentions_refresh as mentions_refresh  # noqa: E402
import web.mentions_works as mentions_works  # noqa: E402
import web.related_command as related_command  # noqa: E402
from web.config import Settings  # noqa: E402

#: The steps running now, outermost first (the writer thread's batch among them).
running: list[str] = []


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, str, float, float]] = []

    def run(self) -> None:
        me = os.getpid()
        while True:
            own = _rss_mb(me)
            children = sum(_rss_mb(child) for child in _children(me))
            self.samples.append((time.time(), "/".join(running) or "(between steps)", own, children))
            time.sleep(0.05)


def _named(owner: Any, attribute: str, step: str) -> None:
    function: Callable[..., Any] = getattr(owner, attribute)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        running.append(step)
        try:
            return function(*args, **kwargs)
        finally:
            running.remove(step)

    setattr(owner, attribute, wrapped)


#: The mentions' refresh's own steps (``web.mentions_refresh``'s functions and the ones it calls).
MENTION_STEPS = (
    ("_changed_graphs", "record graphs compared"),
    ("_examine_units", "units read"),
    ("_all_labels", "units read"),  # a full refresh's (this and the above are never both run)
    ("_label_works", "works a label concerns"),
    ("_examine_works", "works"),  # before this branch
    ("examine_works", "works"),
    ("work_texts", "texts read"),
    ("text_docs", "tokenized"),
    ("_match_chunk", "matched"),  # before this branch
    ("_chunk_matcher", "matcher built"),
    ("write_mentions", "mentions written"),  # before this branch
    ("stage_mentions", "mentions staged"),
    ("load_mentions", "mentions loaded"),
    ("set_work", "state written"),
)


#: The match candidates' refresh's own steps (``web.candidates_refresh``'s functions).
CANDIDATE_STEPS = (
    ("_read_all_agents", "agents read"),
    ("_read_all_works", "works read"),
    ("_read_changes", "changes read"),
    ("_compare_blocks", "blocks compared"),
    ("_write", "written"),
)


def _named_table(owner: Any, attribute: str) -> None:
    """``owner.attribute(db, table, ...)`` as the step ``{table} streamed`` (the full refresh's
    scans of the whole store, each into one table of the state)."""
    function: Callable[..., Any] = getattr(owner, attribute)

    def wrapped(db: Any, table: str, *args: Any, **kwargs: Any) -> Any:
        step = f"{table} streamed"
        running.append(step)
        try:
            return function(db, table, *args, **kwargs)
        finally:
            running.remove(step)

    setattr(owner, attribute, wrapped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("inputs", type=Path, nargs="*")
    parser.add_argument("--timeline", type=Path, help="write every sample here (JSON)")
    parser.add_argument("--mentions-only", action="store_true", help="DATA_DIR exists: refresh its mentions, fully")
    parser.add_argument("--candidates-only", action="store_true", help="DATA_DIR exists: refresh its candidates, fully")
    parser.add_argument(
        "--associations-only", action="store_true", help="DATA_DIR exists: rebuild its associations, fully"
    )
    args = parser.parse_args()
    only = [args.mentions_only, args.candidates_only, args.associations_only]
    refresh_only = any(only)
    if refresh_only != args.data_dir.exists() or refresh_only == bool(args.inputs) or sum(only) > 1:
        sys.exit(
            "give a new DATA_DIR and INPUT..., or one of --mentions-only, --candidates-only, "
            "--associations-only and an ingested DATA_DIR"
        )
    _named(writer_module.Writer, "write", "batch")
    _named(writer_module.Writer, "settle_search", "search documents settled")
    _named(writer_module.Writer, "__exit__", "checkpoint")
    _named(ingest_command, "refresh_associations", "associations")
    _named(related_command, "refresh_associations", "associations")
    _named(association_build, "read", "reading the projection")
    _named(association_build, "assemble", "assembling it")
    _named(association_build, "rebuild_associations", "lists and bulk loads")
    _named(ingest_command, "refresh_candidates_after_ingest", "candidates")
    _named(ingest_command, "refresh_after_ingest", "mentions")
    for attribute, step in CANDIDATE_STEPS:
        if hasattr(candidates_refresh, attribute):  # the bench compares trees whose steps differ
            _named(candidates_refresh, attribute, step)
    if hasattr(candidates_refresh, "_insert_streamed"):
        _named_table(candidates_refresh, "_insert_streamed")
    _named(candidates_refresh._Run, "breathe", "given back")
    session = getattr(mentions_refresh, "_Run", None) or mentions_works.RefreshSession
    for attribute, step in MENTION_STEPS:
        for owner in (mentions_refresh, mentions_works):  # the bench compares trees whose steps differ
            if hasattr(owner, attribute):
                _named(owner, attribute, step)
                break
    _named(session, "breathe", "given back")
    sampler = Sampler()
    sampler.start()
    settings = dataclasses.replace(Settings(), data_dir=args.data_dir)
    started, before = time.time(), resource.getrusage(resource.RUSAGE_SELF)
    if args.mentions_only:
        running.append("mentions")
        print(mentions_command.run_mentions_command(settings, full=True))
        running.clear()
    elif args.associations_only:
        print(related_command.run_refresh_command(settings, full=True))
        running.clear()
    elif args.candidates_only:
        running.append("candidates")
        print(candidates_command.run_refresh_command(settings, full=True).summary())
        running.clear()
    else:
        report = ingest_command.run_ingest(settings, args.inputs)
    after = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(0.1)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not refresh_only:
        print(ingest_command.summary(report).splitlines()[0])
    print(
        f"{time.time() - started:.0f} s; CPU {cpu:.1f} s (+{children.ru_utime + children.ru_stime:.1f} s "
        f"in worker processes); load average {os.getloadavg()[0]:.1f}"
    )
    peaks: dict[str, tuple[float, float]] = {}
    for _at, step, own, kids in sampler.samples:
        mine, tree = peaks.get(step, (0.0, 0.0))
        peaks[step] = (max(mine, own), max(tree, own + kids))
    for step, (own, tree) in peaks.items():
        print(f"{step:60s} {own:6.0f} MB (with worker processes {tree:6.0f} MB)")
    print(f"peak of the process {max(p[0] for p in peaks.values()):.0f} MB")
    if args.timeline:
        args.timeline.write_text(json.dumps(sampler.samples))


if __name__ == "__main__":
    main()
