"""Malformed and hostile scholarly files: each bad record rejected with its reason, the rest read.

The files are made here from the real records of tests/data/oa (cut, spliced, wrapped
in entity declarations, nested past the limits), so each test knows what is wrong
and where.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import RecordGraph, Rejected, SourceRecord
from ingest.sources import detect_format, get_source, json_works, xml_works
from tests.conftest import BASE, test_path

MINTER = IriMinter(BASE)


def outcome(path: Path) -> list[tuple[int, str]]:
    """``(record number, "ok" or the rejection's rule)`` of every item of ``path``."""
    name = detect_format(path)
    assert name is not None
    results = []
    for item in get_source(name).read(path):
        if isinstance(item, SourceRecord):
            item = map_record(item, MINTER)
        results.append((item.position.number, item.rule if isinstance(item, Rejected) else "ok"))
        if isinstance(item, Rejected):
            assert str(item.position.source) == str(path) and item.reason
    return results


def crossref_items() -> list[dict]:
    return json.loads(test_path("oa/crossref/test_works_query.json").read_text())["message"]["items"]


def test_bad_items_of_a_crossref_page_are_rejected_one_by_one(tmp_path: Path) -> None:
    good = crossref_items()
    page = {"status": "ok", "message-type": "work-list", "message": {"items": [
        good[0], "not a work", {"DOI": "not-a-doi", "title": ["x"]}, {"DOI": "10.1234/no-title"}, good[1],
    ]}}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    assert outcome(path) == [(1, "ok"), (2, "json-structure"), (3, "no-identifier"), (4, "no-title"), (5, "ok")]


def test_a_json_syntax_error_keeps_the_works_before_it(tmp_path: Path) -> None:
    text = test_path("oa/crossref/test_works_query.json").read_text()
    second = text.index('"DOI"', text.index('"DOI"') + 1)  # inside the second item
    path = tmp_path / "cut.json"
    path.write_text(text[:second] + '"DOI": ]]]')
    results = outcome(path)
    assert results[0] == (1, "ok")
    assert results[-1] == (2, "json-syntax")
    assert len(results) == 2


def test_json_lines_a_bad_line_costs_that_line_only(tmp_path: Path) -> None:
    one = json.loads(test_path("oa/openalex/test_journal_article_with_funding.json").read_text())
    two = json.loads(test_path("oa/openalex/test_blog_post.json").read_text())
    path = tmp_path / "works.jsonl"
    path.write_text(json.dumps(one) + "\n" + '{"id": "https://openalex.org/W1", oops\n' + json.dumps(two) + "\n")
    assert outcome(path) == [(1, "ok"), (2, "json-syntax"), (3, "ok")]


def test_a_work_nested_too_deep_or_too_large_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = crossref_items()
    deep = dict(good[0], extra=json.loads("[" * 100 + "]" * 100))
    path = tmp_path / "deep.json"
    path.write_text(json.dumps({"items": [deep, good[1]]}))
    assert outcome(path) == [(1, "record-size"), (2, "ok")]
    limit = len(json.dumps(good[1]))  # more than the second work's text, less than the first's
    monkeypatch.setattr(json_works, "MAX_ITEM_CHARS", limit)
    path.write_text(json.dumps({"items": [dict(good[0], note="x" * limit), good[1]]}))
    assert outcome(path) == [(1, "record-size"), (2, "ok")]


def test_a_large_list_is_streamed_not_loaded(tmp_path: Path) -> None:
    """4,000 works in one page of one line: read one at a time (one work held, never the list).

    ``json.load`` of this file takes several times its size; the reader's peak is a small
    fraction of it (tracemalloc, all records read and dropped one by one).
    """
    work = crossref_items()[0]
    path = tmp_path / "big.json"
    with path.open("w") as handle:
        handle.write('{"message-type": "work-list", "message": {"items": [')
        handle.write(",".join(json.dumps(dict(work, DOI=f"10.5555/test.{n}")) for n in range(4000)))
        handle.write("]}}")
    get_source("crossref")  # its modules imported before memory is counted
    tracemalloc.start()
    count = sum(1 for _ in get_source("crossref").read(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 4000
    assert peak < path.stat().st_size / 4, (peak, path.stat().st_size)
    seen = 0
    for item in get_source("crossref").read(path, select=lambda n: n % 1000 == 0):
        assert isinstance(item, SourceRecord)
        seen += 1
    assert seen == 4  # select: the records of one worker, the others skipped unbuilt


# ---------------------------------------------------------------- XML


def test_entity_declarations_and_external_entities_are_refused(tmp_path: Path) -> None:
    article = test_path("oa/jats/pone.0046493.nxml").read_text()
    body = article[article.index("<article"):]
    laughs = ('<?xml version="1.0"?>\n<!DOCTYPE article [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
              '&a;&a;&a;&a;&a;">]>\n')
    path = tmp_path / "laughs.nxml"
    path.write_text(laughs + body.replace("<article-title>", "<article-title>&b;", 1))
    assert outcome(path) == [(1, "xml-forbidden")]
    xxe = '<?xml version="1.0"?>\n<!DOCTYPE article [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    path.write_text(xxe + body.replace("<article-title>", "<article-title>&x;", 1))
    assert outcome(path) == [(1, "xml-forbidden")]


def test_a_pubmed_set_with_a_broken_article_keeps_the_others(tmp_path: Path) -> None:
    text = test_path("oa/pubmed/pubmed-29768149.xml").read_text()
    start, end = text.index("<PubmedArticle>"), text.index("</PubmedArticle>") + len("</PubmedArticle>")
    article = text[start:end]
    no_pmid = article.replace('<PMID Version="1">29768149</PMID>', "", 1)
    other = article.replace("29768149", "29768150")
    deleted = "<DeleteCitation><PMID>111</PMID><PMID>222</PMID></DeleteCitation>"
    path = tmp_path / "set.xml"
    path.write_text(text[:start] + article + no_pmid + other + deleted + text[end:])
    assert outcome(path) == [(1, "ok"), (2, "no-identifier"), (3, "ok"), (4, "ok"), (5, "ok")]
    graphs = [map_record(r, MINTER) for r in get_source("pubmed").read(path)]
    assert [g.deleted for g in graphs if isinstance(g, RecordGraph)] == [False, False, True, True]
    assert graphs[3].graph == MINTER.graph("pubmed", "111").value


def test_a_truncated_xml_file_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    text = test_path("oa/pubmed/pubmed-29768149.xml").read_text()
    start, end = text.index("<PubmedArticle>"), text.index("</PubmedArticle>") + len("</PubmedArticle>")
    article = text[start:end]
    path = tmp_path / "cut.xml"
    path.write_text(text[:start] + article + article.replace("29768149", "1")[: len(article) // 2])
    assert outcome(path) == [(1, "ok"), (2, "xml-syntax")]


def test_an_xml_record_past_its_limits_is_skipped_and_reading_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = test_path("oa/pubmed/pubmed-29768149.xml").read_text()
    start, end = text.index("<PubmedArticle>"), text.index("</PubmedArticle>") + len("</PubmedArticle>")
    article = text[start:end]
    deep = article.replace("<ArticleTitle>", "<ArticleTitle>" + "<i>" * 300 + "x" + "</i>" * 300, 1)
    path = tmp_path / "deep.xml"
    path.write_text(text[:start] + deep + article + text[end:])
    assert outcome(path) == [(1, "record-size"), (2, "ok")]
    monkeypatch.setattr(xml_works, "MAX_RECORD_ELEMENTS", 50)  # the article has about 200 elements
    path.write_text(text[:start] + article + text[end:])
    assert outcome(path) == [(1, "record-size")]


def test_a_jats_body_is_not_built(tmp_path: Path) -> None:
    """The reader skips <body> (the mapper never reads it): a huge body costs no memory."""
    record = next(iter(get_source("jats").read(test_path("oa/jats/pone.0046493.nxml"))))
    assert isinstance(record, SourceRecord)
    assert record.payload.find("body") is None and record.payload.find("front") is not None
