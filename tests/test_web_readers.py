"""Readers during ingest: the real ``catalograph ingest`` against a running server's data.

A client keeps querying the server while the CLI, in its own process, ingests
76 more records in batches of 10 into the same data directory. Every query must
be answered, the count of record graphs must only ever be the count before or
the count after (never lower, never part of the batches), and the new records
must be visible within about two seconds of the ingest's end.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests
from conftest import test_path
from test_cli_ingest import catalograph
from web_fixtures import build_data_dir, running_server, settings_for

GRAPHS = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
#: specTestRecs.mrc, third record (001 u8), 245 $a "Studies in Tamilology /".
NEW_TITLE = 'ASK { ?x rdfs:label ?l FILTER(CONTAINS(?l, "Studies in Tamilology")) }'


def ask(url: str, query: str) -> requests.Response:
    return requests.get(
        url + "/sparql", params={"query": query}, headers={"Accept": "application/json"}, timeout=30
    )


def graphs(response: requests.Response) -> int:
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_readers_are_answered_during_an_ingest_and_see_it_once_committed(tmp_path: Path) -> None:
    data_dir = build_data_dir(tmp_path)
    records = test_path("marc/solrmarc/specTestRecs.mrc")
    with running_server(settings_for(data_dir, query_workers=2)) as url:
        before = graphs(ask(url, GRAPHS))
        assert ask(url, NEW_TITLE).json()["boolean"] is False
        seen: list[tuple[float, int, int]] = []  # (time, status, graphs)
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                response = ask(url, GRAPHS)
                count = graphs(response) if response.status_code == 200 else -1
                seen.append((time.monotonic(), response.status_code, count))
                time.sleep(0.02)

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            ingest = catalograph(
                data_dir, "ingest", "--quiet", "--batch-size", "10", "--workers", "1", str(records)
            )
            committed = time.monotonic()
            assert ingest.returncode in (0, 1), ingest.stderr  # 1: some records rejected
            while time.monotonic() - committed < 5 and (not seen or seen[-1][2] == before):
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join()
        during = [entry for entry in seen if entry[0] <= committed]
        assert len(during) >= 10, "the reader should have queried throughout the ingest"
        assert {status for _, status, _ in seen} == {200}
        after = seen[-1][2]
        assert after > before
        assert {count for _, _, count in seen} == {before, after}  # no half batch, ever
        counts = [count for _, _, count in seen]
        assert counts == sorted(counts)  # never goes back
        first_after = next(when for when, _, count in seen if count == after)
        assert first_after - committed < 2.0
        assert ask(url, NEW_TITLE).json()["boolean"] is True
