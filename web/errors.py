"""The one place where errors become HTTP answers.

Every ``CatalographError`` carries its HTTP status (``http_status``), so the
routes raise the same exceptions the CLI prints and this module decides what
the client sees: a small HTML page for browsers, plain text for everyone else
(SPARQL clients show the body of an error to their user, so it must be the
message itself); under ``/api/`` every error is an RFC 9457 problem
(``application/problem+json``: ``type``, ``title``, ``status``, ``detail``),
which is what programs that call an API parse. Unexpected exceptions become a 500 that says nothing of the
internals; the traceback goes to the log.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ontology.errors import CatalographError, QueryError
from query.negotiation import HTML, NotAcceptableError, content_type, negotiate

log = logging.getLogger(__name__)


class UnsupportedMediaTypeError(QueryError):
    """A request body in a media type the endpoint does not read (HTTP 415).

    Web-only: the CLI reads files whose format it detects or is told.
    """

    http_status = 415


_TEXT = "text/plain"


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue (``pybabel extract``) without translating it here."""
    return message


#: In English in problem documents (a program's field), translated on error pages.
_TITLES = {
    400: N_("Bad request"),
    401: N_("Credentials needed"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    406: N_("Not acceptable"),
    413: N_("Too large"),
    415: N_("Unsupported media type"),
    429: N_("Too many requests"),
    500: N_("Server error"),
    503: N_("Unavailable"),
    507: N_("Insufficient storage"),
}


#: Paths whose errors are problem documents (RFC 9457), whatever the client accepts.
API_PREFIX = "/api/"
PROBLEM = "application/problem+json"


def problem_response(status: int, message: str) -> Response:
    """An RFC 9457 problem: ``about:blank`` with the status's title and our message as detail."""
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": message}
    return Response(json.dumps(body, ensure_ascii=False) + "\n", status=status, content_type=PROBLEM)


def error_response(status: int, message: str) -> Response:
    """An error page or text, as the client prefers (a problem document under ``/api/``)."""
    if request.path.startswith(API_PREFIX):
        return problem_response(status, message)
    try:
        wants_html = negotiate(request.headers.get("Accept"), [_TEXT, HTML]) == HTML
    except NotAcceptableError:
        wants_html = False
    title = _TITLES.get(status, N_("Error"))
    if wants_html:
        title = gettext(title)  # a message id of _TITLES above
        body = render_template("error.html", status=status, title=title, message=message)
        response = Response(body, status=status, content_type=content_type(HTML))
    else:
        response = Response(message + "\n", status=status, content_type=content_type(_TEXT))
    response.headers["Vary"] = "Accept"
    return response


def register(app: Flask) -> None:
    @app.errorhandler(CatalographError)
    def catalograph_error(exc: CatalographError) -> Response:
        status = getattr(exc, "http_status", 500)
        if status >= 500:
            # A 503 that says when to come back (a full query pool, sign-ins being
            # checked) is load shed as designed, not a fault: a line each would flood
            # the log under the very load it sheds.
            shed = getattr(exc, "retry_after", None) is not None
            level = logging.INFO if shed else logging.ERROR
            log.log(level, "%s: %s", type(exc).__name__, exc.format_message())
        response = error_response(status, exc.format_message())
        for name, value in getattr(exc, "http_headers", ()):  # WWW-Authenticate (401)...
            response.headers.add(name, value)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:  # 429 and 503: when to try again
            response.headers["Retry-After"] = str(int(retry_after))
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        message = exc.description or exc.name
        if isinstance(exc, RequestEntityTooLarge) and message == RequestEntityTooLarge.description:
            # werkzeug's own wording ("the data value transmitted exceeds the capacity
            # limit") names no figure: say what the limit for this request is.
            limit = request.max_content_length
            message = (
                f"the request body is larger than the {limit:,} bytes accepted here"
                if limit
                else "the request body is too large"
            )
        response = error_response(exc.code or 500, message)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return error_response(500, "internal error; the server log has the details")
