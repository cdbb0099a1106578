"""One refresh of the mentions, as a session: the writer, the state, the clock, the memory.

Why a module of its own: the refresh's parts (``web.mentions_refresh`` for the
record graphs and the units, ``web.mentions_works`` for the works) share one
writer, one state connection, one tokenizer and one way of giving memory back.

Memory does not grow with the store. What grows while a refresh reads is
RocksDB's (the blocks and the terms it decodes, about 130 MB once its caches
are full, measured on the x10 benchmark store) and spaCy's vocabulary (every
distinct token seen); both are given back by ``breathe``, called between
slices of units, every ``READ_WORKS`` works read and after every bulk load of
mentions, once the process has grown ``MEMORY_HEADROOM_MB`` past its floor:
the store is reopened (``graph.store.StoreSession.reopen``), and a fresh
tokenizer started once the old one has seen ``VOCABULARY_KEPT`` distinct
tokens. The floor is what is left after a reopen.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from graph.mention_state import stored_patterns
from graph.store import release_freed_memory, resident_memory_mb
from graph.writer import Writer
from ontology.layout import Layout
from query.mentions import blank_pipeline, label_patterns

#: Labels whose patterns a refresh keeps tokenized (many units share a label: the local agents
#: of copies of a record, which sort next to each other).
PATTERN_CACHE = 5_000
#: Distinct tokens a tokenizer may have seen and still be kept past a reopen (some 450 bytes
#: each): a fresh one costs 20 ms of CPU, and a refresh reopens the store a hundred times.
VOCABULARY_KEPT = 50_000
#: Chunks of text (between spaces) a tokenizer keeps tokenized (spaCy's default: 10,000; some
#: 230 bytes each, measured). With spaCy's 10,000, the labels of a first refresh filled the cache
#: and every text was tokenized cold twice (to collect its tokens, then to match it).
TOKENIZER_CACHE = VOCABULARY_KEPT
#: Growth of the process (MB) past which the store is reopened (``RefreshSession.breathe``).
MEMORY_HEADROOM_MB = 32.0


@dataclass
class RefreshSession:
    """One refresh's session: the writer, the state, and what it counted."""

    writer: Writer
    layout: Layout
    db: sqlite3.Connection
    full: bool
    #: Whether the state's record of each work's mentions (``work_found``) is whole: a full
    #: refresh wrote it, and every refresh since (``graph.mention_graph.stage_mentions``).
    trusted: bool = False
    _nlp: object = None
    floor: float = 0.0
    reopened: int = 0
    _patterns: Callable | None = None
    clock: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "match": 0.0, "write": 0.0})

    def breathe(self, room: float = 0.0) -> None:
        """Between slices: give back what the reads held once the process grew past its headroom
        (no garbage collection first: it costs half a second with spaCy loaded, and this code
        keeps no reference to the store across slices).

        Two things grow: RocksDB's blocks, given back by reopening the store, and spaCy's
        vocabulary, which keeps every distinct token it has seen (a lexeme, its string and the
        tokenizer's cache entry: 135 MB for 300,000 new words, measured) and is given back by
        starting a fresh tokenizer (20 ms; it tokenizes the same way, and pattern keys are
        hashes of their names, the same in any vocabulary) once it has seen ``VOCABULARY_KEPT``
        tokens. ``room``: what the caller is about to need, taken off the headroom."""
        if (resident_memory_mb() or 0.0) > self.floor + MEMORY_HEADROOM_MB - room:
            if self._nlp is not None and len(self._nlp.vocab) > VOCABULARY_KEPT:
                self._nlp = None
            self.give_back()
            self.reopened += 1

    def give_back(self) -> None:
        """Reopen the store and hand freed pages back; what is left is the refresh's floor."""
        release_freed_memory()
        self.writer.session.reopen()
        self.floor = resident_memory_mb() or self.floor

    @property
    def nlp(self) -> object:
        """spaCy's tokenizer, loaded when first needed (its import costs a second or two, and a
        refresh with nothing to read or match needs none), and again after ``breathe``."""
        if self._nlp is None:
            nlp = blank_pipeline()
            # the same tokens, cached for longer (the attribute exists from spaCy 3.8.2: pyproject.toml)
            nlp.tokenizer.max_cache_size = TOKENIZER_CACHE
            self._nlp = nlp
        return self._nlp

    def make_doc(self, text: str) -> object:
        """``nlp.make_doc``: what ``label_patterns`` asks of a tokenizer, which is loaded only
        when a label has to be tokenized."""
        return self.nlp.make_doc(text)

    def patterns(self, kind: str, label: str) -> list[tuple[str, bool, tuple[str, ...]]]:
        """``label_patterns``, each label tokenized once: kept for the refresh (many units share
        a label; the cache outlives a tokenizer ``breathe`` drops: its rows are plain strings),
        and found in the state when another unit already had it (``stored_patterns``), so that
        an ingest's refresh whose units bring no new label and whose works no new text never
        imports spaCy."""
        if self._patterns is None:
            if self.full:  # the state was forgotten: all it holds is this refresh's own
                self._patterns = lru_cache(maxsize=PATTERN_CACHE)(lambda k, text: label_patterns(self, k, text))
            else:
                self._patterns = lru_cache(maxsize=PATTERN_CACHE)(
                    lambda k, text: stored_patterns(self.db, k, text) or label_patterns(self, k, text)
                )
        return self._patterns(kind, label)

    def timed(self, part: str, started: float) -> None:
        self.clock[part] += time.perf_counter() - started
