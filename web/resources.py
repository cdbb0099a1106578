"""Resource pages: every IRI minted under the base dereferences here.

The request path is mapped to ``base + path`` whatever trusted Host the
request came in on (``web.hosts``), so a copy served under another name still
finds its resources. One URL answers HTML to browsers and RDF to clients (the
same negotiation as /sparql), and ``.ttl`` / ``.nt`` / ``.jsonld`` twins name a
format outright; ``?_format=json`` is the page's JSON twin (``web.json_twin``):
the same ``Page`` the template is given. Every answer's ``Link`` header names
the others. How a page shows its resource is ``web.resource_view``'s job.

What a page or twin holds is gathered in a query worker under the page limits
(``web.page_limits``) and in slices: each list shows at most
``page_list_size`` items with its full count, and ``?list=KEY&page=N`` shows
the rest of one list, page by page (``query.resources``); a twin holds at most
``max_rows`` triples and says when it is cut, as SPARQL answers do.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import quote, unquote, urlencode

from flask import Blueprint, Response, render_template, request
from pyoxigraph import NamedNode, RdfFormat

from graph.search_documents import kinds_by_class
from ingest.iri import KINDS
from ontology.errors import NotFoundError, UsageError
from query.browse import KINDS as READER_KINDS
from query.listings import Description, Paging
from query.negotiation import (
    HTML,
    RDF_FORMATS,
    NotAcceptableError,
    content_type,
    media_type,
    negotiate,
)
from query.resource_job import NOTHING, PAGE, Candidate, ResourceAnswer
from web.graph_view import GRAPH_VIEW_POLICY, KIND_NAMES, neighbourhood, script_messages, text_list
from web.i18n import reader_languages
from web.json_twin import json_link, json_response, plain, wants_json
from web.page_limits import PageTooLargeError, answer_resource
from web.related import parse_iri
from web.related_panel import related_panel
from web.resource_view import Page
from web.state import settings

blueprint = Blueprint("resources", __name__)

#: The twins a page links to (Link header and HTML), by pyoxigraph's extension for each.
TWINS = (RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.JSON_LD, RdfFormat.RDF_XML)

#: A longer list key names no list; pages are numbered from 1, in at most 9 digits.
_MAX_KEY = 1000
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


@blueprint.get("/<kind>/<path:rest>")
def resource(kind: str, rest: str) -> Response:
    if kind not in KINDS:
        raise NotFoundError(f"no such page: /{kind}/{rest}")
    path = _raw_path()
    iri = _iri(path)
    candidates = [Candidate(iri.value, _wanted())]
    stem, dot, extension = path.rpartition(".")
    twin = RdfFormat.from_extension(extension) if dot and "/" not in extension else None
    if twin is not None:
        with contextlib.suppress(NotFoundError):  # the stem is no resource path either
            candidates.append(Candidate(_iri(stem).value, twin.media_type))
    answer = answer_resource(settings().base_iri, candidates, _paging())
    if answer is None:
        raise NotFoundError(f"nothing is known about {iri.value}")
    if answer.index == 1:
        path = stem
    return _answer(answer, _local_root() + path, kind)


@blueprint.get("/about")
def about() -> Response:
    """``?iri=``: the page of a resource the store describes under an outside IRI (an
    authority's: ``https://d-nb.info/gnd/…``), which has no path under the base.
    ``format=ttl`` (or another RDF extension) names a twin outright."""
    unknown = sorted(set(request.args) - {"iri", "format", "list", "page", "_format"})
    if unknown:
        raise UsageError(f"unknown parameter(s): {', '.join(u[:30] for u in unknown)}")
    iri = parse_iri(request.args.get("iri"))
    wanted = _wanted()
    if request.args.get("format"):
        fmt = RdfFormat.from_extension(request.args["format"][:20])
        if fmt is None:
            raise UsageError("'format' is an RDF extension: ttl, nt, jsonld, rdf")
        wanted = fmt.media_type
    answer = answer_resource(settings().base_iri, [Candidate(iri, wanted)], _paging())
    if answer is None:
        raise NotFoundError(f"nothing is known about {iri}")
    local = f"{_local_root()}about?{urlencode({'iri': iri})}"
    return _answer(answer, local, "")


def _answer(answer: ResourceAnswer, local: str, kind: str) -> Response:
    """The page, twin or refusal for a gathered ``answer`` about the resource at ``local``."""
    if answer.description is not None:
        response = _page(answer.description, local, kind)
        if response.mimetype == "text/html":  # the graph view's library sets one fixed style
            response.headers["Content-Security-Policy"] = GRAPH_VIEW_POLICY
    elif answer.rdf is not None:
        response = Response(answer.rdf.body, content_type=answer.rdf.content_type)
        response.headers["X-Catalograph-Rows"] = str(answer.rdf.rows)
        if answer.rdf.truncated:
            response.headers["X-Catalograph-Truncated"] = f"true; {answer.rdf.cap}"
    else:  # known, but the client accepts none of its formats: say which there are
        negotiate(request.headers.get("Accept"), [*RDF_FORMATS, HTML])
        raise NotAcceptableError("none of this resource's formats is acceptable")
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Link"] = _link_header(local)
    return response


def _wanted() -> str:
    """What the client wants of a resource: its page, an RDF format, or nothing it can have."""
    if wants_json():
        return PAGE
    try:
        fmt = negotiate(request.headers.get("Accept"), [*RDF_FORMATS, HTML])
    except NotAcceptableError:
        return NOTHING
    return PAGE if fmt == HTML else media_type(fmt)


def _paging() -> Paging:
    """Which slices a page shows: each list's first, or one page of one list (``?list=&page=``).

    On a resource's page, its lists share ten lists' worth of items.
    """
    size = settings().page_list_size
    lists, pages = request.args.getlist("list"), request.args.getlist("page")
    if len(lists) > 1 or len(pages) > 1:
        raise UsageError("give 'list' and 'page' at most once each")
    if pages and not lists:
        raise UsageError("'page' numbers the pages of one list: give 'list' too")
    if pages and not _PAGE_NUMBER.fullmatch(pages[0]):
        raise UsageError(f"'page' must be a whole number from 1, got {pages[0][:20]!r}")
    if lists and len(lists[0]) > _MAX_KEY:
        raise NotFoundError("this page has no such list")
    page = int(pages[0]) if pages else 1
    return Paging(size=size, items=10 * size, focus=lists[0] if lists else None, page=page)


def _page(description: Description, local: str, kind: str) -> Response:
    view = Page.build(
        description,
        base=settings().base_iri,
        root=_local_root(),
        local=local,
        languages=reader_languages(),  # the interface language's literals first
        size=settings().page_list_size,
    )
    twins = [(f.name, _twin_href(local, f), media_type(f)) for f in TWINS]
    view.kind = kind or _kind_of(description)
    if description.focus is None and view.kind in READER_KINDS:  # not a record graph
        view.related = related_panel(view.iri, reader_languages())
        view.graph = neighbourhood(view.iri)
        view.graph_list = text_list(view.graph) if view.graph is not None else []
    if wants_json():
        return json_response(
            {"page": view, "twins": [{"name": n, "href": h, "type": t} for n, h, t in twins]}
        )
    body = render_template(
        "resource.html",
        page=view,
        twins=twins,
        graph_data=plain(view.graph) if view.graph is not None else None,
        graph_messages=script_messages(),
        kind_names=KIND_NAMES,
    )
    limit = settings().max_response_bytes
    if len(body) > limit:  # characters: at least as many bytes
        raise PageTooLargeError(
            f"this page would be larger than the {limit:,} bytes an answer may be; "
            f"its RDF twin ({local}.ttl) or /sparql give what it holds"
        )
    return Response(body, content_type=content_type(HTML))


def _local_root() -> str:
    return request.script_root + "/"


def _raw_path() -> str:
    """The path below the app's root as the client wrote it (``%2F`` inside an id kept)."""
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
    if not raw:
        return quote(request.path.lstrip("/"), safe="/")
    raw = raw.split("?", 1)[0].split("#", 1)[0]
    if "://" in raw:  # an absolute-form request target
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    root = request.script_root
    if root and raw.startswith(root):
        raw = raw[len(root) :]
    return raw.lstrip("/")


def _iri(path: str) -> NamedNode:
    """``base + path``, each segment percent-encoded the way ingest encodes ids."""
    segments = [quote(unquote(segment), safe="") for segment in path.split("/")]
    try:
        return NamedNode(settings().base_iri + "/".join(segments))
    except ValueError:
        raise NotFoundError(f"not a resource path: /{path}") from None


def _twin_href(local: str, fmt: RdfFormat) -> str:
    """A twin's address: ``{page}.ttl``, or ``/about?iri=…&format=ttl`` for an outside IRI."""
    if "?" in local:
        return f"{local}&{urlencode({'format': fmt.file_extension})}"
    return f"{local}.{fmt.file_extension}"


def _kind_of(description: Description) -> str:
    """The kind of an outside IRI's resource, from its types (``""`` if none is a kind)."""
    kinds = kinds_by_class()
    return next((kinds[v.term.value] for v in description.types if v.term.value in kinds), "")


def _link_header(local: str) -> str:
    links = [f'<{local}>; rel="canonical"'] + [
        f'<{_twin_href(local, fmt)}>; rel="alternate"; type="{media_type(fmt)}"'
        for fmt in TWINS
    ]
    links.append(f'<{local}>; rel="alternate"; type="text/html"')
    links.append(json_link(local.split("?", 1)[0]))  # /about keeps its ?iri= from the request
    return ", ".join(links)
