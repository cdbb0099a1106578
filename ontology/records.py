"""The values that cross from ``ingest`` to ``graph``: where a record came from, its graph, its warnings.

Defined once, here, because both layers need them and neither may import the
other (DESIGN.md): ``ingest`` makes them, ``graph`` stores them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

#: Bytes of a statement hash (BLAKE2b): collisions are out of reach at any catalogue's size.
STATEMENT_HASH_SIZE = 16


def statement_hashes(lines: list[bytes]) -> bytes:
    """The hashes of N-Quads lines (each ``<s> <p> <o> <g> .\\n``), 16 bytes each, concatenated.

    Computed where a record is mapped (in parallel workers), and used by the
    store's ledger to count who states each unit statement (``graph.ledger``).

    >>> len(statement_hashes([b"<a:s> <a:p> <a:o> <a:s> .\\n", b"<a:s> <a:p> <a:q> <a:s> .\\n"]))
    32
    """
    blake2b = hashlib.blake2b
    return b"".join([blake2b(line, digest_size=STATEMENT_HASH_SIZE).digest() for line in lines])


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record sits in its source, for reports and provenance.

    A file: ``source`` is its name as the user gave it, ``number`` the record's
    1-based number in it, ``offset`` the byte offset of its first byte
    (binary MARC) or ``line`` where only a line is known (XML). A stream that
    is not a file (an OAI-PMH harvest, the pages of a JSON API): ``source`` is
    its URL, ``number`` the record's index in the stream, and ``identifier``
    and ``datestamp`` what the stream calls the record.

    >>> str(Position("records.mrc", 3, offset=1200))
    'records.mrc: record 3 at byte 1200'
    >>> str(Position("https://repo.example/oai", 7, identifier="oai:repo:42", datestamp="2024-01-02"))
    'https://repo.example/oai: record 7 (oai:repo:42, 2024-01-02)'
    """

    source: str
    number: int
    offset: int | None = None
    line: int | None = None
    identifier: str | None = None
    datestamp: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}: record {self.number}"
        if self.offset is not None:
            where += f" at byte {self.offset}"
        if self.line is not None:
            where += f" (line {self.line})"
        if self.identifier is not None:
            where += f" ({self.identifier}" + (f", {self.datestamp})" if self.datestamp else ")")
        return where


@dataclass(frozen=True, slots=True)
class RecordWarning:
    """A fault met in a record that was stored anyway (a repaired leader, a bad MARC-8 byte...).

    ``rule`` is a short stable code, as a rejection's (``leader``, ``directory``,
    ``encoding``...), so summaries and reports can count warnings by kind;
    ``message`` says what was found and what was done about it.

    >>> str(RecordWarning("base-address", "leader says '00037', the directory ends at byte 36"))
    "base-address: leader says '00037', the directory ends at byte 36"
    """

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass(frozen=True, slots=True)
class RecordGraph:
    """What one source record says, ready for the store.

    ``nquads`` holds the statements that belong to the record alone (those
    that mention one of its local nodes), all in the named graph ``graph``;
    ``units`` holds its statements about shared knowledge units, each as one
    N-Quads line in the unit's own graph (``ontology.layout``), each once, in
    the order the mapper stated them. The store keeps a unit statement while any record (or a cataloger)
    still makes it. Bytes rather than term objects so that record graphs cross
    process boundaries cheaply. ``deleted`` marks a record whose source says
    it was withdrawn (MARC leader/05 = ``d``): its graph is dropped and its
    statements retracted; both byte strings are empty. ``content_hash`` covers
    both parts and lets the store skip records that did not change.
    """

    graph: str
    position: Position
    nquads: bytes
    quad_count: int
    content_hash: str
    deleted: bool = False
    warnings: tuple[RecordWarning, ...] = field(default=())
    units: bytes = b""
    unit_count: int = 0
    #: ``statement_hashes`` of the lines of ``units``, in their order.
    unit_hashes: bytes = b""

    @property
    def all_nquads(self) -> bytes:
        """Everything the record says: its own graph and its unit statements, as N-Quads."""
        return self.nquads + self.units
