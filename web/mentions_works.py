"""The works a refresh of the mentions examines: their texts read, matched, their mentions written.

Part of ``web.mentions_refresh`` (which finds the works to examine and the
units' patterns): each work to examine, ``CHUNK_WORKS`` at a time, has its
texts read; it is matched when they changed, or a label sent it, or the
refresh is full, against the patterns whose first token occurs in its chunk
(never a matcher of the whole vocabulary).

Memory is that of a chunk's token set and matcher, not of its texts' tokens:
a text is tokenized once to collect its tokens, and again when it is matched,
one at a time. Texts that many works share (copies of a record in the x10
benchmark: 954 distinct texts for 2,372 works) are tokenized and matched once
per refresh (``graph.mention_state.remember_text``, on disk). The mentions are
written as they are matched (``graph.mention_graph.stage_mentions``), a bulk
load at a time, the memory looked at before each.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator

from graph.mention_graph import load_mentions, stage_mentions
from graph.mention_state import (
    WORD_SEPARATOR,
    joined_tokens,
    recalled_text,
    remember_text,
    set_work,
    text_seen,
)
from graph.refresh_state import slices
from query.mentions import (
    MentionMatcher,
    doc_tokens,
    pattern_matcher,
    text_docs,
    word_tokens,
    work_texts,
)
from web.mentions_session import RefreshSession

#: Works matched and written at once: a refresh holds their tokens' set and matcher, not every work's.
CHUNK_WORKS = 500
#: Works read between two looks at the memory.
READ_WORKS = 100
#: Room (MB) a bulk load of mentions needs above the floor: the memory is given back before a
#: load that would start closer than this to the headroom (``RefreshSession.breathe``).
LOAD_ROOM_MB = 16.0


def texts_digest(texts: Iterable[tuple[str, str]]) -> str:
    return hashlib.blake2b("\n".join(f"{f}\t{t}" for f, t in texts).encode(), digest_size=16).hexdigest()



def examine_works(run: RefreshSession) -> dict[str, int]:
    """Each work to examine, ``CHUNK_WORKS`` at a time: its texts read, matched if they changed
    (or a label sent it, or the refresh is full), its mentions, digest and tokens written."""
    db, layout = run.db, run.layout
    done = {"examined": 0, "matched": 0, "texts": 0, "mentions": 0, "added": 0, "removed": 0}
    sql = (
        "SELECT work FROM (SELECT work FROM todo_work UNION SELECT work FROM rematch) "
        "WHERE work > ? ORDER BY work LIMIT ?"
    )
    for works in slices(db, sql, CHUNK_WORKS):
        clock = time.perf_counter()
        store = run.writer.store
        todo: dict[str, list[str]] = {}  # digest of texts -> the works that have them
        texts_of: dict[str, list[tuple[str, str]]] = {}  # digest -> texts not matched yet
        tokens: set[str] = set()  # their lower-cased tokens
        for number, work in enumerate(works, 1):
            texts = work_texts(store, work)
            digest = texts_digest(texts) if texts else ""
            held = db.execute("SELECT digest FROM work_text WHERE work = ?", (work,)).fetchone()
            changed = (held[0] if held else "") != digest
            sent = db.execute("SELECT 1 FROM rematch WHERE work = ?", (work,)).fetchone() is not None
            if run.full or changed or sent:
                todo.setdefault(digest, []).append(work)
                if digest and digest not in texts_of and not text_seen(db, digest):
                    texts_of[digest] = texts
                    tokens.update(doc_tokens(text_docs(run.nlp, texts)))  # tokenized again to match
                done["texts"] += changed and not run.full
            if number % READ_WORKS == 0:  # RocksDB's cache of the terms decoded grows meanwhile
                del store
                run.breathe()
                store = run.writer.store
        done["matched"] += sum(len(found) for digest, found in todo.items() if digest)
        done["examined"] += len(works)
        del store
        run.timed("read", clock)
        clock = time.perf_counter()
        matcher = _chunk_matcher(run, tokens)
        run.timed("match", clock)
        found, lines, more = _matched(run, matcher, todo, texts_of, done), [], True
        while more:
            clock = time.perf_counter()
            store = run.writer.store
            removed, more = stage_mentions(
                store, layout, found, lines, state=db, trusted=run.trusted
            )
            del store
            run.breathe(LOAD_ROOM_MB)  # the load's own growth on top
            store = run.writer.store
            done["added"] += load_mentions(store, lines)
            done["removed"] += removed
            db.commit()  # the works' state after the store: a kill in between matches them again, alike
            del store
            run.timed("write", clock)
    return done


def _matched(
    run: RefreshSession, matcher: MentionMatcher, todo: dict[str, list[str]], texts_of: dict, done: dict[str, int]
) -> Iterator[tuple[str, list[tuple[str, str, int]]]]:
    """Each work of ``todo`` (digest of texts -> works) and its mentions, as ``stage_mentions``
    asks for them: texts are tokenized and matched once per refresh (``remember_text``), one at
    a time, so that a chunk holds neither every text's tokens nor every work's mentions. Each
    work's state is written (uncommitted: the store comes first)."""
    db = run.db
    for digest, works in todo.items():
        clock = time.perf_counter()
        texts = texts_of.pop(digest, None)
        if texts is not None:
            docs = text_docs(run.nlp, texts)
            found = [(m.unit, m.field, m.count) for m in matcher.mentions_in(docs)]
            tokens = joined_tokens(word_tokens(doc_tokens(docs)))
            remember_text(db, digest, found, tokens)
            del docs
        else:
            found, tokens = recalled_text(db, digest) or ([], "")
        run.timed("match", clock)
        for work in works:
            set_work(db, work, digest, tokens)
            done["mentions"] += len(found)
            yield work, found


def _chunk_matcher(run: RefreshSession, tokens: set[str]) -> MentionMatcher:
    """The matcher of a chunk's texts: the patterns whose first token is one of their ``tokens``."""
    db = run.db
    with db:
        db.execute("DELETE FROM chunk_token")
        db.executemany("INSERT OR IGNORE INTO chunk_token (token) VALUES (?)", ((t,) for t in tokens))
    rows = db.execute(
        "SELECT p.form, p.exact, p.words, p.unit FROM pattern p JOIN chunk_token c ON p.first = c.token"
    )
    return pattern_matcher(
        run.nlp, ((form, bool(exact), tuple(words.split(WORD_SEPARATOR)), unit) for form, exact, words, unit in rows)
    )
