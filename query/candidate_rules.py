"""The rules of the match candidates: how two headings or two works are compared, and within which blocks.

Pure functions, no store: ``query.candidates`` reads the agents' headings and
the works' titles from the store, ``web.candidates_refresh`` keeps them by
block on disk (``graph.candidate_state``), and both compare a block's members
with ``agent_block_candidates`` and ``work_block_candidates``, so a refresh of
the blocks a change touched finds exactly what a rebuild of every block finds.
The rules themselves are described in ``query.candidates`` and
docs/candidates.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from rapidfuzz import fuzz

from graph.candidates import MatchCandidate
from query.reconcile import fold, split_dates

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


def blocking_keys(work: WorkTitle) -> set[tuple[str, str]]:
    """The blocks ``work`` is compared in: each primary contributor's family name, and the first
    three words of each title form (none without a title long enough to compare).

    >>> sorted(blocking_keys(WorkTitle("w", set(), set(), {"the mill on the floss"}, {"eliot"})))
    [('creator', 'eliot'), ('title', 'the mill on')]
    """
    if not work.titles:
        return set()
    keys = {("creator", family) for family in work.families}
    return keys | {("title", " ".join(title.split()[:3])) for title in work.titles}


# ------------------------------------------------------------------ a block's candidates


def chosen_heading(iri: str, labels: Iterable[str], minted: str) -> dict[str, Heading]:
    """The heading ``iri`` is compared with in each block (folded name) its labels put it in: of
    several labels with one folded name, the least in code-point order, so that the choice
    depends on the labels, never on the order a store returns them in.

    >>> m = "http://x/agent/"
    >>> chosen_heading(m + "k1", ["Eliot, George, 1819-1880", "Eliot, George"], m)["eliot george"].years
    ()
    """
    chosen: dict[str, Heading] = {}
    for label in sorted(labels):
        found = heading(iri, label, minted)
        if found.name:
            chosen.setdefault(found.name, found)
    return chosen


def agent_block_candidates(members: Sequence[Heading]) -> list[MatchCandidate]:
    """The candidates of one block of agents (one heading per agent, one folded name): every
    pair compared, in IRI order, unless the block is larger than ``MAX_BLOCK``."""
    if not 2 <= len(members) <= MAX_BLOCK:
        return []
    ordered = sorted(members, key=lambda h: h.iri)
    return [found for a, b in combinations(ordered, 2) if (found := compare_headings(a, b)) is not None]


def work_block_candidates(members: Sequence[WorkTitle]) -> list[MatchCandidate]:
    """The candidates of one block of works (one creator family name, or one start of a title):
    none if the block is larger than ``MAX_BLOCK`` or holds no open-access work."""
    if not 2 <= len(members) <= MAX_BLOCK or not any(w.open_access for w in members):
        return []
    ordered = sorted(members, key=lambda w: w.iri)
    return [found for a, b in combinations(ordered, 2) if (found := compare_works(a, b)) is not None]


