"""The reader's search page (``/search``) and its autocomplete (``/search/suggest``).

Why on ``/search`` and not on ``/`` itself: the home page keeps its figures and
links, and carries the same search box, whose form sends the reader here; a
results address is then a plain link to share or bookmark, with its JSON twin
(``?_format=json``, ``web.json_twin``) beside it.

One page is three bounded reads of the checkpoint's search index, on one
read-only connection: the ranked page of hits (``query.search``), the facet
counts over at most ``FACET_CAP`` hits (``query.search_facets``), and what each
hit shows beside its label (creators, types, sources). Facets combine: AND
across facets, OR within one, and a year range; every choice is a link (the
page works without JavaScript), and every value reaches SQLite as a parameter.
An empty search, a refused one (too many words, an unknown filter) and one
that finds nothing each say why and what to try; a search that failed
(stopped at its deadline) says so with 503.

The autocomplete is the prefix search (``prefix=True``) of the same index, as
JSON; ``web/static/search.js`` turns the box into an ARIA combobox with it.
Each client has at most ``max_client_queries`` searches in progress, counted
with ``/api/search``'s (``web.api.search_clients``).
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext

from graph.search_documents import FACETS
from ingest.marc.vocab import language_name
from ontology.errors import UsageError
from ontology.term_labels import languages
from query.execution import QueryTimeoutError
from query.listings import best_label
from query.negotiation import HTML, content_type
from query.search import MAX_OFFSET, SearchHit, SearchQuery, open_index, search_in
from query.search_facets import FACET_CAP, Facets, Shown, facet_counts, shown_with
from web.api import search_clients
from web.i18n import interface_language, reader_languages, term_label
from web.json_twin import PARAMETER, json_link, json_response, wants_json
from web.limits import client_address
from web.state import settings, store_holder

blueprint = Blueprint("search_page", __name__)

#: Hits per page.
PAGE_SIZE = 20
#: Deepest page (the search's deepest offset).
MAX_PAGE = MAX_OFFSET // PAGE_SIZE + 1
#: Suggestions the autocomplete offers.
SUGGESTIONS = 8
#: Facet filters the page reads (every facet of the index, and kind), and the other parameters.
FILTER_NAMES = (*FACETS, "kind")
PARAMETERS = frozenset({"q", "page", "from", "to", PARAMETER, *FILTER_NAMES})

#: Kinds of resource by their name (``graph.search_documents.kinds_by_class``).
KIND_LABELS = {
    "work": lazy_gettext("Work"),
    "instance": lazy_gettext("Instance"),
    "agent": lazy_gettext("Agent"),
    "concept": lazy_gettext("Concept"),
    "place": lazy_gettext("Place"),
    "event": lazy_gettext("Event"),
}
#: The facets in the order the page lists them, with their headings.
FACET_LABELS = {
    "kind": lazy_gettext("Kind"),
    "type": lazy_gettext("Resource type"),
    "agent": lazy_gettext("Contributor"),
    "subject": lazy_gettext("Subject"),
    "language": lazy_gettext("Languages"),
    "decade": lazy_gettext("Year"),
    "source": lazy_gettext("Source"),
}


@dataclass(slots=True)
class ResultLine:
    """One hit as the page shows it."""

    iri: str
    href: str
    kind: str
    title: str
    title_lang: str
    parallel: list[tuple[str, str]]
    year: int | None
    languages: list[str]
    creators: list[tuple[str, str, str]] = field(default_factory=list)  # (iri, href, label)
    types: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: The line under the title: year, types, languages, sources, in the reader's language.
    meta: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SearchPage:
    """Everything the page is made from (and its JSON twin holds)."""

    query: str
    page: int = 1
    lines: list[ResultLine] = field(default_factory=list)
    more: bool = False
    total: int = 0
    capped: bool = False
    facets: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    chosen: list[tuple[str, str, str, str]] = field(default_factory=list)  # (facet, value, label, remove)
    year_from: int | None = None
    year_to: int | None = None
    problem: str | None = None
    previous_href: str | None = None
    next_href: str | None = None


@blueprint.get("/search")
def search_page() -> Response:
    """``GET /search?q=&page=&kind=&type=&agent=&subject=&language=&source=&from=&to=``."""
    page, status = _search(), 200
    if page.problem is not None:
        status = 400
    if wants_json():
        response = json_response(page)
        response.status_code = status
        return response
    body = render_template(
        "search.html",
        page=page,
        facet_labels={name: str(label) for name, label in FACET_LABELS.items()},  # translated once
        kind_labels={name: str(label) for name, label in KIND_LABELS.items()},
        filtered=bool(page.chosen or page.year_from is not None or page.year_to is not None),
        home_q=_href([("q", page.query)]) if page.query else None,
        cap=FACET_CAP,
        json_href=_href([*_args(), (PARAMETER, "json")]),
    )
    response = Response(body, status=status, content_type=content_type(HTML))
    response.headers["Link"] = json_link()
    return response


@blueprint.get("/search/suggest")
def suggest() -> Response:
    """``GET /search/suggest?q=moza``: up to ``SUGGESTIONS`` resources whose words start so."""
    text = request.args.get("q", "")
    if not text.strip():
        return jsonify({"query": text, "suggestions": []})
    query = SearchQuery.build(text, prefix=True, limit=SUGGESTIONS)
    holder = store_holder()
    holder.get()
    with search_clients().slot(client_address()), closing(open_index(holder.path)) as db:
        hits = search_in(db, query).hits
    languages = reader_languages()
    found = [
        {"label": _title(hit, languages)[0], "kind": hit.kind, "kind_label": str(KIND_LABELS.get(hit.kind, hit.kind)),
         "iri": hit.iri, "href": resource_href(hit.iri)}
        for hit in hits
    ]  # fmt: skip
    response = jsonify({"query": text, "suggestions": found})
    response.headers["Cache-Control"] = "no-cache"
    return response


def _search() -> SearchPage:
    args = request.args
    unknown = sorted(set(args) - PARAMETERS)
    text = args.get("q", "")
    page = SearchPage(text)
    if unknown:
        page.problem = gettext("Unknown parameter(s): %(names)s.", names=", ".join(unknown))
        return page
    if not text.strip():
        return page  # the box, and what to try
    try:
        page.page = _number("page") or 1
        if not 1 <= page.page <= MAX_PAGE:
            raise UsageError(gettext("A page number is between 1 and %(most)d.", most=MAX_PAGE))
        page.year_from, page.year_to = _number("from"), _number("to")
        chosen = {name: args.getlist(name) for name in FILTER_NAMES if args.getlist(name)}
        query = SearchQuery.build(
            text,
            year_from=page.year_from,
            year_to=page.year_to,
            limit=PAGE_SIZE,
            offset=(page.page - 1) * PAGE_SIZE,
            facets=chosen,
        )
    except UsageError as exc:
        page.problem = str(exc)
        return page
    holder = store_holder()
    holder.get()  # the newest checkpoint: the search answers from the one pages answer from
    with search_clients().slot(client_address()), closing(open_index(holder.path)) as db:
        try:
            result = search_in(db, query)
            facets = facet_counts(db, query)
            shown = shown_with(db, result.iris)
        except QueryTimeoutError as exc:
            raise QueryTimeoutError(gettext("The search took too long and was stopped; try fewer or rarer words.")) from exc
    languages = reader_languages()
    page.lines = [_line(hit, shown[hit.iri], languages) for hit in result.hits]
    page.more = result.more
    page.total, page.capped = facets.counted, facets.capped
    page.facets = _facet_groups(facets)
    page.chosen = _chosen(query, facets)
    if page.page > 1:
        page.previous_href = _href(_args(page=page.page - 1))
    if result.more and page.page < MAX_PAGE:
        page.next_href = _href(_args(page=page.page + 1))
    return page


def _line(hit: SearchHit, shown: Shown, languages: list[str]) -> ResultLine:
    title, lang, parallel = _title(hit, languages)
    creators = [(iri, resource_href(iri), label) for iri, label in shown.creators]
    line = ResultLine(
        iri=hit.iri,
        href=resource_href(hit.iri),
        kind=hit.kind,
        title=title,
        title_lang=lang,
        parallel=parallel,
        year=hit.year,
        languages=[language_label(code) for code in hit.languages],
        creators=creators,
        types=[term_label(t) for t in shown.types],
        sources=shown.sources,
    )
    line.meta = [
        *([str(hit.year)] if hit.year else []),
        *line.types[:3],
        *line.languages[:3],
        *(gettext("source: %(name)s", name=name) for name in line.sources[:2]),
    ]
    return line


def _title(hit: SearchHit, languages: list[str]) -> tuple[str, str, list[tuple[str, str]]]:
    """The hit's title in the reader's script where it has parallel forms, and the others."""
    from pyoxigraph import Literal

    forms = [Literal(text, language=tag) if tag else Literal(text) for text, tag in hit.forms]
    best = best_label(forms, languages) if forms else None
    if best is None:
        return hit.label, "", []
    parallel = [(f.value, f.language or "") for f in forms if f.value != best.value]
    return best.value, best.language or "", parallel[:3]


def _facet_groups(facets: Facets) -> dict[str, list[dict[str, object]]]:
    groups: dict[str, list[dict[str, object]]] = {}
    for name in FACET_LABELS:
        values = facets.groups.get(name)
        if not values:
            continue
        shown = []
        for value in values:
            if name == "decade":
                start = int(value.value)
                label = f"{start}–{start + 9}"
                href = _href(_args(page=None, replace={"from": str(start), "to": str(start + 9)}))
                selected = (
                    _number("from") == start and _number("to") == start + 9
                )
            else:
                label = facet_label(name, value.value, value.label)
                href = _href(_args(page=None, toggle=(name, value.value)))
                selected = value.selected
            shown.append({"value": value.value, "label": label, "count": value.count,
                          "selected": selected, "href": href})  # fmt: skip
        groups[name] = shown
    return groups


def _chosen(query: SearchQuery, facets: Facets) -> list[tuple[str, str, str, str]]:
    labels = {(name, v.value): v.label for name, values in facets.groups.items() for v in values}
    chosen = []
    for name, values in query.facets:
        for value in values:
            label = facet_label(name, value, labels.get((name, value), value))
            chosen.append((name, value, label, _href(_args(page=None, toggle=(name, value)))))
    for name in ("from", "to"):
        value = request.args.get(name)
        if value:
            chosen.append((name, value, value, _href(_args(page=None, replace={name: None}))))
    return chosen


def facet_label(name: str, value: str, label: str) -> str:
    """How a facet value is shown: a kind or a language by its name, a class by its label."""
    if name == "kind":
        return str(KIND_LABELS.get(value, value))
    if name == "language":
        return language_label(value)
    if name == "type":
        return term_label(value)
    return label


def language_label(code: str) -> str:
    """``eng`` -> ``English`` (``英语`` in the Chinese interface, CLDR's name); a code without a
    name as it is.

    >>> language_label("jpn"), language_label("qqq")
    ('Japanese', 'qqq')
    """
    if interface_language() == "zh":
        known = languages().get(code)
        if known is not None and known.chinese:
            return known.chinese
    return language_name(code) or code


def resource_href(iri: str) -> str:
    """Where this server shows ``iri``: its own path for one of ours, else the IRI itself."""
    base = settings().base_iri
    if iri.startswith(base):
        return request.script_root + "/" + iri[len(base) :].lstrip("/")
    return iri


def _args(
    page: int | None = None,
    toggle: tuple[str, str] | None = None,
    replace: dict[str, str | None] | None = None,
) -> list[tuple[str, str]]:
    """The request's parameters with one facet value added or taken away, others replaced,
    and the page set (``None``: the first, so a changed filter starts over)."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", PARAMETER)]
    if toggle is not None:
        if toggle in pairs:
            pairs.remove(toggle)
        else:
            pairs.append(toggle)
    for name, value in (replace or {}).items():
        pairs = [(k, v) for k, v in pairs if k != name]
        if value is not None:
            pairs.append((name, value))
    if page is not None and page > 1:
        pairs.append(("page", str(page)))
    return pairs


def _href(pairs: list[tuple[str, str]]) -> str:
    return f"{request.script_root}/search?{urlencode(pairs)}"


def _number(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 6):
        raise UsageError(gettext("%(name)s must be a whole number.", name=name))
    return int(value)
