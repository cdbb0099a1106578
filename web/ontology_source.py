"""The ontology the app shows: the store's copy, as catalogers edited it, else ``catalograph.ttl``.

The store holds the ontology in its own graph (``graph.ontology_graph``:
seeded by every ingest, changed by the ontology editor). Pages that name
terms (``/ontology``, the labels of properties on resource pages, the
editor) read it from the checkpoint the app serves, so an edit shows at
once; a store without that graph (one written before it existed, or an
empty one) falls back to the shipped file. The statements and the reference
model built from them are read again only when the ontology changed (its
``graph.ontology_graph.ontology_version``: the file it was seeded from and the
edits since, two index lookups per request), not at every checkpoint an
ingest publishes, and never per request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, has_app_context, has_request_context
from pyoxigraph import RdfFormat, Triple

from graph.ontology_graph import ontology_graph_triples, ontology_version
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

    #: The version of the store's ontology it was read for (``"file"`` for the shipped one).
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
    # the checkpoint changes with every ingest batch, the ontology rarely: key on what it holds
    key = ontology_version(store, layout)
    state = current_app.extensions.setdefault(_CACHE, {"lock": threading.Lock(), "served": None})
    served: ServedOntology | None = state["served"]
    if served is not None and served.key == key:
        return served
    with state["lock"]:
        served = state["served"]
        if served is not None and served.key == key:
            return served
        triples = tuple(ontology_graph_triples(store, layout)) if key[0] else ()
        if triples:
            served = ServedOntology(key, triples, build_reference(triples), True)
        else:
            served = ServedOntology(key, ontology_triples(), ontology_reference(), False)
        state["served"] = served
        return served
