"""The subject index of the store being served, built once per checkpoint and shared.

``query.subject_index`` reads every Work of the store, which takes seconds
on a large store (2-4 s for the 2,383 works of bench/suggest.py): far too slow per request, so
the index is built on the first suggestion after a checkpoint appears and
kept with the store object it was built from. A new checkpoint (a new
``Store`` from ``web.state.StoreHolder``) builds a new index on its first use;
one build runs at a time.
"""

from __future__ import annotations

import threading

from pyoxigraph import Store

from query.subject_index import SubjectIndex, build_subject_index

_lock = threading.Lock()
_cached: dict[tuple[int, str, str | None], tuple[Store, SubjectIndex]] = {}


def subject_index(store: Store, base: str, scheme: str | None = None) -> SubjectIndex:
    """The index of ``store`` (one kept per base and scheme; older stores' indexes dropped)."""
    key = (id(store), base, scheme)
    with _lock:
        found = _cached.get(key)
        if found is not None and found[0] is store:
            return found[1]
        index = build_subject_index(store, base, scheme)
        for old in [k for k, (s, _) in _cached.items() if s is not store or k[1:] == key[1:]]:
            del _cached[old]
        _cached[key] = (store, index)
        return index
