"""Resource pages as readers meet them: facts first, words not IRIs, related works, the graph.

The real server over the shipped sample of ``data/`` ingested by ``catalograph
ingest`` (associations included; a copy of the session's, tests/conftest.py)
and the hostile record of ``web_fixtures`` added by its library function. Hand-picked records:
Princeton's seven *Ars minor* fragments (one Work by Donatus, sharing the
subject *Latin language--Grammar--Early works to 1500* with the *Doctrinale*),
and the DNB's records, whose subjects are GND authorities named by their own
IRIs (``https://d-nb.info/gnd/…``).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import pytest
import requests
from web_fixtures import HOSTILE_NAME, HOSTILE_TITLE, hostile_record, running_server, settings_for

from tests.conftest import IngestedStore, copy_data_dir
from web.ingest_command import run_ingest

BASE = "http://127.0.0.1:5000/"
ARS_MINOR = "/instance/ctrl-marc-4603408"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def url(ingested_sample: IngestedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample (a copy of the session's, tests/conftest.py) and the hostile record on top."""
    tmp = tmp_path_factory.mktemp("resource-pages")
    settings = settings_for(copy_data_dir(ingested_sample.path, tmp / "data"))
    report = run_ingest(settings, [hostile_record(tmp / "hostile.mrc")], workers=1)
    assert report.written == 1 and report.associations is not None
    with running_server(settings) as root:
        yield root


def page(url: str, path: str, language: str = "en") -> requests.Response:
    response = requests.get(url + path, headers={**HTML, "Accept-Language": language}, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response


def twin(url: str, path: str) -> dict:
    joiner = "&" if "?" in path else "?"
    return requests.get(f"{url}{path}{joiner}_format=json", timeout=30).json()["page"]


def select(url: str, query: str) -> list[dict[str, str]]:
    answer = requests.get(url + "/sparql", params={"query": query}, timeout=30).json()
    return [{k: v["value"] for k, v in row.items()} for row in answer["results"]["bindings"]]


def work_of(url: str, instance: str) -> str:
    (row,) = select(url, f"SELECT ?w WHERE {{ <{BASE}{instance[1:]}> bf:instanceOf ?w }}")
    return "/" + row["w"][len(BASE) :]


# ------------------------------------------------------------ the page


def test_important_facts_come_first(url: str) -> None:
    rows = [p["key"] for p in twin(url, ARS_MINOR)["properties"]]
    assert rows.index("bf:title") < rows.index("bf:instanceOf") < rows.index("bf:provisionActivity")
    assert rows.index("bf:provisionActivity") < rows.index("bf:identifiedBy")
    assert rows.index("bf:identifiedBy") < rows.index("bf:note")


def test_types_are_named_not_linked_off_the_site(url: str) -> None:
    body = page(url, ARS_MINOR).text
    types = re.search(r'<p class="types">(.*?)</p>', body, re.S)[1]
    assert "Instance" in types and "<a " not in types


def test_inverse_lists_are_said_in_words_with_their_counts(url: str) -> None:
    work = work_of(url, ARS_MINOR)
    groups = {g["key"]: g for g in twin(url, work)["references"]}
    editions = groups["^bf:instanceOf"]
    assert editions["label"] == "Editions of this work"
    (row,) = select(url, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?i bf:instanceOf <{BASE}{work[1:]}> }}")
    assert editions["count"] == int(row["n"]) == 7
    (subject,) = select(url, 'SELECT ?c WHERE { ?c rdfs:label "Latin language--Grammar--Early works to 1500" }')
    shown = twin(url, "/" + subject["c"][len(BASE) :])
    about = next(g for g in shown["references"] if g["key"] == "^bf:subject")
    assert about["label"] == "Works and instances about this" and about["count"] >= 2
    chinese = page(url, "/" + subject["c"][len(BASE) :], "zh-CN").text
    assert "以此为主题的作品和实例" in chinese


def test_a_works_instances_are_told_apart(url: str) -> None:
    work = work_of(url, ARS_MINOR)
    notes = [item["note"] for item in twin(url, work)["references"][0]["values"]]
    assert len(set(notes)) == 7 and any("Peter Schoeffer" in note for note in notes)


def test_the_related_panel_gives_works_and_their_reasons(url: str) -> None:
    related = twin(url, ARS_MINOR)["related"]
    assert related[0]["lead"].startswith("Another edition of the same work")
    doctrinale = next(r for r in related if r["label"].startswith("Doctrinale"))
    reasons = {(why["relation"], why["label"]) for why in doctrinale["reasons"]}
    assert ("subject", "Latin language--Grammar--Early works to 1500") in reasons
    body = page(url, ARS_MINOR).text
    assert '<section class="related"' in body and f'href="{doctrinale["href"]}"' in body
    chinese = page(url, ARS_MINOR, "zh-CN").text
    assert "同一作品的另一版本" in chinese and "<span class=\"role\">主题</span>" in chinese


def test_an_authoritys_own_iri_has_a_page_here_and_a_link_there(url: str) -> None:
    (row,) = select(url, """SELECT ?s WHERE { ?w bf:subject ?s .
        FILTER(STRSTARTS(STR(?s), "https://d-nb.info/gnd/")) ?s rdfs:label ?l } ORDER BY ?s LIMIT 1""")
    gnd = row["s"]
    shown = twin(url, "/about?iri=" + requests.utils.quote(gnd, safe=""))
    assert [a["authority_name"] for a in shown["authorities"]] == ["GND"]
    about = page(url, "/about?iri=" + requests.utils.quote(gnd, safe=""))
    body = about.text
    quoted = requests.utils.quote(gnd, safe="")
    assert f'</about?iri={quoted}&_format=json>; rel="alternate"; type="application/json"' in about.headers["Link"]
    assert f'</about?iri={quoted}&format=ttl>; rel="alternate"; type="text/turtle"' in about.headers["Link"]
    assert f'<a class="external" href="{gnd}" rel="nofollow noopener"' in body
    # a work's subject links to that page, with the authority beside it
    (work,) = select(url, f"SELECT ?w WHERE {{ ?w bf:subject <{gnd}> }} LIMIT 1")
    work_page = page(url, "/" + work["w"][len(BASE) :]).text
    assert f'href="/about?iri={requests.utils.quote(gnd, safe="")}"' in work_page
    assert f'<a class="external authority" href="{gnd}"' in work_page
    turtle = requests.get(url + "/about", params={"iri": gnd, "format": "ttl"}, timeout=30)
    assert turtle.headers["Content-Type"].startswith("text/turtle") and gnd in turtle.text


def test_about_refuses_what_it_does_not_know(url: str) -> None:
    assert requests.get(url + "/about", params={"iri": "https://example.org/x"}, headers=HTML).status_code == 404
    assert requests.get(url + "/about", params={"iri": "not an iri"}, headers=HTML).status_code == 400
    assert requests.get(url + "/about", params={"iri": BASE + "work/x", "x": "1"}).status_code == 400


def test_roles_are_named_from_the_relator_list(url: str) -> None:
    (row,) = select(url, """SELECT ?w WHERE { ?w bf:contribution ?c . ?c bf:role relators:edt ;
        bf:agent ?a . FILTER(!CONTAINS(STR(?w), "#")) } LIMIT 1""")
    body = page(url, "/" + row["w"][len(BASE) :]).text
    assert '<span class="role">Editor</span>' in body


# ------------------------------------------------------------ the graph view's data


def neighbourhood(url: str, iri: str, language: str = "en") -> requests.Response:
    return requests.get(url + "/api/neighbourhood", params={"iri": iri},
                        headers={"Accept-Language": language}, timeout=30)  # fmt: skip


def test_a_neighbourhood_names_every_node_and_edge(url: str) -> None:
    work = BASE + work_of(url, ARS_MINOR)[1:]
    view = neighbourhood(url, work).json()
    nodes = {n["id"]: n for n in view["nodes"]}
    assert view["center"] == work and work in nodes
    assert nodes[work]["label"] == "Ars minor [fragment]"
    for node in nodes.values():
        assert node["label"] and node["label"] != node["id"].rsplit("/", 1)[1]
        assert node["href"].startswith("/") and node["kind_name"]
    donatus = next(n for n in nodes.values() if n["label"] == "Donatus, Aelius")
    assert donatus["kind"] == "agent"
    labels = {(e["source"], e["target"]): e["label"] for e in view["edges"]}
    assert labels[(work, donatus["id"])] == "contribution"
    editions = [e for e in view["edges"] if e["target"] == work and e["label"] == "instance of"]
    assert len(editions) == 7
    (row,) = select(url, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{work}> bf:subject ?s }}")
    subjects = [e for e in view["edges"] if e["source"] == work and e["label"] == "subject"]
    assert len(subjects) == int(row["n"])
    relations = {r["label"]: r["count"] for r in view["relations"]}
    assert relations["instance of"] == 7


def test_a_neighbourhood_speaks_the_readers_language(url: str) -> None:
    work = BASE + work_of(url, ARS_MINOR)[1:]
    view = neighbourhood(url, work, "zh-CN").json()
    assert {e["label"] for e in view["edges"]} >= {"所属作品", "主题"}
    assert {n["kind_name"] for n in view["nodes"]} >= {"作品", "实例", "责任者", "概念"}


def test_a_neighbourhood_of_a_heavily_used_subject_is_cut_and_says_so(url: str) -> None:
    (row,) = select(url, """SELECT ?s (COUNT(?w) AS ?n) WHERE { ?w bf:subject ?s }
                            GROUP BY ?s ORDER BY DESC(?n) LIMIT 1""")
    view = neighbourhood(url, row["s"]).json()
    assert len(view["edges"]) <= 2 * 60
    assert view["cut"] == (int(row["n"]) > 60)


def test_neighbourhood_errors_are_problems(url: str) -> None:
    missing = neighbourhood(url, "https://example.org/nothing")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    assert neighbourhood(url, "javascript:alert(1)").status_code == 400


def test_the_page_carries_the_view_its_list_and_a_policy_without_inline_script(url: str) -> None:
    work = work_of(url, ARS_MINOR)
    response = page(url, work)
    body = response.text
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "script-src" not in policy  # default-src 'self'
    assert "connect-src 'self'" in policy and "'sha256-" in policy
    data = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', body, re.S)
    view = json.loads(data[1])
    assert view == neighbourhood(url, BASE + work[1:]).json()
    assert '<script src="/static/graph-view.js" defer></script>' in body
    assert "<script>" not in body  # no inline script at all
    text_list = body.split('<details class="graph-list" open>', 1)[1].split("</details>", 1)[0]
    assert "Donatus, Aelius" in text_list and text_list.count("Ars minor [fragment]") == 7


def test_a_hostile_title_stays_text_in_the_page_the_view_and_browse(url: str) -> None:
    (row,) = select(url, f"SELECT ?w WHERE {{ ?w a bf:Work ; rdfs:label {json.dumps(HOSTILE_TITLE)} }}")
    work = "/" + row["w"][len(BASE) :]
    body = page(url, work).text
    assert "<script>alert" not in body and "<b>Bold</b>" not in body
    data = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', body, re.S)
    view = json.loads(data[1])
    assert {n["label"] for n in view["nodes"]} >= {HOSTILE_TITLE, HOSTILE_NAME}
    for kind, label in (("work", HOSTILE_TITLE), ("agent", HOSTILE_NAME)):
        body = _browse_page_with(url, kind, label)
        assert html.escape(label, quote=False) in body.replace("&#39;", "'")
        assert "<script>alert" not in body and "<b>Bold</b>" not in body


def _browse_page_with(url: str, kind: str, label: str) -> str:
    """The HTML of the browse page of ``kind`` that lists ``label``."""
    start = 0
    while True:
        page = twin(url, f"/browse/{kind}?start={start}")
        if any(item["text"] == label for item in page["items"]):
            return requests.get(url + f"/browse/{kind}", params={"start": str(start)},
                                headers=HTML, timeout=30).text  # fmt: skip
        assert page["next_href"], f"{label!r} is not listed"
        start += len(page["items"])
