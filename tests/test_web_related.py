"""``GET /api/related`` over a real server, and ``catalograph related``, on the sample of ``data/``.

The data directory is written by ``catalograph ingest`` itself (a subprocess),
which refreshes the associations; the server (waitress, ``tests/web_fixtures``)
and the CLI read the checkpoint it published and the projection it names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IngestedStore
from tests.web_fixtures import running_server, settings_for

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:5000/"
ARS_MINOR = BASE + "instance/ctrl-marc-4603408"


def catalograph(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CATALOGRAPH_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    env.pop("CATALOGRAPH_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture(scope="module")
def data_dir(ingested_sample: IngestedStore, sample_copy: Path) -> Path:
    assert "associations rebuilt" in ingested_sample.stderr
    return sample_copy


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir)) as root:
        yield root


def get(url: str, **params: str) -> tuple[int, str, dict]:
    query = urllib.parse.urlencode(params)
    request = urllib.request.Request(f"{url}/api/related?{query}", headers={"Accept-Language": "en"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read())


def test_related_as_json(url: str) -> None:
    status, content_type, body = get(url, iri=ARS_MINOR, limit="5")
    assert status == 200 and content_type.startswith("application/json")
    assert body["iri"] == ARS_MINOR
    results = body["results"]
    assert 1 <= len(results) <= 5
    first = results[0]
    assert first["same_work"] and first["editions"] == 7
    assert "Donatus, Aelius" in first["because"]
    labels = {unit["label"]: unit for unit in first["units"]}
    assert labels["Donatus, Aelius"]["kind"] == "agent"
    assert all({"iri", "label", "kind", "relation", "weight", "share"} <= set(u) for u in first["units"])
    assert len({r["iri"] for r in results}) == len(results)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"iri": "not an iri"}, 400),
        ({"iri": "http://exa mple.org/x"}, 400),
        ({}, 400),
        ({"iri": ARS_MINOR, "limit": "0"}, 400),
        ({"iri": ARS_MINOR, "limit": "many"}, 400),
        ({"iri": ARS_MINOR, "limit": "100000"}, 400),
        ({"iri": BASE + "instance/no-such-thing"}, 404),
        ({"iri": "http://example.org/'; DROP GRAPH <x> ; #"}, 400),
        ({"iri": ARS_MINOR, "q": "grammar"}, 400),  # one or the other
        ({"q": ""}, 400),
        ({"q": "grammar", "colour": "red"}, 400),
    ],
)
def test_errors_are_problem_details(url: str, params: dict[str, str], status: int) -> None:
    got, content_type, body = get(url, **params)
    assert got == status
    assert content_type == "application/problem+json"
    assert body["status"] == status and body["title"] and body["detail"]


def test_related_to_words_starts_from_the_seed_search(url: str) -> None:
    """``?q=``: the seed search's hits are the seeds; Donatus's *Ars minor* is found by its
    words (all eight records), and what is related to them comes with its reasons, the seeds left out."""
    status, _, body = get(url, q="ars minor", limit="5")
    assert status == 200
    seeds = {seed["iri"] for seed in body["seeds"]}
    assert ARS_MINOR in seeds
    assert body["results"] and all(r["because"] for r in body["results"])
    assert not seeds & {r["iri"] for r in body["results"]}


def test_words_no_document_holds_together_still_give_seeds(url: str) -> None:
    """No document holds both "Dvorak" and "symphonies" (Dvořák's works in the sample are
    serenades, rondos and quartets; "Mozart symphonies" is now found whole, by the works'
    creators): the seeds are then documents with any of the words."""
    status, _, body = get(url, q="Dvorak symphonies")
    assert status == 200
    labels = " ".join(seed["label"] for seed in body["seeds"])
    assert "Dvořák" in labels and "Symphon" in labels
    assert body["results"]


def test_cli_related_to_words(data_dir: Path) -> None:
    done = catalograph(data_dir, "related", "--text", "ars minor", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert ARS_MINOR in {seed["iri"] for seed in json.loads(done.stdout)["seeds"]}
    both = catalograph(data_dir, "related", ARS_MINOR, "--text", "grammar")
    assert both.returncode == 2 and "not both" in both.stderr


def test_cli_table_and_json(data_dir: Path) -> None:
    table = catalograph(data_dir, "related", ARS_MINOR, "--limit", "3")
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith(" 1. ")
    assert "Another edition of the same work" in table.stdout and "(7 editions)" in table.stdout
    as_json = catalograph(data_dir, "related", ARS_MINOR, "--limit", "2", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert len(body["results"]) == 2 and body["results"][0]["editions"] == 7


def test_cli_errors(data_dir: Path) -> None:
    unknown = catalograph(data_dir, "related", BASE + "instance/no-such-thing")
    assert unknown.returncode == 1 and "is not a resource that association knows" in unknown.stderr
    bad = catalograph(data_dir, "related", "no iri")
    assert bad.returncode == 2 and "absolute http(s) IRI" in bad.stderr
    nothing = catalograph(data_dir, "related")
    assert nothing.returncode == 2


def test_cli_refresh_updates_nothing_when_nothing_changed(data_dir: Path) -> None:
    done = catalograph(data_dir, "related", "--refresh")
    assert done.returncode == 0, done.stderr
    assert "0 resource(s) read" in done.stderr
