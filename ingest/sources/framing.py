"""Framing ISO 2709 streams: where each record starts and ends, whatever its length says.

pymarc's reader trusts the 5-digit record length: after one bad length it
reads the rest of the file out of step, or stops. Here a record ends where
its length says only if a record terminator (0x1D) is there; otherwise it
ends at the next terminator, so one bad record costs one record and reading
resynchronises after it. When a chunk up to a terminator does not start with
a record length that ends there but a plausible leader inside it does, the
chunk is cut at that leader: garbage (or a cut record) before a good record
costs only itself. Bytes between records that are only filler (spaces,
newlines, NULs, Ctrl-Z, UTF-8 byte-order marks) are skipped; anything else
becomes one frame with its problem, so every byte of the file is accounted
for. Memory holds at most a chunk plus one record (``MAX_RECORD_BYTES``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.sources.limits import MAX_RECORD_SIZE

RECORD_TERMINATOR = 0x1D
LEADER_LENGTH = 24
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
FILLER = re.compile(rb"(?:[\x00\t\n\r\x1a ]|\xef\xbb\xbf)*")
#: Five digits of record length, then the rest of a plausible 24-byte leader.
LEADER_SHAPE = re.compile(rb"\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7}")
#: Every place a plausible leader starts (overlapping), for resynchronising.
_LEADER_AT = re.compile(rb"(?=\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7})")


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
                and not (LEADER_SHAPE.match(frame, end + 1))
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
        elif declared == characters(frame):
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
            self.pos = FILLER.match(self.buffer, self.pos).end()
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


def characters(data: bytes) -> int:
    """How many characters ``data`` holds as UTF-8 (a bad byte counts as one)."""
    return len(data.decode("utf-8", "replace"))


def _next_record_follows(frame: bytes, declared: int) -> bool:
    """True if ``frame[declared:]`` is exactly one record whose own length fits."""
    if not (LEADER_LENGTH < declared < len(frame)):
        return False
    if not LEADER_SHAPE.match(frame, declared):
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
