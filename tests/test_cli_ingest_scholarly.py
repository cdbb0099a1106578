"""``catalograph ingest`` on scholarly files, told apart by content, and a MARC record meeting them.

Through the real command in a subprocess, against a real on-disk store.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pymarc
from pymarc import Field, Leader, Record, Subfield

from ingest.iri import IriMinter
from tests.conftest import TEST_DATA, test_path
from tests.test_cli_ingest import catalograph

INSTANCE = IriMinter("http://127.0.0.1:5000/").from_identifier("instance", "doi", "10.7554/elife.01567").value


def rows(data: Path, query: str) -> list[dict[str, str]]:
    done = catalograph(data, "query", "--format", "csv", query)
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


def test_a_folder_of_every_format_is_read_without_being_told_the_formats(tmp_path: Path) -> None:
    folder = tmp_path / "oa"
    shutil.copytree(TEST_DATA / "oa", folder)
    for path in folder.rglob("*.*"):  # names say nothing: .dat for all
        path.rename(path.with_name(path.name.replace(".", "_") + ".dat"))
    data = tmp_path / "data"
    done = catalograph(data, "ingest", str(folder))
    assert done.returncode == 0, done.stderr
    # 15 files, 20 records (the Crossref pages hold 2 and the OpenAlex page 5); the XML and
    # the JSON of one Crossref work name one graph, so 19 are written.
    assert "read 20 records from 15 file(s)" in done.stderr
    assert "rejected          0" in done.stderr
    assert "written          19" in done.stderr
    graphs = rows(data, "SELECT ?g WHERE { GRAPH <http://127.0.0.1:5000/graph/meta> { ?g cg:sourceFile ?f } }")
    by_source: dict[str, int] = {}
    for row in graphs:
        source = row["g"].split("/graph/")[1].split("/")[0]
        by_source[source] = by_source.get(source, 0) + 1
    assert by_source == {"crossref": 4, "openalex": 9, "datacite": 4, "jats": 1, "pubmed": 1}
    # 18 DOIs in those 19 records (3 works of the OpenAlex page have none), one of them given by
    # Crossref and OpenAlex both (eLife 10.7554/elife.01567): 15 Instances carry a DOI.
    found = rows(data, "SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i bf:identifiedBy [ a bf:Doi ] }")
    assert found == [{"n": "15"}]
    assert rows(data, f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ GRAPH ?g {{ <{INSTANCE}> bf:identifiedBy ?d }} }}"
                ) == [{"n": "2"}]


def marc_article(tmp_path: Path, deleted: bool = False) -> Path:
    record = Record(leader=Leader(f"00000{'d' if deleted else 'n'}ab a2200000 i 4500"))
    record.add_field(
        Field(tag="001", data="elife01567"),
        Field(tag="003", data="XxTest"),
        Field("024", ["7", " "], [Subfield("a", "10.7554/eLife.01567"), Subfield("2", "doi")]),
        Field("100", ["1", " "], [Subfield("a", "Sankar, Martial,"), Subfield("e", "author.")]),
        Field("245", ["1", "0"], [Subfield("a", "Automated quantitative histology reveals vascular "
                                                 "morphodynamics during Arabidopsis hypocotyl secondary growth /")]),
        Field("650", [" ", "0"], [Subfield("a", "Arabidopsis"), Subfield("x", "Growth.")]),
    )
    path = tmp_path / ("deleted.xml" if deleted else "article.xml")
    path.write_bytes(pymarc.record_to_xml(record, namespace=True))
    return path


def test_a_marc_record_and_a_crossref_record_of_one_article_are_one_instance_of_one_work(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = catalograph(data, "ingest", str(marc_article(tmp_path)), str(test_path("oa/crossref/crossref.json")))
    assert done.returncode == 0, done.stderr
    works = rows(data, f"SELECT DISTINCT ?w WHERE {{ <{INSTANCE}> bf:instanceOf ?w }}")
    assert len(works) == 1
    assert rows(data, f"SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?i bf:instanceOf <{works[0]['w']}> }}") == [
        {"n": "1"}]
    graphs = rows(data, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{INSTANCE}> bf:identifiedBy ?d }} }} ORDER BY ?g")
    assert [g["g"].split("/graph/")[1] for g in graphs] == ["crossref/10.7554%2Felife.01567", "xxtest/elife01567"]
    # The MARC subject, Crossref's subjects and its abstract are on the one Work.
    subjects = {r["l"] for r in rows(data, f"SELECT ?l WHERE {{ <{works[0]['w']}> bf:subject [ rdfs:label ?l ] }}")}
    assert {"Arabidopsis--Growth", "General Neuroscience"} <= subjects
    assert len(rows(data, f"SELECT ?s WHERE {{ <{works[0]['w']}> bf:summary ?s }}")) == 1

    done = catalograph(data, "ingest", str(marc_article(tmp_path, deleted=True)))
    assert done.returncode == 0, done.stderr
    assert "deleted           1" in done.stderr
    assert rows(data, f"SELECT ?l WHERE {{ <{INSTANCE}> rdfs:label ?l }}") == [
        {"l": "Automated quantitative histology reveals vascular morphodynamics during Arabidopsis hypocotyl "
              "secondary growth"}]
    after = {r["l"] for r in rows(data, f"SELECT ?l WHERE {{ <{works[0]['w']}> bf:subject [ rdfs:label ?l ] }}")}
    assert after == subjects - {"Arabidopsis--Growth"}
    assert len(rows(data, f"SELECT ?s WHERE {{ <{works[0]['w']}> bf:summary ?s }}")) == 1


def test_the_store_does_not_depend_on_the_worker_count(tmp_path: Path) -> None:
    """Workers share JSON pages, Crossref XML and PubMed sets by record number, as MARC files."""
    from tests.test_cli_ingest import sorted_dump

    inputs = [str(TEST_DATA / "oa")]
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert catalograph(serial, "ingest", "--workers", "1", *inputs).returncode == 0
    assert catalograph(parallel, "ingest", "--workers", "3", *inputs).returncode == 0
    assert sorted_dump(serial, drop_times=True) == sorted_dump(parallel, drop_times=True)
