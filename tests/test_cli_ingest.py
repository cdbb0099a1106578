"""End to end through the real ``catalograph`` command: ingest, query, stats.

Every test runs the command line in a subprocess against a real on-disk store,
as a user would.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pymarc
import pytest
from pyoxigraph import RdfFormat, Store

from tests.conftest import ROOT, SHARED_DATA, TEST_DATA, shared_path, test_path

TRAJECT = sorted((TEST_DATA / "marc" / "traject").glob("*.marc"))


def catalograph(
    data_dir: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
    )


def sorted_dump(data_dir: Path, drop_times: bool = False) -> list[str]:
    """Every quad of the latest checkpoint as sorted N-Quads lines."""
    from graph.snapshots import open_latest_snapshot

    store = open_latest_snapshot(data_dir)
    lines = store.dump(format=RdfFormat.N_QUADS).decode("utf-8").splitlines()
    if drop_times:
        lines = [line for line in lines if "http://www.w3.org/ns/prov#generatedAtTime" not in line]
    return sorted(lines)


def test_ingest_query_stats_on_real_records(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = catalograph(data, "ingest", *map(str, TRAJECT))
    assert done.returncode == 0, done.stderr
    assert "rejected          0" in done.stderr
    # Each traject file holds one record (MANIFEST.md).
    assert f"read {len(TRAJECT)} records" in done.stderr

    # george_eliot.marc: 245 $a "Rereading George Eliot" (looked up with pymarc).
    answer = catalograph(
        data,
        "query",
        "--format",
        "csv",
        'SELECT ?label WHERE { ?i a bf:Instance ; rdfs:label ?label FILTER(CONTAINS(?label, "Rereading George Eliot")) }',
    )
    assert answer.returncode == 0, answer.stderr
    assert "Rereading George Eliot" in answer.stdout

    table = catalograph(
        data, "query", "SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a bf:Instance }"
    )
    assert table.returncode == 0, table.stderr
    assert "(1 row)" in table.stdout

    from_stdin = catalograph(data, "query", "--format", "json", "-", stdin="ASK { ?w a bf:Work }")
    assert json.loads(from_stdin.stdout)["boolean"] is True

    stats = catalograph(data, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    assert figures["record_graphs"] == len(TRAJECT)
    assert figures["quads"] > 20 * len(TRAJECT)


def test_format_is_detected_from_content_not_extension(tmp_path: Path) -> None:
    disguised = tmp_path / "records.mrc"
    shutil.copy(test_path("marcxml/pymarc/batch.xml"), disguised)
    done = catalograph(tmp_path / "data", "ingest", str(disguised))
    assert done.returncode == 0, done.stderr
    assert "read 2 records" in done.stderr  # batch.xml holds 2 MARCXML records


def test_a_folder_with_other_files_reads_the_records_and_names_what_it_skipped(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "export"
    (folder / ".cache").mkdir(parents=True)
    shutil.copy(TRAJECT[0], folder / "one.marc")
    (folder / "README.md").write_text("records exported on Monday\n")  # beside records: ignored
    (folder / "holdings.json").write_text('{"items": []}')
    (folder / "empty.mrc").write_bytes(b"")
    shutil.copy(TRAJECT[1], folder / ".cache" / "copy.marc")  # hidden: not an input
    done = catalograph(tmp_path / "data", "ingest", str(folder))
    assert done.returncode == 1, done.stderr  # nothing rejected, but files were not read
    assert "read 1 records from 1 file(s)" in done.stderr and "rejected          0" in done.stderr
    skipped = done.stderr.split("files not read:\n", 1)[1].rstrip().splitlines()
    assert skipped == [
        f"  {folder / 'empty.mrc'}: empty file",
        f"  {folder / 'holdings.json'}: JSON, but not of Crossref, OpenAlex or DataCite works (its keys: items)",
    ]


def test_compressed_dump_gives_the_store_of_the_plain_files(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    packed = tmp_path / "packed"
    packed.mkdir()
    for path in TRAJECT:
        shutil.copy(path, plain / path.name)
        (packed / f"{path.name}.gz").write_bytes(gzip.compress(path.read_bytes()))
    for folder in (plain, packed):
        done = catalograph(tmp_path / f"data-{folder.name}", "ingest", str(folder))
        assert done.returncode == 0, done.stderr
        assert f"read {len(TRAJECT)} records" in done.stderr

    def record_graphs(data_dir: Path) -> list[str]:  # provenance names the files: left out
        return [line for line in sorted_dump(data_dir) if "/graph/meta" not in line.rsplit(" ", 2)[-2]]

    expected = record_graphs(tmp_path / "data-plain")
    assert len(expected) > 20 * len(TRAJECT)
    assert record_graphs(tmp_path / "data-packed") == expected


def test_broken_corpus_every_rejection_explained(tmp_path: Path) -> None:
    broken = SHARED_DATA / "broken"
    if not broken.exists():
        broken = TEST_DATA / "broken"  # the permissively licensed part of the corpus
    report = tmp_path / "report.tsv"
    done = catalograph(tmp_path / "data", "ingest", "--report", str(report), str(broken))
    assert done.returncode == 1, done.stderr  # some records are rejected
    assert "Traceback" not in done.stderr
    assert "WARNING: records read !=" not in done.stderr
    with report.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["kind"] == "rejected"]
    assert rows
    for row in rows:
        assert row["file"] and row["record"].isdigit() and row["rule"] and row["message"], row
        if not row["file"].endswith(".xml"):
            assert row["byte"].isdigit(), row  # binary MARC: byte offset of the record
    assert "rejected records:" in done.stderr


def test_ingest_twice_gives_the_same_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    inputs = [str(p) for p in TRAJECT]
    assert catalograph(data, "ingest", *inputs).returncode == 0
    first = sorted_dump(data)
    again = catalograph(data, "ingest", *inputs)
    assert again.returncode == 0, again.stderr
    assert f"unchanged  {len(TRAJECT):>8}" in again.stderr
    assert sorted_dump(data) == first


def test_deleted_record_disappears(tmp_path: Path) -> None:
    source = test_path("marc/traject/george_eliot.marc")
    data = tmp_path / "data"
    assert catalograph(data, "ingest", str(source)).returncode == 0
    before = sorted_dump(data)
    assert any("Rereading George Eliot" in line for line in before)

    with source.open("rb") as handle:
        record = next(pymarc.MARCReader(handle, to_unicode=True, force_utf8=True))
    record.leader = record.leader[:5] + "d" + record.leader[6:]  # leader/05 = d: deleted
    deleted = tmp_path / "deleted.mrc"
    deleted.write_bytes(record.as_marc())
    done = catalograph(data, "ingest", str(deleted))
    assert done.returncode == 0, done.stderr
    assert "deleted           1" in done.stderr
    after = sorted_dump(data)
    assert not any("Rereading George Eliot" in line for line in after)
    # Only the metadata graph and the ontology the ingest seeded may remain; no quad of the record's graph.
    assert all(line.rsplit(" ", 2)[-2].endswith(("/graph/meta>", "/graph/ontology>")) for line in after)
    assert any(line.rsplit(" ", 2)[-2].endswith("/graph/meta>") for line in after)


def test_bad_usage_exits_2_and_errors_are_one_line(tmp_path: Path) -> None:
    missing = catalograph(tmp_path / "data", "ingest", str(tmp_path / "nope.mrc"))
    assert missing.returncode == 2
    unknown = catalograph(tmp_path / "data", "ingest", "--no-such-option", str(tmp_path))
    assert unknown.returncode == 2

    no_store = catalograph(tmp_path / "empty", "query", "SELECT * WHERE { ?s ?p ?o }")
    assert no_store.returncode == 1
    assert len(no_store.stderr.strip().splitlines()) == 1, no_store.stderr
    assert "Traceback" not in no_store.stderr

    assert catalograph(tmp_path / "data", "ingest", str(TRAJECT[0])).returncode == 0
    bad_query = catalograph(tmp_path / "data", "query", "SELEC ?x WHERE {")
    assert bad_query.returncode == 1
    assert bad_query.stderr.startswith("Error:") and len(bad_query.stderr.strip().splitlines()) == 1


def test_gpl_sourced_records_read_in_place(tmp_path: Path) -> None:
    """Pride and Prejudice (marc4j, LGPL): read from ../shared/data, never copied."""
    source = shared_path("marc/marc4j/pride-and-prejudice-fixed.mrc")
    done = catalograph(tmp_path / "data", "ingest", "--workers", "2", str(source))
    assert done.returncode == 1, done.stderr  # 17 UNIMARC records among them are refused
    assert "read 383 records" in done.stderr
    assert re.search(r"rejected\s+17\n\s+unimarc\s+17\n", done.stderr), done.stderr
    store = Store.read_only(str(_latest(tmp_path / "data")))
    works = store.query(
        "SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE { GRAPH ?g { ?i bf:instanceOf ?w } }",
        prefixes={"bf": "http://id.loc.gov/ontologies/bibframe/"},
    )
    n_works = int(next(iter(works))["n"].value)
    assert 0 < n_works < 383  # editions and translations share works


def _latest(data_dir: Path) -> Path:
    from graph.snapshots import latest_snapshot

    path = latest_snapshot(data_dir)
    assert path is not None
    return path


@pytest.mark.parametrize("workers", [2, 3])  # the parent with one worker process, with two
def test_store_does_not_depend_on_worker_count(tmp_path: Path, workers: int) -> None:
    """Parallel mapping merges back into file order: the same store as a serial run."""
    inputs = [
        str(test_path("marc/solrmarc/specTestRecs.mrc")),
        str(test_path("marcxml/traject/test_data.utf8.marc.xml")),
    ]
    serial = tmp_path / "serial"
    assert catalograph(serial, "ingest", "--workers", "1", *inputs).returncode in (0, 1)
    parallel = tmp_path / "parallel"
    assert catalograph(parallel, "ingest", "--workers", str(workers), *inputs).returncode in (0, 1)
    assert sorted_dump(serial, drop_times=True) == sorted_dump(parallel, drop_times=True)


def test_a_busy_store_exits_3_with_one_line(tmp_path: Path) -> None:
    """Another writer holds the lock: "try again later" has its own exit code, not 1."""
    from graph.lock import StoreLock

    data = tmp_path / "data"
    with StoreLock(data):
        done = catalograph(data, "ingest", str(TRAJECT[0]))
    assert done.returncode == 3, done.stderr
    assert "is being written by process" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert catalograph(data, "ingest", str(TRAJECT[0])).returncode == 0  # free again


def test_summary_and_report_give_the_rule_of_each_warning(tmp_path: Path) -> None:
    """bad_records.mrc: records 2, 3 and 6 have bad base addresses, stored with a warning each."""
    report = tmp_path / "report.tsv"
    source = test_path("broken/pymarc/bad_records.mrc")
    done = catalograph(tmp_path / "data", "ingest", "--report", str(report), str(source))
    assert done.returncode == 1, done.stderr  # three of its records are rejected
    summary = done.stderr
    rejected_part, _, warned_part = summary.partition("  warnings ")
    assert re.search(r"\n    directory\s+2\n", rejected_part), summary
    assert re.search(r"\n    base-address\s+3\n", warned_part), summary
    with report.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    warned = [row for row in rows if row["kind"] == "warning"]
    assert [(row["record"], row["rule"]) for row in warned] == [
        ("2", "base-address"),
        ("3", "base-address"),
        ("6", "base-address"),
    ]
    assert warned[2]["message"] == "leader says 'f0037', the directory ends at byte 36"
    assert all(row["rule"] for row in rows)


def test_xml_of_another_schema_is_named_once_not_rejected_record_by_record(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("other-schema.xml", "bare-record-collection.xml"):
        shutil.copy(test_path(f"exports/{name}"), folder / name)
    shutil.copy(test_path("marcxml/pymarc/batch.xml"), folder / "marc.xml")  # read beside them
    done = catalograph(tmp_path / "data", "ingest", str(folder))
    assert done.returncode == 1, done.stderr
    assert "read 2 records from 1 file(s)" in done.stderr and "rejected          0" in done.stderr
    skipped = done.stderr.split("files not read:\n", 1)[1].rstrip().splitlines()
    assert skipped == [
        f"  {folder / 'bare-record-collection.xml'}: not MARCXML: XML whose root element "
        "<collection> (no namespace) holds no MARC leader, controlfield or datafield",
        f"  {folder / 'other-schema.xml'}: not MARCXML: XML whose root element is <records> "
        "(no namespace), and no record in the MARC21 slim namespace "
        "(http://www.loc.gov/MARC21/slim) starts in its first 4 kB",
    ]



def test_an_ingest_runs_at_a_lower_cpu_priority_and_gives_it_back(tmp_path: Path) -> None:
    """The ingest lowers its thread's priority by ``ingest_nice`` (the writer thread and
    the mapping workers it starts inherit it: Linux keeps a priority per thread, and
    a new thread or process starts with its creator's), and gives it back when done."""
    import os
    import threading

    from web.config import load_settings
    from web.ingest_command import _lower_priority, _restore_priority, run_ingest_command

    seen: dict[str, int | None] = {}
    settings = load_settings(data_dir=tmp_path / "data", ingest_nice=7)

    def ingest() -> None:  # in a thread of its own, so that pytest's keeps its priority
        seen["before"] = os.getpriority(os.PRIO_PROCESS, 0)
        lowered = _lower_priority(settings.ingest_nice)
        seen["lowered"] = os.getpriority(os.PRIO_PROCESS, 0)
        _restore_priority(lowered)
        seen["code"] = run_ingest_command(
            settings,
            [ROOT / "data"],
            format_name=None,
            default_source="marc",
            workers=1,
            batch_size=1000,
            report_path=None,
            progress=False,
        )
        seen["after"] = os.getpriority(os.PRIO_PROCESS, 0)

    worker = threading.Thread(target=ingest)
    worker.start()
    worker.join(120)
    assert seen["lowered"] == min(19, seen["before"] + 7)  # type: ignore[operator]
    assert seen["code"] in (0, 1)  # the shipped sample has rejected records
    if os.geteuid() == 0:  # only a privileged process may raise a priority again
        assert seen["after"] == seen["before"]
