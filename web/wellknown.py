"""Self-description: the VoID description at ``/.well-known/void`` and the service description.

Both are RDF in whatever format the client negotiates (``Accept`` or
``?format=``). Service URLs (the SPARQL and Graph Store endpoints) are those
the client reached; dataset IRIs live under ``base_iri``, where the data is
published. VoID's resource figures are the app's (``web.state.figures``,
from ``graph.stats``), the ones the home page and ``/-/stats`` show; the
triples per property (``query.void.usage``) are counted once per checkpoint:
the store object the app reads changes exactly when a new checkpoint is
opened, so it is the cache key.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request
from pyoxigraph import NamedNode, Store, Triple, serialize

from graph import latest_snapshot
from query.description import rdf_format_iris, service_triples, used_prefixes
from query.negotiation import RDF_FORMATS, content_type, negotiate
from query.void import Usage, usage, void_triples
from web.state import figures, settings, store

blueprint = Blueprint("wellknown", __name__)

VOID_PATH = "/.well-known/void"
GRAPH_STORE_PATH = "/rdf-graph-store"
_CACHE = "catalograph.void"


def root_url() -> str:
    """The app's root as the client reached it, with its slash."""
    return request.url_root


def dataset_iri() -> NamedNode:
    return NamedNode(settings().base_iri + VOID_PATH.lstrip("/") + "#dataset")


def rdf_response(triples: list[Triple]) -> Response:
    """``triples`` in the negotiated RDF format."""
    values = request.args.getlist("format")
    fmt = negotiate(request.headers.get("Accept"), RDF_FORMATS, ",".join(values) or None)
    body = serialize(triples, format=fmt, prefixes=used_prefixes(triples))
    response = Response(body, content_type=content_type(fmt))
    response.headers["Vary"] = "Accept"
    return response


def service_description() -> Response:
    """The SPARQL 1.1 Service Description of ``/sparql`` (a GET without a query)."""
    root = root_url()
    return rdf_response(
        service_triples(
            endpoint=root + "sparql",
            graph_store=root + GRAPH_STORE_PATH.lstrip("/"),
            void_document=root + VOID_PATH.lstrip("/"),
            dataset=dataset_iri(),
        )
    )


def current_usage() -> Usage:
    """Triples per property and example resources of the store served, counted once per store."""
    state = current_app.extensions.setdefault(_CACHE, {"lock": threading.Lock(), "for": None})
    current: Store = store()
    if state["for"] is current:
        return state["value"]
    with state["lock"]:
        if state["for"] is not current:
            state["value"] = usage(current)
            state["for"] = current
        return state["value"]


def _checkpoint_time() -> datetime | None:
    path = latest_snapshot(settings().data_dir)
    if path is None:
        return None
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


@blueprint.get(VOID_PATH)
def void() -> Response:
    return rdf_response(
        void_triples(
            figures(),
            current_usage(),
            dataset=dataset_iri(),
            base_iri=settings().base_iri,
            sparql_endpoint=root_url() + "sparql",
            formats=rdf_format_iris(),
            modified=_checkpoint_time(),
        )
    )
