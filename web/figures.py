"""The figures of the store an app serves, counted off the request path once there are some.

Counting (``graph.stats``) scans the store's type statements: 1.4–2.1 s for
the sample of ``data/``, 13 s for a million quads. A request that finds
figures of an earlier checkpoint gets them at once while one background
thread counts the new one; only the first count of an app is waited for.
So pages stay fast after every ingest and no burst of requests ties up the
server's threads behind a count; the home page, ``/-/stats`` and VoID read
the same cache, so they agree with each other, and they follow a new
checkpoint a count's time after the app starts serving it.
"""

from __future__ import annotations

import logging
import threading
import time

from pyoxigraph import Store

from graph.stats import Figures, count

log = logging.getLogger(__name__)


class FiguresCache:
    """The newest figures counted, the store they are of, and the count under way if any."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first = threading.Lock()
        self._entry: tuple[float, Store | None, Figures | None] = (0.0, None, None)
        self._pending: Store | None = None

    def get(self, store: Store, ttl_s: float | None = None) -> Figures:
        """Figures of ``store``, or of the store served before it while ``store`` is counted.

        ``ttl_s``: for a store that may change in place, how long its figures are reused.
        """
        with self._lock:
            found = self._fresh(store, ttl_s)
            if found is not None:
                return found
            shown = self._entry[2]
            if shown is not None:
                if self._pending is None:
                    self._pending = store
                    threading.Thread(
                        target=self._recount, args=(store,), name="figures", daemon=True
                    ).start()
                return shown
        with self._first:  # nothing to show yet: this request counts, the others wait for it
            with self._lock:
                found = self._fresh(store, ttl_s)
            if found is None:
                found = count(store)
                with self._lock:
                    self._entry = (time.monotonic(), store, found)
            return found

    def counted(self, store: Store) -> Figures | None:
        """The figures of ``store`` if they are counted already, else ``None`` (never waits:
        for pages that only mention a figure, such as browse beside its own counts)."""
        with self._lock:
            return self._fresh(store, None)

    def _fresh(self, store: Store, ttl_s: float | None) -> Figures | None:
        when, counted, found = self._entry
        if counted is not store or (ttl_s is not None and time.monotonic() - when > ttl_s):
            return None
        return found

    def _recount(self, store: Store) -> None:
        try:
            found = count(store)
        except Exception:
            log.exception("counting the store failed; the figures shown are older")
            found = None
        with self._lock:
            if found is not None:
                self._entry = (time.monotonic(), store, found)
            self._pending = None
