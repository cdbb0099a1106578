"""``catalograph candidates``: the match candidates (pairs only names and titles bring together).

``--refresh`` brings the derived graph of candidates up to date with the live
store, in a writing session of its own (``graph.Writer``: the single writer,
a checkpoint for readers after): the blocks that changes touched, or every
block with ``--full`` (``web.candidates_refresh``). The listing reads the
newest checkpoint, as every reader does. Nothing is merged: see
``query.candidates``.
"""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

from graph import candidate_state
from graph.refresh_state import set_meta, swap_meta
from graph.snapshots import open_latest_snapshot
from graph.writer import Writer
from ingest import PIPELINE_VERSION
from ingest.oai.mapper import GRAPH_SOURCE as OAI_SOURCE
from ingest.scholarly.mapper import SOURCE_NAMES
from ontology.layout import Layout
from query.candidates import THRESHOLD, stored_candidates
from web import candidates_refresh
from web.candidates_refresh import CandidatesRefresh
from web.config import Settings

__all__ = ["CandidatesRefresh", "mark_owed", "refresh_after_ingest", "refresh_candidates"]

#: The sources of open-access record graphs (the rest are catalogue records: MARC's graphs are
#: named after each record's own source, ``marc``, ``dlc``, ``ocolc``...).
OPEN_ACCESS_SOURCES = frozenset(SOURCE_NAMES) | {OAI_SOURCE}


def refresh_candidates(
    writer: Writer, layout: Layout, data_dir: Path, *, full: bool = False, reopen: bool = False
) -> CandidatesRefresh:
    """Bring the candidates graph of ``writer``'s store up to date (``web.candidates_refresh``:
    the blocks changes touched, or every block when ``full``): only the difference is written,
    and what reviewers decided is kept; ``reopen``: from a store reopened first."""
    return candidates_refresh.refresh_candidates(
        writer, layout, data_dir, OPEN_ACCESS_SOURCES, full=full, reopen=reopen
    )


def mark_owed(data_dir: Path) -> bool:
    """Say, before an ingest writes anything, that the candidates may lag the store; returns
    whether they already did (an ingest killed after its batches and before its refresh, or a
    refresh killed midway). The mark outlives a kill, so the next ingest refreshes even if it
    finds every record unchanged; ``refresh_after_ingest`` takes it off."""
    with closing(candidate_state.open_state(data_dir)) as db:
        return swap_meta(db, "owed", "1") is not None


def refresh_after_ingest(
    writer: Writer, layout: Layout, data_dir: Path, changed: bool
) -> CandidatesRefresh | None:
    """The candidates brought up to date at the end of an ingest or a harvest that ``changed``
    the store's data (or that found them lagging: ``mark_owed``); when it did not, no read at
    all, the mark taken off. The store is reopened first: the ingest's reads filled RocksDB's
    caches, and the refresh's memory is bounded above what is left."""
    done = refresh_candidates(writer, layout, data_dir, reopen=True) if changed else None
    with closing(candidate_state.open_state(data_dir)) as db:
        set_meta(db, "owed", None)
    return done


def run_refresh_command(settings: Settings, *, full: bool = False) -> CandidatesRefresh:
    """Bring the candidates graph of the live store up to date, in a writing session of its own."""
    layout = Layout(settings.base_iri)
    with Writer(settings.data_dir, layout, PIPELINE_VERSION) as writer:
        return refresh_candidates(writer, layout, settings.data_dir, full=full)


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
