"""The SPARQL 1.1 Graph Store HTTP Protocol at ``/rdf-graph-store`` (indirect identification).

``?graph=IRI`` names a named graph, ``?default`` the store's own default graph
(queries see the union of all graphs, that one included; Catalograph itself
keeps every statement in a named graph).

- GET / HEAD, for everyone: the graph in the negotiated RDF format, streamed
  (a graph can be large: the metadata graph has a few statements per record);
  404 for a named graph the store does not have. A GET holds one of the page
  slots while it streams (``web.page_limits``: 429 beyond a client's share,
  503 when the slots and their line are full), and ends when the client reads
  nothing for ``SLOW_CLIENT_S``.
- PUT (replace), POST (merge), DELETE, for writers only (``web.auth``): 401
  without credentials, 403 for a reader; the body is parsed by pyoxigraph in
  the format its ``Content-Type`` names (415 if it names none), up to
  ``max_upload_bytes`` (413); 201 when the graph is new, else 204.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request
from pyoxigraph import DefaultGraph, NamedNode, RdfFormat, Store

from graph.updates import delete_graph, parse_graph, write_graph
from ontology.errors import NotFoundError, UsageError
from ontology.layout import Layout
from ontology.namespaces import PREFIXES
from query.negotiation import RDF_FORMATS, content_type, negotiate
from web.auth import require_writer, requires, writes_by_method
from web.errors import UnsupportedMediaTypeError
from web.limits import client_address
from web.page_limits import PageLimits
from web.permissions import EDIT
from web.state import settings, store
from web.update import allow_upload, edited_response, refuse_unreviewed, write
from web.wellknown import GRAPH_STORE_PATH

log = logging.getLogger(__name__)

blueprint = Blueprint("gsp", __name__)

#: Serialised chunks waiting for a slow client; the serialiser waits (then gives up) beyond.
QUEUED_CHUNKS = 32
SLOW_CLIENT_S = 60.0


def _target() -> NamedNode | DefaultGraph:
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if default == bool(graphs) or len(graphs) > 1:
        raise UsageError("name one graph: ?graph=IRI, or ?default for the default graph")
    if default:
        return DefaultGraph()
    try:
        graph = NamedNode(graphs[0])
    except ValueError:
        raise UsageError(f"not an absolute IRI: {graphs[0]!r}") from None
    if ":" not in graph.value:
        raise UsageError(f"not an absolute IRI: {graphs[0]!r}")
    return graph


@blueprint.route(GRAPH_STORE_PATH, methods=["GET", "PUT", "POST", "DELETE"])
@requires(EDIT, when=writes_by_method)
def graph_store() -> Response:
    graph = _target()
    if request.method in ("GET", "HEAD"):
        return _read(graph)
    principal = require_writer()
    refuse_unreviewed(principal)
    allow_upload()
    data_dir = settings().data_dir
    layout = Layout(settings().base_iri)
    if request.method == "DELETE":
        edit = write(lambda: delete_graph(data_dir, graph, layout=layout, who=principal.name))
        log.info("graph store: %s deleted %s", principal.name, graph)
        return edited_response(edit)
    fmt = _body_format()
    base = graph.value if isinstance(graph, NamedNode) else settings().base_iri
    triples = parse_graph(request.get_data(cache=False), fmt, base_iri=base)
    merge = request.method == "POST"
    edit = write(
        lambda: write_graph(data_dir, graph, triples, merge=merge, layout=layout, who=principal.name)
    )
    log.info(
        "graph store: %s %s %d triples into %s", principal.name, request.method, len(triples), graph
    )
    return edited_response(edit, 201 if edit.created else 204)


def _body_format() -> RdfFormat:
    mimetype = request.mimetype
    fmt = RdfFormat.from_media_type(mimetype) if mimetype else None
    if fmt is None:
        offered = ", ".join(f.media_type for f in RDF_FORMATS if not f.supports_datasets)
        raise UnsupportedMediaTypeError(
            f"send the graph as one of {offered} (Content-Type), not {mimetype or 'nothing'}"
        )
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaTypeError(f"send the graph as UTF-8, not {charset}")
    return fmt


def _read(graph: NamedNode | DefaultGraph) -> Response:
    current = store()
    if isinstance(graph, NamedNode) and not current.contains_named_graph(graph):
        raise NotFoundError(f"there is no graph {graph.value}")
    values = request.args.getlist("format")
    fmt = negotiate(request.headers.get("Accept"), RDF_FORMATS, ",".join(values) or None)
    if request.method == "HEAD":
        response = Response(iter(()), content_type=content_type(fmt))  # streamed: no length
    else:
        # A dump holds a server thread while it streams: it takes a page slot (the same
        # line, per-client count and fairness as pages), given back when the response
        # is closed, so that dumps, like pages, can never hold every thread.
        slot = PageLimits.of(current_app._get_current_object()).slot(client_address())
        slot.__enter__()
        try:
            response = Response(_stream(current, fmt, graph), content_type=content_type(fmt))
        except BaseException:
            slot.__exit__(None, None, None)
            raise
        response.call_on_close(lambda: slot.__exit__(None, None, None))
    response.headers["Vary"] = "Accept"
    return response


class _Sink:
    """A file-like object pyoxigraph writes into, handing chunks to the response."""

    def __init__(self, chunks: queue.Queue, stop: threading.Event) -> None:
        self.chunks = chunks
        self.stop = stop

    def write(self, data: bytes) -> int:
        if self.stop.is_set():
            raise BrokenPipeError("the client went away")
        self.chunks.put(bytes(data), timeout=SLOW_CLIENT_S)
        return len(data)

    def flush(self) -> None:
        pass


def _stream(current: Store, fmt: RdfFormat, graph: NamedNode | DefaultGraph) -> Iterator[bytes]:
    """The graph serialised by a thread as the client reads it: memory stays bounded."""
    chunks: queue.Queue = queue.Queue(maxsize=QUEUED_CHUNKS)
    stop = threading.Event()

    def produce() -> None:
        try:
            current.dump(_Sink(chunks, stop), fmt, from_graph=graph, prefixes=PREFIXES)
            chunks.put(None, timeout=SLOW_CLIENT_S)
        except (OSError, ValueError, queue.Full) as exc:
            if not stop.is_set():
                log.warning("graph store: serialising %s stopped: %s", graph, exc)
            with contextlib.suppress(queue.Full):
                chunks.put_nowait(exc)

    threading.Thread(target=produce, name="gsp-dump", daemon=True).start()
    try:
        while True:
            try:
                item = chunks.get(timeout=SLOW_CLIENT_S)
            except queue.Empty:
                return
            if item is None or isinstance(item, BaseException):
                return
            yield item
    finally:
        stop.set()
        while not chunks.empty():  # let a blocked producer see ``stop``
            chunks.get_nowait()
