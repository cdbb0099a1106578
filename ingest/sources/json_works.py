"""JSON files of scholarly works (Crossref, OpenAlex, DataCite), streamed item by item.

The APIs wrap works in envelopes of their own: a Crossref work is
``{"message": {...}}`` and a page of works ``{"message": {"items": [...]}}``
(Crossref's data files: ``{"items": [...]}``); OpenAlex pages are
``{"results": [...]}``; DataCite's REST API gives ``{"data": {...}}`` or
``{"data": [...]}``; dumps are JSON Lines (OpenAlex snapshots) or a bare
array; a single work may be a bare object. One walker reads all of these:
``message``, ``items``, ``results`` and ``data`` are containers whose
elements are the works, anything else at the top is a bare work.

The file is never loaded whole: ijson (yajl, in C) turns it into events and
each work is built from them alone, under limits (events, nesting, text), so
a file of gigabytes costs the memory of one work and a hostile work is cut
at a stated size, skipped and reported while reading goes on. A JSON syntax
error cannot be stepped over (there is no record boundary to resynchronise
at), so it ends the file with one rejection standing for the rest, after the
works already read, as an XML syntax error does.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import ijson

from ingest.model import Position, Rejected, SourceRecord
from ingest.sources.base import Selector, Source
from ingest.sources.compressed import open_input

#: The most JSON events (keys, values, brackets) of one work: the largest real
#: Crossref work seen (1,000+ references) takes about 40,000.
MAX_ITEM_EVENTS = 1_000_000
#: The most characters of text in one work.
MAX_ITEM_CHARS = 16 * 1024 * 1024
#: The deepest nesting inside one work (real works nest about 6 deep).
MAX_DEPTH = 64
#: Keys whose array elements (or, for ``message`` and ``data``, whose object) are the works.
_CONTAINERS = frozenset({"items", "results", "data"})
_BUFFER = 64 * 1024


class _TooLarge(Exception):
    pass


class _Budget:
    """What one item may still cost while it is built."""

    __slots__ = ("events", "chars", "fault")

    def __init__(self) -> None:
        self.events = MAX_ITEM_EVENTS
        self.chars = MAX_ITEM_CHARS
        self.fault: str | None = None


def _build(events: Iterator[tuple[str, Any]], event: str, value: Any, budget: _Budget | None,
           depth: int = 0) -> Any:
    """The value that starts with ``(event, value)``; with ``budget`` ``None`` it is skipped.

    Iterative, so a deeply nested hostile value cannot exhaust the stack; past
    its budget the value is still consumed to its end (the stream must stay in
    step) but no longer built, and ``budget.fault`` says why.
    """
    if event not in ("start_map", "start_array"):
        if budget is not None and isinstance(value, str):
            budget.chars -= len(value)
            if budget.chars < 0 and budget.fault is None:
                budget.fault = f"more than {MAX_ITEM_CHARS:,} characters of text"
        return value
    building = budget is not None
    root: Any = {} if event == "start_map" else []
    stack: list[tuple[Any, str | None]] = [(root, None)]
    key: str | None = None
    for event, value in events:
        if building:
            budget.events -= 1
            if budget.events < 0 or len(stack) + depth > MAX_DEPTH:
                budget.fault = (f"more than {MAX_ITEM_EVENTS:,} JSON values" if budget.events < 0
                                else f"nested more than {MAX_DEPTH} deep")
                building = False
        if event == "map_key":
            key = value
            continue
        if event in ("end_map", "end_array"):
            done, _ = stack.pop()
            if not stack:
                return root if building else None
            key = None
            continue
        if event == "start_map" or event == "start_array":
            child: Any = {} if event == "start_map" else []
            if building:
                _attach(stack[-1][0], key, child)
            stack.append((child, key))
            key = None
            continue
        if building:
            if isinstance(value, str):
                budget.chars -= len(value)
                if budget.chars < 0:
                    budget.fault = f"more than {MAX_ITEM_CHARS:,} characters of text"
                    building = False
                    continue
            _attach(stack[-1][0], key, value)
        key = None
    raise ijson.IncompleteJSONError("the file ends inside a value")


def _attach(parent: Any, key: str | None, value: Any) -> None:
    if isinstance(parent, dict):
        parent[key] = value
    else:
        parent.append(value)


class JsonItems:
    """The works of one JSON file, as ``(number, item or fault)``; see the module docstring."""

    def __init__(self, want: Callable[[int], bool]) -> None:
        self.want = want
        self.number = 0
        #: Whether work ``number`` is being read (a syntax error then belongs to it).
        self.inside = False

    def next_number(self) -> int:
        """The number of the work a syntax error at this point belongs to."""
        return self.number if self.inside else self.number + 1

    def _item(self, events, event: str, value: Any) -> Iterator[tuple[int, Any, str | None]]:
        self.number += 1
        number = self.number
        self.inside = True
        if not self.want(number):
            _build(events, event, value, None)
            self.inside = False
            return
        budget = _Budget()
        item = _build(events, event, value, budget)
        self.inside = False
        yield number, item, budget.fault

    def _array(self, events) -> Iterator[tuple[int, Any, str | None]]:
        for event, value in events:
            if event == "end_array":
                return
            yield from self._item(events, event, value)

    def _frame(self, events, top: bool) -> Iterator[tuple[int, Any, str | None]]:
        """An object: a container of works (an envelope) or, if it holds none, a work."""
        fields: dict[str, Any] = {}
        budget = _Budget()
        contained = False
        for event, value in events:
            if event == "end_map":
                break
            key = value
            event, value = next(events)
            if key in _CONTAINERS and event == "start_array":
                contained = True
                yield from self._array(events)
            elif key == "data" and top and event == "start_map":
                contained = True
                yield from self._item(events, event, value)
            elif key == "message" and top and event == "start_map":
                contained = True
                yield from self._frame(events, top=False)
            else:
                fields[key] = _build(events, event, value, budget if budget.fault is None else None)
        if not contained:
            self.number += 1
            if self.want(self.number):
                yield self.number, fields, budget.fault

    def read(self, events) -> Iterator[tuple[int, Any, str | None]]:
        for event, value in events:
            if event == "start_map":
                yield from self._frame(events, top=True)
            elif event == "start_array":
                yield from self._array(events)
            else:
                self.number += 1
                if self.want(self.number):
                    yield self.number, value, None


class JsonWorksSource(Source):
    """A JSON source of works; subclasses name their format and say which works are theirs."""

    format: ClassVar[str]
    #: The kind ``json_kind`` gives a head of this format.
    kind: ClassVar[str]
    sniff_bytes: ClassVar[int] = 16 * 1024

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return json_kind(head) == cls.kind

    @classmethod
    def refusal(cls, head: bytes) -> str | None:
        """JSON that no scholarly source claims is named as such, with the keys it has.

        >>> JsonWorksSource.refusal(b'{"records": [{"title": "Pride and prejudice"}]}')
        'JSON, but not of Crossref, OpenAlex or DataCite works (its keys: records, title)'
        """
        keys, _values = head_keys(head)
        if not keys and not _starts_as_json(head):
            return None
        shown = ", ".join(sorted(keys)[:8]) + (", ..." if len(keys) > 8 else "")
        return "JSON, but not of Crossref, OpenAlex or DataCite works" + (f" (its keys: {shown})" if keys else "")

    @staticmethod
    def identify(item: dict) -> str | None:
        """What the source calls the work (its DOI), for positions; ``None`` if unknown."""
        return None

    def read(self, path: Path, name: str | None = None, select: Selector | None = None
             ) -> Iterator[SourceRecord | Rejected]:
        source = name or str(path)
        walker = JsonItems(select or (lambda _number: True))
        with open_input(path) as handle:
            lines = _Lines(handle)
            first = lines.head_line()
            if first is not None and _is_json_lines(first, lines.after(len(first) + 1)):
                lines.next_line()
                yield from self._read_lines(source, walker, first, lines)
                return
            stream = lines
            events = ijson.basic_parse(stream, multiple_values=True, use_float=True, buf_size=_BUFFER)
            try:
                for number, item, fault in walker.read(events):
                    yield self._record(source, number, item, fault)
            except _SYNTAX as exc:
                damage = getattr(handle, "damage", None)
                rule, reason = ("compressed-stream", damage) if damage else ("json-syntax", str(exc))
                yield Rejected(Position(source, walker.next_number()), rule,
                               f"{reason}; the rest of the file is not read")

    def _read_lines(self, source: str, walker: JsonItems, first: bytes, lines: _Lines
                    ) -> Iterator[SourceRecord | Rejected]:
        """JSON Lines: each line read on its own (at most ``MAX_LINE_BYTES``), so a bad line costs
        that line only."""
        line: bytes | None = first
        too_long = False
        while line is not None:
            if too_long:
                walker.number += 1
                yield Rejected(Position(source, walker.number), "record-size",
                               f"a line of more than {MAX_LINE_BYTES:,} bytes: skipped")
            elif line.strip():
                start = walker.number
                try:
                    events = ijson.basic_parse(io.BytesIO(line), multiple_values=True, use_float=True)
                    for number, item, fault in walker.read(events):
                        yield self._record(source, number, item, fault)
                except _SYNTAX as exc:
                    walker.number = max(walker.number, start + 1)
                    yield Rejected(Position(source, walker.number), "json-syntax",
                                   f"a line that is not JSON ({exc}): skipped")
            line, too_long = lines.next_line()
        damage = getattr(lines.handle, "damage", None)
        if damage:
            yield Rejected(Position(source, walker.number + 1), "compressed-stream",
                           f"{damage}; the rest of the file is not read")

    def _record(self, source: str, number: int, item: Any, fault: str | None) -> SourceRecord | Rejected:
        identifier = self.identify(item) if isinstance(item, dict) else None
        position = Position(source, number, identifier=identifier)
        if fault is not None:
            return Rejected(position, "record-size", f"a work with {fault}: skipped")
        if not isinstance(item, dict):
            return Rejected(position, "json-structure", f"a work must be a JSON object, not {_kind(item)}")
        return SourceRecord(position, self.format, item)


_SYNTAX = (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, ValueError)
#: The longest line of a JSON Lines file (one work).
MAX_LINE_BYTES = MAX_ITEM_CHARS
#: A file is taken for JSON Lines when its first line, a whole JSON object, ends within this
#: many bytes and another object follows. Otherwise (a minified API page is one long line) it
#: is streamed as JSON documents, which reads JSON Lines too, only without stepping over a bad
#: line; so what is held to decide is bounded by this, not by the line.
JSON_LINES_WINDOW = 1024 * 1024


def _is_json_lines(first: bytes, following: bytes) -> bool:
    """A first line that is a whole JSON object, followed by another object on the next line."""
    if not first.strip().startswith(b"{") or following != b"{":
        return False
    try:
        return isinstance(json.loads(first), dict)
    except (ValueError, RecursionError):
        return False


class _Lines:
    """Lines of a byte stream, each at most ``MAX_LINE_BYTES`` (a longer one is skipped to its end)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.buffer = b""
        #: Bytes of ``buffer`` already handed to ``read`` (which is used alone, once streaming).
        self.taken = 0

    def _fill(self) -> bool:
        chunk = self.handle.read(_BUFFER)
        if chunk:
            self.buffer = self.buffer + chunk if self.buffer else chunk
        return bool(chunk)

    def head_line(self) -> bytes | None:
        """The first line if it ends within ``JSON_LINES_WINDOW``, else ``None``; nothing is taken."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                return self.buffer[:end] if end <= JSON_LINES_WINDOW else None
            if len(self.buffer) > JSON_LINES_WINDOW:
                return None
            if not self._fill():
                return self.buffer

    def after(self, start: int) -> bytes:
        """The first byte that is not white space from ``start`` on (``b""`` at the end)."""
        while not self.buffer[start:].strip() and self._fill():
            pass
        return self.buffer[start:].lstrip()[:1]

    def next_line(self) -> tuple[bytes | None, bool]:
        """``(line, too_long)``; ``(None, False)`` at the end."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line, self.buffer = self.buffer[:end], self.buffer[end + 1:]
                return line, False
            if len(self.buffer) > MAX_LINE_BYTES:
                self.buffer = b""
                while True:
                    chunk = self.handle.read(_BUFFER)
                    end = chunk.find(b"\n")
                    if not chunk or end >= 0:
                        self.buffer = chunk[end + 1:] if chunk else b""
                        return b"", True
            if not self._fill():
                line, self.buffer = self.buffer, b""
                return (line, False) if line else (None, False)

    def read(self, size: int = -1) -> bytes:
        """The stream from where the lines stand (what is buffered first), for ijson."""
        if size == 0:  # ijson asks for nothing to learn whether the stream gives bytes
            return b""
        if self.buffer:
            size = len(self.buffer) if size is None or size < 0 else size
            data = self.buffer[self.taken:self.taken + size]
            self.taken += len(data)
            if self.taken >= len(self.buffer):
                self.buffer, self.taken = b"", 0
            return data
        return self.handle.read(size)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


# ---------------------------------------------------------------------- sniffing


def head_keys(head: bytes, limit: int = 4000) -> tuple[set[str], dict[str, str]]:
    """The object keys seen in ``head`` and the first string value of each, up to ``limit`` events.

    ``head`` is usually cut mid-value; what was read up to the cut counts.
    """
    keys: set[str] = set()
    values: dict[str, str] = {}
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    stripped = head.lstrip()
    if stripped[:1] not in (b"{", b"["):
        return keys, values
    key = None
    try:
        for count, (event, value) in enumerate(
            ijson.basic_parse(io.BytesIO(head), multiple_values=True, use_float=True)
        ):
            if count > limit:
                break
            if event == "map_key":
                keys.add(value)
                key = value
                continue
            if event == "string" and key is not None and key not in values:
                values[key] = value[:200]
            key = None
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, ValueError):
        pass
    return keys, values


def _starts_as_json(head: bytes) -> bool:
    """Whether the first few values of ``head`` parse as JSON (``[section]`` of an INI file does not)."""
    try:
        events = ijson.basic_parse(io.BytesIO(head.removeprefix(b"\xef\xbb\xbf")), multiple_values=True)
        return sum(1 for _ in zip(range(3), events, strict=False)) > 0 and head.lstrip()[:1] in (b"{", b"[")
    except _SYNTAX:
        return False


def json_kind(head: bytes) -> str | None:
    """``crossref``, ``openalex`` or ``datacite``: whose works a JSON file holds, from its keys.

    >>> json_kind(b'{"status":"ok","message-type":"work-list","message":{"items":[')
    'crossref'
    >>> json_kind(b'{"id":"https://openalex.org/W2741809807","doi":"https://doi.org/10.7717/peerj.4375"}')
    'openalex'
    >>> json_kind(b'{"data":{"id":"10.5061/dryad.8515","type":"dois","attributes":{"doi":"10.5061/dryad.8515"')
    'datacite'
    >>> json_kind(b'{"name": "not a work"}') is None
    True
    """
    keys, values = head_keys(head)
    if not keys:
        return None
    if values.get("message-type", "").startswith("work") or {"DOI", "reference-count"} <= keys or (
        "DOI" in keys and ("container-title" in keys or "issued" in keys or "member" in keys)
    ):
        return "crossref"
    if values.get("id", "").startswith("https://openalex.org/W") or "authorships" in keys:
        return "openalex"
    if values.get("type") == "dois" or ({"creators", "titles"} <= keys and (
        "types" in keys or "publicationYear" in keys or "doi" in keys
    )):
        return "datacite"
    return None
