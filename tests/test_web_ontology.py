"""``/ontology`` on a real server: the reference in the reader's language, RDF for clients.

The page lists every class (in a hierarchy and one by one), every property
with its domain and range, each term at its anchor, in English or Chinese as
the interface is; the same address answers Turtle, JSON-LD and RDF/XML to
clients, the same statements as ``catalograph.ttl``; every page links to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
import rdflib
import requests
from rdflib.compare import isomorphic
from web_fixtures import build_data_dir, running_server, settings_for

from ontology.reference import ontology_reference
from ontology.vocabulary import ontology_path

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-ontology"))
    with running_server(settings_for(data_dir)) as root:
        yield root


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(found["id"])
        if tag == "a" and found.get("href"):
            self.hrefs.append(found["href"])


def _parsed(text: str) -> _Ids:
    parser = _Ids()
    parser.feed(text)
    return parser


def test_every_term_has_its_anchor_and_every_inner_link_lands(url: str) -> None:
    page = requests.get(url + "/ontology", headers=HTML, timeout=60)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    parsed = _parsed(page.text)
    model = ontology_reference()
    anchors = {term.anchor for term in model.terms.values()}
    assert anchors <= set(parsed.ids)
    assert len(parsed.ids) == len(set(parsed.ids))  # no anchor twice
    inner = {href[1:] for href in parsed.hrefs if href.startswith("#")}
    assert inner and inner <= set(parsed.ids)
    # cg: terms are anchored by their local name, so their IRIs' fragments land on them
    assert "KnowledgeUnit" in parsed.ids and "WorkLink" in parsed.ids


def test_the_page_shows_hierarchy_domain_range_and_definitions_in_english(url: str) -> None:
    text = requests.get(url + "/ontology", headers={**HTML, "Accept-Language": "en"}, timeout=60).text
    assert '<html lang="en">' in text
    work = text[text.index('id="bf-Work"') :]
    work = work[: work.index("</section>")]
    assert "The conceptual essence of what is catalogued" in work
    assert 'href="#KnowledgeUnit"' in work and 'href="#bf-Manuscript"' in work
    linked = text[text.index('id="linkedWork"') :]
    linked = linked[: linked.index("</section>")]
    assert "Domain" in linked and 'href="#WorkLink"' in linked
    assert "Range" in linked and 'href="#bf-Work"' in linked
    hierarchy = text[text.index('id="hierarchy"') : text.index('id="classes"')]
    # bf:Person under bf:Agent under cg:KnowledgeUnit, as nested lists
    assert re.search(r'href="#KnowledgeUnit".*?<ul>.*?href="#bf-Agent".*?<ul>.*?href="#bf-Person"', hierarchy, re.S)


def test_the_page_is_in_chinese_for_a_chinese_reader(url: str) -> None:
    text = requests.get(url + "/ontology", headers={**HTML, "Accept-Language": "zh-CN"}, timeout=60).text
    assert '<html lang="zh-Hans">' in text
    assert "<h1>图书馆本体</h1>" in text and "类层级" in text
    work = text[text.index('id="bf-Work"') :]
    work = work[: work.index("</section>")]
    assert '<span lang="zh">作品</span>' in work
    assert '<p lang="zh">被编目资源的概念本质' in work
    assert "上位类" in work and "下位类" in work


@pytest.mark.parametrize(
    ("accept", "query", "media", "rdflib_format"),
    [
        (None, "", "text/turtle", "turtle"),
        ("text/turtle", "", "text/turtle", "turtle"),
        ("application/ld+json", "", "application/ld+json", "json-ld"),
        ("application/rdf+xml", "", "application/rdf+xml", "xml"),
        ("text/html", "?format=owl", "application/rdf+xml", "xml"),
        ("text/html", "?format=jsonld", "application/ld+json", "json-ld"),
    ],
)
def test_clients_get_the_ontology_as_rdf(
    url: str, accept: str | None, query: str, media: str, rdflib_format: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    answer = requests.get(url + "/ontology" + query, headers=headers, timeout=60)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].split(";")[0] == media
    assert "Accept" in answer.headers["Vary"]
    served = rdflib.Graph().parse(data=answer.content, format=rdflib_format)
    assert isomorphic(served, rdflib.Graph().parse(ontology_path(), format="turtle"))


def test_the_json_twin_holds_what_the_page_shows(url: str) -> None:
    twin = requests.get(url + "/ontology?_format=json", timeout=60).json()
    model = ontology_reference()
    assert [c["iri"] for c in twin["classes"]] == list(model.classes)
    work = next(c for c in twin["classes"] if c["curie"] == "bf:Work")
    assert work["labels"]["zh"] == "作品"
    assert "https://w3id.org/catalograph/ontology#KnowledgeUnit" in work["parents"]


def test_an_unknown_format_is_refused(url: str) -> None:
    assert requests.get(url + "/ontology?format=docx", timeout=60).status_code == 400
    assert requests.get(url + "/ontology", headers={"Accept": "image/png"}, timeout=60).status_code == 406


def test_every_page_links_to_the_ontology(url: str) -> None:
    home = requests.get(url + "/", headers=HTML, timeout=60).text
    assert '<a href="/ontology">ontology</a>' in home
    zh = requests.get(url + "/", headers={**HTML, "Accept-Language": "zh"}, timeout=60).text
    assert '<a href="/ontology">本体</a>' in zh
