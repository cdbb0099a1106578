"""``/api/search`` over the real server, and ``catalograph search``, on real records.

The server answers from the checkpoint it serves: records committed to the
live store but not yet published are not found until a checkpoint holds them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from web_fixtures import HOSTILE_TITLE, build_data_dir, ingest, running_server, settings_for

from graph import Writer
from ingest.iri import IriMinter
from tests.conftest import SAMPLE_DATA
from tests.test_cli_ingest import catalograph

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_data_dir(tmp_path_factory.mktemp("web-search"))


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir)) as root:
        yield root


def api(url: str, **params: object) -> requests.Response:
    return requests.get(url + "/api/search", params=params, timeout=30)


def test_search_answers_json_hits(url: str) -> None:
    response = api(url, q="pwned other tales")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    first = body["hits"][0]
    assert first["label"] == HOSTILE_TITLE  # markup is text in JSON, never interpreted
    assert first["kind"] in ("instance", "work") and first["field"] in ("title", "label")
    assert first["iri"].startswith("http://127.0.0.1:5000/")
    assert set(first) == {"iri", "kind", "label", "year", "languages", "score", "field"}
    assert body["limit"] == 10 and body["offset"] == 0 and body["more"] is False


def test_filters_prefix_and_pages(url: str) -> None:
    everything = api(url, q="armstrong", limit=100).json()["hits"]
    agents = api(url, q="armstrong", kind="agent", limit=100).json()["hits"]
    assert agents and all(h["kind"] == "agent" for h in agents)
    assert len(agents) < len(everything)
    completed = api(url, q="armstr", prefix="true", limit=100).json()["hits"]
    assert [h["iri"] for h in completed] == [h["iri"] for h in api(url, q="armstr*", limit=100).json()["hits"]]
    assert completed and api(url, q="armstr").json()["hits"] == []
    page = api(url, q="armstrong", limit=1, offset=1).json()
    assert page["hits"][0]["iri"] == everything[1]["iri"]


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({}, 400, "give the text"),
        ({"q": "()"}, 400, "no word"),
        ({"q": "x", "kind": "spaceship"}, 400, "unknown kind"),
        ({"q": "x", "limit": "101"}, 400, "limit"),
        ({"q": "x", "from": "1990s"}, 400, "whole number"),
        ({"q": "x", "prefix": "maybe"}, 400, "true or false"),
        ({"q": "x", "sort": "year"}, 400, "unknown parameter"),
        ({"q": "x" * 300}, 400, "longer than"),
    ],
)
def test_errors_are_json_problems(url: str, params: dict, status: int, detail: str) -> None:
    response = api(url, **params)
    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status and problem["title"] == "Bad request"
    assert detail in problem["detail"]


def test_the_server_searches_the_checkpoint_it_serves(tmp_path: Path) -> None:
    data = ingest(tmp_path / "data", sorted((SAMPLE_DATA / "marc").glob("louis_armstrong.marc")))
    with running_server(settings_for(data)) as root:
        assert api(root, q="middlemarch").json()["hits"] == []
        # committed to the live store, not yet published: not found
        ingest(data, [SAMPLE_DATA / "marc" / "george_eliot.marc"], make_checkpoint=False)
        time.sleep(1.2)  # past the server's look for a new checkpoint
        assert api(root, q="middlemarch").json()["hits"] == []
        # published (a writer that finds unpublished writes publishes them): found
        with Writer(data, IriMinter("http://127.0.0.1:5000/").layout, "test") as writer:
            writer.write([])
        deadline = time.monotonic() + 10
        while not api(root, q="middlemarch").json()["hits"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert api(root, q="middlemarch").json()["hits"][0]["label"] == "Middlemarch"


def test_the_cli(data_dir: Path) -> None:
    table = catalograph(data_dir, "search", "pwned other tales")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["#", "kind", "year", "field", "label", "iri"]
    assert "pwned" in lines[2] and lines[-1].startswith("(")
    as_json = catalograph(data_dir, "search", "armstrong", "--kind", "agent", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    hits = json.loads(as_json.stdout)["hits"]
    assert hits and all(h["kind"] == "agent" for h in hits)
    bad = catalograph(data_dir, "search", "armstrong", "--limit", "0")
    assert bad.returncode == 2 and "limit" in bad.stderr
