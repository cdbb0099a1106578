"""``/sparql``: the SPARQL 1.1 Protocol: queries for everyone, updates for writers.

Queries: GET with ``?query=``, POST as a form or with the query as the body.
Updates: POST only (form ``update=`` or an ``application/sparql-update``
body), with credentials (``web.update``); an update by GET or inside
``query=`` is refused (403). A GET without a query is the query page for
browsers and the Service Description for everyone else (``web.wellknown``).
The answer's format is negotiated from Accept or named by ``?format=`` (short
name or media type).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext

from ontology.errors import UsageError
from ontology.namespaces import PREFIXES
from query.negotiation import (
    HTML,
    RDF_FORMATS,
    RESULTS_FORMATS,
    Format,
    NotAcceptableError,
    content_type,
    negotiate,
)
from query.sparql import QueryTooLargeError, UpdateRefusedError
from web import query_ui
from web.auth import requires
from web.errors import UnsupportedMediaTypeError
from web.limits import run_limited
from web.permissions import EDIT
from web.state import settings, store_holder
from web.update import answer_update, is_update_request
from web.wellknown import service_description

blueprint = Blueprint("sparql", __name__)

_FORM = "application/x-www-form-urlencoded"
_QUERY_BODY = "application/sparql-query"
_UPDATE_BY_POST = (
    "SPARQL Update is accepted only by POST (update=... or application/sparql-update), "
    "with credentials; never by GET or as a query"
)


@blueprint.route("/sparql", methods=["GET", "POST"])
@requires(EDIT, when=is_update_request)
def endpoint() -> Response:
    if "update" in request.args:
        raise UpdateRefusedError(_UPDATE_BY_POST)
    if is_update_request():
        return answer_update()
    text = _query_text()
    if text is None:
        if request.method == "POST":
            raise UsageError("missing the 'query' parameter (SPARQL 1.1 Protocol)")
        return _self_description()
    return _answer(text)


def _self_description() -> Response:
    """A GET without a query: the query page for browsers, the service description for others."""
    try:
        choice = negotiate(request.headers.get("Accept"), [*RDF_FORMATS, HTML])
    except NotAcceptableError:
        raise UsageError("missing the 'query' parameter (SPARQL 1.1 Protocol)") from None
    if choice == HTML:
        return _page(_form_page())
    return service_description()


def _is_form() -> bool:
    return request.method == "POST" and request.mimetype == _FORM


def _single(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise UsageError(f"the {name!r} parameter is given {len(values)} times; give it once")
    return values[0] if values else None


def _query_text() -> str | None:
    if request.method in ("GET", "HEAD"):
        return _single(request.args.getlist("query"), "query")
    mimetype = request.mimetype
    if mimetype == _FORM:
        return _single(request.form.getlist("query"), "query")
    if mimetype == _QUERY_BODY:
        limit = settings().max_query_bytes
        if request.content_length is not None and request.content_length > limit:
            raise QueryTooLargeError(
                f"the query is {request.content_length} bytes long; the limit is {limit}"
            )
        raw = request.get_data(cache=False)
        try:
            return raw.decode(request.mimetype_params.get("charset", "utf-8"))
        except (LookupError, UnicodeDecodeError) as exc:
            raise UsageError(f"the query body is not valid text: {exc}") from None
    raise UnsupportedMediaTypeError(
        f"POST a query as {_FORM} (query=...) or as {_QUERY_BODY}, not {mimetype or 'nothing'}"
    )


def _param(name: str) -> list[str]:
    return request.args.getlist(name) + (request.form.getlist(name) if _is_form() else [])


def _format_parameter() -> str | None:
    """``format``, which some clients repeat (SPARQLWrapper sends ``tsv`` and its media type)."""
    values = _param("format")
    return ",".join(values) if values else None


def _either(accept: str | None, offered: tuple[Format, ...], fmt: str | None) -> Format | None:
    """The negotiated format of one family, or ``None`` when that family has none acceptable."""
    try:
        return negotiate(accept, offered, fmt)
    except NotAcceptableError:
        return None


def _answer(text: str) -> Response:
    accept = request.headers.get("Accept")
    fmt = _format_parameter()
    results_format = _either(accept, RESULTS_FORMATS, fmt)
    graph_format = _either(accept, RDF_FORMATS, fmt)
    if results_format is None and graph_format is None:
        # Say why now, with the offered formats, rather than after running the query.
        negotiate(accept, RESULTS_FORMATS + RDF_FORMATS, fmt)
    outcome = run_limited(
        store_holder(),
        text,
        results_format=results_format,
        graph_format=graph_format,
        default_graphs=_param("default-graph-uri") or None,
        named_graphs=_param("named-graph-uri") or None,
        timeout=_param("timeout"),
    )
    result = outcome.result
    response = Response(result.body, content_type=result.content_type)
    response.headers["Vary"] = "Accept"
    response.headers["X-Catalograph-Rows"] = str(result.rows)
    if result.truncated:
        response.headers["X-Catalograph-Truncated"] = f"true; {result.cap}"
    response.headers["Server-Timing"] = (
        f"wait;dur={outcome.wait_s * 1000:.2f}, query;dur={outcome.query_s * 1000:.2f}, "
        f"worker;dur={outcome.total_s * 1000:.2f}"
    )
    return response


def _form_page() -> str:
    formats = [("", gettext("as negotiated (Accept)"))] + [
        (fmt.file_extension, fmt.name) for fmt in RESULTS_FORMATS + RDF_FORMATS
    ]
    return render_template(
        "sparql.html",
        query=_EXAMPLE,
        prefixes=list(PREFIXES),
        formats=formats,
        ui=query_ui.page_config(_EXAMPLE),
    )


def _page(body: str) -> Response:
    response = Response(body, content_type=content_type(HTML))
    response.headers["Vary"] = "Accept"
    response.headers["Content-Security-Policy"] = query_ui.CONTENT_SECURITY_POLICY
    return response


_EXAMPLE = """SELECT ?work ?label WHERE {
  ?work a bf:Work ;
        rdfs:label ?label .
}
LIMIT 20"""
