"""The reader's search page over the real server and the shipped sample (``data/``).

The data directory is written by the real ``catalograph ingest``; the page, its
JSON twin and the suggestions are fetched over HTTP from the real server. Facet
counts are checked against SPARQL counts over the checkpoint's own store, for
the same hits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from browser_cdp import CHROMIUM, Chromium
from markupsafe import escape
from pyoxigraph import NamedNode
from web_fixtures import HOSTILE_TITLE, build_data_dir, running_server, settings_for

from graph import latest_snapshot, open_latest_snapshot
from query.search import SearchQuery, search

#: Mozart's symphonies in data/marcxml/oclc.xml (OCLC 905053 and 946456): works titled
#: "Symphonies, K. 385, D major" and "Symphonies, K. 200, C major" (MARC 240), whose instances
#: are titled "Symphony no. 35 ..." and "Symphonie Nr. 28 ..." and name no one in 245$c: only
#: the works' contributors (100 Mozart) hold his name.
MOZART_SYMPHONIES = ("Symphonies, K. 385, D major", "Symphonies, K. 200, C major")
MOZART = "Mozart, Wolfgang Amadeus, 1756-1791"


@pytest.fixture(scope="module")
def data_dir(sample_copy: Path) -> Path:
    return sample_copy


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir)) as root:
        yield root


def twin(url: str, **params: object) -> dict:
    response = requests.get(url + "/search", params={**params, "_format": "json"}, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response.json()


def test_mozart_symphonies_are_found_by_their_composers_name(url: str) -> None:
    page = twin(url, q="Mozart symphonies")
    titles = [line["title"] for line in page["lines"]]
    assert set(MOZART_SYMPHONIES) <= set(titles), titles
    for line in page["lines"]:
        if line["title"] in MOZART_SYMPHONIES:
            assert line["kind"] == "work"
            assert "mozart" not in line["title"].lower()  # found by the creator, not the title
            assert MOZART in [label for _, _, label in line["creators"]]
    # the HTML page says the same, links to the works' and the composer's pages
    html = requests.get(url + "/search", params={"q": "Mozart symphonies"}, timeout=30).text
    for line in page["lines"]:
        assert f'href="{line["href"]}"' in html
    assert f">{MOZART}</a>" in html
    resource = requests.get(url + page["lines"][0]["href"], timeout=30)
    assert resource.status_code == 200


def test_the_sample_finds_nothing_without_creators(data_dir: Path) -> None:
    """The same words asked of the titles alone: the works' titles do not name Mozart."""
    checkpoint = latest_snapshot(data_dir)
    hits = search(checkpoint, SearchQuery.build("symphonies", kind="work", limit=100)).hits
    assert {h.label for h in hits} >= set(MOZART_SYMPHONIES)
    assert not any("mozart" in h.label.lower() for h in hits if h.label in MOZART_SYMPHONIES)


def _all_hits(data_dir: Path, text: str) -> list[str]:
    checkpoint = latest_snapshot(data_dir)
    found: list[str] = []
    offset = 0
    while True:
        result = search(checkpoint, SearchQuery.build(text, limit=100, offset=offset))
        found += result.iris
        if not result.more:
            return found
        offset += 100


_FAMILY_COUNTS = """
PREFIX bf: <http://id.loc.gov/ontologies/bibframe/>
SELECT ?value (COUNT(DISTINCT ?hit) AS ?n) WHERE {
  VALUES ?hit { %s }
  { ?hit %s ?value } UNION { ?hit bf:instanceOf ?work . ?work %s ?value }
  UNION { ?instance bf:instanceOf ?hit . ?instance %s ?value }
  FILTER(isIRI(?value) && !CONTAINS(STR(?value), "#"))
} GROUP BY ?value
"""


@pytest.mark.parametrize(
    ("facet", "path"),
    [("subject", "bf:subject"), ("agent", "bf:contribution/bf:agent"), ("language", "bf:language")],
)
def test_facet_counts_agree_with_sparql(url: str, data_dir: Path, facet: str, path: str) -> None:
    text = "music"
    page = twin(url, q=text)
    assert not page["capped"]
    hits = _all_hits(data_dir, text)
    assert page["total"] == len(hits) > 20
    store = open_latest_snapshot(data_dir)
    # the hits are the store's own IRIs (NamedNode-checked), never text pasted into the query
    values = " ".join(str(NamedNode(iri)) for iri in hits)
    query = _FAMILY_COUNTS % (values, path, path, path)
    expected = {row["value"].value: int(row["n"].value) for row in store.query(query, use_default_graph_as_union=True)}
    shown = page["facets"][facet]
    assert shown, f"no {facet} facet for {text!r}"
    for value in shown:
        key = value["value"]
        iri = key if facet != "language" else "http://id.loc.gov/vocabulary/languages/" + key
        assert expected.get(iri) == value["count"], (facet, value, expected.get(iri))
    # the most frequent values are the ones shown
    ranked = sorted(expected.values(), reverse=True)
    assert [v["count"] for v in shown] == ranked[: len(shown)]


def test_facets_combine_and_or_within_and_a_year_range(url: str) -> None:
    everything = twin(url, q="music")
    agents = everything["facets"]["agent"]
    first, second = agents[0], agents[1]
    one = twin(url, q="music", agent=first["value"])
    assert one["total"] == first["count"]
    assert all(first["value"] in [c[0] for c in line["creators"]] for line in one["lines"])
    either = twin(url, q="music", agent=[first["value"], second["value"]])
    assert max(first["count"], second["count"]) <= either["total"] <= first["count"] + second["count"]
    # AND across facets: a kind and an agent
    works = twin(url, q="music", agent=first["value"], kind="work")
    assert works["total"] <= one["total"]
    assert all(line["kind"] == "work" for line in works["lines"])
    # a year range from the decades' facet
    decade = max(everything["facets"]["decade"], key=lambda v: v["count"])
    start = int(decade["value"])
    ranged = twin(url, q="music", **{"from": start, "to": start + 9})
    assert ranged["total"] == decade["count"]
    assert all(line["year"] is not None and start <= line["year"] <= start + 9 for line in ranged["lines"])


def test_pages_follow_each_other(url: str) -> None:
    first = twin(url, q="music")
    second = twin(url, q="music", page=2)
    assert first["next_href"] and second["previous_href"]
    one = [line["iri"] for line in first["lines"]]
    two = [line["iri"] for line in second["lines"]]
    assert len(one) == 20 and two and not set(one) & set(two)


def test_an_empty_a_fruitless_and_a_refused_search_explain_themselves(url: str) -> None:
    empty = requests.get(url + "/search", params={"q": ""}, timeout=30)
    assert empty.status_code == 200 and "Type a few words" in empty.text
    none = requests.get(url + "/search", params={"q": "qqqxyzzy nothing"}, timeout=30)
    assert none.status_code == 200
    assert "No results" in none.text and "Use fewer words" in none.text
    filtered = requests.get(url + "/search", params={"q": "mozart", "language": "qqq"}, timeout=30)
    assert "Search again without the filters" in filtered.text
    refused = requests.get(url + "/search", params={"q": " ".join(["word"] * 13)}, timeout=30)
    assert refused.status_code == 400 and "cannot be run" in refused.text
    unknown = requests.get(url + "/search", params={"q": "x", "colour": "red"}, timeout=30)
    assert unknown.status_code == 400 and "colour" in unknown.text
    bad_facet = requests.get(url + "/search", params={"q": "x", "kind": "spaceship"}, timeout=30)
    assert bad_facet.status_code == 400


def test_hostile_text_stays_text(url: str) -> None:
    text = "<script>alert(1)</script> \"'><img src=x>"
    response = requests.get(url + "/search", params={"q": text, "agent": "');DROP TABLE x;--"}, timeout=30)
    assert "<script>alert" not in response.text and "<img src=x>" not in response.text
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    injected = twin(url, q="music", subject="x' OR '1'='1")
    assert injected["total"] == 0


def test_suggestions_complete_the_last_word(url: str) -> None:
    found = requests.get(url + "/search/suggest", params={"q": "moza"}, timeout=30).json()
    labels = [s["label"] for s in found["suggestions"]]
    assert MOZART in labels and len(labels) <= 8
    assert requests.get(url + "/search/suggest", params={"q": ""}, timeout=30).json()["suggestions"] == []


@pytest.mark.browser
def test_search_in_a_browser(url: str, tmp_path: Path) -> None:
    """Type into the home page's box, take a suggestion with the keyboard, filter by a facet,
    go to the next page, in English and in Chinese; the pages log no error."""
    if not CHROMIUM.exists():
        pytest.skip("needs headless Chromium at /usr/bin/chromium (Debian package 'chromium')")
    with Chromium(tmp_path / "profile") as browser:
        browser.navigate(url + "/")
        browser.evaluate("document.getElementById('q').focus()")
        browser.send("Input.insertText", {"text": "moza"})
        browser.wait_for("document.querySelectorAll('#q-suggestions [role=option]').length > 0")
        assert browser.evaluate("document.getElementById('q').getAttribute('aria-expanded')") == "true"
        browser.screenshot(tmp_path / "suggestions-en.png")
        options = browser.evaluate(
            "[...document.querySelectorAll('#q-suggestions [role=option]')].map(o => o.dataset.label)"
        )
        target = options.index(MOZART)
        for _ in range(target + 1):
            browser.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "ArrowDown", "code": "ArrowDown", "windowsVirtualKeyCode": 40})
        assert browser.evaluate("document.getElementById('q').getAttribute('aria-activedescendant')") == f"q-option-{target}"
        browser.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13})
        browser.wait_for("location.pathname === '/search' && document.readyState === 'complete'")
        assert browser.evaluate("new URLSearchParams(location.search).get('q')") == MOZART
        titles = browser.evaluate("[...document.querySelectorAll('li.hit a.title')].map(a => a.textContent)")
        assert titles and set(MOZART_SYMPHONIES) <= set(titles), titles
        total = browser.evaluate("document.querySelectorAll('li.hit').length")
        # a facet: the first kind offered
        browser.evaluate("document.querySelector('section.facet[data-facet=kind] a').click()")
        browser.wait_for("location.search.includes('kind=') && document.readyState === 'complete'")
        assert browser.evaluate("document.querySelectorAll('ul.chosen li').length") == 1
        assert browser.evaluate("document.querySelectorAll('li.hit').length") <= total
        browser.screenshot(tmp_path / "search-facet-en.png")
        # pages: a common word, then the next page
        browser.navigate(url + "/search?q=music")
        browser.evaluate("document.querySelector('a[rel=next]').click()")
        browser.wait_for("location.search.includes('page=2') && document.readyState === 'complete'")
        assert browser.evaluate("document.querySelector('ol.hits').start") == 21
        browser.screenshot(tmp_path / "search-page2-en.png")
        # in Chinese
        browser.navigate(url + "/-/lang?to=zh&next=" + requests.utils.quote("/search?q=Mozart+symphonies"))
        browser.wait_for("document.documentElement.lang === 'zh-Hans' && document.readyState === 'complete'")
        assert browser.evaluate("location.pathname") == "/search"
        heading = browser.evaluate("document.getElementById('facets-heading').textContent")
        assert heading != "Refine"
        shot = browser.screenshot(tmp_path / "search-zh.png")
        assert shot.stat().st_size > 20_000
        print(f"screenshots: {tmp_path}")
        assert browser.console_problems() == []


def test_the_twin_is_the_page(url: str) -> None:
    page = twin(url, q="Mozart symphonies")
    html = requests.get(url + "/search", params={"q": "Mozart symphonies"}, timeout=30)
    assert '_format=json' in html.headers["Link"]
    for line in page["lines"]:
        assert json.dumps(line["title"], ensure_ascii=False)[1:-1] in html.text


def test_a_hostile_records_title_and_name_stay_text(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The traject records and one whose title and name carry markup (``web_fixtures``): found,
    shown as text in the results and in the suggestions' JSON."""
    data_dir = build_data_dir(tmp_path_factory.mktemp("search-hostile"))
    with running_server(settings_for(data_dir)) as root:
        html = requests.get(root + "/search", params={"q": "pwned other tales"}, timeout=30).text
        assert "<script>alert" not in html
        assert str(escape(HOSTILE_TITLE)) in html  # as Jinja escapes it
        page = requests.get(root + "/search", params={"q": "pwned", "_format": "json"}, timeout=30).json()
        assert HOSTILE_TITLE in [line["title"] for line in page["lines"]]
        named = requests.get(root + "/search", params={"q": "Hara Bold"}, timeout=30).text
        assert "<b>Bold</b>" not in named and "&lt;b&gt;Bold&lt;/b&gt;" in named
