"""The Flask application factory: settings in, a WSGI app with its blueprints out.

The store is opened through ``graph`` only (never with pyoxigraph here),
lazily on the first request that needs it, read-only: the newest checkpoint the
last ingest wrote if there is one, else the live store opened read-only.
"""

from __future__ import annotations

import importlib.metadata
import platform
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from pyoxigraph import Store

from graph import latest_snapshot, open_latest_snapshot, publish_first_checkpoint, store_path
from ontology.errors import CatalographError, StoreError
from query.negotiation import HTML, content_type
from query.resources import ResourceQueries
from web import errors
from web.config import Settings, load_settings

_EXTENSION = "catalograph"
_ROOT = Path(__file__).resolve().parent.parent

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


class StoreHolder:
    """The read-only store the app answers from, reopened when an ingest publishes a checkpoint.

    Readers use the newest checkpoint (``graph.open_latest_snapshot``), so the
    server never waits for an ingest nor sees half a batch; every
    ``CHECK_EVERY_S`` it looks whether a newer one was published. A data
    directory with no checkpoint gets one first (if no writer is at work;
    otherwise an empty store is served until the writer commits), so the
    server never holds the live store and never locks an ingest out.
    """

    CHECK_EVERY_S = 1.0

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.data_dir = settings.data_dir
        self._given = store
        self._store: Store | None = store
        self._snapshot: Path | None = None
        #: The checkpoint being served, for query workers that open it themselves;
        #: ``None`` for a given store, or the empty one served before a first checkpoint.
        self.path: Path | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.source = "given" if store is not None else None

    def get(self) -> Store:
        if self._given is not None:
            return self._given
        current = self._store
        if current is not None and time.monotonic() - self._checked < self.CHECK_EVERY_S:
            return current
        with self._lock:
            self._checked = time.monotonic()
            latest = latest_snapshot(self.data_dir)
            exists = (store_path(self.data_dir) / "CURRENT").exists()
            if latest is None and self._store is None and exists:
                latest = self._first_checkpoint()
            if latest is not None and latest != self._snapshot:
                store = open_latest_snapshot(self.data_dir)
                self._store, self._snapshot, self.path = store, latest, latest
                self.source = f"checkpoint {latest.name}"
            elif self._store is None:
                if not exists:
                    raise StoreError(
                        f"there is no store at {store_path(self.data_dir)}; ingest some records first"
                    )
                # A writer is at work and has published nothing yet.
                self._store, self.path = Store(), None
                self.source = "empty: waiting for the first checkpoint of the ingest under way"
            return self._store

    def _first_checkpoint(self) -> Path | None:
        """Publish a checkpoint of a data directory that has none, unless a writer is at work.

        A writing session that ends publishes one when none exists. The
        server never reads the live store itself: holding it open would lock
        ingests out.
        """
        try:
            return publish_first_checkpoint(self.data_dir)
        except StoreError:
            return None  # the writer holding the lock publishes its own when it commits

    def close(self) -> None:
        with self._lock:
            self._store = self._given

    def refresh(self) -> None:
        """Look for a new checkpoint on the next request (this process just published one)."""
        self._checked = 0.0


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    """The web app. ``store`` lets a caller that already holds an open store share it."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 3 * settings.max_query_bytes + 4096  # url-encoding
    app.extensions[_EXTENSION] = {
        "settings": settings,
        "store": StoreHolder(settings, store),
        "counts": (0.0, None, {}),
        "closers": [],  # called by close_app (e.g. the SPARQL query workers)
    }
    app.jinja_env.globals["home_href"] = lambda: request.script_root + "/"
    errors.register(app)

    from web import cors
    from web.gsp import blueprint as gsp_blueprint
    from web.resources import blueprint as resources_blueprint
    from web.sparql import blueprint as sparql_blueprint
    from web.wellknown import blueprint as wellknown_blueprint

    app.register_blueprint(system)
    app.register_blueprint(sparql_blueprint)
    app.register_blueprint(gsp_blueprint)
    app.register_blueprint(wellknown_blueprint)
    app.register_blueprint(resources_blueprint)
    cors.register(app)

    @app.after_request
    def secure(response: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    return app


def close_app(app: Flask) -> None:
    """Release what the app holds on the data directory (the live store's shared lock)."""
    state = app.extensions.get(_EXTENSION)
    if state is not None:
        for closer in state["closers"]:
            closer()
        state["store"].close()


def settings() -> Settings:
    return current_app.extensions[_EXTENSION]["settings"]


def store() -> Store:
    return current_app.extensions[_EXTENSION]["store"].get()


def store_holder() -> StoreHolder:
    return current_app.extensions[_EXTENSION]["store"]


def resource_queries() -> ResourceQueries:
    return ResourceQueries(store(), settings().base_iri)


system = Blueprint("system", __name__)

#: How long the home page's counts are reused before being counted again.
COUNTS_TTL_S = 60.0


@system.get("/")
def home() -> Response:
    state = current_app.extensions[_EXTENSION]
    when, counted, counts = state["counts"]
    queries = resource_queries()
    if counted is not queries.store or time.monotonic() - when > COUNTS_TTL_S:
        counts = queries.counts()
        state["counts"] = (time.monotonic(), queries.store, counts)
    body = render_template("home.html", counts=counts, base=settings().base_iri)
    return Response(body, content_type=content_type(HTML))


@system.get("/-/health")
def health() -> tuple[Response, int]:
    holder: StoreHolder = current_app.extensions[_EXTENSION]["store"]
    try:
        holder.get()
    except (CatalographError, OSError) as exc:
        message = exc.format_message() if isinstance(exc, CatalographError) else str(exc)
        return jsonify(status="unavailable", store={"open": False, "error": message}), 503
    return jsonify(status="ok", store={"open": True, "opened_as": holder.source}), 200


@system.get("/-/version")
def version() -> Response:
    return jsonify(
        catalograph=catalograph_version(),
        pyoxigraph=importlib.metadata.version("pyoxigraph"),
        flask=importlib.metadata.version("flask"),
        waitress=importlib.metadata.version("waitress"),
        python=platform.python_version(),
    )


def catalograph_version() -> str:
    """The installed package's version, else the one pyproject.toml declares (a checkout)."""
    try:
        return importlib.metadata.version("catalograph")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        with (_ROOT / "pyproject.toml").open("rb") as handle:
            project: dict[str, Any] = tomllib.load(handle).get("project", {})
        return str(project.get("version", "unknown"))
    except (OSError, tomllib.TOMLDecodeError):
        return "unknown"
