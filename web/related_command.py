"""``catalograph related``: what is related to a resource, as a table or JSON, from the newest checkpoint."""

from __future__ import annotations

import json
import textwrap

from graph.snapshots import latest_snapshot, open_latest_snapshot
from graph.writer import Writer
from ingest import PIPELINE_VERSION
from ontology.layout import Layout
from query.related import Labels, role_names
from web.association_build import refresh_associations
from web.config import Settings
from web.related import (
    open_association,
    parse_iri,
    related_json,
    related_to_hits,
    seed_hits,
    seeds_json,
)

#: Width of the explanation column of the table.
WRAP = 100


def run_related_command(
    settings: Settings, iri: str | None, limit: int, format_name: str, text: str | None = None
) -> str:
    """The results for ``iri`` (or for the seed search's hits for ``text``) as an aligned
    table (score, work, editions, why) or as JSON."""
    store = open_latest_snapshot(settings.data_dir)
    association = open_association(store, settings)
    labels = Labels(store, (), role_names())
    if text is not None:
        found = seed_hits(latest_snapshot(settings.data_dir), text)
        results = related_to_hits(association, found, limit, labels)
        body = seeds_json(text, found, results)
    else:
        iri = parse_iri(iri)
        results = association.related(iri, limit, labels=labels)
        body = related_json(iri, results)
    if format_name == "json":
        return json.dumps(body, ensure_ascii=False, indent=1) + "\n"
    if not results:
        return "nothing related found\n"
    lines = []
    for rank, result in enumerate(results, start=1):
        editions = f" ({result.editions} editions)" if result.editions > 1 else ""
        lines.append(f"{rank:>2}. {result.score:.3f}  {result.label}{editions}")
        lines.append(f"    {result.iri}")
        lines.extend(
            textwrap.wrap(result.because, WRAP, initial_indent="    ", subsequent_indent="    ")
        )
    return "\n".join(lines) + "\n"


def run_refresh_command(settings: Settings, *, full: bool) -> str:
    """Bring the associations up to date with the live store (a writing session of its own)."""
    layout = Layout(settings.base_iri)
    with Writer(settings.data_dir, layout, PIPELINE_VERSION) as writer:
        done = refresh_associations(writer, layout, settings.data_dir, full=full)
    return done.summary()
