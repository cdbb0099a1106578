"""The reader's pages in a real browser (headless Chromium): browse, resource, related, graph.

Chromium loads the real server over the shipped sample (``data/``, ingested
with its associations); the graph view is drawn by the vendored cytoscape
under the page's own Content-Security-Policy, so a blocked script or style
shows up as a console problem and fails the test. Screenshots of the main
pages, in English and Chinese, are saved as artifacts: under
``$CATALOGRAPH_SCREENSHOTS`` when it is set, else in the test's temporary
folder (their paths are printed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_cdp import Chromium
from web_fixtures import BROWSER_TESTS, running_server, settings_for

from tests.conftest import IngestedStore

ARS_MINOR = "/instance/ctrl-marc-4603408"
LATIN_GRAMMAR = "Latin language--Grammar--Early works to 1500"

pytestmark = BROWSER_TESTS


@pytest.fixture(scope="module")
def url(ingested_sample: IngestedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert "associations rebuilt" in ingested_sample.stderr
    with running_server(settings_for(ingested_sample.copy(tmp_path_factory, "browser-pages"))) as root:
        yield root


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    with Chromium(tmp_path / "profile", width=1200, height=900) as chromium:
        yield chromium


def keep(browser: Chromium, tmp_path: Path, name: str) -> Path:
    """A screenshot of the page, kept as an artifact."""
    shot = browser.screenshot(tmp_path / f"{name}.png")
    assert shot.stat().st_size > 10_000
    folder = os.environ.get("CATALOGRAPH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shot = Path(shutil.copy(shot, Path(folder) / shot.name))
    print(f"screenshot: {shot}")
    return shot


def click(browser: Chromium, selector: str) -> str:
    """Click the first element ``selector`` finds, wait for the page it leads to; its path."""
    before = browser.evaluate("location.href")
    href = browser.evaluate(f"(() => {{ const a = document.querySelector({selector!r}); a.click(); return a.href; }})()")
    browser.wait_for(f"location.href !== {before!r} && document.readyState === 'complete'")
    return href


def graph_ready(browser: Chromium) -> int:
    return browser.wait_for(
        "(() => { const g = document.getElementById('graph-view');"
        " return g && g.cytoscape ? g.cytoscape.nodes().length : 0; })()"
    )


def test_home_browse_resource_related(url: str, browser: Chromium, tmp_path: Path) -> None:
    browser.navigate(url + "/")
    keep(browser, tmp_path, "home-en")
    click(browser, 'td[data-group="works"] a')
    assert browser.evaluate("location.pathname") == "/browse/work"
    click(browser, 'nav.sorts a')  # most used first
    assert "sort=count" in browser.evaluate("location.search")
    keep(browser, tmp_path, "browse-works-en")
    first = browser.evaluate("document.querySelector('ol.browse li a').textContent")
    click(browser, "ol.browse li a")
    assert browser.evaluate("document.querySelector('h1').textContent") == first
    assert browser.evaluate("location.pathname").startswith("/work/")
    graph_ready(browser)
    keep(browser, tmp_path, "work-en")
    related = browser.evaluate("document.querySelector('section.related li a').textContent")
    click(browser, "section.related li a")
    assert browser.evaluate("document.querySelector('h1').textContent") == related
    assert browser.console_problems() == []


def test_the_graph_view_draws_labels_and_grows_on_click(url: str, browser: Chromium, tmp_path: Path) -> None:
    browser.navigate(url + ARS_MINOR)
    click(browser, "a[href^='/work/']")  # its work, from the description
    count = graph_ready(browser)
    labels = browser.evaluate(
        "document.getElementById('graph-view').cytoscape.nodes().map(n => n.data('label'))"
    )
    assert len(labels) == count >= 10
    assert "Donatus, Aelius" in labels and LATIN_GRAMMAR in labels
    assert not [label for label in labels if label.startswith(("http", "k")) and " " not in label]
    edges = browser.evaluate(
        "document.getElementById('graph-view').cytoscape.edges().map(e => e.data('label'))"
    )
    assert "subject" in edges and edges.count("instance of") == 7
    # a click on the subject adds its neighbours: the Doctrinale among them
    browser.evaluate(
        "(() => { const cy = document.getElementById('graph-view').cytoscape;"
        f" cy.nodes().filter(n => n.data('label') === {LATIN_GRAMMAR!r}).emit('tap'); }})()"
    )
    browser.wait_for(f"document.getElementById('graph-view').cytoscape.nodes().length > {count}")
    grown = browser.evaluate(
        "document.getElementById('graph-view').cytoscape.nodes().map(n => n.data('label'))"
    )
    assert any(label.startswith("Doctrinale") for label in grown)
    assert "Neighbours of" in browser.evaluate("document.getElementById('graph-selected').textContent")
    # the filter hides a relation: the seven editions go with "instance of"
    browser.evaluate(
        "(() => { for (const box of document.querySelectorAll('#graph-filter label')) {"
        " if (box.textContent.trim() === 'instance of') { box.querySelector('input').click(); } } })()"
    )
    hidden = browser.evaluate(
        "document.getElementById('graph-view').cytoscape.nodes('.filtered').length"
    )
    assert hidden >= 7
    keep(browser, tmp_path, "graph-en")
    assert browser.console_problems() == []


def test_the_pages_in_chinese(url: str, browser: Chromium, tmp_path: Path) -> None:
    browser.navigate(url + "/-/lang?to=zh&next=/browse")
    assert browser.evaluate("document.documentElement.lang") == "zh-Hans"
    assert browser.evaluate("document.querySelector('h1').textContent") == "浏览"
    keep(browser, tmp_path, "browse-zh")
    click(browser, "ul.schemes a")  # the largest scheme
    keep(browser, tmp_path, "scheme-zh")
    click(browser, "nav.tabs a")  # its hierarchy
    assert "view=tree" in browser.evaluate("location.search")
    browser.navigate(url + ARS_MINOR)
    graph_ready(browser)
    assert browser.evaluate("document.querySelector('#related-h').textContent") == "相关资源"
    edges = browser.evaluate(
        "document.getElementById('graph-view').cytoscape.edges().map(e => e.data('label'))"
    )
    assert "所属作品" in edges
    keep(browser, tmp_path, "instance-zh")
    assert browser.console_problems() == []
