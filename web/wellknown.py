"""Self-description: VoID at ``/.well-known/void``, the service description, the JSON-LD context.

VoID and the service description (``/-/service``, and ``/sparql`` without a
query for non-browsers) are RDF in whatever format the client negotiates
(``Accept`` or ``?format=``) and an HTML view of the same statements for
browsers, chosen by the one negotiation function (RDF first, so a client that
says nothing gets Turtle); the HTML view's JSON twin (``?_format=json``) holds
the rows it shows. ``/ns/context.jsonld`` serves ``ontology/context.jsonld``
as ``application/ld+json`` at a stable address.

Service URLs (the SPARQL and Graph Store endpoints) are those the client
reached; dataset IRIs live under ``base_iri``, where the data is published
(the HTML view links them to their pages here). VoID's resource figures are
the app's (``web.state.figures``, from ``graph.stats``), the ones the home
page and ``/-/stats`` show; the
triples per property (``query.void.usage``) are counted once per checkpoint:
the store object the app reads changes exactly when a new checkpoint is
opened, so it is the cache key.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import cache

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Store, Triple, serialize

from graph import latest_snapshot
from ontology.term_labels import vocabulary_label
from ontology.vocabulary import context_path, label_for, term_labels
from query.description import rdf_format_iris, service_triples, used_prefixes
from query.negotiation import HTML, RDF_FORMATS, content_type, media_type, negotiate
from query.void import Usage, usage, void_triples
from web.json_twin import json_link, json_response, wants_json
from web.state import figures, settings, store

blueprint = Blueprint("wellknown", __name__)

VOID_PATH = "/.well-known/void"
SERVICE_PATH = "/-/service"
CONTEXT_PATH = "/ns/context.jsonld"
JSON_LD = "application/ld+json"
#: The formats an HTML view links to (``?format=``), by their short names.
_VIEW_FORMATS = tuple(
    (fmt.name, fmt.file_extension, fmt)
    for fmt in (RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.JSON_LD, RdfFormat.RDF_XML)
)
GRAPH_STORE_PATH = "/rdf-graph-store"
_CACHE = "catalograph.void"


def root_url() -> str:
    """The app's root as the client reached it, with its slash."""
    return request.url_root


def dataset_iri() -> NamedNode:
    return NamedNode(settings().base_iri + VOID_PATH.lstrip("/") + "#dataset")


def rdf_response(triples: list[Triple], title: str = "", browsers: bool = False) -> Response:
    """``triples`` in the negotiated RDF format, or (``browsers``) their HTML view or its JSON twin."""
    values = request.args.getlist("format")
    offered = [*RDF_FORMATS, HTML] if browsers else RDF_FORMATS
    if browsers and wants_json():
        return json_response({"title": title, "subjects": _described(triples)})
    fmt = negotiate(request.headers.get("Accept"), offered, ",".join(values) or None)
    if fmt == HTML:
        body = render_template(
            "rdf_document.html",
            title=title,
            subjects=_grouped(_described(triples)),
            formats=[(name, short, media_type(fmt)) for name, short, fmt in _VIEW_FORMATS],
        )
        response = Response(body, content_type=content_type(HTML))
    else:
        body = serialize(triples, format=fmt, prefixes=used_prefixes(triples))
        response = Response(body, content_type=content_type(fmt))
    response.headers["Vary"] = "Accept"
    if browsers:
        here = request.script_root + request.path
        links = [
            f'<{here}?format={short}>; rel="alternate"; type="{media_type(fmt)}"'
            for _, short, fmt in _VIEW_FORMATS
        ]
        links += [f'<{here}>; rel="alternate"; type="text/html"', json_link(here)]
        response.headers["Link"] = ", ".join(links)
    return response


def _described(triples: list[Triple]) -> list[dict]:
    """The statements grouped by subject, every term with the words a reader needs.

    Blank nodes (VoID's partitions) get an anchor, so a row pointing at one links to it.
    """
    subjects: dict[str, dict] = {}
    for triple in triples:
        key = _term(triple.subject)
        entry = subjects.setdefault(key["id"], {"subject": key, "rows": {}})
        row = entry["rows"].setdefault(
            triple.predicate.value,
            {"label": label_for(triple.predicate.value), "iri": triple.predicate.value, "objects": []},
        )
        row["objects"].append(_term(triple.object))
    return [{"subject": e["subject"], "rows": list(e["rows"].values())} for e in subjects.values()]


#: Blank nodes of one shape that are shown as the rows of one table instead of a section each.
_TABLE_FROM = 3


def _grouped(subjects: list[dict]) -> list[dict]:
    """For the HTML view: nodes of the document (blank nodes, or IRIs with a fragment) that
    state the same properties (VoID's class and property partitions: a few hundred of them)
    become the rows of one table, a column per property, where the first of them stood,
    each row anchored by the node's fragment; every other subject keeps its own section.

    A section each made the VoID page of the shipped sample about 26,000 pixels tall.

    >>> value = lambda text: {"text": text, "href": None}
    >>> node = lambda n, p: {"subject": {"id": f"b-{n}"}, "rows": [{"iri": p, "label": p, "objects": [value(n)]}]}
    >>> grouped = _grouped([{"subject": {"id": "d"}, "rows": []}, *[node(n, "c") for n in range(3)], node(9, "x")])
    >>> [[r["id"] for r in e["table"]["rows"]] if "table" in e else e["subject"]["id"] for e in grouped]
    ['d', ['b-0', 'b-1', 'b-2'], 'b-9']
    """
    shapes: dict[tuple[str, ...], list[dict]] = {}
    for entry in subjects:
        if _anchor(entry["subject"]):
            shapes.setdefault(tuple(sorted(row["iri"] for row in entry["rows"])), []).append(entry)
    tabled = {id(e): shape for shape, group in shapes.items() if len(group) >= _TABLE_FROM for e in group}
    tables = {shape: f"table-{n}" for n, shape in enumerate(dict.fromkeys(tabled.values()), 1)}
    table_of = {_anchor(e["subject"]): tables[shape] for shape in tables for e in shapes[shape]}
    grouped: list[dict] = []
    placed: set[tuple[str, ...]] = set()
    for entry in subjects:
        shape = tabled.get(id(entry))
        if shape is None:
            rows = [_to_table(row, table_of) for row in entry["rows"]]
            grouped.append({**entry, "rows": rows, "anchor": _anchor(entry["subject"])})
        elif shape not in placed:
            placed.add(shape)
            group = shapes[shape]
            columns = [{"label": row["label"], "iri": row["iri"]} for row in group[0]["rows"]]
            rows = []
            for member in group:
                objects = {row["iri"]: row["objects"] for row in member["rows"]}
                rows.append({"id": _anchor(member["subject"]), "cells": [objects[c["iri"]] for c in columns]})
            grouped.append({"table": {"id": tables[shape], "columns": columns, "rows": rows}})
    return grouped


def _to_table(row: dict, table_of: dict[str | None, str]) -> dict:
    """A row whose objects are all rows of one table links to the table once, with their count."""
    found = {table_of.get(_fragment(v.get("href"))) for v in row["objects"]}
    if len(found) != 1 or None in found:
        return row
    count = len(row["objects"])
    text = gettext("%(num)s, in the table below", num=count)  # one form: Chinese has no plural
    return {**row, "objects": [{"id": None, "text": text, "href": f"#{found.pop()}", "iri": None, "lang": None}]}


def _fragment(href: str | None) -> str | None:
    return href.partition("#")[2] or None if href else None


def _anchor(subject: dict) -> str | None:
    """The id a node of the document is found by: a blank node's, or an IRI's fragment."""
    key = str(subject.get("id") or "")
    if key.startswith("b-"):
        return key
    return key.partition("#")[2] or None


@cache
def _ontology_labels() -> dict[str, str]:
    return term_labels()


def _term(term: NamedNode | BlankNode | Literal | Triple) -> dict:
    if isinstance(term, BlankNode):
        anchor = f"b-{term.value}"
        return {"id": anchor, "text": "(node)", "href": f"#{anchor}", "iri": None, "lang": None}
    if isinstance(term, Literal):
        return {"id": None, "text": term.value, "href": None, "iri": None, "lang": term.language}
    if isinstance(term, NamedNode):
        iri = term.value
        known = vocabulary_label(iri) or _ontology_labels().get(iri)
        base = settings().base_iri  # a resource of ours links to its page on this server
        href = request.script_root + "/" + iri[len(base) :] if iri.startswith(base) else iri
        return {"id": iri, "text": known or iri, "href": href, "iri": iri, "lang": None}
    return {"id": None, "text": str(term), "href": None, "iri": None, "lang": None}


def service_description(browsers: bool = False) -> Response:
    """The SPARQL 1.1 Service Description of ``/sparql`` (a GET without a query), or its HTML view."""
    root = root_url()
    return rdf_response(
        service_triples(
            endpoint=root + "sparql",
            graph_store=root + GRAPH_STORE_PATH.lstrip("/"),
            void_document=root + VOID_PATH.lstrip("/"),
            dataset=dataset_iri(),
        ),
        title="SPARQL service description",
        browsers=browsers,
    )


@blueprint.get(SERVICE_PATH)
def service() -> Response:
    """The service description at an address of its own, for browsers too."""
    return service_description(browsers=True)


@blueprint.get(CONTEXT_PATH)
def context() -> Response:
    """The JSON-LD context of our prefixes and ``cg:`` terms, for clients that compact our JSON-LD."""
    response = Response(
        context_path().read_text(encoding="utf-8"), content_type=f"{JSON_LD}; charset=utf-8"
    )
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


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
        ),
        title="VoID description of the dataset",
        browsers=True,
    )
