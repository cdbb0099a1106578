"""DataCite metadata (kernel 4.x) -> :class:`ScholarlyWork`, from its JSON and its XML.

The REST API (``api.datacite.org/dois``) gives ``{"data": {"attributes":
{...}}}`` whose attributes are the DataCite schema in JSON (``creators``,
``titles``, ``subjects``, ``rightsList``, ``fundingReferences``,
``relatedIdentifiers``...), which is also how DataCite's bare JSON files are
written. The XML kernel has the same properties as elements; it is read
into the same dictionary shape (``from_xml``) so one function maps both.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from ingest.identifiers import normalise_doi, normalise_issn, normalise_orcid, normalise_ror
from ingest.model import SourceRecord
from ingest.scholarly.crossref import _list, _text, person_name
from ingest.scholarly.mapper import mapper_for
from ingest.scholarly.text import element_text, strip_markup
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

_CONTENT = {
    "dataset": "dataset", "software": "software", "image": "image", "audiovisual": "video",
    "sound": "sound", "model": "dataset", "physicalobject": "other", "collection": "other",
}
_RELATIONS = {
    "References": "references", "Cites": "references", "IsCitedBy": "referencedBy",
    "IsReferencedBy": "referencedBy", "IsPartOf": "partOf", "HasPart": "hasPart",
    "IsSupplementTo": "supplementTo", "IsSupplementedBy": "supplement",
}
_DATES = {"Created": "created", "Updated": "modified", "Accepted": "accepted",
          "Submitted": "submitted", "Available": "available"}


def attributes(item: dict) -> dict:
    """The DataCite properties of an API item (``data.attributes``) or of a bare record."""
    if isinstance(item.get("attributes"), dict):
        return item["attributes"]
    if isinstance(item.get("data"), dict) and isinstance(item["data"].get("attributes"), dict):
        return item["data"]["attributes"]
    return item


def _name_identifier(entry: dict, scheme: str) -> str | None:
    for ident in _list(entry.get("nameIdentifiers")):
        if isinstance(ident, dict) and str(ident.get("nameIdentifierScheme", "")).upper() == scheme:
            return str(ident.get("nameIdentifier", ""))
    return None


def _agent(work: ScholarlyWork, entry: Any, role: str) -> Contributor | None:
    if not isinstance(entry, dict):
        return None
    personal = entry.get("nameType") == "Personal" or entry.get("type") == "Person" or bool(entry.get("familyName"))
    name = person_name(entry.get("givenName"), entry.get("familyName"), entry.get("name"))
    if not name:
        return None
    orcid_value = _name_identifier(entry, "ORCID") or (
        entry.get("id") if "orcid.org" in str(entry.get("id", "")) else None)
    orcid = normalise_orcid(orcid_value) if orcid_value else None
    if orcid_value and orcid is None:
        work.warn("orcid", f"{name}: {orcid_value!r} is not a valid ORCID iD, not used")
    ror_value = _name_identifier(entry, "ROR")
    ror = normalise_ror(ror_value) if ror_value else None
    affiliations = []
    for affiliation in _list(entry.get("affiliation")):
        if isinstance(affiliation, str) and affiliation.strip():
            affiliations.append(Organisation(affiliation.strip()))
        elif isinstance(affiliation, dict) and _text(affiliation.get("name")):
            scheme = str(affiliation.get("affiliationIdentifierScheme", "")).upper()
            aff_ror = normalise_ror(affiliation.get("affiliationIdentifier")) if scheme == "ROR" else None
            affiliations.append(Organisation(affiliation["name"].strip(), aff_ror))
    return Contributor(name, "person" if personal else "organisation", role, orcid, ror, affiliations)


def convert_attributes(attrs: dict, warn_source: str = "datacite") -> ScholarlyWork:
    identifier = attrs.get("doi") or attrs.get("id")
    if not identifier:
        for ident in _list(attrs.get("identifiers")):
            if isinstance(ident, dict) and str(ident.get("identifierType", "")).upper() == "DOI":
                identifier = ident.get("identifier")
    doi = normalise_doi(identifier) if isinstance(identifier, str) else None
    if doi is None:
        raise RecordFault("no-identifier", f"no valid DOI in the DataCite record ({identifier!r})")
    work = ScholarlyWork("datacite", doi, doi=doi)
    titles = [t for t in _list(attrs.get("titles")) if isinstance(t, dict) and _text(t.get("title"))]
    for entry in titles:
        text = strip_markup(entry["title"])
        kind = entry.get("titleType")
        if kind == "Subtitle" and work.subtitle is None:
            work.subtitle = text
        elif work.title is None and not kind:
            work.title = text
        else:
            work.other_titles.append(text)
    if work.title is None and work.other_titles:
        work.title = work.other_titles.pop(0)
    types = attrs.get("types") if isinstance(attrs.get("types"), dict) else {}
    general = _text(types.get("resourceTypeGeneral"))
    work.genre = general or _text(types.get("resourceType"))
    work.content = _CONTENT.get((general or "").lower(), "text")
    for entry in _list(attrs.get("creators")):
        found = _agent(work, entry, "author")
        if found is not None:
            work.contributors.append(found)
    for entry in _list(attrs.get("contributors")):
        role = entry.get("contributorType") if isinstance(entry, dict) else None
        found = _agent(work, entry, str(role or "contributor"))
        if found is not None:
            work.contributors.append(found)
    publisher = attrs.get("publisher")
    work.publisher = _text(publisher.get("name")) if isinstance(publisher, dict) else _text(publisher)
    year = attrs.get("publicationYear")
    work.issued = str(year).strip() if year else None
    for entry in _list(attrs.get("dates")):
        if not isinstance(entry, dict) or not _text(entry.get("date")):
            continue
        kind = entry.get("dateType")
        if kind == "Issued":
            work.issued = entry["date"].strip()
        elif kind in _DATES:
            work.dates.append((_DATES[kind], entry["date"].strip()))
    for entry in _list(attrs.get("descriptions")):
        if isinstance(entry, dict) and _text(entry.get("description")) and entry.get(
                "descriptionType", "Abstract") == "Abstract":
            work.abstracts.append((strip_markup(entry["description"]), _text(entry.get("lang"))))
    for entry in _list(attrs.get("rightsList")):
        if isinstance(entry, dict):
            uri = _text(entry.get("rightsUri"))
            if uri:
                work.licence_uris.append(uri)
            elif _text(entry.get("rights")):
                work.licence_texts.append(entry["rights"].strip())
    for entry in _list(attrs.get("fundingReferences")):
        if not isinstance(entry, dict):
            continue
        scheme = str(entry.get("funderIdentifierType", "")).upper()
        ident = str(entry.get("funderIdentifier", ""))
        ror = normalise_ror(ident) if scheme == "ROR" else None
        funder_doi = normalise_doi(ident) if "CROSSREF" in scheme else None
        award = _text(entry.get("awardNumber"))
        if isinstance(entry.get("awardNumber"), dict):
            award = _text(entry["awardNumber"].get("awardNumber"))
        work.funding.append(Funding(_text(entry.get("funderName")), funder_doi, ror, [award] if award else []))
    for entry in _list(attrs.get("subjects")):
        if isinstance(entry, dict) and _text(entry.get("subject")):
            scheme = _text(entry.get("subjectScheme"))
            work.subjects.append(Subject(entry["subject"].strip(), scheme, _text(entry.get("schemeUri")),
                                         _text(entry.get("valueUri"))))
    work.language = _text(attrs.get("language"))
    for entry in _list(attrs.get("relatedIdentifiers")):
        if not isinstance(entry, dict) or str(entry.get("relatedIdentifierType", "")).upper() != "DOI":
            continue
        relation = _RELATIONS.get(str(entry.get("relationType")))
        target = normalise_doi(str(entry.get("relatedIdentifier", "")))
        if relation and target:
            work.links.append(Link(target, relation))
    container = attrs.get("container") if isinstance(attrs.get("container"), dict) else {}
    if _text(container.get("title")):
        issn = normalise_issn(container.get("identifier")) if container.get("identifierType") == "ISSN" else None
        kind = "journal" if container.get("type") == "Journal" else "series"
        work.container = Container(container["title"].strip(), [(issn, None)] if issn else [], None, [], kind)
        work.volume, work.issue = _text(container.get("volume")), _text(container.get("issue"))
        work.first_page, work.last_page = _text(container.get("firstPage")), _text(container.get("lastPage"))
    work.url = _text(attrs.get("url"))
    if not work.title:
        raise RecordFault("no-title", f"DataCite record {doi} has no title")
    return work


def convert_json(record: SourceRecord) -> ScholarlyWork:
    return convert_attributes(attributes(record.payload))


def identify(item: dict) -> str | None:
    attrs = attributes(item)
    value = attrs.get("doi") or attrs.get("id") or item.get("id")
    return normalise_doi(value) if isinstance(value, str) else None


# ---------------------------------------------------------------------- the XML kernel

_PLURALS = {
    "creators": "creator", "contributors": "contributor", "titles": "title", "subjects": "subject",
    "dates": "date", "descriptions": "description", "rightsList": "rights",
    "fundingReferences": "fundingReference", "relatedIdentifiers": "relatedIdentifier",
    "alternateIdentifiers": "alternateIdentifier",
}
_SPACE = re.compile(r"\s+")


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if c.tag == name), None)


def _value(element: Element | None) -> str | None:
    if element is None:
        return None
    return _SPACE.sub(" ", "".join(element.itertext())).strip() or None


def from_xml(resource: Element) -> dict:
    """The DataCite XML kernel's ``<resource>`` as the JSON properties ``convert_attributes`` reads."""
    attrs: dict[str, Any] = {}
    identifier = _child(resource, "identifier")
    if identifier is not None and identifier.get("identifierType", "DOI").upper() == "DOI":
        attrs["doi"] = _value(identifier)
    for plural, singular in _PLURALS.items():
        parent = _child(resource, plural)
        if parent is None:
            continue
        entries = []
        for element in parent:
            if element.tag != singular:
                continue
            entry: dict[str, Any] = dict(element.attrib)
            if singular in ("creator", "contributor"):
                entry["name"] = _value(_child(element, f"{singular}Name"))
                entry["nameType"] = (_child(element, f"{singular}Name").get("nameType")
                                     if _child(element, f"{singular}Name") is not None else None)
                entry["givenName"] = _value(_child(element, "givenName"))
                entry["familyName"] = _value(_child(element, "familyName"))
                entry["nameIdentifiers"] = [
                    {"nameIdentifier": _value(c), "nameIdentifierScheme": c.get("nameIdentifierScheme")}
                    for c in element if c.tag == "nameIdentifier"]
                entry["affiliation"] = [
                    {"name": _value(c), "affiliationIdentifier": c.get("affiliationIdentifier"),
                     "affiliationIdentifierScheme": c.get("affiliationIdentifierScheme")}
                    for c in element if c.tag == "affiliation"]
            elif singular == "fundingReference":
                for child in element:
                    entry[child.tag] = _value(child)
                    entry.update({k: v for k, v in child.attrib.items() if k == "funderIdentifierType"})
            elif singular == "description":
                entry["description"] = element_text(element)
            elif singular == "rights":
                entry["rights"] = _value(element)
            else:
                key = {"relatedIdentifier": "relatedIdentifier", "date": "date", "title": "title",
                       "subject": "subject", "alternateIdentifier": "alternateIdentifier"}[singular]
                entry[key] = _value(element)
            entry = {("lang" if k.endswith("lang") else k.replace("URI", "Uri")): v for k, v in entry.items()}
            entries.append(entry)
        attrs[plural] = entries
    for name in ("publisher", "publicationYear", "language", "version"):
        attrs[name] = _value(_child(resource, name))
    resource_type = _child(resource, "resourceType")
    if resource_type is not None:
        attrs["types"] = {"resourceTypeGeneral": resource_type.get("resourceTypeGeneral"),
                          "resourceType": _value(resource_type)}
    return attrs


def convert_xml(record: SourceRecord) -> ScholarlyWork:
    return convert_attributes(from_xml(record.payload))


map_datacite = mapper_for(convert_json)
map_datacite_xml = mapper_for(convert_xml)
