"""OAI-PMH responses (``ListRecords``, ``GetRecord``) as a stream of records, from a file or a harvest.

One reader serves both a response saved to a file (``catalograph ingest``
tells it by its ``<OAI-PMH>`` root) and each page a harvest fetches
(``ingest.sources.oai_client``), so a record reads the same whichever way it
came. The XML is parsed as it streams by expat hardened by defusedxml: a
DOCTYPE, an entity declaration or an external entity ends the response with
one ``xml-forbidden`` rejection (no XXE, no entity expansion), and a syntax
error (a page cut short) ends it with one ``xml-syntax`` rejection after the
records already read. Each ``<record>`` is kept only until it is handed out,
so memory stays flat with the size of the response; one record's text is
capped (``MAX_RECORD_CHARS``).

A record comes out as a ``SourceRecord`` of format ``oai-pmh`` whose payload
is an ``OaiRecord``: the header (identifier, datestamp, sets, the deleted
flag) and the metadata element, which ``ingest.oai.mapper`` maps by its
namespace (Dublin Core, arXiv, MARCXML). Envelope elements are matched by
local name, so responses written without the OAI namespace (seen from real
repositories) are read too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from ingest.model import Position, Rejected, SourceRecord
from ingest.sources.base import Selector, Source
from ingest.sources.compressed import open_input
from ingest.sources.limits import MAX_RECORD_SIZE

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
FORMAT = "oai-pmh"
#: Characters of text one record may hold (the MARC readers' limit).
MAX_RECORD_CHARS = MAX_RECORD_SIZE
#: Elements one record may hold.
MAX_RECORD_ELEMENTS = 200_000
#: Characters kept of an envelope element (a token, a date, an error message); the rest is dropped.
MAX_ENVELOPE_CHARS = 64 * 1024
CHUNK_BYTES = 64 * 1024
#: The verbs whose answers hold records.
_RECORD_LISTS = frozenset({"ListRecords", "GetRecord"})
_ROOT = re.compile(
    r"\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--.*?-->|<\?.*?\?>)\s*)*<(?:[A-Za-z_][\w.-]*:)?OAI-PMH[\s>]",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class OaiRecord:
    """One record of an OAI-PMH response: its header and its metadata element (none if deleted)."""

    identifier: str
    datestamp: str | None
    deleted: bool
    sets: tuple[str, ...]
    metadata: Element | None


@dataclass(slots=True)
class PageInfo:
    """What a response says besides its records, known once it has been read to the end."""

    response_date: str | None = None
    #: ``(code, message)`` of each ``<error>`` (``noRecordsMatch``, ``badArgument``...).
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: The resumption token, ``""`` for an empty one (the list is complete), ``None`` if absent.
    token: str | None = None
    complete_list_size: int | None = None
    cursor: int | None = None
    #: ``(rule, reason)`` when the response could not be read to its end.
    failure: tuple[str, str] | None = None
    records: int = 0
    #: The latest datestamp of the records read (ISO 8601 strings of one granularity compare as dates).
    latest_datestamp: str | None = None


def local_name(tag: str) -> str:
    """``{ns}name`` -> ``name``."""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


class _Builder:
    """An ElementTree builder target that keeps one ``<record>`` at a time and the envelope's facts."""

    def __init__(self, source: str, first_number: int, info: PageInfo) -> None:
        self.source = source
        self.number = first_number - 1
        self.info = info
        self.path: list[str] = []
        self.ready: list[SourceRecord | Rejected] = []
        self.stack: list[Element] = []  # elements of the record being read
        self.depth = 0  # elements open in the record being read (itself included)
        self.text: list[str] | None = None  # text of an envelope element being read
        self.text_chars = 0
        self.chars = 0
        self.elements = 0
        self.too_big = False

    # -- target protocol -------------------------------------------------------
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        local = local_name(tag)
        parent = self.path[-1] if self.path else None
        self.path.append(local)
        if self.depth:
            self.depth += 1
            self.elements += 1
            if self.elements > MAX_RECORD_ELEMENTS:
                self.too_big = True
            if not self.too_big:
                element = Element(tag, attrib)
                self.stack[-1].append(element)
                self.stack.append(element)
            return
        if local == "record" and parent in _RECORD_LISTS:
            self.stack = [Element(tag, attrib)]
            self.depth = 1
            self.chars = self.elements = 0
            self.too_big = False
        elif local == "error" and parent == "OAI-PMH":
            self.text = []
            self._error_code = attrib.get("code", "")
        elif local in ("responseDate",) and parent == "OAI-PMH":
            self.text = []
        elif local == "resumptionToken" and parent in ("ListRecords", "ListIdentifiers"):
            self.text = []
            self.info.complete_list_size = _integer(attrib.get("completeListSize"))
            self.info.cursor = _integer(attrib.get("cursor"))

    def data(self, text: str) -> None:
        if self.depth:
            self.chars += len(text)
            if self.chars > MAX_RECORD_CHARS:
                self.too_big = True
            if self.too_big:
                return
            element = self.stack[-1]
            if len(element):
                last = element[-1]
                last.tail = (last.tail or "") + text
            else:
                element.text = (element.text or "") + text
        elif self.text is not None and self.text_chars < MAX_ENVELOPE_CHARS:
            self.text.append(text[: MAX_ENVELOPE_CHARS - self.text_chars])
            self.text_chars += len(text)

    def end(self, tag: str) -> None:
        local = self.path.pop()
        if self.depth:
            element = self.stack.pop() if len(self.stack) == self.depth else None
            self.depth -= 1
            if not self.depth and element is not None:
                self.stack = []
                self._record(element)
            return
        if self.text is None:
            return
        text = "".join(self.text).strip()
        self.text = None
        self.text_chars = 0
        if local == "error":
            self.info.errors.append((self._error_code, text))
        elif local == "responseDate":
            self.info.response_date = text
        elif local == "resumptionToken":
            self.info.token = text

    def close(self) -> None:
        """Called by the parser at the end of the document."""

    # -- records ---------------------------------------------------------------
    def _record(self, element: Element) -> None:
        self.number += 1
        header = _child(element, "header")
        identifier = _text(_child(header, "identifier")) if header is not None else ""
        datestamp = _text(_child(header, "datestamp")) if header is not None else ""
        position = Position(self.source, self.number, identifier=identifier or None,
                            datestamp=datestamp or None)
        self.info.records += 1
        if datestamp and (self.info.latest_datestamp is None or datestamp > self.info.latest_datestamp):
            self.info.latest_datestamp = datestamp
        if self.too_big:
            self.ready.append(Rejected(position, "record-size", (
                f"a record of more than {MAX_RECORD_CHARS:,} characters or "
                f"{MAX_RECORD_ELEMENTS:,} elements; not read")))
            return
        if header is None or not identifier:
            self.ready.append(Rejected(position, "oai-header", "a record whose header has no identifier"))
            return
        deleted = header.get("status") == "deleted"
        metadata = _child(element, "metadata")
        content = next(iter(metadata), None) if metadata is not None else None
        if content is None and not deleted:
            self.ready.append(Rejected(position, "oai-metadata", "a record with no metadata that is not deleted"))
            return
        sets = tuple(_text(child) for child in header if local_name(child.tag) == "setSpec")
        payload = OaiRecord(identifier, datestamp or None, deleted, sets, None if deleted else content)
        self.ready.append(SourceRecord(position, FORMAT, payload))

    def take(self) -> Iterator[SourceRecord | Rejected]:
        ready, self.ready = self.ready, []
        yield from ready

    def abandon(self, rule: str, reason: str) -> Rejected:
        """One rejection standing for the rest of the response, which cannot be read."""
        self.info.failure = (rule, reason)
        self.number += 1
        return Rejected(Position(self.source, self.number), rule, f"{reason}; the rest is not read")


def _child(element: Element | None, name: str) -> Element | None:
    if element is None:
        return None
    for child in element:
        if local_name(child.tag) == name:
            return child
    return None


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _integer(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def read_response(
    handle: BinaryIO, source: str, info: PageInfo, first_number: int = 1
) -> Iterator[SourceRecord | Rejected]:
    """The records of one OAI-PMH response read from ``handle``; ``info`` is filled as it goes.

    Records are numbered from ``first_number`` (a harvest numbers across its
    pages). Never raises for bad content: a response that cannot be read to its
    end yields one rejection for the rest and sets ``info.failure``.
    """
    builder = _Builder(source, first_number, info)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    while True:
        chunk = handle.read(CHUNK_BYTES)
        try:
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
        except ParseError as exc:
            yield from builder.take()
            yield builder.abandon("xml-syntax", f"not well-formed XML ({exc}): cut short?")
            return
        except DefusedXmlException as exc:
            yield from builder.take()
            yield builder.abandon(
                "xml-forbidden", f"{type(exc).__name__}: DOCTYPEs, entity declarations and external entities are not allowed")
            return
        except (LookupError, ValueError) as exc:
            yield from builder.take()
            yield builder.abandon("xml-syntax", f"unusable encoding: {exc}")
            return
        yield from builder.take()
        if not chunk:
            return


class OaiPmhSource(Source):
    """A saved OAI-PMH response: records with their headers; deletions drop their graphs."""

    format = FORMAT

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """An ``<OAI-PMH>`` root element (in the OAI namespace, another prefix, or none)."""
        text = head.decode("utf-8", "ignore").lstrip("\ufeff")
        return _ROOT.match(text) is not None

    def read(
        self, path: Path, name: str | None = None, select: Selector | None = None
    ) -> Iterator[SourceRecord | Rejected]:
        source = name or str(path)
        info = PageInfo()
        with open_input(path) as handle:
            for item in read_response(handle, source, info):
                if select is None or select(item.position.number):
                    yield item
            if handle.damage is not None and info.failure is None:
                number = info.records + 1
                if select is None or select(number):
                    yield Rejected(Position(source, number), "compressed-stream", handle.damage)
                return
        failed = [(code, message) for code, message in info.errors if code != "noRecordsMatch"]
        if failed and info.failure is None:
            number = info.records + 1
            if select is None or select(number):
                code, message = failed[0]
                message = " ".join(message.split())
                yield Rejected(Position(source, number), "oai-error",
                               f"the response is an OAI-PMH error {code}: {message}")
