"""Every route that can change something names the permission it needs, and enforces it.

The app's own ``url_map`` is walked, so a route added later is checked without
anyone listing it here: one that accepts POST, PUT, DELETE or PATCH without
``web.auth.requires`` (or ``open_to_all`` with a reason, for the few that only
read or only sign in and out) fails ``test_every_route_that_writes_declares_a_permission``.
Then each guarded route is called for real (Flask's test client over a real
data directory, real argon2 accounts, real sessions from the real login form)
without credentials, as the old role ``reader``, and as the weakest role
allowed (a cataloger, or an admin for ``review``) whose request lacks its
CSRF token or forges it: all are refused; a cataloger and an admin see the
pages their roles allow (a page whose route takes a parameter may answer
404 for the placeholder ``x``: the guard let them in). (A cataloger's update with the token, through a real server:
``tests/test_web_login.py``.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from test_web_auth import legacy_users_file

from web.accounts import add_user
from web.app import create_app
from web.auth import open_to_all, requires
from web.config import load_settings
from web.permissions import EDIT, PERMISSIONS, may

WRITING_METHODS = {"POST", "PUT", "DELETE", "PATCH"}
PASSWORD = "a long enough password"

#: Routes that accept a writing method but need no permission, and why. Adding one is a
#: decision, so it is listed here by hand.
OPEN_ROUTES = {
    "reconcile.service": "OpenRefine's query batches: reads only",
    "suggest_api.api_suggest": "a record's words in, suggestions out: reads only",
    "login.login": "signing in",
    "login.logout": "signing out of one's own session",
}

#: A request that takes a conditional guard's writing branch (an update, a graph write).
SAMPLES: dict[str, dict] = {
    "sparql.endpoint": {
        "method": "POST",
        "data": {"update": "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }"},
    },
    "gsp.graph_store": {
        "method": "PUT",
        "query_string": "default",
        "data": b"<urn:x:s> <urn:x:p> <urn:x:o> .",
        "content_type": "application/n-triples",
    },
}


def undeclared_writing_routes(app: Flask) -> list[str]:
    """Routes that accept a writing method and declare nothing, or something unknown."""
    problems = []
    for rule in app.url_map.iter_rules():
        if not (rule.methods or set()) & WRITING_METHODS:
            continue
        guard = getattr(app.view_functions[rule.endpoint], "guard", None)
        if guard is None:
            problems.append(f"{rule.rule} ({rule.endpoint}): no permission declared")
        elif guard.permission is None and not guard.open_because:
            problems.append(f"{rule.rule} ({rule.endpoint}): open without a reason")
        elif guard.permission is not None and guard.permission not in PERMISSIONS:
            problems.append(f"{rule.rule} ({rule.endpoint}): unknown permission")
    return problems


def guarded_rules(app: Flask) -> list[tuple[str, str, object, set[str]]]:
    """``(endpoint, path, guard, methods)`` of every route whose view names a permission."""
    found = []
    for rule in app.url_map.iter_rules():
        guard = getattr(app.view_functions[rule.endpoint], "guard", None)
        if guard is not None and guard.permission is not None:
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
            found.append((rule.endpoint, path, guard, set(rule.methods or ())))
    return found


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    data_dir = tmp_path_factory.mktemp("permissions") / "data"
    data_dir.mkdir()
    legacy_users_file(data_dir, {"rita": ("reader", PASSWORD)})
    add_user(data_dir, "carl", PASSWORD, "cataloger")
    add_user(data_dir, "ada", PASSWORD, "admin")
    app = create_app(load_settings(env={}, data_dir=data_dir))
    app.config["TESTING"] = True
    return app


def test_every_route_that_writes_declares_a_permission(app: Flask) -> None:
    assert undeclared_writing_routes(app) == []
    open_routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "guard", None) is not None
        and app.view_functions[rule.endpoint].guard.permission is None
    }
    assert open_routes == set(OPEN_ROUTES), "a route opened without a permission: review it"
    # The walk sees the routes that matter (it is not vacuous).
    endpoints = {endpoint for endpoint, *_rest in guarded_rules(app)}
    assert {"sparql.endpoint", "gsp.graph_store", "editor.landing", "editor.accounts", "review_queue.accept"} <= endpoints


def test_a_new_writing_route_without_a_permission_is_caught(tmp_path: Path) -> None:
    """The walk fails for a route that writes and declares nothing, whatever its path."""
    app = create_app(load_settings(env={}, data_dir=tmp_path))
    extra = Blueprint("extra", __name__)

    @extra.post("/somewhere/else")
    def careless() -> str:
        return "changed"

    @extra.route("/editor/declared", methods=["GET", "DELETE"])
    @requires(EDIT)
    def declared() -> str:
        return "changed"

    @extra.post("/open/without/reason")
    def unexplained() -> str:
        return "changed"

    unexplained.guard = type(declared.guard)(None)  # declared open, but with no reason

    app.register_blueprint(extra)
    problems = undeclared_writing_routes(app)
    assert len(problems) == 2
    assert "/somewhere/else (extra.careless): no permission declared" in problems
    assert "/open/without/reason (extra.unexplained): open without a reason" in problems
    with pytest.raises(ValueError):
        open_to_all("")
    with pytest.raises(ValueError):
        requires("everything")


def sign_in(client: FlaskClient, name: str) -> str:
    """Sign in through the real form; the CSRF token the signed-in pages carry."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def names_something(path: str) -> bool:
    """A path whose route takes a parameter (``guarded_rules`` put ``x`` in its place)."""
    return path.endswith("/x") or "/x/" in path


def requests_for(endpoint: str, path: str, guard: object) -> list[dict]:
    if guard.when is None:  # always guarded: every method the route takes
        return [{"method": "GET", "path": path}, {"method": "POST", "path": path}]
    assert endpoint in SAMPLES, f"{endpoint} is guarded conditionally: add a request to SAMPLES"
    return [{"path": path, **SAMPLES[endpoint]}]


def call(client: FlaskClient, request: dict, headers: dict | None = None) -> tuple[int, str]:
    request = dict(request)
    answer = client.open(
        request.pop("path"), headers={"Accept": "text/plain", **(headers or {})}, **request
    )
    return answer.status_code, answer.get_data(as_text=True)


def test_every_guarded_route_refuses_strangers_readers_and_forged_requests(app: Flask) -> None:
    anonymous = app.test_client()
    reader = app.test_client()
    sign_in(reader, "rita")
    cataloger = app.test_client()
    token = sign_in(cataloger, "carl")
    admin = app.test_client()
    admin_token = sign_in(admin, "ada")
    checked = 0
    for endpoint, path, guard, methods in guarded_rules(app):
        for request in requests_for(endpoint, path, guard):
            if request["method"] not in methods:
                continue
            status, body = call(anonymous, request)
            assert status == 401, (endpoint, request, status, body)
            status, body = call(reader, request)
            assert status == 403 and "reader" in body, (endpoint, request, status, body)
            if request["method"] == "GET":  # a page: as the role allows
                for client, role in ((cataloger, "cataloger"), (admin, "admin")):
                    expected = {200} if may(role, guard.permission) else {403}
                    if expected == {200} and names_something(path):
                        expected.add(404)  # let in, to learn that "x" names nothing
                    assert call(client, request)[0] in expected, (endpoint, role)
            else:
                user, user_token = cataloger, token
                if not may("cataloger", guard.permission):  # refused for the role, CSRF or not
                    status, body = call(cataloger, request, {"X-CSRFToken": token})
                    assert status == 403 and "may not" in body, (endpoint, request, status, body)
                    user, user_token = admin, admin_token
                status, body = call(user, request)  # the session's cookie alone
                assert status == 403 and "CSRF" in body, (endpoint, request, status, body)
                forged = call(user, request, {"X-CSRFToken": user_token[:-2] + "xx"})
                assert forged[0] == 403 and "CSRF" in forged[1], (endpoint, forged)
            checked += 1
    assert checked >= 3


def test_a_browser_without_a_session_is_sent_to_the_login_form(app: Flask) -> None:
    answer = app.test_client().get("/editor", headers={"Accept": "text/html,*/*;q=0.8"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/login?next=/editor"
    program = app.test_client().get("/editor", headers={"Accept": "*/*"})
    assert program.status_code == 401 and "WWW-Authenticate" in program.headers
