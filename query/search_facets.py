"""Facet counts of a search, and what a page of hits shows beside each hit (creators, sources).

Why counted over at most ``FACET_CAP`` hits: a common word matches a good part
of a large catalogue, and counting every facet value of every match would
grow with the catalogue; the counts of the first ``FACET_CAP`` matches (in
the index's order, not ranked: no sort needed) keep a search bounded, and
``Facets.capped`` says when they are a sample so the page can say so.

A hit's facet values are its own and those of its family (``query.search.FAMILY``):
an instance takes its work's subjects, contributors and languages, a work its
instances' sources and types, so filtering and counting agree with what a
reader sees on the hit. Kind and decade come from the documents themselves.
Labels of IRI values (agents, concepts) are read from their own documents in
the same index at query time, so a renamed agent is shown by its new name.

Every value reaches SQLite as a parameter (lists as JSON arrays read with
``json_each``); the statements' text is fixed. ``CROSS JOIN`` keeps SQLite's
planner from starting at ``search_facet``: at 100,000 records it chose to
scan the table's 200,000 rows and look each up among the hits (50-240 ms for
three hits); from the hits, each document's rows are one index range.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from query.execution import QueryTimeoutError
from query.search import DEFAULT_DEADLINE_S, FILTERS, YEAR, SearchQuery

#: Hits whose facet values are counted at most.
FACET_CAP = 1000
#: Values shown per facet, the most frequent first.
TOP_VALUES = 12
_PROGRESS_STEPS = 10_000

_COUNTS = f"""
WITH hits AS MATERIALIZED (
    SELECT d.id, d.iri, d.work, d.kind, {YEAR} AS year
    FROM search_fts JOIN search_doc AS d ON d.id = search_fts.rowid
    WHERE {FILTERS}
    LIMIT :cap
),
family(hit, doc) AS (
    SELECT id, id FROM hits
    UNION SELECT h.id, w.id FROM hits AS h JOIN search_doc AS w ON w.iri = h.work
    UNION SELECT h.id, i.id FROM hits AS h JOIN search_doc AS i ON i.work = h.iri
)
SELECT '', '', count(*) FROM hits
UNION ALL SELECT 'kind', kind, count(*) FROM hits GROUP BY kind
UNION ALL SELECT 'decade', CAST(year / 10 * 10 AS TEXT), count(*) FROM hits WHERE year IS NOT NULL
    GROUP BY year / 10
UNION ALL SELECT f.facet, f.value, count(DISTINCT family.hit)
    FROM family CROSS JOIN search_facet AS f ON f.doc = family.doc GROUP BY f.facet, f.value
"""  # noqa: S608 - our own SQL; every value is a parameter

_LABELS = """
SELECT iri, label FROM search_doc WHERE iri IN (SELECT value FROM json_each(:iris))
"""

_SHOWN = """
WITH page(hit) AS (SELECT value FROM json_each(:iris)),
docs AS (SELECT page.hit, d.id, d.iri, d.work FROM page JOIN search_doc AS d ON d.iri = page.hit),
family(hit, doc) AS (
    SELECT hit, id FROM docs
    UNION SELECT h.hit, w.id FROM docs AS h JOIN search_doc AS w ON w.iri = h.work
    UNION SELECT h.hit, i.id FROM docs AS h JOIN search_doc AS i ON i.work = h.iri
)
SELECT DISTINCT family.hit, f.facet, f.value, l.label
FROM family CROSS JOIN search_facet AS f ON f.doc = family.doc
LEFT JOIN search_doc AS l ON l.iri = f.value AND f.facet IN ('agent', 'subject')
WHERE f.facet IN ('agent', 'source', 'type')
ORDER BY family.hit, f.facet, l.label, f.value
"""


@dataclass(frozen=True, slots=True)
class FacetValue:
    """One value of a facet: how many hits have it, and how it is shown."""

    value: str
    count: int
    label: str
    selected: bool = False

    def as_json(self) -> dict[str, object]:
        return {"value": self.value, "label": self.label, "count": self.count, "selected": self.selected}


@dataclass(slots=True)
class Facets:
    """The facets of a search's hits: ``counted`` hits, all of them unless ``capped``."""

    counted: int = 0
    capped: bool = False
    groups: dict[str, list[FacetValue]] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "counted": self.counted,
            "capped": self.capped,
            "facets": {name: [v.as_json() for v in values] for name, values in self.groups.items()},
        }


def facet_counts(
    db: sqlite3.Connection,
    query: SearchQuery,
    *,
    cap: int = FACET_CAP,
    top: int = TOP_VALUES,
    deadline_s: float = DEFAULT_DEADLINE_S,
) -> Facets:
    """The facet values of ``query``'s hits (at most ``cap`` of them) with their counts, the
    ``top`` most frequent of each facet, and every value the query filters by."""
    rows = _guarded(db, _COUNTS, {**query.parameters(), "cap": cap}, deadline_s, query.text)
    facets = Facets()
    grouped: dict[str, list[tuple[str, int]]] = {}
    for name, value, count in rows:
        if name == "":
            facets.counted = count
            continue
        grouped.setdefault(name, []).append((value, count))
    facets.capped = facets.counted >= cap
    chosen = {name: set(values) for name, values in query.facets}
    if query.kind:
        chosen.setdefault("kind", set()).add(query.kind)
    kept: dict[str, list[tuple[str, int]]] = {}
    for name, values in grouped.items():
        if name == "decade":
            kept[name] = sorted(values)  # in time order, every decade
            continue
        ranked = sorted(values, key=lambda pair: (-pair[1], pair[0]))
        kept[name] = ranked[:top] + [p for p in ranked[top:] if p[0] in chosen.get(name, ())]
    labels = labels_of(db, [v for name in ("agent", "subject") for v, _ in kept.get(name, ())])
    for name, values in kept.items():
        facets.groups[name] = [
            FacetValue(value, count, labels.get(value, value), value in chosen.get(name, ()))
            for value, count in values
        ]
    return facets


def labels_of(db: sqlite3.Connection, iris: Sequence[str]) -> dict[str, str]:
    """Each of ``iris`` that has a document -> its document's label."""
    if not iris:
        return {}
    return dict(db.execute(_LABELS, {"iris": json.dumps(list(iris))}).fetchall())


@dataclass(slots=True)
class Shown:
    """What a result line shows beside a hit's label: its creators, types and sources."""

    creators: list[tuple[str, str]] = field(default_factory=list)  # (iri, label)
    types: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def shown_with(db: sqlite3.Connection, iris: Sequence[str]) -> dict[str, Shown]:
    """For a page of hits: each hit's creators (with their labels), types and sources, from
    its own facets and its family's."""
    found: dict[str, Shown] = {iri: Shown() for iri in iris}
    if not iris:
        return found
    for hit, facet, value, label in db.execute(_SHOWN, {"iris": json.dumps(list(iris))}):
        shown = found[hit]
        if facet == "agent":
            shown.creators.append((value, label or value))
        elif facet == "type":
            shown.types.append(value)
        else:
            shown.sources.append(value)
    return found


def _guarded(
    db: sqlite3.Connection, sql: str, parameters: dict[str, object], deadline_s: float, text: str
) -> list[tuple]:
    """Run ``sql``, stopped at ``deadline_s`` (``QueryTimeoutError``) by SQLite's progress handler."""
    stop_at = time.monotonic() + deadline_s
    db.set_progress_handler(lambda: time.monotonic() > stop_at, _PROGRESS_STEPS)
    try:
        return db.execute(sql, parameters).fetchall()
    except sqlite3.OperationalError as exc:
        if time.monotonic() > stop_at:
            raise QueryTimeoutError(f"counting the facets took longer than {deadline_s:g} s") from exc
        raise
    finally:
        db.set_progress_handler(None, 0)
