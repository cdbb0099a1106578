"""A clustered Work's page, as a reader sees it, on real records (data/marcxml/princeton.xml).

Princeton's seven fragments of Donatus's *Ars minor* (records 4612***, each
245 "Ars minor [fragment]", 100 "Donatus, Aelius") form one Work. Its page
names Donatus once, and lists its seven instances each told apart by the
date, printer and language their records give (three fragments of one
printing, alike in all that, by the end of their IRI).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from web_fixtures import running_server, settings_for

from web.ingest_command import run_ingest

ROOT = Path(__file__).resolve().parent.parent
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("work-pages") / "data"
    settings = settings_for(data_dir)
    report = run_ingest(settings, [ROOT / "data" / "marcxml" / "princeton.xml"], workers=1)
    assert report.rejected == 0 and report.written > 90
    with running_server(settings) as root:
        yield root


def donatus_work(url: str) -> str:
    query = """SELECT DISTINCT ?w WHERE { ?w a bf:Work ; rdfs:label "Ars minor [fragment]" }"""
    rows = requests.get(url + "/sparql", params={"query": query}).json()["results"]["bindings"]
    (row,) = rows  # one Work for the seven fragments
    return row["w"]["value"]


def text_of(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def test_the_work_names_its_creator_once_and_tells_its_instances_apart(url: str) -> None:
    work = donatus_work(url)
    response = requests.get(url + "/" + work.split("/", 3)[3], headers=HTML)
    assert response.status_code == 200
    # the description names him once (the related panel and the graph view name him again)
    description = response.text.split('<section class="properties">', 1)[1].split("</section>", 1)[0]
    assert text_of(description).count("Donatus, Aelius") == 1
    items = re.findall(r"<li>(.*?)</li>", response.text.split("Editions of this work", 1)[1], re.S)
    lines = [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", item))).strip() for item in items]
    lines = [line for line in lines if line.startswith("Ars minor")]
    assert len(lines) == 7
    assert len(set(lines)) == 7  # never two identical lines
    assert any("Peter Schoeffer" in line and "Latin" in line for line in lines)
    assert any("ca. 1453-1454" in line and "42-line Bible" in line for line in lines)
