"""Framing ISO 2709 streams: where each record starts and ends, whatever its length says.

pymarc's reader trusts the 5-digit record length: after one bad length it
reads the rest of the file out of step, or stops. Here a record ends where
its length says only if a record terminator (0x1D) is there; otherwise it
ends at the next terminator, so one bad record costs one record and reading
resynchronises after it, at a record start as ``ingest.sources.record_starts``
judges one. Bytes that are no record (neither a leader nor directory entries
after 23-25 bytes) are one frame up to the next sound record, or up to a
record terminator followed by something that looks like a record, however
many terminators they hold: garbage between two records is one rejection and
the record after it is read. A record that starts like one is read to its
terminator and cut only at a sound record inside it.

Bytes between records that are only filler (spaces, newlines, NULs, Ctrl-Z,
UTF-8 byte-order marks) are skipped, unless the directory after them shows
they were a leader (24 NULs written over it): every byte of the file is in
one frame or is filler. Memory holds at most ``MAX_RECORD_BYTES`` plus a
chunk and one record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from ingest.sources.limits import MAX_RECORD_SIZE
from ingest.sources.record_starts import (
    BOM,
    FILLER,
    HEAD_BYTES,
    LEADER_LENGTH,
    LEADER_SHAPE,
    MAX_MARC_LENGTH,
    RECORD_TERMINATOR,
    leader_in_filler,
    looks_like_record,
    next_leader,
    next_start,
    record_at,
)

#: The warning rule of records whose lengths count UTF-8 characters instead of bytes.
CHARACTER_COUNTS = "character-counts"
#: The most bytes read while looking for one record's terminator; a record
#: longer than MARC allows is still read (with a warning) up to this size.
MAX_RECORD_BYTES = MAX_RECORD_SIZE
CHUNK_BYTES = 256 * 1024


class FramingProblem(NamedTuple):
    """What is wrong with a frame: a rule, a reason, and whether it may still be read."""

    rule: str
    reason: str
    #: False when the bytes are no record (garbage, or more than a record may
    #: hold): the reader rejects them as they are instead of trying to parse them.
    readable: bool = True


def frames(handle) -> Iterator[tuple[int, bytes, FramingProblem | None]]:
    """``(offset, bytes, framing problem)`` for each record of a binary stream.

    A record ends where its length says if a terminator is there, else at the
    next terminator; ``problem`` says why when the two disagree, or when the
    bytes are no record at all.
    """
    stream = _Stream(handle)
    while True:
        skipped = stream.skip_filler()
        if stream.exhausted():
            return
        if skipped and not stream.record_here():
            stream.ensure(MAX_MARC_LENGTH)
            back = min(skipped, LEADER_LENGTH, stream.pos)
            stream.back(leader_in_filler(stream.buffer, stream.pos, back))
        offset = stream.offset()
        stream.ensure(HEAD_BYTES)
        if not looks_like_record(stream.buffer, stream.pos):
            size, problem = _not_a_record(stream)
            yield offset, stream.take(size), problem
            continue
        yield offset, *_record(stream, offset)


def _record(stream: _Stream, offset: int) -> tuple[bytes, FramingProblem | None]:
    """The frame of a record that starts as one, and what is wrong with its framing."""
    end = stream.find_terminator()
    if end < 0:
        frame = stream.take(MAX_RECORD_BYTES)
        return frame, _unterminated(frame, at_eof=stream.exhausted())
    declared = _declared_length(stream.peek(5))
    if declared is not None and end + 1 < declared <= MAX_RECORD_BYTES:
        frame = stream.peek(declared)
        if (
            len(frame) == declared
            and frame[-1] == RECORD_TERMINATOR
            and not (LEADER_SHAPE.match(frame, end + 1))
            and not next_leader(frame)  # garbage, then a record its length happens to reach
        ):
            inside = f"a record terminator inside the record at byte {end}; read to its length"
            return stream.take(declared), FramingProblem("end-of-record", inside)
    frame = stream.peek(end + 1)
    if declared is None:
        problem = FramingProblem(
            "record-length", f"leader/00-04 {frame[:5]!r} is not a record length"
        )
    elif declared == len(frame):
        problem = None
    elif _next_record_follows(frame, declared):
        # The length points at a whole second record: this one lost its terminator.
        frame = frame[:declared]
        problem = FramingProblem(
            "end-of-record", "no record terminator where the record length ends"
        )
    elif declared == characters(frame):
        problem = FramingProblem(
            CHARACTER_COUNTS,
            f"the record length counts {declared} UTF-8 characters, not its {len(frame)} "
            "bytes (an export fault); read to its record terminator",
        )
    else:
        problem = FramingProblem(
            "record-length",
            f"leader says {declared} bytes but the record terminator is at byte {len(frame)}",
        )
    if problem is not None and problem.rule == "record-length" and (skip := next_leader(frame)):
        # Bytes that are not a record before one that is: two items, not one rejection.
        problem = FramingProblem(
            "record-length",
            f"{skip} bytes that do not start with a record length that ends at a "
            f"record terminator, before a record at byte {offset + skip}",
        )
        frame = frame[:skip]
    return stream.take(len(frame)), problem


def _not_a_record(stream: _Stream) -> tuple[int, FramingProblem]:
    """How many bytes from here are no record, up to where one starts, and the rejection's reason.

    A lone record terminator is an empty record, as before. The window
    looked at grows until a record start is found in it, up to
    ``MAX_RECORD_BYTES``; a start is only judged where a whole record of
    up to 99,999 bytes after it is in view.
    """
    offset = stream.offset()
    window, searched = CHUNK_BYTES, 0
    while True:
        have = stream.ensure(window + MAX_MARC_LENGTH)
        final = have < window + MAX_MARC_LENGTH  # the end of the stream is in view
        stop = min(have if final else window, MAX_RECORD_BYTES)
        # Every start before ``searched`` was judged with a whole record in view: not again.
        found = next_start(stream.buffer, stream.pos, stream.pos + searched, stream.pos + stop)
        searched = stop
        if found == stream.pos + 1 and stream.buffer[stream.pos] == RECORD_TERMINATOR:
            return 1, FramingProblem(
                "no-fields", "an empty record: a record terminator with nothing before it", False
            )
        if found is not None and FILLER.match(stream.buffer, found).end() == len(stream.buffer):
            found, stop = None, have  # only filler after it: the end of the file
        if found is not None:
            size = found - stream.pos
            return size, FramingProblem(
                "record-length",
                f"{size} bytes that are not a record (no leader, no directory), before a "
                f"record at byte {offset + size}",
                False,
            )
        if final:
            return stop, FramingProblem(
                "record-length", f"{stop} bytes at the end of the file that are not a record", False
            )
        if stop >= MAX_RECORD_BYTES:
            return stop, FramingProblem(
                "record-length",
                f"{stop} bytes that are not a record and hold no record start; read on after them",
                False,
            )
        window *= 2


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
        # Keep a leader's worth of bytes before the position (``back``).
        keep = max(self.pos - LEADER_LENGTH, 0)
        self.start += keep
        self.buffer = self.buffer[keep:] + chunk
        self.pos -= keep
        return True

    def offset(self) -> int:
        return self.start + self.pos

    def exhausted(self) -> bool:
        return self.pos >= len(self.buffer) and (self.eof or not self._more())

    def skip_filler(self) -> int:
        """Move past filler; how many bytes it was."""
        skipped = 0
        while True:
            end = FILLER.match(self.buffer, self.pos).end()
            skipped += end - self.pos
            self.pos = end
            remaining = len(self.buffer) - self.pos
            # The chunk may end inside a byte-order mark: read on to see it whole.
            cut_bom = remaining < len(BOM) and BOM.startswith(self.buffer[self.pos :])
            if (remaining and not cut_bom) or not self._more():
                return skipped

    def back(self, size: int) -> None:
        """Step back over ``size`` bytes just skipped (at most a leader's worth)."""
        self.pos -= size

    def ensure(self, size: int) -> int:
        """Read until ``size`` bytes from the position are buffered (or the end); how many are."""
        while len(self.buffer) - self.pos < size and self._more():
            pass
        return min(len(self.buffer) - self.pos, size)

    def record_here(self) -> bool:
        """True if a sound record (:func:`record_at`) starts at the position."""
        self.ensure(LEADER_LENGTH)
        length = _declared_length(self.buffer[self.pos : self.pos + 5])
        if length is None:
            return False
        self.ensure(length)
        return record_at(self.buffer, self.pos)

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
        self.ensure(size)
        return self.buffer[self.pos : self.pos + size]

    def take(self, size: int) -> bytes:
        data = self.peek(size)
        self.pos += len(data)
        return data


def _declared_length(frame: bytes) -> int | None:
    digits = frame[:5]
    return int(digits) if len(digits) == 5 and digits.isdigit() else None


def characters(data: bytes) -> int:
    """How many characters ``data`` holds as UTF-8 (a bad byte counts as one)."""
    return len(data.decode("utf-8", "replace"))


def _next_record_follows(frame: bytes, declared: int) -> bool:
    """True if ``frame[declared:]`` is exactly one sound record."""
    if not (LEADER_LENGTH < declared < len(frame)):
        return False
    return record_at(frame, declared) and declared + int(frame[declared : declared + 5]) == len(
        frame
    )


def _unterminated(frame: bytes, at_eof: bool) -> FramingProblem:
    if not at_eof:
        return FramingProblem(
            "record-size",
            f"no record terminator within {MAX_RECORD_BYTES} bytes, the most a record may have",
            False,
        )
    declared = _declared_length(frame)
    if declared is not None and declared > len(frame):
        return FramingProblem(
            "truncated", f"the file ends {len(frame)} bytes into a record of {declared}"
        )
    if declared is None:
        return FramingProblem(
            "record-length",
            f"{len(frame)} bytes at the end of the file that do not start with a record length "
            "and have no record terminator",
        )
    return FramingProblem("end-of-record", "no record terminator (0x1D) before the end of the file")
