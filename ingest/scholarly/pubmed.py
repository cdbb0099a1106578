"""A PubMed/MEDLINE ``<PubmedArticle>`` (E-utilities efetch, the annual baseline) -> :class:`ScholarlyWork`.

Element meanings follow NLM's PubMed DTD (``pubmed_190101.dtd`` and later):
``MedlineCitation/Article`` holds the journal (``ISSN IssnType``,
``JournalIssue`` volume, issue and ``PubDate``), ``ArticleTitle``,
``Pagination``, ``ELocationID EIdType="doi"``, ``Abstract/AbstractText``
(with its ``Label``), ``AuthorList`` (``Identifier Source="ORCID"``,
``AffiliationInfo`` with a ROR ``Identifier``), ``Language`` (MARC codes:
``eng``), ``GrantList``; ``MeshHeadingList`` gives MeSH descriptors by their
unique ID (``D000818`` -> ``http://id.nlm.nih.gov/mesh/D000818``, the IRI the
MARC mapper gives MeSH headings); ``PubmedData/ReferenceList`` the cited
works' DOIs. A ``<DeleteCitation>`` lists PMIDs that NLM withdrew: each is a
deleted record, and its graph goes.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from ingest.identifiers import normalise_doi, normalise_issn, normalise_orcid, normalise_ror
from ingest.model import SourceRecord
from ingest.scholarly.datacite import _child, _value
from ingest.scholarly.jats import _find
from ingest.scholarly.mapper import mapper_for
from ingest.scholarly.text import element_text
from ingest.scholarly.work import (
    Container,
    Contributor,
    Funding,
    Organisation,
    RecordFault,
    ScholarlyWork,
    Subject,
)

_MONTHS = {name: f"{n:02d}" for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
MESH = "http://id.nlm.nih.gov/mesh"


def _date(element: Element | None) -> str | None:
    if element is None:
        return None
    year = _value(_child(element, "Year"))
    if not year:
        medline = _value(_child(element, "MedlineDate"))  # "1998 Dec-1999 Jan"
        return medline[:4] if medline and medline[:4].isdigit() else None
    parts = [year[:4]]
    month = (_value(_child(element, "Month")) or "").lower()
    month = _MONTHS.get(month[:3], f"{int(month):02d}" if month.isdigit() else "")
    day = _value(_child(element, "Day"))
    if month:
        parts.append(month)
        if day and day.isdigit():
            parts.append(f"{int(day):02d}")
    return "-".join(parts)


def _identifier(element: Element, source: str) -> str | None:
    for ident in element:
        if ident.tag == "Identifier" and (ident.get("Source") or "").upper() == source:
            return _value(ident)
    return None


def convert(record: SourceRecord) -> ScholarlyWork | tuple[str, str]:
    if isinstance(record.payload, str):  # a PMID of a <DeleteCitation>
        return ("pubmed", record.payload)
    element: Element = record.payload
    citation = _child(element, "MedlineCitation")
    article = _child(citation, "Article") if citation is not None else None
    pmid = _value(_child(citation, "PMID")) if citation is not None else None
    if citation is None or article is None or not pmid:
        raise RecordFault("no-identifier", f"<{element.tag}> without MedlineCitation/PMID and Article")
    ids = {(i.get("IdType") or "").lower(): _value(i) for i in element.iter("ArticleId")
           if i.get("IdType") and _find(element, "PubmedData") is not None}
    doi = None
    for location in article.iter("ELocationID"):
        if (location.get("EIdType") or "").lower() == "doi":
            doi = normalise_doi(_value(location))
    doi = doi or normalise_doi(ids.get("doi"))
    work = ScholarlyWork("pubmed", pmid, doi=doi)
    work.identifiers.append(("pmid", pmid))
    if ids.get("pmc"):
        work.identifiers.append(("pmcid", ids["pmc"]))
    title = element_text(_child(article, "ArticleTitle")) or element_text(_child(article, "VernacularTitle"))
    work.title = title.rstrip(".") if title.endswith(".") and not title.endswith("..") else title
    work.genre = "journal-article"
    authors = _child(article, "AuthorList")
    for author in (a for a in authors if a.tag == "Author") if authors is not None else ():
        family, given = _value(_child(author, "LastName")), _value(_child(author, "ForeName"))
        collective = _value(_child(author, "CollectiveName"))
        if not family and not collective:
            continue
        name = (f"{family}, {given}" if given else family) if family else collective
        orcid_text = _identifier(author, "ORCID")
        orcid = normalise_orcid(orcid_text) if orcid_text else None
        if orcid_text and orcid is None:
            work.warn("orcid", f"{name}: {orcid_text!r} is not a valid ORCID iD, not used")
        affiliations = []
        for info in (i for i in author if i.tag == "AffiliationInfo"):
            label = _value(_child(info, "Affiliation"))
            ror_text = _identifier(info, "ROR")
            if label:
                affiliations.append(Organisation(label, normalise_ror(ror_text) if ror_text else None))
        work.contributors.append(Contributor(name, "person" if family else "organisation", "author",
                                             orcid, None, affiliations))
    journal = _child(article, "Journal")
    if journal is not None:
        issns = []
        for issn in (e for e in journal if e.tag == "ISSN"):
            value = normalise_issn(_value(issn))
            if value:
                issns.append((value, (issn.get("IssnType") or "").lower() or None))
        info = _child(citation, "MedlineJournalInfo")
        linking = normalise_issn(_value(_child(info, "ISSNLinking"))) if info is not None else None
        work.container = Container(_value(_child(journal, "Title")), issns, linking, [], "journal")
        issue = _child(journal, "JournalIssue")
        if issue is not None:
            work.volume, work.issue = _value(_child(issue, "Volume")), _value(_child(issue, "Issue"))
            work.issued = _date(_child(issue, "PubDate"))
    pagination = _child(article, "Pagination")
    if pagination is not None:
        pages = _value(_child(pagination, "MedlinePgn"))
        start, end = _value(_child(pagination, "StartPage")), _value(_child(pagination, "EndPage"))
        if not start and pages:
            start, _, end = pages.partition("-")
            end = end or None
        work.first_page, work.last_page = start, end
    abstract = _child(article, "Abstract")
    if abstract is not None:
        parts = []
        for text in (t for t in abstract if t.tag == "AbstractText"):
            label = text.get("Label")
            body = element_text(text)
            if body:
                parts.append(f"{label}: {body}" if label else body)
        if parts:
            work.abstracts.append((" ".join(parts), None))
    language = _value(_child(article, "Language"))
    work.language = language if language and language != "und" else None
    grants = _child(article, "GrantList")
    for grant in (g for g in grants if g.tag == "Grant") if grants is not None else ():
        agency = _value(_child(grant, "Agency"))
        number = _value(_child(grant, "GrantID"))
        if agency or number:
            work.funding.append(Funding(agency, None, None, [number] if number else []))
    headings = _child(citation, "MeshHeadingList")
    for heading in headings if headings is not None else ():
        descriptor = _child(heading, "DescriptorName")
        if descriptor is not None and _value(descriptor):
            ui = descriptor.get("UI")
            work.subjects.append(Subject(_value(descriptor), "MeSH", MESH, f"{MESH}/{ui}" if ui else None))
    for keywords in citation.iter("KeywordList"):
        for keyword in (k for k in keywords if k.tag == "Keyword"):
            if element_text(keyword):
                work.subjects.append(Subject(element_text(keyword), "PubMed keywords"))
    for reference in element.iter("Reference"):
        cited = next((normalise_doi(_value(i)) for i in reference.iter("ArticleId")
                      if (i.get("IdType") or "").lower() == "doi"), None)
        work.cite(cited)
    if not work.title:
        raise RecordFault("no-title", f"PubMed record {pmid} has no title")
    return work


def identify(element: Element) -> str | None:
    for location in element.iter("ELocationID"):
        if (location.get("EIdType") or "").lower() == "doi":
            return normalise_doi(_value(location))
    citation = _child(element, "MedlineCitation")
    pmid = _value(_child(citation, "PMID")) if citation is not None else None
    return f"pmid:{pmid}" if pmid else None


map_pubmed = mapper_for(convert)
