"""The graph view's data: ``GET /api/neighbourhood?iri=IRI``, and the same as a list on the page.

``query.neighbourhood`` reads the resources one resource links to and that
link to it (bounded, in milliseconds); this module names what it found for
the reader: nodes by their labels in the reader's language (never by the end
of their IRI), edges by the ontology's label of their property in the
interface language, a contribution by its roles ("Author", "Editor"), and
each node with the address of its page. ``static/graph-view.js`` draws it
with cytoscape and asks for a node's neighbourhood when it is clicked; the
resource page lists the same edges as text, grouped by relation, for
keyboards and screen readers (and readers without JavaScript).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, request
from flask_babel import gettext, lazy_gettext
from pyoxigraph import NamedNode

from ontology.errors import NotFoundError
from ontology.layout import Layout
from query.neighbourhood import Edge, Neighbourhood, NeighbourhoodReader
from query.related import role_names
from web.browse import resource_href
from web.i18n import reader_languages, term_label
from web.json_twin import json_response
from web.query_ui import INLINE_STYLE_HASHES
from web.related import parse_iri
from web.state import settings, store_holder

blueprint = Blueprint("graph_view", __name__)

#: A resource page's policy: the site-wide one (``web.app.SECURITY_HEADERS``) plus the hash
#: of the one fixed style sheet cytoscape inserts (its container rule, the same the query UI
#: allows), and ``connect-src 'self'`` for expanding nodes. No inline script: the view's
#: data and messages are ``<script type="application/json">`` blocks read by
#: ``static/graph-view.js``.
GRAPH_VIEW_POLICY = (
    "default-src 'self'; "
    f"style-src 'self' '{INLINE_STYLE_HASHES[1]}'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

#: Each kind of node by its name (the legend and the text list).
KIND_NAMES = {
    "work": lazy_gettext("Work"),
    "instance": lazy_gettext("Instance"),
    "agent": lazy_gettext("Agent"),
    "concept": lazy_gettext("Concept"),
    "place": lazy_gettext("Place"),
    "event": lazy_gettext("Event"),
}


@dataclass(slots=True)
class ShownNode:
    id: str
    label: str
    lang: str | None
    kind: str
    kind_name: str
    href: str


@dataclass(slots=True)
class ShownEdge:
    source: str
    target: str
    #: What the edge means, for the filter: the property (and the one looked through).
    relation: str
    label: str


@dataclass(slots=True)
class Relation:
    key: str
    label: str
    count: int


@dataclass(slots=True)
class GraphView:
    center: str
    nodes: list[ShownNode]
    edges: list[ShownEdge]
    relations: list[Relation]
    cut: bool


def neighbourhood(iri: str) -> GraphView | None:
    """The neighbourhood of ``iri`` as the reader sees it; ``None`` if it is no resource."""
    languages = reader_languages()
    reader = NeighbourhoodReader(store_holder().get(), Layout(settings().base_iri), languages)
    found = reader.read(iri)
    return None if found is None else _shown(found, languages)


def _shown(found: Neighbourhood, languages: list[str]) -> GraphView:
    roles = role_names(languages)

    def edge_label(edge: Edge) -> str:
        if edge.roles:
            names = [roles(NamedNode(role)) or term_label(role) for role in edge.roles]
            return ", ".join(dict.fromkeys(names))
        if edge.via is not None and edge.predicate not in _CONTRIBUTION:
            return f"{term_label(edge.predicate)} › {term_label(edge.via)}"
        return term_label(edge.predicate)

    nodes = [
        ShownNode(n.iri, n.label, n.lang, n.kind, str(KIND_NAMES.get(n.kind, n.kind)), resource_href(n.iri))
        for n in found.nodes
    ]
    known = {n.id for n in nodes}
    edges = []
    relations: dict[str, Relation] = {}
    for edge in found.edges:
        if edge.source not in known or edge.target not in known:
            continue
        key = edge.predicate if edge.via is None else f"{edge.predicate} {edge.via}"
        edges.append(ShownEdge(edge.source, edge.target, key, edge_label(edge)))
        name = term_label(edge.predicate) if edge.via is None else _relation_name(edge)
        relation = relations.setdefault(key, Relation(key, name, 0))
        relation.count += 1
    ordered = sorted(relations.values(), key=lambda r: (-r.count, r.label.casefold()))
    return GraphView(found.center, nodes, edges, ordered, found.cut)


_CONTRIBUTION = frozenset({"http://id.loc.gov/ontologies/bibframe/contribution"})


def _relation_name(edge: Edge) -> str:
    if edge.predicate in _CONTRIBUTION:
        return term_label(edge.predicate)
    return f"{term_label(edge.predicate)} › {term_label(edge.via or '')}"


def script_messages() -> dict[str, str]:
    """The few words ``static/graph-view.js`` says, in the interface language."""
    return {
        "open": gettext("Open its page"),
        "expand": gettext("Click a node to show its neighbours; double-click to open its page."),
        "expanded": gettext("Neighbours of %(name)s added."),
        "failed": gettext("Its neighbours could not be loaded."),
        "selected": gettext("Selected:"),
    }


def text_list(view: GraphView) -> list[tuple[str, list[tuple[str, ShownNode, bool]]]]:
    """The edges as a reader's list: per relation, each (edge label, other end, outgoing)."""
    by_id = {n.id: n for n in view.nodes}
    groups: dict[str, list[tuple[str, ShownNode, bool]]] = {}
    names = {r.key: r.label for r in view.relations}
    for edge in view.edges:
        outgoing = edge.source == view.center
        other = by_id[edge.target if outgoing else edge.source]
        if view.center not in (edge.source, edge.target):
            continue
        groups.setdefault(edge.relation, []).append((edge.label, other, outgoing))
    return [(names[key], items) for key, items in groups.items()]


@blueprint.get("/api/neighbourhood")
def api() -> Response:
    """``?iri=``: the resource's neighbourhood as JSON (nodes, edges, relations)."""
    iri = parse_iri(request.args.get("iri"))
    view = neighbourhood(iri)
    if view is None:
        raise NotFoundError(f"no resource a reader can open at {iri[:200]}")
    response = json_response(view, page=resource_href(iri))
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
