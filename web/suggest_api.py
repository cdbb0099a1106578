"""``POST /api/suggest``: subject concepts for a record without subjects, as JSON.

Request (``application/json``, at most ``MAX_BODY_BYTES``)::

    {"title": "...", "summary": "...", "notes": ["...", ...], "limit": 10}

Answer: ``{"suggestions": [{"iri", "label", "score", "reason", "evidence"}],
"works": N, "concepts": M}`` (the size of the index that was asked). Errors
are RFC 9457 problems (``application/problem+json``): a bad body is a 400
that says what is wrong, a body too large a 413, another media type a 415.
Only the text is taken here; a MARC record's Work, agents and series count
through ``catalograph suggest FILE``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import Blueprint, Response, current_app, request

from ontology.errors import QueryError
from query.suggest import MAX_LIMIT, SubjectQuery, Suggestion, suggest
from web.auth import open_to_all
from web.state import settings, store
from web.suggest_service import SubjectIndexCache

blueprint = Blueprint("suggest_api", __name__)
_EXTENSION = "catalograph.subject_indexes"
_CREATING = threading.Lock()

#: Largest request body read, in bytes.
MAX_BODY_BYTES = 64 * 1024
#: Most notes read.
MAX_NOTES = 50
_FIELDS = frozenset({"title", "summary", "notes", "limit"})


class SuggestRequestError(QueryError):
    """A request this endpoint refuses, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status


@blueprint.post("/api/suggest")
@open_to_all("reads only: a record's words in, suggested concepts out (POST for the body)")
def api_suggest() -> Response:
    query, limit = parse_request()
    index = subject_indexes().get(store(), settings().base_iri)
    found = suggest(index, query, limit)
    body = {
        "suggestions": [as_json(s) for s in found],
        "works": index.work_count,
        "concepts": len(index.concepts),
    }
    return Response(json.dumps(body, ensure_ascii=False), content_type="application/json")


def as_json(suggestion: Suggestion) -> dict[str, Any]:
    return {
        "iri": suggestion.iri,
        "label": suggestion.label,
        "score": suggestion.score,
        "reason": suggestion.reason,
        "evidence": suggestion.evidence,
    }


def parse_request() -> tuple[SubjectQuery, int]:
    """The query and limit of the request body; a ``SuggestRequestError`` saying what is wrong."""
    mime = (request.mimetype or "").lower()
    if mime != "application/json":
        raise SuggestRequestError(415, f"send a JSON object as application/json, not {mime or 'no media type'}")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise SuggestRequestError(413, f"the request body is larger than the {MAX_BODY_BYTES:,} bytes accepted here")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise SuggestRequestError(413, f"the request body is larger than the {MAX_BODY_BYTES:,} bytes accepted here")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SuggestRequestError(400, f"the body is not JSON: {exc}") from None
    return query_from_json(body)


def query_from_json(body: object) -> tuple[SubjectQuery, int]:
    """Check a decoded body and turn it into a query.

    >>> query_from_json({"title": "Jazz", "limit": 3})[1]
    3
    >>> query_from_json({"title": 5})
    Traceback (most recent call last):
    ...
    web.suggest_api.SuggestRequestError: "title" must be a string
    """
    if not isinstance(body, dict):
        raise SuggestRequestError(400, "the body must be a JSON object with title, summary and notes")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise SuggestRequestError(400, f"unknown field(s): {', '.join(unknown)}; known: {', '.join(sorted(_FIELDS))}")
    for name in ("title", "summary"):
        if not isinstance(body.get(name, ""), str):
            raise SuggestRequestError(400, f'"{name}" must be a string')
    notes = body.get("notes", [])
    if isinstance(notes, str):
        notes = [notes]
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise SuggestRequestError(400, '"notes" must be a list of strings')
    if len(notes) > MAX_NOTES:
        raise SuggestRequestError(400, f'at most {MAX_NOTES} "notes"')
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise SuggestRequestError(400, f'"limit" must be an integer from 1 to {MAX_LIMIT}')
    query = SubjectQuery(title=body.get("title", ""), summary=body.get("summary", ""), notes=tuple(notes))
    if not query.text.strip():
        raise SuggestRequestError(400, "give some text: a title, a summary or notes")
    return query, limit


def subject_indexes() -> SubjectIndexCache:
    """The app's subject indexes (one cache per app, built off the request path)."""
    app = current_app._get_current_object()
    found = app.extensions.get(_EXTENSION)
    if found is None:
        with _CREATING:
            found = app.extensions.setdefault(_EXTENSION, SubjectIndexCache())
    return found
