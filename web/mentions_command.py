"""``catalograph mentions --refresh [--full]``, and the mentions kept in step with every ingest.

The refresh itself (what to examine, examined in slices, the state on disk,
the store reopened past a headroom) is ``web.mentions_refresh``; this module
is what calls it: the command, in a writing session of its own, and the two
hooks of an ingest or a harvest (``web.ingest_command``): the mark set
before its first write (``mark_stale``), and the refresh of what it changed
at its end (``refresh_after_ingest``).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from graph.mention_state import open_state
from graph.refresh_state import set_meta, swap_meta
from graph.writer import Writer
from ingest import PIPELINE_VERSION
from ontology.layout import Layout
from web.config import Settings
from web.mentions_refresh import DIGESTS_FILE, MentionRefresh, refresh_mentions

__all__ = ["DIGESTS_FILE", "MentionRefresh", "mark_stale", "refresh_after_ingest", "run_mentions_command"]


def mark_stale(data_dir: Path) -> bool:
    """Say, before an ingest writes anything, that the mentions may lag the store; returns
    whether they already did (a refresh or an ingest killed before its refresh ended).

    The mark stays if the process is killed, so the next ingest refreshes even if it finds
    every record unchanged; ``refresh_after_ingest`` takes it off.
    """
    with closing(open_state(data_dir)) as db:
        state = swap_meta(db, "state", "stale")
    return state is not None and state != "clean"


def refresh_after_ingest(writer: Writer, layout: Layout, data_dir: Path, changed: bool) -> MentionRefresh | None:
    """The mentions brought up to date at the end of an ingest or a harvest that ``changed``
    the store (records written or deleted, or an earlier run stopped before its refresh:
    ``mark_stale``), examining only what the writer changed; when it did not, no read at
    all, the mark taken off. The store is reopened first: the ingest's reads filled RocksDB's
    caches, and the refresh's memory is bounded above what is left (``web.mentions_session``)."""
    if changed:
        return refresh_mentions(writer, layout, data_dir, changes_only=True, reopen=True)
    with closing(open_state(data_dir)) as db:
        set_meta(db, "state", "clean")
    return None


def run_mentions_command(settings: Settings, *, full: bool) -> str:
    """Refresh the mentions of the live store in a writing session of its own."""
    layout = Layout(settings.base_iri)
    with Writer(settings.data_dir, layout, PIPELINE_VERSION) as writer:
        done = refresh_mentions(writer, layout, settings.data_dir, full=full)
    return done.summary()
