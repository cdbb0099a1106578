"""Reconciliation (OpenRefine's Reconciliation Service API, version 0.2) over the whole graph.

Catalogers match the names and titles of a spreadsheet to the graph from
OpenRefine: a batch of queries (``{"q0": {"query": "Mozart", "type": "agent",
"properties": [{"pid": "dates", "v": "1756-1791"}]}}``) comes back as ranked
candidates with a score from 0 to 100, a ``match`` flag OpenRefine may accept
on its own, and the features the score was made of. Data extension then
fetches facts of the matched resources as new columns.

Why the score is made here and not taken from the search index: full-text
ranking (BM25) says how well a text matches a document, not whether two
names denote the same thing; "Mozart, Wolfgang Amadeus, 1756-1791" and
"Mozart, Leopold, 1719-1787" rank alike for "Mozart". The search index only
finds candidates (``CandidateFinder``); each is then scored by how alike its
names are to the query's (rapidfuzz, on case- and diacritic-folded text,
dates apart) and by the properties the query gives: an identifier (ISBN,
LCCN, ISSN, an authority IRI) that agrees makes a certain match, other
properties (dates, roles, creators, years, languages, schemes) raise or lower
the score.

Every value a query gives reaches the store as a bound term (``substitutions``),
never as SPARQL text, and a batch is bounded (``MAX_QUERIES``, ``MAX_LIMIT``,
``MAX_PROPERTIES``, ``MAX_IDS``...), so a request's work is bounded too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from pyoxigraph import Literal, NamedNode, Store, Variable
from rapidfuzz import fuzz
from stdnum import isbn as isbn_number
from stdnum import issn as issn_number

from graph.search_text import fold as drop_untyped_marks
from ontology.errors import StoreError, UsageError
from ontology.namespaces import BF, LANGUAGES, MADS, PREFIXES, RDFS, RELATORS, SKOS
from query.search import SearchQuery, search
from query.subject_index import fold as fold_case_and_diacritics

#: Most queries in one batch (OpenRefine sends 10 by default).
MAX_QUERIES = 50
#: Most candidates one query may ask for.
MAX_LIMIT = 25
#: Candidates a query gets when it does not say.
DEFAULT_LIMIT = 5
#: Most properties one query may give, and values per property.
MAX_PROPERTIES = 10
MAX_VALUES = 10
#: Longest query text or property value, in characters.
MAX_TEXT = 500
#: Most bytes of a request's JSON (queries or extend).
MAX_REQUEST_BYTES = 64 * 1024
#: Most entities one data extension request may name, and properties it may fetch.
MAX_IDS = 100
MAX_EXTEND_PROPERTIES = 20
#: Most values of one property given for one entity (a prolific author's works).
MAX_CELL_VALUES = 50
#: Candidates asked of the search index per candidate returned: the score reorders them.
CANDIDATES_PER_RESULT = 4
#: A candidate at least this good, and this far ahead of the next, is a match OpenRefine may accept.
MATCH_SCORE = 90.0
MATCH_MARGIN = 10.0

_RQ = Path(__file__).resolve().parent / "rq"

#: Finds candidate IRIs for a text: ``(text, kind or None, how many) -> IRIs, best first``.
CandidateFinder = Callable[[str, "str | None", int], list[str]]


@dataclass(frozen=True, slots=True)
class ReconcileType:
    """A type a query may ask for: one kind of knowledge unit, and the classes that are it."""

    id: str
    name: str
    description: str
    classes: frozenset[str]


TYPES: dict[str, ReconcileType] = {
    t.id: t
    for t in (
        ReconcileType(
            "agent",
            "Agent",
            "a person, family, organisation or meeting",
            frozenset(
                {
                    BF.Agent.value,
                    BF.Person.value,
                    BF.Organization.value,
                    BF.Family.value,
                    BF.Meeting.value,
                    BF.Jurisdiction.value,
                }
            ),
        ),
        ReconcileType(
            "work",
            "Work",
            "a work: what editions and translations share",
            frozenset({BF.Work.value}),
        ),
        ReconcileType(
            "instance",
            "Instance",
            "an edition: a published form of a work",
            frozenset({BF.Instance.value, BF.Print.value, BF.Electronic.value}),
        ),
        ReconcileType(
            "concept",
            "Concept",
            "a subject or genre heading",
            frozenset({SKOS.Concept.value, BF.Topic.value, BF.GenreForm.value}),
        ),
        ReconcileType("place", "Place", "a geographic place", frozenset({BF.Place.value})),
    )
}
#: Each type's class IRIs name it too (a query may give ``bf:Agent``'s IRI).
_TYPE_ALIASES = {cls: t.id for t in TYPES.values() for cls in t.classes} | {
    t.id: t.id for t in TYPES.values()
}


@dataclass(frozen=True, slots=True)
class Property:
    """A property a query may give (to score) and data extension may fetch.

    ``rq``: the query that lists a resource's values (``?value``, and ``?name``
    for resources); ``kind``: how a value is returned (``entity``, ``str``,
    ``int``); ``identifier``: an agreeing value makes a certain match.
    """

    id: str
    name: str
    types: tuple[str, ...]
    rq: str
    kind: str = "str"
    identifier: bool = False
    bound: tuple[tuple[str, str], ...] = ()
    description: str = ""


PROPERTIES: dict[str, Property] = {
    p.id: p
    for p in (
        Property(
            "label",
            "Name or title",
            tuple(TYPES),
            "reconcile_entity",
            "str",
            description="every label: preferred, alternate and in other scripts",
        ),
        Property(
            "dates",
            "Dates (birth-death)",
            ("agent",),
            "reconcile_entity",
            "str",
            description="the years in the agent's heading, such as 1756-1791",
        ),
        Property(
            "authority",
            "Authority IRI",
            ("agent", "concept", "place", "work"),
            "reconcile_same_as",
            "str",
            identifier=True,
            description="id.loc.gov, GND, VIAF or ORCID IRI of the same thing",
        ),
        Property(
            "role",
            "Role (relator)",
            ("agent",),
            "reconcile_agent_roles",
            "str",
            description="a MARC relator code or IRI, such as cmp or aut",
        ),
        Property("works", "Works", ("agent",), "reconcile_agent_works", "entity"),
        Property(
            "creator",
            "Creators and contributors",
            ("work", "instance"),
            "reconcile_creators",
            "entity",
        ),
        Property("subject", "Subjects", ("work", "instance"), "reconcile_subjects", "entity"),
        Property(
            "language",
            "Languages",
            ("work", "instance"),
            "reconcile_languages",
            "str",
            description="a MARC language code, such as eng or chi",
        ),
        Property("instances", "Instances (editions)", ("work",), "reconcile_instances", "entity"),
        Property("work", "Work", ("instance",), "reconcile_work", "entity"),
        Property(
            "isbn",
            "ISBN",
            ("instance",),
            "reconcile_identifiers",
            "str",
            True,
            (("class", BF.Isbn.value),),
        ),
        Property(
            "lccn",
            "LCCN",
            ("instance",),
            "reconcile_identifiers",
            "str",
            True,
            (("class", BF.Lccn.value),),
        ),
        Property(
            "issn",
            "ISSN",
            ("instance",),
            "reconcile_identifiers",
            "str",
            True,
            (("class", BF.Issn.value),),
        ),
        Property("year", "Year", ("work", "instance"), "reconcile_dates", "int"),
        Property(
            "publisher", "Publication statement", ("instance",), "reconcile_publishers", "str"
        ),
        Property("scheme", "Scheme", ("concept", "place"), "reconcile_schemes", "entity"),
        Property("broader", "Broader concepts", ("concept",), "reconcile_broader", "entity"),
        Property("narrower", "Narrower concepts", ("concept",), "reconcile_narrower", "entity"),
    )
}

_LABEL_ORDER = (
    SKOS.prefLabel.value,
    MADS.authoritativeLabel.value,
    RDFS.label.value,
    SKOS.altLabel.value,
    SKOS.hiddenLabel.value,
)
#: A heading's parenthetical qualifier: "(Thomas Dean)", "(Firm)".
_QUALIFIER = re.compile(r"\([^)]*\)")
_YEAR = re.compile(r"(?<!\d)(\d{3,4})(?!\d)")
#: The dates that end a MARC heading: ", 1756-1791", ", 1942-", ", b. 1900", ", d. 1791.", ", fl. 1850"
_HEADING_DATES = re.compile(
    r"[,\s]*(?:(?:b|d|fl|ca|approximately|active|born|died)\.?\s*)?"
    r"\d{3,4}\??(?:\s*-\s*(?:\d{3,4}\??)?)?\.?\s*$|[,\s]*-\s*\d{3,4}\??\.?\s*$",
    re.IGNORECASE,
)


@cache
def sparql(name: str) -> str:
    """The text of ``query/rq/{name}.rq``."""
    return (_RQ / f"{name}.rq").read_text(encoding="utf-8")


# ------------------------------------------------------------------ requests


@dataclass(frozen=True, slots=True)
class PropertyValue:
    pid: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReconcileQuery:
    """One checked query of a batch."""

    text: str
    types: tuple[str, ...]
    limit: int
    properties: tuple[PropertyValue, ...]


def parse_json(raw: str | bytes, what: str) -> Any:
    """The JSON of a request parameter, or a ``UsageError`` naming it."""
    if len(raw) > MAX_REQUEST_BYTES:
        raise UsageError(
            f"the {what} are longer than {MAX_REQUEST_BYTES} bytes; send fewer at once"
        )
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"the {what} are not JSON: {exc}") from exc


def parse_queries(raw: str | bytes) -> dict[str, ReconcileQuery]:
    """A reconciliation query batch (the ``queries`` parameter), checked.

    >>> batch = parse_queries('{"q0": {"query": "Austen", "type": "agent", "limit": 3}}')
    >>> batch["q0"].text, batch["q0"].types, batch["q0"].limit
    ('Austen', ('agent',), 3)
    >>> parse_queries('{"q0": {"limit": 3}}')
    Traceback (most recent call last):
    ...
    ontology.errors.UsageError: query 'q0' has neither a "query" text nor "properties"
    """
    batch = parse_json(raw, "queries")
    if not isinstance(batch, dict):
        raise UsageError('the queries are a JSON object of queries by key, such as {"q0": {...}}')
    if len(batch) > MAX_QUERIES:
        raise UsageError(f"a batch holds at most {MAX_QUERIES} queries, not {len(batch)}")
    return {str(key)[:100]: _query(str(key)[:100], value) for key, value in batch.items()}


_QUERY_KEYS = frozenset({"query", "type", "limit", "properties", "type_strict"})


def _query(key: str, value: Any) -> ReconcileQuery:
    if not isinstance(value, dict):
        raise UsageError(f"query {key!r} is not a JSON object")
    unknown = set(value) - _QUERY_KEYS
    if unknown:
        raise UsageError(f"query {key!r} has unknown fields: {', '.join(sorted(unknown))}")
    text = value.get("query", "")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise UsageError(f'query {key!r}: "query" is a text of at most {MAX_TEXT} characters')
    raw_types = value.get("type", [])
    raw_types = [raw_types] if isinstance(raw_types, str) else raw_types
    if not isinstance(raw_types, list) or not all(isinstance(t, str) for t in raw_types):
        raise UsageError(f'query {key!r}: "type" is a type id or a list of them')
    types = []
    for given in raw_types[: len(TYPES)]:
        if given not in _TYPE_ALIASES:
            raise UsageError(
                f"query {key!r}: unknown type {given[:100]!r}; one of: {', '.join(TYPES)}"
            )
        types.append(_TYPE_ALIASES[given])
    limit = value.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 1:
        raise UsageError(f'query {key!r}: "limit" is a positive number')
    properties = _properties(key, value.get("properties", []))
    if not text.strip() and not properties:
        raise UsageError(f'query {key!r} has neither a "query" text nor "properties"')
    return ReconcileQuery(
        text.strip(), tuple(dict.fromkeys(types)), min(int(limit), MAX_LIMIT), properties
    )


def _properties(key: str, given: Any) -> tuple[PropertyValue, ...]:
    if not isinstance(given, list) or len(given) > MAX_PROPERTIES:
        raise UsageError(f'query {key!r}: "properties" is a list of at most {MAX_PROPERTIES}')
    found = []
    for item in given:
        if not isinstance(item, dict) or "pid" not in item or "v" not in item:
            raise UsageError(f'query {key!r}: each property is {{"pid": ..., "v": ...}}')
        pid = item["pid"]
        if pid not in PROPERTIES:
            raise UsageError(
                f"query {key!r}: unknown property {str(pid)[:100]!r}; one of: {', '.join(PROPERTIES)}"
            )
        values = item["v"] if isinstance(item["v"], list) else [item["v"]]
        texts = []
        for v in values[:MAX_VALUES]:
            if isinstance(v, dict) and isinstance(v.get("id"), str):
                v = v["id"]
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise UsageError(
                    f"query {key!r}: a value of {pid!r} is not a text, number or entity"
                )
            text = str(v).strip()[:MAX_TEXT]
            if text:
                texts.append(text)
        if texts:
            found.append(PropertyValue(pid, tuple(texts)))
    return tuple(found)


# ------------------------------------------------------------------ folding and comparing


def fold(text: str) -> str:
    """Text compared as catalogers compare headings: no case, diacritics, untyped
    romanisation marks or punctuation (``graph.search_text.fold`` then
    ``query.subject_index.fold``, the forms the indexes use, then words only).

    >>> fold("Dvořák, Antonín,")
    'dvorak antonin'
    >>> fold("Ḥākim al-Nīsābūrī, Muḥammad ibn ʻAbd Allāh")
    'hakim al nisaburi muhammad ibn abd allah'
    """
    folded = fold_case_and_diacritics(drop_untyped_marks(text))
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def split_dates(heading: str) -> tuple[str, tuple[int, ...]]:
    """A heading's name and the years that end it.

    >>> split_dates("Mozart, Wolfgang Amadeus, 1756-1791.")
    ('Mozart, Wolfgang Amadeus', (1756, 1791))
    >>> split_dates("Pollard, Thomas D. (Thomas Dean), 1942-")
    ('Pollard, Thomas D. (Thomas Dean)', (1942,))
    >>> split_dates("Austen, Jane")
    ('Austen, Jane', ())
    """
    found = _HEADING_DATES.search(heading)
    if not found or found.start() == 0:
        return heading.strip(), ()
    years = tuple(int(y) for y in _YEAR.findall(found.group()))
    return heading[: found.start()].strip(" ,"), years


def name_similarity(query: str, label: str) -> float:
    """0-100: how alike a query's name and a label are, word order aside, dates apart.

    A query that gives only some of a heading's words ("Thomas Pollard" for
    "Pollard, Thomas D. (Thomas Dean), 1942-", a title without its subtitle)
    scores by the words it shares, less the more words the heading has beyond
    them, so "Mozart" alone stays short of a match with any one Mozart.

    >>> name_similarity("Jane Austen", "Austen, Jane, 1775-1817")
    100.0
    >>> name_similarity("Thomas Pollard", "Pollard, Thomas D. (Thomas Dean), 1942-") > 90
    True
    >>> name_similarity("Mozart", "Mozart, Leopold, 1719-1787") < MATCH_SCORE
    True
    >>> name_similarity("Mozart, Wolfgang Amadeus", "Mozart, Leopold, 1719-1787") < 70
    True
    """
    q = fold(_QUALIFIER.sub(" ", split_dates(query)[0]))
    heading = fold(_QUALIFIER.sub(" ", split_dates(label)[0]))
    if not q or not heading:
        return 0.0
    whole = max(fuzz.token_sort_ratio(q, heading), fuzz.ratio(q, heading))
    shared = fuzz.token_set_ratio(q, heading)
    coverage = min(1.0, len(q.split()) / len(heading.split()))
    return float(round(max(whole, shared * (0.75 + 0.25 * coverage)), 1))


def normal_identifier(pid: str, value: str) -> str:
    """An identifier as the store's values are compared: ISBN-13, ISSN and LCCN compact.

    >>> normal_identifier("isbn", "0-07-162343-4 (pbk.)")
    '9780071623438'
    >>> normal_identifier("lccn", " 77-826928 ")
    '77826928'
    """
    text = value.strip()
    if pid == "isbn":
        digits = re.sub(r"[^0-9Xx]", "", text.split("(")[0])
        if isbn_number.is_valid(digits):
            return isbn_number.to_isbn13(digits)
        return digits.upper()
    if pid == "issn":
        digits = re.sub(r"[^0-9Xx]", "", text)
        return issn_number.compact(digits) if issn_number.is_valid(digits) else digits.upper()
    if pid == "lccn":
        return re.sub(r"[\s-]", "", text).lower()
    return text


def _years(values: Iterable[str]) -> set[int]:
    return {int(y) for v in values for y in _YEAR.findall(v)}


# ------------------------------------------------------------------ the service


@dataclass(slots=True)
class Candidate:
    """A resource considered for a query, with what scoring needs."""

    iri: str
    labels: list[str] = field(default_factory=list)
    types: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.labels[0] if self.labels else self.iri

    @property
    def kind(self) -> str | None:
        for t in TYPES.values():
            if self.types & t.classes:
                return t.id
        return None


class Reconciler:
    """Reconciliation, data extension and suggestions over one store (a read-only checkpoint)."""

    def __init__(self, store: Store, base: str, find: CandidateFinder) -> None:
        self.store = store
        self.base = base
        self.find = find

    # -- store access

    def _rows(self, name: str, limit: int = MAX_CELL_VALUES * 4, **bound: str) -> list:
        substitutions = {
            Variable(key): NamedNode(value) if key in ("s", "class") else Literal(value)
            for key, value in bound.items()
        }
        try:
            return list(
                islice(
                    self.store.query(
                        sparql(name),
                        prefixes=PREFIXES,
                        use_default_graph_as_union=True,
                        substitutions=substitutions,
                    ),
                    limit,
                )
            )
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc

    def candidate(self, iri: str) -> Candidate | None:
        """What the store says ``iri`` is called and is; ``None`` when it says nothing."""
        found = Candidate(iri)
        ranked: list[tuple[int, str]] = []
        for row in self._rows("reconcile_entity", s=iri):
            if row["type"] is not None:
                found.types.add(row["type"].value)
            elif row["label"] is not None:
                rank = _LABEL_ORDER.index(row["via"].value) if row["via"] is not None else 9
                ranked.append((rank, row["label"].value))
        found.labels = list(dict.fromkeys(label for _, label in sorted(ranked)))
        return found if found.types or found.labels else None

    def values(self, prop: Property, iri: str) -> list[tuple[str, str | None]]:
        """``(value, name)`` of ``prop`` for ``iri``: at most ``MAX_CELL_VALUES``."""
        if prop.id == "label":
            candidate = self.candidate(iri)
            return [(label, None) for label in (candidate.labels if candidate else [])]
        if prop.id == "dates":
            candidate = self.candidate(iri)
            years = split_dates(candidate.name)[1] if candidate else ()
            return [("-".join(str(y) for y in years), None)] if years else []
        rows = self._rows(prop.rq, s=iri, **dict(prop.bound))
        seen: dict[str, str | None] = {}
        for row in rows:
            value = row["value"].value
            name = row["name"].value if prop.kind == "entity" and row["name"] is not None else None
            if value not in seen or (seen[value] is None and name is not None):
                seen[value] = name
            if len(seen) >= MAX_CELL_VALUES:
                break
        return list(seen.items())

    # -- reconciliation

    def reconcile(self, batch: dict[str, ReconcileQuery]) -> dict[str, dict[str, list]]:
        """The result batch: for each query key, its candidates, best first."""
        return {key: {"result": self._reconcile_one(query)} for key, query in batch.items()}

    def _reconcile_one(self, query: ReconcileQuery) -> list[dict[str, Any]]:
        kinds = query.types or (None,)
        iris: dict[str, None] = {}
        for iri in self._by_identifier(query):
            iris[iri] = None
        if query.text:
            for kind in kinds:
                for iri in self._find(query.text, kind, query.limit * CANDIDATES_PER_RESULT):
                    iris[iri] = None
        scored = []
        for iri in islice(iris, MAX_LIMIT * CANDIDATES_PER_RESULT * len(kinds)):
            if iri.startswith(self.base + "graph/"):
                continue  # a node of one record (its title, its imprint's place): no page of its own
            candidate = self.candidate(iri)
            if candidate is None or (query.types and candidate.kind not in query.types):
                continue
            scored.append(self._score(query, candidate))
        scored.sort(key=lambda s: (-s["score"], s["name"], s["id"]))
        scored = scored[: query.limit]
        for number, result in enumerate(scored):
            ahead = result["score"] - (
                scored[number + 1]["score"] if number + 1 < len(scored) else 0
            )
            certain = any(f["id"].endswith("_exact") and f["value"] for f in result["features"])
            result["match"] = number == 0 and (
                certain or (result["score"] >= MATCH_SCORE and ahead >= MATCH_MARGIN)
            )
        return scored

    def _find(self, text: str, kind: str | None, limit: int) -> list[str]:
        """Candidates from the search index: the whole name, then its longest words alone.

        The index requires every word, so "Mozart, W. A., 1756-1791" would miss
        a heading without dates or initials; the retries catch those.
        """
        name = split_dates(text)[0] or text
        words = sorted((w for w in fold(name).split() if len(w) > 2), key=len, reverse=True)
        found = list(self._search(name, kind, limit))
        for attempt in (" ".join(words[:2]), words[0] if words else ""):
            if len(found) >= limit or not attempt:
                break
            found.extend(i for i in self._search(attempt, kind, limit) if i not in found)
        return found[:limit]

    def _search(self, text: str, kind: str | None, limit: int) -> list[str]:
        try:
            return self.find(text, kind, limit)
        except UsageError:  # nothing searchable in this text (punctuation only, say)
            return []

    def _by_identifier(self, query: ReconcileQuery) -> list[str]:
        found: list[str] = []
        for given in query.properties:
            prop = PROPERTIES[given.pid]
            if not prop.identifier:
                continue
            for value in given.values:
                if prop.id == "authority":
                    found.extend(self._by_authority(value))
                    continue
                normal = normal_identifier(prop.id, value)
                forms = {normal, value.strip()}
                if prop.id == "isbn" and normal.startswith("978") and isbn_number.is_valid(normal):
                    forms.add(isbn_number.to_isbn10(normal))  # records give either form
                for form in forms:
                    rows = self._rows(
                        "reconcile_by_identifier", limit=50, value=form, **dict(prop.bound)
                    )
                    found.extend(row["s"].value for row in rows)
        return list(dict.fromkeys(found))

    def _by_authority(self, value: str) -> list[str]:
        if not re.match(r"^https?://\S+$", value):
            return []
        try:
            iri = NamedNode(value).value
        except ValueError:
            return []
        found = [iri] if self.candidate(iri) is not None else []
        found.extend(v for v, _ in self.values(PROPERTIES["authority"], iri))
        return found

    def _score(self, query: ReconcileQuery, candidate: Candidate) -> dict[str, Any]:
        name = max((name_similarity(query.text, label) for label in candidate.labels), default=0.0)
        features: list[dict[str, Any]] = []
        if query.text:
            features.append({"id": "name", "value": round(name, 1)})
        agreements: list[float] = []
        certain = False
        for given in query.properties:
            agreement, exact = self._agreement(given, candidate)
            if exact:
                certain = True
                features.append({"id": f"{given.pid}_exact", "value": True})
            elif agreement is not None:
                features.append({"id": given.pid, "value": round(agreement, 2)})
                agreements.append(agreement)
        if not query.text:
            score = (
                100.0
                if certain
                else 50.0 * (sum(agreements) / len(agreements) if agreements else 0)
            )
        elif agreements:
            score = 0.7 * name + 30.0 * sum(agreements) / len(agreements)
        else:
            score = name
        if certain:
            score = 100.0
        kind = candidate.kind
        result: dict[str, Any] = {
            "id": candidate.iri,
            "name": candidate.name,
            "score": round(score, 1),
            "features": features,
            "match": False,
            "type": [{"id": kind, "name": TYPES[kind].name}] if kind else [],
        }
        description = self.describe(candidate)
        if description:
            result["description"] = description
        return result

    def _agreement(self, given: PropertyValue, candidate: Candidate) -> tuple[float | None, bool]:
        """How far ``candidate``'s values of a property agree with the query's (0-1, ``None``:
        it has none to compare), and whether an identifier agrees outright."""
        prop = PROPERTIES[given.pid]
        if candidate.kind not in prop.types:
            return None, False
        if prop.id == "dates":
            have = set(split_dates(candidate.name)[1])
            want = _years(given.values)
            if not have or not want:
                return None, False
            return len(have & want) / len(want), False
        values = self.values(prop, candidate.iri)
        if prop.id == "authority":
            have = {v for v, _ in values} | {candidate.iri}
            return (1.0, True) if have & set(given.values) else (None, False)
        if not values:
            return None, False
        if prop.identifier:
            have = {normal_identifier(prop.id, v) for v, _ in values}
            want = {normal_identifier(prop.id, v) for v in given.values}
            return (1.0, True) if have & want else (0.0, False)
        if prop.id == "year":
            have_years, want_years = _years(v for v, _ in values), _years(given.values)
            if not have_years or not want_years:
                return None, False
            return (1.0 if have_years & want_years else 0.0), False
        if prop.id == "role":
            have = {v.removeprefix(RELATORS.value) for v, _ in values}
            want = {v.strip().removeprefix(RELATORS.value).lower() for v in given.values}
            return (1.0 if have & want else 0.0), False
        if prop.id == "language":
            have = {v.removeprefix(LANGUAGES.value) for v, _ in values}
            want = {v.strip().removeprefix(LANGUAGES.value).lower() for v in given.values}
            return (1.0 if have & want else 0.0), False
        # entities and texts: the best name match of each wanted value, averaged
        have_texts = [name or value for value, name in values]
        have_iris = {value for value, _ in values}
        scores = []
        for want in given.values:
            if want in have_iris:
                scores.append(1.0)
            else:
                scores.append(max(name_similarity(want, h) for h in have_texts) / 100.0)
        return sum(scores) / len(scores), False

    def describe(self, candidate: Candidate) -> str:
        """A short line that tells namesakes apart: an edition's imprint, a work's creator..."""
        kind = candidate.kind
        parts: list[str] = []
        if kind == "instance":
            parts = [v for v, _ in self.values(PROPERTIES["publisher"], candidate.iri)[:1]]
        elif kind == "work":
            parts = [n or v for v, n in self.values(PROPERTIES["creator"], candidate.iri)[:2]]
        elif kind in ("concept", "place"):
            parts = [
                n or v.rstrip("/#").rsplit("/", 1)[-1]
                for v, n in self.values(PROPERTIES["scheme"], candidate.iri)[:1]
            ]
        elif kind == "agent":
            works = self.values(PROPERTIES["works"], candidate.iri)
            if works:
                more = "+" if len(works) >= MAX_CELL_VALUES else ""
                parts = [f"{len(works)}{more} work{'' if len(works) == 1 else 's'}"]
        return "; ".join(p for p in parts if p)[:300]

    # -- data extension

    @staticmethod
    def propose_properties(type_id: str, limit: int = len(PROPERTIES)) -> dict[str, Any]:
        """The properties data extension offers for a type."""
        kind = _TYPE_ALIASES.get(type_id)
        if kind is None:
            raise UsageError(f"unknown type {type_id[:100]!r}; one of: {', '.join(TYPES)}")
        proposed = [{"id": p.id, "name": p.name} for p in PROPERTIES.values() if kind in p.types][
            : max(1, limit)
        ]
        return {"type": kind, "properties": proposed}

    def extend(self, raw: str | bytes) -> dict[str, Any]:
        """A data extension response: for each entity, the values of each property asked."""
        request = parse_json(raw, "extension request")
        if not isinstance(request, dict):
            raise UsageError('the extension request is {"ids": [...], "properties": [{"id": ...}]}')
        ids, props = request.get("ids"), request.get("properties")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise UsageError('"ids" is a list of entity IRIs')
        if not isinstance(props, list) or not all(
            isinstance(p, dict) and isinstance(p.get("id"), str) for p in props
        ):
            raise UsageError('"properties" is a list of {"id": ...}')
        if len(ids) > MAX_IDS or len(props) > MAX_EXTEND_PROPERTIES:
            raise UsageError(
                f"an extension request names at most {MAX_IDS} ids and {MAX_EXTEND_PROPERTIES} properties"
            )
        wanted = []
        for p in props:
            if p["id"] not in PROPERTIES:
                raise UsageError(
                    f"unknown property {p['id'][:100]!r}; one of: {', '.join(PROPERTIES)}"
                )
            wanted.append(PROPERTIES[p["id"]])
        meta = [_meta(p) for p in wanted]
        rows: dict[str, dict[str, list]] = {}
        for iri in dict.fromkeys(ids):
            row: dict[str, list] = {p.id: [] for p in wanted}
            candidate = self._known(iri)
            if candidate is not None:
                for p in wanted:
                    if candidate.kind in p.types:
                        row[p.id] = [_cell(p, value, name) for value, name in self.values(p, iri)]
            rows[iri] = row
        return {"meta": meta, "rows": rows}

    def _known(self, iri: str) -> Candidate | None:
        try:
            NamedNode(iri)
        except ValueError:
            return None
        return self.candidate(iri)

    # -- suggest services

    def suggest_entities(self, prefix: str, type_id: str | None, limit: int = 10) -> dict[str, Any]:
        kind = _TYPE_ALIASES.get(type_id) if type_id else None
        if type_id and kind is None:
            raise UsageError(f"unknown type {type_id[:100]!r}; one of: {', '.join(TYPES)}")
        found = []
        text = prefix.strip()[:MAX_TEXT]
        for iri in self._search(text + "*", kind, min(limit, MAX_LIMIT)) if text else []:
            candidate = self.candidate(iri)
            if candidate is None:
                continue
            entry: dict[str, Any] = {"id": iri, "name": candidate.name}
            if candidate.kind:
                entry["notable"] = [{"id": candidate.kind, "name": TYPES[candidate.kind].name}]
            description = self.describe(candidate)
            if description:
                entry["description"] = description
            found.append(entry)
        return {"result": found}

    @staticmethod
    def suggest_types(prefix: str) -> dict[str, Any]:
        wanted = fold(prefix)
        return {
            "result": [
                {"id": t.id, "name": t.name, "description": t.description}
                for t in TYPES.values()
                if not wanted or wanted in fold(t.name) or wanted in fold(t.description)
            ]
        }

    @staticmethod
    def suggest_properties(prefix: str) -> dict[str, Any]:
        wanted = fold(prefix)
        result = []
        for p in PROPERTIES.values():
            if wanted and wanted not in fold(p.name) and wanted not in fold(p.id):
                continue
            entry = {"id": p.id, "name": p.name}
            if p.description:
                entry["description"] = p.description
            result.append(entry)
        return {"result": result}

    # -- preview

    def preview(self, iri: str) -> tuple[Candidate, list[tuple[str, list[str]]]] | None:
        """What a preview shows of ``iri``: the candidate and a few facts, by property name."""
        candidate = self._known(iri)
        if candidate is None:
            return None
        facts = []
        for p in PROPERTIES.values():
            if (
                candidate.kind not in p.types
                or p.id == "label"
                or p.kind == "entity"
                and p.id in ("works", "instances")
            ):
                continue
            shown = [name or value for value, name in self.values(p, iri)[:5]]
            if shown:
                facts.append((p.name, shown))
        return candidate, facts


def _meta(prop: Property) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": prop.id, "name": prop.name}
    if prop.kind == "entity":
        targets = {
            "works": "work",
            "creator": "agent",
            "subject": "concept",
            "instances": "instance",
            "work": "work",
            "scheme": "concept",
            "broader": "concept",
            "narrower": "concept",
        }
        target = targets.get(prop.id)
        if target:
            entry["type"] = {"id": target, "name": TYPES[target].name}
    return entry


def _cell(prop: Property, value: str, name: str | None) -> dict[str, Any]:
    """One value of a data extension cell, in the form the specification gives for its kind."""
    if prop.kind == "entity":
        return {"id": value, "name": name or value}
    if prop.kind == "int":
        years = sorted(_years([value]))
        return {"int": years[0]} if years else {"str": value}
    return {"str": value}


def manifest(service_url: str, base: str, documentation: str | None = None) -> dict[str, Any]:
    """The service manifest OpenRefine reads when the service is added.

    ``service_url``: where this endpoint answers, without a trailing slash; the
    suggest, preview and extension services are paths under it.
    """
    found: dict[str, Any] = {
        "versions": ["0.1", "0.2"],
        "name": "Catalograph",
        "identifierSpace": base,
        "schemaSpace": "https://w3id.org/catalograph/ontology#",
        "view": {"url": "{{id}}"},
        "defaultTypes": [{"id": t.id, "name": t.name} for t in TYPES.values()],
        "preview": {"url": service_url + "/preview?id={{id}}", "width": 400, "height": 180},
        "suggest": {
            kind: {"service_url": service_url, "service_path": f"/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {
                "service_url": service_url,
                "service_path": "/propose_properties",
            },
            "property_settings": [],
        },
    }
    if documentation:
        found["documentation"] = documentation
    return found


# ------------------------------------------------------------------ as a worker's job


def search_finder(checkpoint: str) -> CandidateFinder:
    """Candidates from the seed-search index the checkpoint at ``checkpoint`` carries."""

    def find(text: str, kind: str | None, limit: int) -> list[str]:
        prefix = text.endswith("*")
        query = SearchQuery.build(text.rstrip("*"), kind=kind, limit=min(limit, 100), prefix=prefix)
        return search(checkpoint, query).iris

    return find


class ReconcileJob(NamedTuple):
    """One reconciliation request for a query worker (killed at its deadline, as pages are).

    ``operation``: ``reconcile`` (``payload``: the queries' JSON), ``extend``
    (the extension request's JSON), ``suggest`` (``payload``: the prefix,
    ``type_id``: the type or ""), or ``preview`` (``payload``: the entity's IRI).
    """

    store_path: str
    base: str
    operation: str
    payload: str
    type_id: str = ""

    def run(self, store: Store) -> Any:
        reconciler = Reconciler(store, self.base, search_finder(self.store_path))
        if self.operation == "reconcile":
            return reconciler.reconcile(parse_queries(self.payload))
        if self.operation == "extend":
            return reconciler.extend(self.payload)
        if self.operation == "suggest":
            return reconciler.suggest_entities(self.payload, self.type_id or None)
        if self.operation == "preview":
            return reconciler.preview(self.payload)
        raise UsageError(f"unknown reconciliation operation {self.operation!r}")
