"""An OpenAlex work (``api.openalex.org/works``, snapshot JSON Lines) -> :class:`ScholarlyWork`.

Field meanings follow OpenAlex's documentation of the Work object:
``authorships[]`` with ``author.orcid`` and ``institutions[].ror``;
``primary_location.source`` the journal (``issn_l``, ``issn``); ``biblio``
volume, issue and pages; ``abstract_inverted_index`` the abstract as a map
word -> positions (OpenAlex may not give abstracts as text), put back in
order here; ``funders`` and ``awards`` (or the older ``grants``); ``topics``,
``keywords``, ``concepts`` and ``mesh`` with their own IRIs; and
``referenced_works``, which are OpenAlex IDs, not DOIs: they are counted
but not linked, since no other source names a work by its OpenAlex ID (the
work itself is named by its DOI when it has one).
"""

from __future__ import annotations

from typing import Any

from ingest.identifiers import normalise_doi, normalise_issn, normalise_orcid, normalise_ror
from ingest.model import SourceRecord
from ingest.scholarly.crossref import _list, _text
from ingest.scholarly.mapper import mapper_for
from ingest.scholarly.text import MAX_TEXT, strip_markup
from ingest.scholarly.work import (
    Container,
    Contributor,
    Funding,
    Organisation,
    RecordFault,
    ScholarlyWork,
    Subject,
)

_CONTENT = {"dataset": "dataset", "software": "software"}
_CONTAINERS = {"journal": "journal", "conference": "proceedings", "book series": "series",
               "ebook platform": "book", "book": "book", "repository": "repository"}
#: The most words put back from an inverted index (an abstract is a few hundred).
MAX_ABSTRACT_WORDS = 20_000


def _openalex_id(value: Any) -> str | None:
    text = _text(value)
    if text and text.startswith("https://openalex.org/"):
        return text.rsplit("/", 1)[1]
    return None


def abstract_text(index: Any) -> str | None:
    """The abstract from OpenAlex's inverted index (word -> positions).

    >>> abstract_text({"cells": [1], "Living": [0], "grow.": [2]})
    'Living cells grow.'
    """
    if not isinstance(index, dict):
        return None
    words: dict[int, str] = {}
    for word, positions in index.items():
        for position in _list(positions):
            if isinstance(position, int) and 0 <= position < MAX_ABSTRACT_WORDS:
                words[position] = str(word)
    text = " ".join(words[i] for i in sorted(words))
    return strip_markup(text[:MAX_TEXT]) or None


def convert(record: SourceRecord) -> ScholarlyWork:
    item = record.payload
    openalex = _openalex_id(item.get("id"))
    doi = normalise_doi(item.get("doi")) if isinstance(item.get("doi"), str) else None
    if openalex is None and doi is None:
        raise RecordFault("no-identifier", "an OpenAlex work needs an OpenAlex ID or a DOI")
    work = ScholarlyWork("openalex", openalex or doi, doi=doi)
    if openalex:
        work.identifiers.append(("openalex", openalex))
    ids = item.get("ids") if isinstance(item.get("ids"), dict) else {}
    pmid = _text(ids.get("pmid"))
    if pmid:
        work.identifiers.append(("pmid", pmid.rstrip("/").rsplit("/", 1)[-1]))
    pmcid = _text(ids.get("pmcid"))
    if pmcid:
        work.identifiers.append(("pmcid", pmcid.rstrip("/").rsplit("/", 1)[-1]))
    title = _text(item.get("title")) or _text(item.get("display_name"))
    work.title = strip_markup(title) if title else None
    work.genre = _text(item.get("type"))
    work.content = _CONTENT.get(work.genre or "", "text")
    for authorship in _list(item.get("authorships")):
        if not isinstance(authorship, dict):
            continue
        author = authorship.get("author") if isinstance(authorship.get("author"), dict) else {}
        name = _text(author.get("display_name")) or _text(authorship.get("raw_author_name"))
        if not name:
            work.warn("contributor", "an authorship without a name, not mapped")
            continue
        orcid = None
        if author.get("orcid"):
            orcid = normalise_orcid(str(author["orcid"]))
            if orcid is None:
                work.warn("orcid", f"{name}: {author['orcid']!r} is not a valid ORCID iD, not used")
        affiliations = []
        for institution in _list(authorship.get("institutions")):
            if isinstance(institution, dict) and _text(institution.get("display_name")):
                ror = normalise_ror(institution.get("ror")) if institution.get("ror") else None
                affiliations.append(Organisation(institution["display_name"].strip(), ror))
        work.contributors.append(Contributor(_inverted(name), "person", "author", orcid, None, affiliations))
    location = item.get("primary_location") if isinstance(item.get("primary_location"), dict) else {}
    source = location.get("source") if isinstance(location.get("source"), dict) else {}
    if source:
        issns = [(i, None) for i in dict.fromkeys(normalise_issn(str(v)) for v in _list(source.get("issn"))) if i]
        issn_l = normalise_issn(source.get("issn_l")) if isinstance(source.get("issn_l"), str) else None
        kind = _CONTAINERS.get(str(source.get("type") or "journal"), "journal")
        work.container = Container(_text(source.get("display_name")), issns, issn_l, [], kind)
        work.publisher = _text(source.get("host_organization_name"))
    licence = _text(location.get("license"))
    if licence:
        work.licence_texts.append(licence)
    biblio = item.get("biblio") if isinstance(item.get("biblio"), dict) else {}
    work.volume, work.issue = _text(biblio.get("volume")), _text(biblio.get("issue"))
    work.first_page, work.last_page = _text(biblio.get("first_page")), _text(biblio.get("last_page"))
    work.issued = _text(item.get("publication_date")) or (
        str(item["publication_year"]) if isinstance(item.get("publication_year"), int) else None)
    abstract = abstract_text(item.get("abstract_inverted_index"))
    if abstract:
        work.abstracts.append((abstract, None))
    work.language = _text(item.get("language"))
    _funding(work, item)
    _subjects(work, item)
    work.references_without_doi = len(_list(item.get("referenced_works")))
    work.url = _text(location.get("landing_page_url"))
    if not work.title:
        raise RecordFault("no-title", f"OpenAlex work {work.record_id} has no title")
    return work


def _inverted(name: str) -> str:
    """``Ana Margarida Fortes`` -> ``Fortes, Ana Margarida``: headings put the family name first.

    OpenAlex gives only a display name; its last word is taken as the family
    name, which is wrong for some names (a Work key only, never an identity).
    """
    if "," in name or " " not in name.strip():
        return name
    given, _, family = name.strip().rpartition(" ")
    return f"{family}, {given}"


def _funding(work: ScholarlyWork, item: dict) -> None:
    funders: dict[str, Funding] = {}
    for funder in _list(item.get("funders")):
        if isinstance(funder, dict) and _text(funder.get("id")):
            ror = normalise_ror(funder.get("ror")) if funder.get("ror") else None
            funders[funder["id"]] = Funding(_text(funder.get("display_name")), None, ror, [])
    for award in [*_list(item.get("awards")), *_list(item.get("grants"))]:
        if not isinstance(award, dict):
            continue
        funder_id = _text(award.get("funder_id")) or _text(award.get("funder"))
        funding = funders.get(funder_id or "")
        if funding is None:
            funding = funders[funder_id or f"#{len(funders)}"] = Funding(
                _text(award.get("funder_display_name")), None, None, [])
        number = _text(award.get("funder_award_id")) or _text(award.get("award_id"))
        if number:
            funding.awards.append(number)
    work.funding.extend(funders.values())


def _subjects(work: ScholarlyWork, item: dict) -> None:
    for key, scheme in (("topics", "OpenAlex topics"), ("keywords", "OpenAlex keywords"),
                        ("concepts", "OpenAlex concepts")):
        for entry in _list(item.get(key)):
            if isinstance(entry, dict) and _text(entry.get("display_name")):
                work.subjects.append(Subject(entry["display_name"].strip(), scheme, None, _text(entry.get("id"))))
    for heading in _list(item.get("mesh")):
        if isinstance(heading, dict) and _text(heading.get("descriptor_name")):
            ui = _text(heading.get("descriptor_ui"))
            work.subjects.append(Subject(heading["descriptor_name"].strip(), "MeSH", "http://id.nlm.nih.gov/mesh",
                                         f"http://id.nlm.nih.gov/mesh/{ui}" if ui else None))


def identify(item: dict) -> str | None:
    return (normalise_doi(item.get("doi")) if isinstance(item.get("doi"), str) else None) or _openalex_id(
        item.get("id"))


map_openalex = mapper_for(convert)
