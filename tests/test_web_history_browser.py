"""A cataloger signs in, opens the history, opens a changeset and reverts it, in headless Chromium.

The real server over real records, the real login form, the editor's link to
the history, the changeset's link and its Revert button (a form carrying the
session's CSRF token). Screenshots are left in the test's temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from browser_cdp import Chromium
from test_web_auth import insert
from test_web_login_browser import ask
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


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-history-browser"))
    add_user(data_dir, "carl", PASSWORD, "cataloger")
    with running_server(settings_for(data_dir)) as root:
        yield root


def test_sign_in_open_the_history_and_revert_a_changeset(url: str, tmp_path: Path) -> None:
    made = requests.post(url + "/sparql", data={"update": insert("to be reverted")}, auth=("carl", PASSWORD))
    assert made.status_code == 204
    key = made.headers["X-Catalograph-Changeset"].rsplit("/", 1)[1]
    assert ask(url, "to be reverted") is True
    with Chromium(tmp_path / "profile") as browser:
        sign_in(browser, url, "carl")

        browser.evaluate("document.querySelector('a[href=\"/editor/history\"]').click()")
        browser.wait_for("location.pathname === '/editor/history' && document.readyState === 'complete'")
        keys = browser.evaluate("[...document.querySelectorAll('a.changeset')].map(a => a.textContent)")
        assert keys[0] == key
        browser.screenshot(tmp_path / "history.png")

        browser.evaluate("document.querySelector('a.changeset').click()")
        browser.wait_for(f"location.pathname === '/editor/history/{key}' && document.readyState === 'complete'")
        diff = browser.evaluate("document.querySelector('section.diff').innerText")
        assert "to be reverted" in diff and "Rereading George Eliot" in diff
        browser.screenshot(tmp_path / "changeset.png")

        type_into(browser, "#reason", "reverted from the browser")
        browser.evaluate("document.querySelector('form.revert button').click()")
        browser.wait_for(
            f"location.pathname.startsWith('/editor/history/') && location.pathname !== '/editor/history/{key}'"
            " && document.readyState === 'complete'"
        )
        head = browser.evaluate("document.querySelector('dl.changeset-head').innerText")
        assert "reverted from the browser" in head and key in head
        browser.screenshot(tmp_path / "reverted.png")
        assert ask(url, "to be reverted") is False
        assert browser.console_problems() == []

        # Reverting the original again: refused, and the page names the revert
        browser.navigate(f"{url}/editor/history/{key}")
        browser.evaluate("document.querySelector('form.revert button').click()")
        browser.wait_for("!!document.querySelector('div.problem') && document.readyState === 'complete'")
        problem = browser.evaluate("document.querySelector('div.problem').innerText")
        assert "no longer there" in problem
        browser.screenshot(tmp_path / "refused.png")
        assert browser.evaluate("document.querySelector('dl.changeset-head').innerText").count("Reverted by") == 1
