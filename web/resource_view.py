"""How a resource's description is shown: labels for the reader, lists with counts and links.

``query.resources`` gathers a ``query.listings.Description`` in slices; this module turns it
into what the template ``resource.html`` writes: every term by label (the
reader's languages first, the other scripts beside it), subsidiary nodes
inline, and every list with its full count and links to its other pages
(``?list=KEY&page=N``). A list's page (``Description.focus``) shows the
heading and that list alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

from flask_babel import gettext, lazy_gettext
from pyoxigraph import BlankNode, Literal, NamedNode

from ontology.layout import ONTOLOGY_NAMESPACES
from ontology.namespaces import BF, CG, DCT, OWL, PREFIXES, RDF, RDFS, SKOS
from ontology.term_labels import vocabulary_label, vocabulary_label_and_language
from ontology.vocabulary import term_labels
from query.listings import Description, Listing, Reference, Value, best_label
from web.i18n import term_label as label_for  # the ontology's label in the interface language

#: Shown as the page's heading, so not repeated in its table.
_HEADING_PREDICATES = frozenset({RDFS.label, SKOS.prefLabel, RDF.type})

#: The facts a reader looks for first, in this order; the others follow by label.
_FIRST = [
    BF.title, BF.contribution, BF.instanceOf, BF.hasInstance, BF.responsibilityStatement,
    BF.editionStatement, BF.provisionActivity, BF.provisionActivityStatement, BF.originDate,
    BF.language, BF.subject, BF.genreForm, BF.hasSeries, BF.seriesStatement, BF.summary,
    BF.tableOfContents, BF.extent, BF.dimensions, BF.issuance, BF.carrier, BF.media,
    BF.content, BF.identifiedBy, BF.classification, SKOS.altLabel, SKOS.broader,
    SKOS.narrower, SKOS.related, CG.hasComponent, SKOS.inScheme, SKOS.scopeNote, SKOS.note,
    BF.note,
]  # fmt: skip
_RANK = {p.value: n for n, p in enumerate(_FIRST)}

#: What points at a resource, said as a reader would (the list's key -> its heading).
REFERENCE_PHRASES = {
    "^bf:subject": lazy_gettext("Works and instances about this"),
    "^bf:agent/^bf:contribution": lazy_gettext("Works and instances it contributed to"),
    "^bf:instanceOf": lazy_gettext("Editions of this work"),
    "^bf:genreForm": lazy_gettext("Works of this genre or form"),
    "^skos:broader": lazy_gettext("Narrower concepts"),
    "^skos:narrower": lazy_gettext("Broader concepts"),
    "^skos:related": lazy_gettext("Related concepts"),
    "^cg:hasComponent": lazy_gettext("Headings that contain it"),
    "^bf:hasSeries": lazy_gettext("In this series"),
    "^bf:hasPart": lazy_gettext("Part of"),
    "^bf:relatedTo": lazy_gettext("Related works"),
    "^bf:place/^bf:provisionActivity": lazy_gettext("Published or produced here"),
    "^bf:agent/^bf:provisionActivity": lazy_gettext("Published or produced by it"),
}

#: Authority files whose IRIs a page links to, by the start of their IRIs.
AUTHORITIES = (
    ("http://id.loc.gov/", "id.loc.gov"),
    ("https://id.loc.gov/", "id.loc.gov"),
    ("https://d-nb.info/gnd/", "GND"),
    ("http://d-nb.info/gnd/", "GND"),
    ("http://viaf.org/viaf/", "VIAF"),
    ("https://viaf.org/viaf/", "VIAF"),
    ("https://orcid.org/", "ORCID"),
    ("http://orcid.org/", "ORCID"),
    ("http://www.wikidata.org/entity/", "Wikidata"),
    ("https://www.wikidata.org/wiki/", "Wikidata"),
    ("http://id.worldcat.org/fast/", "FAST"),
    ("http://id.nlm.nih.gov/mesh/", "MeSH"),
    ("https://isni.org/isni/", "ISNI"),
    ("http://isni.org/isni/", "ISNI"),
    ("https://ror.org/", "ROR"),
)
#: Properties whose values name the same thing elsewhere.
_SAME = frozenset({OWL.sameAs.value, SKOS.exactMatch.value, SKOS.closeMatch.value})


def authority_name(iri: str) -> str | None:
    """The authority file an IRI is in, for a link's text.

    >>> authority_name("https://d-nb.info/gnd/118540238"), authority_name("https://example.org/x")
    ('GND', None)
    """
    if iri.startswith(("http://id.loc.gov/vocabulary/", "http://id.loc.gov/ontologies/")):
        return None  # vocabulary terms and classes: labelled, not authorities
    return next((name for prefix, name in AUTHORITIES if iri.startswith(prefix)), None)


@dataclass(slots=True)
class Shown:
    """One value as a reader sees it: its text, link, language and parallel forms."""

    text: str
    lang: str | None = None
    href: str | None = None
    external: bool = False
    parallel: list[tuple[str, str | None]] = field(default_factory=list)
    #: A subsidiary node (title, identifier...): its own rows, shown inline.
    rows: list[Row] = field(default_factory=list)
    #: The node has more statements than ``rows`` shows (they are in the RDF twin).
    more: bool = False
    #: A contribution: "Author: Austen, Jane".
    roles: list[Shown] = field(default_factory=list)
    agent: Shown | None = None
    #: What tells it from others of the same name (an instance's date, publisher, language).
    note: str = ""
    #: An authority's IRI the value has (its own IRI, when the store describes it under it).
    authority: str | None = None
    authority_name: str | None = None


@dataclass(slots=True)
class Row:
    """A property of a subsidiary node, shown inline."""

    label: str
    iri: str
    values: list[Shown]


@dataclass(slots=True)
class Listed:
    """One list of a page as shown: a slice of its items, its count, links to the rest."""

    key: str
    label: str
    iri: str
    count: int
    start: int
    values: list[Any]
    next_href: str | None = None
    prev_href: str | None = None

    @property
    def summary(self) -> str:
        """``1–50 of 2,000`` when the list is cut, else its count.

        >>> Listed("k", "l", "", 2000, 50, [1, 2]).summary, Listed("k", "l", "", 2, 0, [1, 2]).summary
        ('51–52 of 2,000', '2')
        """
        shown = len(self.values)
        if shown and shown < self.count:
            return gettext(
                "%(first)s–%(last)s of %(count)s",
                first=f"{self.start + 1:,}",
                last=f"{self.start + shown:,}",
                count=f"{self.count:,}",
            )
        return f"{self.count:,}"


@dataclass(slots=True)
class Page:
    iri: str
    heading: Shown
    types: list[Shown]
    properties: list[Listed]
    references: list[Listed]
    reference_total: int
    records: Listed | None
    members: Listed | None
    #: On a list's page: the address of the whole page.
    whole_href: str | None = None
    #: More properties or references than a page lists.
    lists_cut: bool = False
    #: The kind of resource (``work``, ``agent``...; ``""`` for a record graph or another node).
    kind: str = ""
    #: The same thing in authority files (its own IRI, ``owl:sameAs``, ``skos:exactMatch``...).
    authorities: list[Shown] = field(default_factory=list)
    #: Filled by ``web.resources``: the related panel, the neighbourhood and its list.
    related: list[Any] = field(default_factory=list)
    graph: Any = None
    graph_list: list[Any] = field(default_factory=list)
    #: ``owl:deprecated true``: a merged concept kept as an alias, and what replaced it.
    deprecated: bool = False
    replaced_by: list[Shown] = field(default_factory=list)

    @classmethod
    def build(
        cls, d: Description, *, base: str, root: str, local: str, languages: list[str], size: int
    ) -> Page:
        """The page of ``d``, for a reader of ``languages``, served at ``local`` under ``root``."""
        show = _Shower(base, root, languages)
        nav = _Nav(local, size, d.focus.key if d.focus else None)
        shown = [ls for ls in d.properties if ls.predicate not in _HEADING_PREDICATES]
        properties = [
            nav.listed(ls, label_for(ls.predicate.value), [show.value(v) for v in ls.items])
            for ls in shown
            if ls.predicate is not None and nav.wanted(ls)
        ]
        properties.sort(key=lambda row: (_RANK.get(row.iri, len(_RANK)), row.label.casefold()))
        references = [
            nav.listed(ls, _reference_label(ls), [show.reference(r) for r in ls.items])
            for ls in d.references
            if nav.wanted(ls)
        ]
        references.sort(key=lambda group: (group.key not in REFERENCE_PHRASES, -group.count))
        for group in references:
            _tell_apart_the_same(group.values)
        records = [
            {
                "graph": show.value(Value(p.graph)),
                "file": p.source_file,
                "position": p.position,
                "generated": p.generated,
            }
            for p in d.records.items
        ]
        types = [show.value(v) for v in d.types]
        for shown_type in types:  # a class is named, not followed off the site
            shown_type.href, shown_type.external = None, False
        authorities = []
        if authority_name(d.iri.value):
            authorities.append(Shown(d.iri.value, href=d.iri.value, external=True,
                                     authority_name=authority_name(d.iri.value)))  # fmt: skip
        for predicate, value in d.statements:
            iri = value.term.value if isinstance(value.term, NamedNode) else ""
            # one of ours (a reviewer's accepted match) is listed as "same as", linked here
            if predicate.value in _SAME and iri.startswith(("http://", "https://")) and not iri.startswith(base):
                authorities.append(Shown(iri, href=iri, external=True,
                                         authority_name=authority_name(iri) or gettext("elsewhere")))  # fmt: skip
        deprecated = any(
            p == OWL.deprecated and isinstance(v.term, Literal) and v.term.value == "true" for p, v in d.statements
        )
        replaced_by = [show.value(v) for p, v in d.statements if p == DCT.isReplacedBy]
        return cls(
            iri=d.iri.value,
            deprecated=deprecated,
            replaced_by=replaced_by,
            heading=show.labelled(d.iri, d.labels),
            types=types,
            authorities=authorities,
            properties=properties,
            references=references,
            reference_total=d.reference_total,
            records=nav.listed(d.records, gettext("Source records"), records)
            if nav.wanted(d.records)
            else None,
            members=nav.listed(
                d.members, gettext("Described in this record"), [show.value(v) for v in d.members.items]
            )
            if nav.wanted(d.members)
            else None,
            whole_href=local if d.focus else None,
            lists_cut=d.lists_cut,
        )


class _Nav:
    """The links of a page's lists: to the next and previous pages of each."""

    def __init__(self, local: str, size: int, focus: str | None) -> None:
        self.local, self.size, self.focus = local, size, focus

    def wanted(self, listing: Listing) -> bool:
        """Whether the page shows ``listing`` (a list's page shows only its own)."""
        return listing.count > 0 and (self.focus is None or listing.key == self.focus)

    def listed(self, listing: Listing, label: str, values: list[Any]) -> Listed:
        iri = listing.predicate.value if listing.predicate is not None else ""
        shown = Listed(listing.key, label, iri, listing.count, listing.start, values)
        end = listing.start + len(values)
        if self.focus is None:
            if end < listing.count:  # a full first page continues on page 2; a cut one on 1
                shown.next_href = self.href(listing.key, 2 if len(values) == self.size else 1)
            return shown
        page = listing.start // self.size + 1
        if end < listing.count:
            shown.next_href = self.href(listing.key, page + 1)
        if page > 1:
            shown.prev_href = self.href(listing.key, page - 1)
        return shown

    def href(self, key: str, page: int) -> str:
        query = {"list": key, **({"page": str(page)} if page > 1 else {})}
        joiner = "&" if "?" in self.local else "?"
        return f"{self.local}{joiner}{urlencode(query)}"


@cache
def _term_labels() -> dict[str, str]:
    return term_labels()


def _tell_apart_the_same(items: list[Shown]) -> None:
    """Items shown alike (same title, date and publisher) get the end of their IRI too,
    so a reader never meets two identical links (three fragments of one printing, say)."""
    seen: dict[tuple[str, str], int] = {}
    for item in items:
        seen[(item.text, item.note)] = seen.get((item.text, item.note), 0) + 1
    for item in items:
        if seen[(item.text, item.note)] > 1 and item.href:
            slug = item.href.rstrip("/").rsplit("/", 1)[-1]
            item.note = f"{item.note} · {slug}" if item.note else slug


def _reference_label(listing: Listing) -> str:
    predicate, via = listing.predicate, listing.via
    assert predicate is not None
    phrase = REFERENCE_PHRASES.get(listing.key)
    if phrase is not None:
        return str(phrase)
    if via is None:
        return label_for(predicate.value)
    return f"{label_for(via.value)} › {label_for(predicate.value)}"


class _Shower:
    """Turns terms into ``Shown`` values for one request (its base and languages)."""

    def __init__(self, base: str, root: str, languages: list[str]) -> None:
        self.base, self.root, self.languages = base, root, languages

    def href(self, iri: str) -> tuple[str | None, bool]:
        if iri.startswith(self.base):
            return self.root + iri[len(self.base) :], False
        if iri.startswith(("http://", "https://")):
            return iri, True
        return None, False

    def labelled(self, term: NamedNode | BlankNode | Literal, labels: list[Literal]) -> Shown:
        best = best_label(labels, self.languages)
        if best is None:
            known = (
                vocabulary_label_and_language(term, self.languages)
                if isinstance(term, NamedNode)
                else None
            )
            if known is not None:  # a vocabulary term: its label in the reader's language
                return Shown(known[0], known[1])
            return Shown(self.name(term))
        parallel = [(lab.value, lab.language) for lab in labels if lab.value != best.value]
        return Shown(best.value, best.language, parallel=list(dict.fromkeys(parallel)))

    def name(self, term: NamedNode | BlankNode | Literal) -> str:
        """What to call a term the store gives no label."""
        if isinstance(term, BlankNode):
            return gettext("(unnamed node)")
        if isinstance(term, Literal):
            return term.value
        iri = term.value
        known = vocabulary_label(iri, self.languages)  # roles, languages, issuance, schemes...
        if known:
            return known
        if iri.startswith(self.base):
            return iri[len(self.base) :]
        if iri in _term_labels():
            return label_for(iri)  # the ontology's label, in the interface language
        if any(iri.startswith(namespace) for namespace in PREFIXES.values()):
            return label_for(iri)  # a vocabulary term: its local name, spelled out
        return iri

    def told_apart(self, ref: Reference) -> str:
        """``1975 · Masson · French``: an instance's date, publisher and languages."""
        dates = [date.strip("[] ") for date in ref.dates[:1]]
        parts = [*dates, *ref.publishers[:2], *(self.name(lang) for lang in ref.languages)]
        return " · ".join(part for part in parts if part)

    def reference(self, ref: Reference) -> Shown:
        shown = self.value(ref.subject)
        shown.note = self.told_apart(ref)
        return shown

    def value(self, value: Value) -> Shown:
        term = value.term
        if isinstance(term, Literal):
            return Shown(term.value, term.language)
        if isinstance(term, NamedNode) and term.value.startswith(ONTOLOGY_NAMESPACES):
            # a class or property: named by the ontology in the interface language, not by the
            # labels the store's ontology graph gives it in every language
            shown = Shown(self.name(term))
            shown.href, shown.external = self.href(term.value)
            return shown
        shown = self.labelled(term, value.labels)
        if isinstance(term, NamedNode):
            shown.href, shown.external = self.href(term.value)
            if shown.external and value.labels:  # described here: its page here, the authority beside
                shown.authority, shown.authority_name = term.value, authority_name(term.value)
                shown.href, shown.external = f"{self.root}about?{urlencode({'iri': term.value})}", False
        if value.nested or value.more:
            types = {v.term for p, v in value.nested if p == RDF.type}
            agents = [v for p, v in value.nested if p == BF.agent]
            if BF.Contribution in types and len(agents) == 1:
                shown.agent = self.value(agents[0])
                shown.roles = [self.value(v) for p, v in value.nested if p == BF.role]
            shown.rows = self.rows(value.nested)
            shown.more = value.more
            shown.href = None  # a subsidiary node has no page of its own
        return shown

    def rows(self, statements: list[tuple[NamedNode, Value]]) -> list[Row]:
        grouped: dict[NamedNode, list[Shown]] = {}
        for predicate, value in statements:
            shown = self.value(value)
            if predicate == RDF.type:  # a class is named, not followed off the site
                shown.href, shown.external = None, False
            grouped.setdefault(predicate, []).append(shown)
        return sorted(
            (Row(label_for(p.value), p.value, values) for p, values in grouped.items()),
            key=lambda row: (row.iri != RDF.type.value, row.label.casefold()),
        )
