"""What an open-access record says, gathered in one shape, and how it becomes BIBFRAME.

Dublin Core and arXiv's formats say the same few things in different words
(a title, creators, subjects, dates, identifiers, an abstract, a licence), so
each reader fills a ``Description`` and ``describe`` writes it, once, into the
model the MARC mapper writes: a ``bf:Work`` and its ``bf:Instance`` in the
record's graph, agents and concepts as shared units.

Where records meet, they meet as MARC's do (``ingest.marc``):

* the Instance is named from an ISBN (``instance/isbn-{ISBN-13}``, the MARC
  mapper's own normalisation, ``ingest.marc.identifiers``), else a DOI
  (``instance/doi-{hash of the lower-cased DOI}``, normalised by idutils),
  else the source's own identifier (an arXiv id), else the OAI identifier;
* the Work from ``creator|title`` normalised (``cg:SameCreatorAndTitle``, as
  MARC's 1XX + 245 key), else it is the record's own (``cg:RecordOnly``);
* an agent from its name as MARC keys a heading without an authority link;
* a subject from ``{scheme IRI}|{label}`` in the scheme of its source (one per
  repository, ``concept_scheme``), as MARC keys a heading of a thesaurus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode

from ingest.iri import IriMinter, normalise
from ingest.marc import vocab
from ingest.marc.terms import BF, CG, RDF, RDFS, SKOS, XSD
from ingest.oai.values import identifier_kind, language_code, normalise_doi
from ingest.quads import GraphBuilder, clean_text
from ontology.namespaces import DCT, RELATORS

_YEAR = re.compile(r"^(\d{4})(?:$|[-/ T])")
_LINK_SCHEMES = ("http://", "https://", "ftp://")
_HEADING_DATES = re.compile(r",?\s*(?:b\.|d\.|ca\.|fl\.)?\s*\d{3,4}\??-?(?:\d{3,4}\??)?\.?\s*$")


@dataclass(frozen=True, slots=True)
class Name:
    """An agent as a record names it; ``person`` when the format says it is one."""

    label: str
    person: bool = False


@dataclass(slots=True)
class Description:
    """One record's statements, in the terms every open-access reader fills."""

    #: ``(text, language tag or None)``
    titles: list[tuple[str, str | None]] = field(default_factory=list)
    creators: list[Name] = field(default_factory=list)
    contributors: list[Name] = field(default_factory=list)
    #: Subject labels in the source's scheme, and ``(notation, label)`` in the arXiv scheme.
    subjects: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    #: Values as given (``doi:10.1/x``, ``ISBN 0-14...``, a URL): told apart by ``identifier_kind``.
    identifiers: list[str] = field(default_factory=list)
    summaries: list[tuple[str, str | None]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    rights: list[str] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)
    #: ``(note type, text)``: relation, source, format, coverage, comments, journal reference...
    notes: list[tuple[str, str]] = field(default_factory=list)
    #: The source's own identifier for the resource (an arXiv id), named before the OAI one.
    own_identifier: tuple[str, str] | None = None
    #: The DOI of a published version that is another Instance of the Work (arXiv's ``<doi>``).
    published_doi: str | None = None
    electronic: bool = False
    text: bool = False


def concept_scheme(minter: IriMinter, key: str) -> NamedNode:
    """The SKOS scheme of one source's subjects (``key``: ``oai:{repository}``, ``arxiv``)."""
    return minter.from_key("concept", f"scheme|{key}")


def describe(
    d: Description,
    builder: GraphBuilder,
    minter: IriMinter,
    record_key: str,
    scheme: tuple[str, str],
) -> None:
    """State ``d`` in ``builder``'s graph: Work, Instance and what they relate to.

    ``record_key`` names the Instance when the record has no stronger identifier
    (the OAI identifier); ``scheme`` is ``(key, label)`` of the subjects' scheme.
    """
    statements = _Statements(d, builder, minter, record_key)
    statements.titles()
    statements.contributions()
    statements.subjects(scheme)
    _provision(builder, statements.instance, statements.local, d.dates, d.publishers)
    statements.identifiers()
    statements.published_version()
    statements.texts()


class _Statements:
    """One record's Work and Instance, and the parts ``describe`` states about them."""

    def __init__(self, d: Description, b: GraphBuilder, minter: IriMinter, record_key: str) -> None:
        self.d, self.b, self.minter, self.record_key = d, b, minter, record_key
        self._counters: dict[str, int] = {}
        self.identified = [(value, *identifier_kind(value)) for value in d.identifiers if value.strip()]
        self.instance = _instance_iri(d, self.identified, minter, record_key)
        self.title = next((clean_text(text) for text, _ in d.titles if clean_text(text)), "")
        self.creators = [name for name in d.creators if clean_text(name.label)]
        self.work = self._work_link()

    def local(self, kind: str) -> NamedNode:
        """The next node of ``kind`` local to the record: ``{graph}#{kind}-{n}``."""
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return IriMinter.local(self.b.graph, kind, self._counters[kind])

    def _work_link(self) -> NamedNode:
        """The Work, the Instance's link to it with its reason (``cg:WorkLink``), both typed."""
        b, d, instance = self.b, self.d, self.instance
        work, reason, key = _work(self.minter, instance, self.creators, self.title)
        b.add(instance, BF.instanceOf, work)
        link = IriMinter.local(b.graph, "work", "link")
        b.type(link, CG.WorkLink)
        b.add(link, CG.linkedInstance, instance)
        b.add(link, CG.linkedWork, work)
        b.add(link, CG.reason, reason)
        b.text(link, CG.matchKey, key)
        b.type(work, BF.Work)
        b.label(work, self.title or self.record_key)
        if d.text:
            b.type(work, BF.Text)
        b.type(instance, BF.Instance)
        if d.electronic:
            b.type(instance, BF.Electronic)
        return work

    def _title(self, owner: NamedNode, text: str, lang: str | None = None) -> NamedNode:
        node = self.local("title")
        self.b.add(owner, BF.title, node)
        self.b.type(node, BF.Title)
        self.b.text(node, BF.mainTitle, text, lang)
        return node

    def titles(self) -> None:
        """Each title a ``bf:Title`` (the second and later ``bf:VariantTitle``s) and a label."""
        for n, (text, lang) in enumerate(self.d.titles):
            text = clean_text(text)
            if text:
                node = self._title(self.instance, text, lang)
                self.b.text(self.instance, RDFS.label, text, lang)
                if n:
                    self.b.type(node, BF.VariantTitle)
        if not self.title:  # every Instance has a title (ontology/shapes.ttl): the record's name stands in
            self._title(self.instance, self.record_key)

    def contributions(self) -> None:
        """Creators (the first primary) and contributors: parts of the Work named after their agents."""
        agents = {name.label: _agent(self.b, self.minter, name)
                  for name in [*self.creators, *self.d.contributors] if clean_text(name.label)}
        for index, name in enumerate(self.creators):
            _contribution(self.b, self.work, agents[name.label], RELATORS.cre, primary=index == 0)
        for name in self.d.contributors:
            if name.label in agents:
                _contribution(self.b, self.work, agents[name.label], RELATORS.ctb, primary=False)

    def subjects(self, scheme: tuple[str, str]) -> None:
        """Subjects and genres in the source's scheme; arXiv categories in arXiv's."""
        b, d, minter, work = self.b, self.d, self.minter, self.work
        scheme_node = concept_scheme(minter, scheme[0])
        if d.subjects or d.genres:
            b.type(scheme_node, SKOS.ConceptScheme)
            b.label(scheme_node, scheme[1])
        for label in d.subjects:
            concept = _concept(b, minter, scheme_node, label)
            if concept is not None:
                b.add(work, BF.subject, concept)
        for label in d.genres:
            concept = _concept(b, minter, scheme_node, label)
            if concept is not None:
                b.type(concept, BF.GenreForm)
                b.add(work, BF.genreForm, concept)
        if d.categories:
            arxiv = concept_scheme(minter, "arxiv")
            b.type(arxiv, SKOS.ConceptScheme)
            b.label(arxiv, "arXiv category taxonomy")
        for category in d.categories:
            concept = minter.from_identifier("concept", "arxiv", category)
            b.type(concept, SKOS.Concept)
            b.add(concept, SKOS.inScheme, arxiv)
            b.text(concept, SKOS.notation, category)
            b.label(concept, category)
            b.add(work, BF.subject, concept)

    def identifiers(self) -> None:
        """Each identifier a node of its class; a URL also a locator; the source's own id with its source."""
        b, instance = self.b, self.instance
        for value, cls, normalised in self.identified:
            if cls is BF.Identifier and value.lower().startswith(_LINK_SCHEMES):
                _locator(b, instance, value)
            _identifier(b, instance, self.local("identifier"), cls, normalised)
        if self.d.own_identifier is not None:
            scheme_name, value = self.d.own_identifier
            node = _identifier(b, instance, self.local("identifier"), BF.Identifier, value)
            source = self.local("source")
            b.type(source, BF.Source)
            b.label(source, scheme_name)
            b.add(node, BF.source, source)

    def published_version(self) -> None:
        """arXiv's ``<doi>``: the article, another Instance of the Work, named from its DOI."""
        doi = normalise_doi(self.d.published_doi) if self.d.published_doi else None
        if not doi:
            return
        b = self.b
        published = self.minter.from_identifier("instance", "doi", doi)
        b.type(published, BF.Instance)
        b.add(published, BF.instanceOf, self.work)
        if self.title:  # the article's title is the e-print's, as far as this record knows
            self._title(published, self.title)
        _identifier(b, published, self.local("identifier"), BF.Doi, doi)
        b.add(self.instance, BF.hasEquivalent, published)

    def texts(self) -> None:
        """Summaries, languages, rights and typed notes."""
        b, d, instance, work = self.b, self.d, self.instance, self.work
        for text, lang in d.summaries:
            text = " ".join(text.split())
            if text:
                node = self.local("summary")
                b.add(work, BF.summary, node)
                b.type(node, BF.Summary)
                b.text(node, RDFS.label, text, lang)
        for value in d.languages:
            code = language_code(value)
            iri = vocab.language_iri(code) if code else None
            if iri is not None:
                b.add(instance, BF.language, iri)
                b.add(work, BF.language, iri)
        for value in d.rights:
            value = " ".join(value.split())
            if not value:
                continue
            node = self.local("policy")
            b.add(instance, BF.usageAndAccessPolicy, node)
            b.type(node, BF.UsePolicy)
            b.label(node, value)
            iri = _iri(value) if value.lower().startswith(_LINK_SCHEMES) else None
            if iri is not None:
                b.add(instance, DCT.license, iri)
        for note_type, text in d.notes:
            text = " ".join(text.split())
            if text:
                node = self.local("note")
                b.add(instance, BF.note, node)
                b.type(node, BF.Note)
                b.text(node, BF.noteType, note_type)
                b.label(node, text)


def _instance_iri(
    d: Description, identifiers: list[tuple[str, NamedNode, str]], minter: IriMinter, record_key: str
) -> NamedNode:
    for _value, cls, normalised in identifiers:
        if cls is BF.Isbn:
            return minter.from_identifier("instance", "isbn", normalised)
    for _value, cls, normalised in identifiers:
        if cls is BF.Doi:
            return minter.from_identifier("instance", "doi", normalised)
    if d.own_identifier is not None:
        scheme_name, value = d.own_identifier
        return minter.from_identifier("instance", scheme_name.lower(), value)
    return minter.from_identifier("instance", "oai", record_key)


def creator_key(name: str) -> str:
    """A creator's name as MARC's work key has it: normalised, without the dates a heading ends with.

    MARC keys a Work by the main entry's $a $b, so "Austen, Jane, 1775-1817" and
    "Austen, Jane" cluster together; a Dublin Core creator written as a
    heading must give the same key.

    >>> creator_key("Austen, Jane, 1775-1817."), creator_key("Doe, John, b. 1950-")
    ('austen jane', 'doe john')
    """
    return normalise(_HEADING_DATES.sub("", name))


def _work(
    minter: IriMinter, instance: NamedNode, creators: list[Name], title: str
) -> tuple[NamedNode, NamedNode, str]:
    creator = creator_key(creators[0].label) if creators else ""
    proper = normalise(title)
    if creator and proper:
        key = f"{creator}|{proper}"
        return minter.from_key("work", key), CG.SameCreatorAndTitle, key
    key = f"instance|{instance.value}"
    return minter.from_key("work", key), CG.RecordOnly, key


def _agent(b: GraphBuilder, minter: IriMinter, name: Name) -> NamedNode:
    label = clean_text(name.label)
    agent = minter.from_key("agent", label)
    if name.person:
        b.type(agent, BF.Agent, BF.Person)
    else:
        b.type(agent, BF.Agent)
    b.label(agent, label)
    return agent


def _contribution(b: GraphBuilder, work: NamedNode, agent: NamedNode, role: NamedNode, primary: bool) -> None:
    """A part of the Work named after its agent, as MARC's Work contributions are."""
    node = IriMinter.part(work, "contribution", agent.value)
    b.add(work, BF.contribution, node)
    b.type(node, BF.Contribution)
    if primary:
        b.type(node, BF.PrimaryContribution)
    b.add(node, BF.agent, agent)
    b.add(node, BF.role, role)


def _concept(b: GraphBuilder, minter: IriMinter, scheme: NamedNode, label: str) -> NamedNode | None:
    label = clean_text(" ".join(label.split()))
    if not label:
        return None
    concept = minter.from_key("concept", f"{scheme.value}|{label}")
    b.type(concept, SKOS.Concept)
    b.add(concept, SKOS.inScheme, scheme)
    b.label(concept, label)
    return concept


def _provision(b: GraphBuilder, instance: NamedNode, local, dates: list[str], publishers: list[str]) -> None:  # noqa: ANN001
    """dc:date and dc:publisher -> one bf:Publication; its year also as xsd:gYear, as MARC's 008."""
    dates = [" ".join(d.split()) for d in dates if d.strip()]
    publishers = [" ".join(p.split()) for p in publishers if p.strip()]
    if not dates and not publishers:
        return
    node = local("provision")
    b.add(instance, BF.provisionActivity, node)
    b.type(node, BF.ProvisionActivity, BF.Publication)
    for name in publishers:
        agent = local("agent")
        b.add(node, BF.agent, agent)
        b.type(agent, BF.Agent)
        b.label(agent, name)
    for value in dates:
        b.text(node, BF.date, value)
    years = [m.group(1) for m in map(_YEAR.match, dates) if m]
    if years:
        b.typed(node, BF.date, min(years), XSD.gYear)


def _identifier(b: GraphBuilder, owner: NamedNode, node: NamedNode, cls: NamedNode, value: str) -> NamedNode:
    b.add(owner, BF.identifiedBy, node)
    b.type(node, cls)
    b.add(node, RDF.value, Literal(value))
    return node


def _iri(value: str) -> NamedNode | None:
    try:
        return NamedNode(value.strip())
    except ValueError:
        return None


def _locator(b: GraphBuilder, instance: NamedNode, value: str) -> None:
    iri = _iri(value)
    if iri is not None:
        b.add(instance, BF.electronicLocator, iri)
