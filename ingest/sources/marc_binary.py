"""MARC21 binary (ISO 2709) as a stream of records, each read or rejected on its own.

``ingest.sources.framing`` cuts the stream into records whatever their
lengths say; this module reads each framed record. Parsing is done here
rather than by ``pymarc.Record(data)``, with pymarc's own ``Record``/``Field``
classes as the result, because pymarc rejects a whole record for faults that
lose nothing (a wrong length, a base address off by the directory's true end,
directory lengths that disagree with the field terminators, as in
HathiTrust's 12,654-field record), prints to stderr, and cannot tell MARC-8
from UTF-8 by content (see ``ingest.marc.decoding``). A record is salvaged
only when the field terminators say unambiguously where each field is; each
repair is a warning. A leader one character short or long shows as a
directory that starts at byte 23 or 25 (``ingest.sources.leader``). Every
framed record yields exactly one item, so read = written + rejected holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pymarc import Field, Indicators, Leader, Record

from ingest.marc.decoding import (
    Encoding,
    UnknownEncoding,
    Warnings,
    choose_encoding,
    decode_text,
)
from ingest.model import Position, RecordWarning, Rejected, SourceRecord
from ingest.sources.base import Selector, Source
from ingest.sources.compressed import open_input
from ingest.sources.fields import control_field, data_field, indicators, subfield
from ingest.sources.framing import CHARACTER_COUNTS, CHUNK_BYTES, characters, frames
from ingest.sources.leader import repair as leader_repair
from ingest.sources.limits import MAX_RECORD_FIELDS, MAX_RECORD_SUBFIELDS
from ingest.sources.record_starts import (
    DIRECTORY_ENTRIES,
    ENTRY_LENGTH,
    FIELD_TERMINATOR,
    FILLER,
    LEADER_LENGTH,
    LEADER_SHAPE,
    MAX_MARC_LENGTH,
    first_record,
)

SUBFIELD_DELIMITER = b"\x1f"
_PRINTABLE_TAG = re.compile(r"[\x20-\x7e]{3}\Z")
#: One 12-byte directory entry with a printable tag: tag, length digits, offset digits.
_ENTRY = re.compile(rb"([\x20-\x7e]{3})([\x00-\xff]{4})([\x00-\xff]{5})")
_PRINTABLE_LEADER = re.compile(rb"\d{5}[\x20-\x7e]+")
#: For sniffing: directory entries after a first leader that may be damaged.
_FIRST_DIRECTORY = re.compile(rb"[^\x1d\x1e]{23,25}(?:[0-9A-Za-z]{3}\d{9}){3}")
#: Control characters, which a leader never holds (NULs written over it).
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
#: A subfield delimiter followed by a non-ASCII byte (a subfield code that needs a warning).
_NON_ASCII_CODE = re.compile(rb"\x1f[\x80-\xff]")
#: MARC-8 field bytes that are printable ASCII and delimiters only (read as ASCII).
_PLAIN_MARC8 = re.compile(rb"[\x1f\x20-\x7e]*\Z")


#: Faults of a record's content that say more than a framing fault found with them
#: (and a record counted in characters is rejected for what else is wrong with it).
_DECISIVE_RULES = frozenset({"encoding", "record-size"})


class BrokenRecord(Exception):  # noqa: N818 - a result, not an error of ours
    """A framed record that cannot be read: ``rule`` is the stable code."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


class MarcBinarySource(Source):
    """ISO 2709 files: ``.mrc``, ``.marc``, ``.dat``, ``.usmarc``."""

    format = "marc"

    #: A first record of up to 99,999 bytes and the start of the next are in view.
    sniff_bytes = CHUNK_BYTES

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A leader at the start (after any filler), else a record that shows further on.

        A damaged first record (NULs or letters in its leader, junk written
        before it, a leader one character short) must not hide a file of good
        records, so failing a plausible leader at the start, ``head`` is
        claimed if directory entries follow its first 23 to 25 bytes, or if a
        sound record (``ingest.sources.record_starts.record_at``: its length ends on
        a record terminator, its base address on the directory's end) starts
        after a record terminator anywhere in ``head``.
        """
        start = FILLER.match(head).end()
        if LEADER_SHAPE.match(head, start) is not None:
            return True
        return (
            _FIRST_DIRECTORY.match(head, start) is not None
            or first_record(head, start) is not None
        )

    def read(
        self, path: Path, name: str | None = None, select: Selector | None = None
    ) -> Iterator[SourceRecord | Rejected]:
        source = name or str(path)
        number = 0
        with open_input(path) as handle:
            for number, (offset, frame, problem) in enumerate(frames(handle), start=1):
                if select is not None and not select(number):
                    continue  # another worker's record: framed, not decoded
                position = Position(source=source, number=number, offset=offset)
                if problem is not None and not problem.readable:
                    yield Rejected(position, problem.rule, problem.reason)
                    continue
                try:
                    record, warnings = parse_record(frame)
                except BrokenRecord as broken:
                    if problem is not None and (
                        broken.rule in _DECISIVE_RULES or problem.rule == CHARACTER_COUNTS
                    ):
                        yield Rejected(position, broken.rule, f"{broken.reason}; {problem.reason}")
                    elif problem is not None:
                        yield Rejected(position, problem.rule, f"{problem.reason}; {broken.reason}")
                    else:
                        yield Rejected(position, broken.rule, broken.reason)
                    continue
                if problem is not None:
                    warnings = (RecordWarning(problem.rule, problem.reason), *warnings)
                yield SourceRecord(position, self.format, record, warnings)
            if handle.damage is not None and (select is None or select(number + 1)):
                yield Rejected(
                    Position(source=source, number=number + 1, offset=handle.position),
                    "compressed-stream",
                    f"{handle.damage}; the rest of the file is not read",
                )


def parse_record(frame: bytes) -> tuple[Record, tuple[RecordWarning, ...]]:
    """One framed ISO 2709 record as a ``pymarc.Record`` plus its warnings.

    Raises ``BrokenRecord`` when the record cannot be read without guessing.
    """
    if frame.endswith(b"\x1d"):
        frame = frame[:-1]
    warnings = Warnings()
    if len(frame) < LEADER_LENGTH + 1:
        raise BrokenRecord("leader", f"only {len(frame)} bytes: too short for a record")
    directory_end = frame.find(b"\x1e", LEADER_LENGTH)
    if directory_end < 0:
        raise BrokenRecord("directory", "no field terminator after the directory")
    data_area = frame[directory_end + 1 :]
    _check_size(data_area.count(b"\x1e"), data_area.count(SUBFIELD_DELIMITER))
    _check_directory_size(directory_end - LEADER_LENGTH)
    start = LEADER_LENGTH
    if (directory_end - LEADER_LENGTH) % ENTRY_LENGTH and not _walks(frame, directory_end):
        start = _directory_start(frame, directory_end)  # not on the path of a sound record
    if start == LEADER_LENGTH:
        leader = _leader(frame[:LEADER_LENGTH], warnings)
    else:
        leader, done = leader_repair(frame[:start].decode("ascii"))
        warnings.add("leader", f"{done} (the directory starts at byte {start})")
    if len(frame) + 1 > MAX_MARC_LENGTH:
        warnings.add(
            "record-length",
            f"{len(frame) + 1} bytes, more than the {MAX_MARC_LENGTH} "
            "a MARC record may have; read up to its terminator"
        )
    base = _base_address(directory_end, leader, warnings)
    directory = frame[start : base - 1]
    if not directory:
        raise BrokenRecord("no-fields", "the directory is empty")
    if not directory.isascii():
        raise BrokenRecord("directory", "the directory holds non-ASCII bytes")
    if len(directory) % ENTRY_LENGTH:
        fields = _walk_directory(directory.decode("ascii"), data_area, warnings)
    else:
        fields = _fields(frame, base, _directory(directory), warnings)
    try:
        encoding, note = choose_encoding(leader[9], data_area)
    except UnknownEncoding as unknown:
        raise BrokenRecord("encoding", str(unknown)) from None
    if note is not None:
        warnings.add(note.rule, note.message)
    record = Record(to_unicode=True, force_utf8=encoding is not Encoding.MARC8)
    record.leader = Leader(leader)
    record.fields = [_field(tag, data, encoding, warnings) for tag, data in fields]
    return record, warnings.as_tuple()


def _check_size(fields: int, subfields: int) -> None:
    """Refuse a record past the limits of ``ingest.sources.limits`` before building its fields."""
    if fields > MAX_RECORD_FIELDS:
        raise BrokenRecord(
            "record-size", f"{fields} fields: more than the {MAX_RECORD_FIELDS} a record may have"
        )
    if subfields > MAX_RECORD_SUBFIELDS:
        raise BrokenRecord(
            "record-size",
            f"{subfields} subfields: more than the {MAX_RECORD_SUBFIELDS} a record may have",
        )


def _check_directory_size(size: int) -> None:
    """Refuse a directory with room for more entries than a record may have fields.

    Fields never share bytes (``_by_directory``), so the data area bounds
    what is built from the entries; the entries themselves are bounded here,
    before they are listed: 100,000 of them over a data area of few field
    terminators would pass the count of fields.
    """
    if size // ENTRY_LENGTH > MAX_RECORD_FIELDS:
        raise BrokenRecord(
            "record-size",
            f"a directory of {size} bytes ({size // ENTRY_LENGTH} entries): more than the "
            f"{MAX_RECORD_FIELDS} fields a record may have",
        )


def _leader(raw: bytes, warnings: Warnings) -> str:
    """The leader of a record whose directory starts where it should, at byte 24.

    Control characters (a leader overwritten with NULs) are read as blanks,
    with a warning: the fields are intact, and a blank leader is what a
    MARCXML record without one gets too.
    """
    if not raw[:20].isascii():
        raise BrokenRecord("leader", f"the leader holds non-ASCII bytes: {raw!r}")
    if _CONTROL.search(raw) is not None:
        blanked = _CONTROL.sub(b" ", raw)
        warnings.add(
            "leader",
            f"{len(_CONTROL.findall(raw))} control characters in the leader read as blanks: {raw!r}",
        )
        raw = blanked
    if not raw[20:].isascii():
        # Leader/20-23 is the fixed entry map "4500" in MARC 21: nothing is lost.
        warnings.add("leader", f"leader/20-23 {raw[20:]!r} is not ASCII; read as '4500'")
        raw = raw[:20] + b"4500"
    return raw.decode("ascii")


def _walks(frame: bytes, directory_end: int) -> bool:
    """True if the directory from byte 24 reads as entries longer than 12 bytes (``_walk_directory``)."""
    directory = frame[LEADER_LENGTH:directory_end]
    if not directory.isascii():
        return False
    try:
        _walk_directory(directory.decode("ascii"), frame[directory_end + 1 :], Warnings())
    except BrokenRecord:
        return False
    return True


def _directory_start(frame: bytes, directory_end: int) -> int:
    """Where the directory starts when it is not a whole number of entries from byte 24.

    23 or 25 when, from there, it is a whole number of well-formed entries
    after a leader of printable ASCII, and every entry's length and offset
    land on a field terminator (a leader written one character short or
    long: ``ingest.sources.leader``); else 24, and the directory is read as it
    is (and most likely rejected).
    """
    for start in (LEADER_LENGTH - 1, LEADER_LENGTH + 1):
        if (
            (directory_end - start) % ENTRY_LENGTH == 0
            and _PRINTABLE_LEADER.fullmatch(frame, 0, start)
            and DIRECTORY_ENTRIES.fullmatch(frame, start, directory_end)
            and _by_directory(frame, directory_end + 1, _directory(frame[start:directory_end]))
        ):
            return start
    return LEADER_LENGTH


def _base_address(directory_end: int, leader: str, warnings: Warnings) -> int:
    """Where the fields start: just after the directory's field terminator."""
    declared = leader[12:17]
    if declared != f"{directory_end + 1:05d}":
        warnings.add(
            "base-address",
            f"leader says {declared!r}, the directory ends at byte {directory_end}"
        )
    return directory_end + 1


def _directory(directory: bytes) -> list[tuple[str, bytes, bytes]]:
    """``(tag, length digits, offset digits)`` for each 12-byte directory entry.

    One ``findall`` cuts a sound directory: its matches are 12 bytes each and do not
    overlap, so as many of them as the directory has entries tile it exactly. Any
    other directory is walked entry by entry, which names the first unreadable tag.
    """
    found = _ENTRY.findall(directory)
    if len(found) * ENTRY_LENGTH == len(directory):
        return [(tag.decode("ascii"), length, offset) for tag, length, offset in found]
    entries = []
    for index in range(0, len(directory), ENTRY_LENGTH):
        entry = directory[index : index + ENTRY_LENGTH]
        tag = entry[:3].decode("ascii")
        if not _PRINTABLE_TAG.match(tag):
            raise BrokenRecord("directory", f"directory entry {entry!r} has an unreadable tag")
        entries.append((tag, entry[3:7], entry[7:12]))
    return entries


def _fields(
    frame: bytes, base: int, entries: list[tuple[str, bytes, bytes]], warnings: Warnings
) -> list[tuple[str, bytes]]:
    """Each field's tag and bytes (without its terminator), by the directory or salvaged."""
    fields = _by_directory(frame, base, entries)
    if fields is not None:
        return fields
    return _salvage(frame[base:], entries, warnings)


def _by_directory(
    frame: bytes, base: int, entries: list[tuple[str, bytes, bytes]]
) -> list[tuple[str, bytes]] | None:
    """The fields where the directory says, or ``None`` if one of them does not end on a terminator.

    ``None`` too when the fields' lengths add up to more than the data area:
    entries that name the same bytes again (19,000 entries naming one field of
    10 kB would make 190 MB of fields out of a record of 240 kB).
    """
    size = len(frame)
    fields = []
    room = size - base  # fields that share bytes would cost more than the record holds
    for tag, length, offset in entries:
        if not (length.isdigit() and offset.isdigit()):
            return None
        begin = base + int(offset)
        stop = begin + int(length)
        room -= stop - begin
        if not (begin < stop <= size and frame[stop - 1] == FIELD_TERMINATOR and room >= 0):
            return None
        fields.append((tag, frame[begin : stop - 1]))
    return fields


def _salvage(
    data_area: bytes, entries: list[tuple[str, bytes, bytes]], warnings: Warnings
) -> list[tuple[str, bytes]]:
    """Fields re-derived from the field terminators when the directory's numbers are wrong.

    Only when the data area holds exactly one terminated field per directory
    entry; fields are matched to entries in offset order (directory order if
    the offsets are unreadable), as marc4j's permissive reader does.
    """
    pieces = data_area.split(b"\x1e")
    if pieces[-1]:
        raise BrokenRecord(
            "field-terminator",
            "the directory does not match the fields and the last field has no field terminator",
        )
    pieces.pop()
    if len(pieces) != len(entries):
        raise BrokenRecord(
            "directory",
            f"the directory lists {len(entries)} fields, lengths or offsets that do not "
            f"match the data, and the data holds {len(pieces)} terminated fields",
        )
    order = list(range(len(entries)))
    if all(offset.isdigit() for _, _, offset in entries):
        order.sort(key=lambda index: int(entries[index][2]))
    fields: list[tuple[str, bytes]] = [("", b"")] * len(entries)
    for piece, index in zip(pieces, order, strict=True):
        fields[index] = (entries[index][0], piece)
    if _countscharacters(pieces, [entries[index] for index in order]):
        warnings.add(
            CHARACTER_COUNTS,
            "the directory's lengths and offsets count UTF-8 characters, not bytes "
            "(an export fault); fields found by their field terminators",
        )
    else:
        warnings.add(
            "directory",
            "field lengths or offsets in the directory do not match the data; "
            "fields re-derived from the field terminators",
        )
    return fields


def _countscharacters(pieces: list[bytes], entries: list[tuple[str, bytes, bytes]]) -> bool:
    """True if each entry (in data order) gives its field's length and offset in UTF-8 characters."""
    offset = 0
    for piece, (_tag, length, start) in zip(pieces, entries, strict=True):
        counted = characters(piece) + 1  # and its field terminator
        if not (length.isdigit() and start.isdigit()):
            return False
        if (int(length), int(start)) != (counted, offset):
            return False
        offset += counted
    return True


def _walk_directory(
    directory: str, data_area: bytes, warnings: Warnings
) -> list[tuple[str, bytes]]:
    """Fields of a directory whose entries are not all 12 bytes long.

    Writers that overflow a 4-digit length or 5-digit offset write more
    digits (marc4j's bad_oversize_field_bad_directory.mrc, records over
    99,999 bytes). Such a directory is accepted only if, entry by entry, it
    spells exactly the lengths and offsets that the field terminators give.
    """
    pieces = data_area.split(b"\x1e")
    pieces.pop()  # what follows the last field terminator: nothing, in a sound record
    fields = []
    at = offset = 0
    for piece in pieces:
        tag = directory[at : at + 3]
        numbers = f"{len(piece) + 1:04d}{offset:05d}"
        if not (_PRINTABLE_TAG.match(tag) and directory.startswith(numbers, at + 3)):
            break
        fields.append((tag, piece))
        at += 3 + len(numbers)
        offset += len(piece) + 1
    if not fields or at != len(directory) or len(fields) != len(pieces):
        raise BrokenRecord(
            "directory",
            f"the directory is {len(directory)} bytes, not a multiple of {ENTRY_LENGTH}, "
            "and does not match the fields",
        )
    warnings.add("directory", "entries longer than 12 bytes (oversized length or offset) read")
    return fields


def _field(tag: str, data: bytes, encoding: Encoding, warnings: Warnings) -> Field:
    if tag < "010" and tag.isdigit():
        text = (
            data.decode("ascii") if data.isascii() else decode_text(data, encoding, warnings, tag)
        )
        return control_field(tag, text)
    text = _plain_text(data, encoding)
    if text is not None:
        parts = text.split("\x1f")
        head = parts[0]
        if len(head) == 2 and head.isascii():
            return data_field(
                tag,
                indicators(head[0], head[1]),
                [subfield(part[0], part[1:]) for part in parts[1:] if part],
            )
    parts = data.split(SUBFIELD_DELIMITER)
    head = parts[0]
    if len(head) == 2 and head.isascii():
        inds = indicators(chr(head[0]), chr(head[1]))
    else:
        inds = _indicators(tag, head, warnings)
    subfields = []
    for part in parts[1:]:
        if not part:
            continue
        if encoding is Encoding.UTF8 and part[0] < 0x80:  # the common case, kept fast
            subfields.append(subfield(chr(part[0]), part[1:].decode("utf-8")))
            continue
        code, skip = _subfield_code(tag, part, warnings)
        subfields.append(
            subfield(code, decode_text(part[skip:], encoding, warnings, f"{tag}${code}"))
        )
    return data_field(tag, inds, subfields)


def _plain_text(data: bytes, encoding: Encoding) -> str | None:
    """A data field's whole text when it reads without any decision or warning, else ``None``.

    That is: UTF-8 that decodes and has only ASCII subfield codes, or MARC-8
    that is nothing but printable ASCII. Splitting this text at ``\\x1f``
    then gives exactly what decoding each subfield on its own gives, in one
    decode call per field instead of one per subfield; every other field
    (MARC-8 with escapes or ANSEL, bad bytes, odd codes) takes the careful
    per-subfield path in :func:`_field`.
    """
    if encoding is Encoding.UTF8:
        if _NON_ASCII_CODE.search(data) is not None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if encoding is Encoding.MARC8 and _PLAIN_MARC8.match(data) is not None:
        return data.decode("ascii")
    return None


def _indicators(tag: str, raw: bytes, warnings: Warnings) -> Indicators:
    """Indicators from a field's head that is not two ASCII bytes: as pymarc, blank-filled."""
    if len(raw) != 2:
        warnings.add("indicators", f"field {tag} has {len(raw)} indicators, not 2")
    chars = [chr(byte) if 0x20 <= byte < 0x7F else " " for byte in raw[:2]]
    if any(byte >= 0x80 for byte in raw[:2]):
        warnings.add("indicators", f"field {tag} has a non-ASCII indicator; read as blank")
    chars += [" "] * (2 - len(chars))
    return Indicators(chars[0], chars[1])


def _subfield_code(tag: str, part: bytes, warnings: Warnings) -> tuple[str, int]:
    """The subfield code and how many bytes it takes; a non-ASCII code is reported."""
    first = part[0]
    if first < 0x80:
        return chr(first), 1
    for width in (2, 3, 4):
        try:
            char = part[:width].decode("utf-8")
        except UnicodeDecodeError:
            continue
        break
    else:
        char, width = chr(first), 1
    warnings.add("subfield-code", f"field {tag} has a non-ASCII subfield code {char!r}")
    return char, width
