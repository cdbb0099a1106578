"""A JATS (or NLM 2.x/3.x archiving DTD) ``<article>`` -> :class:`ScholarlyWork`.

Read from ``<front>`` (``journal-meta``: title, ISSNs by ``pub-type`` or
``publication-format``, publisher; ``article-meta``: ``article-id``s,
``title-group``, ``contrib-group`` with ``contrib-id`` ORCIDs and ``xref``s
to ``aff``s (whose ``institution-id`` may be a ROR), ``pub-date``s,
volume, issue, ``fpage``/``lpage``/``elocation-id``, ``permissions``,
``abstract``, ``kwd-group``s, ``article-categories``, ``funding-group``) and
``<back><ref-list>``: a reference's ``pub-id pub-id-type="doi"`` becomes a
link to the cited work. The ``<body>`` is never built (the reader skips it).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from ingest.identifiers import normalise_doi, normalise_issn, normalise_orcid, normalise_ror
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
    Subject,
)

_PRINT = frozenset({"ppub", "print"})
_ISSUED_ORDER = ("epub", "ppub", "pub", "collection", "epub-ppub", "epreprint")


def _find(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = _child(element, name)
    return element


def _date(element: Element) -> str | None:
    year = _value(_child(element, "year"))
    if not year or not year[:4].isdigit():
        iso = element.get("iso-8601-date")
        return iso if iso and iso[:4].isdigit() else None
    parts = [year[:4]]
    month, day = _value(_child(element, "month")), _value(_child(element, "day"))
    if month and month.isdigit():
        parts.append(f"{int(month):02d}")
        if day and day.isdigit():
            parts.append(f"{int(day):02d}")
    return "-".join(parts)


def _affiliations(meta: Element, front: Element) -> dict[str, Organisation]:
    found: dict[str, Organisation] = {}
    for aff in [*meta.iter("aff"), *front.iter("aff")]:
        ror = None
        for ident in aff.iter("institution-id"):
            if (ident.get("institution-id-type") or "").lower() == "ror":
                ror = normalise_ror(_value(ident))
        label = _child(aff, "label")
        text = element_text(aff)
        if label is not None and label.text and text.startswith(label.text.strip()):
            text = text[len(label.text.strip()):].strip()
        if text:
            found[aff.get("id", f"#{len(found)}")] = Organisation(text, ror)
    return found


def _contributors(work: ScholarlyWork, meta: Element, front: Element) -> None:
    affiliations = _affiliations(meta, front)
    for group in meta.iter("contrib-group"):
        for contrib in (c for c in group if c.tag == "contrib"):
            role = contrib.get("contrib-type", "author")
            name_element = _child(contrib, "name")
            collab = _child(contrib, "collab")
            if name_element is not None:
                family = _value(_child(name_element, "surname"))
                given = _value(_child(name_element, "given-names"))
                if not family:
                    continue
                name, kind = (f"{family}, {given}" if given else family), "person"
            elif collab is not None and element_text(collab):
                name, kind = element_text(collab), "organisation"
            else:
                continue
            orcid = None
            for ident in contrib.iter("contrib-id"):
                if (ident.get("contrib-id-type") or "").lower() == "orcid":
                    orcid = normalise_orcid(_value(ident))
                    if orcid is None:
                        work.warn("orcid", f"{name}: {_value(ident)!r} is not a valid ORCID iD, not used")
            own = [affiliations[x.get("rid")] for x in contrib.iter("xref")
                   if x.get("ref-type") == "aff" and x.get("rid") in affiliations]
            for aff in (a for a in contrib if a.tag == "aff"):
                if element_text(aff):
                    own.append(Organisation(element_text(aff)))
            work.contributors.append(Contributor(name, kind, role, orcid, None, own))


def convert(record: SourceRecord) -> ScholarlyWork:
    article: Element = record.payload
    front = _child(article, "front")
    meta = _find(front, "article-meta")
    if front is None or meta is None:
        raise RecordFault("no-front-matter", "a JATS <article> without <front><article-meta>")
    ids = {(i.get("pub-id-type") or "").lower(): _value(i) for i in meta if i.tag == "article-id"}
    doi = normalise_doi(ids.get("doi"))
    record_id = doi or (f"pmid-{ids['pmid']}" if ids.get("pmid") else None) or (
        f"pmc-{ids['pmc']}" if ids.get("pmc") else None)
    if record_id is None:
        raise RecordFault("no-identifier", "a JATS article without a DOI, PMID or PMC id")
    work = ScholarlyWork("jats", record_id, doi=doi)
    for scheme, key in (("pmid", "pmid"), ("pmcid", "pmc")):
        if ids.get(key):
            work.identifiers.append((scheme, ids[key]))
    work.genre = article.get("article-type")
    work.language = article.get("lang")
    titles = _child(meta, "title-group")
    if titles is not None:
        work.title = element_text(_child(titles, "article-title")) or None
        work.subtitle = element_text(_child(titles, "subtitle")) or None
        work.other_titles = [element_text(t) for t in titles.iter("trans-title") if element_text(t)]
    _contributors(work, meta, front)
    journal = _child(front, "journal-meta")
    if journal is not None:
        issns = []
        for issn in (e for e in journal if e.tag == "issn"):
            value = normalise_issn(_value(issn))
            kind = issn.get("pub-type") or issn.get("publication-format")
            if value:
                issns.append((value, "print" if kind in _PRINT else "electronic" if kind else None))
        issn_l = next((normalise_issn(_value(e)) for e in journal if e.tag == "issn-l"), None)
        title = _value(_find(journal, "journal-title-group", "journal-title")) or _value(
            _child(journal, "journal-title"))
        work.container = Container(title, issns, issn_l, [], "journal")
        publisher = _child(journal, "publisher")
        if publisher is not None:
            work.publisher = _value(_child(publisher, "publisher-name"))
            work.publisher_place = _value(_child(publisher, "publisher-loc"))
    work.volume, work.issue = _value(_child(meta, "volume")), _value(_child(meta, "issue"))
    work.first_page, work.last_page = _value(_child(meta, "fpage")), _value(_child(meta, "lpage"))
    work.article_number = _value(_child(meta, "elocation-id"))
    dates = {(d.get("pub-type") or d.get("date-type") or d.get("publication-format") or "pub"): _date(d)
             for d in meta if d.tag == "pub-date"}
    work.issued = next((dates[k] for k in _ISSUED_ORDER if dates.get(k)), None) or next(
        (d for d in dates.values() if d), None)
    history = _child(meta, "history")
    for date in history if history is not None else ():
        kind = {"received": "submitted", "accepted": "accepted"}.get(date.get("date-type") or "")
        if kind and _date(date):
            work.dates.append((kind, _date(date)))
    permissions = _child(meta, "permissions")
    if permissions is not None:
        for licence in permissions.iter("license"):
            href = licence.get("href")
            refs = [_value(r) for r in licence.iter("license_ref") if _value(r)]
            if href or refs:
                work.licence_uris.extend([href] if href else refs)
            elif element_text(licence):
                work.licence_texts.append(element_text(licence))
    for abstract in (a for a in meta if a.tag == "abstract"):
        if abstract.get("abstract-type") in (None, "", "summary", "author"):
            text = element_text(abstract)
            if text:
                work.abstracts.append((text, abstract.get("lang")))
    for group in meta.iter("kwd-group"):
        scheme = group.get("vocab") or group.get("kwd-group-type")
        for keyword in (k for k in group if k.tag == "kwd"):
            if element_text(keyword):
                work.subjects.append(Subject(element_text(keyword), f"JATS keywords ({scheme})" if scheme else None))
    categories = _child(meta, "article-categories")
    if categories is not None:
        for group in categories.iter("subj-group"):
            kind = group.get("subj-group-type")
            if kind and kind.lower() != "heading":
                for subject in (s for s in group if s.tag == "subject"):
                    if element_text(subject):
                        work.subjects.append(Subject(element_text(subject), f"JATS subjects ({kind})"))
    for award in meta.iter("award-group"):
        source = _child(award, "funding-source")
        ids_ = [_value(i) for i in award.iter("award-id") if _value(i)]
        funder_doi = None
        ror = None
        if source is not None:
            for ident in source.iter("institution-id"):
                kind = (ident.get("institution-id-type") or "").lower()
                if kind in ("fundref", "doi", "crossref funder id"):
                    funder_doi = normalise_doi(_value(ident))
                elif kind == "ror":
                    ror = normalise_ror(_value(ident))
        name = None
        if source is not None:
            wrap = _child(source, "institution-wrap")
            name = element_text(_child(wrap, "institution") if wrap is not None else source)
        work.funding.append(Funding(name or None, funder_doi, ror, ids_))
    refs = _find(article, "back", "ref-list")
    for ref in refs.iter("ref") if refs is not None else ():
        cited = next((normalise_doi(_value(p)) for p in ref.iter("pub-id")
                      if (p.get("pub-id-type") or "").lower() == "doi"), None)
        work.cite(cited)
    if not work.title:
        raise RecordFault("no-title", f"JATS article {record_id} has no title")
    return work


def identify(article: Element) -> str | None:
    meta = _find(article, "front", "article-meta")
    if meta is None:
        return None
    for ident in meta:
        if ident.tag == "article-id" and (ident.get("pub-id-type") or "").lower() == "doi":
            return normalise_doi(_value(ident))
    return None


map_jats = mapper_for(convert)
