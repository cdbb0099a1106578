"""The browse orders of the checkpoint served (``query.browse.BrowseIndex``), made once each.

Made on the first browse request after the server starts (that request
waits: seconds at 100,000 records), then kept; after a new checkpoint the
previous orders answer while the new ones are made in a background thread,
as the home page's figures are (``web.figures``). The use counts come from
the association index of the same checkpoint (``web.related``), so browse,
the related panel and the scores agree; a checkpoint without associations
is browsed without counts (no ``sort=count``).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from pyoxigraph import Store

from ontology.errors import NotFoundError
from query.browse import BrowseIndex
from query.search import open_index
from web.related import AssociationsMissingError, association_cache
from web.state import settings, store_holder

log = logging.getLogger(__name__)
_EXTENSION = "catalograph.browse"


class BrowseCache:
    """The ``BrowseIndex`` of the checkpoint served; a newer checkpoint's is made in the
    background while the older one keeps answering (only the first is waited for)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first = threading.Lock()
        self._entry: tuple[Store, BrowseIndex] | None = None
        self._pending: Store | None = None

    def get(self, app: Flask, store: Store, checkpoint: str | None) -> BrowseIndex:
        with self._lock:
            entry = self._entry
            if entry is not None and entry[0] is store:
                return entry[1]
            if entry is not None:
                if self._pending is not store:
                    self._pending = store
                    threading.Thread(
                        target=self._build_later, args=(app, store, checkpoint), daemon=True,
                        name="browse-index",
                    ).start()
                return entry[1]
        with self._first:
            with self._lock:
                if self._entry is not None:
                    return self._entry[1]
            index = _build(app, store, checkpoint)
            with self._lock:
                self._entry = (store, index)
            return index

    def _build_later(self, app: Flask, store: Store, checkpoint: str | None) -> None:
        try:
            index = _build(app, store, checkpoint)
        except Exception:  # the older index keeps answering; the next request tries again
            log.exception("the browse index of a new checkpoint could not be made")
            with self._lock:
                self._pending = None
            return
        with self._lock:
            self._entry, self._pending = (store, index), None


def _build(app: Flask, store: Store, checkpoint: str | None) -> BrowseIndex:
    if checkpoint is None:
        raise NotFoundError("browsing needs a checkpoint with its search index; ingest first")
    with app.app_context():
        counts = _use_counts(app, store)
    db = open_index(checkpoint)
    try:
        return BrowseIndex.build(db, store, counts)
    finally:
        db.close()


def _use_counts(app: Flask, store: Store) -> dict[str, int] | None:
    """Works that use each unit, and each work's editions, from the association index."""
    try:
        index = association_cache(app).get(store, settings()).index
    except AssociationsMissingError:
        return None
    counts = {index.column_name(i): int(index.df[i]) for i in range(len(index.projection.units))}
    for position in range(len(index.works)):
        counts[index.work_iri(position)] = int(index.editions[position])
    return counts


def browse_index() -> BrowseIndex:
    holder = store_holder()
    store = holder.get()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.setdefault(_EXTENSION, BrowseCache())
    return cache.get(app, store, str(holder.path) if holder.path else None)
