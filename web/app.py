"""The Flask application factory: settings in, a WSGI app with its blueprints out.

Only the factory lives here: the app's state and its accessors are in
``web.state``, the routes in the blueprints (``web.system``, ``web.sparql``,
``web.gsp``, ``web.wellknown``, ``web.resources``, ``web.api``, ``web.reconcile``,
``web.login``, ``web.editor``),
which import ``web.state`` and never this module.
"""

from __future__ import annotations

from flask import Flask, Response, request
from pyoxigraph import Store

from web import cors, errors, hosts, i18n, login, sessions, state
from web.api import blueprint as api_blueprint
from web.browse import blueprint as browse_blueprint
from web.config import Settings, load_settings
from web.editor import blueprint as editor_blueprint
from web.graph_view import blueprint as graph_view_blueprint
from web.gsp import blueprint as gsp_blueprint
from web.history import blueprint as history_blueprint
from web.ontology_editor import blueprint as ontology_editor_blueprint
from web.ontology_page import blueprint as ontology_blueprint
from web.reconcile import blueprint as reconcile_blueprint
from web.related import blueprint as related_blueprint
from web.resources import blueprint as resources_blueprint
from web.review_queue import blueprint as review_queue_blueprint
from web.search_page import blueprint as search_page_blueprint
from web.sparql import blueprint as sparql_blueprint
from web.suggest_api import blueprint as suggest_api_blueprint
from web.system import blueprint as system_blueprint
from web.vocabulary_editor import blueprint as vocabulary_editor_blueprint
from web.wellknown import blueprint as wellknown_blueprint

#: Sent with every answer: pages use only our own CSS, and no record text can run as script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    """The web app. ``store`` lets a caller that already holds an open store share it."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 3 * settings.max_query_bytes + 4096  # url-encoding
    state.install(app, settings, store)
    hosts.register(app, settings)  # unknown Host: 400; redirects never repeat the Host
    app.jinja_env.globals["home_href"] = lambda: request.script_root + "/"
    errors.register(app)
    i18n.register(app)  # English or Chinese per reader: Flask-Babel, /-/lang
    sessions.register(app, settings.data_dir, settings.base_iri)  # signed cookie, key in data_dir
    login.register(app)  # /login, /logout, who is signed in (page header)

    app.register_blueprint(system_blueprint)
    app.register_blueprint(sparql_blueprint)
    app.register_blueprint(gsp_blueprint)
    app.register_blueprint(wellknown_blueprint)
    app.register_blueprint(resources_blueprint)
    app.register_blueprint(search_page_blueprint)  # /search: the reader's search page
    app.register_blueprint(api_blueprint)
    app.register_blueprint(reconcile_blueprint)
    app.register_blueprint(suggest_api_blueprint)
    app.register_blueprint(related_blueprint)
    app.register_blueprint(editor_blueprint)
    app.register_blueprint(history_blueprint)  # /editor/history, /editor/proposals
    app.register_blueprint(review_queue_blueprint)  # /editor/review: the match candidates
    app.register_blueprint(vocabulary_editor_blueprint)  # /editor/vocabularies
    app.register_blueprint(ontology_blueprint)
    app.register_blueprint(ontology_editor_blueprint)  # /editor/ontology
    app.register_blueprint(browse_blueprint)
    app.register_blueprint(graph_view_blueprint)
    cors.register(app)

    @app.after_request
    def secure(response: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    return app


def close_app(app: Flask) -> None:
    """Release what the app holds on the data directory (the live store's shared lock)."""
    found = state.installed_state(app)
    if found is not None:
        for closer in found.closers:
            closer()
        found.store.close()
