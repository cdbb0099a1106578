"""One way to count: ``catalograph stats``, the home page, ``/-/stats`` and VoID agree.

The sample of ``data/`` is ingested by the real CLI into a temporary data
directory and served by the real server. Every figure is checked against an
independent count: SPARQL ``COUNT(DISTINCT ...)`` at ``/sparql``, over the
subclass closure rdflib computes from ``catalograph.ttl``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import rdflib
import requests
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse
from web_fixtures import BASE, running_server, settings_for

from graph.stats import group_name
from ontology.hierarchy import class_hierarchy
from ontology.namespaces import BF, CG, RDF, VOID
from ontology.vocabulary import ontology_path
from web import state
from web.app import create_app
from web.figures import FiguresCache

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "stats-test-token-0123456789"
DATASET = NamedNode(BASE + ".well-known/void#dataset")
#: The kinds of knowledge unit, by the name every page counts them under.
UNITS = {group_name(unit): unit for unit in class_hierarchy().units}


def catalograph(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGRAPH_")}
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole sample of ``data/``, ingested by the real CLI."""
    data_dir = tmp_path_factory.mktemp("stats") / "data"
    ingest = catalograph(data_dir, "ingest", "--quiet", "data")
    assert ingest.returncode in (0, 1), ingest.stderr[-3000:]  # 1: some records rejected
    return data_dir


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir, update_tokens=(TOKEN,))) as root:
        yield root


# ------------------------------------------------------------------ the four readings


def cli_figures(data_dir: Path) -> dict:
    done = catalograph(data_dir, "stats", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def home_groups(url: str) -> dict[str, int]:
    response = requests.get(url + "/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    found = re.findall(r'<td data-group="(\w+)">(?:<a [^>]*>)?([\d,]+)(?:</a>)?</td>', response.text)
    return {name: int(figure.replace(",", "")) for name, figure in found}


def twin_figures(url: str) -> dict:
    response = requests.get(url + "/-/stats")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    return response.json()


def void_store(url: str) -> Store:
    response = requests.get(url + "/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    store = Store()
    store.extend(parse(response.content, RdfFormat.TURTLE))
    return store


def number(void: Store, subject: NamedNode, predicate: NamedNode) -> int:
    (found,) = [q.object for q in void.quads_for_pattern(subject, predicate, None, None)]
    assert isinstance(found, Literal)
    return int(found.value)


def void_partitions(void: Store) -> dict[str, int]:
    """Class IRI -> ``void:entities`` of its ``void:classPartition``."""
    partitions = {}
    for quad in void.quads_for_pattern(DATASET, VOID.classPartition, None, None):
        (cls,) = [q.object for q in void.quads_for_pattern(quad.object, VOID["class"], None, None)]
        partitions[cls.value] = number(void, quad.object, VOID.entities)
    return partitions


# ------------------------------------------------------------------ the independent counts


@cache
def closure(cls: str) -> frozenset[str]:
    """``cls`` and every subclass of it, as rdflib reads ``catalograph.ttl``."""
    ontology = rdflib.Graph().parse(ontology_path(), format="turtle")
    subclass = rdflib.RDFS.subClassOf
    return frozenset({cls} | {str(c) for c in ontology.transitive_subjects(subclass, rdflib.URIRef(cls))})


def sparql_count(url: str, query: str) -> int:
    response = requests.post(
        url + "/sparql", data={"query": query}, headers={"Accept": "text/csv"}, timeout=60
    )
    assert response.status_code == 200, response.text
    return int(response.text.splitlines()[1])


def resources_of(url: str, cls: str) -> int:
    """Distinct resources typed ``cls`` or a subclass, by SPARQL over the union."""
    values = " ".join(f"<{c}>" for c in sorted(closure(cls)))
    return sparql_count(url, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?c {{ {values} }} ?s a ?c }}")


# ------------------------------------------------------------------ tests


def test_every_reading_gives_the_same_figures(data_dir: Path, url: str) -> None:
    cli, twin, home = cli_figures(data_dir), twin_figures(url), home_groups(url)
    void = void_store(url)
    partitions = void_partitions(void)
    assert cli == twin  # the whole summary, classes included
    assert list(home) == list(UNITS) == [name for name in cli if name in UNITS]
    for name, unit in UNITS.items():
        independent = resources_of(url, unit.value)
        assert cli[name] == home[name] == partitions.get(unit.value, 0) == independent, name
    assert cli["works"] > 0 and cli["instances"] > 0 and cli["agents"] > 0
    assert number(void, DATASET, VOID.entities) == cli["entities"] == sparql_count(
        url, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c }"
    )
    assert number(void, DATASET, VOID.triples) == cli["quads"] == sparql_count(
        url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    )
    assert number(void, DATASET, VOID.documents) == cli["named_graphs"]
    record_graphs = NamedNode(BASE + ".well-known/void#record-graphs")
    assert number(void, record_graphs, VOID.documents) == cli["record_graphs"]
    assert cli["record_graphs"] == partitions[CG.RecordGraph.value] > 700


def test_every_class_partition_matches_an_independent_count(data_dir: Path, url: str) -> None:
    partitions = void_partitions(void_store(url))
    stated = {
        row.split(",")[0]
        for row in requests.post(
            url + "/sparql",
            data={"query": "SELECT DISTINCT ?c WHERE { ?s a ?c }"},
            headers={"Accept": "text/csv"},
        ).text.splitlines()[1:]
    }
    assert set(partitions) == stated | {u.value for u in UNITS.values() if resources_of(url, u.value)}
    assert number(void_store(url), DATASET, VOID.classes) == len(partitions)
    by_name = cli_figures(data_dir)["classes"]
    assert len(by_name) == len(partitions)
    for cls, figure in partitions.items():
        assert figure == resources_of(url, cls), cls


def test_manuscripts_count_as_works_not_instances(data_dir: Path, url: str) -> None:
    """BIBFRAME 2.2 made bf:Manuscript a kind of Work; the sample has manuscripts."""
    assert BF.Manuscript.value in closure(BF.Work.value)
    assert BF.Manuscript.value not in closure(BF.Instance.value)
    manuscripts = sparql_count(url, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a bf:Manuscript }")
    not_instances = sparql_count(
        url,
        "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a bf:Manuscript "
        "FILTER NOT EXISTS { ?s a bf:Instance } }",
    )
    assert manuscripts == not_instances > 0  # counting them as instances would show
    figures = cli_figures(data_dir)
    assert figures["instances"] == resources_of(url, BF.Instance.value)
    assert figures["classes"]["bf:Manuscript"] == manuscripts


def test_a_resource_typed_only_as_a_subclass_counts_in_its_group_everywhere(
    data_dir: Path, url: str
) -> None:
    """Written through SPARQL Update; every reading follows the new checkpoint. Runs last."""
    before = cli_figures(data_dir)
    work = f"{BASE}work/letters-only-a-manuscript"
    update = f"INSERT DATA {{ GRAPH <{work}> {{ <{work}> a bf:Manuscript }} }}"  # its own graph
    response = requests.post(
        url + "/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 204, response.text
    deadline = time.monotonic() + 10
    while home_groups(url)["works"] == before["works"] and time.monotonic() < deadline:
        time.sleep(0.2)
    after = cli_figures(data_dir)
    assert after["works"] == before["works"] + 1
    assert after["instances"] == before["instances"]
    assert home_groups(url)["works"] == twin_figures(url)["works"] == after["works"]
    assert void_partitions(void_store(url))[BF.Work.value] == after["works"]
    assert after["works"] == resources_of(url, BF.Work.value)


def test_a_given_store_is_counted_again_after_the_ttl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store handed to create_app may change under it: its figures live COUNTS_TTL_S only."""
    store = Store(str(tmp_path / "store"))
    app = create_app(settings_for(tmp_path / "unused"), store=store)
    client = app.test_client()
    assert client.get("/-/stats").get_json()["works"] == 0
    store.add(Quad(NamedNode(BASE + "work/1"), RDF.type, BF.Text, NamedNode(BASE + "graph/x/1")))
    assert client.get("/-/stats").get_json()["works"] == 0  # within the TTL: the cached figures
    monkeypatch.setattr(state, "COUNTS_TTL_S", 0.0)
    deadline = time.monotonic() + 10  # counted again in the background; the old figures meanwhile
    while client.get("/-/stats").get_json()["works"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    monkeypatch.setattr(state, "COUNTS_TTL_S", 60.0)
    assert client.get("/-/stats").get_json()["works"] == 1
    assert '<td data-group="works"><a href="/browse/work">1</a></td>' in client.get("/").get_data(as_text=True)


def test_a_new_store_is_counted_off_the_request_path(tmp_path: Path) -> None:
    """The first count is waited for; after it, the figures shown are the newest counted."""
    older, newer = Store(str(tmp_path / "older")), Store(str(tmp_path / "newer"))
    newer.add(Quad(NamedNode(BASE + "work/1"), RDF.type, BF.Work, NamedNode(BASE + "graph/x/1")))
    cache = FiguresCache()
    assert cache.get(older).groups["works"] == 0
    assert cache.get(newer).groups["works"] == 0  # at once: the older figures, while counting
    deadline = time.monotonic() + 10
    while cache.get(newer).groups["works"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get(newer).groups["works"] == 1
    assert cache.get(newer) is cache.get(newer)  # counted once
