"""Seed search on the shipped sample: ranking, CJK, folding, prefix, filters, hostile text.

The data directory is written by the real ``catalograph ingest`` of ``data/``;
searches read the search index its checkpoint carries, as the server does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graph import latest_snapshot
from ontology.errors import UsageError
from query.search import MAX_QUERY_CHARS, MAX_TERMS, SearchHit, SearchQuery, search
from tests.conftest import shared_path
from tests.test_cli_ingest import catalograph

GAIKO_SEISHO = "http://127.0.0.1:5000/instance/lccn-sn95043469"  # 外交青書, data/marcxml/gwu.xml


@pytest.fixture(scope="module")
def checkpoint(sample_copy: Path) -> Path:
    path = latest_snapshot(sample_copy)
    assert path is not None
    return path


def find(checkpoint: Path, text: str, **options: object) -> list[SearchHit]:
    return search(checkpoint, SearchQuery.build(text, limit=options.pop("limit", 50), **options)).hits


def test_a_known_title_is_first_for_its_own_words(checkpoint: Path) -> None:
    hits = find(checkpoint, "Sergei Dovlatov litso slovesnost epokha")
    assert hits[0].kind in ("instance", "work")
    assert hits[0].label.startswith("Sergeĭ Dovlatov : lit͡so, slovesnostʹ, ėpokha")
    assert hits[0].field == "title" or hits[0].field == "label"


def test_cjk_titles_are_found_by_cjk_words(checkpoint: Path) -> None:
    # the whole title, a two-character word of it, one character, and its variant title in kana
    assert find(checkpoint, "外交青書")[0].iri == GAIKO_SEISHO
    assert GAIKO_SEISHO in [h.iri for h in find(checkpoint, "青書")]
    assert GAIKO_SEISHO in [h.iri for h in find(checkpoint, "外交")][:5]
    assert GAIKO_SEISHO in [h.iri for h in find(checkpoint, "書", limit=100)]
    assert GAIKO_SEISHO in [h.iri for h in find(checkpoint, "わが外交")]
    # a CJK query matches its characters in order, not anywhere in the text
    assert GAIKO_SEISHO not in [h.iri for h in find(checkpoint, "書青交外", limit=100)]
    # Korean
    assert find(checkpoint, "한국")[0].label.startswith("Han'guk")


def test_case_and_diacritics_are_folded(checkpoint: Path) -> None:
    plain = find(checkpoint, "dvorak")
    assert plain[0].kind == "agent" and plain[0].label.startswith("Dvořák, Antonin")
    assert [h.iri for h in find(checkpoint, "DVOŘÁK")] == [h.iri for h in plain]
    assert find(checkpoint, "okurasho")[0].label == "Japan. Ōkurashō. Insatsukyoku"


def test_prefix_search_completes_the_last_word(checkpoint: Path) -> None:
    assert find(checkpoint, "dovla") == []
    completed = find(checkpoint, "dovla*")
    assert completed and all("dovlatov" in h.label.lower() or h.field == "creator" for h in completed[:4])
    assert [h.iri for h in find(checkpoint, "dovla", prefix=True)] == [h.iri for h in completed]
    # only the last word is a prefix
    assert find(checkpoint, "dovla sergei", prefix=True) == []


def test_a_title_or_label_hit_ranks_above_a_note_hit(checkpoint: Path) -> None:
    for text in ("dvorak", "mozart", "bluebook"):
        fields = [h.field for h in find(checkpoint, text)]
        assert fields[0] in ("title", "creator", "label"), (text, fields)
        if "note" in fields:
            first_note = fields.index("note")
            assert all(f == "note" for f in fields[first_note:]) or "abstract" in fields, (text, fields)


def test_kind_language_and_year_filters(checkpoint: Path) -> None:
    everything = find(checkpoint, "mozart", limit=100)
    assert {h.kind for h in everything} >= {"work", "agent", "instance"}
    works = find(checkpoint, "mozart", kind="work", limit=100)
    assert works and all(h.kind == "work" for h in works)
    assert {h.iri for h in works} == {h.iri for h in everything if h.kind == "work"}

    chinese = find(checkpoint, "wai jiao", language="chi")
    japanese = find(checkpoint, "外交", language="jpn")
    assert chinese and all("chi" in h.languages for h in chinese)
    assert [h.iri for h in japanese] == [GAIKO_SEISHO]

    dated = find(checkpoint, "wai jiao", year_from=2008, year_to=2009)
    assert dated and all(h.year is not None and 2008 <= h.year <= 2009 for h in dated)
    assert len(dated) < len(find(checkpoint, "wai jiao"))
    assert find(checkpoint, "外交青書", year_to=1986) == []
    assert find(checkpoint, "外交青書", year_from=1987, year_to=1987)[0].iri == GAIKO_SEISHO


def test_pages(checkpoint: Path) -> None:
    whole = find(checkpoint, "music", limit=30)
    first = search(checkpoint, SearchQuery.build("music", limit=10))
    second = search(checkpoint, SearchQuery.build("music", limit=10, offset=10))
    assert first.more and [h.iri for h in first.hits + second.hits] == [h.iri for h in whole[:20]]


@pytest.mark.parametrize(
    "text",
    [
        'mozart" OR title:*',
        "NEAR(mozart dvorak, 2)",
        "-mozart",
        "mozart AND NOT dvorak",
        "^mozart",
        "{title label}: mozart",
        "mozart)(",
        "'; DROP TABLE search_doc; --",
    ],
)
def test_fts_syntax_is_never_injected(checkpoint: Path, text: str) -> None:
    query = SearchQuery.build(text)
    # every term is a quoted string: operators and column filters are only words
    assert query.match_expression().count('"') == 2 * len(query.terms)
    search(checkpoint, query)  # answers (possibly nothing), never an FTS5 syntax error


def test_bounds_give_clear_errors() -> None:
    for text, options, message in [
        ("", {}, "no word"),
        ("*** ()", {}, "no word"),
        ("a" * (MAX_QUERY_CHARS + 1), {}, "longer than"),
        (" ".join(["w"] * (MAX_TERMS + 1)), {}, "more than"),
        ("mozart", {"kind": "item"}, "unknown kind"),
        ("mozart", {"language": "en'--"}, "language"),
        ("mozart", {"limit": 0}, "limit"),
        ("mozart", {"offset": 10**6}, "offset"),
        ("mozart", {"year_from": -5}, "year"),
    ]:
        with pytest.raises(UsageError, match=message):
            SearchQuery.build(text, **options)


def test_a_chinese_title_is_found_by_a_two_character_word(tmp_path: Path) -> None:
    """傲慢与偏见 (Pride and prejudice in Chinese): 偏见 is two characters, which a trigram
    index cannot find (docs/benchmarks.md)."""
    records = shared_path("marc/marc4j/pride-and-prejudice-fixed.mrc")
    done = catalograph(tmp_path / "data", "ingest", "--quiet", str(records))
    assert done.returncode in (0, 1), done.stderr
    checkpoint = latest_snapshot(tmp_path / "data")
    whole = find(checkpoint, "傲慢与偏见")
    assert whole and all(h.kind in ("instance", "work") for h in whole[:3])
    word = {h.iri for h in find(checkpoint, "偏见", limit=100)}
    assert {h.iri for h in whole} <= word
    assert find(checkpoint, "见偏") == [] or not ({h.iri for h in find(checkpoint, "见偏")} & {h.iri for h in whole})
