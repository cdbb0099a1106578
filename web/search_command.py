"""``catalograph search``: seed search over the newest checkpoint, as a table or JSON.

It reads the search index the last ingest published with its checkpoint
(``query.search``), so it can run while an ingest writes and answers from the
same state as ``catalograph query``.
"""

from __future__ import annotations

import json

from graph.snapshots import latest_snapshot, no_checkpoint_error
from query.search import SearchQuery, SearchResult, search
from web.config import Settings

#: Widest a label is printed in the table before it is cut with an ellipsis.
LABEL_WIDTH = 60


def run_search_command(settings: Settings, query: SearchQuery, format_name: str) -> str:
    """The hits as an aligned table (``table``) or as the API's JSON (``json``)."""
    checkpoint = latest_snapshot(settings.data_dir)
    if checkpoint is None:
        raise no_checkpoint_error(settings.data_dir)
    result = search(checkpoint, query)
    if format_name == "json":
        return json.dumps(result.as_json(), ensure_ascii=False, indent=2) + "\n"
    return render_hits(result)


def render_hits(result: SearchResult) -> str:
    """One line per hit: rank, kind, year, field matched, label, IRI."""
    if not result.hits:
        return "no hits\n"
    rows = [
        (
            str(result.query.offset + number),
            hit.kind,
            str(hit.year or ""),
            hit.field,
            _cut(hit.label),
            hit.iri,
        )
        for number, hit in enumerate(result.hits, start=1)
    ]
    header = ("#", "kind", "year", "field", "label", "iri")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    more = " (more: use --offset)" if result.more else ""
    lines.append(f"({len(rows)} hit{'s' if len(rows) != 1 else ''}{more})")
    return "\n".join(lines) + "\n"


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_WIDTH else text[: LABEL_WIDTH - 1] + "…"
