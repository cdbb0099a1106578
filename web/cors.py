"""Cross-origin access: any web page may query the endpoint and read the data.

Every answer says ``Access-Control-Allow-Origin: *`` and exposes the headers
clients need (row counts, truncation, ``Retry-After``...). A preflight
(``OPTIONS`` with ``Access-Control-Request-Method``) is answered with the
methods the URL allows and the request headers a SPARQL client sends,
``Authorization`` included, so a page can send updates with a token.
``Access-Control-Allow-Credentials`` is never sent: with ``*`` a browser then
attaches no cookies, and no endpoint here reads cookies anyway (writers
authenticate with the ``Authorization`` header).
"""

from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_HEADERS = "Accept, Accept-Language, Authorization, Content-Type"
EXPOSED_HEADERS = (
    "Link, Location, Retry-After, WWW-Authenticate, X-Catalograph-Rows, "
    "X-Catalograph-Truncated, X-Catalograph-Edited-Graphs"
)
#: How long a browser may reuse a preflight answer, in seconds.
MAX_AGE_S = 86400


def register(app: Flask) -> None:
    @app.after_request
    def cross_origin(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            allowed = response.headers.get("Allow")
            if allowed:
                response.headers["Access-Control-Allow-Methods"] = allowed
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = str(MAX_AGE_S)
        return response
