"""A Crossref REST API work (JSON, ``api.crossref.org/works``) -> :class:`ScholarlyWork`.

Field names and meanings follow Crossref's REST API documentation
(``api_format.md``): ``title``/``subtitle`` and ``container-title`` are
arrays, dates are ``{"date-parts": [[y, m, d]]}``, ``abstract`` is JATS
markup in a string, ``author[].ORCID`` an ORCID URL, ``affiliation[].id``
may carry a ROR, ``funder[].DOI`` an Open Funder Registry DOI with its
``award`` numbers, ``reference[].DOI`` the cited work, ``ISSN`` with
``issn-type`` the journal's ISSNs.
"""

from __future__ import annotations

from typing import Any

from ingest.identifiers import (
    normalise_doi,
    normalise_isbn,
    normalise_issn,
    normalise_orcid,
    normalise_ror,
)
from ingest.model import SourceRecord
from ingest.scholarly.mapper import mapper_for
from ingest.scholarly.text import strip_markup
from ingest.scholarly.work import (
    Container,
    Contributor,
    Funding,
    Link,
    Organisation,
    RecordFault,
    ScholarlyWork,
    Subject,
)

_CONTENT = {"dataset": "dataset", "component": "other", "database": "dataset"}
_CONTAINERS = {
    "journal-article": "journal", "journal-issue": "journal", "proceedings-article": "proceedings",
    "book-chapter": "book", "book-section": "book", "book-part": "book", "reference-entry": "book",
    "posted-content": "repository",
}
_RELATIONS = {"cites": "references", "references": "references", "is-part-of": "partOf",
              "has-part": "hasPart", "is-supplement-to": "supplementTo", "is-cited-by": "referencedBy"}


def first(value: Any) -> str | None:
    """The first non-empty string of a Crossref array (or the string itself)."""
    if isinstance(value, list):
        for element in value:
            if isinstance(element, str) and element.strip():
                return element.strip()
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None


def date_parts(value: Any) -> str | None:
    """``{"date-parts": [[2012, 3, 21]]}`` -> ``2012-03-21``.

    >>> date_parts({"date-parts": [[2012, 3]]})
    '2012-03'
    >>> date_parts({"date-parts": [[None]]}) is None
    True
    """
    try:
        parts = value["date-parts"][0]
        numbers = [int(p) for p in parts[:3] if p is not None]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not numbers or not 0 < numbers[0] < 10000:
        return None
    return "-".join([f"{numbers[0]:04d}", *(f"{n:02d}" for n in numbers[1:])])


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def person_name(given: Any, family: Any, name: Any = None) -> str | None:
    """``Family, Given`` as a catalogue heads a person, or the name as given."""
    given, family = _text(given), _text(family)
    if family:
        return f"{family}, {given}" if given else family
    return _text(name)


def contributor(work: ScholarlyWork, entry: Any, role: str) -> Contributor | None:
    if not isinstance(entry, dict):
        return None
    name = person_name(entry.get("given"), entry.get("family"), entry.get("name"))
    if not name:
        return None
    kind = "person" if _text(entry.get("family")) else "organisation"
    orcid = None
    if entry.get("ORCID"):
        orcid = normalise_orcid(str(entry["ORCID"]))
        if orcid is None:
            work.warn("orcid", f"{name}: {entry['ORCID']!r} is not a valid ORCID iD, not used")
    affiliations = []
    for affiliation in _list(entry.get("affiliation")):
        if not isinstance(affiliation, dict) or not _text(affiliation.get("name")):
            continue
        ror = None
        for ident in _list(affiliation.get("id")):
            if isinstance(ident, dict) and str(ident.get("id-type", "")).upper() == "ROR":
                ror = normalise_ror(str(ident.get("id", "")))
        affiliations.append(Organisation(affiliation["name"].strip(), ror))
    return Contributor(name, kind, role, orcid, None, affiliations)


def convert(record: SourceRecord) -> ScholarlyWork:
    item = record.payload
    raw_doi = item.get("DOI")
    doi = normalise_doi(raw_doi) if isinstance(raw_doi, str) else None
    if doi is None:
        raise RecordFault("no-identifier", f"no valid DOI in the work (DOI {raw_doi!r})")
    work = ScholarlyWork("crossref", doi, doi=doi)
    titles = [t.strip() for t in _list(item.get("title")) if isinstance(t, str) and t.strip()]
    work.title = strip_markup(titles[0]) if titles else None
    work.other_titles = [strip_markup(t) for t in titles[1:]]
    work.other_titles += [strip_markup(t) for t in _list(item.get("original-title")) if isinstance(t, str)]
    subtitle = first(item.get("subtitle"))
    work.subtitle = strip_markup(subtitle) if subtitle else None
    work.genre = _text(item.get("type"))
    work.content = _CONTENT.get(work.genre or "", "text")
    for role_key, role in (("author", "author"), ("editor", "editor"), ("translator", "translator"),
                           ("chair", "chair")):
        for entry in _list(item.get(role_key)):
            found = contributor(work, entry, role)
            if found is not None:
                work.contributors.append(found)
    container_title = first(item.get("container-title"))
    issns = []
    typed = {str(e.get("value")): e.get("type") for e in _list(item.get("issn-type")) if isinstance(e, dict)}
    for value in _list(item.get("ISSN")):
        issn = normalise_issn(str(value))
        if issn is None:
            work.warn("issn", f"{value!r} is not a valid ISSN, not used")
        elif issn not in (i for i, _ in issns):
            issns.append((issn, typed.get(str(value)) or typed.get(issn)))
    isbns = [i for i in (normalise_isbn(str(v)) for v in _list(item.get("ISBN"))) if i]
    kind = _CONTAINERS.get(work.genre or "", "journal" if issns else "book")
    if work.genre in ("book", "monograph", "edited-book", "reference-book"):
        work.identifiers += [("isbn", i) for i in isbns]
        isbns = []
    if container_title or issns or isbns:
        work.container = Container(strip_markup(container_title) if container_title else None,
                                   issns, None, isbns, kind)
    work.volume = _text(item.get("volume"))
    work.issue = _text(item.get("issue"))
    page = _text(item.get("page"))
    if page:
        start, _, end = page.partition("-")
        if start.isdigit() or (end and end.strip().isdigit()):
            work.first_page, work.last_page = start.strip(), (end.strip() or None)
        else:
            work.article_number = page
    work.article_number = work.article_number or _text(item.get("article-number"))
    for key in ("issued", "published", "published-print", "published-online"):
        work.issued = date_parts(item.get(key))
        if work.issued:
            break
    accepted = date_parts(item.get("accepted"))
    if accepted:
        work.dates.append(("accepted", accepted))
    work.publisher = _text(item.get("publisher"))
    work.publisher_place = _text(item.get("publisher-location"))
    abstract = _text(item.get("abstract"))
    if abstract:
        work.abstracts.append((strip_markup(abstract), None))
    for licence in _list(item.get("license")):
        if isinstance(licence, dict) and _text(licence.get("URL")):
            work.licence_uris.append(licence["URL"].strip())
    for funder in _list(item.get("funder")):
        if not isinstance(funder, dict):
            continue
        awards = [a.strip() for a in _list(funder.get("award")) if isinstance(a, str) and a.strip()]
        funder_doi = normalise_doi(funder.get("DOI")) if isinstance(funder.get("DOI"), str) else None
        work.funding.append(Funding(_text(funder.get("name")), funder_doi, None, awards))
    for subject in _list(item.get("subject")):
        if isinstance(subject, str) and subject.strip():
            work.subjects.append(Subject(subject.strip(), "Crossref subjects"))
    work.language = _text(item.get("language"))
    for reference in _list(item.get("reference")):
        cited = normalise_doi(reference.get("DOI")) if isinstance(reference, dict) and isinstance(
            reference.get("DOI"), str) else None
        work.cite(cited)
    relations = item.get("relation") if isinstance(item.get("relation"), dict) else {}
    for name, targets in relations.items():
        relation = _RELATIONS.get(name)
        for target in _list(targets):
            if relation and isinstance(target, dict) and str(target.get("id-type", "")).lower() == "doi":
                cited = normalise_doi(str(target.get("id", "")))
                if cited:
                    work.links.append(Link(cited, relation))
    work.url = _text(item.get("URL"))
    if not work.title:
        raise RecordFault("no-title", f"Crossref work {doi} has no title")
    return work


def identify(item: dict) -> str | None:
    return normalise_doi(item.get("DOI")) if isinstance(item.get("DOI"), str) else None


map_crossref = mapper_for(convert)
