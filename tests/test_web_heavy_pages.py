"""Heavily referenced resources through a real server: paged, bounded, under a deadline.

The store is built here: ``heavy_records`` writes EDITIONS editions of one
Work (each with a call number, a subject and a co-author of its own) and
OTHER_WORKS works by the same author, with pymarc; ``run_ingest`` (what
``catalograph ingest`` runs) maps and writes them. So the Work has EDITIONS
instances, classifications, subjects, contributions and source records, and
the author is the agent of OTHER_WORKS + 1 Works' contributions. Before
resource pages were paged, the Work's page was 1.2 MB and took 2.3 s to make
on the development machine (2 cores), all of it in a server thread.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask
from pyoxigraph import RdfFormat, parse
from test_web_limits import RUNAWAY, get, serving, wait_for_workers
from web_fixtures import BASE, HEAVY_UNIFORM_TITLE, heavy_records, settings_for

from web.config import Settings
from web.ingest_command import run_ingest

EDITIONS = 2000
OTHER_WORKS = 1500
#: Items per list on the test servers' pages (the default is 100).
LIST_SIZE = 50
HTML = {"Accept": "text/html"}
#: A page of the heavy Work holds a few lists of at most LIST_SIZE items (each value a
#: line of markup, a contribution or a classification a few lines more): ~100 kB.
#: Unpaged, the same page was 1,230 kB.
PAGE_BYTES_BOUND = 300_000
#: Heavy pages asked for at once, twice the test server's threads.
HEAVY_REQUESTS = 16


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("heavy-pages")
    records = heavy_records(folder / "heavy.mrc", EDITIONS, OTHER_WORKS)
    report = run_ingest(settings_for(folder / "data"), [records], workers=1)
    assert report.rejected == 0 and report.written == EDITIONS + OTHER_WORKS
    return folder / "data"


def heavy_settings(data_dir: Path, **overrides: object) -> Settings:
    """More threads than page slots and line: a page never waits for a thread that pages hold."""
    return settings_for(
        data_dir,
        **{
            "threads": 8,
            "page_list_size": LIST_SIZE,
            "max_page_requests": 2,
            "page_queue": 2,
            **overrides,
        },
    )


@pytest.fixture(scope="module")
def served(data_dir: Path) -> Iterator[tuple[str, Flask]]:
    with serving(heavy_settings(data_dir, max_rows=500)) as served:
        yield served


@pytest.fixture(scope="module")
def work_path(served: tuple[str, Flask]) -> str:
    url, _app = served
    query = f'SELECT DISTINCT ?w WHERE {{ ?w a bf:Work ; rdfs:label "{HEAVY_UNIFORM_TITLE}" }}'
    (row,) = requests.get(url + "/sparql", params={"query": query}).json()["results"]["bindings"]
    return "/" + row["w"]["value"][len(BASE) :]


def listed(body: str, key: str) -> tuple[list[str], str | None]:
    """The links a page's list ``key`` shows, and the address of its next page (if any)."""
    found = re.search(
        r'data-list="' + re.escape(html.escape(key)) + r'"(.*?)</(?:section|tr)>', body, re.S
    )
    assert found, f"no list {key} on the page"
    block = found.group(1)
    nav = re.search(r'<nav class="more">(.*?)</nav>', block, re.S)
    items = block[: nav.start()] if nav else block
    hrefs = [html.unescape(h) for h in re.findall(r'<li><a href="([^"]+)"', items)]
    following = nav and re.search(r'<a rel="next" href="([^"]+)"', nav.group(1))
    return hrefs, html.unescape(following.group(1)) if following else None


def test_a_heavy_page_is_paged_and_bounded(served: tuple[str, Flask], work_path: str) -> None:
    url, _app = served
    response = requests.get(url + work_path, headers=HTML)
    assert response.status_code == 200
    assert len(response.content) < PAGE_BYTES_BOUND
    body = response.text
    instances, following = listed(body, "^bf:instanceOf")
    assert len(instances) == LIST_SIZE and following
    assert f"1–{LIST_SIZE} of {EDITIONS:,}" in html.unescape(body)
    for key in ("bf:classification", "bf:subject", "bf:contribution"):
        values, more = listed(body, key)
        assert more, f"{key}: no link to the rest"

    # Walk the instances' pages: each shows LIST_SIZE, every instance once, then no next link.
    seen = list(instances)
    address: str | None = urljoin(url + work_path, following)
    pages = 0
    while address:
        page = requests.get(address, headers=HTML)
        assert page.status_code == 200, page.text
        assert len(page.content) < PAGE_BYTES_BOUND
        hrefs, following = listed(page.text, "^bf:instanceOf")
        assert len(hrefs) == LIST_SIZE or following is None
        seen += hrefs
        address = urljoin(address, following) if following else None
        pages += 1
        assert pages <= EDITIONS // LIST_SIZE + 1
    assert len(seen) == EDITIONS and len(set(seen)) == EDITIONS
    assert all(href.startswith("/instance/") for href in seen)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"list": "^bf:instanceOf", "page": str(EDITIONS)}, 404),  # past the last page
        ({"list": "^bf:nothingLikeThis"}, 404),
        ({"list": "x" * 5000}, 404),
        ({"list": "^bf:instanceOf", "page": "0"}, 400),
        ({"list": "^bf:instanceOf", "page": "two"}, 400),
        ({"list": "^bf:instanceOf", "page": "9" * 400}, 400),
        ({"list": ["bf:subject", "bf:classification"]}, 400),
    ],
)
def test_bad_list_addresses_are_refused_cleanly(
    served: tuple[str, Flask], work_path: str, query: dict, status: int
) -> None:
    url, _app = served
    response = requests.get(url + work_path, params=query, headers=HTML)
    assert response.status_code == status, response.text[:300]


def test_the_rdf_twin_is_capped_and_says_so(served: tuple[str, Flask], work_path: str) -> None:
    url, _app = served
    response = requests.get(url + work_path + ".nt")
    assert response.status_code == 200
    assert response.headers["X-Catalograph-Truncated"] == "true; max-rows=500"
    assert len(list(parse(response.content, format=RdfFormat.N_TRIPLES))) == 500


def test_pages_beyond_the_slots_and_the_line_are_refused_at_once_and_health_answers(
    data_dir: Path,
) -> None:
    """Two runaway queries hold both workers, so two page requests wait for one, in
    the two page slots; with no line to wait in (``page_queue=0``) a third page
    request is refused with 503 and Retry-After at once, and /-/health answers,
    since the pages hold two of the eight threads."""
    settings = heavy_settings(
        data_dir,
        query_workers=2,
        query_queue=4,
        query_timeout_s=3,
        page_timeout_s=30,
        page_queue=0,
        max_client_queries=4,  # all requests come from one address: not the limit shown here
    )
    from web.page_limits import PageLimits

    with serving(settings) as (url, app):
        start_workers(url, app, 2)
        with ThreadPoolExecutor(max_workers=4) as pool:
            runaways = [pool.submit(get, url, RUNAWAY) for _ in range(2)]
            wait_until(lambda: sparql_pool_busy(app) == 2)
            waiting = [
                pool.submit(requests.get, f"{url}/agent/x{n}", headers=HTML, timeout=60)
                for n in range(2)
            ]
            wait_until(lambda: PageLimits.of(app).in_progress() == 2)
            refused = requests.get(url + "/work/anything", headers=HTML, timeout=10)
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "1"
            assert "pages" in refused.text
            health = requests.get(url + "/-/health", timeout=10)
            assert health.status_code == 200
            assert [f.result()[0] for f in runaways] == [503, 503]  # their 3 s deadline
            # then the waiting pages get a worker: unknown resources, a clean 404 each
            assert [f.result().status_code for f in waiting] == [404, 404]
        assert PageLimits.of(app).in_progress() == 0


def test_health_and_sparql_answer_while_heavy_pages_are_asked_for(
    served: tuple[str, Flask], work_path: str
) -> None:
    """Sixteen heavy pages at once: each is answered (200) or refused (429, 503),
    and meanwhile /-/health and a small query answer. Before pages were paged and
    limited, those sixteen held all eight threads and /-/health waited 8-14 s on the
    development machine; now it waits for no page (~10 ms when quiet). The 5 s bound
    leaves room for a loaded 2-core machine."""
    url, _app = served
    start = threading.Barrier(HEAVY_REQUESTS + 1)

    def heavy(_: int) -> requests.Response:
        start.wait()
        return requests.get(url + work_path, headers=HTML, timeout=120)

    with ThreadPoolExecutor(max_workers=HEAVY_REQUESTS) as pool:
        pages = [pool.submit(heavy, n) for n in range(HEAVY_REQUESTS)]
        start.wait()
        began = time.monotonic()
        health = requests.get(url + "/-/health", timeout=120)
        query = "SELECT ?w WHERE { ?w a bf:Work } LIMIT 1"
        small = requests.get(url + "/sparql", params={"query": query}, timeout=120)
        waited = time.monotonic() - began
        answers = [page.result() for page in pages]
    assert health.status_code == 200 and small.status_code == 200
    assert waited < 5, f"/-/health and a small query took {waited:.1f} s"
    for answer in answers:
        # 429: one address asks for sixteen at once, more than a client may have in progress
        assert answer.status_code in (200, 429, 503), answer.text[:300]
        if answer.status_code == 503:
            assert answer.headers["Retry-After"] == "1"
    assert any(answer.status_code == 200 for answer in answers)


def test_a_page_past_its_deadline_is_a_clear_503(data_dir: Path, work_path: str) -> None:
    """A 1 ms deadline: no page can be made in time (the worker alone opens the
    store and asks dozens of questions), so each is stopped and said to be."""
    with serving(heavy_settings(data_dir, page_timeout_s=0.001)) as (url, app):
        start_workers(url, app, 4)
        for suffix, accept in (("", "text/html"), (".ttl", "text/turtle")):
            response = requests.get(url + work_path + suffix, headers={"Accept": accept})
            assert response.status_code == 503, response.text[:300]
            assert "deadline" in response.text
        assert "<html" in requests.get(url + work_path, headers=HTML).text  # a page for browsers
        assert app.extensions["catalograph.limits"].pool.stats.overdue >= 1  # its worker killed
        assert requests.get(url + "/-/health").status_code == 200


def test_a_graph_store_dump_takes_a_page_slot_and_gives_it_back(data_dir: Path) -> None:
    """A Graph Store GET streams in a server thread, so it is counted as a page: with
    every slot taken and no line it is refused (503); otherwise it streams the whole
    graph and its slot is free again once the response is closed."""
    from web.page_limits import PageLimits

    settings = heavy_settings(data_dir, max_page_requests=1, page_queue=0)
    meta = {"graph": BASE + "graph/meta"}
    with serving(settings) as (url, app):
        limits = PageLimits.of(app)
        with limits.slot("127.0.0.9"):  # another client's page in progress
            refused = requests.get(url + "/rdf-graph-store", params=meta, timeout=30)
            assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        for _ in range(3):
            dump = requests.get(
                url + "/rdf-graph-store",
                params=meta,
                headers={"Accept": "application/n-triples"},
                timeout=60,
            )
            assert dump.status_code == 200
            assert dump.text.count("\n") > 3000  # the whole graph: a few lines per record
        wait_until(lambda: limits.in_progress() == 0)


def test_a_page_waits_in_line_for_a_slot() -> None:
    """Both slots taken: the next two requests (clients of no recent page time) wait
    in line and get the slots in the order they came as the slots free; a third finds the line full (503 at once);
    one that waits past its time is refused too, and leaves the line."""
    from web.page_limits import PageLimits, PagesBusyError

    limits = PageLimits(slots=2, per_client=2, queue=2, wait_s=30)
    order: list[str] = []
    first, second = limits.slot("127.0.0.2"), limits.slot("127.0.0.3")
    first.__enter__()
    second.__enter__()

    def wait_then_note(client: str) -> None:
        with limits.slot(client):
            order.append(client)

    waiters = []
    for client in ("127.0.0.4", "127.0.0.5"):
        waiter = threading.Thread(target=wait_then_note, args=(client,))
        waiter.start()
        waiters.append(waiter)
        wait_until(lambda n=len(waiters): limits.waiting() == n)
    with pytest.raises(PagesBusyError, match="wait"):
        limits.slot("127.0.0.6").__enter__()
    first.__exit__(None, None, None)
    waiters[0].join(10)
    second.__exit__(None, None, None)
    waiters[1].join(10)
    assert order == ["127.0.0.4", "127.0.0.5"]
    assert limits.in_progress() == 0 and limits.waiting() == 0

    impatient = PageLimits(slots=1, per_client=2, queue=1, wait_s=0.2)
    with impatient.slot("127.0.0.2"):
        began = time.monotonic()
        with pytest.raises(PagesBusyError, match="within 0.2 s"):
            impatient.slot("127.0.0.3").__enter__()
        assert time.monotonic() - began >= 0.2
        assert impatient.waiting() == 0


def test_a_freed_slot_goes_to_the_client_with_the_least_recent_page_time() -> None:
    """A crawler that has just spent seconds on pages waits behind a reader who came
    after it; among clients of equal recent time the earliest goes first."""
    from web.page_limits import PageLimits

    limits = PageLimits(slots=1, per_client=2, queue=3, wait_s=30)
    limits.costs.add("127.0.0.9", 5.0, time.monotonic())  # the crawler's last pages
    order: list[str] = []

    def wait_then_note(client: str) -> None:
        with limits.slot(client):
            order.append(client)

    holder = limits.slot("127.0.0.2")
    holder.__enter__()
    waiters = []
    for client in ("127.0.0.9", "127.0.0.3", "127.0.0.4"):  # the crawler comes first
        waiter = threading.Thread(target=wait_then_note, args=(client,))
        waiter.start()
        waiters.append(waiter)
        wait_until(lambda n=len(waiters): limits.waiting() == n)
    holder.__exit__(None, None, None)
    for waiter in waiters:
        waiter.join(10)
    assert order == ["127.0.0.3", "127.0.0.4", "127.0.0.9"]


def test_recent_page_time_halves_and_is_bounded() -> None:
    from web.page_limits import RecentCost

    costs = RecentCost(half_life_s=10.0, limit=2)
    costs.add("a", 4.0, now=100.0)
    assert costs.of("a", now=110.0) == pytest.approx(2.0)
    costs.add("b", 1.0, now=110.0)
    costs.add("c", 1.0, now=110.0)  # a, the least recently seen, is forgotten
    assert costs.of("a", now=110.0) == 0.0 and costs.of("c", now=110.0) == 1.0


def test_page_slots_are_counted_per_server_and_per_client() -> None:
    from web.page_limits import PageLimits, PagesBusyError

    limits = PageLimits(slots=2, per_client=1)
    with limits.slot("127.0.0.2"), limits.slot("127.0.0.3"):
        assert limits.in_progress() == 2
        with pytest.raises(PagesBusyError) as busy:
            limits.slot("127.0.0.4").__enter__()
        assert busy.value.http_status == 503 and busy.value.retry_after == 1
    with limits.slot("127.0.0.2"):
        with pytest.raises(Exception, match="in progress") as too_many:
            limits.slot("127.0.0.2").__enter__()
        assert too_many.value.http_status == 429
    assert limits.in_progress() == 0


def start_workers(url: str, app: Flask, count: int) -> None:
    """Have the server start its query workers (on its first query) and wait for them."""
    assert requests.get(url + "/sparql", params={"query": "ASK {}"}).status_code == 200
    wait_for_workers(app, count)


def sparql_pool_busy(app: Flask) -> int:
    return app.extensions["catalograph.limits"].pool.busy()


def wait_until(condition, seconds: float = 30.0) -> None:  # noqa: ANN001
    """Poll ``condition``; a generous limit, since only a broken server takes that long."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)
