"""Linked-data manners through the real server: Link headers, JSON twins, HTML views of VoID
and the service description, the JSON-LD context, vocabulary terms by their labels.

The store is the traject records of web_fixtures (george_eliot.marc: 008/35-37
"eng", leader/07 "m", so its Instance has language English and mode of issuance
"single unit") and data/marcxml/oclc.xml (100 "Agee, James, $4 aut").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pymarc
import pytest
import requests
from pyoxigraph import Literal, NamedNode, RdfFormat, parse
from web_fixtures import BASE, ROOT, ingest, record_files, running_server, settings_for

from ontology.vocabulary import json_ld_context

INSTANCE_PATH = "/instance/lccn-2002036483"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
VOID = "http://rdfs.org/ns/void#"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("web-linked-data")
    oclc = tmp / "oclc.mrc"  # the same records as binary MARC, which the fixtures' ingest reads
    records = pymarc.parse_xml_to_array(str(ROOT / "data" / "marcxml" / "oclc.xml"))
    oclc.write_bytes(b"".join(record.as_marc() for record in records))
    data_dir = ingest(tmp / "data", [*record_files(tmp), oclc])
    with running_server(settings_for(data_dir)) as root:
        yield root


def get(url: str, path: str, **headers: str) -> requests.Response:
    response = requests.get(url + path, headers=headers)
    assert response.status_code == 200, response.text[:500]
    return response


def links(response: requests.Response) -> dict[str, str]:
    """The ``Link`` header's alternates by media type."""
    found = {}
    for part in response.headers["Link"].split(", <"):
        target = part.lstrip("<").split(">", 1)[0]
        kind = re.search(r'type="([^"]+)"', part)
        if 'rel="alternate"' in part and kind:
            found[kind.group(1)] = target
    return found


def select(url: str, query: str) -> list[dict[str, str]]:
    response = get(url, "/sparql?" + requests.compat.urlencode({"query": query}))
    return [{k: v["value"] for k, v in r.items()} for r in response.json()["results"]["bindings"]]


# ---------------------------------------------------------------- Link headers and twins


def test_page_and_twins_link_to_each_other(url: str) -> None:
    page = get(url, INSTANCE_PATH, **BROWSER)
    alternates = links(page)
    assert alternates["text/turtle"] == f"{INSTANCE_PATH}.ttl"
    assert alternates["application/n-triples"] == f"{INSTANCE_PATH}.nt"
    assert alternates["application/ld+json"] == f"{INSTANCE_PATH}.jsonld"
    assert alternates["application/rdf+xml"] == f"{INSTANCE_PATH}.rdf"
    assert alternates["application/json"] == f"{INSTANCE_PATH}?_format=json"
    twin = get(url, INSTANCE_PATH + ".ttl")
    assert twin.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert links(twin)["text/html"] == INSTANCE_PATH
    for kind, href in alternates.items():
        assert get(url, href, Accept=kind).headers["Content-Type"].startswith(kind), href


@pytest.mark.parametrize(
    "accept,kind",
    [("text/turtle", "text/turtle"), ("application/n-triples", "application/n-triples"),
     ("application/ld+json", "application/ld+json"), ("application/rdf+xml", "application/rdf+xml")],
)
def test_the_resource_iri_answers_each_rdf_format(url: str, accept: str, kind: str) -> None:
    response = get(url, INSTANCE_PATH, Accept=accept)
    assert response.headers["Content-Type"] == f"{kind}; charset=utf-8"
    fmt = RdfFormat.from_media_type(kind)
    subjects = {t.subject for t in parse(response.content, format=fmt)}
    assert NamedNode(BASE + INSTANCE_PATH.lstrip("/")) in subjects


def test_a_resource_pages_json_twin_tells_what_the_page_shows(url: str) -> None:
    html_page = get(url, INSTANCE_PATH, **BROWSER).text
    response = get(url, INSTANCE_PATH + "?_format=json")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert links(response)["text/html"] == INSTANCE_PATH
    page = json.loads(response.text)["page"]
    assert page["iri"] == BASE + INSTANCE_PATH.lstrip("/")
    assert f"<h1>{page['heading']['text']}</h1>" in html_page
    shown_rows = re.findall(r'<th scope="row" title="([^"]+)">', html_page)
    assert [row["iri"] for row in page["properties"]] == shown_rows
    for row in page["properties"]:
        for value in row["values"]:
            if value["href"] and not value["rows"]:
                assert f'href="{value["href"]}"' in html_page


def test_a_lists_page_has_its_json_twin(url: str) -> None:
    (row,) = select(url, 'SELECT ?a WHERE { ?a a bf:Person ; rdfs:label "Paris, Bernard J." }')
    path = "/" + row["a"][len(BASE):]
    key = "^bf:agent/^bf:contribution"
    page = get(url, path + "?" + requests.compat.urlencode({"list": key, "_format": "json"})).json()
    (listed,) = page["page"]["references"]
    assert listed["key"] == key and listed["count"] == 1
    assert listed["values"][0]["text"].startswith("Rereading George Eliot")


def test_an_unknown_format_parameter_is_refused(url: str) -> None:
    response = requests.get(url + INSTANCE_PATH + "?_format=yaml")
    assert response.status_code == 400


def test_home_pages_json_twin_has_the_figures_the_page_shows(url: str) -> None:
    page = get(url, "/", **BROWSER)
    assert links(page)["application/json"] == "/?_format=json"
    twin = get(url, "/?_format=json").json()
    cells = dict(re.findall(r'<td data-group="([^"]+)">(?:<a [^>]*>)?([\d,]+)(?:</a>)?</td>', page.text))
    assert cells and {k: int(v.replace(",", "")) for k, v in cells.items()} == twin["groups"]
    assert twin["base"] == BASE


# ---------------------------------------------------------------- VoID and the service description


@pytest.mark.parametrize("path", ["/.well-known/void", "/-/service"])
def test_self_descriptions_are_html_for_browsers_and_rdf_otherwise(url: str, path: str) -> None:
    turtle = get(url, path)  # no Accept: Turtle, as before
    assert turtle.headers["Content-Type"] == "text/turtle; charset=utf-8"
    triples = list(parse(turtle.content, format=RdfFormat.TURTLE))
    assert triples
    for accept in (BROWSER["Accept"], "text/html"):
        page = get(url, path, Accept=accept)
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<h1>" in page.text
    page = get(url, path, **BROWSER)
    twin = get(url, path + "?_format=json").json()
    # every literal of the RDF is on the page and in its JSON twin
    shown = {v["text"] for s in twin["subjects"] for row in s["rows"] for v in row["objects"]}
    for t in triples:
        if isinstance(t.object, Literal):
            assert t.object.value in shown
            assert t.object.value.replace("&", "&amp;") in page.text
    alternates = links(page)
    assert alternates["text/turtle"] == f"{path}?format=ttl"
    assert get(url, f"{path}?format=nt").headers["Content-Type"].startswith("application/n-triples")
    assert get(url, path, Accept="application/ld+json").headers["Content-Type"].startswith(
        "application/ld+json"
    )


def test_void_html_shows_the_datasets_figures(url: str) -> None:
    triples = list(parse(get(url, "/.well-known/void").content, format=RdfFormat.TURTLE))
    (count,) = [
        t.object.value for t in triples
        if t.predicate == NamedNode(VOID + "triples") and t.subject.value.endswith("#dataset")
    ]
    page = get(url, "/.well-known/void", **BROWSER).text
    examples = [t.object.value for t in triples if t.predicate == NamedNode(VOID + "exampleResource")]
    assert examples and all(f'href="/{iri[len(BASE):]}"' in page for iri in examples)
    assert re.search(r'<th scope="row" title="http://rdfs.org/ns/void#triples">[^<]+</th>\s*'
                     rf"<td><ul><li><span>{count}</span>", page)


def test_void_html_shows_partitions_as_tables_whose_rows_links_reach(url: str) -> None:
    """VoID's class and property partitions are rows of tables, not a section each (that made
    the page about 26,000 pixels tall), and every link to a partition finds its row."""
    triples = list(parse(get(url, "/.well-known/void").content, format=RdfFormat.TURTLE))
    classes = {t.object.value for t in triples if t.predicate == NamedNode(VOID + "class")}
    properties = {t.object.value for t in triples if t.predicate == NamedNode(VOID + "property")}
    assert len(classes) >= 3 and len(properties) >= 3
    page = get(url, "/.well-known/void", **BROWSER).text
    tables = re.findall(r'<section class="partitions" id="([^"]+)">', page)
    assert len(tables) == 2
    rows = re.findall(r'<tr id="([^"]+)">', page)
    assert len(rows) == len(classes) + len(properties)
    # the dataset links to each table once, with how many rows it holds
    counts = dict(re.findall(r'<a href="#([^"]+)">(\d+), in the table below</a>', page))
    assert sorted(map(int, counts.values())) == sorted([len(classes), len(properties)])
    assert set(counts) == set(tables)
    linked = set(re.findall(r'href="/.well-known/void#([^"]+)"', page))
    anchors = set(re.findall(r'<(?:tr|section class="properties") id="([^"]+)">', page))
    assert linked <= anchors


def test_sparql_without_a_query_still_describes_the_service_to_clients(url: str) -> None:
    response = get(url, "/sparql", Accept="text/turtle")
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert "sd:Service" in response.text or "ns/sparql-service-description#Service" in response.text


def test_the_json_ld_context_is_served(url: str) -> None:
    response = get(url, "/ns/context.jsonld")
    assert response.headers["Content-Type"] == "application/ld+json; charset=utf-8"
    assert response.json()["@context"] == json_ld_context()


# ---------------------------------------------------------------- vocabulary terms by label


def test_vocabulary_terms_show_by_their_labels(url: str) -> None:
    page = get(url, INSTANCE_PATH, **BROWSER).text
    issuance = re.search(r'title="http://id.loc.gov/ontologies/bibframe/issuance">.*?</tr>', page, re.S)
    assert issuance and ">single unit</a>" in issuance.group(0)
    assert ">English</a>" in page
    assert ">http://id.loc.gov/vocabulary/" not in page  # no vocabulary IRI shown as text
    chinese = get(url, INSTANCE_PATH, **BROWSER, **{"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert ' lang="zh">英语</a>' in chinese  # marked as Chinese text


def test_roles_show_by_their_labels(url: str) -> None:
    (row,) = select(
        url,
        'SELECT DISTINCT ?w WHERE { ?w bf:contribution ?c . ?c bf:role relators:aut ; '
        'bf:agent/rdfs:label "Agee, James, 1909-1955" }',
    )
    page = get(url, "/" + row["w"][len(BASE):], **BROWSER).text
    assert re.search(r'<span class="role">Author</span>: <a href="/agent/[^"]+">Agee, James', page)
