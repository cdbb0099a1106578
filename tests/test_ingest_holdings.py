"""MARC 21 holdings records (MFHD) become items of their Instance, not empty Instances and Works.

``exports/holdings.mrc`` is a real bibliographic record and holdings records
made for it after the examples of the MARC 21 Format for Holdings Data
(tests/data/README.md); marc4j's ``sample1a.xml`` (LGPL, read in place) mixes
real bibliographic and holdings records of the Newberry Library.
"""

from __future__ import annotations

import re
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, Store

from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import RecordGraph, Rejected
from ingest.sources.marc_binary import MarcBinarySource
from ingest.sources.marc_xml import MarcXmlSource
from ontology.namespaces import BF, RDF, RDFS
from tests.conftest import BASE, shared_path, test_path
from tests.test_cli_ingest import catalograph

MINTER = IriMinter(BASE)
HOLDINGS = "exports/holdings.mrc"


def mapped(path: Path) -> list[RecordGraph | Rejected]:
    source = MarcXmlSource() if path.suffix == ".xml" else MarcBinarySource()
    return [map_record(item, MINTER) for item in source.read(path)]


def dataset(graph: RecordGraph) -> Store:
    """The record's statements (its own graph and its unit statements), in memory."""
    store = Store()
    store.load(graph.all_nquads, format=RdfFormat.N_QUADS)
    return store


def objects(data: Store, subject: NamedNode, predicate: NamedNode) -> list:
    return sorted(
        (quad.object for quad in data.quads_for_pattern(subject, predicate, None)),
        key=lambda term: term.value,
    )


def label_of(data: Store, subject: NamedNode, predicate: NamedNode) -> list[str]:
    return sorted(
        label.value
        for node in objects(data, subject, predicate)
        for label in objects(data, node, RDFS.label)
    )


def test_holdings_records_give_items_of_the_instance_of_their_bibliographic_record():
    bib, single, multipart, orphan = mapped(test_path(HOLDINGS))
    instance = NamedNode(f"{BASE}instance/ctrl-dlc-12515882")
    assert instance.value in bib.all_nquads.decode()  # the bibliographic record's own Instance

    data = dataset(single)
    item = NamedNode(f"{BASE}graph/dlc/h1001#item-1")
    assert objects(data, item, RDF.type) == [BF.Item]
    assert objects(data, item, BF.itemOf) == [instance]
    assert objects(data, item, BF.heldBy) == [NamedNode(f"{BASE}agent/org-DLC")]
    assert label_of(data, item, BF.sublocation) == ["MAIN", "STACKS"]
    assert label_of(data, item, BF.shelfMark) == ["QA76.73.P98 L88 1996"]
    (mark,) = objects(data, item, BF.shelfMark)
    assert objects(data, mark, RDF.type) == [BF.ShelfMarkLcc]  # 852 first indicator 0
    assert label_of(data, item, BF.note) == ["Signed by the author"]
    (barcode,) = objects(data, item, BF.identifiedBy)
    assert objects(data, barcode, RDF.type) == [BF.Barcode]
    assert [term.value for term in objects(data, barcode, RDF.value)] == ["39015012345678"]
    # a holdings record states nothing about Works or Instances of its own
    assert not list(data.quads_for_pattern(None, RDF.type, BF.Work))
    assert not list(data.quads_for_pattern(None, RDF.type, BF.Instance))

    data = dataset(multipart)
    item = NamedNode(f"{BASE}graph/dlc/h1002#item-1")
    assert objects(data, item, BF.itemOf) == [instance]
    assert label_of(data, item, BF.enumerationAndChronology) == ["v.1-v.2"]  # 866
    assert label_of(data, item, BF.note) == ["CD-ROM missing"]  # 876 $z
    assert len(objects(data, item, BF.identifiedBy)) == 1  # 876 $p

    assert isinstance(orphan, Rejected) and orphan.rule == "holdings-without-instance"
    assert "serial item holdings, leader/06 'y'" in orphan.reason and "no 004" in orphan.reason
    assert (orphan.position.number, orphan.position.offset) == (4, 1409)


def test_holdings_meet_their_instance_in_the_store(tmp_path):
    done = catalograph(tmp_path / "data", "ingest", str(test_path(HOLDINGS)))
    assert done.returncode == 1, done.stderr  # the holdings record with no 004 is rejected
    assert re.search(r"\n    holdings-without-instance +1\n", done.stderr), done.stderr
    answer = catalograph(
        tmp_path / "data",
        "query",
        "--format",
        "csv",
        "SELECT ?shelf ?title WHERE { ?item bf:itemOf ?instance ; bf:shelfMark/rdfs:label ?shelf ."
        " ?instance bf:title/bf:mainTitle ?title } ORDER BY ?shelf",
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.splitlines()[1:] == [
        "QA76.73.P98 L88 1996,Programming Python",
        "QA76.73.P98 L88 1996 c.2,Programming Python",
    ]


def test_newberry_holdings_meet_bibliographic_records_named_by_control_number():
    """sample1a.xml: 4 bibliographic records, each followed by its holdings (004 = its 001)."""
    items = mapped(shared_path("marcxml/marc4j/sample1a.xml"))
    assert all(isinstance(item, RecordGraph) for item in items)
    text = {item.graph.rsplit("/", 1)[1]: item.all_nquads.decode() for item in items}
    # Bib 370589 has no LCCN, ISBN or ISSN: its Instance is named from 003 + 001, as its item's.
    instance = f"<{BASE}instance/ctrl-nbydb-370589>"
    assert instance in text["370589"]
    assert f"<{BASE}graph/nbydb/377291#item-1> <{BF.itemOf.value}> {instance}" in text["377291"]
    # Bib 370607 has an LCCN, which names its Instance; its holdings cannot know it, and
    # name the control-number Instance instead (docs/mapping.md, Holdings).
    assert f"<{BASE}instance/lccn-99046013>" in text["370607"]
    assert f"<{BASE}instance/ctrl-nbydb-370607>" in text["377309"]
    data = dataset(next(item for item in items if item.graph.endswith("/377337")))
    item = NamedNode(f"{BASE}graph/nbydb/377337#item-1")
    assert label_of(data, item, BF.shelfMark) == ["Ref BV173 .N8614 1992"]
    assert label_of(data, item, BF.enumerationAndChronology) == ["v.1-v.2"]


def test_a_bibliographic_record_typed_as_holdings_keeps_its_description_and_gains_items():
    """Internet Archive's _marc.xml: leader/06 'x', yet a full bibliographic record with an 852."""
    (graph,) = mapped(shared_path("marcxml/openlibrary/lesabndioeinas00sche_marc.xml"))
    assert [w.rule for w in graph.warnings] == ["holdings"]
    data = dataset(graph)
    instance = NamedNode(f"{BASE}instance/lccn-54054403")
    assert list(data.quads_for_pattern(instance, BF.title, None))
    item = NamedNode(f"{BASE}graph/ocolc/AET-2444#item-1")
    assert objects(data, item, BF.itemOf) == [instance]
    assert label_of(data, item, BF.shelfMark) == ["PT2638.E4 L4 1913"]


def test_the_documented_query_finds_the_instance_named_by_an_lccn(tmp_path):
    """docs/mapping.md (Holdings): items reach an Instance named otherwise through its bf:Local."""
    source = shared_path("marcxml/marc4j/sample1a.xml")
    assert catalograph(tmp_path / "data", "ingest", str(source)).returncode == 0
    docs = (Path(__file__).resolve().parent.parent / "docs" / "mapping.md").read_text()
    holdings = docs[docs.index("## Holdings") :]
    query = holdings[holdings.index("```sparql\n") + 10 : holdings.index("\n```\n")]
    answer = catalograph(tmp_path / "data", "query", "--format", "csv", query)
    assert answer.returncode == 0, answer.stderr
    rows = sorted(answer.stdout.splitlines()[1:])
    assert f"{BASE}graph/nbydb/377309#item-1,{BASE}instance/lccn-99046013" in rows
    # 4 of the 5 holdings records: 375291 holds copies of 367589, which is not in the file
    assert [row.split("/")[5].split("#")[0] for row in rows] == ["377291", "377309", "377328", "377337"]


def test_items_of_a_bibliographic_record_never_reuse_its_nodes():
    """The barcode and note of an embedded 852 are nodes of their own, not the record's 1st identifier."""
    (graph,) = mapped(shared_path("marcxml/openlibrary/lesabndioeinas00sche_marc.xml"))
    data = dataset(graph)
    item = NamedNode(f"{BASE}graph/ocolc/AET-2444#item-1")
    (barcode,) = objects(data, item, BF.identifiedBy)
    assert objects(data, barcode, RDF.type) == [BF.Barcode]
    assert [term.value for term in objects(data, barcode, RDF.value)] == ["39097010041581"]
    first_identifier = NamedNode(f"{BASE}graph/ocolc/AET-2444#identifier-1")
    assert objects(data, first_identifier, RDF.type) == [BF.Local]  # the 001, untouched
