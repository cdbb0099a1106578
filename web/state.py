"""What one app holds while it runs, and the accessors routes use to reach it.

The factory (``web.app``) makes an ``AppState`` and keeps it on the Flask app;
blueprints import this module, never ``web.app``, so the factory can import
the blueprints without a cycle.

The store is opened through ``graph`` only (never with pyoxigraph here),
lazily on the first request that needs it, read-only: the newest checkpoint the
last ingest wrote if there is one, else the live store opened read-only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app
from pyoxigraph import Store

from graph import latest_snapshot, open_latest_snapshot, publish_first_checkpoint, store_path
from graph.stats import Figures
from ontology.errors import StoreError
from web.config import Settings
from web.figures import FiguresCache

_EXTENSION = "catalograph"

#: How long the figures of a store that may change in place (one given to
#: ``create_app``) are reused before being counted again. A checkpoint never
#: changes, so its figures are counted once.
COUNTS_TTL_S = 60.0


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


@dataclass(slots=True)
class AppState:
    """One app's settings, its store, its caches and what to release when it closes."""

    settings: Settings
    store: StoreHolder
    #: The figures of the store served, for the home page, ``/-/stats`` and VoID.
    counts: FiguresCache = field(default_factory=FiguresCache)
    #: Called by ``close_app`` (e.g. to stop the SPARQL query workers).
    closers: list[Callable[[], None]] = field(default_factory=list)


def install(app: Flask, settings: Settings, store: Store | None = None) -> AppState:
    """Give ``app`` its state; ``store`` lets a caller that holds an open store share it."""
    state = AppState(settings, StoreHolder(settings, store))
    app.extensions[_EXTENSION] = state
    return state


def app_state(app: Flask | None = None) -> AppState:
    """The state of ``app``, or of the app handling the current request."""
    return (app or current_app).extensions[_EXTENSION]


def installed_state(app: Flask) -> AppState | None:
    """The state of ``app`` if it has one (``close_app`` on any app)."""
    return app.extensions.get(_EXTENSION)


def settings() -> Settings:
    return app_state().settings


def store() -> Store:
    return app_state().store.get()


def store_holder() -> StoreHolder:
    return app_state().store


def figures() -> Figures:
    """The figures of the store being served (``graph.stats``), for every page that shows them.

    Counted once per checkpoint (a new one is a new store object), off the
    request path once the app has figures to show (``web.figures``); a store
    given to ``create_app`` may change in place, so it is counted again after
    ``COUNTS_TTL_S``.
    """
    state = app_state()
    current = state.store.get()
    given = state.store.source == "given"
    return state.counts.get(current, ttl_s=COUNTS_TTL_S if given else None)


def on_close(closer: Callable[[], None]) -> None:
    """Have ``close_app`` call ``closer`` (for what the current app started, such as workers)."""
    app_state().closers.append(closer)
