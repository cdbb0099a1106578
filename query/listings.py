"""What a resource's page is made of: values, references and records, in sliced lists.

``query.resources`` fills these from the store and ``web.resource_view``
shows them; a ``Description`` also crosses from a query worker to the server
(pickled), so everything here is plain data. Every list of a page is a
``Listing``: its full count and one slice of its items, chosen by ``Paging``
(see ``query.resources``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from ontology.namespaces import RDF, compact

Node = NamedNode | BlankNode
Term = NamedNode | BlankNode | Literal

#: The kinds of list a page has (``Listing.kind``); the last two are also their keys.
PROPERTY, REFERENCE, RECORDS, MEMBERS = "property", "reference", "records", "members"


@dataclass(slots=True)
class Value:
    """An RDF term and the labels it has in the store (several languages and scripts)."""

    term: Term
    labels: list[Literal] = field(default_factory=list)
    #: For a record's subsidiary node (a title, a contribution): its own statements.
    nested: list[tuple[NamedNode, Value]] = field(default_factory=list)
    #: Main titles, used as labels only when the term has no label of its own.
    titles: list[Literal] = field(default_factory=list)
    #: The node has more statements than ``nested`` holds.
    more: bool = False

    def settle(self) -> Value:
        """Fall back to the titles when no label was found."""
        if not self.labels:
            self.labels = self.titles
        self.titles = []
        return self


@dataclass(slots=True)
class Reference:
    """Something that points at the resource: ``subject --predicate--> resource``.

    ``via`` is set when the pointer is a subsidiary node of ``subject``
    (``work --contribution--> #contribution-1 --agent--> resource``).
    """

    subject: Value
    predicate: NamedNode
    via: NamedNode | None = None
    #: What tells one instance from another with the same title: dates and publishers of
    #: its provision, and its languages (IRIs).
    dates: list[str] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)
    languages: list[NamedNode] = field(default_factory=list)


@dataclass(slots=True)
class Provenance:
    """A record graph a resource comes from, and where that record was read."""

    graph: NamedNode
    source_file: str | None
    position: str | None
    generated: str | None


@dataclass(slots=True)
class Listing:
    """One list of a page: how many items it has in all, and the slice shown.

    ``key`` names the list in a page's address (``?list=``): a property's
    prefixed name (``bf:subject``), ``^`` before it for what points at the
    resource (``^bf:instanceOf``), ``^bf:agent/^bf:contribution`` through a
    subsidiary node, ``records`` or ``members``.
    """

    key: str
    #: ``PROPERTY``, ``REFERENCE`` (what points at the resource), ``RECORDS`` or ``MEMBERS``.
    kind: str
    count: int
    start: int = 0
    items: list[Any] = field(default_factory=list)
    predicate: NamedNode | None = None
    via: NamedNode | None = None


@dataclass(frozen=True, slots=True)
class Paging:
    """Which slices of its lists a page shows.

    On a resource's page, each list shows at most ``size`` items and all of them
    together at most ``items`` (``shares``); on a list's page (``focus``, the
    list's key), page ``page`` of that list alone.
    """

    size: int = 100
    items: int = 1000
    #: The key of the one list a list's page shows, and which page of it (from 1).
    focus: str | None = None
    page: int = 1


@dataclass(slots=True)
class Description:
    """What a page shows of one resource: its labels and every list, each with its slice."""

    iri: NamedNode
    labels: list[Literal]
    #: One per property, in no particular order (a page orders them by label).
    properties: list[Listing]
    #: One per (predicate, via) pointing at the resource.
    references: list[Listing]
    records: Listing
    #: For a record graph: the resources it describes.
    members: Listing
    #: On a list's page: that list (also in one of the above).
    focus: Listing | None = None
    #: More properties or references than ``query.resources.MAX_LISTS`` each: those are not listed.
    lists_cut: bool = False

    @property
    def statements(self) -> list[tuple[NamedNode, Value]]:
        """The property values shown, as (predicate, value) pairs."""
        return [(ls.predicate, v) for ls in self.properties if ls.predicate for v in ls.items]

    @property
    def types(self) -> list[Value]:
        return [value for predicate, value in self.statements if predicate == RDF.type]

    @property
    def reference_total(self) -> int:
        return sum(listing.count for listing in self.references)


def list_key(predicate: NamedNode, via: NamedNode | None = None, inverse: bool = False) -> str:
    """How a page's address names a list.

    >>> from ontology.namespaces import BF
    >>> list_key(BF.subject), list_key(BF.instanceOf, inverse=True)
    ('bf:subject', '^bf:instanceOf')
    >>> list_key(BF.agent, BF.contribution, inverse=True)
    '^bf:agent/^bf:contribution'
    >>> list_key(NamedNode("http://example.org/a/b"))
    '<http://example.org/a/b>'
    """

    def name(iri: NamedNode) -> str:
        short = compact(iri.value)
        return short if short != iri.value and not set(short) & set("/^<> ") else f"<{iri.value}>"

    if not inverse:
        return name(predicate)
    return f"^{name(predicate)}" + (f"/^{name(via)}" if via is not None else "")


def shares(wanted: list[int], budget: int) -> list[int]:
    """How many items each list shows: all it wants while ``budget`` lasts, else an equal share.

    Short lists are shown whole; the long ones share what they leave.

    >>> shares([3, 500, 40], 100)
    [3, 57, 40]
    >>> shares([10, 10], 100)
    [10, 10]
    """
    given = [0] * len(wanted)
    left = budget
    for position, index in enumerate(sorted(range(len(wanted)), key=wanted.__getitem__)):
        given[index] = min(wanted[index], left // (len(wanted) - position))
        left -= given[index]
    return given


def best_label(
    labels: list[Literal], languages: list[str] | tuple[str, ...] = ()
) -> Literal | None:
    """The label to show first: the reader's languages, then untagged, English, Latin script.

    ``languages`` are BCP 47 tags in the reader's order of preference (from
    Accept-Language). The other labels are parallel forms (other scripts and
    languages) that a page shows beside it.

    >>> labels = [Literal("רצבי, שלום", language="he-Hebr"),
    ...           Literal("Ratsabi, Shalom", language="he-Latn")]
    >>> best_label(labels).value
    'Ratsabi, Shalom'
    >>> best_label(labels, ["he"]).value
    'רצבי, שלום'
    >>> best_label([Literal("Jane"), Literal("Jeanne", language="fr")], ["fr-CA", "en"]).value
    'Jeanne'
    """
    if not labels:
        return None
    wanted = [tag.lower() for tag in languages if tag and tag != "*"]

    def rank(label: Literal) -> tuple[int, int, str]:
        tag = (label.language or "").lower()
        for index, lang in enumerate(wanted):
            if tag == lang:
                return (0, index * 3, label.value)
            if tag and tag.split("-")[0] == lang.split("-")[0]:
                # A reader of Hebrew reads Hebrew script before a romanisation.
                return (0, index * 3 + 1 + tag.endswith("-latn"), label.value)
        if not tag:
            return (1, 0, label.value)
        if tag.split("-")[0] == "en":
            return (2, 0, label.value)
        if tag.endswith("-latn"):
            return (3, 0, label.value)
        return (4, 0, tag + label.value)

    return min(labels, key=rank)
