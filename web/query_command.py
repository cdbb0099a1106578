"""``catalograph query`` and ``catalograph stats``: read the latest committed state of the store.

Both read the newest checkpoint the last ingest published, so they can run
while an ingest is writing and never see half a batch.
"""

from __future__ import annotations

import json

from pyoxigraph import QueryResultsFormat, RdfFormat, parse_query_results

from graph.snapshots import open_latest_snapshot
from graph.stats import count
from ontology.namespaces import compact
from query.negotiation import RDF_FORMATS, RESULTS_FORMATS, parse_format
from query.sparql import run_query
from web.config import Settings

#: Widest a table cell is printed before it is cut with an ellipsis.
CELL_WIDTH = 60


def run_query_command(settings: Settings, text: str, format_name: str, max_rows: int | None) -> str:
    """The query's answer as text: an aligned table, or the serialisation asked for."""
    store = open_latest_snapshot(settings.data_dir)
    rows = max_rows or settings.max_rows
    table = format_name.lower() == "table"
    if table:  # SELECT as an aligned table; CONSTRUCT/DESCRIBE as Turtle
        results_format, graph_format = QueryResultsFormat.TSV, RdfFormat.TURTLE
    else:
        results_format = parse_format(format_name, RESULTS_FORMATS)
        graph_format = parse_format(format_name, RDF_FORMATS)
    result = run_query(
        store,
        text,
        results_format=results_format,
        graph_format=graph_format,
        max_rows=rows,
        max_bytes=settings.max_query_bytes,
    )
    note = f"# cut at {rows} rows (use --max-rows)\n" if result.truncated else ""
    if table and result.form == "select":
        return render_table(result.body) + note
    if table and result.form == "ask":
        solutions = parse_query_results(result.body, QueryResultsFormat.TSV)
        return ("yes" if bool(solutions) else "no") + "\n"
    return result.body.decode("utf-8") + note


def render_table(tsv: bytes) -> str:
    """SPARQL TSV results as an aligned text table, IRIs compacted with the known prefixes."""
    solutions = parse_query_results(tsv, QueryResultsFormat.TSV)
    variables = [v.value for v in solutions.variables]
    rows = [[_cell(solution[name]) for name in variables] for solution in solutions]
    widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(variables)]
    lines = [
        "  ".join(name.ljust(widths[i]) for i, name in enumerate(variables)).rstrip(),
        "  ".join("-" * width for width in widths),
    ]
    lines += [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def _cell(term: object) -> str:
    if term is None:
        return ""
    value = getattr(term, "value", str(term))
    text = compact(value) if type(term).__name__ == "NamedNode" else value
    text = " ".join(str(text).split())
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def run_stats_command(settings: Settings, as_json: bool) -> str:
    """The store's figures (``graph.stats``, as the home page and VoID give them), as text or JSON."""
    figures = count(open_latest_snapshot(settings.data_dir))
    if as_json:
        return json.dumps(figures.summary(), indent=2)
    totals, classes = figures.totals(), figures.by_class()
    width = max(len(key) for key in [*totals, *classes]) + 2
    lines = [f"{key:<{width}}{value:>10,}" for key, value in totals.items()]
    lines.append("classes (each with its subclasses):")
    lines += [f"  {name:<{width - 2}}{value:>10,}" for name, value in classes.items()]
    return "\n".join(lines)
