"""A cataloger edits a vocabulary in headless Chromium; a reader is refused.

The real server over National Library of Medicine records (``data/marcxml/nlm.xml``),
the real login form, the editor's forms typed into and submitted by clicking:
a concept added with labels in English and Chinese, made narrower than an
existing concept picked by its label from ``/api/suggest``'s list, two
concepts merged after their preview, and a work's subject seen to move on the
work's own page and over SPARQL. Screenshots are left in the test's temporary folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from browser_cdp import Chromium
from test_web_auth import legacy_users_file
from web_fixtures import BROWSER_TESTS, PASSWORD, running_server, settings_for, sign_in, type_into

from graph import Writer
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import SourceRecord
from ingest.sources import get_source
from web.accounts import add_user

pytestmark = BROWSER_TESTS
ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:5000/"
MESH = "http://id.nlm.nih.gov/mesh"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("vocabulary-browser") / "data"
    minter = IriMinter(BASE)
    path = ROOT / "data" / "marcxml" / "nlm.xml"
    records = [map_record(r, minter) for r in get_source("marcxml").read(path, name="nlm.xml")
               if isinstance(r, SourceRecord)]  # fmt: skip
    with Writer(data_dir, minter.layout, "test") as writer:
        writer.write(records)
    legacy_users_file(data_dir, {"rita": ("reader", PASSWORD)})
    add_user(data_dir, "carl", PASSWORD, "cataloger")
    with running_server(settings_for(data_dir)) as root:
        # the suggester makes its index on the first request (503 until then; the picker asks
        # again): made here, so that the page's console stays free of errors
        for _ in range(100):
            if requests.post(root + "/api/suggest", json={"title": "x"}, timeout=30).status_code == 200:
                break
            time.sleep(0.2)
        yield root


def sparql(url: str, query: str) -> dict:
    answer = requests.get(url + "/sparql", params={"query": query},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()


def click(browser: Chromium, selector: str) -> None:
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


def submit(browser: Chromium, selector: str) -> None:
    """Click a form's button and wait for the page it leads to (not the one still shown)."""
    browser.evaluate("window.leaving = true")
    click(browser, selector)
    browser.wait_for("!window.leaving && document.readyState === 'complete'")


def text_of(browser: Chromium, selector: str) -> str:
    return browser.evaluate(f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''")


def test_add_a_concept_link_it_merge_two_and_revert_the_merge(url: str, tmp_path: Path) -> None:
    with Chromium(tmp_path / "profile") as browser:
        sign_in(browser, url, "carl", "/editor/vocabularies?" + urlencode({"scheme": MESH, "q": "neopl"}))
        assert browser.evaluate("location.pathname") == "/editor/vocabularies"
        assert "Neoplasms" in text_of(browser, "ul.concept-list")
        # a concept with labels in English and Chinese
        type_into(browser, "#label_1", "Telenursing")
        type_into(browser, "#label_2", "远程护理")
        submit(browser, "form.new-concept button")
        assert browser.evaluate("location.pathname") == "/editor/vocabularies/concept"
        assert text_of(browser, "p.saved").startswith("Saved as one change")
        assert browser.evaluate("document.querySelector('h1').textContent") == "Telenursing"
        assert "远程护理" in text_of(browser, "form.literals")
        concept = browser.evaluate("new URLSearchParams(location.search).get('iri')")
        assert concept.startswith(BASE + "concept/")
        # narrower than "Neoplasms", picked from the suggestions the field offers
        type_into(browser, "form.relations input[name=target]", "Neoplasms")
        option = browser.wait_for(
            "Array.from(document.querySelectorAll('form.relations datalist option'))"
            ".filter(o => o.label === 'Neoplasms').map(o => o.value)[0]"
        )
        browser.evaluate(f"document.querySelector('form.relations input[name=target]').value = {json.dumps(option)}")
        submit(browser, "form.relations button")
        assert text_of(browser, "p.saved").startswith("Saved as one change")
        assert "Neoplasms" in text_of(browser, "form.relations")
        assert sparql(url, f"ASK {{ <{concept}> skos:broader <{option}> . <{option}> skos:narrower <{concept}> }}")["boolean"]
        browser.screenshot(tmp_path / "concept.png")

        # merge two concepts: the preview first, then a work's subject moves
        pairs = sparql(url, f"SELECT ?work ?c WHERE {{ ?work bf:subject ?c . ?c skos:inScheme <{MESH}> }}")
        subjects: dict[str, set[str]] = {}
        for row in pairs["results"]["bindings"]:
            subjects.setdefault(row["c"]["value"], set()).add(row["work"]["value"])
        ranked = sorted(subjects, key=lambda c: (-len(subjects[c]), c))
        survivor = ranked[0]
        merged = next(c for c in ranked[1:] if subjects[c] - subjects[survivor] and c != option)
        work = sorted(subjects[merged] - subjects[survivor])[0]
        browser.navigate(url + "/editor/vocabularies/merge?" + urlencode({"merged": merged, "survivor": survivor}))
        assert "bf:subject" in text_of(browser, "section.merge-plan table")
        browser.screenshot(tmp_path / "merge-preview.png")
        submit(browser, "form.merge-apply button")
        assert browser.evaluate("location.pathname") == "/editor/vocabularies/concept"
        assert text_of(browser, "p.saved").startswith("Saved as one change")
        browser.navigate(url + "/" + work[len(BASE):])
        links = browser.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
        assert "/" + survivor[len(BASE):] in links and "/" + merged[len(BASE):] not in links
        browser.screenshot(tmp_path / "work-after-merge.png")
        browser.navigate(url + "/" + merged[len(BASE):])  # the merged IRI resolves, and says so
        assert "Merged into" in text_of(browser, "p.deprecated-notice")
        assert sparql(url, f"ASK {{ <{work}> bf:subject <{survivor}> }}")["boolean"]
        assert not sparql(url, f"ASK {{ <{work}> bf:subject <{merged}> }}")["boolean"]

        # the merge reverted from the history: the newest changeset, its Revert button
        browser.navigate(url + "/editor/history")
        merge_key = browser.evaluate("document.querySelector('a.changeset').textContent")
        submit(browser, "a.changeset")
        assert "subject" in text_of(browser, "section.diff")  # the moved references, by their property
        type_into(browser, "#reason", "merged by mistake")
        submit(browser, "form.revert button")
        head = text_of(browser, "dl.changeset-head")
        assert "merged by mistake" in head and merge_key in head
        browser.screenshot(tmp_path / "merge-reverted.png")
        browser.navigate(url + "/" + merged[len(BASE):])  # a concept again, not an alias
        assert text_of(browser, "p.deprecated-notice") == ""
        browser.navigate(url + "/" + work[len(BASE):])
        links = browser.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
        assert "/" + merged[len(BASE):] in links
        assert browser.console_problems() == []
    assert sparql(url, f"ASK {{ <{work}> bf:subject <{merged}> }}")["boolean"]
    assert not sparql(url, f"ASK {{ <{work}> bf:subject <{survivor}> }}")["boolean"]
    assert not sparql(url, f"ASK {{ <{merged}> owl:deprecated true }}")["boolean"]


def test_without_the_role_the_editor_is_refused(url: str, tmp_path: Path) -> None:
    with Chromium(tmp_path / "profile") as browser:
        browser.navigate(url + "/editor/vocabularies")  # not signed in: the login form
        assert browser.evaluate("location.pathname") == "/login"
        sign_in(browser, url, "rita", "/editor/vocabularies")
        assert "may not edit" in browser.evaluate("document.body.innerText")
        assert browser.evaluate("document.querySelector('form.new-concept')") is None
    forged = requests.post(url + "/editor/vocabularies/concepts", data={"scheme": MESH, "label_1": "x"}, timeout=30)
    assert forged.status_code == 401
