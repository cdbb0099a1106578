"""The ontology the app shows: the store's copy, as catalogers edited it, else ``catalograph.ttl``.

The store holds the ontology in its own graph (``graph.ontology_graph``:
seeded by every ingest, changed by the ontology editor). Pages that name
terms (``/ontology``, the labels of properties on resource pages, the
editor) read it from the checkpoint the app serves, so an edit shows at
once; a store without that graph (one written before it existed, or an
empty one) falls back to the shipped file. The statements and the reference
model built from them are read once per checkpoint (about 2,900 statements:
see docs/storage.md for the time measured), never per request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, has_app_context, has_request_context
from pyoxigraph import RdfFormat, Triple

from graph.ontology_graph import ontology_graph_triples
from ontology.document import ontology_document, serialize_ontology
from ontology.errors import StoreError
from ontology.layout import Layout
from ontology.reference import OntologyReference, build_reference, ontology_reference
from ontology.vocabulary import ontology_triples
from web.state import installed_state, settings, store_holder

_CACHE = "catalograph.served_ontology"


@dataclass(frozen=True)
class ServedOntology:
    """One checkpoint's ontology: its statements, its reference model, where it came from."""

    #: What it was read for (the checkpoint's folder, or the store object and its size).
    key: Any
    triples: tuple[Triple, ...]
    reference: OntologyReference
    from_store: bool
    _documents: dict[RdfFormat, bytes] = field(default_factory=dict, compare=False)

    def document(self, fmt: RdfFormat) -> bytes:
        """The ontology serialised in ``fmt`` (once per checkpoint and format)."""
        if not self.from_store:
            return ontology_document(fmt)
        found = self._documents.get(fmt)
        if found is None:
            found = self._documents[fmt] = serialize_ontology(self.triples, fmt)
        return found


def shipped() -> ServedOntology:
    """The file's ontology, as a fallback."""
    return ServedOntology("file", ontology_triples(), ontology_reference(), False)


def served_ontology() -> ServedOntology:
    """The ontology of the checkpoint this app serves (the file outside a request or without one)."""
    if not has_app_context() or installed_state(current_app) is None:
        return shipped()  # outside a request, or an app that serves no store
    if has_request_context() and "catalograph_ontology" in g:
        return g.catalograph_ontology  # read once per request
    served = _current()
    if has_request_context():
        g.catalograph_ontology = served
    return served


def _current() -> ServedOntology:
    holder = store_holder()
    try:
        store = holder.get()
    except StoreError:
        return shipped()  # no store yet: the file's ontology
    layout = Layout(settings().base_iri)
    state = current_app.extensions.setdefault(_CACHE, {"lock": threading.Lock(), "served": None})
    if holder.path is not None:
        key: Any = str(holder.path)
        triples = None
    else:  # a store that may change in place: read it to know
        triples = tuple(ontology_graph_triples(store, layout))
        key = (id(store), len(triples), hash(triples))
    served: ServedOntology | None = state["served"]
    if served is not None and served.key == key:
        return served
    with state["lock"]:
        served = state["served"]
        if served is not None and served.key == key:
            return served
        if triples is None:
            triples = tuple(ontology_graph_triples(store, layout))
        if triples:
            served = ServedOntology(key, triples, build_reference(triples), True)
        else:
            served = ServedOntology(key, ontology_triples(), ontology_reference(), False)
        state["served"] = served
        return served


def served_label(iri: str, language: str) -> str | None:
    """A term's label in ``language`` from the served ontology (``None`` when it has none)."""
    term = served_ontology().reference.terms.get(iri)
    return term.labels.get(language) if term is not None else None
