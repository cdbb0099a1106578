"""Resource pages, home and system pages through a real waitress server over a real store.

Expected values were read in the records (pymarc): george_eliot.marc (001
2329645, 010 2002036483, 100 "Paris, Bernard J.", 245 "Rereading George Eliot
: changing responses to her experiments in life", 650 "Psychology in
literature", 008/35-37 "eng"); hebrew880s.marc (100 "Ratsabi, Shalom." and its
880 "רצבי, שלום."); iso639-3_lang.marc (700 "Kvaran, Gunnar B., $e editor.").
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pyoxigraph import RdfFormat, parse
from web_fixtures import (
    BASE,
    HOSTILE_GRAPH_PATH,
    HOSTILE_NAME,
    HOSTILE_TITLE,
    build_data_dir,
    running_server,
    settings_for,
)

from ontology.errors import ConfigurationError
from web.server import create_server

INSTANCE_PATH = "/instance/lccn-2002036483"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-resources"))
    with running_server(settings_for(data_dir)) as root:
        yield root


def select(url: str, query: str) -> list[dict[str, str]]:
    response = requests.get(url + "/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return [
        {k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]
    ]


def local(iri: str) -> str:
    assert iri.startswith(BASE)
    return "/" + iri[len(BASE) :]


def page(url: str, path: str, **headers: str) -> requests.Response:
    response = requests.get(url + path, headers={**HTML, **headers})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    return response


def text(response: requests.Response) -> str:
    """The page's visible text, tags removed, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


@pytest.fixture(scope="module")
def work_path(url: str) -> str:
    (row,) = select(url, f"SELECT ?w WHERE {{ <{BASE}instance/lccn-2002036483> bf:instanceOf ?w }}")
    return local(row["w"])


def test_instance_page(url: str, work_path: str) -> None:
    response = page(url, INSTANCE_PATH)
    body = response.text
    assert "<h1>Rereading George Eliot : changing responses to her experiments in life</h1>" in body
    shown = text(response)
    # Properties by label, values by label, subsidiary nodes inline.
    assert "instance of Rereading George Eliot" in shown
    assert f'<a href="{work_path}">Rereading George Eliot</a>' in body
    assert "main title Rereading George Eliot" in shown
    assert "subtitle changing responses to her experiments in life" in shown
    assert "0791458334" in shown and "ISBN" in shown
    # Provenance: the record graph, its file and record number.
    assert '<a href="/graph/marc/2329645">' in body
    assert "george_eliot.marc" in shown


def test_work_page_shows_contributions_subjects_and_instances(url: str, work_path: str) -> None:
    response = page(url, work_path)
    body, shown = response.text, text(response)
    assert "<h1>Rereading George Eliot</h1>" in body
    assert re.search(r'<a href="/agent/\w+">Paris, Bernard J\.</a>', body)
    assert "subject" in shown and "Psychology in literature" in shown
    assert "language English" in shown  # lang:eng, named from the MARC code list
    assert "Referenced by" in shown and "Editions of this work" in shown
    assert f'<a href="{INSTANCE_PATH}">' in body


def test_contribution_with_a_role_reads_role_then_agent(url: str) -> None:
    # The editor of one edition is a contributor to its Instance, not to the Work.
    (row,) = select(url, 'SELECT ?i WHERE { ?i bf:instanceOf ?w . ?w rdfs:label "Alpha Crucis" }')
    body = page(url, local(row["i"])).text
    assert re.search(
        r'<span class="role">Editor</span>: <a href="/agent/\w+">Kvaran, Gunnar B\.</a>', body
    )


def test_agent_page_lists_its_works(url: str) -> None:
    (row,) = select(url, 'SELECT ?a WHERE { ?a a bf:Person ; rdfs:label "Paris, Bernard J." }')
    shown = text(page(url, local(row["a"])))
    assert "Paris, Bernard J." in shown
    assert "Referenced by (1) Works and instances it contributed to (1) Rereading George Eliot" in shown


def test_parallel_scripts_and_accept_language(url: str) -> None:
    (row,) = select(url, 'SELECT ?a WHERE { ?a a bf:Agent ; rdfs:label "Ratsabi, Shalom" }')
    path = local(row["a"])
    default = page(url, path).text
    assert "<h1>Ratsabi, Shalom</h1>" in default
    assert '<li lang="he-hebr">רצבי, שלום' in default
    hebrew = page(url, path, **{"Accept-Language": "he-IL,he;q=0.9,en;q=0.5"}).text
    assert '<h1 lang="he-hebr">רצבי, שלום</h1>' in hebrew
    assert "<li>Ratsabi, Shalom" in hebrew


def test_record_text_is_escaped(url: str) -> None:
    (row,) = select(
        url, f"SELECT ?i WHERE {{ ?i a bf:Instance ; rdfs:label {_literal(HOSTILE_TITLE)} }}"
    )
    response = page(url, local(row["i"]))
    body = response.text
    assert "<script>" not in body and "<b>Bold</b>" not in body
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; &amp; other tales" in body
    assert HOSTILE_TITLE in text(response)
    (work,) = select(url, f"SELECT ?w WHERE {{ <{row['i']}> bf:instanceOf ?w }}")
    work_page = page(url, local(work["w"]))
    assert "<b>" not in work_page.text and "&lt;b&gt;Bold&lt;/b&gt;" in work_page.text
    assert HOSTILE_NAME in text(work_page)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def _literal(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_percent_encoded_graph_id(url: str) -> None:
    """001 "xss/1 é" -> graph/marc/xss%2F1%20%C3%A9: the %2F stays inside the id."""
    shown = text(page(url, "/" + HOSTILE_GRAPH_PATH))
    assert HOSTILE_TITLE in shown and "hostile.mrc" in shown


def test_turtle_by_accept_and_by_suffix(url: str) -> None:
    by_accept = requests.get(url + INSTANCE_PATH, headers={"Accept": "text/turtle"})
    by_suffix = requests.get(url + INSTANCE_PATH + ".ttl")
    for response in (by_accept, by_suffix):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
        triples = list(parse(response.content, format=RdfFormat.TURTLE))
        subjects = {t.subject.value for t in triples}
        assert BASE + INSTANCE_PATH[1:] in subjects
        assert BASE + "graph/marc/2329645#title-1" in subjects  # the subsidiary title node
    assert by_accept.content == by_suffix.content
    assert "Accept" in by_accept.headers["Vary"]


@pytest.mark.parametrize(
    ("suffix", "fmt", "content_type"),
    [
        (".nt", RdfFormat.N_TRIPLES, "application/n-triples"),
        (".jsonld", RdfFormat.JSON_LD, "application/ld+json"),
        (".rdf", RdfFormat.RDF_XML, "application/rdf+xml"),
    ],
)
def test_other_twins(url: str, suffix: str, fmt: RdfFormat, content_type: str) -> None:
    response = requests.get(url + INSTANCE_PATH + suffix)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{content_type}; charset=utf-8"
    assert len(list(parse(response.content, format=fmt))) > 20


def test_link_header_names_the_twins(url: str) -> None:
    link = requests.get(url + INSTANCE_PATH, headers=HTML).headers["Link"]
    assert f'<{INSTANCE_PATH}.ttl>; rel="alternate"; type="text/turtle"' in link
    assert f'<{INSTANCE_PATH}.jsonld>; rel="alternate"; type="application/ld+json"' in link


def test_the_host_header_does_not_change_the_resource(url: str) -> None:
    """Any trusted name of the server finds the same resource (test_web_hosts.py: which)."""
    port = url.rsplit(":", 1)[1]
    response = requests.get(url + INSTANCE_PATH, headers={**HTML, "Host": f"localhost:{port}"})
    assert response.status_code == 200 and "Rereading George Eliot" in response.text


def test_record_graph_page_and_twin(url: str) -> None:
    shown = text(page(url, "/graph/marc/2329645"))
    # the record's instance and its work (the work's creators are in the work's own graph)
    assert "Described in this record" in shown and "Rereading George Eliot" in shown
    assert "george_eliot.marc" in shown
    triples = list(
        parse(requests.get(url + "/graph/marc/2329645.nt").content, format=RdfFormat.N_TRIPLES)
    )
    # the statements of the record graph (counted in the store) + its provenance.
    in_graph = select(
        url, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BASE}graph/marc/2329645> {{ ?s ?p ?o }} }}"
    )
    about = select(url, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{BASE}graph/marc/2329645> ?p ?o }}")
    assert len(triples) == int(in_graph[0]["n"]) + int(about[0]["n"])


@pytest.mark.parametrize(
    "path", ["/work/no-such-work", "/work/no-such-work.ttl", "/shelf/1", "/graph/marc/0"]
)
def test_unknown_resources_are_404(url: str, path: str) -> None:
    assert requests.get(url + path, headers={"Accept": "text/turtle"}).status_code == 404
    browser = requests.get(url + path, headers=HTML)
    assert browser.status_code == 404
    assert browser.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "404" in browser.text


def test_406_for_a_resource(url: str) -> None:
    assert requests.get(url + INSTANCE_PATH, headers={"Accept": "image/png"}).status_code == 406


def test_home_counts_match_sparql(url: str) -> None:
    body = page(url, "/").text
    (row,) = select(url, "SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a bf:Instance }")
    assert row["n"] == "10"
    assert '<td data-group="instances"><a href="/browse/instance">10</a></td>' in body
    assert 'href="/sparql"' in body


def test_stylesheet_is_served_locally(url: str) -> None:
    response = requests.get(url + "/static/catalograph.css")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/css")
    assert "http" not in response.text  # nothing fetched from elsewhere


def test_health_and_version(url: str) -> None:
    health = requests.get(url + "/-/health")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "store": {"open": True, "opened_as": "checkpoint 0000000001"},
    }
    version = requests.get(url + "/-/version").json()
    assert version["catalograph"] == "0.1.0" and version["pyoxigraph"] == "0.5.13"


def test_health_without_a_store(tmp_path: Path) -> None:
    with running_server(settings_for(tmp_path / "empty")) as root:
        response = requests.get(root + "/-/health")
        assert response.status_code == 503
        assert "no store" in response.json()["store"]["error"]
        assert requests.get(root + INSTANCE_PATH).status_code == 503


def test_port_in_use_is_one_clear_line(url: str, tmp_path: Path) -> None:
    port = int(url.rsplit(":", 1)[1])
    settings = settings_for(tmp_path).__class__(data_dir=tmp_path, port=port)
    with pytest.raises(ConfigurationError) as caught:
        create_server(settings)
    assert (
        caught.value.message
        == f"127.0.0.1:{port} is already in use; stop the other server or choose another port"
    )
