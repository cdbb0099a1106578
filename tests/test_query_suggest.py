"""Subject suggestion on real records: the graph's evidence, the CLI and the HTTP API.

Stores are built by the real ``catalograph ingest`` from real records: the
shipped sample (``data/``) for the CLI and the API, and the marc4j *Pride and
prejudice* set from ``../shared/data`` (LGPL: read there, not copied) for the
same-Work evidence, with the record asked about left out of the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pymarc
import pytest
import requests
from conftest import shared_path
from pyoxigraph import NamedNode, Variable
from web_fixtures import BASE, running_server, settings_for

from graph import open_latest_snapshot
from ingest.model import Rejected
from query.subject_index import build_subject_index
from query.suggest import SubjectQuery, suggest
from web.suggest_input import RecordQuery, read_record_queries

ROOT = Path(__file__).resolve().parent.parent
AUSTEN = "marc/marc4j/pride-and-prejudice-fixed.mrc"


def catalograph(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGRAPH_")}
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "--base-iri", BASE, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def sample_dir(sample_copy: Path) -> Path:
    """The whole sample of ``data/``, ingested by the real CLI (``tests/conftest.py``)."""
    return sample_copy


@pytest.fixture(scope="module")
def sample_work(sample_dir: Path) -> tuple[str, set[str]]:
    """The title of a work of the sample with topical subjects, and their labels."""
    index = build_subject_index(open_latest_snapshot(sample_dir), BASE)
    for work, subjects in enumerate(index.work_subjects):
        title = index.titles.get(work, "")
        if subjects and len(title.split()) >= 3:
            return title, {index.labels[c] for c in subjects}
    pytest.fail("the sample has no work with topical subjects and a title of three words")


@pytest.fixture(scope="module")
def austen(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A store of the Austen set but one record, the file of that record, and its Work's IRI.

    The record left out is the first with subjects of its own (6XX, which
    suggestion must not see) whose Work (after mapping, as a new record would
    be) is shared by at least two other records of the set.
    """
    path = shared_path(AUSTEN)  # skips with its reason when ../shared/data is absent
    tmp = tmp_path_factory.mktemp("austen")
    queries = [q for q in read_record_queries(path, BASE) if isinstance(q, RecordQuery)]
    by_work: dict[str, list[int]] = defaultdict(list)
    for q in queries:
        for work in q.query.works:
            by_work[work].append(q.number)
    with path.open("rb") as handle:
        records = list(pymarc.MARCReader(handle, to_unicode=True, permissive=True))
    chosen = next(
        q for q in queries
        if q.query.works and len(by_work[q.query.works[0]]) >= 3
        and any(f.tag.startswith("6") for f in records[q.number - 1].fields)
    )  # fmt: skip
    kept, asked = tmp / "kept.mrc", tmp / "asked.mrc"
    with kept.open("wb") as out:
        for number, record in enumerate(records, start=1):
            if record is not None and number != chosen.number:
                record.force_utf8 = True
                out.write(record.as_marc())
    record = records[chosen.number - 1]
    record.force_utf8 = True
    asked.write_bytes(record.as_marc())
    data_dir = tmp / "data"
    done = catalograph(data_dir, "ingest", "--quiet", str(kept))
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return data_dir, asked, chosen.query.works[0]


def test_a_record_gets_the_subjects_of_its_works_other_editions(austen: tuple[Path, Path, str]) -> None:
    data_dir, asked, work = austen
    index = build_subject_index(open_latest_snapshot(data_dir), BASE)
    assert work in index.work_ids, "the other editions' Work is not in the store"
    expected = {index.concepts[c] for c in index.work_subjects[index.work_ids[work]]}
    assert expected, "the other editions have no topical subject: nothing to test"
    (query,) = [q for q in read_record_queries(asked, BASE) if isinstance(q, RecordQuery)]
    found = suggest(index, query.query, limit=len(expected) + 10)
    by_iri = {s.iri: s for s in found}
    assert expected <= set(by_iri), f"missing: {expected - set(by_iri)}"
    for iri in expected:
        assert by_iri[iri].evidence.get("work") == 1.0
        assert "other editions of the same work" in by_iri[iri].reason
    # The same words without the graph: no evidence of the Work.
    words_only = SubjectQuery(query.query.title, query.query.summary, query.query.notes)
    assert all("work" not in s.evidence for s in suggest(index, words_only, limit=20))


def test_the_cli_reads_a_marc_record_and_explains(austen: tuple[Path, Path, str]) -> None:
    data_dir, asked, _ = austen
    done = catalograph(data_dir, "suggest", str(asked), "--format", "json", "--limit", "5")
    assert done.returncode == 0, done.stderr
    (answer,) = json.loads(done.stdout)
    assert answer["record"] == 1 and len(answer["suggestions"]) == 5
    top = answer["suggestions"][0]
    assert top["reason"] and 0.0 < top["score"] <= 1.0 and top["iri"].startswith(BASE)


def test_the_subjects_of_the_input_are_never_read(tmp_path: Path, austen: tuple[Path, Path, str]) -> None:
    _, asked, _ = austen
    record = next(pymarc.MARCReader(asked.read_bytes(), to_unicode=True))
    assert any(f.tag.startswith("6") for f in record.fields), "the record has no 6XX to hide"
    bare = pymarc.Record(leader=str(record.leader), force_utf8=True)
    for field in record.fields:
        if not field.tag.startswith("6"):
            bare.add_field(field)
    (tmp_path / "bare.mrc").write_bytes(bare.as_marc())
    with_subjects = next(read_record_queries(asked, BASE))
    without = next(read_record_queries(tmp_path / "bare.mrc", BASE))
    assert isinstance(with_subjects, RecordQuery) and isinstance(without, RecordQuery)
    assert with_subjects.query == without.query


def test_the_cli_suggests_for_words(sample_dir: Path, sample_work: tuple[str, set[str]]) -> None:
    title, labels = sample_work
    done = catalograph(sample_dir, "suggest", "--title", title, "--format", "json")
    assert done.returncode == 0, done.stderr
    (answer,) = json.loads(done.stdout)
    assert labels & {s["label"] for s in answer["suggestions"]}
    table = catalograph(sample_dir, "suggest", "--title", title)
    assert table.returncode == 0 and any(label in table.stdout for label in labels)


def test_the_cli_refuses_no_text_and_a_non_marc_file(sample_dir: Path, tmp_path: Path) -> None:
    done = catalograph(sample_dir, "suggest")
    assert done.returncode == 2 and "--title" in done.stderr and "Traceback" not in done.stderr
    junk = tmp_path / "notes.txt"
    junk.write_text("not a record\n")
    done = catalograph(sample_dir, "suggest", str(junk))
    assert done.returncode == 1 and "not a format catalograph reads" in done.stderr


@pytest.fixture(scope="module")
def url(sample_dir: Path) -> Iterator[str]:
    with running_server(settings_for(sample_dir)) as base:
        yield base


def post_until_built(url: str, body: dict) -> requests.Response:
    """POST, waiting out the 503s (with Retry-After) the server gives while it builds the
    subject index of a checkpoint it has not built one for yet, off the request path."""
    deadline = time.monotonic() + 120
    while True:
        answer = requests.post(url, json=body, timeout=60)
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        assert answer.headers["Retry-After"] and "being built" in answer.json()["detail"]
        time.sleep(0.2)


def test_the_api_suggests_concepts_with_reasons(url: str, sample_work: tuple[str, set[str]]) -> None:
    title, labels = sample_work
    answer = post_until_built(f"{url}/api/suggest", {"title": title, "limit": 10})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["works"] > 0 and 0 < len(body["suggestions"]) <= 10
    assert labels & {s["label"] for s in body["suggestions"]}
    for s in body["suggestions"]:
        assert s["iri"].startswith("http") and s["label"] and s["reason"] and 0 < s["score"] <= 1


@pytest.mark.parametrize(
    ("data", "headers", "status", "says"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "not JSON"),
        (b'["a list"]', {"Content-Type": "application/json"}, 400, "JSON object"),
        (b'{"title": 7}', {"Content-Type": "application/json"}, 400, '"title" must be a string'),
        (b'{"title": ""}', {"Content-Type": "application/json"}, 400, "give some text"),
        (b'{"title": "x", "limit": 1000}', {"Content-Type": "application/json"}, 400, '"limit"'),
        (b'{"title": "x", "where": 1}', {"Content-Type": "application/json"}, 400, "unknown field"),
        (b"title=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        (b'{"title": "' + b"a" * 70_000 + b'"}', {"Content-Type": "application/json"}, 413, "65,536"),
    ],
)
def test_the_api_answers_bad_input_with_a_problem(
    url: str, data: bytes, headers: dict[str, str], status: int, says: str
) -> None:
    answer = requests.post(f"{url}/api/suggest", data=data, headers=headers, timeout=60)
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and says in problem["detail"]


def test_rejected_records_are_reported_not_suggested(tmp_path: Path) -> None:
    broken = shared_path("broken/pymarc/bad_records.mrc")
    items = list(read_record_queries(broken, BASE))
    assert any(isinstance(i, Rejected) for i in items)


def test_a_stored_instance_is_asked_about_by_its_iri(austen: tuple[Path, Path, str]) -> None:
    data_dir, _, work = austen
    store = open_latest_snapshot(data_dir)
    index = build_subject_index(store, BASE)
    expected = {index.labels[c] for c in index.work_subjects[index.work_ids[work]]}
    instance = next(
        row["i"].value
        for row in store.query(
            "SELECT ?i ?w WHERE { ?i <http://id.loc.gov/ontologies/bibframe/instanceOf> ?w } ORDER BY ?i LIMIT 1",
            use_default_graph_as_union=True, substitutions={Variable("w"): NamedNode(work)},
        )
    )  # fmt: skip
    done = catalograph(data_dir, "suggest", "--iri", instance, "--format", "json", "--limit", "100")
    assert done.returncode == 0, done.stderr
    (answer,) = json.loads(done.stdout)
    work_evidence = {s["label"] for s in answer["suggestions"] if s["evidence"].get("work")}
    assert work_evidence and work_evidence <= expected
    if len(expected) <= 50:  # all of them fit in the 100 shown, beside other candidates
        assert work_evidence == expected
    missing = catalograph(data_dir, "suggest", "--iri", BASE + "instance/none")
    assert missing.returncode == 1 and "no instance" in missing.stderr
    bad = catalograph(data_dir, "suggest", "--iri", "not an iri")
    assert bad.returncode == 2 and "not an IRI" in bad.stderr
