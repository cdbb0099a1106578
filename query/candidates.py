"""Match candidates: pairs that names and titles alone bring together, with a score and reasons.

A shared DOI, ORCID, ISBN or authority IRI already makes two descriptions one
node (``ingest``); nothing here merges anything. What is found here are the
pairs a cataloger should look at, written by ``graph.candidates`` into a
derived graph to be accepted or rejected:

- **agents** that are units of their own (minted from a MARC heading, or an
  authority, ORCID or ROR IRI) whose headings, folded as catalogers compare
  them (``query.reconcile.fold``) and without their dates
  (``query.reconcile.split_dates``), are the same: the same heading but for
  punctuation (``agent-punctuation``), one with dates and one without, or
  dates one of which extends the other (``agent-dates``), an authority-linked
  heading and the same heading without the link (``agent-authority``). Two
  headings with dates that disagree name two people and are not proposed;
  neither are two different authority IRIs (the authorities keep them apart);
- **works** from different sources (a catalogue record and an open-access
  record, or two open-access sources: the source is the first segment of the
  record graph's name, and the open-access ones are those the caller names,
  ``web.candidates_command`` those of ``ingest.scholarly`` and ``ingest.oai``,
  since query never imports ingest; two catalogue records of a work already
  share its work unit, ``ingest.marc``) whose folded
  titles agree closely (rapidfuzz ``token_sort_ratio``) and whose primary
  contributors share a family name (``work-title``).

Work stays bounded: pairs are only compared inside a block (the same folded
name; the same creator family name or the same first title words), a block
of more than ``MAX_BLOCK`` members is skipped (a very common name says
nothing), and the candidates are at most ``MAX_CANDIDATES``.

The score is a rule's confidence, adjusted for how much the name or title
says: a heading whose given names are only initials, or a title of few
words, scores lower. ``THRESHOLD`` is the score at and above which a
candidate would be merged; its precision is measured on pairs labelled by
hand (``tests/data/candidates/labelled.tsv``, ``tests/test_query_candidates.py``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Store, Variable
from rapidfuzz import fuzz

from graph.candidates import MatchCandidate, candidates_graph
from ontology.layout import Layout
from ontology.namespaces import PREFIXES
from query.reconcile import fold, split_dates

_RQ = Path(__file__).resolve().parent / "rq"

#: At and above this score a candidate would have been merged (precision measured by hand).
THRESHOLD = 0.9
#: A block with more members than this is skipped: a name that common tells nothing.
MAX_BLOCK = 40
#: Most candidates kept (the strongest), so a pathological store cannot fill the graph.
MAX_CANDIDATES = 50_000
#: Below this title similarity (0-1) two works are not proposed at all.
MIN_TITLE_SIMILARITY = 0.9
#: Words a work's title must have to be compared across sources ("Selections" says nothing).
MIN_TITLE_WORDS = 3

#: A parenthesised fuller form or qualifier: "(Thomas Dean)".
_QUALIFIER = re.compile(r"\([^)]*\)")


@cache
def sparql(name: str) -> str:
    """The text of ``query/rq/{name}.rq``."""
    return (_RQ / f"{name}.rq").read_text(encoding="utf-8")


def _rows(store: Store, name: str, layout: Layout) -> Iterator:
    yield from store.query(
        sparql(name),
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={Variable("graphs"): Literal(layout.graphs)},
    )


# ------------------------------------------------------------------ agents


@dataclass(frozen=True, slots=True)
class Heading:
    """One agent's heading, taken apart for comparison."""

    iri: str
    label: str
    name: str
    years: tuple[int, ...]
    authority: bool


def heading(iri: str, label: str, minted: str) -> Heading:
    """``label`` of the agent ``iri`` as compared: folded name, years, whether an authority IRI.

    >>> h = heading("http://x/agent/k1", "Pollard, Thomas D. (Thomas Dean), 1942-", "http://x/agent/")
    >>> h.name, h.years, h.authority
    ('pollard thomas d thomas dean', (1942,), False)
    """
    name, years = split_dates(label)
    return Heading(iri, label, fold(name), years, not iri.startswith(minted))


def _dates_agree(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether two headings' years can be one person's: equal, one absent, or one extends the other.

    >>> _dates_agree((1942,), (1942, 2020)), _dates_agree((), (1900,)), _dates_agree((1900,), (1901,))
    (True, True, False)
    """
    if not a or not b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return long[: len(short)] == short


def _initials_only(name: str) -> bool:
    """Whether a folded heading gives nothing but the family name and initials.

    >>> _initials_only("barbiero l"), _initials_only("pollard thomas d")
    (True, False)
    """
    words = name.split()
    return len(words) < 2 or all(len(w) == 1 for w in words[1:])


def compare_headings(a: Heading, b: Heading) -> MatchCandidate | None:
    """The candidate two headings with the same folded name make, or ``None`` if they are not one.

    >>> m = "http://x/agent/"
    >>> compare_headings(heading(m + "k1", "Eliot, George, 1819-1880", m),
    ...                  heading(m + "k2", "Eliot, George", m)).reasons
    ('same name without dates',)
    >>> compare_headings(heading(m + "k1", "Eliot, George, 1819-1880", m),
    ...                  heading(m + "k2", "Eliot, George, 1900-1950", m)) is None
    True
    """
    if a.iri == b.iri or a.name != b.name or not a.name or (a.authority and b.authority):
        return None
    if not _dates_agree(a.years, b.years):
        return None
    reasons = []
    if a.authority or b.authority:
        rule, score = "agent-authority", 0.97
        reasons.append("same heading, one linked to an authority and one without the link")
    elif a.years == b.years:
        rule, score = "agent-punctuation", 0.98
        reasons.append("same heading but for punctuation or case")
    else:
        rule, score = "agent-dates", 0.93
    if a.years != b.years:
        if not a.years or not b.years:
            reasons.append("same name without dates")
            score -= 0.03 if rule == "agent-authority" else 0.0
        else:
            shown = sorted((a.years, b.years), key=len)
            reasons.append(
                f"dates {'-'.join(map(str, shown[0]))}- and {'-'.join(map(str, shown[1]))} agree"
            )
            score += 0.02
    if _initials_only(a.name):
        score -= 0.15
        reasons.append("only a family name and initials")
    return MatchCandidate(a.iri, b.iri, rule, round(min(score, 0.99), 3), tuple(reasons))


def agent_candidates(store: Store, layout: Layout) -> list[MatchCandidate]:
    """Agents that may be one: same folded heading without dates (module docstring)."""
    minted = f"{layout.base}agent/"
    blocks: dict[str, dict[str, Heading]] = defaultdict(dict)
    for row in _rows(store, "candidate_agents", layout):
        found = heading(row["agent"].value, row["label"].value, minted)
        if found.name:
            blocks[found.name].setdefault(found.iri, found)
    candidates = []
    for members in blocks.values():
        if 2 <= len(members) <= MAX_BLOCK:
            for a, b in combinations(sorted(members.values(), key=lambda h: h.iri), 2):
                if (found := compare_headings(a, b)) is not None:
                    candidates.append(found)
    return candidates


# ------------------------------------------------------------------ works


@dataclass(slots=True)
class WorkTitle:
    """One work as compared: its source (and whether an open-access one), folded title and its
    creators' family names."""

    iri: str
    source: str
    open_access: bool
    title: str
    families: set[str]


def family_name(label: str) -> str:
    """The folded family name of an agent's label ("Family, Given" or "Given Family").

    >>> family_name("Dvořák, Antonín, 1841-1904"), family_name("Andy Fenton"), family_name("")
    ('dvorak', 'fenton', '')
    """
    name = _QUALIFIER.sub(" ", split_dates(label)[0])
    if "," in name:
        return fold(name.split(",", 1)[0])
    words = fold(name).split()
    return words[-1] if words else ""


def _source(graph: str, layout: Layout) -> str:
    return graph[len(layout.graphs) :].split("/", 1)[0]


def title_similarity(a: str, b: str) -> float:
    """0-1: how alike two folded titles are, word order aside.

    >>> title_similarity("the mill on the floss", "mill on the floss the")
    1.0
    """
    return round(max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a, b)) / 100, 3)


def compare_works(a: WorkTitle, b: WorkTitle) -> MatchCandidate | None:
    """The candidate two works of different sources make, or ``None``.

    >>> title = "the mill on the floss a novel"
    >>> a = WorkTitle("http://x/graph/marc/1#work-1", "marc", False, title, {"eliot"})
    >>> b = WorkTitle("http://x/graph/crossref/2#work-1", "crossref", True, title, {"eliot"})
    >>> compare_works(a, b).reasons
    ('title similarity 1.00, same first author family name',)
    >>> compare_works(a, WorkTitle(b.iri, "crossref", True, b.title, {"smith"})) is None
    True
    >>> compare_works(a, WorkTitle(b.iri, "dlc", False, b.title, {"eliot"})) is None  # two catalogue records
    True
    """
    if a.source == b.source or a.iri == b.iri or not (a.open_access or b.open_access):
        return None
    similarity = title_similarity(a.title, b.title)
    if similarity < MIN_TITLE_SIMILARITY:
        return None
    if a.families and b.families:
        if not a.families & b.families:
            return None
        score = similarity - 0.01
        reason = f"title similarity {similarity:.2f}, same first author family name"
    else:
        score = similarity - 0.12
        reason = f"title similarity {similarity:.2f}, no author on one side to compare"
    words = min(len(a.title.split()), len(b.title.split()))
    if words < 5:
        score -= 0.05
        reason += f", a short title ({words} words)"
    return MatchCandidate(a.iri, b.iri, "work-title", round(score, 3), (reason,))


def _blocking_keys(work: WorkTitle) -> Iterable[tuple[str, str]]:
    yield from (("creator", family) for family in work.families)
    yield ("title", " ".join(work.title.split()[:3]))


def work_candidates(store: Store, layout: Layout, open_access: Set[str]) -> list[MatchCandidate]:
    """Works of different sources that may be one: close titles, a shared creator (module
    docstring); ``open_access``: the sources of open-access record graphs."""
    works: dict[str, WorkTitle] = {}
    for row in _rows(store, "candidate_works", layout):
        iri = row["work"].value
        work = works.get(iri)
        if work is None:
            source = _source(row["g"].value, layout)
            work = works[iri] = WorkTitle(
                iri, source, source in open_access, fold(row["title"].value), set()
            )
        if row["creator"] is not None and (family := family_name(row["creator"].value)):
            work.families.add(family)
    blocks: dict[tuple[str, str], list[WorkTitle]] = defaultdict(list)
    for work in works.values():
        if len(work.title.split()) >= MIN_TITLE_WORDS:
            for key in _blocking_keys(work):
                blocks[key].append(work)
    found: dict[tuple[str, str], MatchCandidate] = {}
    for members in blocks.values():
        if (
            len(members) > MAX_BLOCK
            or len({w.source for w in members}) < 2
            or not any(w.open_access for w in members)
        ):
            continue
        for a, b in combinations(members, 2):
            candidate = compare_works(a, b)
            if candidate is not None:
                found.setdefault(candidate.pair, candidate)
    return list(found.values())


# ------------------------------------------------------------------ all, and what is stored


def _already_one(store: Store) -> set[tuple[str, str]]:
    pairs = set()
    for row in store.query(sparql("candidate_same_as"), prefixes=PREFIXES, use_default_graph_as_union=True):
        a, b = row["a"].value, row["b"].value
        pairs.add((a, b) if a <= b else (b, a))
    return pairs


def find_candidates(store: Store, layout: Layout, open_access: Set[str]) -> list[MatchCandidate]:
    """Every candidate of the store, strongest first, at most ``MAX_CANDIDATES``, none of a
    pair already said to be one (``owl:sameAs``); ``open_access`` as for ``work_candidates``."""
    one = _already_one(store)
    found = [
        c for c in agent_candidates(store, layout) + work_candidates(store, layout, open_access)
        if c.pair not in one
    ]  # fmt: skip
    found.sort(key=lambda c: (-c.score, c.pair))
    return found[:MAX_CANDIDATES]


@dataclass(frozen=True, slots=True)
class StoredCandidate:
    """A candidate as the derived graph holds it, with a label of each side."""

    iri: str
    first: str
    second: str
    rule: str
    score: float
    reasons: tuple[str, ...]
    first_label: str
    second_label: str


def stored_candidates(store: Store, layout: Layout) -> list[StoredCandidate]:
    """The candidates in the store's derived graph, strongest first."""
    rows = store.query(
        sparql("candidates_list"),
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={Variable("graph"): NamedNode(candidates_graph(layout).value)},
    )
    return [
        StoredCandidate(
            row["candidate"].value, row["first"].value, row["second"].value, row["rule"].value,
            float(row["score"].value),
            tuple(sorted(row["reasons"].value.split("\n"))) if row["reasons"] is not None else (),
            row["firstName"].value if row["firstName"] is not None else "",
            row["secondName"].value if row["secondName"] is not None else "",
        )  # fmt: skip
        for row in rows
    ]
