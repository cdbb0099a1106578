"""What every scholarly source says about one work, in one shape: the intermediate of the OA mappers.

Crossref (JSON and XML), OpenAlex, DataCite (JSON and XML), JATS and PubMed
describe the same things in seven vocabularies. Each format's converter
(``ingest.scholarly.crossref``...) fills a :class:`ScholarlyWork` from its
payload, and one mapper (``ingest.scholarly.mapper``) turns that into the
BIBFRAME graph, so an author, an ISSN or a reference is modelled once,
the same way whichever source gave it, and the sources meet.

Values are as the source gave them, trimmed; identifiers are already
normalised and checked (``ingest.identifiers``): an identifier that failed
its check is not here but in ``warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.model import RecordWarning


class RecordFault(Exception):
    """A record that cannot be mapped, with a stable rule code for the summary."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule


@dataclass(slots=True)
class Organisation:
    name: str
    ror: str | None = None


@dataclass(slots=True)
class Contributor:
    """A person or an organisation with a role in the work."""

    name: str
    #: ``person`` or ``organisation``.
    kind: str = "person"
    #: ``author``, ``editor``, ``translator``... (lower case); unknown terms are kept as they are.
    role: str = "author"
    orcid: str | None = None
    ror: str | None = None
    affiliations: list[Organisation] = field(default_factory=list)


@dataclass(slots=True)
class Funding:
    funder: str | None
    #: The Open Funder Registry DOI (``10.13039/...``), normalised.
    funder_doi: str | None = None
    funder_ror: str | None = None
    awards: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Subject:
    label: str
    #: The scheme's name (``MeSH``, ``OpenAlex topics``...); ``None``: the source's keywords.
    scheme: str | None = None
    scheme_uri: str | None = None
    #: The concept's own IRI where the source gives one (MeSH, OpenAlex, a DataCite valueUri).
    uri: str | None = None


@dataclass(slots=True)
class Container:
    """The journal, book or proceedings the work is part of."""

    title: str | None = None
    #: ``(issn, kind)``: kind ``print``, ``electronic`` or ``None``; normalised and checked.
    issns: list[tuple[str, str | None]] = field(default_factory=list)
    issn_l: str | None = None
    isbns: list[str] = field(default_factory=list)
    #: ``journal``, ``book``, ``proceedings``, ``series``...
    kind: str = "journal"


@dataclass(slots=True)
class Link:
    """A relation to another work known by its DOI (a reference, a part, a supplement...)."""

    doi: str
    #: ``references``, ``referencedBy``, ``partOf``, ``hasPart``, ``supplementTo``, ``supplement``.
    relation: str = "references"


@dataclass(slots=True)
class ScholarlyWork:
    #: Source segment of the record graph's name (``crossref``, ``openalex``...).
    source: str
    #: The record's identifier in its source (its DOI, PMID, OpenAlex ID...).
    record_id: str
    doi: str | None = None
    title: str | None = None
    subtitle: str | None = None
    other_titles: list[str] = field(default_factory=list)
    #: The source's own type (``journal-article``, ``Dataset``...), as given.
    genre: str | None = None
    #: ``text``, ``dataset``, ``software``, ``image``, ``video``, ``sound``, ``other``.
    content: str = "text"
    contributors: list[Contributor] = field(default_factory=list)
    container: Container | None = None
    volume: str | None = None
    issue: str | None = None
    first_page: str | None = None
    last_page: str | None = None
    article_number: str | None = None
    #: ISO 8601 date (``2012``, ``2012-03``, ``2012-03-21``) of issue.
    issued: str | None = None
    #: Other dates: ``(kind, ISO date)``, kinds ``created``, ``modified``, ``accepted``, ``submitted``, ``available``.
    dates: list[tuple[str, str]] = field(default_factory=list)
    publisher: str | None = None
    publisher_place: str | None = None
    #: ``(text, language)``; markup already stripped.
    abstracts: list[tuple[str, str | None]] = field(default_factory=list)
    #: Licence IRIs (Creative Commons...).
    licence_uris: list[str] = field(default_factory=list)
    #: Licence or rights statements without an IRI.
    licence_texts: list[str] = field(default_factory=list)
    funding: list[Funding] = field(default_factory=list)
    subjects: list[Subject] = field(default_factory=list)
    #: ISO 639-1 or 639-2 code, or a BCP 47 tag, as the source gave it.
    language: str | None = None
    links: list[Link] = field(default_factory=list)
    #: References the source gives without a DOI (counted, not mapped).
    references_without_doi: int = 0
    #: Other identifiers: ``(scheme, value)``, schemes ``pmid``, ``pmcid``, ``openalex``, ``isbn``, ``arxiv``...
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    url: str | None = None
    warnings: list[RecordWarning] = field(default_factory=list)

    def cite(self, doi: str | None) -> None:
        """One reference of the record: a ``references`` link when it has a (normalised) DOI,
        else only counted; every source's reader says its references through here."""
        if doi:
            self.links.append(Link(doi, "references"))
        else:
            self.references_without_doi += 1

    def warn(self, rule: str, message: str) -> None:
        if len(self.warnings) < 20:
            self.warnings.append(RecordWarning(rule, message))
