"""A :class:`ScholarlyWork` -> its record graph: the BIBFRAME model the MARC mapper uses.

One mapper for every scholarly source, so that the sources meet:

* **Instance** named by the strongest identifier, with the MARC mapper's
  schemes (``ingest.iri``): a book's ISBN (MARC also prefers the ISBN), else
  the DOI (lower case: ``instance/doi-<hash>``), else the PMID, OpenAlex ID...
  A MARC record whose 024 gives the DOI names the same node
  (``ingest.marc.identifiers.instance_iri``), whichever arrives first.
  Typed ``bf:Electronic``: every one of these sources describes the online
  version a DOI resolves to.
* **Work** keyed as MARC keys a record without a uniform title
  (``ingest.marc.works``): ``normalised "Family, Given" of the first author |
  normalised title`` (the title before a colon, as MARC's 245 $a, leading
  article dropped), reason ``cg:SameCreatorAndTitle``; with no author, the
  Instance itself (``cg:RecordOnly``).
* **Agents** named by ORCID (``https://orcid.org/...``) or ROR
  (``https://ror.org/...``), the authority IRIs a MARC $1 gives, so they meet
  across sources; an agent with neither is local to the record: names alone
  never merge people (issue 15, deliverable 3). Authors are contributions to
  the Work (the first a ``bf:PrimaryContribution``), editors and translators
  to the Instance, as MARC places them; affiliations are ``cg:affiliation``
  of the contribution.
* **Journal** as a serial: an Instance named by its ISSN-L, else print ISSN,
  else the first ISSN (as a MARC serial record with that 022 names its
  Instance), an instance of a ``bf:Serial`` Work; the article is
  ``bf:partOf`` it with ``schema:volumeNumber``, ``issueNumber``,
  ``pageStart``, ``pageEnd`` (``schema:pagination`` for an article number).
  A book chapter is part of the book's Instance (by ISBN).
* **References**: ``bf:references`` to the Instance the cited DOI names,
  so the cited work's own record lands on that node when it arrives.
* Abstracts ``bf:summary`` of the Work; licences ``dcterms:license`` (an
  IRI) or ``bf:usageAndAccessPolicy`` (text); funders and awards
  ``schema:funding`` Grant nodes; subjects and keywords ``bf:subject``
  SKOS concepts in a scheme per source and vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pyoxigraph import Literal, NamedNode

from ingest.identifiers import ORCID_BASE, ROR_BASE
from ingest.iri import IriMinter, normalise
from ingest.marc import vocab
from ingest.model import RecordGraph, Rejected, SourceRecord
from ingest.quads import GraphBuilder
from ingest.scholarly.work import Contributor, Organisation, RecordFault, ScholarlyWork
from ontology.namespaces import BF, BFLC, CG, DCT, RDF, RDFS, SDO, SKOS, XSD
from ontology.term_labels import languages

_CONTENT = {
    "text": BF.Text, "dataset": BF.Dataset, "software": BF.Multimedia, "image": BF.StillImage,
    "video": BF.MovingImage, "sound": BF.Audio, "map": BF.Cartography,
}
#: Roles stated on the Instance (one edition's, as ``ingest.marc.contributions`` places them).
_INSTANCE_ROLES = frozenset({"editor", "translator", "publisher", "distributor"})
_SERIAL_ISSUANCE = NamedNode("http://id.loc.gov/vocabulary/issuance/serl")
_LINKS = {
    "references": BF.references, "referencedBy": BF.referencedBy, "partOf": BF.partOf,
    "hasPart": BF.hasPart, "supplementTo": BF.supplementTo, "supplement": BF.supplement,
}
_DATES = {
    "created": DCT.created, "modified": DCT.modified, "accepted": DCT.dateAccepted,
    "submitted": DCT.dateSubmitted, "available": DCT.available,
}
_IDENTIFIER_CLASSES = {"isbn": BF.Isbn, "handle": BF.Hdl, "urn": BF.Urn}
_IDENTIFIER_SOURCES = {
    "pmid": "PubMed", "pmcid": "PubMed Central", "openalex": "OpenAlex", "arxiv": "arXiv",
    "mag": "Microsoft Academic Graph",
}
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]{1,2000}$")
#: Books are named by ISBN first, as the MARC mapper names them.
_BOOK_GENRES = frozenset({"book", "monograph", "edited-book", "reference-book", "book-set"})


def _iso_639_1_to_marc() -> dict[str, str]:
    return {row.iso639_1: code for code, row in languages().items() if row.iso639_1}


_MARC_LANGUAGES = _iso_639_1_to_marc()
#: How each source is named in the labels of its concept schemes.
SOURCE_NAMES = {"crossref": "Crossref", "openalex": "OpenAlex", "datacite": "DataCite", "jats": "JATS",
                "pubmed": "PubMed"}


def mapper_for(convert: Callable[[SourceRecord], ScholarlyWork | tuple[str, str]]) -> Callable:
    """The ``SourceFormat.mapper`` of a format whose converter is ``convert``.

    ``convert`` returns the work, or ``(source, id)`` of a record whose graph
    is to go (each PMID of a PubMed ``DeleteCitation``), or raises
    :class:`RecordFault`, which becomes a ``Rejected`` with its rule.
    """

    def mapper(record: SourceRecord, minter: IriMinter, default_source: str = "") -> RecordGraph | Rejected:
        try:
            work = convert(record)
        except RecordFault as fault:
            return Rejected(record.position, fault.rule, str(fault))
        if isinstance(work, tuple):  # (source, id) of a withdrawn record
            graph = minter.graph(*work)
            return RecordGraph(graph=graph.value, position=record.position, nquads=b"",
                               quad_count=0, content_hash="", deleted=True)
        return map_work(work, record, minter)

    return mapper


def map_work(work: ScholarlyWork, record: SourceRecord, minter: IriMinter) -> RecordGraph:
    if not work.title:
        raise_no_title(work)
    graph = minter.graph(work.source, work.record_id)
    return _Mapping(work, GraphBuilder(graph, minter.layout), minter).run(record)


def raise_no_title(work: ScholarlyWork) -> None:
    raise RecordFault("no-title", f"{work.source} record {work.record_id} has no title")


def instance_iri(work: ScholarlyWork, minter: IriMinter) -> NamedNode:
    """The Instance's IRI from its strongest identifier (see the module docstring)."""
    if work.genre in _BOOK_GENRES:
        for scheme, value in work.identifiers:
            if scheme == "isbn":
                return minter.from_identifier("instance", "isbn", value)
    if work.doi:
        return minter.from_identifier("instance", "doi", work.doi)
    for scheme in ("pmid", "openalex", "arxiv"):
        for known, value in work.identifiers:
            if known == scheme:
                return minter.from_identifier("instance", scheme, value)
    return minter.from_identifier("instance", work.source, work.record_id)


def work_key(work: ScholarlyWork) -> tuple[str, NamedNode] | None:
    """``(key, reason)`` of the Work as MARC keys it, or ``None`` without an author."""
    authors = [c for c in work.contributors if c.role not in _INSTANCE_ROLES]
    title = (work.title or "").split(":", 1)[0]
    title = normalise(_LEADING_ARTICLE.sub("", title.strip()))
    if not authors or not title:
        return None
    creator = normalise(authors[0].name)
    return (f"{creator}|{title}", CG.SameCreatorAndTitle) if creator else None


def typed_date(value: str) -> Literal | None:
    """``xsd:date``, ``xsd:gYearMonth`` or ``xsd:gYear`` of an ISO date's leading part.

    >>> typed_date("2012-03-21T00:00:00Z").value, typed_date("2012-3").value
    ('2012-03-21', '2012')
    """
    match = _DATE.match(value.strip())
    if match is None:
        return None
    year, month, day = match.groups()
    if month and day and "01" <= month <= "12" and "01" <= day <= "31":
        return Literal(f"{year}-{month}-{day}", datatype=XSD.date)
    if month and "01" <= month <= "12":
        return Literal(f"{year}-{month}", datatype=XSD.gYearMonth)
    return Literal(year, datatype=XSD.gYear)


def safe_iri(value: str | None) -> NamedNode | None:
    """``value`` as an IRI if it is an absolute http(s) IRI pyoxigraph accepts, else ``None``.

    >>> safe_iri("https://doi.org/10.1890/0012-9658(2006)87[2832:TIOPMA]2.0.CO;2") is None
    True
    """
    if not value or not _IRI.match(value.strip()):
        return None
    try:
        return NamedNode(value.strip())
    except ValueError:
        return None


def language_iri(code: str | None) -> NamedNode | None:
    """An ISO 639-1 (``en``), 639-2 (``eng``) or BCP 47 (``en-US``) code -> id.loc.gov language."""
    if not code:
        return None
    primary = code.strip().lower().split("-", 1)[0].split("_", 1)[0]
    marc = _MARC_LANGUAGES.get(primary, primary)
    return vocab.language_iri(marc) if len(marc) == 3 else None


class _Mapping:
    """One work's statements, filed by ``GraphBuilder`` in its record's or its units' graphs."""

    def __init__(self, work: ScholarlyWork, builder: GraphBuilder, minter: IriMinter) -> None:
        self.work = work
        self.b = builder
        self.minter = minter
        self.graph = builder.graph
        self.counters: dict[str, int] = {}
        self.organisations: dict[str, NamedNode] = {}
        self.schemes: dict[tuple[str, str | None], NamedNode] = {}
        self.lang = work.language.split("-")[0].lower() if work.language else None
        self.source_name = SOURCE_NAMES.get(work.source, work.source)

    def local(self, kind: str) -> NamedNode:
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return IriMinter.local(self.graph, kind, n)

    def run(self, record: SourceRecord) -> RecordGraph:
        work, b = self.work, self.b
        self.instance = instance = instance_iri(work, self.minter)
        self.describe_work()
        b.type(instance, BF.Instance, BF.Electronic)
        self.title(instance)
        b.label(instance, self.full_title())
        self.identifiers()
        self.contributions()
        self.container()
        self.provision()
        self.texts()
        self.funding()
        self.subjects()
        self.links()
        language = language_iri(work.language)
        if language is not None:
            b.add(instance, BF.language, language)
            b.add(self.work_node, BF.language, language)
        return b.to_record_graph(record.position, (*record.warnings, *work.warnings))

    # ------------------------------------------------------------------ work and titles

    def full_title(self) -> str:
        work = self.work
        return f"{work.title}: {work.subtitle}" if work.subtitle else work.title or ""

    def describe_work(self) -> None:
        b, instance = self.b, self.instance
        keyed = work_key(self.work)
        key, reason = keyed if keyed else (f"instance|{instance.value}", CG.RecordOnly)
        node = self.work_node = self.minter.from_key("work", key)
        b.add(instance, BF.instanceOf, node)
        link = IriMinter.local(self.graph, "work", "link")
        b.type(link, CG.WorkLink)
        b.add(link, CG.linkedInstance, instance)
        b.add(link, CG.linkedWork, node)
        b.add(link, CG.reason, reason)
        b.text(link, CG.matchKey, key)
        b.type(node, BF.Work, _CONTENT.get(self.work.content, BF.Work))
        b.label(node, self.work.title)
        if self.work.genre:
            self.concept(node, BF.genreForm, self.work.genre, f"{self.source_name} types")

    def title(self, instance: NamedNode) -> None:
        b, work = self.b, self.work
        node = self.local("title")
        b.add(instance, BF.title, node)
        b.type(node, BF.Title)
        b.text(node, BF.mainTitle, work.title)
        b.text(node, BF.subtitle, work.subtitle)
        for other in work.other_titles:
            variant = self.local("title")
            b.add(instance, BF.title, variant)
            b.type(variant, BF.VariantTitle)
            b.text(variant, BF.mainTitle, other)

    # ------------------------------------------------------------------ identifiers

    def identifier(self, cls: NamedNode, value: str, source: str | None = None) -> None:
        b = self.b
        node = self.local("identifier")
        b.add(self.instance, BF.identifiedBy, node)
        b.type(node, cls)
        b.add(node, RDF.value, Literal(value))
        if source:
            b.label(node, f"{source} {value}")

    def identifiers(self) -> None:
        work = self.work
        if work.doi:
            self.identifier(BF.Doi, work.doi)
        for scheme, value in work.identifiers:
            cls = _IDENTIFIER_CLASSES.get(scheme, BF.Identifier if scheme in _IDENTIFIER_SOURCES else BF.Local)
            self.identifier(cls, value, _IDENTIFIER_SOURCES.get(scheme))
        url = safe_iri(work.url)
        if url is not None:
            self.b.add(self.instance, BF.electronicLocator, url)

    # ------------------------------------------------------------------ agents

    def agent(self, contributor: Contributor | Organisation, kind: str) -> NamedNode:
        """The agent's node: its ORCID or ROR IRI (a shared unit), else local to the record."""
        b = self.b
        orcid = getattr(contributor, "orcid", None)
        if orcid:
            node = NamedNode(ORCID_BASE + orcid)
        elif contributor.ror:
            node = NamedNode(ROR_BASE + contributor.ror)
        else:
            node = self.local("agent")
        b.type(node, BF.Agent, BF.Person if kind == "person" else BF.Organization)
        b.label(node, contributor.name)
        return node

    def organisation(self, organisation: Organisation) -> NamedNode:
        key = organisation.ror or normalise(organisation.name)
        node = self.organisations.get(key)
        if node is None:
            node = self.organisations[key] = self.agent(organisation, "organisation")
        return node

    def contributions(self) -> None:
        b = self.b
        first = True
        for contributor in self.work.contributors:
            agent = self.agent(contributor, contributor.kind)
            shared = not agent.value.startswith(self.graph.value + "#")
            on_instance = contributor.role in _INSTANCE_ROLES
            owner = self.instance if on_instance else self.work_node
            if shared and not on_instance:
                node = IriMinter.part(owner, "contribution", agent.value)
            else:
                node = self.local("contribution")
            b.add(owner, BF.contribution, node)
            b.type(node, BF.Contribution)
            if first and not on_instance:
                b.type(node, BF.PrimaryContribution)
                first = False
            b.add(node, BF.agent, agent)
            self.role(node, contributor.role, owner if shared and not on_instance else None)
            for affiliation in contributor.affiliations:
                b.add(node, CG.affiliation, self.organisation(affiliation))

    def role(self, contribution: NamedNode, term: str, owner: NamedNode | None) -> None:
        b = self.b
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", term).strip()
        roles = vocab.relators_from_term(words.lower()) if words else []
        for role in roles:
            b.add(contribution, BF.role, role)
        if roles or not words:
            return
        node = IriMinter.part(owner, "role", normalise(words)) if owner is not None else self.local("role")
        b.add(contribution, BF.role, node)
        b.type(node, BF.Role)
        b.label(node, words)

    # ------------------------------------------------------------------ journal, enumeration

    def container(self) -> None:
        work, b = self.work, self.b
        container = work.container
        if container is not None and (container.title or container.issns or container.isbns):
            host = self.host(container)
            if host is not None:
                b.add(self.instance, BF.partOf, host)
        b.text(self.instance, SDO.volumeNumber, work.volume)
        b.text(self.instance, SDO.issueNumber, work.issue)
        b.text(self.instance, SDO.pageStart, work.first_page)
        b.text(self.instance, SDO.pageEnd, work.last_page)
        b.text(self.instance, SDO.pagination, work.article_number)

    def host(self, container) -> NamedNode | None:
        """The journal's (or book's) Instance, an instance of a Work of its own."""
        b, minter = self.b, self.minter
        issn = container.issn_l or next((i for i, kind in container.issns if kind == "print"), None)
        issn = issn or (container.issns[0][0] if container.issns else None)
        serial = container.kind in ("journal", "series", "proceedings-series")
        if issn:
            host = minter.from_identifier("instance", "issn", issn)
        elif container.isbns:
            host = minter.from_identifier("instance", "isbn", container.isbns[0])
        elif container.title:
            host = self.local("host")
        else:
            return None
        local = host.value.startswith(self.graph.value + "#")
        host_work = self.local("host-work") if local else minter.from_key("work", f"instance|{host.value}")
        b.type(host, BF.Instance)
        b.add(host, BF.instanceOf, host_work)
        b.type(host_work, BF.Work, BF.Text)
        if serial:
            b.type(host_work, BF.Serial)
            b.add(host, BF.issuance, _SERIAL_ISSUANCE)
        if container.title:
            b.label(host, container.title)
            b.label(host_work, container.title)
            title = self.local("host-title") if local else IriMinter.part(host, "title", normalise(container.title))
            b.add(host, BF.title, title)
            b.type(title, BF.Title)
            b.text(title, BF.mainTitle, container.title)
        if not local:
            link = IriMinter.local(self.graph, "work", "host-link")
            b.type(link, CG.WorkLink)
            b.add(link, CG.linkedInstance, host)
            b.add(link, CG.linkedWork, host_work)
            b.add(link, CG.reason, CG.RecordOnly)
            b.text(link, CG.matchKey, f"instance|{host.value}")
        for value, kind in container.issns:
            self.host_identifier(host, local, BF.Issn, value, kind)
        if container.issn_l:
            self.host_identifier(host, local, BF.IssnL, container.issn_l, None)
        for value in container.isbns:
            self.host_identifier(host, local, BF.Isbn, value, None)
        return host

    def host_identifier(self, host: NamedNode, local: bool, cls: NamedNode, value: str, kind: str | None) -> None:
        b = self.b
        node = self.local("host-identifier") if local else IriMinter.part(host, "identifier", f"{cls.value}|{value}")
        b.add(host, BF.identifiedBy, node)
        b.type(node, cls)
        b.add(node, RDF.value, Literal(value))
        if kind:
            b.text(node, BF.qualifier, kind)

    # ------------------------------------------------------------------ dates, publisher

    def provision(self) -> None:
        work, b = self.work, self.b
        if work.issued or work.publisher:
            node = self.local("publication")
            b.add(self.instance, BF.provisionActivity, node)
            b.type(node, BF.ProvisionActivity, BF.Publication)
            date = typed_date(work.issued) if work.issued else None
            if date is not None:
                b.add(node, BF.date, date)
            b.text(node, BFLC.simpleAgent, work.publisher)
            b.text(node, BFLC.simplePlace, work.publisher_place)
        for kind, value in work.dates:
            date = typed_date(value)
            if date is not None and kind in _DATES:
                b.add(self.instance, _DATES[kind], date)

    # ------------------------------------------------------------------ abstracts, licences

    def texts(self) -> None:
        b, work = self.b, self.work
        for text, lang in work.abstracts:
            node = self.local("summary")
            b.add(self.work_node, BF.summary, node)
            b.type(node, BF.Summary)
            tag = (lang or self.lang or "").split("-")[0].lower() or None
            b.text(node, RDFS.label, text, tag if tag and tag.isalpha() and len(tag) <= 3 else None)
        for uri in dict.fromkeys(work.licence_uris):
            licence = safe_iri(uri)
            if licence is not None:
                b.add(self.instance, DCT.license, licence)
            else:
                work.licence_texts.append(uri)
        for text in dict.fromkeys(work.licence_texts):
            node = self.local("policy")
            b.add(self.instance, BF.usageAndAccessPolicy, node)
            b.type(node, BF.UsePolicy)
            b.label(node, text)

    # ------------------------------------------------------------------ funding

    def funding(self) -> None:
        b = self.b
        for funding in self.work.funding:
            funder = None
            if funding.funder_ror or funding.funder_doi or funding.funder:
                if funding.funder_ror:
                    funder = NamedNode(ROR_BASE + funding.funder_ror)
                elif funding.funder_doi:
                    funder = NamedNode("https://doi.org/" + funding.funder_doi)
                else:
                    funder = self.organisation(Organisation(funding.funder or ""))
                b.type(funder, BF.Agent, BF.Organization)
                b.label(funder, funding.funder)
            for award in funding.awards or [None]:
                key = f"{funder.value if funder else ''}|{normalise(award or '')}"
                grant = IriMinter.part(self.work_node, "grant", key)
                b.add(self.work_node, SDO.funding, grant)
                b.type(grant, SDO.Grant)
                if funder is not None:
                    b.add(grant, SDO.funder, funder)
                b.text(grant, SDO.identifier, award)

    # ------------------------------------------------------------------ subjects

    def scheme(self, name: str, uri: str | None) -> NamedNode:
        known = self.schemes.get((name, uri))
        if known is not None:
            return known
        b = self.b
        node = safe_iri(uri.rstrip("/")) if uri else None
        if node is None:
            node = self.minter.from_key("concept", f"scheme|{name}")
        b.type(node, SKOS.ConceptScheme)
        b.label(node, name)
        self.schemes[(name, uri)] = node
        return node

    def concept(self, owner: NamedNode, prop: NamedNode, label: str, scheme_name: str,
                scheme_uri: str | None = None, uri: str | None = None) -> None:
        b = self.b
        scheme = self.scheme(scheme_name, scheme_uri)
        node = safe_iri(uri)
        if node is None:
            node = self.minter.from_key("concept", f"{scheme.value}|{label}")
        b.type(node, SKOS.Concept)
        b.add(node, SKOS.inScheme, scheme)
        b.label(node, label)
        b.add(owner, prop, node)

    def subjects(self) -> None:
        for subject in self.work.subjects:
            if subject.label.strip():
                scheme = subject.scheme or f"{self.source_name} keywords"
                self.concept(self.work_node, BF.subject, subject.label.strip(), scheme,
                             subject.scheme_uri, subject.uri)

    # ------------------------------------------------------------------ links between works

    def links(self) -> None:
        b = self.b
        for link in self.work.links:
            if link.doi == self.work.doi:
                continue
            b.add(self.instance, _LINKS[link.relation], self.minter.from_identifier("instance", "doi", link.doi))
