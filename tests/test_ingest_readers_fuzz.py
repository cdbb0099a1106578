"""Property test: mutated real records never raise, in the readers or in the mapper.

Real records from tests/data are damaged the ways real files are (flipped
bytes, cut lengths, wrong indicators, stray MARC-8 escapes, lost terminators,
truncation, and damaged compressed streams) and fed to the readers and to
``map_record``. Every item must come back as a ``SourceRecord`` or a
``Rejected``, numbered 1..N with one item per
framed chunk; every ``SourceRecord`` must map to a ``RecordGraph`` or a
``Rejected`` whose rule is not ``mapping`` (that rule means the mapper raised:
a mapper bug, reported by the failing example).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.marc.decoding import (
    MAX_WARNINGS,
    UnknownEncoding,
    Warnings,
    choose_encoding,
    decode_text,
    marc8_to_unicode,
)
from ingest.model import RecordGraph, Rejected, SourceRecord
from ingest.sources import detect_format
from ingest.sources.framing import frames
from ingest.sources.marc_binary import MarcBinarySource
from ingest.sources.marc_xml import MarcXmlSource
from tests.conftest import BASE, test_path

MINTER = IriMinter(BASE)
FILLER = b"\x00\t\n\r\x1a "
ESCAPES = [
    b"\x1b",
    b"\x1b(",
    b"\x1b$",
    b"\x1b$1",
    b"\x1b)Q",
    b"\x1b(N",
    b"\x1bb",
    b"\x1bs",
    b"\x1b(X",
    b"\x1b$,",
    b"\x1b)",
    b"\x1bp",
]
SPECIAL = [0x1D, 0x1E, 0x1F, 0x1B, 0x00, 0x80, 0xC3, 0xE1, 0xFF, 0x20, 0x30, 0x39]
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _first_records(relative: str, count: int) -> bytes:
    data = test_path(relative).read_bytes()
    ends = [index + 1 for index, byte in enumerate(data) if byte == 0x1D][:count]
    return data[: ends[-1]]


SEEDS = [
    _first_records("marc/pymarc/marc.dat", 2),  # MARC-8
    _first_records("marc/traject/test_data.utf8.mrc", 2),  # UTF-8
    _first_records("marc/traject/hebrew880s.marc", 1),  # 880s, MARC-8 escapes
    _first_records("marc/traject/one-marc8.mrc", 1),  # MARC-8 diacritics
    _first_records("marc/pymarc/utf8_without_leader_flag.dat", 1),
]


@st.composite
def mutated_binary(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(
            st.sampled_from(
                [
                    "flip",
                    "special",
                    "escape",
                    "length",
                    "indicators",
                    "cut",
                    "delete",
                    "duplicate",
                    "terminator",
                ]
            )
        )
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "special" and data:
            data[at] = draw(st.sampled_from(SPECIAL))
        elif kind == "escape":
            data[at:at] = draw(st.sampled_from(ESCAPES))
        elif kind == "length":
            start = draw(st.sampled_from([0, data.find(b"\x1d") + 1]))
            digits = draw(st.from_regex(rb"\A[0-9]{5}\Z") | st.binary(min_size=5, max_size=5))
            data[start : start + 5] = digits
        elif kind == "indicators":
            field_start = data.find(b"\x1e", at) + 1
            if field_start:
                data[field_start : field_start + 2] = draw(st.binary(min_size=0, max_size=3))
        elif kind == "cut":
            del data[at:]
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        elif kind == "terminator" and data:
            terminators = [i for i, byte in enumerate(data) if byte == 0x1D]
            if terminators:
                data[draw(st.sampled_from(terminators))] = draw(st.sampled_from([0x1E, 0x20, 0x0A]))
    return bytes(data)


def _check_mapping(items) -> None:
    for item in items:
        assert isinstance(item, SourceRecord | Rejected)
        if isinstance(item, Rejected):
            assert item.rule and item.reason
            continue
        result = map_record(item, MINTER)
        assert isinstance(result, RecordGraph | Rejected)
        if isinstance(result, Rejected):
            assert result.rule != "mapping", f"mapper raised on {item.position}: {result.reason}"


@FUZZ
@given(data=mutated_binary())
def test_mutated_binary_records_never_raise(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "mutated.mrc"
    path.write_bytes(data)
    items = list(MarcBinarySource().read(path))
    assert [item.position.number for item in items] == list(range(1, len(items) + 1))
    framed = list(frames(io.BytesIO(data)))
    assert len(items) == len(framed)
    # every byte is in one frame, or is filler between frames
    covered = 0
    for offset, frame, _ in framed:
        assert offset >= covered and not data[covered:offset].strip(FILLER)
        assert data[offset : offset + len(frame)] == frame
        covered = offset + len(frame)
    assert not data[covered:].strip(FILLER)
    offsets = [item.position.offset for item in items]
    assert offsets == sorted(set(offsets)) and all(0 <= o < max(len(data), 1) for o in offsets)
    _check_mapping(items)


def _fields(item: SourceRecord) -> list[str]:
    return [str(field) for field in item.payload.fields]


GARBAGE = st.binary(min_size=1, max_size=400) | st.lists(
    st.sampled_from([b"\x1d", b"\x1e", b"\x00", b"\n", b"00714", b"cam a22", b"4500", b"<x>"])
).map(b"".join)


@FUZZ
@given(seed=st.sampled_from(SEEDS[:2]), garbage=GARBAGE)
def test_garbage_between_records_costs_no_record(tmp_path_factory, seed, garbage):
    """Whatever bytes come between two records, both come out as they were.

    Between them one rejection, unless the garbage holds five digits in a
    row: then it may hold a leader or directory entries, and what they
    start is judged on its own (it may even read as a record).
    """
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "seed.mrc").write_bytes(seed)
    originals = list(MarcBinarySource().read(folder / "seed.mrc"))
    cut = seed.index(b"\x1d") + 1
    (folder / "garbage.mrc").write_bytes(seed[:cut] + garbage + seed[cut:])
    first, *between, last = MarcBinarySource().read(folder / "garbage.mrc")
    assert isinstance(first, SourceRecord) and _fields(first) == _fields(originals[0])
    assert isinstance(last, SourceRecord) and _fields(last) == _fields(originals[1])
    assert last.position.offset == cut + len(garbage)
    if re.search(rb"\d{5}", garbage) is None:
        assert len(between) <= 1 and all(isinstance(item, Rejected) for item in between)


XML_SEED = test_path("marcxml/pymarc/batch.xml").read_text(encoding="utf-8")
XML_DAMAGE = [
    'tag="',
    'code="',
    "ind1=",
    "<marc:leader>",
    "</marc:subfield>",
    "<marc:datafield",
    "<marc:controlfield",
    "&",
    "<",
    "]]>",
    "\x00",
    "<!--",
    "<marc:record>",
    'type="x" ',
]


@st.composite
def mutated_xml(draw) -> bytes:
    text = XML_SEED
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "remove-attribute", "cut"]))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif kind == "insert":
            text = text[:at] + draw(st.sampled_from(XML_DAMAGE) | st.text(max_size=5)) + text[at:]
        elif kind == "remove-attribute":
            name = draw(st.sampled_from(['tag="', 'code="', 'ind1="', 'ind2="']))
            index = text.find(name, at)
            if index >= 0:
                end = text.find('"', index + len(name))
                text = text[:index] + text[end + 1 :]
        else:
            text = text[:at]
    return text.encode("utf-8", "surrogatepass")


@FUZZ
@given(data=mutated_xml())
def test_mutated_xml_records_never_raise(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "mutated.xml"
    path.write_bytes(data)
    items = list(MarcXmlSource().read(path))
    assert [item.position.number for item in items] == list(range(1, len(items) + 1))
    assert all(item.position.line is not None and item.position.line >= 1 for item in items)
    _check_mapping(items)


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_seeds_map_cleanly(seed, tmp_path):
    path = tmp_path / "seed.mrc"
    path.write_bytes(SEEDS[seed])
    items = list(MarcBinarySource().read(path))
    assert items and all(isinstance(item, SourceRecord) for item in items)
    _check_mapping(items)


@FUZZ
@given(
    raw=st.binary(max_size=200)
    | st.lists(st.sampled_from(ESCAPES + [b"a", b"\xe1", b"!!!"])).map(b"".join)
)
def test_marc8_converter_is_total(raw):
    warnings = Warnings()
    text = marc8_to_unicode(raw, warnings, "245$a")
    assert isinstance(text, str)
    assert len(warnings.as_tuple()) <= MAX_WARNINGS + 1
    if raw.isascii() and all(0x20 <= byte < 0x7F for byte in raw):
        assert text == raw.decode("ascii")
    for leader_09 in (" ", "a", "z"):
        try:
            encoding, note = choose_encoding(leader_09, raw)
        except UnknownEncoding as refused:  # words of a single-byte code page: said why
            assert "single-byte code page" in str(refused)
            continue
        assert note is None or note.rule == "encoding"
        assert isinstance(decode_text(raw, encoding, warnings, "245$a"), str)


COMPRESS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}


@st.composite
def damaged_compressed(draw) -> tuple[str, bytes]:
    """A real binary or XML file, compressed, then its compressed bytes damaged."""
    kind = draw(st.sampled_from(["marc", "marcxml"]))
    plain = b"".join(SEEDS[:3]) if kind == "marc" else XML_SEED.encode("utf-8")
    data = bytearray(COMPRESS[draw(st.sampled_from(sorted(COMPRESS)))](plain))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        damage = draw(st.sampled_from(["flip", "cut", "delete", "insert"]))
        if damage == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif damage == "cut":
            del data[at:]
        elif damage == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
    return kind, bytes(data)


@FUZZ
@given(case=damaged_compressed())
def test_damaged_compressed_files_never_raise(tmp_path_factory, case):
    kind, data = case
    path = tmp_path_factory.mktemp("fuzz") / "damaged"
    path.write_bytes(data)
    try:
        found = detect_format(path)
    except OSError as exc:  # too damaged to give even a first byte: one clear reason
        assert "stream is damaged" in str(exc)
        return
    source = MarcBinarySource() if kind == "marc" else MarcXmlSource()
    items = list(source.read(path))  # read with the reader of what it was, claimed or not
    assert found in (None, "marc", "marcxml")
    assert [item.position.number for item in items] == list(range(1, len(items) + 1))
    assert [i.rule for i in items if isinstance(i, Rejected)].count("compressed-stream") <= 1
    if kind == "marcxml":
        assert all(item.position.line is not None and item.position.line >= 1 for item in items)
    _check_mapping(items)
