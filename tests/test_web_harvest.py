"""``catalograph harvest`` against a real HTTP server on loopback, into a real store on disk.

In every test the server (``tests/oai_repository.py``) stands in for a remote
OAI-PMH repository: it answers with real OAI-PMH responses (sickle's and
traject's test files, copied in ``tests/data/oai_pmh``; arXiv's and INSPIRE's
read from ../shared/data) and misbehaves as repositories do: 503 with
Retry-After, a page cut short, a token given twice, a slow answer, OAI errors.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from pyoxigraph import Store

from graph.harvest_state import FILE_NAME
from ingest.sources.oai_harvest import Harvester, HarvestLimits, HarvestRequest
from ontology.errors import HarvestError, UsageError
from tests.conftest import shared_path, test_path
from tests.oai_repository import OaiRepository, Reply, file_reply
from web.config import load_settings
from web.harvest_command import run_harvest_command

OAI = "oai_pmh"
FIRST = "oai_pmh/traject/oai-pmh-one-record-first.xml"  # token dummy_resumption, record fq977t769
SECOND = "oai_pmh/traject/oai-pmh-one-record-2.xml"  # empty token: the last page, record w0892992w
IDENTIFY = "oai_pmh/sickle/Identify.xml"  # granularity YYYY-MM-DD
#: Small limits so that a failing test fails in seconds.
FAST = HarvestLimits(timeout=2.0, response_seconds=5.0, retries=2, backoff=0.01, max_retry_after=2.0)
GRAPH_FIRST = "http://127.0.0.1:5000/graph/oai/oai%3Asciencehistoryorg%3Afq977t769"
GRAPH_SECOND = "http://127.0.0.1:5000/graph/oai/oai%3Asciencehistoryorg%3Aw0892992w"


def body(relative: str) -> bytes:
    return test_path(relative).read_bytes()


def two_pages(params: dict[str, str]) -> Reply:
    """traject's real two-page harvest of the Science History Institute's repository."""
    if params.get("verb") == "Identify":
        return Reply(body(IDENTIFY))
    if params.get("resumptionToken") == "dummy_resumption":
        return Reply(body(SECOND))
    return Reply(body(FIRST))


def harvest(data: Path, url: str, capsys, limits: HarvestLimits = FAST, **options) -> tuple[int, str]:
    """Run the command as the CLI does; ``(exit code, stderr)``."""
    settings = load_settings(None, env={}, data_dir=data)
    code = run_harvest_command(
        settings, url, metadata_prefix=options.pop("metadata_prefix", "oai_dc"),
        set_spec=options.pop("set_spec", None), from_date=options.pop("from_date", None),
        until_date=options.pop("until_date", None), restart=options.pop("restart", False),
        report_path=None, quiet=False, limits=limits,
    )
    return code, capsys.readouterr().err


def record_graphs(data: Path) -> set[str]:
    from graph.snapshots import latest_snapshot

    store = Store.read_only(str(latest_snapshot(data)))
    return {graph.value for graph in store.named_graphs() if "/graph/oai/" in graph.value}


def state(data: Path) -> dict:
    with sqlite3.connect(data / FILE_NAME) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(row) for row in db.execute("SELECT * FROM harvest")]
    assert len(rows) == 1
    return rows[0]


def test_tokens_are_followed_to_the_end_and_each_record_has_its_graph(tmp_path, capsys):
    """The server stands in for a remote repository: two real pages joined by a token."""
    with OaiRepository(two_pages) as repo:
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 0, err
    assert repo.requests == [
        {"verb": "Identify"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        {"verb": "ListRecords", "resumptionToken": "dummy_resumption"},  # the token stands alone
    ]
    assert f"read 2 records from 2 page(s) of {repo.url}" in err
    assert re.search(r"written\s+2 ", err) and re.search(r"rejected\s+0\n", err)
    assert "page 1: 1 records (1 of 2)" in err and "page 2: 1 records (2 of 2)" in err  # progress
    assert record_graphs(tmp_path) == {GRAPH_FIRST, GRAPH_SECOND}
    row = state(tmp_path)
    assert row["token"] is None and row["next_from"] == "2018-06-15"  # first responseDate, by day
    assert row["last_datestamp"] == "2018-05-03T18:09:08Z"


def test_the_next_run_is_incremental_and_no_records_match_is_success(tmp_path, capsys):
    """The server stands in for a remote repository that has no change since the last harvest."""

    def answer(params):
        if "from" in params:
            return Reply(body("oai_pmh/sickle/noRecordsMatch.xml"))
        return two_pages(params)

    with OaiRepository(answer) as repo:
        assert harvest(tmp_path, repo.url, capsys)[0] == 0
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 0, err
    assert repo.requests[-1] == {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2018-06-15"}
    assert "incremental: changes from 2018-06-15" in err and "no records match" in err
    assert record_graphs(tmp_path) == {GRAPH_FIRST, GRAPH_SECOND}  # nothing lost


def test_a_deleted_record_drops_its_graph(tmp_path, capsys):
    """The server stands in for a remote repository where a record is withdrawn after a harvest.

    The second answer is traject's first page with its record marked deleted, as
    OAI-PMH gives a deletion: a header with status="deleted" and no metadata.
    """
    deleted = re.sub(rb"<metadata>.*</metadata>", b"", body(FIRST), flags=re.DOTALL)
    deleted = deleted.replace(b"<header>", b'<header status="deleted">').replace(
        b'<resumptionToken completeListSize="2">dummy_resumption</resumptionToken>', b"")

    def answer(params):
        return Reply(deleted) if "from" in params else two_pages(params)

    with OaiRepository(answer) as repo:
        assert harvest(tmp_path, repo.url, capsys)[0] == 0
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 0, err
    assert re.search(r"deleted\s+1\n", err)
    assert record_graphs(tmp_path) == {GRAPH_SECOND}


def test_503_with_retry_after_is_waited_then_retried(tmp_path, capsys):
    """The server stands in for a busy remote repository: 503 with Retry-After: 1, then the page."""
    busy = iter([True])

    def answer(params):
        if params.get("verb") == "ListRecords" and "resumptionToken" not in params and next(busy, False):
            return Reply(b"busy", status=503, headers={"Retry-After": "1"})
        return two_pages(params)

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 0, err
    assert "answered 503; trying again in 1 s (1 of 2)" in err
    assert repo.verbs() == ["Identify", "ListRecords", "ListRecords", "ListRecords"]
    assert record_graphs(tmp_path) == {GRAPH_FIRST, GRAPH_SECOND}


def test_retry_after_is_honoured_in_both_forms_and_bounded(tmp_path):
    """The server stands in for a remote repository that keeps answering 503.

    The waits asked for are recorded instead of slept: seconds, an HTTP date,
    and a day (capped at ``max_retry_after``); then the harvest ends with an error.
    """
    answers = iter([{"Retry-After": "3"}, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
                    {"Retry-After": "86400"}, {}])

    def answer(params):
        return Reply(b"busy", status=503, headers=next(answers, {}))

    waits: list[float] = []
    limits = HarvestLimits(retries=3, backoff=0.5, max_retry_after=60.0)
    with OaiRepository(answer) as repo:
        harvester = Harvester(HarvestRequest(repo.url, limits=limits), sleep=waits.append)
        with pytest.raises(HarvestError, match="answered 503 4 times"):
            list(harvester.pages())
    assert waits == [3.0, 0.0, 60.0]  # a date in the past: no wait; a day: the cap


def test_a_page_cut_short_is_fetched_again_then_the_harvest_stops_and_resumes(tmp_path, capsys):
    """The server stands in for a remote repository whose second page arrives cut short.

    lxml's recovering parser (the library's) would take the cut page for a
    whole last page; the harvest must instead stop with page 1 committed and
    resume at page 2's token on the next run.
    """
    broken = [True]

    def answer(params):
        if params.get("resumptionToken") == "dummy_resumption" and broken[0]:
            return Reply(body(SECOND), cut_at=1500)  # a well-formed HTTP answer, XML cut
        return two_pages(params)

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys)
        assert code == 1, err
        assert "not well-formed XML" in err and "fetching it again" in err
        assert "stopped: page 2:" in err and "1 page(s) were committed" in err
        assert record_graphs(tmp_path) == {GRAPH_FIRST}
        assert state(tmp_path)["token"] == "dummy_resumption"
        broken[0] = False
        requests_before = len(repo.requests)
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 0, err
    assert "resuming after page 1" in err
    assert repo.requests[requests_before:] == [
        {"verb": "Identify"}, {"verb": "ListRecords", "resumptionToken": "dummy_resumption"}]
    assert record_graphs(tmp_path) == {GRAPH_FIRST, GRAPH_SECOND}
    assert state(tmp_path)["token"] is None and state(tmp_path)["next_from"] == "2018-06-15"


def test_a_dropped_connection_is_retried(tmp_path, capsys):
    """The server stands in for a remote repository whose connection drops in the middle of page 1."""
    drops = iter([True])

    def answer(params):
        if params.get("verb") == "ListRecords" and next(drops, False):
            return Reply(body(FIRST), drop_at=700)
        return two_pages(params)

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 0, err
    assert "RemoteProtocolError" in err and "trying again" in err


def test_a_repeating_token_ends_the_harvest_instead_of_looping(tmp_path, capsys):
    """The server stands in for a broken remote repository that gives the same page and token again."""

    def answer(params):
        return Reply(body(IDENTIFY)) if params.get("verb") == "Identify" else Reply(body(FIRST))

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 1
    assert "gave the resumption token 'dummy_resumption' again" in err
    assert len(repo.requests) == 3  # Identify, page 1, the same page once more: then stopped
    assert record_graphs(tmp_path) == {GRAPH_FIRST}


def test_a_slow_repository_times_out(tmp_path, capsys):
    """The server stands in for a remote repository that takes longer than the timeout to answer."""

    def answer(params):
        return Reply(body(IDENTIFY), delay=3.0)

    limits = HarvestLimits(timeout=0.3, retries=1, backoff=0.01)
    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys, limits=limits)
    assert code == 1
    assert "did not answer: no answer in time" in err and "(2 tries)" in err


@pytest.mark.parametrize(
    ("error_file", "expected"),
    [
        ("badArgument.xml", "badArgument: the repository refused the request"),
        ("badResumptionToken.xml", "badResumptionToken: the repository no longer knows the resumption token"),
        ("cannotDisseminateFormat.xml", "does not offer metadataPrefix='oai_dc'; it offers epicur, mods, oai_dc, swepub_mods, xMetaDissPlus"),
        ("idDoesNotExist.xml", "idDoesNotExist: the repository knows no such identifier"),
        ("noSetHierarchy.xml", "noSetHierarchy: the repository has no sets, so --set 'physics' cannot be used"),
        ("undefinedError.xml", "the repository answered an OAI-PMH error (GeneralOAIPMHError)"),
    ],
)
def test_each_oai_error_has_its_own_message(tmp_path, capsys, error_file, expected):
    """The server stands in for a remote repository answering the real error responses of sickle's tests."""

    def answer(params):
        if params.get("verb") == "Identify":
            return Reply(body(IDENTIFY))
        if params.get("verb") == "ListMetadataFormats":
            return Reply(body("oai_pmh/sickle/ListMetadataFormats.xml"))
        return Reply(body(f"oai_pmh/sickle/{error_file}"))

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys, set_spec="physics")
    assert code == 1
    assert expected in err, err


def test_a_stale_token_is_harvested_again_from_the_start(tmp_path, capsys):
    """The server stands in for a remote repository that forgot a token between two runs."""
    forgot = [False]

    def answer(params):
        if params.get("resumptionToken") == "dummy_resumption":
            if forgot[0]:
                return Reply(body("oai_pmh/sickle/badResumptionToken.xml"))
            return Reply(b"", drop_at=0)
        return two_pages(params)

    with OaiRepository(answer) as repo:
        assert harvest(tmp_path, repo.url, capsys)[0] == 1  # page 2 never comes
        forgot[0] = True
        code, err = harvest(tmp_path, repo.url, capsys)
    assert "harvesting again from the start" in err
    assert repo.requests[-2:] == [{"verb": "ListRecords", "metadataPrefix": "oai_dc"},
                                  {"verb": "ListRecords", "resumptionToken": "dummy_resumption"}]
    assert code == 1  # it still cannot get page 2, and says so


def test_a_doctype_is_refused(tmp_path, capsys):
    """The server stands in for a hostile remote repository: an entity in a DOCTYPE (XXE)."""
    hostile = body(FIRST).replace(
        b'<?xml version="1.0" encoding="UTF-8"?>',
        b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    assert hostile != body(FIRST)

    def answer(params):
        return Reply(body(IDENTIFY)) if params.get("verb") == "Identify" else Reply(hostile)

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 1
    assert "DOCTYPEs, entity declarations and external entities are not allowed" in err
    assert record_graphs(tmp_path) == set()  # nothing of the page went in


def test_responses_are_bounded_even_compressed(tmp_path, capsys):
    """The server stands in for a hostile remote repository: a gzip bomb, 50 MB of XML in 50 kB."""
    bomb = body(FIRST).replace(b"<ListRecords>", b"<ListRecords><!--" + b" " * 50_000_000 + b"-->")

    def answer(params):
        if params.get("verb") == "Identify":
            return Reply(body(IDENTIFY))
        return Reply(bomb, gzip=True)

    limits = HarvestLimits(timeout=5.0, retries=0, max_response_bytes=1_000_000)
    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys, limits=limits)
    assert code == 1
    assert "sent a response of more than 1,000,000 bytes; not read" in err


def test_a_compressed_page_is_read(tmp_path, capsys):
    """The server stands in for a remote repository that compresses its answers."""

    def answer(params):
        reply = two_pages(params)
        reply.gzip = True
        return reply

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 0, err
    assert record_graphs(tmp_path) == {GRAPH_FIRST, GRAPH_SECOND}


def test_bad_usage_exits_2(tmp_path, capsys):
    with pytest.raises(UsageError, match="not an http"):
        harvest(tmp_path, "file:///etc/passwd", capsys)
    with pytest.raises(UsageError, match="--from '2020/01/01'"):
        harvest(tmp_path, "http://127.0.0.1:9/oai", capsys, from_date="2020/01/01")
    assert UsageError.exit_code == 2


def test_marc21_records_in_oai_envelopes_are_mapped_by_the_marc_mapper(tmp_path, capsys):
    """The server stands in for INSPIRE's repository (its real answer, GPL: read in place)."""
    inspire = shared_path("oa/arxiv_oai/invenio-oaiharvester/sample_inspire_response_listrecords.xml")

    def answer(params):
        return Reply(body(IDENTIFY)) if params.get("verb") == "Identify" else file_reply(inspire)

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys, metadata_prefix="marcxml")
    assert code == 0, err
    assert repo.requests[1] == {"verb": "ListRecords", "metadataPrefix": "marcxml"}
    assert record_graphs(tmp_path) == {
        "http://127.0.0.1:5000/graph/oai/oai%3Ainspirehep.net%3A972855",
        "http://127.0.0.1:5000/graph/oai/oai%3Ainspirehep.net%3A974318",
    }


def test_arxiv_records_are_harvested(tmp_path, capsys):
    """The server stands in for arXiv's repository: its real answer of 150 physics records (GPL: read in place)."""
    physics = shared_path("oa/arxiv_oai/invenio-oaiharvester/sample_arxiv_response_listrecords_physics.xml")

    def answer(params):
        return Reply(body(IDENTIFY)) if params.get("verb") == "Identify" else file_reply(physics)

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys, metadata_prefix="arXiv", set_spec="physics")
    assert code == 0, err
    assert "read 150 records" in err and re.search(r"written\s+150 ", err)
    assert repo.requests[1] == {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "physics"}
    assert len(record_graphs(tmp_path)) == 150


def test_endless_empty_pages_are_stopped(tmp_path, capsys):
    """The server stands in for a broken remote repository: empty pages, each with a new token, for ever."""
    empty = re.sub(rb"<record>.*</record>", b"", body(FIRST), flags=re.DOTALL)
    assert b"<record>" not in empty and b"dummy_resumption" in empty
    counter = iter(range(1_000))

    def answer(params):
        if params.get("verb") == "Identify":
            return Reply(body(IDENTIFY))
        return Reply(empty.replace(b"dummy_resumption", b"token-%d" % next(counter)))

    limits = HarvestLimits(timeout=2.0, retries=0, max_empty_pages=5)
    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys, limits=limits)
    assert code == 1
    assert "5 pages in a row without a record" in err
    assert len(repo.requests) == 1 + 5  # Identify and five pages, no more


def test_the_page_budget_is_kept(tmp_path, capsys):
    """The server stands in for a remote repository with more pages than the harvest may take."""
    limits = HarvestLimits(timeout=2.0, retries=0, max_pages=1)
    with OaiRepository(two_pages) as repo:
        code, err = harvest(tmp_path, repo.url, capsys, limits=limits)
    assert code == 1
    assert "more than 1 pages: stopped" in err
    assert record_graphs(tmp_path) == {GRAPH_FIRST} and state(tmp_path)["token"] == "dummy_resumption"


def test_the_command_line(tmp_path):
    """The server stands in for a remote repository; the command runs as users run it."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "web.cli", "--data-dir", str(tmp_path / "data"),
                               "harvest", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)

    bad = run("ftp://example.org/oai")
    assert bad.returncode == 2 and bad.stderr.strip() == "Error: not an http(s) URL: 'ftp://example.org/oai'"
    with OaiRepository(two_pages) as repo:
        done = run(repo.url, "--metadata-prefix", "oai_dc", "--timeout", "5", "-q")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"read 2 records from 2 page(s) of {repo.url}")  # -q: no page lines
    assert "match candidates (" in done.stderr  # refreshed for the review queue (web.ingest_command)


def test_no_response_with_a_doctype_reaches_a_parser(tmp_path, capsys):
    """The server stands in for a hostile remote repository whose Identify carries an external entity.

    Identify is parsed by the library's lxml, not by our reader: the transport refuses it first.
    """
    hostile = body(IDENTIFY).replace(
        b"<OAI-PMH", b'<!DOCTYPE OAI-PMH [<!ENTITY e SYSTEM "file:///etc/hostname">]><OAI-PMH', 1)

    def answer(params):
        return Reply(hostile) if params.get("verb") == "Identify" else two_pages(params)

    with OaiRepository(answer) as repo:
        code, err = harvest(tmp_path, repo.url, capsys)
    assert code == 1
    assert "sent XML with a DOCTYPE" in err and repo.verbs() == ["Identify"]
