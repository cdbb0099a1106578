"""The values that flow out of ingest: raw records, rejections, record graphs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record sits in its input, for reports and provenance.

    ``number`` is 1-based among the records of the file; ``offset`` is the byte
    offset of its first byte (binary MARC) or ``None`` where only a line is
    known (XML, then ``line`` is set).
    """

    source: str
    number: int
    offset: int | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}: record {self.number}"
        if self.offset is not None:
            where += f" at byte {self.offset}"
        if self.line is not None:
            where += f" (line {self.line})"
        return where


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record as read from its input, before mapping.

    ``payload`` is format specific (a ``pymarc.Record`` for MARC sources);
    ``warnings`` collects recoverable problems met while reading (e.g. a MARC-8
    character that could not be converted) so they can be reported without
    rejecting the record.
    """

    position: Position
    format: str
    payload: Any
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be read or mapped, and why.

    ``rule`` is a short stable code (``record-length``, ``directory``,
    ``encoding``, ``xml-syntax``...) that summaries group by; ``reason`` is the
    human sentence.
    """

    position: Position
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.position}: {self.rule}: {self.reason}"


@dataclass(frozen=True, slots=True)
class RecordGraph:
    """The knowledge units of one source record, ready for the store.

    ``nquads`` is the N-Quads serialisation of every quad, all in the named
    graph ``graph``. Bytes rather than term objects so that record graphs cross
    process boundaries cheaply. ``deleted`` marks a record whose source says it
    was withdrawn (MARC leader/05 = ``d``): its graph is to be dropped and
    ``nquads`` is empty. ``content_hash`` lets the store skip records that did
    not change since the last ingest.
    """

    graph: str
    position: Position
    nquads: bytes
    quad_count: int
    content_hash: str
    deleted: bool = False
    warnings: tuple[str, ...] = field(default=())
