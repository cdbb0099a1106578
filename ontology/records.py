"""The values that cross from ``ingest`` to ``graph``: where a record came from, its graph, its faults.

Defined once, here, because both layers need them and neither may import the
other (DESIGN.md): ``ingest`` makes them, ``graph`` stores them.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

#: Bytes of a group's key (BLAKE2b): collisions are out of reach at any catalogue's size.
KEY_SIZE = 16
#: One packed ``UnitGroup``: key, unit id, size of its lines in bytes, functional.
_GROUP = struct.Struct("<16sqI?")


class UnitGroup(NamedTuple):
    """What one record says about one shared unit, as the store's ledger counts it.

    ``key`` is the hash of the group's N-Quads lines (sorted, so two records
    that say the same thing about a unit give the same key), ``unit`` a 64-bit
    id of the unit's graph (``unit_id``), ``size`` the bytes of
    ``RecordGraph.units`` its lines take, and ``functional`` whether it is the
    one statement of a functional property (``bf:instanceOf``), which the
    ledger settles apart: such a statement is a group of its own.

    Why groups: a record says about 36 things about 6 units, and most records
    that mention a unit say the same about it. Counted per group, the ledger
    touches a sixth of the rows it would per statement (measured on the
    benchmark set: 26,022 distinct groups against 169,595 distinct statements).
    """

    key: bytes
    unit: int
    size: int
    functional: bool


def unit_id(graph: str) -> int:
    """A 64-bit id of a unit's graph IRI (the ledger finds a unit's groups by it).

    >>> unit_id("http://example.org/agent/k1") == unit_id("http://example.org/agent/k1")
    True
    """
    digest = hashlib.blake2b(graph.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def line_key(line: bytes) -> bytes:
    """The key of one N-Quads line alone (a functional statement's group, a writer's edit)."""
    return hashlib.blake2b(line, digest_size=KEY_SIZE).digest()


def group_units(
    by_unit: Mapping[str, Iterable[str]], functional: Iterable[tuple[str, str]] = ()
) -> tuple[bytes, bytes]:
    """``(units, unit_groups)`` of a ``RecordGraph`` from its unit statements.

    ``by_unit``: unit graph IRI -> the N-Quads lines the record states there;
    ``functional``: ``(unit graph IRI, line)`` of each statement of a
    functional property, a group of its own. Lines are sorted within a group,
    so the key depends on what is said, not on the order it was said in.

    >>> units, groups = group_units({"http://e.org/a": ["<http://e.org/a> <http://e.org/p> 2 <http://e.org/a> .\\n",
    ...                                                 "<http://e.org/a> <http://e.org/p> 1 <http://e.org/a> .\\n"]})
    >>> [(g.size == len(units), g.functional) for g in unpack_groups(groups)]
    [(True, False)]
    >>> units.splitlines()[0].endswith(b"1 <http://e.org/a> .")
    True
    """
    chunks: list[bytes] = []
    packed: list[bytes] = []
    blake2b = hashlib.blake2b
    pack = _GROUP.pack
    for graph, lines in by_unit.items():
        body = "".join(sorted(lines)).encode("utf-8")
        if body:
            chunks.append(body)
            packed.append(pack(blake2b(body, digest_size=KEY_SIZE).digest(), unit_id(graph), len(body), False))
    for graph, line in functional:
        body = line.encode("utf-8")
        chunks.append(body)
        packed.append(pack(blake2b(body, digest_size=KEY_SIZE).digest(), unit_id(graph), len(body), True))
    return b"".join(chunks), b"".join(packed)


def line_graph(line: bytes) -> str:
    """The graph IRI of one N-Quads line in a named graph (``<s> <p> <o> <g> .``)."""
    return line.rstrip().rsplit(b" ", 2)[-2][1:-1].decode("utf-8")


def group_nquads(units: bytes, functional_predicates: frozenset[str]) -> tuple[bytes, bytes]:
    """``group_units`` of N-Quads lines given as one text (each line in a named graph).

    For record graphs made without ``ingest.quads.GraphBuilder``, which groups
    as it goes.

    >>> units, groups = group_nquads(b"<http://e.org/a> <http://e.org/p> 1 <http://e.org/a> .\\n", frozenset())
    >>> [g.size for g in unpack_groups(groups)] == [len(units)]
    True
    """
    by_unit: dict[str, list[str]] = {}
    functional: list[tuple[str, str]] = []
    for raw in units.splitlines(keepends=True):
        line = raw.decode("utf-8")
        graph = line_graph(raw)
        if line.split(" ", 2)[1][1:-1] in functional_predicates:
            functional.append((graph, line))
        else:
            by_unit.setdefault(graph, []).append(line)
    return group_units(by_unit, functional)


def unpack_groups(data: bytes) -> list[UnitGroup]:
    """The ``UnitGroup``s a ``RecordGraph.unit_groups`` value packs, in order."""
    return [UnitGroup(*fields) for fields in _GROUP.iter_unpack(data)]


def group_fields(groups: bytes) -> Iterator[tuple[bytes, int, int, bool]]:
    """``(key, unit, size, functional)`` of each group a ``RecordGraph.unit_groups`` packs, as
    plain tuples: the writer walks every group of every record, and a ``UnitGroup`` each costs
    more than the walk (``graph.ledger.Ledger.plan``)."""
    return _GROUP.iter_unpack(groups)


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
class Rejected:
    """A record that could not be read, mapped or stored, and why.

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
    """What one source record says, ready for the store.

    ``nquads`` holds the statements that belong to the record alone (those
    that mention one of its local nodes), all in the named graph ``graph``;
    ``units`` holds its statements about shared knowledge units, each as one
    N-Quads line in the unit's own graph (``ontology.layout``), each once,
    grouped by unit as ``unit_groups`` says (``group_units``). The store keeps a unit statement while any record (or a cataloger)
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
    #: The groups of ``units``, one per unit (``group_units``, ``unpack_groups``).
    unit_groups: bytes = b""

    @property
    def all_nquads(self) -> bytes:
        """Everything the record says: its own graph and its unit statements, as N-Quads."""
        return self.nquads + self.units
