"""arXiv's OAI-PMH formats (``arXiv``, ``arXivRaw``) -> ``Description``.

The arXiv id is the Instance's own identifier (``instance/arxiv-{id}``), the
e-print an electronic Instance; authors are persons (``keyname, forenames``,
as a catalogue heads them); categories (``astro-ph.GA``) are concepts of one
arXiv scheme with their code as ``skos:notation``; the abstract is the
summary; the licence a use policy; comments, journal reference, report
number, MSC and ACM classes are notes. ``<doi>`` names the published
version, which is another Instance of the same Work (``bf:hasEquivalent``),
named from its DOI as every source names it, so a Crossref or MARC record
of the article meets it.

``arXivRaw`` gives the authors as one string ("A. Author, B. Author and C.
Author"), split here on commas and "and"; its ``<version>`` dates give the
first submission date.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from ingest.oai.description import Description, Name
from ingest.sources.oai_pmh import local_name

ARXIV_NS = "http://arxiv.org/OAI/arXiv/"
ARXIV_RAW_NS = "http://arxiv.org/OAI/arXivRaw/"
_SPLIT_AUTHORS = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")
_NOTES = {"comments": "comments", "journal-ref": "journal reference", "report-no": "report number",
          "msc-class": "MSC classification", "acm-class": "ACM classification"}


def is_arxiv(element: Element) -> bool:
    """An ``arXiv`` or ``arXivRaw`` element, in its namespace or in none."""
    return element.tag in (f"{{{ARXIV_NS}}}arXiv", f"{{{ARXIV_RAW_NS}}}arXivRaw", "arXiv", "arXivRaw")


def _text(element: Element) -> str:
    """Text with arXiv's line breaks (literal ``\\n`` in some exports too) made spaces."""
    return " ".join((element.text or "").replace("\\n", " ").split())


def read_arxiv(element: Element) -> Description:
    """The ``Description`` of an ``arXiv`` or ``arXivRaw`` element."""
    d = Description(electronic=True, text=True)
    created: list[str] = []
    for child in element:
        name = local_name(child.tag)
        if name == "authors":
            if len(child):
                d.creators.extend(_author(author) for author in child if local_name(author.tag) == "author")
                d.creators = [n for n in d.creators if n.label]
            else:
                d.creators.extend(Name(a, person=True) for a in _SPLIT_AUTHORS.split(_text(child)) if a)
            continue
        value = _text(child)
        if name == "version":  # arXivRaw: <version version="v1"><date>Mon, 2 Apr 2007 ...</date>
            date = next((_text(c) for c in child if local_name(c.tag) == "date"), "")
            if date and not created:
                created.append(date)
            continue
        if not value:
            continue
        if name == "id":
            d.own_identifier = ("arXiv", value)
        elif name == "title":
            d.titles.append((value, None))
        elif name == "categories":
            d.categories.extend(value.split())
        elif name == "abstract":
            d.summaries.append((value, None))
        elif name == "license":
            d.rights.append(value)
        elif name == "doi":
            d.published_doi = value.split()[0]
        elif name == "created":
            created.insert(0, value)
        elif name in _NOTES:
            d.notes.append((_NOTES[name], value))
    d.dates.extend(created[:1])
    return d


def _author(element: Element) -> Name:
    parts = {local_name(child.tag): _text(child) for child in element}
    keyname = parts.get("keyname", "")
    forenames = parts.get("forenames", "")
    label = f"{keyname}, {forenames}" if keyname and forenames else keyname or forenames
    if parts.get("suffix"):
        label = f"{label}, {parts['suffix']}"
    return Name(label, person=True)
