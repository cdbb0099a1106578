"""``catalograph candidates``: the match candidates (pairs only names and titles bring together).

``--refresh`` rebuilds the derived graph of candidates from the live store, in
a writing session of its own (``graph.Writer``: the single writer, a
checkpoint for readers after); the listing reads the newest checkpoint, as
every reader does. Nothing is merged: see ``query.candidates``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from pyoxigraph import Store

from graph.candidates import write_candidates
from graph.snapshots import open_latest_snapshot
from graph.writer import Writer
from ingest import PIPELINE_VERSION
from ingest.oai.mapper import GRAPH_SOURCE as OAI_SOURCE
from ingest.scholarly.mapper import SOURCE_NAMES
from ontology.layout import Layout
from query.candidates import THRESHOLD, find_candidates, stored_candidates
from web.config import Settings

#: The sources of open-access record graphs (the rest are catalogue records: MARC's graphs are
#: named after each record's own source, ``marc``, ``dlc``, ``ocolc``...).
OPEN_ACCESS_SOURCES = frozenset(SOURCE_NAMES) | {OAI_SOURCE}


@dataclass(frozen=True, slots=True)
class CandidatesRefresh:
    """What a rebuild found and wrote."""

    candidates: int
    above_threshold: int
    added: int
    removed: int
    seconds: float
    #: This process's CPU time for it (``seconds`` is wall time, which a busy machine stretches).
    cpu_seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.candidates} match candidates ({self.above_threshold} at or above {THRESHOLD}); "
            f"{self.added} quads added, {self.removed} removed in {self.seconds:.1f} s"
        )


def refresh_candidates(store: Store, layout: Layout) -> CandidatesRefresh:
    """Bring the candidates graph of ``store`` (a writer's) up to date: only the difference is
    written, and what reviewers decided is kept (``graph.candidates.write_candidates``)."""
    started, cpu = time.perf_counter(), time.process_time()
    found = find_candidates(store, layout, OPEN_ACCESS_SOURCES)
    added, removed = write_candidates(store, layout, found)
    return CandidatesRefresh(
        len(found),
        sum(c.score >= THRESHOLD for c in found),
        added,
        removed,
        time.perf_counter() - started,
        time.process_time() - cpu,
    )


def run_refresh_command(settings: Settings) -> CandidatesRefresh:
    """Rebuild the candidates graph from the live store, in a writing session of its own."""
    layout = Layout(settings.base_iri)
    with Writer(settings.data_dir, layout, PIPELINE_VERSION) as writer:
        done = refresh_candidates(writer.store, layout)
        if done.added or done.removed:
            writer.session.changed = True
    return done


def run_list_command(settings: Settings, as_json: bool, limit: int | None = None) -> str:
    """The stored candidates, strongest first: a table (score, rule, both sides, reasons) or JSON."""
    layout = Layout(settings.base_iri)
    held = stored_candidates(open_latest_snapshot(settings.data_dir), layout)
    if limit is not None:
        held = held[:limit]
    if as_json:
        body = {
            "threshold": THRESHOLD,
            "candidates": [
                {
                    "iri": c.iri, "rule": c.rule, "score": c.score, "status": c.status,
                    "reasons": list(c.reasons),
                    "first": {"iri": c.first, "label": c.first_label},
                    "second": {"iri": c.second, "label": c.second_label},
                }  # fmt: skip
                for c in held
            ],
        }
        return json.dumps(body, ensure_ascii=False, indent=1) + "\n"
    if not held:
        return "no match candidates (run `catalograph candidates --refresh` after an ingest)\n"
    lines = []
    for c in held:
        status = "" if c.status == "pending" else f"  [{c.status}]"
        lines.append(f"{c.score:.3f}  {c.rule:<17}  {c.first_label}  <->  {c.second_label}{status}")
        lines.append(f"       {c.first}")
        lines.append(f"       {c.second}")
        lines.append(f"       {'; '.join(c.reasons)}")
    return "\n".join(lines) + "\n"
