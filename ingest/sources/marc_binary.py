"""MARC21 binary (ISO 2709) as a stream of records, each read or rejected on its own.

pymarc's reader trusts the 5-digit record length: after one bad length it
reads the rest of the file out of step, or stops. Here a record ends where
its length says only if a record terminator (0x1D) is there; otherwise it
ends at the next terminator, so one bad record costs one record and reading
resynchronises after it. Bytes between records that are only filler (spaces,
newlines, NULs, Ctrl-Z, UTF-8 byte-order marks) are skipped; anything else
becomes one ``Rejected`` per chunk, so every byte of the file is accounted
for and read = written + rejected holds. A record over the 99,999 bytes MARC
allows is read up to its terminator (at most ``MAX_RECORD_BYTES``), with a
warning.

Parsing the framed bytes is done here rather than by ``pymarc.Record(data)``,
with pymarc's own ``Record``/``Field`` classes as the result, because pymarc
rejects a whole record for faults that lose nothing (a wrong length, a base
address off by the directory's true end, directory lengths that disagree with
the field terminators, as in HathiTrust's 12,654-field record), prints to
stderr, and cannot tell MARC-8 from UTF-8 by content (see
``ingest.marc.decoding``). A record is salvaged only when the field
terminators say unambiguously where each field is; each repair is a warning.
A leader one character short or long shows as a directory that starts at
byte 23 or 25 (``ingest.sources.leader``).
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
from ingest.sources.leader import repair as leader_repair
from ingest.sources.limits import MAX_RECORD_FIELDS, MAX_RECORD_SIZE, MAX_RECORD_SUBFIELDS

RECORD_TERMINATOR = 0x1D
FIELD_TERMINATOR = 0x1E
SUBFIELD_DELIMITER = b"\x1f"
LEADER_LENGTH = 24
ENTRY_LENGTH = 12
#: The warning rule of records whose lengths count UTF-8 characters instead of bytes.
CHARACTER_COUNTS = "character-counts"
#: The most a 5-digit record length can say.
MAX_MARC_LENGTH = 99999
#: The most bytes read while looking for one record's terminator; a record
#: longer than MARC allows is still read (with a warning) up to this size.
MAX_RECORD_BYTES = MAX_RECORD_SIZE
CHUNK_BYTES = 256 * 1024

#: Bytes skipped before and between records: whitespace, NULs, Ctrl-Z, and the
#: UTF-8 byte-order mark some Windows tools write at the start of every file
#: (so files joined with ``cat`` carry one between records too).
_BOM = b"\xef\xbb\xbf"
_FILLER = re.compile(rb"(?:[\x00\t\n\r\x1a ]|\xef\xbb\xbf)*")
_PRINTABLE_TAG = re.compile(r"[\x20-\x7e]{3}\Z")
_LEADER_SHAPE = re.compile(rb"\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7}")
_PRINTABLE_LEADER = re.compile(rb"\d{5}[\x20-\x7e]+")
#: Every place a plausible leader starts (overlapping), for resynchronising.
_LEADER_AT = re.compile(rb"(?=\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7})")
#: For sniffing: directory entries after a first leader that may be damaged, and a
#: record terminator followed by a plausible leader and directory entries.
_FIRST_DIRECTORY = re.compile(rb"[^\x1d\x1e]{23,25}(?:[0-9A-Za-z]{3}\d{9}){3}")
_NEXT_RECORD = re.compile(
    rb"\x1d(?:[\x00\t\n\r\x1a ]|\xef\xbb\xbf)*"
    rb"\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7}(?:[0-9A-Za-z]{3}\d{9}){2}"
)
_DIRECTORY_ENTRIES = re.compile(rb"(?:[\x20-\x7e]{3}\d{9})+")
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

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A leader at the start (after any filler), else a directory that shows a record.

        A damaged first leader (NULs, a letter among the length digits, one
        character short) must not hide a file of good records, so failing a
        plausible leader at the start, ``head`` is claimed if directory
        entries follow the first 23 to 25 bytes, or if a record terminator is
        followed by a plausible leader and directory entries.
        """
        start = _FILLER.match(head).end()
        if _LEADER_SHAPE.match(head, start) is not None:
            return True
        return (
            _FIRST_DIRECTORY.match(head, start) is not None
            or _NEXT_RECORD.search(head, start) is not None
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
                try:
                    record, warnings = parse_record(frame)
                except BrokenRecord as broken:
                    if problem is not None and len(frame) <= 1:
                        yield Rejected(position, *problem)
                    elif problem is not None and (
                        broken.rule in _DECISIVE_RULES or problem[0] == CHARACTER_COUNTS
                    ):
                        yield Rejected(position, broken.rule, f"{broken.reason}; {problem[1]}")
                    elif problem is not None:
                        yield Rejected(position, problem[0], f"{problem[1]}; {broken.reason}")
                    else:
                        yield Rejected(position, broken.rule, broken.reason)
                    continue
                if problem is not None:
                    warnings = (RecordWarning(*problem), *warnings)
                yield SourceRecord(position, self.format, record, warnings)
            if handle.damage is not None and (select is None or select(number + 1)):
                yield Rejected(
                    Position(source=source, number=number + 1, offset=handle.position),
                    "compressed-stream",
                    f"{handle.damage}; the rest of the file is not read",
                )


def frames(handle) -> Iterator[tuple[int, bytes, tuple[str, str] | None]]:
    """``(offset, bytes, framing problem)`` for each record of a binary stream.

    A record ends where its length says if a terminator is there, else at the
    next terminator; ``problem`` is ``(rule, reason)`` when the two disagree.
    Memory holds at most a chunk plus one record (bounded by
    ``MAX_RECORD_BYTES``).
    """
    stream = _Stream(handle)
    while True:
        stream.skip_filler()
        if stream.exhausted():
            return
        offset = stream.offset()
        end = stream.find_terminator()
        if end < 0:
            frame = stream.take(MAX_RECORD_BYTES)
            yield offset, frame, _unterminated(frame, at_eof=stream.exhausted())
            continue
        declared = _declared_length(stream.peek(5))
        if declared is not None and end + 1 < declared <= MAX_RECORD_BYTES:
            frame = stream.peek(declared)
            if (
                len(frame) == declared
                and frame[-1] == RECORD_TERMINATOR
                and not (_LEADER_SHAPE.match(frame, end + 1))
            ):
                yield (
                    offset,
                    stream.take(declared),
                    (
                        "end-of-record",
                        f"a record terminator inside the record at byte {end}; read to its length",
                    ),
                )
                continue
        frame = stream.peek(end + 1)
        if len(frame) == 1:
            problem = ("no-fields", "an empty record: a record terminator with nothing before it")
        elif declared is None:
            problem = ("record-length", f"leader/00-04 {frame[:5]!r} is not a record length")
        elif declared == len(frame):
            problem = None
        elif _next_record_follows(frame, declared):
            # The length points at a whole second record: this one lost its terminator.
            frame = frame[:declared]
            problem = ("end-of-record", "no record terminator where the record length ends")
        elif declared == _characters(frame):
            problem = (
                CHARACTER_COUNTS,
                f"the record length counts {declared} UTF-8 characters, not its {len(frame)} "
                "bytes (an export fault); read to its record terminator",
            )
        else:
            problem = (
                "record-length",
                f"leader says {declared} bytes but the record terminator is at byte {len(frame)}",
            )
        if problem is not None and problem[0] == "record-length" and (skip := _next_leader(frame)):
            # Bytes that are not a record before one that is: two items, not one rejection.
            problem = (
                "record-length",
                f"{skip} bytes that do not start with a record length that ends at a "
                f"record terminator, before a record at byte {offset + skip}",
            )
            frame = frame[:skip]
        yield offset, stream.take(len(frame)), problem


class _Stream:
    """A byte stream read in chunks, with look-ahead of up to one record."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.buffer = b""
        self.start = 0  # file offset of buffer[0]
        self.pos = 0
        self.eof = False

    def _more(self) -> bool:
        chunk = b"" if self.eof else self.handle.read(CHUNK_BYTES)
        if not chunk:
            self.eof = True
            return False
        self.start += self.pos
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def offset(self) -> int:
        return self.start + self.pos

    def exhausted(self) -> bool:
        return self.pos >= len(self.buffer) and (self.eof or not self._more())

    def skip_filler(self) -> None:
        while True:
            self.pos = _FILLER.match(self.buffer, self.pos).end()
            tail = self.buffer[self.pos :]
            cut_bom = len(tail) < len(_BOM) and _BOM.startswith(tail)  # the chunk ends inside one
            if (tail and not cut_bom) or not self._more():
                return

    def find_terminator(self) -> int:
        """The terminator's index relative to the current position, or -1 within the limit."""
        searched = 0
        while True:
            end = self.buffer.find(b"\x1d", self.pos + searched)
            if end >= 0:
                end -= self.pos
                return end if end < MAX_RECORD_BYTES else -1
            searched = len(self.buffer) - self.pos
            if searched > MAX_RECORD_BYTES or not self._more():
                return -1

    def peek(self, size: int) -> bytes:
        while len(self.buffer) - self.pos < size and self._more():
            pass
        return self.buffer[self.pos : self.pos + size]

    def take(self, size: int) -> bytes:
        data = self.peek(size)
        self.pos += len(data)
        return data


def _declared_length(frame: bytes) -> int | None:
    digits = frame[:5]
    return int(digits) if len(digits) == 5 and digits.isdigit() else None


def _next_leader(frame: bytes) -> int:
    """Where a record starts inside ``frame`` (after byte 0), else 0.

    A record start is a plausible leader whose record length ends exactly at
    ``frame``'s record terminator: garbage between two records, or a record
    cut short before the next one, is then one item and the record after it
    another, instead of one rejection for both.
    """
    size = len(frame)
    # The length such a leader declares is the distance to the end: at most 99,999.
    start = max(1, size - MAX_MARC_LENGTH)
    for found in _LEADER_AT.finditer(frame, start, size - LEADER_LENGTH):
        at = found.start()
        if at + int(frame[at : at + 5]) == size:
            return at
    return 0


def _characters(data: bytes) -> int:
    """How many characters ``data`` holds as UTF-8 (a bad byte counts as one)."""
    return len(data.decode("utf-8", "replace"))


def _next_record_follows(frame: bytes, declared: int) -> bool:
    """True if ``frame[declared:]`` is exactly one record whose own length fits."""
    if not (LEADER_LENGTH < declared < len(frame)):
        return False
    if not _LEADER_SHAPE.match(frame, declared):
        return False
    return declared + int(frame[declared : declared + 5]) == len(frame)


def _unterminated(frame: bytes, at_eof: bool) -> tuple[str, str]:
    if not at_eof:
        return ("record-length", f"no record terminator within {MAX_RECORD_BYTES} bytes")
    declared = _declared_length(frame)
    if declared is not None and declared > len(frame):
        return ("truncated", f"the file ends {len(frame)} bytes into a record of {declared}")
    if declared is None:
        return (
            "record-length",
            f"{len(frame)} bytes at the end of the file that do not start with a record length "
            "and have no record terminator",
        )
    return ("end-of-record", "no record terminator (0x1D) before the end of the file")


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


def _leader(raw: bytes, warnings: Warnings) -> str:
    """The leader of a record whose directory starts where it should, at byte 24."""
    if not raw[:20].isascii():
        raise BrokenRecord("leader", f"the leader holds non-ASCII bytes: {raw!r}")
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
            and _DIRECTORY_ENTRIES.fullmatch(frame, start, directory_end)
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
    """``(tag, length digits, offset digits)`` for each 12-byte directory entry."""
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
    """The fields where the directory says, or ``None`` if one of them does not end on a terminator."""
    size = len(frame)
    fields = []
    for tag, length, offset in entries:
        if not (length.isdigit() and offset.isdigit()):
            return None
        begin = base + int(offset)
        stop = begin + int(length)
        if not (begin < stop <= size and frame[stop - 1] == FIELD_TERMINATOR):
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
    if _counts_characters(pieces, [entries[index] for index in order]):
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


def _counts_characters(pieces: list[bytes], entries: list[tuple[str, bytes, bytes]]) -> bool:
    """True if each entry (in data order) gives its field's length and offset in UTF-8 characters."""
    offset = 0
    for piece, (_tag, length, start) in zip(pieces, entries, strict=True):
        characters = _characters(piece) + 1  # and its field terminator
        if not (length.isdigit() and start.isdigit()):
            return False
        if (int(length), int(start)) != (characters, offset):
            return False
        offset += characters
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
