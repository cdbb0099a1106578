"""Crossref XML (deposit schema 4.x-5.x, UNIXREF/UNIXSD and query results) -> :class:`ScholarlyWork`.

A deposit's ``<body>`` holds containers (``<journal>``, ``<book>``,
``<conference>``, ``<posted_content>``...); a query result or UNIXREF record
wraps one in ``<doi_record><crossref>``. A container describes one or more
works with the context they share (a journal's title and ISSNs, an issue's
volume and date): :func:`works_of` splits it into ``(work element, context)``
pairs, one record each. Element names are read without namespaces
(``ingest.sources.xml_works``): ``jats:abstract`` is ``abstract``,
``fr:assertion`` is ``assertion``.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

from ingest.identifiers import (
    normalise_doi,
    normalise_isbn,
    normalise_issn,
    normalise_orcid,
    normalise_ror,
)
from ingest.model import SourceRecord
from ingest.scholarly.datacite import _child, _value
from ingest.scholarly.mapper import mapper_for
from ingest.scholarly.text import element_text
from ingest.scholarly.work import (
    Container,
    Contributor,
    Funding,
    Organisation,
    RecordFault,
    ScholarlyWork,
)

#: Container element -> (its metadata elements, its work elements).
_CONTAINERS = {
    "journal": (("journal_metadata", "journal_issue"), ("journal_article",)),
    "book": (("book_metadata", "book_series_metadata", "book_set_metadata"), ("content_item",)),
    "conference": (("proceedings_metadata", "proceedings_series_metadata", "event_metadata"),
                   ("conference_paper",)),
}
#: Containers that are themselves the work.
_SINGLE = frozenset({"posted_content", "dissertation", "peer_review", "standard", "sa_component",
                     "report-paper", "database", "pending_publication"})
_GENRES = {"journal_article": "journal-article", "content_item": "book-chapter",
           "conference_paper": "proceedings-article", "posted_content": "posted-content",
           "dissertation": "dissertation", "peer_review": "peer-review", "book_metadata": "book",
           "report-paper": "report", "database": "dataset", "standard": "standard"}


def works_of(container: Element) -> Iterator[tuple[Element, dict[str, Element]]]:
    """``(work element, context)`` of every work a Crossref container describes."""
    if container.tag == "doi_record":
        crossref = _child(container, "crossref")
        inner = next(iter(crossref), None) if crossref is not None else None
        if inner is not None:
            yield from works_of(inner)
        return
    if container.tag in _SINGLE:
        yield container, {}
        return
    metadata_names, work_names = _CONTAINERS.get(container.tag, ((), ()))
    context = {child.tag: child for child in container if child.tag in metadata_names}
    works = [child for child in container if child.tag in work_names]
    book = context.get("book_metadata")
    if container.tag == "book" and book is not None and _child(book, "doi_data") is not None:
        yield book, {}
    for work in works:
        yield work, context
    if not works and not (container.tag == "book" and book is not None):
        yield container, context  # no work in it: rejected by ``convert`` with the reason


def _date(element: Element | None) -> str | None:
    if element is None:
        return None
    year, month, day = (_value(_child(element, n)) for n in ("year", "month", "day"))
    if not year or not year.isdigit():
        return None
    parts = [year]
    if month and month.isdigit():
        parts.append(f"{int(month):02d}")
        if day and day.isdigit():
            parts.append(f"{int(day):02d}")
    return "-".join(parts)


def _contributors(work: ScholarlyWork, element: Element | None) -> None:
    if element is None:
        return
    for entry in element:
        role = entry.get("contributor_role", "author")
        if entry.tag == "person_name":
            given, family = _value(_child(entry, "given_name")), _value(_child(entry, "surname"))
            if not family:
                continue
            name = f"{family}, {given}" if given else family
            orcid_text = _value(_child(entry, "ORCID"))
            orcid = normalise_orcid(orcid_text) if orcid_text else None
            if orcid_text and orcid is None:
                work.warn("orcid", f"{name}: {orcid_text!r} is not a valid ORCID iD, not used")
            affiliations = [Organisation(_value(a)) for a in entry if a.tag == "affiliation" and _value(a)]
            for group in (a for a in entry if a.tag == "affiliations"):
                for institution in (i for i in group if i.tag == "institution"):
                    label = _value(_child(institution, "institution_name"))
                    ror = next((normalise_ror(_value(i)) for i in institution
                                if i.tag == "institution_id" and i.get("type") == "ror"), None)
                    if label or ror:
                        affiliations.append(Organisation(label or ror, ror))
            work.contributors.append(Contributor(name, "person", role, orcid, None, affiliations))
        elif entry.tag == "organization" and _value(entry):
            work.contributors.append(Contributor(_value(entry), "organisation", role))


def _funding(work: ScholarlyWork, element: Element) -> None:
    for program in element.iter("program"):
        if program.get("name") != "fundref":
            continue
        for group in (a for a in program if a.tag == "assertion" and a.get("name") == "fundgroup"):
            name = funder_doi = None
            awards = []
            for assertion in group.iter("assertion"):
                kind = assertion.get("name")
                if kind == "funder_name":
                    name = (assertion.text or "").strip() or name
                elif kind == "funder_identifier":
                    funder_doi = normalise_doi(_value(assertion))
                elif kind == "award_number" and _value(assertion):
                    awards.append(_value(assertion))
            if name or funder_doi:
                work.funding.append(Funding(name, funder_doi, None, awards))


def convert(record: SourceRecord) -> ScholarlyWork:
    element, context = record.payload
    doi_data = _child(element, "doi_data")
    doi = normalise_doi(_value(_child(doi_data, "doi"))) if doi_data is not None else None
    if doi is None:
        raise RecordFault("no-identifier", f"<{element.tag}> without a valid <doi_data><doi>")
    work = ScholarlyWork("crossref", doi, doi=doi)
    work.genre = _GENRES.get(element.tag, element.tag)
    work.content = "dataset" if element.tag == "database" else "text"
    titles = _child(element, "titles")
    if titles is not None:
        work.title = element_text(_child(titles, "title")) or None
        subtitle = _child(titles, "subtitle")
        work.subtitle = element_text(subtitle) or None if subtitle is not None else None
        work.other_titles = [element_text(t) for t in titles if t.tag == "original_language_title"]
    _contributors(work, _child(element, "contributors"))
    work.language = element.get("language")
    journal, issue = context.get("journal_metadata"), context.get("journal_issue")
    if journal is not None:
        issns = [(i, e.get("media_type")) for e in journal if e.tag == "issn"
                 for i in [normalise_issn(_value(e))] if i]
        work.container = Container(_value(_child(journal, "full_title")), issns, None, [], "journal")
        work.language = work.language or journal.get("language")
    proceedings = context.get("proceedings_metadata")
    if proceedings is not None:
        isbns = [i for e in proceedings if e.tag == "isbn" for i in [normalise_isbn(_value(e))] if i]
        work.container = Container(_value(_child(proceedings, "proceedings_title")), [], None, isbns,
                                   "proceedings")
        publisher = _child(proceedings, "publisher")
        work.publisher = _value(_child(publisher, "publisher_name")) if publisher is not None else None
    book = context.get("book_metadata")
    if book is not None:
        isbns = [i for e in book if e.tag == "isbn" for i in [normalise_isbn(_value(e))] if i]
        book_titles = _child(book, "titles")
        work.container = Container(_value(_child(book_titles, "title")) if book_titles is not None else None,
                                   [], None, isbns, "book")
    if element.tag == "book_metadata":
        work.identifiers += [("isbn", i) for e in element if e.tag == "isbn"
                             for i in [normalise_isbn(_value(e))] if i]
        publisher = _child(element, "publisher")
        work.publisher = _value(_child(publisher, "publisher_name")) if publisher is not None else None
    if issue is not None:
        volume = _child(issue, "journal_volume")
        work.volume = _value(_child(volume, "volume")) if volume is not None else None
        work.issue = _value(_child(issue, "issue"))
    pages = _child(element, "pages")
    if pages is not None:
        work.first_page, work.last_page = _value(_child(pages, "first_page")), _value(_child(pages, "last_page"))
    publisher_item = _child(element, "publisher_item")
    if publisher_item is not None:
        work.article_number = _value(_child(publisher_item, "item_number"))
    dates = [d for d in element if d.tag in ("publication_date", "posted_date", "approval_date")]
    if issue is not None:
        dates += [d for d in issue if d.tag == "publication_date"]
    work.issued = next((d for d in map(_date, dates) if d), None)
    for abstract in (a for a in element if a.tag == "abstract"):
        text = element_text(abstract)
        if text:
            work.abstracts.append((text, abstract.get("lang")))
    for licence in element.iter("license_ref"):
        if _value(licence):
            work.licence_uris.append(_value(licence))
    _funding(work, element)
    citations = _child(element, "citation_list")
    for citation in citations if citations is not None else ():
        cited = normalise_doi(_value(_child(citation, "doi")))
        work.cite(cited)
    work.url = _value(_child(doi_data, "resource"))
    if not work.title:
        raise RecordFault("no-title", f"Crossref record {doi} has no title")
    return work


map_crossref_xml = mapper_for(convert)
