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
  heading and the same heading without the link (``agent-authority``); with
  lower scores, below ``THRESHOLD``, an ORCID iD and the same name without it
  (an ORCID names an author, not a heading, and namesakes among authors are
  many), dates that nearly agree (one year off by
  one or by a digit: a typo, an uncertain birth year) and the same heading
  under two authority files (a Crossref funder DOI and a ROR IRI,
  ``agent-authorities``). Headings with dates that disagree otherwise name two
  people and are not proposed; neither are two IRIs of one authority file
  (it keeps its namesakes apart);
- **works** from different sources (a catalogue record and an open-access
  record, or two open-access sources: the source is the first segment of the
  record graph's name, and the open-access ones are those the caller names,
  ``web.candidates_command`` those of ``ingest.scholarly`` and ``ingest.oai``,
  since query never imports ingest). Works are units shared by the records
  whose normalised creator and title keys agree (``ingest.marc.works``,
  ``ingest.scholarly.mapper``); what is left are works whose keys differ
  (a name with initials or dates, a subtitle, a typo) and whose folded
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


def _dates_nearly_agree(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether two headings' years differ only as a typo or an uncertain year does: the same
    number of years, all but one equal, and that one off by one or by one digit.

    >>> _dates_nearly_agree((1913, 1987), (1913, 1988)), _dates_nearly_agree((1897, 1959), (1897, 1950))
    (True, True)
    >>> _dates_nearly_agree((1769, 1821), (1876, 1815)), _dates_nearly_agree((1900,), (1957,))
    (False, False)
    """
    if len(a) != len(b) or not a:
        return False
    differ = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(differ) != 1:
        return False
    x, y = differ[0]
    digits = sum(p != q for p, q in zip(str(x), str(y), strict=False))
    return abs(x - y) <= 1 or (len(str(x)) == len(str(y)) and digits == 1)


def _host(iri: str) -> str:
    return iri.split("/")[2] if iri.count("/") >= 2 else iri


def _years(years: tuple[int, ...]) -> str:
    return "-".join(map(str, years)) + ("-" if len(years) == 1 else "")


def compare_headings(a: Heading, b: Heading) -> MatchCandidate | None:
    """The candidate two headings with the same folded name make, or ``None`` if they are not one.

    >>> m = "http://x/agent/"
    >>> compare_headings(heading(m + "k1", "Eliot, George, 1819-1880", m),
    ...                  heading(m + "k2", "Eliot, George", m)).reasons
    ('same name without dates',)
    >>> compare_headings(heading(m + "k1", "Eliot, George, 1819-1880", m),
    ...                  heading(m + "k2", "Eliot, George, 1900-1950", m)) is None
    True
    >>> compare_headings(heading("https://orcid.org/0000-0002-7676-917X", "Fenton, Andy", m),
    ...                  heading(m + "k3", "Fenton, Andy", m)).score
    0.85
    >>> compare_headings(heading("https://ror.org/021nxhr62", "National Science Foundation", m),
    ...                  heading("https://doi.org/10.13039/100000001", "National Science Foundation", m)).score
    0.85
    """
    if a.iri == b.iri or a.name != b.name or not a.name:
        return None
    reasons = []
    if a.authority and b.authority:
        # one authority file keeps its namesakes apart; two files (a funder DOI, a ROR) may agree
        if _host(a.iri) == _host(b.iri) or a.years != b.years:
            return None
        rule, score = "agent-authorities", 0.85
        reasons.append(f"same heading under two authorities ({_host(a.iri)}, {_host(b.iri)})")
    elif not _dates_agree(a.years, b.years):
        if not _dates_nearly_agree(a.years, b.years):
            return None  # two people of one name
        rule, score = "agent-dates", 0.8
        reasons.append(
            f"same name, dates {_years(a.years)} and {_years(b.years)} nearly agree "
            "(a typo or an uncertain year?)"
        )
    elif "orcid.org" in (_host(a.iri) if a.authority else _host(b.iri)):
        # an ORCID iD names an author, not a heading: namesakes among authors are many
        rule, score = "agent-authority", 0.85
        reasons.append("same name, one with an ORCID iD and one without")
    elif a.authority or b.authority:
        rule, score = "agent-authority", 0.97
        reasons.append("same heading, one linked to an authority and one without the link")
    elif a.years == b.years:
        rule, score = "agent-punctuation", 0.98
        reasons.append("same heading but for punctuation or case")
    else:
        rule, score = "agent-dates", 0.93
    if a.years != b.years and _dates_agree(a.years, b.years):
        if not a.years or not b.years:
            reasons.append("same name without dates")
            score -= 0.03 if rule == "agent-authority" else 0.0
        else:
            short, long = sorted((a.years, b.years), key=len)
            reasons.append(f"dates {_years(short)} and {_years(long)} agree")
            score += 0.02
    if _initials_only(a.name):
        score -= 0.15
        reasons.append("a short heading (one word, or a family name and initials)")
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
    """One work as compared: the sources of the records that describe it (and which of them are
    open-access), its folded titles (whole, and before a subtitle's colon) and its primary
    contributors' family names."""

    iri: str
    sources: set[str]
    open_access: set[str]
    titles: set[str]
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


def title_forms(title: str) -> set[str]:
    """A title folded whole and without its subtitle (what follows the first colon), when long
    enough to say something (``MIN_TITLE_WORDS``).

    >>> sorted(title_forms("Automated histology of roots : an image-based approach"))
    ['automated histology of roots', 'automated histology of roots an image based approach']
    >>> title_forms("Selections")
    set()
    """
    forms = {fold(title), fold(title.split(":", 1)[0])}
    return {form for form in forms if len(form.split()) >= MIN_TITLE_WORDS}


def _source(graph: str, layout: Layout) -> str:
    return graph[len(layout.graphs) :].split("/", 1)[0]


def title_similarity(a: str, b: str) -> float:
    """0-1: how alike two folded titles are, word order aside.

    >>> title_similarity("the mill on the floss", "mill on the floss the")
    1.0
    """
    return round(max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a, b)) / 100, 3)


def _across_sources(a: WorkTitle, b: WorkTitle) -> bool:
    """Whether a record of one and a record of the other come from different sources, one of
    them open-access (two catalogue records of a work share its key already, or do not)."""
    return any(x != y and (x in a.open_access or y in b.open_access) for x in a.sources for y in b.sources)


def compare_works(a: WorkTitle, b: WorkTitle) -> MatchCandidate | None:
    """The candidate two works described by different sources make, or ``None``.

    >>> title = {"the mill on the floss a novel"}
    >>> a = WorkTitle("http://x/work/k1", {"marc"}, set(), title, {"eliot"})
    >>> b = WorkTitle("http://x/work/k2", {"crossref"}, {"crossref"}, title, {"eliot"})
    >>> compare_works(a, b).reasons
    ('title similarity 1.00, same first author family name',)
    >>> compare_works(a, WorkTitle(b.iri, {"crossref"}, {"crossref"}, title, {"smith"})) is None
    True
    >>> compare_works(a, WorkTitle(b.iri, {"dlc"}, set(), title, {"eliot"})) is None  # catalogue only
    True
    """
    if a.iri == b.iri or not _across_sources(a, b):
        return None
    similarity, short = max(
        (title_similarity(x, y), min(len(x.split()), len(y.split()))) for x in a.titles for y in b.titles
    )
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
    if short < 5:
        score -= 0.05
        reason += f", a short title ({short} words)"
    return MatchCandidate(a.iri, b.iri, "work-title", round(score, 3), (reason,))


def _blocking_keys(work: WorkTitle) -> Iterable[tuple[str, str]]:
    yield from (("creator", family) for family in work.families)
    yield from (("title", " ".join(title.split()[:3])) for title in work.titles)


def work_candidates(store: Store, layout: Layout, open_access: Set[str]) -> list[MatchCandidate]:
    """Works described by different sources that may be one: close titles, a shared creator
    (module docstring); ``open_access``: the sources of open-access record graphs."""
    works: dict[str, WorkTitle] = {}
    for row in _rows(store, "candidate_works", layout):
        iri = row["work"].value
        work = works.get(iri)
        if work is None:
            work = works[iri] = WorkTitle(iri, set(), set(), set(), set())
        source = _source(row["g"].value, layout)
        work.sources.add(source)
        if source in open_access:
            work.open_access.add(source)
        work.titles |= title_forms(row["title"].value)
        if row["creator"] is not None and (family := family_name(row["creator"].value)):
            work.families.add(family)
    blocks: dict[tuple[str, str], list[WorkTitle]] = defaultdict(list)
    for work in works.values():
        if work.titles:
            for key in set(_blocking_keys(work)):
                blocks[key].append(work)
    found: dict[tuple[str, str], MatchCandidate] = {}
    for members in blocks.values():
        if len(members) > MAX_BLOCK or not any(w.open_access for w in members):
            continue
        for a, b in combinations(members, 2):
            if (a.iri, b.iri) in found or (b.iri, a.iri) in found:
                continue
            candidate = compare_works(a, b)
            if candidate is not None:
                found[candidate.pair] = candidate
    return list(found.values())


# ------------------------------------------------------------------ all, and what is stored


def _already_one(store: Store) -> set[tuple[str, str]]:
    pairs = set()
    for row in store.query(sparql("candidate_same_as"), prefixes=PREFIXES, use_default_graph_as_union=True):
        a, b = row["a"].value, row["b"].value
        pairs.add((a, b) if a <= b else (b, a))
    return pairs


def has_open_access_works(store: Store, layout: Layout, open_access: Set[str]) -> bool:
    """Whether a record graph of an open-access source links a work (else no work is compared:
    a catalogue's own works met by their keys at ingest, and reading them all would be waste)."""
    for source in sorted(open_access):
        rows = store.query(
            sparql("candidate_open_access"),
            prefixes=PREFIXES,
            use_default_graph_as_union=True,
            substitutions={Variable("prefix"): Literal(f"{layout.graphs}{source}/")},
        )
        if next(iter(rows), None) is not None:
            return True
    return False


def find_candidates(store: Store, layout: Layout, open_access: Set[str]) -> list[MatchCandidate]:
    """Every candidate of the store, strongest first, at most ``MAX_CANDIDATES``, none of a
    pair already said to be one (``owl:sameAs``); ``open_access`` as for ``work_candidates``."""
    one = _already_one(store)
    works = work_candidates(store, layout, open_access) if has_open_access_works(store, layout, open_access) else []
    found = [c for c in agent_candidates(store, layout) + works if c.pair not in one]
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
    #: ``pending``, ``accepted`` or ``rejected`` (the local name of its ``cg:status``).
    status: str


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
            row["status"].value.rsplit("#", 1)[-1].lower(),
        )  # fmt: skip
        for row in rows
    ]
