"""A real data directory from real records, and the real server over it.

``build_data_dir`` maps the traject test records (plus one hostile record
written here, whose text carries markup) through the real ingest pipeline and
writes them with ``graph.Writer``, which publishes the checkpoint the server
reads. ``running_server`` starts waitress (``web.server.create_server``, the
same code ``catalograph serve`` runs) in a background thread on a free port.
``BROWSER_TESTS``, ``type_into`` and ``sign_in`` are what the modules that drive
headless Chromium (``browser_cdp``) share: the marks that skip them, saying
why, where Chromium is absent, and the real login form typed into.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_cdp import CHROMIUM, Chromium
from pymarc import Field, Record, Subfield

from graph import Writer
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import Rejected
from ingest.sources import get_source
from web.config import Settings, load_settings
from web.server import create_server, server_url, stop

ROOT = Path(__file__).resolve().parent.parent
TRAJECT = ROOT / "tests" / "data" / "marc" / "traject"
BASE = "http://127.0.0.1:5000/"

#: The hostile record: a title and a name that would run as script if unescaped,
#: and a control number that needs percent-encoding in its graph IRI.
HOSTILE_TITLE = "<script>alert('pwned')</script> & other tales"
HOSTILE_NAME = "O'Hara, <b>Bold</b>"
HOSTILE_ID = "xss/1 é"
HOSTILE_GRAPH_PATH = "graph/marc/xss%2F1%20%C3%A9"


def hostile_record(path: Path) -> Path:
    record = Record(force_utf8=True)
    record.leader = record.leader[:5] + "nam" + record.leader[8:]
    record.add_field(Field(tag="001", data=HOSTILE_ID))
    record.add_field(
        Field(tag="100", indicators=["1", " "], subfields=[Subfield("a", HOSTILE_NAME)])
    )
    record.add_field(
        Field(tag="245", indicators=["1", "0"], subfields=[Subfield("a", HOSTILE_TITLE)])
    )
    path.write_bytes(record.as_marc())
    return path


def record_files(tmp: Path) -> list[Path]:
    return sorted(TRAJECT.glob("*.marc")) + [hostile_record(tmp / "hostile.mrc")]


def ingest(
    data_dir: Path, paths: list[Path], base: str = BASE, make_checkpoint: bool = True
) -> Path:
    """Map ``paths`` and write them into ``data_dir`` the way ``catalograph ingest`` does."""
    minter = IriMinter(base)
    source = get_source("marc")
    graphs = []
    for path in paths:
        for item in source.read(path, name=path.name):
            mapped = item if isinstance(item, Rejected) else map_record(item, minter)
            assert not isinstance(mapped, Rejected), str(mapped)
            graphs.append(mapped)
    with Writer(
        data_dir, minter.layout, "test", make_checkpoint=make_checkpoint
    ) as writer:
        writer.write(graphs)
    return data_dir


def build_data_dir(tmp: Path, base: str = BASE) -> Path:
    """The traject records and the hostile one, ingested into ``tmp/data``."""
    return ingest(tmp / "data", record_files(tmp), base)


def settings_for(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test server: a free port, and the pool the tests were written against."""
    small = {"threads": 4, "query_workers": 4, "query_queue": 4}
    return load_settings(env={}, **{"data_dir": data_dir, "port": 0, **small, **overrides})


@contextmanager
def running_server(settings: Settings) -> Iterator[str]:
    """The URL of a waitress server running the app over ``settings`` until the block ends."""
    server = create_server(settings)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield server_url(server).rstrip("/")
    finally:
        stop(server)
        thread.join(timeout=10)
        assert not thread.is_alive(), "the server did not stop"


#: ``pytestmark`` of a module that drives Chromium: marked ``browser``, skipped where it is absent.
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs headless Chromium at /usr/bin/chromium (Debian package 'chromium')",
    ),
]
#: The password of the accounts the browser tests sign in with.
PASSWORD = "a long enough password"


def type_into(browser: Chromium, selector: str, text: str) -> None:
    """Type ``text`` into the element ``selector`` finds, as a keyboard would (no value set)."""
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
    browser.send("Input.insertText", {"text": text})


def sign_in(browser: Chromium, url: str, name: str, target: str = "/editor") -> None:
    """Open ``target`` not signed in: the server answers with the login form, which is typed
    into and submitted by clicking its button, and leads back to ``target``."""
    browser.navigate(url + target)
    browser.wait_for("location.pathname === '/login' && document.readyState === 'complete'")
    type_into(browser, "#name", name)
    type_into(browser, "#password", PASSWORD)
    browser.evaluate("document.querySelector('form.login button').click()")
    browser.wait_for("location.pathname !== '/login' && document.readyState === 'complete'")
    assert browser.evaluate("location.pathname") == urlsplit(target).path


#: The heavy store (``heavy_records``): one Work that every edition's record adds to, and
#: one author of many other Works.
HEAVY_AUTHOR = "Austen, Jane,"
HEAVY_UNIFORM_TITLE = "Pride and prejudice"


def heavy_records(path: Path, editions: int, other_works: int) -> Path:
    """MARC records that make a few units very heavily referenced, written to ``path``.

    ``editions`` records are editions of one Work (the same 100 and 240), each
    with a call number (050), a subject (650) and a co-author (700) of its own:
    the Work gets that many instances pointing at it, classifications,
    subjects, contributions and source records. ``other_works`` records are
    works of their own by the same author, who is then the agent of that many
    Works' contributions. Made with pymarc, read by the real ingest pipeline.
    """

    def record(number: int, title: str, uniform: str | None) -> bytes:
        record = Record(force_utf8=True)
        record.leader = record.leader[:5] + "nam" + record.leader[8:]
        year = str(1813 + number % 200)
        record.add_field(Field(tag="001", data=f"heavy{number:06d}"))
        record.add_field(Field(tag="008", data=f"850101s{year}    enk           000 1 eng d"))
        record.add_field(
            Field(tag="050", indicators=[" ", "4"], subfields=[Subfield("a", f"PR4034.P{number}")])
        )
        record.add_field(
            Field(tag="100", indicators=["1", " "], subfields=[Subfield("a", HEAVY_AUTHOR)])
        )
        if uniform:
            record.add_field(
                Field(tag="240", indicators=["1", "0"], subfields=[Subfield("a", uniform)])
            )
        record.add_field(Field(tag="245", indicators=["1", "0"], subfields=[Subfield("a", title)]))
        record.add_field(
            Field(
                tag="260",
                indicators=[" ", " "],
                subfields=[Subfield("a", "London :"), Subfield("b", f"Press {number % 37},"),
                           Subfield("c", year)],
            )
        )
        if uniform:
            record.add_field(
                Field(tag="650", indicators=[" ", "0"],
                      subfields=[Subfield("a", f"Courtship {number}"), Subfield("v", "Fiction.")])
            )
            record.add_field(
                Field(tag="700", indicators=["1", " "],
                      subfields=[Subfield("a", f"Reader, Number {number},")])
            )
        return record.as_marc()

    with path.open("wb") as out:
        for number in range(editions):
            out.write(record(number, f"Pride and prejudice (edition {number})", HEAVY_UNIFORM_TITLE))
        for number in range(editions, editions + other_works):
            out.write(record(number, f"Minor work {number}", None))
    return path
