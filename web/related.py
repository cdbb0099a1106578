"""``GET /api/related?iri=…&limit=…``: what is related to a resource, and why, as JSON.

``?q=words`` starts from the seed search's best hits instead of one resource
(``related_to_hits``). Answers from the checkpoint the app serves and the projection that matches
it (``web.association_build.projection_of``: the checkpoint names the
projection's token), loaded once per checkpoint and shared by every request;
nothing is built on a request. Errors are RFC 9457 problem details
(``application/problem+json``, ``web.errors`` as for all of ``/api/``): a
malformed IRI or limit is a 400, an IRI the projection does not know a 404, a
checkpoint without associations a 503.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request
from pyoxigraph import NamedNode, Store

from ontology.errors import StoreError, UsageError
from ontology.layout import Layout
from query.association import MAX_LIMIT, AssociationIndex
from query.related import Association, Labels, Related, role_names
from query.search import SearchQuery, SearchResult, search
from web.association_build import projection_of
from web.config import Settings
from web.state import settings, store_holder

blueprint = Blueprint("related", __name__)

_EXTENSION = "catalograph.related"


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


#: Seed-search hits a text's related results start from.
SEED_HITS = 20


def seed_hits(checkpoint: Path | str | None, text: str) -> SearchResult:
    """The seed search's best hits for ``text``: those holding all its words, else any.

    "Mozart symphonies" has no one document with both words (a work's document
    holds its titles, not its creators' names); its seeds are then the works
    titled *Symphonies* and the agent Mozart, which together lead to what a
    reader means.
    """
    found = search(checkpoint, SearchQuery.build(text, limit=SEED_HITS))
    if found.hits:
        return found
    return search(checkpoint, SearchQuery.build(text, limit=SEED_HITS, any_term=True))


def related_to_hits(
    association: Association, found: SearchResult, limit: int, labels: Labels
) -> list[Related]:
    """What is related to a text: its search hits as seeds, each weighted by its rank score
    (normalised to the best), so the best-matching resources count most."""
    if not found.hits:
        return []
    best = max(hit.score for hit in found.hits) or 1.0
    return association.related_to_seeds(
        found.iris, [max(hit.score, 0.0) / best for hit in found.hits], limit, labels=labels
    )


def seeds_json(text: str, found: SearchResult, results: list[Related]) -> dict[str, object]:
    return {
        "q": text,
        "seeds": [{"iri": hit.iri, "label": hit.label, "kind": hit.kind} for hit in found.hits],
        "results": [r.as_json() for r in results],
    }


def association_cache(app: Flask) -> AssociationCache:
    """The app's ``AssociationCache`` (the related panel, ``/api/related`` and browse counts)."""
    return app.extensions.setdefault(_EXTENSION, AssociationCache())


@blueprint.get("/api/related")
def related() -> Response:
    """``?iri=`` (a resource) or ``?q=`` (words: the seed search's hits are the seeds)."""
    unknown = sorted(set(request.args) - {"iri", "q", "limit"})
    if unknown:
        raise UsageError(f"unknown parameter(s): {', '.join(unknown)}; known: iri, q, limit")
    if ("iri" in request.args) == ("q" in request.args):
        raise UsageError("give either a resource's IRI (?iri=…) or words to start from (?q=…)")
    limit = parse_limit(request.args.get("limit"))
    config = settings()
    holder = store_holder()
    current = holder.get()
    association = association_cache(current_app).get(current, config)
    languages = [lang for lang, _ in request.accept_languages]
    labels = Labels(association.store, languages, role_names(languages))
    if "iri" in request.args:
        iri = parse_iri(request.args.get("iri"))
        body = related_json(iri, association.related(iri, limit, labels=labels))
    else:
        text = request.args["q"]
        seeds = seed_hits(holder.path, text)
        body = seeds_json(text, seeds, related_to_hits(association, seeds, limit, labels))
    response = Response(
        json.dumps(body, ensure_ascii=False, indent=1),
        content_type="application/json; charset=utf-8",
    )
    response.headers["Vary"] = "Accept-Language"
    return response
