"""A cataloger adds a class to the ontology in headless Chromium, and a reader may not.

The real server over a real data directory, the real login form, the
ontology editor's form filled in by typing and by choosing the superclass in
its list, then the new class found where a reader looks: under its
superclass in the editor's tree, on ``/ontology`` (in English and in
Chinese), and over ``/sparql``. A signed-in account of the old ``reader``
role is refused the editor. Screenshots are left in the test's temporary
folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from browser_cdp import Chromium
from test_web_auth import legacy_users_file
from web_fixtures import (
    BROWSER_TESTS,
    PASSWORD,
    build_data_dir,
    running_server,
    settings_for,
    sign_in,
    type_into,
)

from web.accounts import add_user

pytestmark = BROWSER_TESTS
WORK = "http://id.loc.gov/ontologies/bibframe/Work"
NEW = "https://w3id.org/catalograph/ontology#Scroll"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = build_data_dir(tmp_path_factory.mktemp("ontology-editor-browser"))
    add_user(data_dir, "carl", PASSWORD, "cataloger")
    legacy_users_file(data_dir, {"rita": ("reader", PASSWORD)})
    with running_server(settings_for(data_dir)) as root:
        yield root


def test_a_cataloger_creates_a_class_seen_in_the_tree_and_the_reference(url: str, tmp_path: Path) -> None:
    with Chromium(tmp_path / "profile") as browser:
        sign_in(browser, url, "carl", "/editor")
        browser.evaluate("[...document.querySelectorAll('a')].find(a => a.textContent === 'The ontology').click()")
        browser.wait_for("location.pathname === '/editor/ontology' && document.readyState === 'complete'")
        browser.evaluate("[...document.querySelectorAll('a')].find(a => a.textContent === 'New class').click()")
        browser.wait_for("location.pathname === '/editor/ontology/new' && document.readyState === 'complete'")
        type_into(browser, "#local_name", "Scroll")
        type_into(browser, "#words-0-label", "Scroll")
        type_into(browser, "#words-0-definition", "A roll of writing material.")
        type_into(browser, "#words-1-label", "卷轴")
        type_into(browser, "#words-1-definition", "成卷的书写材料。")
        chosen = browser.evaluate(
            f"(() => {{ const o = [...document.querySelectorAll('#parents option')].find(o => o.value === {json.dumps(WORK)});"
            " o.selected = true; return o.textContent; })()"
        )
        assert "bf:Work" in chosen
        browser.screenshot(tmp_path / "new-class.png")
        browser.evaluate("document.querySelector('form.ontology-term button[type=submit]').click()")
        browser.wait_for("location.pathname === '/editor/ontology/term' && document.readyState === 'complete'")
        assert "The term was created." in browser.evaluate("document.body.innerText")
        assert browser.evaluate("document.querySelector('#words-1-label').value") == "卷轴"

        # in the tree, inside bf:Work's branch
        browser.navigate(url + "/editor/ontology")
        parent = browser.evaluate(
            f"document.querySelector('#class-tree li[data-iri={json.dumps(NEW)}]').parentElement.closest('li').dataset.iri"
        )
        assert parent == WORK
        browser.screenshot(tmp_path / "tree.png")

        # on the reference, in English and in Chinese
        browser.navigate(url + "/ontology#Scroll")
        assert browser.evaluate("document.querySelector('#Scroll h3').innerText").startswith("Scroll")
        browser.navigate(url + "/-/lang?to=zh&next=/ontology")
        browser.wait_for("document.readyState === 'complete'")
        heading = browser.evaluate("document.querySelector('#Scroll h3').innerText")
        assert heading.startswith("卷轴"), heading
        assert "成卷的书写材料。" in browser.evaluate("document.querySelector('#Scroll').innerText")
        browser.screenshot(tmp_path / "reference-zh.png")
        assert browser.console_problems() == []
    query = f"ASK {{ <{NEW}> rdfs:subClassOf <{WORK}> ; rdfs:label \"卷轴\"@zh }}"
    assert requests.get(url + "/sparql", params={"query": query}).json()["boolean"] is True


def test_an_account_without_the_role_is_refused(url: str, tmp_path: Path) -> None:
    with Chromium(tmp_path / "profile") as browser:
        sign_in(browser, url, "rita", "/editor/ontology/new")
        assert browser.evaluate("location.pathname") == "/editor/ontology/new"
        text = browser.evaluate("document.body.innerText")
        assert "reader" in text and "New term" not in text
        assert browser.evaluate("document.querySelector('form.ontology-term')") is None
        browser.screenshot(tmp_path / "refused.png")
