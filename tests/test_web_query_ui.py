"""The browser query UI at /sparql: YASGUI served locally, prefixes, example queries, graph view.

The sample in ``data/`` is ingested by the real CLI into a temporary data
directory and served by the real server. Every example query must run through
the endpoint and return rows (the association one too: the ingest builds
them). A real headless Chromium, driven over the DevTools protocol (``tests/browser_cdp.py``), loads the page with every
host name but 127.0.0.1 unresolvable, runs examples, downloads results and
draws a CONSTRUCT answer as a graph, while the test records every request the
page makes and every console error (a Content-Security-Policy violation shows
up there).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import requests
from browser_cdp import CHROMIUM, Chromium
from web_fixtures import running_server, settings_for

from ontology.namespaces import PREFIXES
from tests.conftest import IngestedStore
from web.query_ui import CONTENT_SECURITY_POLICY, INLINE_STYLE_HASHES, Example, load_examples

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "web" / "static" / "vendor"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
EXAMPLES = load_examples()


@pytest.fixture(scope="module")
def root(ingested_sample: IngestedStore, sample_copy: Path) -> Iterator[str]:
    """The server over the whole sample of ``data/``, ingested by the real CLI (a copy of the
    session's, tests/conftest.py), which built the derived graph the mentions example reads."""
    assert "mentions rebuilt" in ingested_sample.stderr
    with running_server(settings_for(sample_copy)) as url:
        yield url


def run(root: str, query: str) -> requests.Response:
    graph = re.search(r"^\s*(CONSTRUCT|DESCRIBE)\b", query, re.MULTILINE | re.IGNORECASE)
    accept = "application/n-triples" if graph else "application/sparql-results+json"
    response = requests.post(
        root + "/sparql", data={"query": query}, headers={"Accept": accept}, timeout=60
    )
    assert response.status_code == 200, response.text[:500]
    return response


def row_count(response: requests.Response) -> int:
    if response.headers["Content-Type"].startswith("application/n-triples"):
        return len(list(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)))
    return len(response.json()["results"]["bindings"])


# --- The examples ------------------------------------------------------------------------


def test_a_dozen_examples_with_titles_and_descriptions() -> None:
    assert len(EXAMPLES) >= 12
    assert len({e.id for e in EXAMPLES}) == len({e.title for e in EXAMPLES}) == len(EXAMPLES)
    for example in EXAMPLES:
        assert example.title and len(example.title) < 60, example.id
        assert len(example.description) > 40, example.id


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_declares_its_prefixes(example: Example) -> None:
    """Each example runs anywhere (Jena, another endpoint), not only where prefixes are predefined."""
    ox.Store().query(example.query)  # raises SyntaxError on an undeclared prefix


#: Examples whose rows the shipped sample cannot give, and the test that runs them where it can.
EMPTY_ON_THE_SAMPLE = {
    # no two agents of data/ share a heading but for dates, punctuation or an authority link
    "15-match-candidates": "tests/test_query_candidates.py::test_the_example_query_lists_the_candidates",
    # nothing is decided on the sample: a reviewer decides in the queue
    "16-review-decisions": "tests/test_web_review.py::test_the_example_query_shows_the_decisions",
}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_runs_on_the_sample(root: str, example: Example) -> None:
    if example.id in EMPTY_ON_THE_SAMPLE:  # it runs, and the test named finds its rows elsewhere
        assert row_count(run(root, example.query)) == 0
        test_file, name = EMPTY_ON_THE_SAMPLE[example.id].split("::")
        assert f"def {name}(" in (ROOT / test_file).read_text(encoding="utf-8")
        return
    assert row_count(run(root, example.query)) > 0


def test_examples_find_what_they_promise(root: str) -> None:
    by_id = {e.id: e for e in EXAMPLES}
    works = run(root, by_id["01-works-by-an-agent"].query).json()["results"]["bindings"]
    assert {b["name"]["value"] for b in works} == {"Schubert, Franz, 1797-1828"}
    titles = {b["title"]["value"] for b in works}
    assert {"Forelle (Song)", "Heidenröslein", "Gretchen am Spinnrade"} <= titles
    editions = run(root, by_id["03-editions-of-a-work"].query).json()["results"]["bindings"]
    reasons = {b["reason"]["value"].rsplit("#", 1)[1] for b in editions}
    assert reasons <= {"SameUniformTitle", "SameCreatorAndTitle"} and reasons
    scripts = run(root, by_id["06-parallel-script-titles"].query).json()["results"]["bindings"]
    assert {"he-hebr", "ar-arab", "ja-jpan"} <= {b["script"]["value"].lower() for b in scripts}
    provenance = run(root, by_id["11-provenance-of-a-record-graph"].query).json()["results"][
        "bindings"
    ]
    found = {b["property"]["value"].rsplit("#", 1)[1]: b["value"]["value"] for b in provenance}
    assert found["sourceFile"] == "data/marc/george_eliot.marc" and found["sourcePosition"] == "1"


# --- The page ------------------------------------------------------------------------------


def page_config(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="query-ui-config">(.*?)</script>', html, re.S
    )
    assert match, "the page carries its settings as a JSON block"
    assert "<" not in match.group(1), "markup in the JSON block must be escaped"
    return json.loads(match.group(1))


def test_page_serves_yasgui_from_this_server(root: str) -> None:
    response = requests.get(root + "/sparql", headers={"Accept": BROWSER_ACCEPT}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert (
        "unsafe-inline" not in CONTENT_SECURITY_POLICY
        and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    )
    config = page_config(response.text)
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == PREFIXES
    assert [e["id"] for e in config["examples"]] == [e.id for e in EXAMPLES]
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text)
    assert {"/static/vendor/yasgui.min.js", "/static/vendor/yasgui.min.css", "/static/vendor/cytoscape.min.js",
            "/static/sparql-ui.js"} <= set(assets)  # fmt: skip
    for asset in assets:
        assert requests.get(root + asset, timeout=30).status_code == 200, asset
    assert not re.search(r'(?:src|href)="(?:https?:)?//', response.text), (
        "no asset from another host"
    )


def test_vendored_files_are_the_locked_npm_packages() -> None:
    """web/static/vendor/ holds the exact files of the versions package-lock.json pins (see .ci/vendor)."""
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    declared = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert {entry["package"] for entry in manifest.values()} == set(declared)
    total = 0
    for name, entry in manifest.items():
        content = (VENDOR / name).read_bytes()
        total += len(content)
        assert hashlib.sha256(content).hexdigest() == entry["sha256"], (
            f"{name} changed since .ci/vendor"
        )
        assert lock[f"node_modules/{entry['package']}"]["version"] == entry["version"], name
        installed = ROOT / "node_modules" / entry["package"] / entry["path"]
        if installed.exists():  # after `npm ci`: byte for byte what npm installs
            assert installed.read_bytes() == content, name
    assert total < 3_000_000, "keep the committed assets small"
    assert sorted(p.name for p in VENDOR.iterdir()) == sorted([*manifest, "MANIFEST.json"])


def test_inline_style_hashes_match_the_vendored_libraries() -> None:
    """The CSP allows two fixed style sheets by hash; recompute them from the vendored files."""
    yasgui = (VENDOR / "yasgui.min.js").read_text(encoding="utf-8")
    resizer = re.search(r"createStyle\(a,`([^`]*)`", yasgui)
    assert resizer, "yasgui.min.js no longer injects the column resizer's style sheet this way"
    cytoscape = (VENDOR / "cytoscape.min.js").read_text(encoding="utf-8")
    container = '"."+s+" { position: relative; }"'
    assert container in cytoscape and 's="__________cytoscape_container"' in cytoscape
    sheets = [resizer.group(1), ".__________cytoscape_container { position: relative; }"]
    computed = [
        "sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in sheets
    ]
    assert tuple(computed) == INLINE_STYLE_HASHES


# --- In a real browser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        pytest.skip("needs headless Chromium (Debian package 'chromium')")
    with Chromium(tmp_path_factory.mktemp("chromium-profile")) as chromium:
        yield chromium


def open_ui(browser: Chromium, root: str) -> None:
    browser.events.clear()
    browser.navigate(root + "/sparql")
    browser.wait_for("!!(window.catalographYasgui && document.querySelector('.yasgui .CodeMirror'))")


#: The results area of the tab on show (every tab keeps its own).
RESULTS = "window.catalographYasgui.getTab().getYasr().rootEl"
ROWS = f"[...{RESULTS}.querySelectorAll('table.dataTable tbody tr')]"


def open_example(browser: Chromium, example_id: str) -> None:
    browser.evaluate(f"document.querySelector('button[data-example=\"{example_id}\"]').click()")


def assert_stayed_home(browser: Chromium, root: str) -> None:
    """Every request went to this server (or stayed in the page), and nothing was refused."""
    home = urlsplit(root).netloc
    for url in browser.requested_urls():
        parts = urlsplit(url)
        assert parts.scheme in ("data", "blob") or parts.netloc == home, url
    assert browser.console_problems() == []


@pytest.mark.browser
def test_yasgui_runs_an_example(browser: Chromium, root: str, tmp_path: Path) -> None:
    open_ui(browser, root)
    editor = browser.evaluate("window.catalographYasgui.getTab().getYasqe().getValue()")
    for prefix, iri in PREFIXES.items():
        assert f"PREFIX {prefix}: <{iri}>" in editor
    assert browser.evaluate("document.getElementById('sparql-form').hidden") is True
    open_example(browser, "01-works-by-an-agent")
    browser.wait_for(f"{ROWS}.length > 0")
    rows = browser.evaluate(f"{ROWS}.map(row => row.innerText)")
    assert len(rows) == 18 and all("Schubert, Franz" in row for row in rows)
    tab = browser.evaluate("window.catalographYasgui.getTab().getName()")
    assert tab == "Works by an agent"
    screenshot = browser.screenshot(tmp_path / "query-ui.png")
    assert screenshot.stat().st_size > 20_000
    assert_stayed_home(browser, root)


@pytest.mark.browser
def test_results_download_as_csv(browser: Chromium, root: str, tmp_path: Path) -> None:
    open_ui(browser, root)
    browser.allow_downloads(tmp_path)
    open_example(browser, "09-most-cited-subjects")
    browser.wait_for(f"{ROWS}.length > 0")
    browser.evaluate(f"{RESULTS}.querySelector('.yasr_downloadIcon').click()")
    name, content = browser.wait_for_download(tmp_path)
    assert name.endswith(".csv")
    table = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert len(table) == 25 and list(table[0]) == ["subject", "label", "works"]
    assert table[0]["label"] == "Cell Biology" and table[0]["works"] == "90"
    assert_stayed_home(browser, root)


@pytest.mark.browser
def test_construct_answer_drawn_as_a_graph(browser: Chromium, root: str, tmp_path: Path) -> None:
    open_ui(browser, root)
    open_example(browser, "13-a-work-as-a-graph")
    browser.wait_for("!!document.querySelector('.graph-view-canvas canvas')")
    graph = "window.catalographYasgui.getTab().getYasr().plugins.Graph.cy"
    nodes = browser.evaluate(f"{graph}.nodes().map(n => n.data('label'))")
    edges = browser.evaluate(f"{graph}.edges().map(e => e.data('label'))")
    assert "Ars minor [fragment]" in nodes and "bf:instanceOf" in edges and "bf:agent" in edges
    triples = row_count(
        run(root, next(e.query for e in EXAMPLES if e.id == "13-a-work-as-a-graph"))
    )
    assert 0 < len(edges) < triples <= 500  # labels are drawn as captions, not edges
    browser.screenshot(tmp_path / "graph-view.png")
    assert_stayed_home(browser, root)


@pytest.mark.browser
def test_page_says_so_when_yasgui_is_missing(browser: Chromium, root: str) -> None:
    browser.send("Network.setBlockedURLs", {"urls": ["*/static/vendor/yasgui.min.js"]})
    try:
        browser.navigate(root + "/sparql")
        message = browser.wait_for("document.getElementById('query-ui-status').textContent")
        assert "did not load" in message
        assert browser.evaluate("document.getElementById('sparql-form').hidden") is False
    finally:
        browser.send("Network.setBlockedURLs", {"urls": []})
