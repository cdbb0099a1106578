"""Where a binary MARC record starts: sound records, damaged ones, leaders lost in filler.

Framing (``ingest.sources.framing``) resynchronises after damage and format
detection (``ingest.sources.marc_binary``) looks past a damaged first record,
and both must know where a record starts. "A leader" is not enough: 24
printable bytes with digits where the length and base address go match
almost anywhere in a directory (its entries are digits), and 2 % of real
records with a wrong length used to be cut in two at such a place. A *sound
record* (:func:`record_at`) is stricter: its length ends on a record
terminator with none before it, and its base address ends the directory on
a field terminator. A record that merely *looks like* one
(:func:`looks_like_record`: a leader's shape, or directory entries after 23
to 25 bytes) is read to its terminator, as a damaged record.

Pure functions over bytes already read: the stream is framing's business.
"""

from __future__ import annotations

import re

RECORD_TERMINATOR = 0x1D
FIELD_TERMINATOR = 0x1E
LEADER_LENGTH = 24
ENTRY_LENGTH = 12
#: The most a 5-digit record length can say.
MAX_MARC_LENGTH = 99999

#: Bytes skipped before and between records: whitespace, NULs, Ctrl-Z, and the
#: UTF-8 byte-order mark some Windows tools write at the start of every file
#: (so files joined with ``cat`` carry one between records too).
BOM = b"\xef\xbb\xbf"
FILLER = re.compile(rb"(?:[\x00\t\n\r\x1a ]|\xef\xbb\xbf)*")
#: Five digits of record length, then the rest of a plausible 24-byte leader.
LEADER_SHAPE = re.compile(rb"\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7}")
#: Every place a plausible leader starts (overlapping), for resynchronising.
_LEADER_AT = re.compile(rb"(?=\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7})")
#: 12-byte directory entries: a tag, 4 digits of length, 5 of offset.
DIRECTORY_ENTRIES = re.compile(rb"(?:[\x20-\x7e]{3}\d{9})+")
#: A record whose leader is damaged: a directory entry after 23 to 25 bytes.
_DAMAGED_LEADER = re.compile(rb"[^\x1d]{23,25}[\x20-\x7e]{3}\d{9}")
#: How many bytes ``looks_like_record`` needs to see.
HEAD_BYTES = 25 + ENTRY_LENGTH


def record_at(buffer: bytes, at: int) -> bool:
    """True if a sound record starts at ``buffer[at]`` and ends inside ``buffer``.

    Sound: a plausible leader whose length ends on a record terminator, with
    no terminator before it, and whose base address ends the directory on
    its first field terminator. Two numbers that must both land on the right
    byte: bytes that only look like a leader (a directory's digits, text) do
    not pass.

    >>> record = b"00040nam  2200037   4500001000200000\\x1e1\\x1e\\x1d"
    >>> record_at(record, 0), record_at(b"x" + record, 1), record_at(record[:-1], 0)
    (True, True, False)
    >>> record_at(record.replace(b"2200037", b"2200036"), 0)  # the base address is off
    False
    """
    if LEADER_SHAPE.match(buffer, at) is None:
        return False
    length = int(buffer[at : at + 5])
    base = int(buffer[at + 12 : at + 17])
    end = at + length - 1
    if not (LEADER_LENGTH < base < length and end < len(buffer)):
        return False
    return (
        buffer[end] == RECORD_TERMINATOR
        and buffer.find(b"\x1d", at, end) < 0
        and buffer.find(b"\x1e", at + LEADER_LENGTH, end) == at + base - 1
    )


def first_record(buffer: bytes, start: int = 0) -> int | None:
    """Where the first sound record of ``buffer`` starts: at ``start`` or after a terminator.

    For telling a file's format when its first record is damaged or junk
    comes before it: the record after the first terminator shows what it is.
    """
    at = FILLER.match(buffer, start).end()
    while not record_at(buffer, at):
        terminator = buffer.find(b"\x1d", at)
        if terminator < 0:
            return None
        at = FILLER.match(buffer, terminator + 1).end()
    return at


def looks_like_record(buffer: bytes, at: int) -> bool:
    """True if ``buffer[at:]`` starts as a record does, even with a damaged leader."""
    return (
        LEADER_SHAPE.match(buffer, at) is not None or _DAMAGED_LEADER.match(buffer, at) is not None
    )


def next_start(buffer: bytes, start: int, resume: int, stop: int) -> int | None:
    """Where a record starts after ``buffer[start]`` (from ``resume`` to ``stop``), if it does.

    A sound record anywhere, or, sooner, just after a record terminator
    followed (past any filler) by something that looks like a record and
    ends before the sound one starts: a damaged record after garbage is then
    read on its own, while bytes that only look like a record because a
    sound one follows them closely (a directory's digits match
    ``_DAMAGED_LEADER`` from a few bytes before its leader) stay garbage.
    """
    if buffer.find(b"\x1d", resume, stop + MAX_MARC_LENGTH) < 0:
        return None  # no record ends in view, and no terminator to start one after
    sound = next(
        (
            found.start()
            for found in _LEADER_AT.finditer(buffer, max(start + 1, resume), stop)
            if record_at(buffer, found.start())
        ),
        None,
    )
    limit = stop if sound is None else sound
    terminator = buffer.find(b"\x1d", resume, limit)
    while terminator >= 0:
        after = FILLER.match(buffer, terminator + 1).end()
        if after >= len(buffer):
            return terminator + 1
        if looks_like_record(buffer, after):
            ends = buffer.find(b"\x1d", after)
            if sound is None or 0 <= ends < sound:
                return terminator + 1
        terminator = buffer.find(b"\x1d", terminator + 1, limit)
    return sound


def leader_in_filler(buffer: bytes, here: int, back: int) -> int:
    """How many of the ``back`` filler bytes before ``buffer[here]`` were the leader of a record.

    A leader overwritten with NULs or blanks reads as filler, and the
    directory after it would be taken for the leader (two fields lost). The
    directory shows where the record starts: its 12-byte entries end at the
    first field terminator, and the leader is the 24 bytes before them. The
    earliest such start within the filler wins; none: nothing is given back.
    """
    directory_end = buffer.find(b"\x1e", here, here + MAX_MARC_LENGTH)
    for start in range(here - back, here):
        entries = start + LEADER_LENGTH
        if (
            entries < directory_end
            and (directory_end - entries) % ENTRY_LENGTH == 0
            and DIRECTORY_ENTRIES.fullmatch(buffer, entries, directory_end)
            and _first_field_fits(buffer, entries, directory_end)
        ):
            return here - start
    return 0


def _first_field_fits(buffer: bytes, entry: int, directory_end: int) -> bool:
    """True if the directory entry at ``entry`` names a field that ends on a field terminator."""
    length = int(buffer[entry + 3 : entry + 7])
    end = directory_end + int(buffer[entry + 7 : entry + 12]) + length
    return length > 0 and end < len(buffer) and buffer[end] == FIELD_TERMINATOR


def next_leader(frame: bytes) -> int:
    """Where a sound record that ends with ``frame`` starts inside it (after byte 0), else 0.

    Garbage between two records, or a record cut short before the next one,
    is then one item and the record after it another, instead of one
    rejection for both.
    """
    size = len(frame)
    # The length such a leader declares is the distance to the end: at most 99,999.
    start = max(1, size - MAX_MARC_LENGTH)
    if frame.find(b"\x1e", start) < 0:
        return 0  # no directory ends in reach
    for found in _LEADER_AT.finditer(frame, start, size - LEADER_LENGTH):
        at = found.start()
        if at + int(frame[at : at + 5]) == size and record_at(frame, at):
            return at
    return 0
