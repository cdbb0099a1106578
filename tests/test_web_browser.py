"""A real browser (headless Chromium) loads pages from the real server.

The DOM Chromium builds is what a reader sees: the label must be in it, and the
hostile record's markup must stay text (no element made from record data).
"""

from __future__ import annotations

import html
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_cdp import CHROMIUM, HEADLESS_FLAGS
from web_fixtures import (
    BROWSER_TESTS,
    HOSTILE_GRAPH_PATH,
    HOSTILE_TITLE,
    build_data_dir,
    running_server,
    settings_for,
)

pytestmark = BROWSER_TESTS


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-browser"))
    with running_server(settings_for(data_dir)) as root:
        yield root


def dump_dom(url: str, profile: Path) -> str:
    completed = subprocess.run(
        [
            str(CHROMIUM),
            *HEADLESS_FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        timeout=90,
        check=True,
    )
    return completed.stdout.decode("utf-8")


def test_resource_page_in_a_browser(url: str, tmp_path: Path) -> None:
    dom = dump_dom(url + "/instance/lccn-2002036483", tmp_path / "profile")
    assert "<h1>Rereading George Eliot : changing responses to her experiments in life</h1>" in dom
    assert '<dt title="http://id.loc.gov/ontologies/bibframe/mainTitle">main title</dt>' in dom
    assert '<link rel="stylesheet" href="/static/catalograph.css">' in dom


def test_hostile_record_stays_text_in_the_dom(url: str, tmp_path: Path) -> None:
    dom = dump_dom(url + "/" + HOSTILE_GRAPH_PATH, tmp_path / "profile")
    assert "<script>alert" not in dom
    assert html.escape(HOSTILE_TITLE, quote=False) in dom
