"""Compressed and wrapped inputs: what library dumps and harvests really look like.

Files are compressed here with the standard library from real records of the
corpus; the readers must give exactly what they give for the plain file, and a
damaged stream must cost only what comes after the damage.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from pathlib import Path
from xml.etree.ElementTree import tostring

import pytest

from ingest.model import Rejected, SourceRecord
from ingest.sources import detect_format
from ingest.sources.compressed import compression
from ingest.sources.marc_binary import MarcBinarySource
from ingest.sources.marc_xml import MARC_NS, MarcXmlSource, records_in
from ingest.sources.oai_pmh import OaiPmhSource
from tests.conftest import shared_path, test_path

BINARY = test_path("marc/traject/test_data.utf8.mrc")
XML = test_path("marcxml/pymarc/batch.xml")
COMPRESSORS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


def _snapshot(items) -> list[tuple]:
    """What a reader gave, comparable across files: kind, number, offset/line, record bytes."""
    out = []
    for item in items:
        if isinstance(item, SourceRecord):
            out.append(("ok", item.position.number, item.position.offset, item.position.line, item.payload.as_marc()))
        else:
            out.append(("rejected", item.position.number, item.rule))
    return out


def _read(source, path: Path) -> list:
    return list(source.read(path))


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
@pytest.mark.parametrize(
    "plain,source,fmt", [(BINARY, MarcBinarySource(), "marc"), (XML, MarcXmlSource(), "marcxml")]
)
def test_compressed_file_reads_as_the_plain_one(tmp_path, suffix, plain, source, fmt):
    packed = tmp_path / f"records.{suffix}"  # no format in the name: content decides
    packed.write_bytes(COMPRESSORS[suffix](plain.read_bytes()))
    assert compression(packed.read_bytes()[:6]) == {"gz": "gzip", "bz2": "bzip2", "xz": "xz"}[suffix]
    assert detect_format(packed) == fmt
    expected = _snapshot(_read(source, plain))
    assert expected and all(kind == "ok" for kind, *_ in expected)
    assert _snapshot(_read(source, packed)) == expected


def test_compressed_text_that_is_not_marc_is_not_claimed(tmp_path):
    packed = tmp_path / "notes.gz"
    packed.write_bytes(gzip.compress(b"# not a catalogue\n" * 100))
    assert detect_format(packed) is None


def test_truncated_gzip_keeps_every_record_decompressed_before_the_cut(tmp_path):
    data = BINARY.read_bytes()
    packed = gzip.compress(data)
    cut = packed[: len(packed) * 2 // 3]
    truncated = tmp_path / "cut.mrc.gz"
    truncated.write_bytes(cut)
    # What any gzip decoder can recover from the cut stream, found independently.
    recoverable = zlib.decompressobj(wbits=31).decompress(cut)
    plain = [i for i in _read(MarcBinarySource(), BINARY) if isinstance(i, SourceRecord)]
    whole = [r for r in plain if r.position.offset + len(r.payload.as_marc()) <= len(recoverable)]
    assert 0 < len(whole) < len(plain)

    items = _read(MarcBinarySource(), truncated)
    good = [i for i in items if isinstance(i, SourceRecord)]
    assert [r.payload.as_marc() for r in good] == [r.payload.as_marc() for r in whole]
    last = items[-1]
    assert isinstance(last, Rejected) and last.rule == "compressed-stream"
    assert "gzip stream is damaged" in last.reason and "the rest of the file is not read" in last.reason
    # Numbering goes on after the records read, so reports stay in order.
    assert last.position.number == len(items)


def test_truncated_gzip_xml_ends_with_one_rejection_for_the_rest(tmp_path):
    text = XML.read_text(encoding="utf-8")
    first = text.index("<marc:record>")
    last = text.rindex("</marc:record>") + len("</marc:record>")
    big = (text[:first] + text[first:last] * 200 + text[last:]).encode()  # 400 records
    packed = gzip.compress(big)
    truncated = tmp_path / "cut.xml.gz"
    truncated.write_bytes(packed[: len(packed) // 2])
    items = _read(MarcXmlSource(), truncated)
    good = [i for i in items if isinstance(i, SourceRecord)]
    assert 100 < len(good) < 400
    assert [i.rule for i in items if isinstance(i, Rejected)] == ["compressed-stream"]
    assert "the rest" in items[-1].reason


def test_compressed_file_too_damaged_to_sniff_is_a_clear_error(tmp_path):
    stub = tmp_path / "stub.mrc.gz"
    stub.write_bytes(gzip.compress(BINARY.read_bytes())[:12])
    with pytest.raises(OSError, match="gzip stream is damaged"):
        detect_format(stub)


def _first_record(text: str) -> str:
    start = text.index("<marc:record>")
    end = text.index("</marc:record>") + len("</marc:record>")
    return text[start:end].replace("<marc:record>", f'<marc:record xmlns:marc="{MARC_NS}">', 1)


def _assert_holds_the_first_record(wrapper: Path) -> None:
    """``wrapper`` is claimed as MARCXML and gives exactly the first record of XML."""
    assert detect_format(wrapper) == "marcxml"
    (item,) = _read(MarcXmlSource(), wrapper)
    assert isinstance(item, SourceRecord)
    assert item.payload.as_marc() == _read(MarcXmlSource(), XML)[0].payload.as_marc()


def test_marcxml_inside_an_oai_pmh_response_is_read(tmp_path):
    record = _first_record(XML.read_text(encoding="utf-8"))
    oai = tmp_path / "ListRecords.xml"
    oai.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2026-11-21T00:00:00Z</responseDate>"
        '<request verb="ListRecords" metadataPrefix="marc21">https://example.org/oai</request>'
        "<ListRecords><record><header><identifier>oai:example.org:1</identifier>"
        "<datestamp>2026-11-01</datestamp></header>"
        f"<metadata>{record}</metadata></record></ListRecords></OAI-PMH>",
        encoding="utf-8",
    )
    # An OAI-PMH response goes to the OAI reader (which reads its headers, deletions too);
    # its metadata is read by the MARCXML reader's own builder, into the same record.
    assert detect_format(oai) == "oai-pmh"
    (item,) = _read(OaiPmhSource(), oai)
    assert item.payload.identifier == "oai:example.org:1"
    (marc,) = records_in(tostring(item.payload.metadata), "oai")
    assert marc.payload.as_marc() == _read(MarcXmlSource(), XML)[0].payload.as_marc()


def test_marcxml_inside_an_sru_response_with_a_default_namespace_is_read(tmp_path):
    record = _first_record(XML.read_text(encoding="utf-8"))
    record = record.replace(f'<marc:record xmlns:marc="{MARC_NS}">', f'<record xmlns="{MARC_NS}">')
    record = record.replace("<marc:", "<").replace("</marc:", "</")
    sru = tmp_path / "sru.xml"
    sru.write_text(
        '<zs:searchRetrieveResponse xmlns:zs="http://docs.oasis-open.org/ns/search-ws/sruResponse">'
        "<zs:numberOfRecords>1</zs:numberOfRecords><zs:records><zs:record>"
        "<zs:recordSchema>marcxml</zs:recordSchema><zs:recordData>"
        f"{record}</zs:recordData></zs:record></zs:records></zs:searchRetrieveResponse>",
        encoding="utf-8",
    )
    _assert_holds_the_first_record(sru)


def test_a_wrapper_that_only_mentions_marc_is_not_claimed():
    xml = MarcXmlSource()
    # The namespace declared but no record in it (e.g. a ListMetadataFormats answer).
    assert not xml.sniff(
        f'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListMetadataFormats>'
        f"<metadataFormat><metadataNamespace>{MARC_NS}</metadataNamespace>".encode()
    )
    # A default MARC namespace on an element that is not a record.
    assert not xml.sniff(f'<wrapper><leader xmlns="{MARC_NS}">'.encode())


def test_real_oai_pmh_harvest_of_marcxml_is_read():
    """INSPIRE's ListRecords answer (metadataPrefix=marcxml): 2 records, 001 972855 and 974318."""
    harvest = shared_path(
        "oa/arxiv_oai/invenio-oaiharvester/sample_inspire_response_listrecords.xml"
    )
    # Detected as OAI-PMH (its reader reads the headers too); the MARCXML reader still reads
    # the records inside the envelope when asked (--format marcxml).
    assert detect_format(harvest) == "oai-pmh"
    items = _read(MarcXmlSource(), harvest)
    assert [type(i) for i in items] == [SourceRecord, SourceRecord]
    assert [i.payload["001"].data for i in items] == ["972855", "974318"]
    assert [i.position.line for i in items] == [12, 34]
