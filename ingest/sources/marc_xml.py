"""MARCXML (MARC21 slim) as a stream of records, each read or rejected on its own.

``pymarc.parse_xml_to_array`` builds every record in memory and fails the
whole file on one bad record (a missing ``tag`` or ``code`` attribute is a
``KeyError``). Here expat, hardened by defusedxml (no entity declarations, no
external entities, so no XXE and no entity expansion), streams events into a
small builder that makes one ``pymarc.Record`` per ``<record>`` element and
keeps nothing else, so memory stays flat with the file size. A record with a
structural fault becomes a ``Rejected`` and reading goes on; a syntax error
ends the file with one ``Rejected`` for everything after it, after the records
already read. A single record is limited in size so a hostile file cannot make
the work unbounded.

Records are accepted in the MARC21 slim namespace or in no namespace, at any
depth (a ``<collection>``, a bare ``<record>``, or inside some wrapper).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import errors as expat_errors

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from pymarc import Field, Leader, Record

from ingest.marc.decoding import Warnings
from ingest.model import Position, Rejected, SourceRecord
from ingest.sources.base import Selector, Source
from ingest.sources.compressed import open_input
from ingest.sources.fields import control_field, data_field, indicators, subfield
from ingest.sources.leader import repair as leader_repair
from ingest.sources.limits import MAX_RECORD_FIELDS, MAX_RECORD_SIZE, MAX_RECORD_SUBFIELDS
from ingest.sources.oai_pmh import OaiPmhSource

MARC_NS = "http://www.loc.gov/MARC21/slim"
RECORD_TYPES = frozenset({"Bibliographic", "Authority", "Holdings", "Classification", "Community"})
#: Limits on one record (``ingest.sources.limits``, shared with the binary reader):
#: characters of text, fields, subfields, and elements of any kind.
MAX_RECORD_CHARS = MAX_RECORD_SIZE
MAX_RECORD_ELEMENTS = MAX_RECORD_FIELDS + MAX_RECORD_SUBFIELDS
CHUNK_BYTES = 64 * 1024
_JUNK_AFTER_DOCUMENT = expat_errors.codes[expat_errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT]

#: pymarc's default leader, for records that have none.
_BLANK_LEADER = " " * 10 + "22" + " " * 8 + "4500"
_MARC_ELEMENTS = frozenset({"record", "leader", "controlfield", "datafield", "subfield"})
_TAG = re.compile(r"[0-9A-Za-z]{3}\Z")
_PROLOG = re.compile(
    r"\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>\[]*>)\s*)*"
    r"<(?:(?P<prefix>[A-Za-z_][\w.-]*):)?(?:record|collection)(?P<attrs>[\s/>][^>]*)?",
    re.DOTALL,
)


class MarcXmlSource(Source):
    """MARCXML files: a ``<collection>`` of ``<record>`` elements, one ``<record>``, or records in a wrapper."""

    format = "marcxml"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """MARC21 slim ``record`` or ``collection`` elements, as the root or inside a wrapper.

        As the root they may be in no namespace. Inside a wrapper (an SRU
        response, say) they must be in the MARC21 slim namespace, and the
        first of them must start within ``head``. An OAI-PMH response is left
        to ``ingest.sources.oai_pmh``, which reads its headers too.
        """
        text = _head_text(head)
        if OaiPmhSource.sniff(head):  # its own reader reads the OAI headers (deletions) too
            return False
        match = _PROLOG.match(text)
        if match is None:
            return _wrapped_records(text)
        attrs = match.group("attrs") or ""
        prefix = match.group("prefix")
        if prefix:
            return (
                re.search(rf"xmlns:{re.escape(prefix)}\s*=\s*[\"']{MARC_NS}[\"']", attrs)
                is not None
            )
        default = re.search(r"xmlns\s*=\s*[\"']([^\"']*)[\"']", attrs)
        if default is not None:
            return default.group(1) == MARC_NS
        # No namespace: <record> and <collection> are common names; MARC elements must show.
        return _BARE_MARC_ELEMENT.search(text, match.start()) is not None

    @classmethod
    def refusal(cls, head: bytes) -> str | None:
        """Why XML that ``sniff`` does not claim is not MARCXML: its root element and namespace.

        ``None`` if ``head`` is not XML at all.
        """
        text = _head_text(head)
        root = _ROOT.match(text)
        if root is None:
            return None
        prefix, local, attrs = root.group("prefix"), root.group("local"), root.group("attrs")
        name = f"{prefix}:{local}" if prefix else local
        declared = re.search(
            rf"xmlns{':' + re.escape(prefix) if prefix else ''}\s*=\s*[\"']([^\"']*)[\"']", attrs
        )
        namespace = f"namespace {declared.group(1)}" if declared else "no namespace"
        if local in ("record", "collection") and not declared:
            return (
                f"not MARCXML: XML whose root element <{name}> ({namespace}) holds no MARC "
                "leader, controlfield or datafield"
            )
        return (
            f"not MARCXML: XML whose root element is <{name}> ({namespace}), and no record in "
            f"the MARC21 slim namespace ({MARC_NS}) starts in its first 4 kB"
        )

    def read(
        self, path: Path, name: str | None = None, select: Selector | None = None
    ) -> Iterator[SourceRecord | Rejected]:
        items = self._read_all(path, name)
        if select is None:
            yield from items
            return
        # XML must be parsed whole by every worker; only the output is shared.
        for item in items:
            if select(item.position.number):
                yield item

    def _read_all(self, path: Path, name: str | None) -> Iterator[SourceRecord | Rejected]:
        builder = _RecordBuilder(name or str(path), self.format)
        with open_input(path) as handle:
            following: bytes | None = b""
            while following is not None:
                following = yield from _read_document(handle, following, builder)
            if handle.damage is not None and not builder.abandoned:
                yield builder.abandon("compressed-stream", handle.damage, builder.current_line())


def _read_document(handle, first: bytes, builder: _RecordBuilder):
    """Parse one XML document; return the bytes that start the next one, if any.

    Exports made by concatenating records (``<record>...</record><record>...``)
    are a sequence of documents: "junk after document element" at a ``<``
    starts a new parser there instead of ending the file. ``first`` holds
    bytes already read that belong to this document; the stream is never
    sought, so a pipe works too.
    """
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    builder.expat = parser.parser
    window, window_start, fed = b"", 0, 0  # the last bytes fed, to restart from
    chunk = first or handle.read(CHUNK_BYTES)
    while True:
        if chunk:
            window = window[-CHUNK_BYTES:] + chunk
            fed += len(chunk)
            window_start = fed - len(window)
        try:
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
        except ParseError as exc:
            yield from builder.take()
            line = builder.line_base + exc.position[0]
            if handle.damage is not None:  # the XML was cut where the compressed stream broke
                yield builder.abandon("compressed-stream", handle.damage, line)
                return None
            if exc.code == _JUNK_AFTER_DOCUMENT and not builder.in_record:
                rest = parser.parser.ErrorByteIndex - window_start
                if rest >= 0 and window[rest : rest + 1] == b"<":
                    builder.line_base = line - 1
                    return window[rest:]
            yield builder.abandon("xml-syntax", str(exc), line)
            return None
        except DefusedXmlException as exc:  # a ValueError: caught first
            yield from builder.take()
            yield builder.abandon(
                "xml-forbidden",
                f"{type(exc).__name__}: entity declarations and external entities are not allowed",
                builder.line_base + parser.parser.CurrentLineNumber,
            )
            return None
        except (LookupError, ValueError) as exc:  # an encoding expat cannot use
            yield from builder.take()
            yield builder.abandon(
                "xml-syntax",
                f"unusable encoding: {exc}",
                builder.line_base + parser.parser.CurrentLineNumber,
            )
            return None
        yield from builder.take()
        if not chunk:
            return None
        chunk = handle.read(CHUNK_BYTES)


_MARC_NS_DECLARATION = re.compile(
    r"\bxmlns(?::(?P<prefix>[A-Za-z_][\w.-]*))?\s*=\s*[\"']" + re.escape(MARC_NS) + r"[\"']"
)
_RECORD_START = re.compile(r"<(?:record|collection)[\s/>]")
#: A MARC element in no namespace, as a bare <record> or <collection> root holds.
_BARE_MARC_ELEMENT = re.compile(r"<(?:leader|controlfield|datafield)[\s/>]")
#: The root element of an XML document, after its prolog.
_ROOT = re.compile(
    r"\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)\s*)*"
    r"<(?:(?P<prefix>[A-Za-z_][\w.-]*):)?(?P<local>[A-Za-z_][\w.-]*)(?P<attrs>[^>]*)>",
    re.DOTALL,
)


def _wrapped_records(text: str) -> bool:
    """True if ``text`` declares the MARC21 slim namespace and starts a record in it."""
    for declaration in _MARC_NS_DECLARATION.finditer(text):
        prefix = declaration.group("prefix")
        if prefix is None:  # a default namespace: the element declaring it must be the record
            element = text.rfind("<", 0, declaration.start())
            if _RECORD_START.match(text, element):
                return True
        elif re.search(rf"<{re.escape(prefix)}:(?:record|collection)[\s/>]", text):
            return True
    return False


def _head_text(head: bytes) -> str:
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore")
    return head.decode("utf-8", "ignore")


def _local(tag: str) -> str | None:
    """The local name of a MARC element (MARC namespace or none), else ``None``."""
    if tag[0] == "{":
        namespace, _, local = tag[1:].partition("}")
        return local if namespace == MARC_NS else None
    return tag


class _RecordBuilder:
    """The expat target: turns the events of each ``<record>`` into one result.

    It must never raise (an exception would surface as a parse error of the
    file), so every fault is noted on the record being built.
    """

    def __init__(self, source: str, format_name: str) -> None:
        self.source = source
        self.format = format_name
        self.expat = None
        self.line_base = 0  # lines before the current document (concatenated documents)
        self.number = 0
        self.ready: list[SourceRecord | Rejected] = []
        self.stack: list[str] = []  # open MARC elements inside the current record
        self.orphan_depth = 0
        self._reset()
        self.in_record = False
        self.abandoned = False  # a rejection already stands for the rest of the file

    def _reset(self) -> None:
        self.leader: str | None = None
        self.fields: list[Field] = []
        self.warnings = Warnings()
        self.fault: tuple[str, str] | None = None
        self.chars = 0
        self.elements = 0
        self.field_count = 0
        self.subfield_count = 0
        self.text: list[str] | None = None
        self.field: dict | None = None
        self.code: str | None = None
        self.line = 0
        self.skip_depth = 0

    def current_line(self) -> int:
        """The line the parser is on (counting earlier documents of the file)."""
        return self._line()

    def _line(self) -> int:
        return self.line_base + (self.expat.CurrentLineNumber if self.expat is not None else 0)

    def _warn(self, rule: str, message: str) -> None:
        self.warnings.add(rule, message)

    def _fail(self, rule: str, reason: str) -> None:
        if self.fault is None:
            self.fault = (rule, f"{reason} (line {self._line()})")

    # -- expat target protocol -------------------------------------------------
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        local = _local(tag)
        if not self.in_record:
            if self.orphan_depth:
                self.orphan_depth += 1
            elif local == "record":
                self._begin(attrib)
            elif local in _MARC_ELEMENTS:
                self.orphan_depth = 1
                self._emit_rejected(
                    "xml-structure", f"<{local}> outside any <record>", self._line()
                )
            return
        self.elements += 1
        if local == "subfield":
            self.subfield_count += 1
            if self.subfield_count > MAX_RECORD_SUBFIELDS:
                self._fail(
                    "record-size",
                    f"more than the {MAX_RECORD_SUBFIELDS} subfields a record may have",
                )
        elif local == "controlfield" or local == "datafield":
            self.field_count += 1
            if self.field_count > MAX_RECORD_FIELDS:
                self._fail(
                    "record-size", f"more than the {MAX_RECORD_FIELDS} fields a record may have"
                )
        if self.elements > MAX_RECORD_ELEMENTS:
            self._fail("record-size", f"more than {MAX_RECORD_ELEMENTS} elements in one record")
        if self.skip_depth:
            self.skip_depth += 1
            return
        parent = self.stack[-1] if self.stack else "record"
        if parent == "record" and local not in _MARC_ELEMENTS:
            # Wrapper metadata inside a record (an OAI identifier, a datestamp): no MARC data.
            self.skip_depth = 1
            self._warn("xml-structure", f"<{local or tag}> in <record> ignored")
            return
        self.stack.append(local or tag)
        if self.fault is not None:
            return
        if local in ("leader", "controlfield", "datafield") and parent == "record":
            getattr(self, f"_start_{local}")(attrib)
        elif local == "subfield" and parent == "datafield":
            self._start_subfield(attrib)
        else:
            where = f"<{local}>" if local else f"element {tag}"
            self._fail("xml-structure", f"unexpected {where} inside <{parent}>")

    def data(self, text: str) -> None:
        if self.text is None or self.fault is not None:
            return
        self.chars += len(text)
        if self.chars > MAX_RECORD_CHARS:
            self._fail("record-size", f"more than {MAX_RECORD_CHARS} characters in one record")
            self.text = None
            return
        self.text.append(text)

    def end(self, tag: str) -> None:
        if not self.in_record:
            if self.orphan_depth:
                self.orphan_depth -= 1
            return
        if self.skip_depth:
            self.skip_depth -= 1
            return
        if not self.stack:
            self._finish()
            return
        local = self.stack.pop()
        if self.fault is not None:
            return
        text = "".join(self.text) if self.text is not None else ""
        self.text = None
        if local == "leader":
            self.leader = text
        elif local == "controlfield" and self.field is not None:
            self._end_controlfield(text)
        elif local == "datafield" and self.field is not None:
            self._end_datafield()
        elif local == "subfield" and self.field is not None and self.code is not None:
            self.field["subfields"].append(subfield(self.code, text))
            self.code = None

    def close(self) -> None:
        """Called by the parser at the end of the document."""

    # -- record parts ----------------------------------------------------------
    def _begin(self, attrib: dict[str, str]) -> None:
        self._reset()
        self.in_record = True
        self.line = self._line()
        record_type = attrib.get("type")
        if record_type is not None and record_type not in RECORD_TYPES:
            self._fail("xml-structure", f"record type {record_type!r} is not a MARCXML type")

    def _start_leader(self, attrib: dict[str, str]) -> None:
        self.text = []

    def _tag(self, element: str, attrib: dict[str, str]) -> str | None:
        tag = attrib.get("tag")
        if tag is None:
            self._fail("xml-structure", f"<{element}> without a tag attribute")
            return None
        if tag.isdigit() and len(tag) < 3:
            self._warn("tag", f"<{element}> tag {tag!r} read as {tag.zfill(3)!r}")
            tag = tag.zfill(3)
        if not _TAG.match(tag):
            self._fail("xml-structure", f"<{element}> tag {tag!r} is not three letters or digits")
            return None
        return tag

    def _start_controlfield(self, attrib: dict[str, str]) -> None:
        tag = self._tag("controlfield", attrib)
        if tag is not None:
            self.field = {"tag": tag}
            self.text = []

    def _end_controlfield(self, text: str) -> None:
        tag = self.field["tag"]
        self.field = None
        if tag < "010" and tag.isdigit():
            self.fields.append(control_field(tag, text))
        else:
            self._warn("tag", f"controlfield {tag} is not a control field tag; dropped")

    def _start_datafield(self, attrib: dict[str, str]) -> None:
        tag = self._tag("datafield", attrib)
        if tag is None:
            return
        indicators = (self._indicator(tag, attrib, "ind1"), self._indicator(tag, attrib, "ind2"))
        self.field = {"tag": tag, "indicators": indicators, "subfields": []}

    def _indicator(self, tag: str, attrib: dict[str, str], name: str) -> str:
        value = attrib.get(name)
        if value is not None and len(value) == 1:
            return value
        if value == "":
            return " "
        if value:
            self._warn("indicators", f"datafield {tag} {name}={value!r}; read as {value[0]!r}")
            return value[0]
        self._warn("indicators", f"datafield {tag} {name}={value!r}; read as blank")
        return " "

    def _end_datafield(self) -> None:
        field = self.field
        self.field = None
        tag = field["tag"]
        if tag < "010" and tag.isdigit():
            self._warn("tag", f"datafield {tag} has a control field tag; dropped")
            return
        self.fields.append(
            data_field(tag, indicators(*field["indicators"]), field["subfields"])
        )

    def _start_subfield(self, attrib: dict[str, str]) -> None:
        if self.field is None:
            return
        code = attrib.get("code")
        if not code or not code.strip():
            self._fail("xml-structure", f"<subfield> of {self.field['tag']} without a code")
            return
        if len(code) > 1:
            self._warn("subfield-code", f"{self.field['tag']} code {code!r} read as {code[0]!r}")
        self.code = code[0]
        self.text = []

    def _finish(self) -> None:
        self.in_record = False
        position_line = self.line
        if self.fault is None and not self.fields:
            self.fault = ("no-fields", "a record with no fields")
        if self.fault is None and self.leader is None:
            self._warn("leader", "the record has no leader; a blank one is used")
            self.leader = _BLANK_LEADER
        if self.fault is None and len(self.leader) != 24:
            repaired = leader_repair(self.leader)
            if repaired is None:
                self.fault = ("leader", f"a leader of {len(self.leader)} characters, not 24")
            else:
                self.leader, done = repaired
                self._warn("leader", done)
        if self.fault is not None:
            self._emit_rejected(*self.fault, position_line)
            return
        record = Record(to_unicode=True, force_utf8=True)
        record.leader = Leader(self.leader)
        record.fields = self.fields
        self.number += 1
        position = Position(source=self.source, number=self.number, line=position_line)
        self.ready.append(SourceRecord(position, self.format, record, self.warnings.as_tuple()))
        self._reset()

    def _emit_rejected(self, rule: str, reason: str, line: int) -> None:
        self.number += 1
        self.ready.append(Rejected(Position(self.source, self.number, line=line), rule, reason))
        self._reset()

    # -- driver side -----------------------------------------------------------
    def take(self) -> Iterator[SourceRecord | Rejected]:
        ready, self.ready = self.ready, []
        yield from ready

    def abandon(self, rule: str, reason: str, line: int) -> Rejected:
        """One rejection for everything from here on (the file cannot be read further)."""
        self.abandoned = True
        if self.in_record:
            reason += f"; the record that starts on line {self.line} and the rest are not read"
        else:
            reason += "; the rest of the file is not read"
        self.number += 1
        return Rejected(Position(self.source, self.number, line=line), rule, reason)


class _Bytes:
    """In-memory XML handed to ``_read_document`` as a stream that is never damaged."""

    damage = None

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._at = 0

    def read(self, size: int) -> bytes:
        chunk = bytes(self._data[self._at : self._at + size])
        self._at += len(chunk)
        return chunk


def records_in(data: bytes, source: str) -> list[SourceRecord | Rejected]:
    """The MARCXML records of ``data`` (the metadata of an OAI-PMH record, say), read as a file's.

    The same builder, limits, warnings and rejections as ``MarcXmlSource``; ``data`` is
    one document.
    """
    builder = _RecordBuilder(source, MarcXmlSource.format)
    found: list[SourceRecord | Rejected] = []
    handle = _Bytes(data)
    following: bytes | None = b""
    while following is not None:
        following = _collect(found, _read_document(handle, following, builder))
    return found


def _collect(found: list, generator) -> bytes | None:  # noqa: ANN001
    """Run ``generator`` to its end, collecting what it yields in ``found``; return its value."""
    while True:
        try:
            found.append(next(generator))
        except StopIteration as done:
            return done.value
