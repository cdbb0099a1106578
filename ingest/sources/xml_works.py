"""XML files of scholarly works (Crossref, DataCite, JATS, PubMed), streamed record by record.

expat, hardened by defusedxml, is fed the file in chunks: entity
declarations and external entities are refused (no XXE, no entity
expansion; ``xml-forbidden``) and a DTD is never fetched. A DOCTYPE line
without an internal subset is allowed, since every JATS and PubMed file
starts with one. A small target builds an ElementTree element for each
record element only (names without namespaces, attributes by local name:
the converters read JATS 1.0-1.3, NLM 2.3 and Crossref 4.x-5.x alike) and
keeps nothing between records, so memory is one record's whatever the file.
Each record is bounded (elements, characters of text, depth): past a limit
its building stops, the rest of it is consumed unbuilt, and it comes out as
``Rejected(record-size)`` while reading goes on. Subtrees a mapper never
reads (a JATS ``<body>``) are not built at all. A syntax error ends the
file with one rejection for the rest, after the records read before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from ingest.model import Position, Rejected, SourceRecord
from ingest.sources.base import Selector, Source
from ingest.sources.compressed import open_input

#: The most elements of one record (a JATS front matter with 1,000 references takes ~40,000).
MAX_RECORD_ELEMENTS = 500_000
#: The most characters of text in one record.
MAX_RECORD_CHARS = 16 * 1024 * 1024
#: The deepest nesting of elements in a file.
MAX_DEPTH = 256
CHUNK_BYTES = 64 * 1024

_ROOT = re.compile(
    r"\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--.*?-->|<\?.*?\?>|<!DOCTYPE(?P<doctype>[^>\[]*)(?:\[.*?\])?\s*>)\s*)*"
    r"<(?:(?P<prefix>[A-Za-z_][\w.-]*):)?(?P<local>[A-Za-z_][\w.-]*)(?P<attrs>[^>]*)>",
    re.DOTALL,
)


def root_of(head: bytes) -> tuple[str, str, str, str] | None:
    """``(local name, namespace, doctype, rest of head)`` of an XML document's root element."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    text = head.decode("utf-8", "ignore")
    match = _ROOT.match(text)
    if match is None:
        return None
    prefix = match.group("prefix")
    declared = re.search(
        rf"xmlns{':' + re.escape(prefix) if prefix else ''}\s*=\s*[\"']([^\"']*)[\"']", match.group("attrs")
    )
    return (match.group("local"), declared.group(1) if declared else "", match.group("doctype") or "",
            text[match.end():])


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[1] if tag[:1] == "{" else tag


#: Decides whether an element starts a record, from the names of the open elements and its own.
RecordTest = Callable[[list[str], str], bool]


class _Target:
    """The expat target: builds each record element, counts, bounds, never raises."""

    def __init__(self, is_record: RecordTest, skipped: frozenset[str], want: Callable[[int], bool]) -> None:
        self.is_record = is_record
        self.skipped = skipped
        self.want = want
        self.expat = None
        self.open: list[str] = []
        self.number = 0
        self.ready: list[tuple[int, int, Element | None, str | None]] = []
        self.record_depth = 0  # depth of the record element in ``open``; 0: not in a record
        self.stack: list[Element] = []
        self.skip_depth = 0
        self.building = False
        self.fault: str | None = None
        self.line = 0
        self.elements = self.chars = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = local_name(tag)
        self.open.append(name)
        if len(self.open) > MAX_DEPTH and self.fault is None:
            self.fault = f"elements nested more than {MAX_DEPTH} deep"
            self.building = False
        if not self.record_depth:
            if self.is_record(self.open[:-1], name):
                self.number += 1
                self.record_depth = len(self.open)
                self.building = self.want(self.number)
                self.fault = None
                self.elements = self.chars = 0
                self.line = self.expat.CurrentLineNumber if self.expat is not None else 0
                if self.building:
                    self.stack = [Element(name, {local_name(k): v for k, v in attrib.items()})]
            return
        if not self.building:
            return
        if self.skip_depth or name in self.skipped:
            self.skip_depth += 1
            return
        self.elements += 1
        if self.elements > MAX_RECORD_ELEMENTS:
            self.fault = f"more than {MAX_RECORD_ELEMENTS:,} elements"
            self.building = False
            return
        element = Element(name, {local_name(k): v for k, v in attrib.items()})
        self.stack[-1].append(element)
        self.stack.append(element)

    def end(self, tag: str) -> None:
        depth = len(self.open)
        self.open.pop()
        if not self.record_depth:
            return
        if depth == self.record_depth:
            if self.building or self.fault:
                self.ready.append((self.number, self.line, self.stack[0] if self.building else None, self.fault))
            self.record_depth = 0
            self.stack = []
            self.building = False
            return
        if not self.building:
            return
        if self.skip_depth:
            self.skip_depth -= 1
            return
        self.stack.pop()

    def data(self, text: str) -> None:
        if not self.building or self.skip_depth:
            return
        self.chars += len(text)
        if self.chars > MAX_RECORD_CHARS:
            self.fault = f"more than {MAX_RECORD_CHARS:,} characters of text"
            self.building = False
            return
        node = self.stack[-1]
        if len(node):
            last = node[-1]
            last.tail = (last.tail or "") + text
        else:
            node.text = (node.text or "") + text

    def close(self) -> None:
        return None


def xml_records(path: Path, source: str, is_record: RecordTest, skipped: frozenset[str] = frozenset(),
                select: Selector | None = None) -> Iterator[tuple[int, int, Element] | Rejected]:
    """``(number, line, element)`` of every record element of ``path``, or a ``Rejected``."""
    target = _Target(is_record, skipped, select or (lambda _n: True))
    parser = DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    target.expat = parser.parser
    with open_input(path) as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            failure: tuple[str, str] | None = None
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except ParseError as exc:
                damage = getattr(handle, "damage", None)
                failure = ("compressed-stream", damage) if damage else ("xml-syntax", str(exc))
            except DefusedXmlException as exc:
                failure = ("xml-forbidden",
                           f"{type(exc).__name__}: entity declarations and external entities are not allowed")
            except (LookupError, ValueError) as exc:
                failure = ("xml-syntax", f"unusable encoding: {exc}")
            for number, line, element, fault in target.ready:
                position = Position(source, number, line=line)
                if fault is not None:
                    yield Rejected(position, "record-size", f"a record with {fault}: skipped")
                else:
                    yield number, line, element
            target.ready.clear()
            if failure is not None:
                line = parser.parser.CurrentLineNumber
                yield Rejected(Position(source, target.number + (0 if target.record_depth else 1), line=line),
                               failure[0], f"{failure[1]}; the rest of the file is not read")
                return
            if not chunk:
                return


class XmlWorksSource(Source):
    """An XML source of works; subclasses say which roots are theirs and which elements are records."""

    format: ClassVar[str]
    skipped: ClassVar[frozenset[str]] = frozenset()

    @staticmethod
    def is_record(open_elements: list[str], name: str) -> bool:
        raise NotImplementedError

    def records(self, number: int, line: int, element: Element, source: str
                ) -> Iterator[SourceRecord | Rejected]:
        """The records one record element makes (one, but a Crossref ``<journal>`` may hold several)."""
        yield SourceRecord(Position(source, number, line=line, identifier=self.identify(element)),
                           self.format, element)

    @staticmethod
    def identify(element: Element) -> str | None:
        return None

    #: Whether one record element may make several records (``records``): then every
    #: worker builds every element and the records are numbered, and shared, afterwards.
    splits: ClassVar[bool] = False

    def read(self, path: Path, name: str | None = None, select: Selector | None = None
             ) -> Iterator[SourceRecord | Rejected]:
        source = name or str(path)
        if not self.splits:
            for item in xml_records(path, source, self.is_record, self.skipped, select):
                if isinstance(item, Rejected):
                    yield item
                else:
                    yield from self.records(*item, source)
            return
        number = 0
        for item in xml_records(path, source, self.is_record, self.skipped):
            for record in [item] if isinstance(item, Rejected) else self.records(*item, source):
                number += 1
                if select is None or select(number):
                    yield _renumbered(record, number)


def _renumbered(record: SourceRecord | Rejected, number: int) -> SourceRecord | Rejected:
    position = record.position
    moved = Position(position.source, number, position.offset, position.line, position.identifier,
                     position.datestamp)
    if isinstance(record, Rejected):
        return Rejected(moved, record.rule, record.reason)
    return SourceRecord(moved, record.format, record.payload, record.warnings)
