"""Every kind of resource listed in a fixed order: alphabetically or by use, with a letter jump.

Sorting a hundred thousand labels for each request would cost a second; an
``OFFSET`` deep into an ``ORDER BY`` as much. So the orders are computed
once per checkpoint (``BrowseIndex.build``, about a second at 100,000
records) and a page is a slice of a precomputed array: whatever the page
number, it costs the same few lookups.

Where the pieces come from:

- the resources, their kind and the one label they sort by: the
  checkpoint's search index (``search_doc``, written with the store in one
  transaction, so it lists what the checkpoint holds);
- how many resources use each unit: the association index of the same
  checkpoint (``AssociationIndex.df``: works that use it, an instance's units
  counted for its work; for a work, its editions), so a browse count, the
  related panel and the scores agree;
- concept schemes (``skos:inScheme``) and the hierarchy (``skos:broader``,
  ``skos:narrower`` inverted, and a complex heading under its first
  component: *Africa--History* under *Africa*, as LCSH displays file them;
  ``cg:hasComponent``): four predicate scans of the store.

Labels sort folded (case, diacritics and leading punctuation ignored). The
letter jump is made from the initials the data has, script by script: each
letter of an alphabet (A-Z, А-Я, Α-Ω, Hebrew, Arabic...) is a stop; Hangul
is grouped by its initial consonant; a script with too many initials to list
(Chinese characters, kana) gets ranges of about equal size (``一–乙``),
since code point order is what the list follows.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pyoxigraph import Literal, NamedNode, Store

from ontology.errors import NotFoundError, UsageError
from ontology.namespaces import BF, CG, MADS, RDFS, SKOS

#: The kinds of resource that can be browsed, in the home page's order.
KINDS = ("work", "instance", "agent", "concept", "place", "event")
#: The orders a list can be read in.
ALPHABETICAL, BY_USE = "alpha", "count"
#: Most items on one page of a list.
PAGE_SIZE = 50
#: A script with more initials than this gets ranges instead of one stop per initial.
MAX_STOPS_PER_SCRIPT = 32
#: Ranges a script with many initials is cut into.
RANGES = 16
#: Narrower concepts shown under each concept of a hierarchy page.
CHILDREN_SHOWN = 12

_HANGUL_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_LABEL_PREDICATES = (RDFS.label, SKOS.prefLabel, MADS.authoritativeLabel)


def sort_key(label: str) -> str:
    """How a label sorts: folded, without diacritics or leading punctuation.

    >>> sorted(["Zola", "émile", "[Ars minor]", "Ägypten", "ʻAbd", "abc"], key=sort_key)
    ['abc', 'ʻAbd', 'Ägypten', '[Ars minor]', 'émile', 'Zola']
    """
    text = unicodedata.normalize("NFKD", label)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = unicodedata.normalize("NFC", text)  # Hangul syllables whole again
    start = 0
    while start < len(text) and _skipped(text[start]):
        start += 1
    return text[start:] or text


def _skipped(ch: str) -> bool:
    """Leading characters a label is not filed under: punctuation, and the modifier letters
    of romanisations (ʻayn, ʼalif) that readers do not look a name up by."""
    return not ch.isalnum() or unicodedata.category(ch) == "Lm"


def script_of(initial: str) -> str:
    """The script an initial belongs to, by its Unicode name's first word.

    >>> [script_of(c) for c in "aЖ中1가"]
    ['LATIN', 'CYRILLIC', 'CJK', 'DIGIT', 'HANGUL']
    """
    if initial.isdigit():
        return "DIGIT"
    try:
        return unicodedata.name(initial).split()[0]
    except ValueError:
        return "OTHER"


def initial_of(key: str) -> str:
    """The stop a sort key is filed under: its first letter, uppercased; a Hangul syllable's
    initial consonant; any digit under ``0–9``.

    >>> [initial_of(sort_key(k)) for k in ("Émile", "Жизнь", "한국", "1984", "")]
    ['E', 'Ж', 'ㅎ', '0–9', '…']
    """
    if not key:
        return "…"
    first = key[0]
    if first.isdigit():
        return "0–9"
    if "\uac00" <= first <= "\ud7a3":
        return _HANGUL_INITIALS[(ord(first) - 0xAC00) // 588]
    return first.upper()


@dataclass(frozen=True, slots=True)
class Stop:
    """A stop of the letter jump: its label and where in the list it starts."""

    label: str
    start: int


def letter_stops(keys: Sequence[str]) -> list[Stop]:
    """The letter jump of a list sorted by ``keys``: one stop per initial, or ranges for a
    script with too many initials.

    >>> [(s.label, s.start) for s in letter_stops(["apple", "avocado", "banana", "жук"])]
    [('A', 0), ('B', 2), ('Ж', 3)]
    >>> stops = letter_stops([chr(0x4E00 + i) for i in range(100)])
    >>> len(stops), stops[0].label, stops[1].start
    (15, '一–丆', 7)
    """
    runs: list[tuple[str, int, int]] = []  # initial, first position, last position
    for position, key in enumerate(keys):
        initial = initial_of(key)
        if runs and runs[-1][0] == initial:
            runs[-1] = (initial, runs[-1][1], position)
        else:
            runs.append((initial, position, position))
    stops: list[Stop] = []
    index = 0
    while index < len(runs):
        script = script_of(runs[index][0][0])
        end = index
        while end < len(runs) and script_of(runs[end][0][0]) == script:
            end += 1
        group = runs[index:end]
        if len(group) <= MAX_STOPS_PER_SCRIPT:
            stops += [Stop(initial, first) for initial, first, _ in group]
        else:
            stops += _ranges(group)
        index = end
    return stops


def _ranges(runs: list[tuple[str, int, int]]) -> list[Stop]:
    """``runs`` of one script cut into about ``RANGES`` stops of similar size."""
    total = runs[-1][2] - runs[0][1] + 1
    size = max(1, -(-total // RANGES))
    stops: list[Stop] = []
    begin = 0
    while begin < len(runs):
        end = begin
        while end + 1 < len(runs) and runs[end + 1][2] - runs[begin][1] < size:
            end += 1
        first, last = runs[begin][0], runs[end][0]
        stops.append(Stop(first if first == last else f"{first}–{last}", runs[begin][1]))
        begin = end + 1
    return stops


@dataclass(slots=True)
class Ordering:
    """One browsable list: its resources (search index rows) in both orders, and its stops."""

    alpha: np.ndarray  # int64 row numbers of ``BrowseIndex`` entries, alphabetical
    by_use: np.ndarray | None  # the same, most used first; None when use is not counted
    stops: list[Stop]

    def __len__(self) -> int:
        return len(self.alpha)

    def order(self, sort: str) -> np.ndarray:
        if sort == ALPHABETICAL:
            return self.alpha
        if sort == BY_USE and self.by_use is not None:
            return self.by_use
        raise UsageError(f"this list cannot be sorted by {sort!r}; sort=alpha" + (
            " or sort=count" if self.by_use is not None else ""
        ))


@dataclass(slots=True)
class Entry:
    """One resource of a browse page."""

    iri: str
    kind: str
    label: str
    count: int | None
    year: int | None = None
    #: For a concept on a hierarchy page: its narrower concepts (first ``CHILDREN_SHOWN``).
    children: list[Entry] = field(default_factory=list)
    children_total: int = 0


@dataclass(slots=True)
class Slice:
    """A page of a list: the entries from ``start``, and the list's length."""

    entries: list[Entry]
    start: int
    total: int
    sort: str


class BrowseIndex:
    """The orders of one checkpoint's resources (see the module docstring). Built once."""

    def __init__(
        self,
        iris: list[str],
        kinds: list[str],
        labels: list[str],
        years: list[int | None],
        counts: dict[str, int] | None,
        schemes: dict[str, list[str]],
        broader: dict[str, set[str]],
    ) -> None:
        self.iris, self.kinds, self.labels, self.years = iris, kinds, labels, years
        self.row = {iri: n for n, iri in enumerate(iris)}
        self.count_of = counts
        self.counted = counts is not None
        keys = [sort_key(label) for label in labels]
        order = sorted(range(len(iris)), key=lambda n: (keys[n], iris[n]))
        use = np.array([counts.get(iri, 0) if counts else 0 for iri in iris], dtype=np.int64)
        self.use = use
        self.broader = broader
        self.narrower: dict[str, list[str]] = {}
        for child, parents in broader.items():
            for parent in parents:
                self.narrower.setdefault(parent, []).append(child)
        rank = {n: position for position, n in enumerate(order)}
        for children in self.narrower.values():
            children.sort(key=lambda iri: rank.get(self.row.get(iri, -1), len(order)))
        self.lists: dict[str, Ordering] = {}
        for kind in KINDS:
            rows = [n for n in order if kinds[n] == kind]
            self.lists[kind] = self._ordering(rows, keys, counted=counts is not None and kind != "instance")
        self.schemes: dict[str, Ordering] = {}
        self.tops: dict[str, Ordering] = {}
        members: dict[str, list[int]] = {}
        for n in order:  # a scheme's members: its concepts, and its places (geographic headings)
            for scheme in schemes.get(iris[n], ()):
                members.setdefault(scheme, []).append(n)
        for scheme, rows in members.items():
            self.schemes[scheme] = self._ordering(rows, keys, counted=counts is not None)
            top = [n for n in rows if not self._has_broader_in(iris[n], scheme, schemes)]
            self.tops[scheme] = self._ordering(top, keys, counted=counts is not None)
        self.hierarchical = {
            scheme for scheme, rows in members.items() if any(iris[n] in self.narrower for n in rows)
        }

    def _has_broader_in(self, iri: str, scheme: str, schemes: dict[str, list[str]]) -> bool:
        return any(scheme in schemes.get(parent, ()) for parent in self.broader.get(iri, ()))

    def _ordering(self, rows: list[int], keys: list[str], counted: bool) -> Ordering:
        alpha = np.array(rows, dtype=np.int64)
        by_use = None
        if counted:
            by_use = alpha[np.argsort(-self.use[alpha], kind="stable")] if len(alpha) else alpha
        return Ordering(alpha, by_use, letter_stops([keys[n] for n in rows]))

    # ------------------------------------------------------------ building

    @classmethod
    def build(
        cls, index: sqlite3.Connection, store: Store, counts: dict[str, int] | None
    ) -> BrowseIndex:
        """From a checkpoint's search index (``query.search.open_index``), its store and the
        use counts of its units (``None``: not counted, sorting by use is not offered)."""
        iris, kinds, labels, years = [], [], [], []
        marks = ",".join("?" * len(KINDS))  # placeholders only
        query = f"SELECT iri, kind, label, year FROM search_doc WHERE kind IN ({marks})"  # noqa: S608
        for iri, kind, label, year in index.execute(query, KINDS):
            iris.append(iri)
            kinds.append(kind)
            labels.append(label or iri.rstrip("/").rpartition("/")[2])
            years.append(year)
        schemes: dict[str, list[str]] = {}
        for quad in store.quads_for_pattern(None, SKOS.inScheme, None, None):
            if isinstance(quad.object, NamedNode):
                found = schemes.setdefault(quad.subject.value, [])
                if quad.object.value not in found:
                    found.append(quad.object.value)
        broader: dict[str, set[str]] = {}
        for quad in store.quads_for_pattern(None, SKOS.broader, None, None):
            if isinstance(quad.object, NamedNode) and isinstance(quad.subject, NamedNode):
                broader.setdefault(quad.subject.value, set()).add(quad.object.value)
        for quad in store.quads_for_pattern(None, SKOS.narrower, None, None):
            if isinstance(quad.object, NamedNode) and isinstance(quad.subject, NamedNode):
                broader.setdefault(quad.object.value, set()).add(quad.subject.value)
        label_of = dict(zip(iris, labels, strict=True))
        for quad in store.quads_for_pattern(None, CG.hasComponent, None, None):
            heading, part = quad.subject.value, quad.object.value
            if _subdivides(label_of.get(heading, ""), label_of.get(part, "")):
                broader.setdefault(heading, set()).add(part)
        return cls(iris, kinds, labels, years, counts, schemes, broader)

    # ------------------------------------------------------------ reading

    def listing(self, kind: str, scheme: str | None = None, top: bool = False) -> Ordering:
        """The list of one kind, or of one scheme's concepts (its top concepts with ``top``)."""
        if scheme is not None:
            found = (self.tops if top else self.schemes).get(scheme)
            if found is None:
                raise NotFoundError(f"no concept of this graph is in the scheme {scheme[:200]}")
            return found
        if kind not in self.lists:
            raise NotFoundError(f"no such kind of resource: {kind[:50]!r}; one of {', '.join(KINDS)}")
        return self.lists[kind]

    def page(self, listing: Ordering, sort: str, start: int, size: int = PAGE_SIZE) -> Slice:
        """``size`` entries of ``listing`` in ``sort`` order from position ``start``."""
        order = listing.order(sort)
        if start < 0 or (start >= len(order) and start > 0):
            raise NotFoundError(f"this list has {len(order):,} entries; none from {start:,}")
        rows = order[start : start + size]
        return Slice([self.entry(int(n)) for n in rows], start, len(order), sort)

    def entry(self, n: int) -> Entry:
        iri = self.iris[n]
        count = int(self.use[n]) if self.counted and self.kinds[n] != "instance" else None
        return Entry(iri, self.kinds[n], self.labels[n], count, self.years[n])

    def with_children(self, entries: Iterable[Entry], limit: int = CHILDREN_SHOWN) -> None:
        """Give each concept of ``entries`` its first narrower concepts (a hierarchy page)."""
        for entry in entries:
            children = self.narrower.get(entry.iri, [])
            entry.children_total = len(children)
            entry.children = [
                self.entry(self.row[child]) if child in self.row else Entry(child, "concept", child, None)
                for child in children[:limit]
            ]

    def children_of(self, iri: str) -> list[Entry]:
        """Every narrower concept of ``iri`` (a hierarchy's branch), alphabetically."""
        return [
            self.entry(self.row[child]) if child in self.row else Entry(child, "concept", child, None)
            for child in self.narrower.get(iri, [])
        ]

    def scheme_sizes(self) -> dict[str, int]:
        """Each scheme's number of concepts, largest first."""
        sizes = {scheme: len(listing) for scheme, listing in self.schemes.items()}
        return dict(sorted(sizes.items(), key=lambda pair: (-pair[1], pair[0])))


def _subdivides(heading: str, part: str) -> bool:
    """Whether a complex heading is its first component subdivided (*Africa--History* of
    *Africa*): filed under it in a scheme's hierarchy, as LCSH's own displays do.

    >>> _subdivides("Africa--History--Juvenile literature", "Africa"), _subdivides("Africa--History", "History")
    (True, False)
    """
    return bool(part) and heading.startswith(part) and heading[len(part) :].lstrip().startswith("--")


def labels_of(store: Store, iri: str, limit: int = 50) -> list[Literal]:
    """The labels of one resource (at most ``limit``): its own, else its main titles.

    A few indexed seeks: bounded, so a page of fifty entries reads its labels in
    the request without a query worker.
    """
    node = NamedNode(iri)
    for predicate in _LABEL_PREDICATES:
        found = _literals(store.quads_for_pattern(node, predicate, None, None), limit)
        if found:
            return found
    titles: list[Literal] = []
    for title in store.quads_for_pattern(node, BF.title, None, None):
        if len(titles) >= limit or not isinstance(title.object, NamedNode):
            break
        titles += _literals(store.quads_for_pattern(title.object, BF.mainTitle, None, None), limit)
    return titles[:limit]


def _literals(quads: Iterable, limit: int) -> list[Literal]:
    found: list[Literal] = []
    for quad in quads:
        if isinstance(quad.object, Literal) and quad.object not in found:
            found.append(quad.object)
            if len(found) >= limit:
                break
    return found
