"""Browse (``/browse``), over the real server and a store of the shipped sample.

The sample of ``data/`` (739 real records: Latin, Hebrew and Arabic
scripts among them) plus a small thesaurus of authority records made here
with pymarc (*Music* broader than *Jazz* and *Opera*, *Jazz* broader than
*Bebop*, in LCSH): the sample as ``catalograph ingest`` stored it (a copy of
the session's, tests/conftest.py), the thesaurus added by its library function
(which rebuilds the associations the counts come from). Every figure a test
checks is computed again from the store with SPARQL, never written down.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from pymarc import Field, Record, Subfield
from web_fixtures import running_server, settings_for

from query.browse import PAGE_SIZE, initial_of, sort_key
from tests.conftest import IngestedStore, copy_data_dir
from web.ingest_command import run_ingest

LCSH = "http://id.loc.gov/authorities/subjects"
HTML = {"Accept": "text/html"}


def authority(number: int, heading: str, broader: str | None = None) -> bytes:
    """A MARC 21 subject authority record (LCSH by its 008/11), with a broader term (550 $w g)."""
    record = Record(force_utf8=True)
    record.leader = record.leader[:5] + "nz" + record.leader[7:]
    record.add_field(Field(tag="001", data=f"thesaurus{number:04d}"))
    record.add_field(Field(tag="008", data="850101n| azannaabn          |a aaa      "))
    record.add_field(Field(tag="150", indicators=[" ", " "], subfields=[Subfield("a", heading)]))
    if broader:
        record.add_field(
            Field(tag="550", indicators=[" ", " "], subfields=[Subfield("w", "g"), Subfield("a", broader)])
        )
    return record.as_marc()


def thesaurus(path: Path) -> Path:
    path.write_bytes(
        authority(1, "Music") + authority(2, "Jazz", "Music") + authority(3, "Bebop", "Jazz")
        + authority(4, "Opera", "Music")
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def url(ingested_sample: IngestedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample (a copy of the session's, tests/conftest.py) and the thesaurus on top."""
    tmp = tmp_path_factory.mktemp("browse")
    settings = settings_for(copy_data_dir(ingested_sample.path, tmp / "data"))
    report = run_ingest(settings, [thesaurus(tmp / "thesaurus.mrc")], workers=1)
    assert report.associations is not None and report.written == 4
    with running_server(settings) as root:
        yield root


def get(url: str, path: str, **params: str) -> requests.Response:
    return requests.get(url + path, params=params, headers=HTML, timeout=30)


def twin(url: str, path: str, **params: str) -> dict:
    response = requests.get(url + path, params={**params, "_format": "json"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def select(url: str, query: str) -> list[dict[str, str]]:
    answer = requests.get(url + "/sparql", params={"query": query}, timeout=30).json()
    return [{k: v["value"] for k, v in row.items()} for row in answer["results"]["bindings"]]


def whole_list(url: str, kind: str, **params: str) -> list[dict]:
    """Every entry of a list, page after page, by following ``next``."""
    entries, start = [], 0
    while True:
        page = twin(url, f"/browse/{kind}", start=str(start), **params)["page"]
        entries += page["items"]
        if page["next_href"] is None:
            return entries
        start = int(parse_qs(urlparse(page["next_href"]).query)["start"][0])


def kind_count(url: str, cls: str) -> int:
    (row,) = select(url, f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ ?r a {cls} . "
                         f'FILTER(!CONTAINS(STR(?r), "#") && !STRSTARTS(STR(?r), "_:")) }}')  # fmt: skip
    return int(row["n"])


# ------------------------------------------------------------ lists


def test_home_counts_link_to_their_lists(url: str) -> None:
    home = get(url, "/").text
    for kind in ("work", "instance", "agent", "concept", "place"):
        link = re.search(rf'<td data-group="{kind}s"><a href="(/browse/{kind})">([\d,]+)</a></td>', home)
        assert link, kind
        listing = get(url, link[1])
        assert listing.status_code == 200
        total = twin(url, link[1])["page"]["total"]
        recorded = int(link[2].replace(",", ""))
        assert f'<small class="count">{total:,}</small>' in listing.text
        if recorded != total:  # the rest are record-local nodes, and the page says so
            assert recorded > total
            assert f"The graph holds {recorded:,} in all: {recorded - total:,} of them" in listing.text


def test_every_kind_has_a_list_as_long_as_the_store_says(url: str) -> None:
    overview = {k["href"].rsplit("/", 1)[1]: k["count"] for k in twin(url, "/browse")["kinds"]}
    assert overview["place"] == kind_count(url, "bf:Place") > 100
    assert overview["instance"] == kind_count(url, "bf:Instance") > 700


def test_a_list_pages_through_every_entry_once_in_alphabetical_order(url: str) -> None:
    places = whole_list(url, "place")
    assert len(places) == twin(url, "/browse/place")["page"]["total"] > 2 * PAGE_SIZE
    hrefs = [p["href"] for p in places]
    assert len(set(hrefs)) == len(hrefs)
    keys = [sort_key(p["text"]) for p in places]
    assert keys == sorted(keys)


def test_the_letter_jump_lands_on_its_letter_in_every_script(url: str) -> None:
    page = twin(url, "/browse/agent")["page"]
    letters = page["letters"]
    labels = [letter["text"] for letter in letters]
    assert {"A", "M", "Z"} <= set(labels)
    assert any(not label.isascii() for label in labels)  # Arabic and Hebrew names have stops too
    for letter in letters:
        query = parse_qs(urlparse(letter["href"]).query)
        first = twin(url, "/browse/agent", **{k: v[0] for k, v in query.items()})["page"]["items"][0]
        assert initial_of(sort_key(first["text"])) == letter["text"] or (
            "–" in letter["text"]  # a range of a script with many initials
        ), (letter, first["text"])


def test_most_used_first_with_counts_the_store_confirms(url: str) -> None:
    page = twin(url, "/browse/concept", sort="count")["page"]
    counts = [item["count"] for item in page["items"]]
    assert counts == sorted(counts, reverse=True) and counts[0] > 5
    top = page["items"][0]
    iri = "http://127.0.0.1:5000" + top["href"]
    (row,) = select(url, f"""SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE {{
        {{ ?w bf:subject <{iri}> ; a bf:Work }} UNION {{ ?i bf:subject <{iri}> ; bf:instanceOf ?w }}
        UNION {{ ?w bf:genreForm <{iri}> ; a bf:Work }} UNION {{ ?i bf:genreForm <{iri}> ; bf:instanceOf ?w }} }}""")  # fmt: skip
    assert top["count"] == int(row["n"])
    assert top["uses"] == f"{top['count']:,} works"


def test_a_works_count_is_its_editions(url: str) -> None:
    top = twin(url, "/browse/work", sort="count")["page"]["items"][0]
    iri = "http://127.0.0.1:5000" + top["href"]
    (row,) = select(url, f"SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?i bf:instanceOf <{iri}> }}")
    assert top["count"] == int(row["n"]) >= 7  # the Ars minor fragments, at least
    assert top["uses"].endswith("editions")


def test_parallel_scripts_are_shown_with_their_language(url: str) -> None:
    agents = whole_list(url, "agent")
    parallel = [a for a in agents if a["parallel"]]
    assert parallel, "the sample has names in Arabic and Hebrew script beside their romanisation"
    body = get(url, "/browse/agent").text
    assert re.search(r'<bdi class="parallel" lang="[a-z]{2,3}-arab">', body + "".join(
        get(url, "/browse/agent", start=str(s)).text for s in range(PAGE_SIZE, len(agents), PAGE_SIZE)
    ))


# ------------------------------------------------------------ schemes and their hierarchy


def test_concept_schemes_are_listed_with_their_sizes(url: str) -> None:
    schemes = twin(url, "/browse")["schemes"]
    lcsh = next(s for s in schemes if s["text"] == "Library of Congress Subject Headings")
    (row,) = select(url, f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c skos:inScheme <{LCSH}> }}")
    assert lcsh["count"] == int(row["n"])


def test_a_scheme_shows_its_hierarchy_as_skosmos_does(url: str) -> None:
    tree = twin(url, "/browse/concept", scheme=LCSH, view="tree")["page"]
    assert tree["view"] == "tree" and tree["hierarchical"]
    by_name, page_of = {}, {}
    start = 0
    while True:
        page = twin(url, "/browse/concept", scheme=LCSH, view="tree", start=str(start))["page"]
        by_name.update({item["text"]: item for item in page["items"]})
        page_of.update({item["text"]: start for item in page["items"]})
        if page["next_href"] is None:
            break
        start += PAGE_SIZE
    assert "Jazz" not in by_name and "Bebop" not in by_name  # not top concepts
    music = by_name["Music"]
    children = [c["text"] for c in music["children"]]
    # its narrower terms (the authority records) and its subdivisions (the sample's headings)
    assert {"Jazz", "Opera"} <= set(children)
    assert all(c in ("Jazz", "Opera") or c.startswith("Music--") for c in children)
    assert [sort_key(c) for c in children] == sorted(sort_key(c) for c in children)
    jazz = next(c for c in music["children"] if c["text"] == "Jazz")
    concept = get(url, jazz["href"]).text
    assert "Narrower concepts" in concept and "Bebop" in concept and "Music" in concept
    html = get(url, "/browse/concept", scheme=LCSH, view="tree", start=str(page_of["Music"])).text
    assert re.search(r'>Music</bdi></a>.*?<ul class="narrower">\s*<li><a href="[^"]+"><bdi>Jazz</bdi>', html, re.S)


def test_a_branch_lists_every_narrower_concept(url: str) -> None:
    (music,) = select(url, 'SELECT ?c WHERE { ?c rdfs:label "Music" ; skos:inScheme ?s }')
    page = twin(url, "/browse/concept", scheme=LCSH, view="tree", under=music["c"])["page"]
    assert page["under"]["text"] == "Music"
    shown = [item["text"] for item in page["items"]]
    (row,) = select(url, f"""SELECT (COUNT(DISTINCT ?n) AS ?k) WHERE {{
        {{ ?n skos:broader <{music["c"]}> }} UNION {{ ?n cg:hasComponent <{music["c"]}> ;
        rdfs:label ?l FILTER(STRSTARTS(?l, "Music--")) }} }}""")
    assert len(shown) == int(row["k"]) and {"Jazz", "Opera"} <= set(shown)
    (jazz,) = select(url, 'SELECT ?c WHERE { ?c rdfs:label "Jazz" ; skos:inScheme ?s }')
    branch = twin(url, "/browse/concept", scheme=LCSH, view="tree", under=jazz["c"])["page"]
    assert {"Bebop", "Jazz--1931-1940"} <= {item["text"] for item in branch["items"]}


# ------------------------------------------------------------ hostile and wrong requests


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"start": "-1"}, 400),
        ({"start": "abc"}, 400),
        ({"start": "99999999"}, 404),
        ({"sort": "random()"}, 400),
        ({"sort": "alpha", "extra": "1"}, 400),
        ({"scheme": "http://example.org/> } DROP ALL"}, 404),
        ({"view": "tree"}, 400),
    ],
)
def test_wrong_parameters_are_refused_clearly(url: str, params: dict[str, str], status: int) -> None:
    response = get(url, "/browse/concept", **params)
    assert response.status_code == status, response.text[:300]


def test_unknown_kinds_and_units_that_have_no_count(url: str) -> None:
    assert get(url, "/browse/spaceship").status_code == 404
    assert get(url, "/browse/instance", sort="count").status_code == 400  # instances are not used
    assert get(url, "/browse/agent", view="tree").status_code == 400


def test_html_and_json_twin_show_the_same_entries(url: str) -> None:
    body = get(url, "/browse/work", start="50").text
    page = twin(url, "/browse/work", start="50")["page"]
    shown = re.findall(r'<li><a href="([^"]+)"', body)
    assert shown == [item["href"] for item in page["items"]]
    assert '<ol class="browse" start="51">' in body
