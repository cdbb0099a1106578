"""Simple Dublin Core (``oai_dc``, the one format every OAI-PMH repository must offer) -> ``Description``.

Each of the fifteen elements goes where ``ingest.oai.description`` says:
title, creator and contributor (agents), subject (concepts in the
repository's scheme), description (summary), date (the publication's date),
identifier (DOI, ISBN, ISSN, handle, URN, URL told apart), language,
rights, type (a genre in the repository's scheme; DCMI ``Text`` also types
the Work), publisher (the publication's agent); relation, source, format and
coverage are kept as typed notes. Elements are found by local name in the
DC namespace, or in none (some repositories leave it out).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from ingest.oai.description import Description, Name
from ingest.sources.oai_pmh import local_name

DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NOTES = {"relation": "relation", "source": "source", "format": "format", "coverage": "coverage"}
_ARXIV = re.compile(
    r"^(?:arxiv:|https?://(?:export\.|www\.)?arxiv\.org/abs/)((?:[a-z-]+(?:\.[A-Z]{2})?/\d{7})|\d{4}\.\d{4,5})(?:v\d+)?$",
    re.IGNORECASE,
)
_TEXT_TYPES = frozenset({"text", "article", "book", "info:eu-repo/semantics/article"})


def is_dublin_core(element: Element) -> bool:
    """An ``oai_dc:dc`` element (or a bare ``dc`` one)."""
    return element.tag in (f"{{{OAI_DC_NS}}}dc", "dc")


def read_dublin_core(element: Element) -> Description:
    """The ``Description`` an ``oai_dc:dc`` element gives."""
    d = Description()
    for child in element:
        tag = child.tag
        if tag[:1] == "{" and not tag.startswith(f"{{{DC_NS}}}"):
            continue
        name = local_name(tag)
        value = " ".join((child.text or "").split())
        if not value:
            continue
        lang = _language_tag(child.get(_XML_LANG))
        if name == "title":
            d.titles.append((value, lang))
        elif name == "creator":
            d.creators.append(Name(value))
        elif name == "contributor":
            d.contributors.append(Name(value))
        elif name == "subject":
            d.subjects.append(value)
        elif name == "description":
            d.summaries.append((value, lang))
        elif name == "date":
            d.dates.append(value)
        elif name == "identifier":
            d.identifiers.append(value)
            arxiv = arxiv_id(value)
            if arxiv and d.own_identifier is None:
                d.own_identifier = ("arXiv", arxiv)
        elif name == "language":
            d.languages.append(value)
        elif name == "rights":
            d.rights.append(value)
        elif name == "type":
            d.genres.append(value)
            if value.casefold() in _TEXT_TYPES:
                d.text = True
        elif name == "publisher":
            d.publishers.append(value)
        elif name in _NOTES:
            d.notes.append((_NOTES[name], value))
    return d


def arxiv_id(value: str) -> str | None:
    """The arXiv id of an ``arXiv:`` value or an arxiv.org abstract URL, without its version.

    arXiv's own ``oai_dc`` records identify the e-print by its URL; named from
    the id, the Instance is the one its ``arXiv`` record names.

    >>> arxiv_id("http://arxiv.org/abs/1507.03011"), arxiv_id("arXiv:hep-th/9901001v2")
    ('1507.03011', 'hep-th/9901001')
    >>> arxiv_id("https://example.org/abs/1507.03011") is None
    True
    """
    match = _ARXIV.match(value.strip())
    return match.group(1) if match else None


def _language_tag(value: str | None) -> str | None:
    """An ``xml:lang`` usable as a literal's tag (``eng`` is a valid BCP 47 subtag as it stands)."""
    if not value:
        return None
    value = value.strip()
    if not value or len(value) > 35 or not all(part.isalnum() for part in value.split("-")):
        return None
    return value
