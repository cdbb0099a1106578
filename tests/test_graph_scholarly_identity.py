"""Sources meet in one node: a DOI, an ISSN, an ORCID shared by MARC, Crossref and OpenAlex records.

The eLife article 10.7554/eLife.01567 is described by Crossref (tests/data/oa/crossref/
crossref.json), by OpenAlex (test_doi_with_data_citation.json) and here by a MARC record
made for the test with pymarc (no record of the shared corpus carries a DOI in 024: the
DOIs of marc/evergreen/oss.marc are only in 856 links), which gives the DOI in 024 7_ $2 doi,
the first author in 100 and Kaisa Nieminen with her ORCID (0000-0001-7004-9422, as
OpenAlex gives it) in 700 $1. The records are written through ``graph.Writer`` into real
on-disk stores, in both orders, and then deleted one at a time: the shared nodes stay
while any source still describes them, and each source's own statements go with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pymarc import Field, Leader, Record, Subfield
from pyoxigraph import RdfFormat, Store

from graph import Writer
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import Position, RecordGraph, SourceRecord
from ingest.sources import detect_format, get_source
from ontology.namespaces import PREFIXES
from tests.conftest import test_path

BASE = "http://127.0.0.1:5000/"
MINTER = IriMinter(BASE)
PREFIX = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
DOI = "10.7554/elife.01567"
INSTANCE = MINTER.from_identifier("instance", "doi", DOI).value
SERIAL = MINTER.from_identifier("instance", "issn", "2050-084X").value
NIEMINEN = "https://orcid.org/0000-0001-7004-9422"
TITLE = "Automated quantitative histology reveals vascular morphodynamics during Arabidopsis hypocotyl secondary growth"


def marc_record(*extra: Field) -> RecordGraph:
    record = Record(leader=Leader("00000nab a2200000 i 4500"))
    record.add_field(*extra)
    record.add_field(
        Field(tag="001", data="elife01567"),
        Field(tag="003", data="XxTest"),
        Field(tag="008", data="140211s2014    enk     o     000 0 eng d"),
        Field("024", ["7", " "], [Subfield("a", "10.7554/eLife.01567"), Subfield("2", "doi")]),
        Field("100", ["1", " "], [Subfield("a", "Sankar, Martial,"), Subfield("e", "author.")]),
        Field("245", ["1", "0"], [Subfield("a", TITLE + " /"), Subfield("c", "Martial Sankar [and four others].")]),
        Field("700", ["1", " "], [Subfield("a", "Nieminen, Kaisa,"), Subfield("e", "author."),
                                  Subfield("1", NIEMINEN)]),
    )
    graph = map_record(SourceRecord(Position("made-in-test.mrc", 1), "marc", record), MINTER)
    assert isinstance(graph, RecordGraph), str(graph)
    return graph


def file_record(relative: str) -> RecordGraph:
    path = test_path(relative)
    items = list(get_source(detect_format(path)).read(path))
    assert len(items) == 1
    graph = map_record(items[0], MINTER)
    assert isinstance(graph, RecordGraph), str(graph)
    return graph


@pytest.fixture(scope="module")
def records() -> dict[str, RecordGraph]:
    return {
        "marc": marc_record(),
        "crossref": file_record("oa/crossref/crossref.json"),
        "openalex": file_record("oa/openalex/test_doi_with_data_citation.json"),
    }


def write(data_dir: Path, batch: list[RecordGraph]) -> None:
    with Writer(data_dir, MINTER.layout, "identity-test", make_checkpoint=False) as writer:
        writer.write(batch)


def deletion(record: RecordGraph) -> RecordGraph:
    return RecordGraph(record.graph, record.position, b"", 0, "", deleted=True)


def live(data_dir: Path) -> Store:
    return Store.read_only(str(data_dir / "store"))


def rows(store: Store, query: str) -> list[str]:
    return sorted(str(row[0].value) for row in store.query(PREFIX + query, use_default_graph_as_union=True))


def content(store: Store) -> set[str]:
    """Every quad but provenance times, as text."""
    return {str(q) for q in store if "generatedAtTime" not in str(q.predicate)}


def test_the_instance_names_agree_before_any_store() -> None:
    """The rule itself: each mapper names the Instance from the DOI, lower case."""
    for graph in (marc_record(), file_record("oa/crossref/crossref.json"),
                  file_record("oa/crossref/crossref.xml"),
                  file_record("oa/openalex/test_doi_with_data_citation.json")):
        assert f"<{INSTANCE}>".encode() in graph.all_nquads


def test_one_instance_one_work_one_agent_whatever_the_order(tmp_path: Path, records: dict) -> None:
    forward, backward = tmp_path / "forward", tmp_path / "backward"
    for name in ("marc", "crossref", "openalex"):
        write(forward, [records[name]])
    for name in ("openalex", "crossref", "marc"):
        write(backward, [records[name]])
    stores = [live(forward), live(backward)]
    assert content(stores[0]) == content(stores[1])
    store = stores[0]
    # One Instance carries the DOI, described by three record graphs.
    assert rows(store, "SELECT DISTINCT ?i WHERE { ?i bf:identifiedBy [ a bf:Doi ] }") == [INSTANCE]
    graphs = rows(store, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{INSTANCE}> bf:identifiedBy ?id }} }}")
    assert graphs == sorted(r.graph for r in records.values())
    # One Work: MARC keys it "sankar martial|automated quantitative histology...", and so do the others.
    works = rows(store, f"SELECT ?w WHERE {{ <{INSTANCE}> bf:instanceOf ?w }}")
    assert len(works) == 1
    keys = rows(store, f"SELECT DISTINCT ?k WHERE {{ ?l cg:linkedInstance <{INSTANCE}> ; cg:matchKey ?k }}")
    assert keys == [f"sankar martial|{TITLE.lower()}"]
    # One agent for Kaisa Nieminen: her ORCID in MARC 700 $1 and in OpenAlex's authorship.
    contributions = rows(store, f"SELECT ?c WHERE {{ <{works[0]}> bf:contribution ?c . ?c bf:agent <{NIEMINEN}> }}")
    assert len(contributions) == 1
    said_by = rows(store, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{contributions[0]}> bf:agent <{NIEMINEN}> }} }}")
    assert said_by == [works[0]]  # the Work's unit graph, once, for both sources
    assert rows(store, f"SELECT ?l WHERE {{ <{NIEMINEN}> rdfs:label ?l }}") == ["Nieminen, Kaisa"]
    # One journal: Crossref and OpenAlex give eLife's ISSN.
    assert rows(store, f"SELECT ?s WHERE {{ <{INSTANCE}> bf:partOf ?s }}") == [SERIAL]


def test_deleting_one_source_keeps_the_node_and_the_others_statements(tmp_path: Path, records: dict) -> None:
    data = tmp_path / "data"
    write(data, list(records.values()))
    store = live(data)
    marc_graph = {str(q) for q in store.quads_for_pattern(None, None, None, None)
                  if q.graph_name.value == records["marc"].graph}
    assert marc_graph
    crossref_funder = "https://doi.org/10.13039/501100003043"  # EMBO: in Crossref's funders only
    assert rows(store, f"SELECT ?n WHERE {{ <{crossref_funder}> rdfs:label ?n }}") == ["EMBO"]
    del store

    write(data, [deletion(records["crossref"])])
    store = live(data)
    assert rows(store, f"SELECT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g = <{records['crossref'].graph}>) }}"
                ) == []
    # The node stays with what OpenAlex and MARC say of it.
    assert rows(store, f"SELECT ?v WHERE {{ <{INSTANCE}> schema:volumeNumber ?v }}") == ["3"]  # OpenAlex too
    assert rows(store, f"SELECT ?t WHERE {{ <{INSTANCE}> rdfs:label ?t }}") == [TITLE]
    assert rows(store, f"SELECT ?s WHERE {{ <{INSTANCE}> bf:partOf ?s }}") == [SERIAL]  # OpenAlex's ISSN
    # What only Crossref said is gone.
    assert rows(store, f"SELECT ?n WHERE {{ <{crossref_funder}> rdfs:label ?n }}") == []
    assert {str(q) for q in store.quads_for_pattern(None, None, None, None)
            if q.graph_name.value == records["marc"].graph} == marc_graph
    del store

    write(data, [deletion(records["openalex"])])
    store = live(data)
    assert rows(store, f"SELECT ?s WHERE {{ <{INSTANCE}> bf:partOf ?s }}") == []  # no source gives the journal
    assert rows(store, f"SELECT ?l WHERE {{ <{NIEMINEN}> rdfs:label ?l }}") == ["Nieminen, Kaisa"]  # MARC does
    assert rows(store, "SELECT DISTINCT ?i WHERE { ?i bf:identifiedBy [ a bf:Doi ] }") == [INSTANCE]
    # The store is now what the MARC record alone makes.
    alone = tmp_path / "alone"
    write(alone, [records["marc"]])
    assert content(store) == content(live(alone))


def test_a_catalogue_record_minted_by_lccn_meets_crossref_through_its_doi(tmp_path: Path) -> None:
    """The MARC record also carries an LCCN (010, which used to name its Instance before the
    DOI): the DOI now names it, as it names Crossref's, so the two meet in one Instance in
    either order; the MARC record states the LCCN's Instance ``owl:sameAs`` it (a statement
    about the Instance that goes with the record); deleting either source leaves exactly
    what the other alone makes."""
    lccn_instance = MINTER.from_identifier("instance", "lccn", "2014214560").value
    marc = marc_record(Field(tag="010", indicators=[" ", " "], subfields=[Subfield("a", "  2014214560")]))
    crossref = file_record("oa/crossref/crossref.json")
    forward, backward = tmp_path / "forward", tmp_path / "backward"
    write(forward, [marc])
    write(forward, [crossref])
    write(backward, [crossref])
    write(backward, [marc])
    assert content(live(forward)) == content(live(backward))
    store = live(forward)
    assert rows(store, "SELECT DISTINCT ?i WHERE { ?i bf:identifiedBy [ a bf:Doi ] }") == [INSTANCE]
    graphs = rows(store, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{INSTANCE}> bf:identifiedBy ?id }} }}")
    assert graphs == sorted([marc.graph, crossref.graph])
    assert rows(store, f"SELECT ?l WHERE {{ <{INSTANCE}> bf:identifiedBy [ a bf:Lccn ; rdf:value ?l ] }}") == ["2014214560"]
    assert rows(store, f"SELECT ?a WHERE {{ <{INSTANCE}> owl:sameAs ?a }}") == [lccn_instance]
    assert len(rows(store, f"SELECT DISTINCT ?w WHERE {{ <{INSTANCE}> bf:instanceOf ?w }}")) == 1
    del store
    write(forward, [deletion(marc)])
    write(backward, [deletion(crossref)])
    crossref_alone, marc_alone = tmp_path / "crossref", tmp_path / "marc"
    write(crossref_alone, [crossref])
    write(marc_alone, [marc])
    assert content(live(forward)) == content(live(crossref_alone))
    assert content(live(backward)) == content(live(marc_alone))


def test_an_orcid_shared_by_datacite_and_openalex_is_one_agent(tmp_path: Path) -> None:
    # datacite.json (10.5438/4k3m-nyvg) and test_blog_post.json (10.53731/ybhah-9jy85): two works
    # by Martin Fenner, ORCID 0000-0003-1419-2405 in both.
    data = tmp_path / "data"
    write(data, [file_record("oa/datacite/datacite.json"), file_record("oa/openalex/test_blog_post.json")])
    store = live(data)
    fenner = "https://orcid.org/0000-0003-1419-2405"
    works = rows(store, f"SELECT DISTINCT ?w WHERE {{ ?w bf:contribution [ bf:agent <{fenner}> ] }}")
    assert len(works) == 2
    assert rows(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{fenner}> a bf:Person }}") == ["1"]
    assert rows(store, f"SELECT ?l WHERE {{ <{fenner}> rdfs:label ?l }}") == ["Fenner, Martin"]


def test_an_invalid_orcid_is_a_warning_not_an_identity() -> None:
    from ingest.scholarly.crossref import convert

    item = {"DOI": "10.1234/abc", "title": ["A title"],
            "author": [{"given": "Ann", "family": "Lee", "ORCID": "https://orcid.org/0000-0002-1825-0098"}]}
    work = convert(SourceRecord(Position("test", 1), "crossref", item))
    assert work.contributors[0].orcid is None
    assert [w.rule for w in work.warnings] == ["orcid"]
    graph = map_record(SourceRecord(Position("test", 1), "crossref", item), MINTER)
    assert isinstance(graph, RecordGraph)
    assert b"orcid.org" not in graph.all_nquads
    assert [w.rule for w in graph.warnings] == ["orcid"]
    store = Store()
    store.load(graph.all_nquads, format=RdfFormat.N_QUADS)
    assert rows(store, "SELECT ?a WHERE { ?c bf:agent ?a }")[0].startswith(graph.graph + "#")  # local
