"""The subject index of the store being served: built off the request path, once per checkpoint.

``query.subject_index`` reads every Work of the store, which takes seconds
on a large store (2-4 s for the 2,383 works of bench/suggest.py, and grows
with the works): far too slow for a request, and a build holding a lock
would hold every server thread that asks meanwhile. So, as the figures are
(``web.figures``): a request that finds the index of an earlier checkpoint
is answered from it at once while one background thread builds the new
one; only before the first index exists does a request get a 503 with
``Retry-After`` (``SubjectIndexNotReadyError``). ``catalograph serve``
starts the first build when it starts (``warm``).
"""

from __future__ import annotations

import logging
import threading

from pyoxigraph import Store

from ontology.errors import QueryError
from query.subject_index import SubjectIndex, build_subject_index

log = logging.getLogger(__name__)


class SubjectIndexNotReadyError(QueryError):
    """No subject index is built yet for the store served (HTTP 503 with Retry-After)."""

    http_status = 503
    retry_after = 5


class SubjectIndexCache:
    """The newest index built per (base, scheme), the store it is of, and the build under way."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[tuple[str, str | None], tuple[Store, SubjectIndex]] = {}
        self._building: set[tuple[str, str | None]] = set()

    def get(self, store: Store, base: str, scheme: str | None = None) -> SubjectIndex:
        """The index of ``store``, or of the store served before it while ``store``'s is built."""
        key = (base, scheme)
        with self._lock:
            found = self._built.get(key)
            if found is None or found[0] is not store:
                self._start(store, key)
            if found is not None:
                return found[1]
        raise SubjectIndexNotReadyError(
            "the subject index of this store is being built (the first time after the server "
            "starts or a new checkpoint, a few seconds per few thousand works); try again shortly"
        )

    def warm(self, store: Store, base: str, scheme: str | None = None) -> None:
        """Start building ``store``'s index now, if it is not built or being built."""
        with self._lock:
            found = self._built.get((base, scheme))
            if found is None or found[0] is not store:
                self._start(store, (base, scheme))

    def wait(self, timeout_s: float) -> bool:
        """Whether no build is under way within ``timeout_s`` (for tests and ``warm`` callers)."""
        event = threading.Event()
        for _ in range(int(timeout_s * 20)):
            with self._lock:
                if not self._building:
                    return True
            event.wait(0.05)
        return False

    def _start(self, store: Store, key: tuple[str, str | None]) -> None:
        if key in self._building:
            return
        self._building.add(key)
        threading.Thread(
            target=self._build, args=(store, key), name="subject-index", daemon=True
        ).start()

    def _build(self, store: Store, key: tuple[str, str | None]) -> None:
        try:
            index = build_subject_index(store, *key)
        except Exception:
            log.exception("building the subject index failed; suggestions use the older one")
            index = None
        with self._lock:
            self._building.discard(key)
            if index is not None:
                self._built[key] = (store, index)
