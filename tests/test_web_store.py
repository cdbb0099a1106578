"""How the running server reads the store: checkpoints it follows, the live store as a fallback."""

from __future__ import annotations

import time
from pathlib import Path

import requests
from web_fixtures import BASE, TRAJECT, ingest, running_server, settings_for

ELIOT = TRAJECT / "george_eliot.marc"
HEBREW = TRAJECT / "hebrew880s.marc"
#: hebrew880s.marc: 001 4083985, no 003.
HEBREW_GRAPH = BASE + "graph/marc/4083985"


def ask(url: str, query: str) -> bool:
    response = requests.get(url + "/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def test_server_follows_the_checkpoints_ingests_publish(tmp_path: Path) -> None:
    data_dir = ingest(tmp_path / "data", [ELIOT])
    query = f"ASK {{ GRAPH <{HEBREW_GRAPH}> {{ ?instance bf:title ?title }} }}"
    with running_server(settings_for(data_dir)) as url:
        assert requests.get(url + "/-/health").json()["store"]["opened_as"] == (
            "checkpoint 0000000001"
        )
        assert ask(url, query) is False
        ingest(data_dir, [HEBREW])  # a second ingest while the server runs
        deadline = time.monotonic() + 10
        while not ask(url, query):
            assert time.monotonic() < deadline, "the server never saw the new checkpoint"
            time.sleep(0.2)
        assert requests.get(url + "/-/health").json()["store"]["opened_as"] == (
            "checkpoint 0000000002"
        )
        assert requests.get(url + "/instance/lccn-2002036483.nt").status_code == 200


def test_no_checkpoint_yet_the_server_publishes_one_and_never_locks_ingests_out(
    tmp_path: Path,
) -> None:
    data_dir = ingest(tmp_path / "data", [ELIOT], make_checkpoint=False)
    assert not (data_dir / "snapshots").exists() or not any((data_dir / "snapshots").iterdir())
    with running_server(settings_for(data_dir)) as url:
        health = requests.get(url + "/-/health").json()
        assert health["store"]["opened_as"].startswith("checkpoint")
        assert ask(url, f"ASK {{ <{BASE}instance/lccn-2002036483> a bf:Instance }}")
        ingest(data_dir, [HEBREW])  # the server holds no lock: the writer goes ahead
