"""``/ontology``: the library ontology as a reference for readers, and as RDF for clients.

One address, negotiated by the one function (``query.negotiation``): RDF
first (Turtle to a client that says nothing; JSON-LD, RDF/XML... by ``Accept``
or ``?format=``), HTML to browsers, and the HTML page's JSON twin
(``?_format=json``). The ontology is the one the store holds, as catalogers
edited it (``web.ontology_source``; the shipped file when the store has no
copy); its RDF is serialised once per checkpoint and format, and the page,
drawn from its ``ontology.reference`` model, rendered once per checkpoint and
interface language, then served from memory: nothing is recomputed per
request. A deprecated term is marked, with its replacement. Labels and definitions come in the reader's interface
language (English or Chinese), English where a term has no Chinese.

Every term has an anchor; a ``cg:`` term's is its local name, so the term's
IRI (``https://w3id.org/catalograph/ontology#WorkLink``), once w3id.org
redirects the ontology's IRI here, lands on its entry.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from pyoxigraph import RdfFormat

from ontology.namespaces import compact
from ontology.reference import OntologyReference, Term
from query.negotiation import HTML, RDF_FORMATS, content_type, media_type, negotiate
from web.i18n import interface_language
from web.json_twin import json_link, json_response, wants_json
from web.ontology_source import ServedOntology, served_ontology

blueprint = Blueprint("ontology", __name__)

PATH = "/ontology"
_CACHE = "catalograph.ontology_page"
#: The formats the page links to, by their short names.
_LINKED = (RdfFormat.TURTLE, RdfFormat.JSON_LD, RdfFormat.RDF_XML)


@blueprint.get(PATH)
def reference() -> Response:
    """The ontology: RDF by negotiation, else the HTML reference, else its JSON twin."""
    served = served_ontology()
    if wants_json():
        return json_response(_twin(served.reference))
    # "owl" names OWL's exchange syntax, RDF/XML, as ``catalograph ontology export`` takes it
    values = ["rdf" if v.strip().lower() == "owl" else v for v in request.args.getlist("format")]
    fmt = negotiate(request.headers.get("Accept"), [*RDF_FORMATS, HTML], ",".join(values) or None)
    if fmt == HTML:
        response = Response(_page(served), content_type=content_type(HTML))
    else:
        response = Response(served.document(fmt), content_type=content_type(fmt))
    here = request.script_root + PATH
    links = [
        f'<{here}?format={f.file_extension}>; rel="alternate"; type="{media_type(f)}"' for f in _LINKED
    ]
    response.headers["Link"] = ", ".join([*links, json_link(here)])
    response.headers["Vary"] = "Accept"
    return response


def _page(served: ServedOntology) -> str:
    """The rendered page of this version of the ontology in the request's language, rendered once."""
    state = current_app.extensions.setdefault(_CACHE, {"lock": threading.Lock(), "pages": {}, "of": None})
    key = (interface_language(), request.script_root)
    with state["lock"]:
        if state["of"] != served.key:  # the ontology changed: the old pages go
            state["pages"], state["of"] = {}, served.key
        page = state["pages"].get(key)
        if page is None:
            page = state["pages"][key] = _render(served.reference, key[0])
    return page


def _render(model: OntologyReference, language: str) -> str:
    formats = [(f.name, f.file_extension, media_type(f)) for f in _LINKED]
    return render_template(
        "ontology.html", model=model, language=language, formats=formats, entry=_entry
    )


def _entry(model: OntologyReference, iri: str, language: str) -> dict[str, Any]:
    """What a page shows for a term named by ``iri``: its label and where it links."""
    term = model.terms.get(iri)
    if term is None:
        return {"text": compact(iri), "href": iri, "lang": None, "iri": iri}
    label = term.label(language)
    lang = language if language in term.labels else ("en" if "en" in term.labels else None)
    return {"text": label, "href": f"#{term.anchor}", "lang": lang, "iri": iri, "curie": term.curie}


def _twin(model: OntologyReference) -> dict[str, Any]:
    def plain(term: Term) -> dict[str, Any]:
        return {
            "iri": term.iri,
            "curie": term.curie,
            "anchor": term.anchor,
            "kind": term.kind,
            "labels": term.labels,
            "definitions": term.definitions,
            "parents": term.parents,
            "children": term.children,
            "domains": term.domains,
            "ranges": term.ranges,
            "classes": term.classes,
            "deprecated": term.deprecated,
            "replacedBy": term.replaced_by,
        }

    return {
        "iri": model.iri,
        "version": model.version,
        "classes": [plain(model.terms[i]) for i in model.classes],
        "properties": [plain(model.terms[i]) for i in model.properties],
        "individuals": [plain(model.terms[i]) for i in model.individuals],
    }
