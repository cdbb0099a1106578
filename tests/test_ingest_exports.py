"""Faults of real exports that the readers recover from or refuse clearly (issue 10, item 6).

Each fixture of tests/data/exports/ is a real record with one fault real
exports have (tests/data/README.md says how each was made); the tests say
what must come out: the record read with a warning that names the repair, or
one rejection with a rule that says why, and never text that is not the
record's.
"""

from __future__ import annotations

import doctest
import tracemalloc
from pathlib import Path

import pytest

from ingest.model import Rejected, SourceRecord
from ingest.sources import detect_format, leader, refusal
from ingest.sources.limits import MAX_RECORD_FIELDS, MAX_RECORD_SUBFIELDS
from ingest.sources.marc_binary import MarcBinarySource
from ingest.sources.marc_xml import MARC_NS, MarcXmlSource
from tests.conftest import SHARED_DATA, TEST_DATA, shared_path, test_path


def read_binary(path: Path) -> list[SourceRecord | Rejected]:
    return list(MarcBinarySource().read(path))


# -- text in a single-byte code page -----------------------------------------------


def test_cp866_cyrillic_is_refused_not_stored_as_mojibake():
    first, marc8, third = read_binary(test_path("exports/cp866-cyrillic.mrc"))
    for item, name in ((first, "Ильина, Татьяна Николаевна"), (third, "Нанасов, Павел Суренович")):
        assert isinstance(item, Rejected) and item.rule == "encoding"
        assert "leader/09 says MARC-8" in item.reason
        assert f"it reads as cp866: {name!r}" in item.reason
    assert (first.position.offset, third.position.offset) == (0, 1935)
    assert isinstance(marc8, SourceRecord)  # the MARC-8 record between them is read
    assert marc8.payload["245"]["a"] == "The pragmatic programmer :"


def test_cp1251_records_of_pymarc_are_refused_with_their_code_page():
    """1251.dat says MARC-8 (leader/09 blank) and holds cp1251 Cyrillic: a known gap until now."""
    items = read_binary(test_path("marc/pymarc/1251.dat"))
    assert [item.rule for item in items] == ["encoding"] * 6
    assert "it reads as cp1251: 'Ильина, Татьяна Николаевна'" in items[0].reason
    assert "it reads as cp1251: 'Краснощеченко, Владимир Иванович'" in items[5].reason


def test_cp1251_flagged_utf8_is_refused_not_filled_with_replacement_characters(tmp_path):
    record = test_path("marc/pymarc/1251.dat").read_bytes().split(b"\x1d")[0] + b"\x1d"
    flagged = tmp_path / "flagged.mrc"
    flagged.write_bytes(record[:9] + b"a" + record[10:])  # leader/09 'a': UTF-8
    (item,) = read_binary(flagged)
    assert isinstance(item, Rejected) and item.rule == "encoding"
    assert "leader/09 says UTF-8" in item.reason and "cp1251" in item.reason


@pytest.mark.parametrize("relative", ["marc/traject/one-marc8.mrc", "marc/pymarc/marc8.dat"])
def test_marc8_diacritics_are_not_taken_for_a_code_page(relative):
    (item,) = read_binary(test_path(relative))
    assert isinstance(item, SourceRecord) and item.warnings == ()


# -- leaders of 23 or 25 characters -------------------------------------------------


def _fields(record) -> list[str]:
    return [str(field) for field in record.fields]


def test_binary_leader_one_short_or_long_is_repaired_with_a_warning():
    """The directory starts at byte 23 or 25: the leader is padded or trimmed, the fields kept."""
    items = read_binary(test_path("exports/leader-23-25.mrc"))
    originals = read_binary(test_path("marc/pymarc/marc.dat"))[:4]
    assert all(isinstance(item, SourceRecord) for item in items)
    assert [_fields(item.payload) for item in items] == [_fields(o.payload) for o in originals]
    short, _, long, _ = items
    assert str(short.payload.leader) == "01059cam  22002884a 4500"
    assert [(w.rule, w.message) for w in short.warnings] == [
        (
            "leader",
            "a leader of 23 characters; a blank inserted at leader/08 "
            "(the directory starts at byte 23)",
        )
    ]
    assert str(long.payload.leader) == "00888cam  2200254 a 4500"
    assert [(w.rule, w.message) for w in long.warnings] == [
        (
            "leader",
            "a leader of 25 characters; the ' ' at leader/24 dropped "
            "(the directory starts at byte 25)",
        )
    ]
    assert [item.position.offset for item in items] == [0, 1059, 2038, 2926]


def test_xml_leader_one_short_or_long_is_repaired_with_a_warning():
    items = list(MarcXmlSource().read(test_path("exports/leader-23-25.xml")))
    originals = list(MarcXmlSource().read(test_path("marcxml/pymarc/batch.xml")))
    assert [str(item.payload.leader) for item in items] == [
        str(o.payload.leader) for o in originals
    ]
    assert [_fields(item.payload) for item in items] == [_fields(o.payload) for o in originals]
    assert [[str(w) for w in item.warnings] for item in items] == [
        ["leader: a leader of 23 characters; a blank inserted at leader/08"],
        ["leader: a leader of 25 characters; the '0' at leader/24 dropped"],
    ]


def test_leader_repair_doctests():
    assert doctest.testmod(leader).failed == 0


# -- lengths counted in UTF-8 characters ---------------------------------------------


def test_lengths_counted_in_characters_are_read_by_the_terminators():
    """Every length after the first multibyte character is short: nothing is lost or mis-split."""
    items = read_binary(test_path("exports/utf8-character-counts.mrc"))
    originals = read_binary(test_path("marc/traject/test_data.utf8.mrc"))[:3]
    assert all(isinstance(item, SourceRecord) for item in items)
    assert [_fields(item.payload) for item in items] == [_fields(o.payload) for o in originals]
    assert [item.position.offset for item in items] == [0, 799, 1577]
    assert [str(w) for w in items[0].warnings] == [
        "character-counts: the record length counts 775 UTF-8 characters, not its 799 bytes "
        "(an export fault); read to its record terminator",
        "character-counts: the directory's lengths and offsets count UTF-8 characters, not "
        "bytes (an export fault); fields found by their field terminators",
    ]
    assert all([w.rule for w in item.warnings] == ["character-counts"] * 2 for item in items)


@pytest.mark.parametrize(
    "relative,characters,size",
    [
        ("broken/openlibrary/dasrmischepriv00rein_meta.mrc", 1040, 1052),
        ("broken/openlibrary/lesabndioeinas00sche_meta.mrc", 615, 619),
    ],
)
def test_internet_archive_meta_records_count_characters(relative, characters, size):
    """MANIFEST.md: "length in leader does not match (Internet Archive _meta.mrc)": it is this fault."""
    (item,) = read_binary(shared_path(relative))
    assert isinstance(item, SourceRecord)
    assert str(item.warnings[0]) == (
        f"character-counts: the record length counts {characters} UTF-8 characters, not its "
        f"{size} bytes (an export fault); read to its record terminator"
    )
    assert [w.rule for w in item.warnings][:2] == ["character-counts"] * 2


# -- a damaged first leader, garbage between records ---------------------------------

MARC_DAT = "marc/pymarc/marc.dat"


@pytest.mark.parametrize(
    "damage,also",
    [
        # NULs are the leader's, not filler (the directory says where the record starts):
        # read as blanks, with a warning (tests/test_ingest_framing.py has more).
        (b"\x00" * 5, ["leader"]),
        (b"0106X", []),  # a letter in the length: read by its terminator, with a warning
        (b"\x00\x00\x00\x00\x00cam", ["leader"]),
    ],
)
def test_a_damaged_first_leader_does_not_hide_the_file(tmp_path, damage, also):
    data = test_path(MARC_DAT).read_bytes()
    path = tmp_path / "damaged.mrc"
    path.write_bytes(damage + data[len(damage) :])
    assert detect_format(path) == "marc"
    items = read_binary(path)
    assert len(items) == 20 and all(isinstance(item, SourceRecord) for item in items)
    assert items[0].position.offset == 0
    assert [w.rule for w in items[0].warnings] == ["record-length", *also]
    assert _fields(items[0].payload) == _fields(read_binary(test_path(MARC_DAT))[0].payload)


def test_a_first_record_longer_than_the_sniffed_bytes_with_a_damaged_leader(tmp_path):
    """Only the first record is in the 4 kB looked at: its directory shows what it is."""
    data = test_path("marc/solrmarc/u79065.mrc").read_bytes()  # one record of 16 kB
    assert len(data) > 4096 and len(read_binary(test_path("marc/solrmarc/u79065.mrc"))) == 1
    path = tmp_path / "damaged.mrc"
    path.write_bytes(b"XXXXX" + data[5:])
    assert detect_format(path) == "marc"
    (item,) = read_binary(path)
    (original,) = read_binary(test_path("marc/solrmarc/u79065.mrc"))
    assert item.warnings[0].rule == "record-length"
    assert _fields(item.payload) == _fields(original.payload)


def test_text_and_json_are_still_not_marc(tmp_path):
    for content in (b'{"id": 1234567890123456789012345678901234567890}', b"id,isbn\n" * 500):
        path = tmp_path / "other"
        path.write_bytes(content)
        assert detect_format(path) is None


def test_garbage_between_records_costs_only_itself(tmp_path):
    """Bytes that are no record before a good one: resynchronised at the good one's leader."""
    data = test_path(MARC_DAT).read_bytes()
    second = data.index(b"\x1d") + 1
    path = tmp_path / "garbage.mrc"
    for garbage in (b"<html>Proxy error</html>", data[second : second + 300]):  # or a cut record
        path.write_bytes(data[:second] + garbage + data[second:])
        items = read_binary(path)
        assert len(items) == 21
        (bad,) = [item for item in items if isinstance(item, Rejected)]
        assert (bad.position.number, bad.position.offset, bad.rule) == (2, second, "record-length")
        assert f"before a record at byte {second + len(garbage)}" in bad.reason
        assert items[2].position.offset == second + len(garbage)
        assert str(items[2].payload) == str(read_binary(test_path(MARC_DAT))[1].payload)


# -- XML of another schema -----------------------------------------------------------


def test_xml_of_another_schema_is_named_by_its_root_not_read(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text('<?xml version="1.0"?><records xmlns="http://example.org/x"><record>'
                    "<title>Pride and prejudice</title></record></records>", encoding="utf-8")
    assert detect_format(path) is None
    assert refusal(path).startswith(
        "not MARCXML: XML whose root element is <records> "
        "(namespace http://example.org/x), and no record in the MARC21 slim"
    )


def test_oai_pmh_harvests_go_to_the_oai_reader_whatever_their_metadata():
    """oai_dc and MARC21 alike: the OAI reader reads the headers (deletions) too."""
    for name in ("oa/oai_pmh/traject/sample-oai-pmh.xml",
                 "oa/arxiv_oai/invenio-oaiharvester/sample_inspire_response_listrecords.xml"):
        assert detect_format(shared_path(name)) == "oai-pmh"


def test_json_and_text_are_not_called_xml(tmp_path):
    path = tmp_path / "records.json"
    path.write_text('{"records": [{"title": "Pride and prejudice"}]}', encoding="utf-8")
    assert refusal(path) == "JSON, but not of Crossref, OpenAlex or DataCite works (its keys: records, title)"


# -- the work one record may cost -----------------------------------------------------


def _many_fields(count: int, tag: bytes = b"650") -> bytes:
    """A UTF-8 record of ``count`` one-subfield fields, offsets over 99,999 spelt in 6 digits.

    As exporters write records too large for MARC's 5-digit numbers; the
    leader's length and base address say 99999.
    """
    fields = [(b"001", b"big1\x1e"), (b"245", b"00\x1faA record of many subjects\x1e")]
    fields += [(tag, b" 0\x1faTopic %d\x1e" % number) for number in range(count)]
    entries, offset = [], 0
    for field_tag, data in fields:
        entries.append(field_tag + b"%04d%05d" % (len(data), offset))
        offset += len(data)
    body = b"".join(entries) + b"\x1e" + b"".join(data for _tag, data in fields) + b"\x1d"
    return b"99999cam a2299999 a 4500" + body


def test_a_record_of_100000_fields_is_refused_before_it_costs_memory(tmp_path):
    good = test_path(MARC_DAT).read_bytes()
    path = tmp_path / "big.mrc"
    path.write_bytes(_many_fields(100_000) + good)  # 2.9 MB, then 20 sound records
    assert path.stat().st_size > 2_900_000
    tracemalloc.start()
    items = read_binary(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    big = items[0]
    assert isinstance(big, Rejected) and big.rule == "record-size"
    assert big.reason.startswith("100002 fields: more than the 20000 a record may have")
    assert len(items) == 21 and all(isinstance(item, SourceRecord) for item in items[1:])
    assert peak < 40_000_000, peak  # the frame and its directory, not 100,000 fields


def test_the_largest_real_record_is_within_the_limits():
    items = list(MarcBinarySource().read(shared_path("broken/marc4j/bad_hathi_records.mrc")))
    big = items[3].payload
    assert len(big.fields) == 12654 < MAX_RECORD_FIELDS
    assert sum(len(field.subfields) for field in big.fields) < MAX_RECORD_SUBFIELDS


def test_marcxml_has_the_same_field_limit(tmp_path):
    fields = "".join(
        f'<datafield tag="650" ind1=" " ind2="0"><subfield code="a">Topic {n}</subfield></datafield>'
        for n in range(MAX_RECORD_FIELDS)
    )
    path = tmp_path / "big.xml"
    path.write_text(
        f'<collection xmlns="{MARC_NS}"><record><leader>00000cam a2200000 a 4500</leader>'
        f'<controlfield tag="001">big1</controlfield>{fields}</record>\n'
        '<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">2</controlfield>'
        "</record></collection>",
        encoding="utf-8",
    )
    first, second = MarcXmlSource().read(path)
    assert isinstance(first, Rejected) and first.rule == "record-size"
    assert f"more than the {MAX_RECORD_FIELDS} fields a record may have" in first.reason
    assert second.payload["001"].data == "2"


# -- every warning has a rule that docs/mapping.md names -------------------------------

WARNING_RULES = {
    "leader",
    "record-length",
    "character-counts",
    "base-address",
    "directory",
    "end-of-record",
    "encoding",
    "indicators",
    "subfield-code",
    "tag",
    "xml-structure",
    "more-warnings",
}


def test_every_warning_of_the_broken_corpus_has_a_documented_rule():
    docs = (Path(__file__).resolve().parent.parent / "docs" / "mapping.md").read_text()
    assert all(f"`{rule}`" in docs for rule in WARNING_RULES | {"holdings"})
    roots = [TEST_DATA / "broken", TEST_DATA / "exports", SHARED_DATA / "broken"]
    seen = set()
    for path in sorted(p for root in roots if root.is_dir() for p in root.rglob("*")):
        if not path.is_file() or path.suffix == ".py":
            continue
        source = MarcXmlSource() if path.suffix == ".xml" else MarcBinarySource()
        for item in source.read(path):
            for warning in getattr(item, "warnings", ()):
                assert warning.rule in WARNING_RULES, (path, warning)
                assert warning.message and not warning.message.startswith(f"{warning.rule}: ")
                seen.add(warning.rule)
    assert {"leader", "character-counts", "directory", "encoding"} <= seen
