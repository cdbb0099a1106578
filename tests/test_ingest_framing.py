"""Binary MARC from hostile or damaged streams (issue 11, item 6): nothing good is lost.

A damaged start must not hide a file of good records from detection; bytes
that are no record cost one rejection however many record terminators they
hold; a record whose length is wrong is never cut in two at bytes of its own
directory that happen to read like a leader; a record's leader of NULs is
its leader, not filler; and a record whose directory asks for more work
than its bytes hold is refused before the work is done. Every case is a real
record from tests/data with one fault put in.
"""

from __future__ import annotations

import csv
import doctest
import random
import re
import tracemalloc
from pathlib import Path

import pytest

from ingest.model import Rejected, SourceRecord
from ingest.sources import detect_format, record_starts
from ingest.sources.limits import MAX_RECORD_FIELDS, MAX_RECORD_SIZE
from ingest.sources.marc_binary import MarcBinarySource
from tests.conftest import test_path
from tests.test_cli_ingest import catalograph

MARC_DAT = "marc/pymarc/marc.dat"  # 20 MARC-8 records


def read_binary(path: Path) -> list[SourceRecord | Rejected]:
    return list(MarcBinarySource().read(path))


def fields(item: SourceRecord) -> list[str]:
    return [str(field) for field in item.payload.fields]


def offsets_of_records(data: bytes) -> list[int]:
    """The offset of each record of a sound file."""
    return [0] + [index + 1 for index, byte in enumerate(data[:-1]) if byte == 0x1D]


# -- detection looks past a damaged start ---------------------------------------------


def test_a_first_record_without_leader_or_directory_does_not_hide_the_file(tmp_path):
    """Its first 4 kB hold neither a leader nor directory entries nor a record terminator."""
    first = test_path("marc/solrmarc/u79065.mrc").read_bytes()  # one record of 16 kB
    good = test_path(MARC_DAT).read_bytes()
    path = tmp_path / "damaged.mrc"
    path.write_bytes(b"X" * 64 + first[64:] + good)
    assert detect_format(path) == "marc"
    items = read_binary(path)
    assert isinstance(items[0], Rejected) and items[0].rule == "record-length"
    assert [item.position.offset for item in items[1:]] == [
        len(first) + start for start in offsets_of_records(good)
    ]
    assert [fields(item) for item in items[1:]] == [
        fields(item) for item in read_binary(test_path(MARC_DAT))
    ]


def test_junk_before_the_first_record_does_not_hide_the_file(tmp_path):
    """A saved HTTP answer: headers and an HTML page of 5 kB, then the records."""
    junk = b"HTTP/1.1 200 OK\r\nContent-Type: application/marc\r\n\r\n" + b"<p>export</p>\n" * 360
    good = test_path(MARC_DAT).read_bytes()
    path = tmp_path / "saved.mrc"
    path.write_bytes(junk + good)
    assert len(junk) > 4096
    assert detect_format(path) == "marc"
    first, *records = read_binary(path)
    assert isinstance(first, Rejected) and first.position.offset == 0
    assert f"before a record at byte {len(junk)}" in first.reason
    assert len(records) == 20 and all(isinstance(item, SourceRecord) for item in records)


def test_binary_data_that_is_no_marc_is_still_refused(tmp_path):
    """Looking further must not claim files that merely hold the terminator byte."""
    noise = random.Random(1).randbytes(300_000)
    assert noise.count(b"\x1d") > 1000
    path = tmp_path / "noise.bin"
    path.write_bytes(noise)
    assert detect_format(path) is None


# -- a leader of NULs is a leader ------------------------------------------------------


def test_leaders_of_nuls_are_not_skipped_as_filler(tmp_path):
    """The fields after a blanked leader stay the record's fields (001 included)."""
    data = bytearray(test_path(MARC_DAT).read_bytes())
    starts = offsets_of_records(bytes(data))
    for start in (starts[0], starts[2]):
        data[start : start + 24] = b"\x00" * 24
    path = tmp_path / "nul-leaders.mrc"
    path.write_bytes(bytes(data))
    assert detect_format(path) == "marc"
    items = read_binary(path)
    originals = read_binary(test_path(MARC_DAT))
    assert all(isinstance(item, SourceRecord) for item in items)
    assert [item.position.offset for item in items] == starts
    assert [fields(item) for item in items] == [fields(item) for item in originals]
    for damaged in (items[0], items[2]):
        assert "leader" in [warning.rule for warning in damaged.warnings]


# -- resynchronising: garbage is one rejection, a record is never cut in two ----------


def test_garbage_holding_record_terminators_is_one_rejection(tmp_path):
    data = test_path(MARC_DAT).read_bytes()
    second = offsets_of_records(data)[1]
    garbage = bytearray(random.Random(7).randbytes(5000))
    for at in range(100, 5000, 400):  # terminators and field terminators, as noise holds them
        garbage[at] = 0x1D
        garbage[at + 1] = 0x1E
    path = tmp_path / "garbage.mrc"
    path.write_bytes(data[:second] + bytes(garbage) + data[second:])
    items = read_binary(path)
    assert len(items) == 21
    (bad,) = [item for item in items if isinstance(item, Rejected)]
    assert (bad.position.number, bad.position.offset) == (2, second)
    assert f"before a record at byte {second + len(garbage)}" in bad.reason
    assert [fields(item) for item in items if isinstance(item, SourceRecord)] == [
        fields(item) for item in read_binary(test_path(MARC_DAT))
    ]


@pytest.mark.parametrize(
    "relative", ["marc/solrmarc/specTestRecs.mrc", "marc/pymarc/regression45.dat"]
)
@pytest.mark.parametrize("length", [b"99999", b"00000", b"one-more"])
def test_a_wrong_record_length_never_cuts_a_record_in_two(tmp_path, relative, length):
    """Digits of a directory can read like a leader whose length ends at the terminator.

    Before this was checked, 12 of these 88 records x 3 lengths came out as a
    rejection plus a "record" whose leader was two directory entries.
    """
    data = test_path(relative).read_bytes()
    originals = read_binary(test_path(relative))
    starts = offsets_of_records(data)
    path = tmp_path / "wrong-length.mrc"
    for start, end, original in zip(starts, [*starts[1:], len(data)], originals, strict=True):
        record = data[start:end]
        wrong = b"%05d" % (len(record) + 1) if length == b"one-more" else length
        path.write_bytes(wrong + record[5:])
        (item,) = read_binary(path)
        assert isinstance(item, SourceRecord), (start, item)
        assert fields(item) == fields(original), start
        assert item.warnings[0].rule == "record-length"


# -- the work one record may ask for ---------------------------------------------------


def _record(directory: list[tuple[bytes, int, int]], data: bytes) -> bytes:
    """A record of ``directory`` entries (tag, length, offset) over ``data``."""
    entries = b"".join(
        tag + b"%04d%05d" % (length, offset % 100_000) for tag, length, offset in directory
    )
    base = 24 + len(entries) + 1
    body = entries + b"\x1e" + data + b"\x1d"
    return b"%05dcam a22%05d a 4500" % (min(24 + len(body), 99999), min(base, 99999)) + body


def test_directory_entries_that_share_bytes_are_refused_before_they_cost_memory(tmp_path):
    """7,000 entries naming one field of 9,990 bytes: 94 kB asking for 70 MB of fields."""
    field = b" 0\x1fa" + b"x" * 9985 + b"\x1e"
    directory = [(b"001", 5, 0)] + [(b"650", len(field), 5)] * 7_000
    big = _record(directory, b"big1\x1e" + field)
    good = test_path(MARC_DAT).read_bytes()
    path = tmp_path / "overlapping.mrc"
    path.write_bytes(big + good)
    tracemalloc.start()
    items = read_binary(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    first = items[0]
    assert isinstance(first, Rejected) and first.rule == "directory"
    assert (first.position.number, first.position.offset) == (1, 0)
    assert "the directory lists 7001 fields" in first.reason
    assert len(items) == 21 and all(isinstance(item, SourceRecord) for item in items[1:])
    # The frame and its directory, not 7,000 copies of the field (70 MB before).
    assert peak < 40_000_000, peak


def test_a_directory_of_100000_entries_is_refused_by_the_field_limit(tmp_path):
    """2.2 MB: 100,000 directory entries over a data area of few field terminators."""
    data = b"big1\x1e" + b"  \x1fa" + b"x" * 999_990 + b"\x1e"
    directory = [(b"001", 5, 0)] + [(b"500", 10, 5 + 10 * n) for n in range(100_000)]
    big = _record(directory, data)
    assert len(big) > 2_200_000
    path = tmp_path / "entries.mrc"
    path.write_bytes(big + test_path(MARC_DAT).read_bytes())
    first, *rest = read_binary(path)
    assert isinstance(first, Rejected) and first.rule == "record-size"
    assert first.reason.startswith(
        "a directory of 1200012 bytes (100001 entries): "
        f"more than the {MAX_RECORD_FIELDS} fields a record may have"
    )
    assert len(rest) == 20 and all(isinstance(item, SourceRecord) for item in rest)


def test_a_binary_record_over_the_size_limit_is_refused_as_marcxml_ones_are(tmp_path):
    """600 fields of 9 kB: 5.4 MB, past ``MAX_RECORD_SIZE`` (rule ``record-size`` in both readers)."""
    field = b"  \x1fa" + b"x" * 8995 + b"\x1e"
    big = _record([(b"500", len(field), len(field) * n) for n in range(600)], field * 600)
    assert len(big) > MAX_RECORD_SIZE
    path = tmp_path / "big.mrc"
    path.write_bytes(big + test_path(MARC_DAT).read_bytes())
    first, rest, *records = read_binary(path)
    assert (first.rule, first.position.offset) == ("record-size", 0)
    assert f"no record terminator within {MAX_RECORD_SIZE} bytes" in first.reason
    # The rest of it is bytes that are no record, up to the next record.
    assert (rest.rule, rest.position.offset) == ("record-length", MAX_RECORD_SIZE)
    assert f"before a record at byte {len(big)}" in rest.reason
    assert len(records) == 20 and all(isinstance(item, SourceRecord) for item in records)


def test_ingest_stores_every_good_record_of_a_hostile_file(tmp_path):
    """Through the real command: junk first, garbage between records, two records past the caps.

    Before: "not a format catalograph reads"; with ``--format marc``, 29
    rejections, the 7,000-entry record stored with 7,000 copies of its field,
    and a peak of 193 MB (58 MB now).
    """
    good = test_path(MARC_DAT).read_bytes()
    second = offsets_of_records(good)[1]
    junk = b"HTTP/1.1 200 OK\r\n\r\n" + b"<p>export</p>\n" * 360
    garbage = bytearray(random.Random(7).randbytes(5000))
    garbage[100:5000:400] = b"\x1d" * len(range(100, 5000, 400))
    entries = _record(
        [(b"001", 5, 0)] + [(b"500", 10, 5 + 10 * n) for n in range(100_000)],
        b"big1\x1e" + b"  \x1fa" + b"x" * 999_990 + b"\x1e",
    )
    field = b" 0\x1fa" + b"x" * 9985 + b"\x1e"
    shared = _record([(b"001", 5, 0)] + [(b"650", len(field), 5)] * 7_000, b"big2\x1e" + field)
    eliot = test_path("marc/traject/george_eliot.marc").read_bytes()
    path = tmp_path / "hostile.mrc"
    path.write_bytes(
        junk + good[:second] + bytes(garbage) + good[second:] + entries + shared + eliot
    )
    report = tmp_path / "report.tsv"
    done = catalograph(tmp_path / "data", "ingest", "--report", str(report), str(path))
    assert done.returncode == 1, done.stderr  # records were rejected
    assert "read 25 records from 1 file(s)" in done.stderr, done.stderr
    assert re.search(r"written\s+21\b", done.stderr), done.stderr
    with report.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["kind"] == "rejected"]
    after_good = len(junk) + len(garbage) + len(good)
    assert [(row["file"], row["record"], row["byte"], row["rule"]) for row in rows] == [
        (str(path), "1", "0", "record-length"),
        (str(path), "3", str(len(junk) + second), "record-length"),
        (str(path), "23", str(after_good), "record-size"),
        (str(path), "24", str(after_good + len(entries)), "directory"),
    ]


def test_record_starts_doctests():
    assert doctest.testmod(record_starts).failed == 0
