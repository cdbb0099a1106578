"""The JSON twin of every HTML page: ``?_format=json``, as datasette does.

A page's JSON twin holds what its template is given, the same structures the
page is made from (a resource's ``web.resource_view.Page``, the home page's
figures, a self-description's statements), so the twin cannot tell other facts
than the page. Why a parameter and not a ``.json`` suffix: on a resource path
pyoxigraph already reads ``.json`` as JSON-LD (``{resource}.json`` is an RDF
twin), and ``Accept: application/json`` means JSON-LD there too; ``_format``
(underscored, like datasette's, so it never meets a ``format`` parameter that
names an RDF or results format) is the one spelling every page shares.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from ontology.errors import UsageError

PARAMETER = "_format"
JSON = "application/json"


def wants_json() -> bool:
    """Whether the request asks for the page's JSON twin; any other ``_format`` is a 400."""
    values = request.args.getlist(PARAMETER)
    if not values:
        return False
    if values != ["json"]:
        raise UsageError(f"'{PARAMETER}' takes one value, json (the page's JSON twin)")
    return True


def json_href(path: str | None = None) -> str:
    """The JSON twin of this page (``path``, else the request's), its other parameters kept."""
    return _href(path, [(PARAMETER, "json")])


def html_href(path: str | None = None) -> str:
    """The HTML page of this JSON twin: the same address without ``_format``."""
    return _href(path, [])


def _href(path: str | None, extra: list[tuple[str, str]]) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != PARAMETER] + extra
    where = request.script_root + request.path if path is None else path
    return f"{where}?{urlencode(args)}" if args else where


def json_link(path: str | None = None) -> str:
    """A ``Link`` header entry naming the JSON twin."""
    return f'<{json_href(path)}>; rel="alternate"; type="{JSON}"'


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it: dataclasses as objects, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def json_response(value: Any, *, page: str | None = None) -> Response:
    """``value`` as the JSON twin, linking back to its page (``rel="alternate"`` text/html)."""
    body = json.dumps(plain(value), ensure_ascii=False, indent=1)
    response = Response(body, content_type=f"{JSON}; charset=utf-8")
    response.headers["Link"] = f'<{page or html_href()}>; rel="alternate"; type="text/html"'
    return response
