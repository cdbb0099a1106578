"""Seed search: ranked full-text search over a checkpoint's copy of the search index.

The index is written by ``graph.search_index`` in the same transactions as
the store; every checkpoint carries a copy (``search.sqlite``) made when it
was taken, so a search answers from exactly the state the SPARQL endpoint and
the pages of the same checkpoint answer from, never from an ingest under way.

Ranking is FTS5's BM25 with a weight per field (``WEIGHTS``: a title hit
outranks a label hit, which outranks a note hit). The query text never
reaches FTS5's query language as it was typed: it is cut into words and CJK
runs (``graph.search_text.query_terms``, the same rule the index was written
with), each quoted as a string, all of them required; only the last word may
be a prefix (``moza*``, or ``prefix=True`` for autocomplete). Its length and
number of terms are bounded, the page too (``MAX_LIMIT``, ``MAX_OFFSET``), so
every search is a few index lookups and a sort of the matching rows.

    >>> q = SearchQuery.build("Dvořák  sym*")
    >>> q.match_expression()
    '"Dvořák" "sym"*'
    >>> SearchQuery.build('外交 "x" OR NEAR(').match_expression()
    '"外交" "x" "OR" "NEAR"'
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from graph.search_documents import FACETS, FIELDS, kinds_by_class
from graph.search_index import PUBLISHED_FILE
from graph.search_text import grams, query_terms
from ontology.errors import StoreError, UsageError
from query.execution import QueryTimeoutError

#: BM25 weight of each field, in ``graph.search_documents.FIELDS`` order.
WEIGHTS = {"title": 10.0, "creator": 9.0, "label": 8.0, "variant": 5.0, "abstract": 2.0, "note": 1.0}
#: Longest query text, in characters, and most terms (words and CJK runs) in it.
MAX_QUERY_CHARS = 256
MAX_TERMS = 12
#: Longest CJK run a query may hold (its bigrams make one phrase).
MAX_CJK_RUN = 32
#: Hits per page by default and at most; deepest offset.
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_OFFSET = 1000
#: Values one facet filter may hold (OR within a facet), and the longest value.
MAX_FACET_VALUES = 20
MAX_FACET_VALUE_CHARS = 512
#: Years a filter may name.
MIN_YEAR, MAX_YEAR = 0, 9999
#: A search stops (``QueryTimeoutError``) after this long: far beyond what a bounded query
#: takes (about a millisecond), a guard against what nobody foresaw.
DEFAULT_DEADLINE_S = 2.0
#: SQLite virtual machine steps between two looks at the clock.
_PROGRESS_STEPS = 10_000
#: Below this many characters the last word is searched whole even when asked as a prefix
#: (a one-letter prefix matches a good part of the vocabulary, and answers nobody).
MIN_PREFIX_CHARS = 2

_HIT_START, _HIT_END = "\x02", "\x03"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A checked search request (``build`` refuses what cannot be one, with ``UsageError``)."""

    text: str
    terms: tuple[tuple[str, str], ...]
    prefix: bool = False
    kind: str | None = None
    language: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    #: Any of the words, not all (BM25 still ranks documents holding more of them first):
    #: the seeds of a text for related resources, where no one document need hold them all.
    any_term: bool = False
    #: Facet filters: ``(facet, values)`` (``graph.search_documents.FACETS`` and ``kind``),
    #: all facets required, any value of one facet (AND across, OR within).
    facets: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def facet_values(self, facet: str) -> tuple[str, ...]:
        """The values the query filters ``facet`` by (none: not filtered)."""
        return next((values for name, values in self.facets if name == facet), ())

    def parameters(self) -> dict[str, object]:
        """The SQL parameters of the query's filters (``_FILTERS``): every value a parameter."""
        found: dict[str, object] = {
            "match": self.match_expression(),
            "kind": self.kind,
            "language": self.language,
            "year_from": self.year_from,
            "year_to": self.year_to,
        }
        for facet in (*FACETS, "kind"):
            values = self.facet_values(facet)
            found[f"f_{facet}"] = json.dumps(list(values)) if values else None
        return found

    @classmethod
    def build(
        cls,
        text: str,
        *,
        kind: str | None = None,
        language: str | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        limit: int = DEFAULT_LIMIT,
        offset: int = 0,
        prefix: bool = False,
        any_term: bool = False,
        facets: dict[str, list[str]] | None = None,
    ) -> SearchQuery:
        if len(text) > MAX_QUERY_CHARS:
            raise UsageError(f"the search text is longer than {MAX_QUERY_CHARS} characters")
        stripped = text.strip()
        if stripped.endswith("*"):
            prefix, stripped = True, stripped.rstrip("*")
        terms = tuple(query_terms(stripped))
        if not terms:
            raise UsageError("the search text has no word to look for")
        if len(terms) > MAX_TERMS:
            raise UsageError(f"the search text has more than {MAX_TERMS} words; ask with fewer")
        if any(kind_ == "cjk" and len(run) > MAX_CJK_RUN for kind_, run in terms):
            raise UsageError(
                f"a run of CJK characters is longer than {MAX_CJK_RUN}; ask with fewer"
            )
        kinds = sorted(set(kinds_by_class().values()))
        if kind is not None and kind not in kinds:
            raise UsageError(f"unknown kind {kind!r}; one of: {', '.join(kinds)}")
        if language is not None and not (
            language.isascii() and language.isalpha() and len(language) <= 8
        ):
            raise UsageError(f"a language is a code such as eng or chi, not {language!r}")
        for name, year in (("from", year_from), ("to", year_to)):
            if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
                raise UsageError(f"the year {name} must be between {MIN_YEAR} and {MAX_YEAR}")
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"the limit must be between 1 and {MAX_LIMIT}")
        if not 0 <= offset <= MAX_OFFSET:
            raise UsageError(f"the offset must be between 0 and {MAX_OFFSET}")
        chosen = _checked_facets(facets or {}, kinds)
        return cls(
            text,
            terms,
            prefix,
            kind,
            language and language.lower(),
            year_from,
            year_to,
            limit,
            offset,
            any_term,
            chosen,
        )

    def match_expression(self) -> str:
        """The FTS5 query: each term a quoted string (quotes doubled), all required."""
        parts = []
        for number, (kind, value) in enumerate(self.terms):
            last = number == len(self.terms) - 1
            if kind == "cjk":
                if len(value) == 1:
                    parts.append(
                        f"{_quoted(value)}*"
                    )  # a prefix of its bigrams, or a last character
                else:
                    parts.append(_quoted(" ".join(grams(value)[:-1])))  # the bigrams, in order
                continue
            star = "*" if last and self.prefix and len(value) >= MIN_PREFIX_CHARS else ""
            parts.append(_quoted(value) + star)
        return (" OR " if self.any_term else " ").join(parts)


def _checked_facets(facets: dict[str, list[str]], kinds: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Facet filters as a query holds them, or ``UsageError`` for what cannot be one."""
    known = (*FACETS, "kind")
    chosen = []
    for name in sorted(facets):
        if name not in known:
            raise UsageError(f"unknown facet {name!r}; one of: {', '.join(known)}")
        values = tuple(dict.fromkeys(v for v in facets[name] if v))
        if len(values) > MAX_FACET_VALUES:
            raise UsageError(f"at most {MAX_FACET_VALUES} values of the facet {name}")
        if any(len(v) > MAX_FACET_VALUE_CHARS for v in values):
            raise UsageError(f"a value of the facet {name} is longer than {MAX_FACET_VALUE_CHARS} characters")
        if name == "kind" and any(v not in kinds for v in values):
            raise UsageError(f"unknown kind; one of: {', '.join(kinds)}")
        if values:
            chosen.append((name, values))
    return tuple(chosen)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One resource found: what it is, how it is shown, and why it ranked."""

    iri: str
    kind: str
    label: str
    year: int | None
    languages: tuple[str, ...]
    score: float
    #: The best-weighted field that holds a term of the query (``title``, ``label``...).
    field: str
    #: The parallel forms the label was chosen among: ``(text, language tag or "")``.
    forms: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "iri": self.iri,
            "kind": self.kind,
            "label": self.label,
            "year": self.year,
            "languages": list(self.languages),
            "score": round(self.score, 4),
            "field": self.field,
        }


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A page of hits, best first; ``more``: another page follows."""

    query: SearchQuery
    hits: list[SearchHit] = field(default_factory=list)
    more: bool = False

    @property
    def iris(self) -> list[str]:
        """The hits' IRIs, best first (seeds for association retrieval)."""
        return [hit.iri for hit in self.hits]

    def as_json(self) -> dict[str, object]:
        q = self.query
        return {
            "query": q.text,
            "filters": {
                "kind": q.kind,
                "lang": q.language,
                "from": q.year_from,
                "to": q.year_to,
                "prefix": q.prefix,
                **{name: list(values) for name, values in q.facets},
            },
            "limit": q.limit,
            "offset": q.offset,
            "more": self.more,
            "hits": [hit.as_json() for hit in self.hits],
        }


_YEAR = "COALESCE(d.year, (SELECT min(i.year) FROM search_doc AS i WHERE i.work = d.iri))"
_LANGUAGES = "trim(d.languages || ' ' || COALESCE((SELECT w.languages FROM search_doc AS w WHERE w.iri = d.work), ''))"
#: The documents of a hit ``d`` whose facets count as its own: itself, its work (an instance
#: takes its work's subjects, contributors and languages) and its instances (a work takes
#: its editions' sources and types). Each is looked up from ``d`` by the primary key
#: (doc, facet, value): a filter costs a few index lookups per match, never a scan of the
#: documents that have a common value (``eng``).
_FAMILY_HAS = """(EXISTS (SELECT 1 FROM search_facet AS f
        WHERE f.doc = d.id AND f.facet = '{facet}' AND f.value IN (SELECT value FROM json_each(:f_{facet})))
     OR EXISTS (SELECT 1 FROM search_doc AS w CROSS JOIN search_facet AS f ON f.doc = w.id
        WHERE w.iri = d.work AND f.facet = '{facet}' AND f.value IN (SELECT value FROM json_each(:f_{facet})))
     OR EXISTS (SELECT 1 FROM search_doc AS i CROSS JOIN search_facet AS f ON f.doc = i.id
        WHERE i.work = d.iri AND f.facet = '{facet}' AND f.value IN (SELECT value FROM json_each(:f_{facet}))))"""
_FACET_FILTERS = "\n".join(
    f"  AND (:f_{facet} IS NULL OR {_FAMILY_HAS.format(facet=facet)})" for facet in FACETS
)
#: The WHERE clause of a search: the match and every filter, each a parameter (``parameters``).
FILTERS = f"""search_fts MATCH :match
  AND (:kind IS NULL OR d.kind = :kind)
  AND (:f_kind IS NULL OR d.kind IN (SELECT value FROM json_each(:f_kind)))
  AND (:language IS NULL OR instr(' ' || {_LANGUAGES} || ' ', ' ' || :language || ' ') > 0)
  AND (:year_from IS NULL OR {_YEAR} >= :year_from)
  AND (:year_to IS NULL OR {_YEAR} <= :year_to)
{_FACET_FILTERS}"""  # noqa: S608 - our own facet names; every value is a parameter
YEAR = _YEAR
_SELECT = f"""
SELECT d.iri, d.kind, d.label, {_YEAR} AS year, {_LANGUAGES} AS languages, d.forms,
       -bm25(search_fts, {", ".join(str(WEIGHTS[name]) for name in FIELDS)}) AS score,
       {", ".join(f"highlight(search_fts, {n}, char(2), char(3))" for n in range(len(FIELDS)))}
FROM search_fts JOIN search_doc AS d ON d.id = search_fts.rowid
WHERE {FILTERS}
ORDER BY score DESC, d.iri
LIMIT :limit OFFSET :offset
"""  # noqa: S608 - our own column names and weights; every value is a parameter


def index_file(checkpoint: Path | str) -> Path:
    """The search index a checkpoint carries."""
    return Path(checkpoint) / PUBLISHED_FILE


def open_index(checkpoint: Path | str | None) -> sqlite3.Connection:
    """A read-only connection to a checkpoint's search index (it never changes once published)."""
    if checkpoint is None:
        raise StoreError("there is no checkpoint to search yet; ingest some records first")
    path = index_file(checkpoint)
    if not path.is_file():
        raise StoreError(
            f"the checkpoint {checkpoint} has no search index (it was published by an earlier "
            "version); run `catalograph ingest` again, which publishes one with it"
        )
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def search(
    checkpoint: Path | str | None, query: SearchQuery, deadline_s: float = DEFAULT_DEADLINE_S
) -> SearchResult:
    """The page of hits ``query`` asks for, from the checkpoint at ``checkpoint``.

    Runs in the calling thread: bounded terms and pages make it fast, and
    SQLite's progress handler stops it at ``deadline_s`` whatever happens.
    """
    with closing(open_index(checkpoint)) as db:
        return search_in(db, query, deadline_s)


def search_in(
    db: sqlite3.Connection, query: SearchQuery, deadline_s: float = DEFAULT_DEADLINE_S
) -> SearchResult:
    """``search`` on an open index connection."""
    stop_at = time.monotonic() + deadline_s
    db.set_progress_handler(lambda: time.monotonic() > stop_at, _PROGRESS_STEPS)
    parameters = {**query.parameters(), "limit": query.limit + 1, "offset": query.offset}
    try:
        rows = db.execute(_SELECT, parameters).fetchall()
    except sqlite3.OperationalError as exc:
        if time.monotonic() > stop_at:
            raise QueryTimeoutError(
                f"the search took longer than {deadline_s:g} s and was stopped"
            ) from exc
        raise UsageError(f"cannot search for {query.text!r}: {exc}") from exc  # an unforeseen edge
    finally:
        db.set_progress_handler(None, 0)
    hits = [
        SearchHit(
            iri=row[0],
            kind=row[1],
            label=row[2],
            year=row[3],
            languages=tuple(dict.fromkeys(row[4].split())),
            score=row[6],
            field=_matched_field(row[7:]),
            forms=tuple((text, tag) for text, tag in json.loads(row[5])),
        )
        for row in rows[: query.limit]
    ]
    return SearchResult(query, hits, more=len(rows) > query.limit)


def _matched_field(highlighted: tuple[str | None, ...]) -> str:
    """The best-weighted field whose text FTS5 marked as holding a query term."""
    marked = [
        name for name, text in zip(FIELDS, highlighted, strict=True) if text and _HIT_START in text
    ]
    return max(marked, key=WEIGHTS.__getitem__) if marked else FIELDS[0]


def _quoted(text: str) -> str:
    """An FTS5 string: the text in double quotes, each double quote doubled."""
    return '"' + text.replace('"', '""') + '"'
