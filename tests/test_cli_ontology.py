"""``catalograph ontology export`` and ``catalograph ontology validate``, run as a user runs them.

Export: each format parses back (rdflib, an independent parser) to the same
statements as ``catalograph.ttl``. Validate: a store whose records are sound
passes (exit 0); a record without a title makes an instance its shape refuses,
and the report names the focus node, the path, the message and the shape, with
exit code 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from pymarc import Field, Record, Subfield
from rdflib.compare import isomorphic

from ontology.vocabulary import ontology_path
from tests.conftest import SAMPLE_DATA
from tests.test_cli_ingest import catalograph


@pytest.mark.parametrize(
    ("name", "rdflib_format"),
    [("ttl", "turtle"), ("jsonld", "json-ld"), ("owl", "xml"), ("application/rdf+xml", "xml")],
)
def test_export_writes_the_ontology_in_each_format(tmp_path: Path, name: str, rdflib_format: str) -> None:
    out = tmp_path / "ontology.out"
    done = catalograph(tmp_path / "data", "ontology", "export", "--format", name, "-o", str(out))
    assert done.returncode == 0, done.stderr
    exported = rdflib.Graph().parse(out, format=rdflib_format)
    original = rdflib.Graph().parse(ontology_path(), format="turtle")
    assert len(exported) == len(original) > 2000
    assert isomorphic(exported, original)


def test_export_to_stdout_and_an_unknown_format(tmp_path: Path) -> None:
    done = catalograph(tmp_path / "data", "ontology", "export")
    assert done.returncode == 0 and done.stdout.startswith("@prefix")
    bad = catalograph(tmp_path / "data", "ontology", "export", "--format", "docx")
    assert bad.returncode == 2
    assert "unknown export format 'docx'" in bad.stderr


def test_validate_without_data_checks_the_ontology_only(tmp_path: Path) -> None:
    done = catalograph(tmp_path / "empty", "ontology", "validate")
    assert done.returncode == 0, done.stderr
    assert "0 problems" in done.stdout and "data (" not in done.stdout


def test_validate_data_without_a_store_is_one_clear_error(tmp_path: Path) -> None:
    done = catalograph(tmp_path / "empty", "ontology", "validate", "--data")
    assert done.returncode == 1
    assert done.stderr.startswith("Error:") and "Traceback" not in done.stderr


def _untitled_record(path: Path) -> Path:
    """A real-shaped MARC record with an author and no 245: its instance has no title."""
    record = Record(force_utf8=True)
    record.leader = record.leader[:5] + "nam" + record.leader[8:]
    record.add_field(Field(tag="001", data="untitled-1"))
    record.add_field(Field(tag="003", data="TEST"))
    record.add_field(Field(tag="100", indicators=["1", " "], subfields=[Subfield("a", "Nobody, Jane.")]))
    path.write_bytes(record.as_marc())
    return path


def test_validate_data_reports_a_broken_unit_and_fails(tmp_path: Path) -> None:
    data = tmp_path / "data"
    broken = _untitled_record(tmp_path / "untitled.mrc")
    done = catalograph(data, "ingest", "--quiet", str(SAMPLE_DATA / "marc" / "george_eliot.marc"), str(broken))
    assert done.returncode == 0, done.stderr
    report = catalograph(data, "ontology", "validate", "--data", "--limit", "0")
    assert report.returncode == 1, report.stdout + report.stderr
    out = report.stdout
    # the instance has no title, and its work (keyed on this record alone) no label
    assert "conforms: False; 2 violations" in out
    assert "cgsh:InstanceShape: 1 / 0" in out and "cgsh:WorkShape: 1 / 0" in out  # per shape
    instance = "http://127.0.0.1:5000/instance/ctrl-test-untitled-1"
    line = next(line for line in out.splitlines() if "[cgsh:InstanceShape]" in line)
    assert line.startswith("Violation:")
    assert f"<{instance}>" in line  # focus node
    assert "<http://id.loc.gov/ontologies/bibframe/title>" in line  # path
    assert "An instance must have at least one title." in line  # message
    assert "does not pass its checks" in report.stderr
