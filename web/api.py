"""``/api``: JSON for programs. Today ``/api/search`` (seed search); errors as RFC 9457 problems.

Why a search runs in the request thread, not in a query worker like SPARQL
and pages: it cannot be slow by construction (at most ``MAX_TERMS`` quoted
terms, a page of at most ``MAX_LIMIT`` from an offset of at most
``MAX_OFFSET``: a few milliseconds on the benchmark set, docs/benchmarks.md),
it reads a SQLite file that never changes, and SQLite's progress handler
stops it at its deadline, which a pyoxigraph query cannot do. A worker's round trip would cost more than the search. Fairness still
holds: each client may have at most ``max_client_queries`` searches in
progress (counted apart from its SPARQL queries and pages; one more: 429
with ``Retry-After``), so no client can hold the server's threads with
searches.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, jsonify, request

from ontology.errors import UsageError
from query.search import DEFAULT_LIMIT, SearchQuery, search
from web.limits import ClientLimiter, client_address
from web.state import app_state, store_holder

blueprint = Blueprint("api", __name__, url_prefix="/api")
_EXTENSION = "catalograph.search_clients"
_CREATING = threading.Lock()
#: The parameters ``/api/search`` reads; any other is refused, so a misspelt filter is not ignored.
SEARCH_PARAMETERS = frozenset(
    {"q", "kind", "lang", "from", "to", "limit", "offset", "prefix", "subject", "agent", "type", "source"}
)
#: Facet filters ``/api/search`` takes, each repeatable (any of its values: OR within, AND across).
FACET_PARAMETERS = ("subject", "agent", "type", "source")


@blueprint.get("/search")
def api_search() -> Response:
    """``GET /api/search?q=&kind=&lang=&from=&to=&limit=&offset=&prefix=&subject=&agent=&type=&source=``
    (docs/web.md)."""
    query = _search_query()
    holder = store_holder()
    holder.get()  # the newest checkpoint: the search answers from the one pages answer from
    with search_clients().slot(client_address()):
        result = search(holder.path, query)
    response = jsonify(result.as_json())
    response.headers["Cache-Control"] = "no-cache"
    return response


def _search_query() -> SearchQuery:
    args = request.args
    unknown = sorted(set(args) - SEARCH_PARAMETERS)
    if unknown:
        raise UsageError(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(SEARCH_PARAMETERS))}")
    if "q" not in args:
        raise UsageError("give the text to search for as q")
    return SearchQuery.build(
        args["q"],
        kind=args.get("kind") or None,
        language=args.get("lang") or None,
        year_from=_integer("from"),
        year_to=_integer("to"),
        limit=_integer("limit") or DEFAULT_LIMIT,
        offset=_integer("offset") or 0,
        prefix=_flag("prefix"),
        facets={name: args.getlist(name) for name in FACET_PARAMETERS if args.getlist(name)},
    )


def _integer(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if not (value.isascii() and value.lstrip("-").isdigit() and len(value) <= 6):
        raise UsageError(f"{name} must be a whole number, not {value[:20]!r}")
    return int(value)


def _flag(name: str) -> bool:
    value = request.args.get(name, "").lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise UsageError(f"{name} is true or false, not {value[:20]!r}")


def search_clients() -> ClientLimiter:
    app = current_app._get_current_object()
    found = app.extensions.get(_EXTENSION)
    if found is None:
        with _CREATING:
            found = app.extensions.setdefault(
                _EXTENSION, ClientLimiter(app_state().settings.max_client_queries)
            )
    return found
