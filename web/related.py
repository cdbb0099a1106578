"""``GET /api/related?iri=…&limit=…``: what is related to a resource, and why, as JSON.

Answers from the checkpoint the app serves and the projection that matches
it (``web.association_build.projection_of``: the checkpoint names the
projection's token), loaded once per checkpoint and shared by every request;
nothing is built on a request. Errors are RFC 9457 problem details
(``application/problem+json``): a malformed IRI or limit is a 400, an IRI the
projection does not know a 404, a checkpoint without associations a 503.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, request
from pyoxigraph import NamedNode, Store

from ingest.marc.vocab import relator_label
from ontology.errors import CatalographError, NotFoundError, StoreError, UsageError
from ontology.layout import Layout
from query.association import MAX_LIMIT, AssociationIndex
from query.related import Association, Labels, Related
from web.association_build import projection_of
from web.config import Settings
from web.state import settings, store

blueprint = Blueprint("related", __name__)

_EXTENSION = "catalograph.related"
PROBLEM = "application/problem+json"


class AssociationsMissingError(StoreError):
    """The checkpoint served has no associations yet (an ingest of an older version wrote it)."""

    code = "associations-missing"
    http_status = 503


@dataclass
class _Loaded:
    store: Store
    association: Association


class AssociationCache:
    """The ``Association`` of the store served, rebuilt from disk when the checkpoint changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    def get(self, current: Store, config: Settings) -> Association:
        loaded = self._loaded
        if loaded is not None and loaded.store is current:
            return loaded.association
        with self._lock:
            if self._loaded is None or self._loaded.store is not current:
                self._loaded = _Loaded(current, open_association(current, config))
            return self._loaded.association


def open_association(current: Store, config: Settings) -> Association:
    """The ``Association`` over ``current`` (a checkpoint) and its projection."""
    layout = Layout(config.base_iri)
    projection = projection_of(current, layout, config.data_dir)
    if projection is None:
        raise AssociationsMissingError(
            "the associations of this store are not built yet: run `catalograph ingest` "
            "(or `catalograph related --refresh`) once with this version"
        )
    return Association(AssociationIndex(projection), current, layout)


def parse_iri(text: str | None) -> str:
    """A resource IRI from user input, or ``UsageError`` (an absolute http(s) IRI, ≤ 2,000 characters)."""
    if not text:
        raise UsageError("give the resource's IRI: ?iri=…")
    if len(text) > 2000 or not text.startswith(("http://", "https://")):
        raise UsageError("iri must be an absolute http(s) IRI")
    try:
        return NamedNode(text).value
    except ValueError as exc:
        raise UsageError(f"iri is not a valid IRI: {exc}") from None


def parse_limit(text: str | None, default: int = 10) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise UsageError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def related_json(iri: str, results: list[Related]) -> dict[str, object]:
    return {"iri": iri, "results": [r.as_json() for r in results]}


def _problem(error: CatalographError) -> Response:
    status = getattr(error, "http_status", 500)
    titles = {400: "Bad request", 404: "Not found", 503: "Unavailable"}
    body = {
        "type": "about:blank",
        "title": titles.get(status, "Error"),
        "status": status,
        "detail": error.format_message(),
    }
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM)


def _cache(app: Flask) -> AssociationCache:
    return app.extensions.setdefault(_EXTENSION, AssociationCache())


@blueprint.get("/api/related")
def related() -> Response:
    try:
        iri = parse_iri(request.args.get("iri"))
        limit = parse_limit(request.args.get("limit"))
        config = settings()
        association = _cache(current_app).get(store(), config)
        languages = [lang for lang, _ in request.accept_languages]
        results = association.related(
            iri, limit, labels=Labels(association.store, languages, relator_label)
        )
    except (UsageError, NotFoundError, AssociationsMissingError) as exc:
        return _problem(exc)
    response = Response(
        json.dumps(related_json(iri, results), ensure_ascii=False, indent=1),
        content_type="application/json; charset=utf-8",
    )
    response.headers["Vary"] = "Accept-Language"
    return response
