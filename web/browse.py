"""``/browse``: every kind of resource listed and paged, alphabetically or by use.

``/browse`` names the kinds and the concept schemes with their sizes;
``/browse/{kind}`` lists one kind (``sort=alpha`` with a letter jump, or
``sort=count``: most used first; ``start=N`` is where the page begins);
``/browse/concept?scheme=IRI`` the concepts of one scheme, and with
``view=tree`` its hierarchy as Skosmos shows it: the top concepts, each with
its narrower ones (``under=IRI`` lists every narrower concept of one).

The orders come from ``query.browse.BrowseIndex``, made once per checkpoint
(``web.browse_index``): a page is a slice of a precomputed array plus a few
indexed reads for the labels of the fifty entries shown, so its cost does
not grow with the list's length or the page number. Every page has its JSON
twin (``?_format=json``) made of the same ``BrowsePage``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext, lazy_gettext, ngettext
from pyoxigraph import Store

from ontology.errors import NotFoundError, UsageError
from ontology.term_labels import vocabulary_label_and_language
from query.browse import (
    ALPHABETICAL,
    BY_USE,
    KINDS,
    PAGE_SIZE,
    BrowseIndex,
    Entry,
    Ordering,
    labels_of,
)
from query.listings import best_label
from web.browse_index import browse_index
from web.i18n import reader_languages
from web.json_twin import json_link, json_response, wants_json
from web.state import app_state, settings, store_holder

blueprint = Blueprint("browse", __name__)
_START = re.compile(r"0|[1-9][0-9]{0,8}")
_PARAMETERS = {"sort", "start", "scheme", "view", "under", "_format"}

#: Each kind by its name in the plural (headings, the overview).
KIND_LABELS = {
    "work": lazy_gettext("Works"),
    "instance": lazy_gettext("Instances"),
    "agent": lazy_gettext("Agents"),
    "concept": lazy_gettext("Concepts"),
    "place": lazy_gettext("Places"),
    "event": lazy_gettext("Events"),
}
#: The home page's groups (``graph.stats``) that have a browse list, by their kind.
GROUP_KINDS = {f"{kind}s": kind for kind in KINDS}


def use_phrase(kind: str, count: int | None) -> str:
    """How an entry's count reads: a work's editions, a unit's works."""
    if not count:  # not counted, or used by none (a publisher, a heading of a deleted record)
        return ""
    if kind == "work":
        return ngettext("%(n)s edition", "%(n)s editions", count, n=f"{count:,}")
    return ngettext("%(n)s work", "%(n)s works", count, n=f"{count:,}")


# ------------------------------------------------------------ what a page shows


@dataclass(slots=True)
class Item:
    """One entry as a reader sees it: its label in the reader's language, the others beside."""

    href: str
    text: str
    lang: str | None
    parallel: list[tuple[str, str | None]]
    kind: str
    count: int | None
    uses: str
    year: int | None
    children: list[Item] = field(default_factory=list)
    children_total: int = 0
    children_href: str | None = None


@dataclass(slots=True)
class Link:
    text: str
    href: str
    current: bool = False
    lang: str | None = None
    count: int | None = None


@dataclass(slots=True)
class BrowsePage:
    kind: str
    heading: str
    total: int
    sort: str
    view: str
    start: int
    items: list[Item]
    sorts: list[Link]
    letters: list[Link]
    schemes: list[Link]
    views: list[Link]
    scheme: Link | None = None
    under: Item | None = None
    prev_href: str | None = None
    next_href: str | None = None
    hierarchical: bool = True
    #: The home page's figure for this kind (``graph.stats``), which also counts the nodes
    #: named only inside one record (an imprint's place): they have no page to list.
    recorded: int | None = None


def resource_href(iri: str) -> str:
    """Where a resource's page is: under the base its own path, else ``/about?iri=``."""
    base = settings().base_iri
    root = request.script_root
    if iri.startswith(base):
        return f"{root}/{iri[len(base):]}"
    return f"{root}/about?{urlencode({'iri': iri})}"


def _item(store: Store | None, entry: Entry, languages: list[str]) -> Item:
    labels = labels_of(store, entry.iri) if store is not None else []
    best = best_label(labels, languages)
    text, lang = (best.value, best.language) if best is not None else (entry.label, None)
    parallel = list(
        dict.fromkeys((lab.value, lab.language) for lab in labels if lab.value != text)
    )
    return Item(
        resource_href(entry.iri), text, lang, parallel, entry.kind, entry.count,
        use_phrase(entry.kind, entry.count), entry.year,
    )  # fmt: skip


def scheme_name(iri: str, store: Store, languages: list[str]) -> tuple[str, str | None]:
    """A scheme's name: ours (``ontology.term_labels``), else the store's label, else its IRI."""
    known = vocabulary_label_and_language(iri, languages)
    if known is not None:
        return known
    best = best_label(labels_of(store, iri), languages)
    return (best.value, best.language) if best is not None else (iri, None)


# ------------------------------------------------------------ routes


@blueprint.get("/browse")
def overview() -> Response:
    index = browse_index()
    store, languages = store_holder().get(), reader_languages()
    kinds = [
        Link(str(KIND_LABELS[kind]), _href(kind), count=len(index.lists[kind])) for kind in KINDS
    ]
    schemes = [
        _scheme_link(scheme, size, store, languages) for scheme, size in index.scheme_sizes().items()
    ]
    if wants_json():
        return json_response({"kinds": kinds, "schemes": schemes})
    body = render_template("browse_overview.html", kinds=kinds, schemes=schemes)
    return _html(body)


@blueprint.get("/browse/<kind>")
def listing(kind: str) -> Response:
    if kind not in KINDS:
        raise NotFoundError(f"no such kind of resource: {kind[:50]!r}; one of {', '.join(KINDS)}")
    unknown = sorted(set(request.args) - _PARAMETERS)
    if unknown:
        raise UsageError(f"unknown parameter(s): {', '.join(u[:30] for u in unknown)}")
    args = {key: _one(key) for key in ("sort", "start", "scheme", "view", "under")}
    view = args["view"] or "list"
    if view not in ("list", "tree"):
        raise UsageError("'view' is list or tree")
    scheme = args["scheme"]
    if (scheme or view == "tree" or args["under"]) and kind != "concept":
        raise UsageError("'scheme', 'view' and 'under' are for concepts")
    if view == "tree" and not scheme:
        raise UsageError("a hierarchy is a scheme's: give 'scheme' too")
    index = browse_index()
    page = _page(index, kind, args, view)
    if wants_json():
        return json_response({"page": page})
    return _html(render_template("browse.html", page=page))


def _page(index: BrowseIndex, kind: str, args: dict[str, str | None], view: str) -> BrowsePage:
    store, languages = store_holder().get(), reader_languages()
    scheme = args["scheme"]
    if scheme is not None and scheme not in index.schemes:
        raise NotFoundError(f"no concept of this graph is in the scheme {scheme[:200]}")
    default_sort = ALPHABETICAL
    sort = args["sort"] or default_sort
    if sort not in (ALPHABETICAL, BY_USE):
        raise UsageError("'sort' is alpha or count")
    start = _start(args["start"])
    keep = {"scheme": scheme, "view": view if view != "list" else None}
    under = None
    if args["under"] is not None:
        parent = args["under"]
        if parent not in index.narrower:
            raise NotFoundError("this concept has no narrower concepts here")
        entries = index.children_of(parent)
        under = _item(store, index.entry(index.row[parent]), languages) if parent in index.row else None
        items = [_item(store, e, languages) for e in entries[start : start + PAGE_SIZE]]
        total, listing = len(entries), None
    else:
        listing = index.listing(kind, scheme, top=view == "tree")
        page = index.page(listing, sort, start)
        if view == "tree":
            index.with_children(page.entries)
        items = []
        for entry in page.entries:
            item = _item(store, entry, languages)
            item.children = [_item(None, child, languages) for child in entry.children]
            item.children_total = entry.children_total
            if entry.children_total > len(entry.children):
                item.children_href = _href(kind, scheme=scheme, view="tree", under=entry.iri)
            items.append(item)
        total = page.total
    here = {**keep, "under": args["under"]}
    result = BrowsePage(
        kind=kind,
        heading=str(KIND_LABELS[kind]),
        total=total,
        sort=sort,
        view=view,
        start=start,
        items=items,
        sorts=_sorts(kind, listing, sort, keep) if listing is not None else [],
        letters=_letters(kind, listing, sort, start, keep) if listing is not None else [],
        schemes=[],
        views=[],
        under=under,
    )
    if start > 0:
        before = max(0, start - PAGE_SIZE)
        result.prev_href = _href(kind, sort=_nondefault(sort), start=str(before) if before else None, **here)
    if start + PAGE_SIZE < total:
        result.next_href = _href(kind, sort=_nondefault(sort), start=str(start + PAGE_SIZE), **here)
    counted = app_state().counts.counted(store)  # never waits for a count (minutes at 100k)
    if scheme is None and args["under"] is None and counted is not None:
        result.recorded = counted.groups.get(f"{kind}s")
    if kind == "concept":
        result.schemes = [
            _scheme_link(s, n, store, languages, current=s == scheme)
            for s, n in index.scheme_sizes().items()
        ]
        if scheme is not None:
            name, lang = scheme_name(scheme, store, languages)
            result.scheme = Link(name, _href(kind, scheme=scheme), lang=lang)
            result.hierarchical = scheme in index.hierarchical
            result.views = [
                Link(gettext("Alphabetical"), _href(kind, scheme=scheme), view == "list"),
                Link(gettext("Hierarchy"), _href(kind, scheme=scheme, view="tree"), view == "tree"),
            ]
    return result


def _scheme_link(scheme: str, size: int, store: Store, languages: list[str], current: bool = False) -> Link:
    name, lang = scheme_name(scheme, store, languages)
    return Link(name, _href("concept", scheme=scheme), current, lang, size)


def _sorts(kind: str, listing: Ordering, sort: str, keep: dict[str, str | None]) -> list[Link]:
    links = [Link(gettext("A–Z"), _href(kind, **keep), sort == ALPHABETICAL)]
    if listing.by_use is not None:
        links.append(Link(gettext("Most used"), _href(kind, sort=BY_USE, **keep), sort == BY_USE))
    return links


def _letters(kind: str, listing: Ordering, sort: str, start: int, keep: dict[str, str | None]) -> list[Link]:
    if sort != ALPHABETICAL:
        return []
    stops = listing.stops
    links = []
    for n, stop in enumerate(stops):
        end = stops[n + 1].start if n + 1 < len(stops) else len(listing)
        current = stop.start <= start < end
        links.append(Link(stop.label, _href(kind, start=str(stop.start) if stop.start else None, **keep), current))
    return links


def _nondefault(sort: str) -> str | None:
    return None if sort == ALPHABETICAL else sort


def _href(kind: str, **args: str | None) -> str:
    query = {key: value for key, value in args.items() if value}
    where = f"{request.script_root}/browse/{kind}"
    return f"{where}?{urlencode(query)}" if query else where


def _one(key: str) -> str | None:
    values = request.args.getlist(key)
    if len(values) > 1:
        raise UsageError(f"give '{key}' at most once")
    if values and len(values[0]) > 2000:
        raise UsageError(f"'{key}' is too long")
    return values[0] if values else None


def _start(text: str | None) -> int:
    if text is None:
        return 0
    if not _START.fullmatch(text):
        raise UsageError(f"'start' must be a whole number from 0, got {text[:20]!r}")
    return int(text)


def _html(body: str) -> Response:
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Link"] = json_link()
    return response

