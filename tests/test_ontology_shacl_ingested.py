"""The shapes hold on real records as the mapper writes them.

Real MARC (traject's binary test records) and MARCXML (marc2bibframe2's 880
test records, chosen for their non-Latin scripts and complex headings) are
read by the project's own sources, mapped by ``ingest.mapping.map_record``, and
the union of the record graphs is validated, as queries would see it. A
failure prints every violation so the mapper or the shape can be fixed; the
shapes are not to be loosened to make this pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BASE, TEST_DATA

from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import RecordGraph, Rejected
from ingest.sources import get_source
from ontology.validation import validate

MARC_FILES = sorted((TEST_DATA / "marc" / "traject").glob("*.marc"))
MARCXML_FILES = sorted((TEST_DATA / "marcxml" / "marc2bibframe2" / "880").glob("*.xml"))


def _record_graphs(paths: list[Path], format_name: str) -> list[RecordGraph]:
    """The record graphs as the store would hold them: one per graph IRI, the last read wins.

    (Records without 003 that share a 001 across files, like the ``001 1`` of
    several marc2bibframe2 files, name the same graph and replace each other.)
    """
    minter = IriMinter(BASE)
    source = get_source(format_name)
    graphs: dict[str, RecordGraph] = {}
    for path in paths:
        for item in source.read(path, name=path.name):
            if isinstance(item, Rejected):
                continue  # reading is tested elsewhere; here only what gets mapped
            mapped = map_record(item, minter)
            assert not isinstance(mapped, Rejected), f"mapping rejected a record: {mapped}"
            if mapped.deleted:
                graphs.pop(mapped.graph, None)
            else:
                graphs[mapped.graph] = mapped
    return list(graphs.values())


@pytest.fixture(scope="module")
def marc_graphs() -> list[RecordGraph]:
    assert MARC_FILES, "tests/data/marc/traject/*.marc is missing"
    return _record_graphs(MARC_FILES, "marc")


@pytest.fixture(scope="module")
def marcxml_graphs() -> list[RecordGraph]:
    assert MARCXML_FILES, "tests/data/marcxml/marc2bibframe2/880/*.xml is missing"
    return _record_graphs(MARCXML_FILES, "marcxml")


def test_mapped_marc_records_conform(marc_graphs: list[RecordGraph]) -> None:
    assert len(marc_graphs) >= len(MARC_FILES)  # every file holds at least one record
    report = validate([graph.all_nquads for graph in marc_graphs])
    assert report.conforms, "\n" + report.text(limit=200)


def test_mapped_marcxml_880_records_conform(marcxml_graphs: list[RecordGraph]) -> None:
    assert len(marcxml_graphs) >= 10  # 14 files, four of which share the graph of 001 "1"
    report = validate([graph.all_nquads for graph in marcxml_graphs])
    assert report.conforms, "\n" + report.text(limit=200)


def test_all_mapped_records_conform_together(
    marc_graphs: list[RecordGraph], marcxml_graphs: list[RecordGraph]
) -> None:
    """Records that share works, agents and concepts must still conform once merged."""
    report = validate([graph.all_nquads for graph in marc_graphs + marcxml_graphs])
    assert report.conforms, "\n" + report.text(limit=200)


def test_mapped_scholarly_records_conform() -> None:
    """Every committed Crossref, OpenAlex, DataCite, JATS and PubMed record, as one store would hold them."""
    from ingest.sources import detect_format

    minter = IriMinter(BASE)
    graphs = []
    for path in sorted((TEST_DATA / "oa").glob("*/*")):
        for item in get_source(detect_format(path)).read(path, name=path.name):
            mapped = map_record(item, minter) if not isinstance(item, Rejected) else item
            assert isinstance(mapped, RecordGraph), str(mapped)
            graphs.append(mapped.all_nquads)
    assert len(graphs) >= 15
    report = validate(graphs)
    assert report.conforms, "\n" + report.text(limit=200)
