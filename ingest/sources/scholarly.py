"""The readers of scholarly metadata: Crossref, OpenAlex, DataCite, JATS and PubMed, told apart by content.

JSON files are claimed by their keys (``ingest.sources.json_works.json_kind``),
XML files by their root element, its namespace and DOCTYPE; the mappers are
``ingest.scholarly.*``. Each record's position names its DOI (or PMID), so a
rejection says which work it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from ingest.model import Position, Rejected, SourceRecord
from ingest.scholarly import crossref, datacite, jats, openalex, pubmed
from ingest.scholarly.crossref_xml import works_of
from ingest.sources.json_works import JsonWorksSource
from ingest.sources.xml_works import XmlWorksSource, root_of

# ---------------------------------------------------------------------- JSON


class CrossrefJsonSource(JsonWorksSource):
    """Crossref REST API works: one (``message``), a page (``message.items``), a data file (``items``)."""

    format = "crossref"
    kind = "crossref"
    identify = staticmethod(crossref.identify)


class OpenAlexSource(JsonWorksSource):
    """OpenAlex works: one, a page (``results``), or a snapshot's JSON Lines."""

    format = "openalex"
    kind = "openalex"
    identify = staticmethod(openalex.identify)


class DataCiteJsonSource(JsonWorksSource):
    """DataCite JSON: the REST API (``data``, ``data.attributes``) or the schema's own JSON."""

    format = "datacite"
    kind = "datacite"
    identify = staticmethod(datacite.identify)


# ---------------------------------------------------------------------- XML

_CROSSREF_ROOTS = frozenset({"doi_batch", "crossref_result", "doi_records", "crossref"})
_CROSSREF_CONTAINERS = frozenset({
    "journal", "book", "conference", "posted_content", "dissertation", "peer_review", "standard",
    "sa_component", "report-paper", "database", "pending_publication",
})
_JATS_DOCTYPE = re.compile(r"JATS|NLM|archivearticle|journalpublishing|articleauthoring", re.IGNORECASE)


class CrossrefXmlSource(XmlWorksSource):
    """Crossref deposit XML (``doi_batch``), UNIXREF/UNIXSD (``doi_records``) and query results."""

    format = "crossref-xml"
    splits = True

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        root = root_of(head)
        return root is not None and root[0] in _CROSSREF_ROOTS and "crossref.org" in root[1]

    @staticmethod
    def is_record(open_elements: list[str], name: str) -> bool:
        return name == "doi_record" or (
            name in _CROSSREF_CONTAINERS and bool(open_elements) and open_elements[-1] == "body"
            and open_elements[0] == "doi_batch"
        )

    def records(self, number: int, line: int, element: Element, source: str
                ) -> Iterator[SourceRecord | Rejected]:
        for work, context in works_of(element):
            doi_data = next((c for c in work if c.tag == "doi_data"), None)
            doi = next((c.text for c in doi_data if c.tag == "doi"), None) if doi_data is not None else None
            yield SourceRecord(Position(source, number, line=line, identifier=(doi or "").strip().lower() or None),
                               self.format, (work, context))


class DataCiteXmlSource(XmlWorksSource):
    """The DataCite metadata kernel 4.x (and 3.x) as XML: ``<resource>``."""

    format = "datacite-xml"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        root = root_of(head)
        return root is not None and root[0] == "resource" and root[1].startswith("http://datacite.org/schema/kernel-")

    @staticmethod
    def is_record(open_elements: list[str], name: str) -> bool:
        return name == "resource"

    @staticmethod
    def identify(element: Element) -> str | None:
        identifier = next((c for c in element if c.tag == "identifier"), None)
        return (identifier.text or "").strip().lower() or None if identifier is not None else None


class JatsSource(XmlWorksSource):
    """JATS and the NLM archiving DTDs: ``<article>`` (PMC's ``<pmc-articleset>`` of them too)."""

    format = "jats"
    skipped = frozenset({"body", "floats-group", "sub-article", "response"})

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        root = root_of(head)
        if root is None:
            return False
        local, namespace, doctype, rest = root
        if local in ("pmc-articleset", "articles"):
            return "<article" in rest
        if local != "article" or (namespace and "jats" not in namespace.lower()):
            return False
        return bool(_JATS_DOCTYPE.search(doctype)) or "<front" in rest or "<article-meta" in rest

    @staticmethod
    def is_record(open_elements: list[str], name: str) -> bool:
        return name == "article"

    identify = staticmethod(jats.identify)


class PubMedSource(XmlWorksSource):
    """PubMed XML (efetch, the baseline and update files): ``<PubmedArticleSet>``."""

    format = "pubmed"
    splits = True

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        root = root_of(head)
        return root is not None and root[0] in ("PubmedArticleSet", "PubmedArticle", "PubmedBookArticle")

    @staticmethod
    def is_record(open_elements: list[str], name: str) -> bool:
        return name in ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")

    def records(self, number: int, line: int, element: Element, source: str
                ) -> Iterator[SourceRecord | Rejected]:
        if element.tag == "DeleteCitation":
            for pmid in (p for p in element if p.tag == "PMID" and (p.text or "").strip()):
                yield SourceRecord(Position(source, number, line=line, identifier=f"pmid:{pmid.text.strip()}"),
                                   self.format, pmid.text.strip())
            return
        yield SourceRecord(Position(source, number, line=line, identifier=pubmed.identify(element)),
                           self.format, element)
