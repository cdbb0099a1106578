"""A cataloger signs in, updates from the query page, and signs out, in headless Chromium.

The real server, the real login form (typed into and submitted by clicking),
YASGUI sending the update with the session's CSRF token, the logout button in
the page header. Screenshots are left in the test's temporary folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from browser_cdp import Chromium
from test_web_auth import INSTANCE, insert
from web_fixtures import (
    BROWSER_TESTS,
    PASSWORD,
    build_data_dir,
    running_server,
    settings_for,
    type_into,
)

from web.accounts import add_user

pytestmark = BROWSER_TESTS


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-login-browser"))
    add_user(data_dir, "carl", PASSWORD, "cataloger")
    with running_server(settings_for(data_dir)) as root:
        yield root


def path(browser: Chromium) -> str:
    return browser.evaluate("location.pathname")


def ask(url: str, note: str) -> bool:
    query = f'ASK {{ <{INSTANCE}> rdfs:comment "{note}" }}'
    return requests.get(url + "/sparql", params={"query": query}).json()["boolean"]


def test_sign_in_update_and_sign_out(url: str, tmp_path: Path) -> None:
    with Chromium(tmp_path / "profile") as browser:
        browser.navigate(url + "/editor")  # not signed in: the login form, then back
        assert path(browser) == "/login"
        type_into(browser, "#name", "carl")
        type_into(browser, "#password", PASSWORD)
        browser.evaluate("document.querySelector('form.login button').click()")
        browser.wait_for("location.pathname === '/editor' && document.readyState === 'complete'")
        assert browser.evaluate("document.querySelector('h1').textContent") == "Editor"
        header = browser.evaluate("document.querySelector('header.site').innerText")
        assert "carl" in header and "Log out" in header
        # The page script cannot read the session cookie (HttpOnly).
        assert "catalograph_session" not in browser.evaluate("document.cookie")
        browser.screenshot(tmp_path / "editor.png")

        # An update from the query page: YASGUI sends the page's CSRF token.
        browser.navigate(url + "/sparql")
        browser.wait_for("!!(window.catalographYasgui && document.querySelector('.yasgui .CodeMirror'))")
        update = json.dumps(insert("from the browser"))
        browser.events.clear()
        browser.evaluate(
            f"window.catalographYasgui.getTab().getYasqe().setValue({update});"
            "window.catalographYasgui.getTab().getYasqe().query().catch(() => null)"
        )
        browser.wait_for(
            "!!window.catalographYasgui.getTab().getYasr().results", timeout=30
        )
        sent = [
            e["params"]["request"]
            for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"
            and e["params"]["request"]["url"].endswith("/sparql")
            and e["params"]["request"]["method"] == "POST"
        ]
        assert sent and "X-CSRFToken" in sent[-1]["headers"]
        assert "update=" in sent[-1].get("postData", "")
        assert ask(url, "from the browser") is True
        browser.screenshot(tmp_path / "query-update.png")

        # Sign out with the header's button: back home, a reader again.
        browser.evaluate("document.querySelector('form.account button').click()")
        browser.wait_for("location.pathname === '/' && document.readyState === 'complete'")
        header = browser.evaluate("document.querySelector('header.site').innerText")
        assert "Log in" in header and "carl" not in header
        browser.screenshot(tmp_path / "signed-out.png")
        browser.navigate(url + "/editor")
        assert path(browser) == "/login"
        assert browser.console_problems() == []


def test_a_wrong_password_in_chinese(url: str, tmp_path: Path) -> None:
    with Chromium(tmp_path / "profile") as browser:
        browser.navigate(url + "/-/lang?to=zh&next=/login")
        assert browser.evaluate("document.querySelector('h1').textContent") == "登录"
        type_into(browser, "#name", "carl")
        type_into(browser, "#password", "not the password")
        browser.evaluate("document.querySelector('form.login button').click()")
        browser.wait_for("!!document.querySelector('p.problem')")
        assert browser.evaluate("document.querySelector('p.problem').textContent") == "用户名或密码错误。"
        assert browser.evaluate("document.querySelector('#name').value") == "carl"
        assert browser.evaluate("document.querySelector('#password').value") == ""
        browser.screenshot(tmp_path / "login-zh.png")
