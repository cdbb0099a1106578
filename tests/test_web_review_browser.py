"""A reviewer accepts a match candidate in headless Chromium; a cataloger may not.

The real server over a store the real ``catalograph ingest`` built from real records
(``review_fixtures``), the real login form, the queue's own Accept button clicked; then both
resources' pages, each linking to the other as "same as". A cataloger sees the queue without
its buttons, and a decision the cataloger's page sends anyway (with its CSRF token, through
``fetch``) is refused. Screenshots are left in the test's temporary folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_cdp import Chromium
from review_fixtures import HERMAN, MONK, candidate
from web_fixtures import BROWSER_TESTS, PASSWORD, running_server, settings_for, sign_in

from tests.conftest import IngestedStore
from web.accounts import add_user

pytestmark = BROWSER_TESTS


@pytest.fixture(scope="module")
def url(review_store: IngestedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = review_store.copy(tmp_path_factory, "web-review-browser")
    add_user(data_dir, "carl", PASSWORD, "cataloger")
    add_user(data_dir, "rita", PASSWORD, "reviewer")
    with running_server(settings_for(data_dir)) as root:
        yield root


def local(iri: str) -> str:
    return "/" + iri.split("/", 3)[3]


def test_a_reviewer_accepts_and_both_pages_link_to_each_other(url: str, tmp_path: Path) -> None:
    item = f"#c-{candidate(MONK).value.rsplit('#', 1)[1]}"
    with Chromium(tmp_path / "profile") as browser:
        sign_in(browser, url, "rita", "/editor/review")
        assert browser.evaluate("document.querySelector('h1').textContent") == "Review queue"
        assert browser.evaluate(f"document.querySelector('{item} .why').innerText").startswith(
            "agents: same name, dates missing on one side or (nearly) agreeing"
        )
        browser.screenshot(tmp_path / "queue.png")
        browser.evaluate(f"document.querySelector('{item} input[name=reason]').focus()")
        browser.send("Input.insertText", {"text": "one pianist"})
        browser.evaluate(f"document.querySelector('{item} button.accept').click()")
        browser.wait_for("location.search.includes('done=accept') && document.readyState === 'complete'")
        assert browser.evaluate("document.querySelector('p[role=status]').textContent") == (
            "Accepted: the two are now one."
        )
        assert browser.evaluate(f"document.querySelector('{item}')") is None  # no longer pending
        browser.navigate(url + "/editor/review?status=accepted")
        assert browser.evaluate(f"!!document.querySelector('{item} button.undo')") is True
        browser.screenshot(tmp_path / "accepted.png")
        for this, other in (MONK, MONK[::-1]):
            browser.navigate(url + local(this))
            links = browser.evaluate(
                "[...document.querySelectorAll('tr[data-list=\"owl:sameAs\"] a')].map(a => a.getAttribute('href'))"
            )
            assert links == [local(other)], links
            assert browser.evaluate("document.querySelector('tr[data-list=\"owl:sameAs\"] th').textContent") == "same as"
        browser.evaluate("document.querySelector('tr[data-list=\"owl:sameAs\"] a').click()")
        browser.wait_for(f"location.pathname === {json.dumps(local(MONK[0]))} && document.readyState === 'complete'")
        browser.screenshot(tmp_path / "same-as.png")
        assert browser.console_problems() == []


def test_a_cataloger_sees_the_queue_but_may_not_decide(url: str, tmp_path: Path) -> None:
    with Chromium(tmp_path / "profile") as browser:
        sign_in(browser, url, "carl", "/editor/review")
        assert browser.evaluate("document.querySelectorAll('li.candidate').length") > 0
        assert browser.evaluate("document.querySelectorAll('button.accept, button.reject').length") == 0
        send = (
            "(async () => { const body = new URLSearchParams({candidate: "
            + json.dumps(candidate(HERMAN).value)
            + ", csrf_token: document.querySelector('header form input[name=csrf_token]').value});"
            " const answer = await fetch('/editor/review/reject', {method: 'POST', body});"
            " return answer.status + ' ' + await answer.text(); })()"
        )
        status = browser.evaluate(send)
        assert status.startswith("403") and "may not review" in status, status
        browser.navigate(url + "/editor/review?status=rejected")
        assert browser.evaluate("document.querySelectorAll('li.candidate').length") == 0  # nothing decided
        browser.screenshot(tmp_path / "cataloger.png")
