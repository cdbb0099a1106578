"""OAI-PMH responses read from files and mapped: Dublin Core, arXiv, MARCXML in OAI envelopes.

Real responses (sickle's and traject's, copied in tests/data/oai_pmh; arXiv's and
INSPIRE's read from ../shared/data); expected values were read off the files
by hand. The pipeline is the one ``catalograph ingest`` runs: the source the
content names, then ``ingest.mapping.map_record``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import RecordGraph, Rejected, SourceRecord
from ingest.sources import detect_format, get_source
from ontology.validation import validate
from tests.conftest import BASE, ROOT, shared_path, test_path

MINTER = IriMinter(BASE)
BF = "http://id.loc.gov/ontologies/bibframe/"
ARXIV = "oa/arxiv_oai/invenio-oaiharvester/"


def mapped(path: Path) -> list[RecordGraph | Rejected]:
    assert detect_format(path) == "oai-pmh"
    return [map_record(item, MINTER) if isinstance(item, SourceRecord) else item
            for item in get_source("oai-pmh").read(path)]


def lines(graph: RecordGraph) -> list[str]:
    return graph.all_nquads.decode("utf-8").splitlines()


def objects(graph: RecordGraph, predicate: str, subject: str | None = None) -> list[str]:
    """The objects of ``predicate`` (an IRI or a literal's lexical form), in the order stated."""
    found = []
    for line in lines(graph):
        s, p, rest = line.split(" ", 2)
        if p == f"<{predicate}>" and (subject is None or s == f"<{subject}>"):
            obj = rest.rsplit(" ", 2)[0]
            match = re.match(r'^"(.*)"', obj)
            found.append(match.group(1) if match else obj.strip("<>"))
    return found


def instance_of(graph: RecordGraph) -> tuple[str, str]:
    """``(Instance, Work)`` of the record, as its work link names them."""
    cg = "https://w3id.org/catalograph/ontology#"
    (instance,) = objects(graph, f"{cg}linkedInstance")
    (work,) = objects(graph, f"{cg}linkedWork")
    assert objects(graph, f"{BF}instanceOf", instance) == [work]
    return instance, work


def test_dublin_core_record_of_traject_maps_every_element():
    graphs = mapped(test_path("oai_pmh/traject/sample-oai-pmh.xml"))
    assert len(graphs) == 10 and all(isinstance(g, RecordGraph) for g in graphs)
    spice = graphs[1]  # oai:sciencehistoryorg:fq977t769, "Spice Storage"
    assert spice.graph == f"{BASE}graph/oai/oai%3Asciencehistoryorg%3Afq977t769"
    instance, work = instance_of(spice)
    assert instance == MINTER.from_identifier("instance", "oai", "oai:sciencehistoryorg:fq977t769").value
    assert objects(spice, f"{BF}mainTitle") == ["Spice Storage"]
    assert "Norda Essential Oil and Chemical Company" in objects(spice, "http://www.w3.org/2000/01/rdf-schema#label")
    assert objects(spice, f"{BF}role") == ["http://id.loc.gov/vocabulary/relators/cre"]
    assert sorted(objects(spice, f"{BF}date")) == ["1950s"]  # no year to type as xsd:gYear
    subjects = objects(spice, f"{BF}subject", work)
    assert len(subjects) == 4  # Research, Industrial--Laboratories; Essences...; Norda...; Perfumes industry
    scheme = MINTER.from_key("concept", "scheme|oai:sciencehistoryorg").value
    assert set(objects(spice, "http://www.w3.org/2004/02/skos/core#inScheme")) == {scheme}
    assert objects(spice, "http://purl.org/dc/terms/license") == ["http://rightsstatements.org/vocab/NKC/1.0/"]
    assert "https://digital.sciencehistory.org/works/fq977t769" in objects(spice, f"{BF}electronicLocator")
    summary = objects(spice, "http://www.w3.org/2000/01/rdf-schema#label")
    assert any(text.startswith("Interior view of the spice storage area") for text in summary)
    assert objects(spice, f"{BF}noteType") == ["format"]  # dc:format image/tiff
    genres = objects(spice, f"{BF}genreForm", work)
    assert len(genres) == 2  # dc:type Image, photographs
    report = validate([g.all_nquads for g in graphs])
    assert report.conforms, report.text(limit=50)


def test_sickle_records_deletions_and_a_header_without_identifier():
    first, second = mapped(test_path("oai_pmh/sickle/ListRecords.xml"))
    assert first.deleted and first.graph == f"{BASE}graph/oai/oai%3Atest.example.com%3A1585310"
    assert not second.deleted
    assert objects(second, f"{BF}language") == ["http://id.loc.gov/vocabulary/languages/eng"] * 2
    assert objects(second, f"{BF}agent")  # dc:publisher "Sample Publisher", a local agent
    assert "Sample Publisher" in objects(second, "http://www.w3.org/2000/01/rdf-schema#label")
    assert objects(second, f"{BF}date") == ["2010", "2010"]  # as given, and as xsd:gYear
    assert {"source"} <= set(objects(second, f"{BF}noteType"))
    rejected, _ = mapped(test_path("oai_pmh/sickle/ListRecords4.xml"))
    assert isinstance(rejected, Rejected) and rejected.rule == "oai-header"


def test_an_oai_error_response_is_one_rejection_and_no_records_match_is_none():
    (error,) = mapped(test_path("oai_pmh/sickle/badArgument.xml"))
    assert error.rule == "oai-error" and "badArgument" in error.reason
    assert mapped(test_path("oai_pmh/sickle/noRecordsMatch.xml")) == []


def test_a_book_in_dublin_core_meets_its_marc_record(tmp_path):
    """An oai_dc record written by hand after solrmarc's record 14 (ISBN 0950620785, SIRSI u5415667).

    The same ISBN names one Instance, the same heading one agent, and creator
    plus title (without the article MARC's indicator drops) one Work.
    """
    marc_item = list(get_source("marc").read(test_path("marc/solrmarc/specTestRecs.mrc")))[13]
    marc = map_record(marc_item, MINTER)
    dc = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-12-01T00:00:00Z</responseDate>
<request verb="GetRecord">https://repo.example/oai</request><GetRecord><record><header>
<identifier>oai:repo.example:42</identifier><datestamp>2026-11-30</datestamp></header><metadata>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>History of natural history</dc:title><dc:creator>Bridson, Gavin D. R.</dc:creator>
<dc:identifier>ISBN 0-9506207-8-5</dc:identifier><dc:date>1976</dc:date><dc:language>en</dc:language>
</oai_dc:dc></metadata></record></GetRecord></OAI-PMH>"""
    path = tmp_path / "book.xml"
    path.write_bytes(dc)
    (oai,) = mapped(path)
    assert instance_of(oai) == instance_of(marc)
    assert instance_of(oai)[0] == f"{BASE}instance/isbn-9780950620787"
    agent = MINTER.from_key("agent", "Bridson, Gavin D. R.").value
    assert agent in objects(marc, f"{BF}agent") and agent in objects(oai, f"{BF}agent")
    report = validate([marc.all_nquads, oai.all_nquads])
    assert report.conforms, report.text(limit=50)


def test_arxiv_record_maps_authors_categories_doi_and_licence():
    records = mapped(shared_path(ARXIV + "sample_arxiv_response_listrecords_cs.xml"))
    assert len(records) == 46 and all(isinstance(r, RecordGraph) for r in records)
    song = records[0]  # oai:arXiv.org:1101.4388
    instance, work = instance_of(song)
    assert instance == f"{BASE}instance/arxiv-1101.4388"
    assert objects(song, f"{BF}mainTitle")[0] == "Reproducing Kernel Banach Spaces with the l1 Norm"
    labels = objects(song, "http://www.w3.org/2000/01/rdf-schema#label")
    assert {"Song, Guohui", "Zhang, Haizhang", "Hickernell, Fred J."} <= set(labels)
    # (unit statements come sorted within each unit: compared as sets)
    assert set(objects(song, "http://www.w3.org/2004/02/skos/core#notation")) == {"stat.ML", "cs.LG", "math.FA"}
    assert set(objects(song, f"{BF}subject", work)) == {
        f"{BASE}concept/arxiv-stat.ML", f"{BASE}concept/arxiv-cs.LG", f"{BASE}concept/arxiv-math.FA"}
    published = MINTER.from_identifier("instance", "doi", "10.1016/j.acha.2012.03.009").value
    assert objects(song, f"{BF}hasEquivalent", instance) == [published]
    assert objects(song, f"{BF}instanceOf", published) == [work]  # the article: same Work
    assert "10.1016/j.acha.2012.03.009" in objects(song, "http://www.w3.org/1999/02/22-rdf-syntax-ns#value")
    assert "Appl. Comput. Harmon. Anal., 34:96-116, 2013" in labels  # journal-ref, a note
    assert objects(song, "http://purl.org/dc/terms/license") == [
        "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"]
    assert "2011-01-23" in objects(song, f"{BF}date")  # <created>
    report = validate([r.all_nquads for r in records])
    assert report.conforms, report.text(limit=50)


def test_a_doi_names_one_instance_whatever_its_case_and_form():
    """arXiv's <doi> and a DOI URL in dc:identifier, differing in case: one Instance."""
    from ingest.oai.values import normalise_doi

    assert normalise_doi("https://doi.org/10.1016/J.ACHA.2012.03.009") == normalise_doi(
        "doi:10.1016/j.acha.2012.03.009") == "10.1016/j.acha.2012.03.009"


def test_one_eprint_in_arxiv_and_dublin_core_is_one_instance_work_and_agents():
    """arXiv gives 1507.03011 in both its formats (invenio-oaiharvester's real answers)."""
    (arxiv,) = mapped(shared_path(ARXIV + "sample_arxiv_response.xml"))
    (dc,) = mapped(shared_path(ARXIV + "sample_oai_dc_response.xml"))
    assert arxiv.graph == dc.graph  # one OAI identifier: the later replaces the earlier
    assert instance_of(arxiv) == instance_of(dc) == (f"{BASE}instance/arxiv-1507.03011", instance_of(dc)[1])
    assert set(objects(arxiv, f"{BF}agent")) == set(objects(dc, f"{BF}agent"))


def test_arxiv_without_namespaces_and_arxiv_raw(tmp_path):
    (bare,) = mapped(shared_path(ARXIV + "sample_arxiv_response_no_namespace.xml"))
    assert instance_of(bare)[0] == f"{BASE}instance/arxiv-0804.2273"
    assert "Lagoze, Carl" in objects(bare, "http://www.w3.org/2000/01/rdf-schema#label")
    raw = test_path("oai_pmh/sickle/GetRecord.xml").read_bytes()  # an envelope to put arXivRaw in
    raw = re.sub(rb"<metadata>.*</metadata>", b"""<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">
<id>0704.0001</id><submitter>Pavel Nadolsky</submitter><version version="v1"><date>Mon, 2 Apr 2007 19:18:42 GMT</date>
</version><title>Calculation of prompt diphoton production cross sections</title>
<authors>C. Bal\\'azs, E. L. Berger, P. M. Nadolsky and C.-P. Yuan</authors><categories>hep-ph</categories>
<doi>10.1103/PhysRevD.76.013009</doi></arXivRaw></metadata>""", raw, flags=re.DOTALL)
    path = tmp_path / "raw.xml"
    path.write_bytes(raw)
    (graph,) = mapped(path)
    labels = objects(graph, "http://www.w3.org/2000/01/rdf-schema#label")
    assert {"E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"} <= set(labels)
    assert "Mon, 2 Apr 2007 19:18:42 GMT" in objects(graph, f"{BF}date")


def test_marcxml_in_an_oai_envelope_is_mapped_by_the_marc_mapper_into_the_oai_graph():
    records = mapped(shared_path(ARXIV + "sample_inspire_response_listrecords.xml"))
    assert [r.graph for r in records] == [f"{BASE}graph/oai/oai%3Ainspirehep.net%3A972855",
                                          f"{BASE}graph/oai/oai%3Ainspirehep.net%3A974318"]
    for graph in records:
        instance, _work = instance_of(graph)
        assert "/instance/" in instance and "graph/oai" not in instance


def test_another_format_goes_through_its_own_reader_and_mapper_into_the_oai_graph():
    """The bridge for formats other than Dublin Core and arXiv (``ingest.oai.other_formats``),
    on INSPIRE's MARCXML: the MARCXML reader and MARC mapper, then the graph renamed, give
    byte for byte what the direct MARC path gives."""
    from ingest.oai.other_formats import document, map_other_format

    path = shared_path(ARXIV + "sample_inspire_response_listrecords.xml")
    for item, direct in zip(get_source("oai-pmh").read(path), mapped(path), strict=True):
        root = document(item.payload.metadata).split(b">", 2)[1]  # after the XML declaration
        assert root.startswith(b"\n<record ") and b' xmlns="http://www.loc.gov/MARC21/slim"' in root
        graph = MINTER.graph("oai", item.payload.identifier)
        bridged = map_other_format(item.payload.metadata, item.position, graph, MINTER, "marc")
        assert bridged.graph == direct.graph == graph.value
        assert bridged.nquads == direct.nquads and bridged.units == direct.units
        assert bridged.content_hash == direct.content_hash


def test_metadata_of_an_unknown_format_is_rejected_with_its_namespace(tmp_path):
    raw = test_path("oai_pmh/sickle/GetRecord.xml").read_bytes()
    raw = re.sub(rb"<metadata>.*</metadata>",
                 b'<metadata><mods xmlns="http://www.loc.gov/mods/v3"><titleInfo/></mods></metadata>',
                 raw, flags=re.DOTALL)
    (tmp_path / "mods.xml").write_bytes(raw)
    (rejected,) = mapped(tmp_path / "mods.xml")
    assert rejected.rule == "oai-format" and "http://www.loc.gov/mods/v3" in rejected.reason


def test_hostile_responses_are_refused(tmp_path):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE OAI-PMH [<!ENTITY a "aaaaaaaaaa">'
              b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>&b;</ListRecords></OAI-PMH>')
    (tmp_path / "laughs.xml").write_bytes(laughs)
    (rejected,) = [item for item in get_source("oai-pmh").read(tmp_path / "laughs.xml")]
    assert rejected.rule == "xml-forbidden"
    cut = test_path("oai_pmh/traject/sample-oai-pmh.xml").read_bytes()[:12000]
    (tmp_path / "cut.xml").write_bytes(cut)
    items = list(get_source("oai-pmh").read(tmp_path / "cut.xml"))
    assert isinstance(items[-1], Rejected) and items[-1].rule == "xml-syntax"
    assert all(isinstance(i, SourceRecord) for i in items[:-1]) and len(items) > 2


def test_an_oversized_record_is_rejected_alone(tmp_path):
    """sickle's ListRecords with the first record's description made 5 M characters long."""
    text = test_path("oai_pmh/sickle/ListRecords.xml").read_bytes()
    two = text.replace(b"<ListRecords>", b"<ListRecords>" + re.search(
        rb"<record>\s*<header>\s*<identifier>oai:test.example.com:1585322.*?</record>", text,
        flags=re.DOTALL).group(0).replace(b"1585322</identifier>", b"big</identifier>").replace(
        b"Lorem ipsum", b"Lorem ipsum" + b" lorem" * 1_000_000), 1)
    (tmp_path / "big.xml").write_bytes(two)
    items = list(get_source("oai-pmh").read(tmp_path / "big.xml"))
    assert [type(i).__name__ for i in items] == ["Rejected", "SourceRecord", "SourceRecord"]
    assert items[0].rule == "record-size" and items[0].position.identifier == "oai:test.example.com:big"


def test_catalograph_ingest_reads_oai_files_and_honours_deletions(tmp_path):
    """The command itself: a folder of responses, told apart by content."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("traject/oai-pmh-one-record-first.xml", "traject/oai-pmh-one-record-2.xml",
                 "sickle/ListRecords.xml"):
        (folder / name.replace("/", "-")).write_bytes(test_path(f"oai_pmh/{name}").read_bytes())
    done = subprocess.run([sys.executable, "-m", "web.cli", "--data-dir", str(tmp_path / "data"),
                           "ingest", "-q", str(folder)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "read 4 records from 3 file(s)" in done.stderr
    assert re.search(r"written\s+3 ", done.stderr) and re.search(r"deleted\s+1\n", done.stderr)
