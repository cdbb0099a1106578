"""Mentions of knowledge units in abstracts and contents notes, on real records.

The shipped sample is ingested by the real command into a store on disk and
``catalograph mentions --refresh`` is run on it; the open-access records of
``../shared/data/oa`` are mapped by the real mappers into a store in memory.
Precision is measured against ``tests/data/mentions/precision.tsv``: 50 works
(25 of each), every label matched in them judged by hand.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import sys
from collections import defaultdict
from contextlib import closing
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Store

from graph import open_latest_snapshot
from graph.mention_graph import mentions_graph
from graph.writer import Writer
from ingest import PIPELINE_VERSION
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import Rejected
from ingest.sources import detect_format, get_source
from ontology.layout import Layout
from ontology.namespaces import BF, CG, OWL, PREFIXES, RDF, RDFS, SKOS
from query.mentions import (
    GRAPH_LINKS,
    UNIT_KINDS,
    all_units_page,
    blank_pipeline,
    build_matcher,
    deprecated_units,
    graph_links_page,
    graph_units,
    graph_works,
    held_works_page,
    label_forms,
    label_words,
    plain_tokens,
    read_labels,
    read_texts,
    segment,
    unit_labels,
    unit_labels_page,
    unit_type_count,
    works_with_texts_page,
)
from tests.conftest import BASE, SAMPLE_DATA, SHARED_DATA, IngestedStore
from tests.test_cli_ingest import catalograph
from web.mentions_refresh import DIGESTS_FILE, refresh_mentions

JUDGED = Path(__file__).parent / "data" / "mentions" / "precision.tsv"
LAYOUT = Layout(BASE)
GRAPH = mentions_graph(LAYOUT).value
#: Below this share of correct (work, label) pairs the guards have regressed (measured: 80/89,
#: 0.90, since a record's own nodes are no targets; 85/95 before; 85/103 before the rules of
#: issue 15's last pass, docs/mentions.md).
MIN_PRECISION = 0.88


@pytest.fixture(scope="module")
def sample_dir(ingested_sample: IngestedStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample ingested by the command, which builds the mentions at its end (a copy of
    the session's, ``tests/conftest.py``: the tests below edit it)."""
    assert "mentions rebuilt" in ingested_sample.stderr
    return ingested_sample.copy(tmp_path_factory, "mentions")


@pytest.fixture(scope="module")
def pristine_sample(ingested_sample: IngestedStore, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The sample as ingested, for the precision test (the tests above edit theirs)."""
    return open_latest_snapshot(ingested_sample.copy(tmp_path_factory, "pristine"))


def oa_store() -> Store:
    folder = SHARED_DATA / "oa"
    if not folder.is_dir():
        pytest.skip(f"the open-access records are read from {folder}, which is absent")
    minter = IriMinter(BASE)
    store = Store()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = detect_format(path)
        if name is None:
            continue
        for item in get_source(name).read(path):
            if isinstance(item, Rejected):
                continue
            graph = map_record(item, minter)
            if not isinstance(graph, Rejected):
                store.load(graph.all_nquads, format=RdfFormat.N_QUADS)
    return store


def rows(store: Store, sparql: str) -> list[tuple[str, ...]]:
    return [tuple(t.value for t in row) for row in store.query(sparql, prefixes=PREFIXES, use_default_graph_as_union=True)]


MENTIONS_OF = """
SELECT ?label ?field ?count WHERE {{
  GRAPH <{graph}> {{ ?m cg:mentionedIn <{work}> ; cg:mentionOf ?unit ; cg:textProperty ?field ;
                     cg:mentionCount ?count . <{work}> cg:mentions ?unit }}
  ?unit rdfs:label ?label
}} ORDER BY ?label ?field ?count
"""


def test_the_command_links_a_summary_to_the_place_it_names(sample_dir: Path) -> None:
    """The manuscript anthology's summary names Iran twice ("related to Iran", "the
    history of Iran"): looked up in its MARC 520."""
    store = open_latest_snapshot(sample_dir)
    work = f"{BASE}work/k1ca988fc1b90c194c3b4"
    found = rows(store, MENTIONS_OF.format(graph=GRAPH, work=work))
    assert ("Iran", BF.summary.value, "2") in found
    # Every mention node has its five statements, a cg:mentions link per (work, unit), nothing else.
    counts = rows(store, f"SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?m a cg:Mention }} }}")
    links = rows(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?w cg:mentions ?u }} }}")
    whole = rows(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}")
    assert int(counts[0][0]) > 100
    assert int(whole[0][0]) == 5 * int(counts[0][0]) + int(links[0][0])


def test_a_second_refresh_matches_nothing(sample_dir: Path) -> None:
    done = catalograph(sample_dir, "mentions", "--refresh")
    assert done.returncode == 0, done.stderr
    assert " 0 matched" in done.stderr and "0 quad(s) added, 0 removed" in done.stderr


def test_an_ingest_that_changes_nothing_does_not_touch_the_mentions(sample_dir: Path) -> None:
    """The same records again: unchanged, so the ingest skips the refresh (no line, no read)."""
    before = digests(sample_dir)
    done = catalograph(sample_dir, "ingest", "--quiet", str(SAMPLE_DATA))
    assert done.returncode == 0, done.stderr
    # no summary line (the report's file paths may hold the word: a checkout in ``wt-mentions``)
    assert re.search(r"written\s+0 ", done.stderr) and not re.search(r"^\s*mentions ", done.stderr, re.M)
    assert digests(sample_dir) == before and before[2] == [("state", "clean")]


def digests(data_dir: Path) -> tuple[list, list, list]:
    with closing(sqlite3.connect(data_dir / DIGESTS_FILE)) as db:
        return (sorted(db.execute("SELECT * FROM work_text")), sorted(db.execute("SELECT * FROM label")),
                list(db.execute("SELECT key, value FROM meta WHERE key = 'state'")))


def test_an_ingest_killed_before_its_refresh_is_made_good_by_the_next(tmp_path: Path) -> None:
    """Records committed, then the process gone before the mentions were refreshed (as a
    SIGKILL would leave it: the mark of ``mark_stale`` and no mentions): the next ingest finds
    every record unchanged, and still refreshes."""
    from web.config import load_settings
    from web.ingest_command import IngestReport, ingest_items
    from web.mentions_command import mark_stale

    data_dir = tmp_path / "data"
    settings = load_settings(None, env={}, data_dir=data_dir)
    minter = IriMinter(BASE)
    path = SAMPLE_DATA / "marcxml"
    items = [item if isinstance(item, Rejected) else map_record(item, minter)
             for file in sorted(path.glob("*.xml")) for item in get_source(detect_format(file)).read(file)]  # fmt: skip
    with Writer(data_dir, LAYOUT, PIPELINE_VERSION) as writer:  # the ingest's writes, no refresh
        mark_stale(data_dir)
        writer.write([g for g in items if not isinstance(g, Rejected)])
    assert digests(data_dir)[2] == [("state", "stale")]
    report = ingest_items(settings, iter(items), IngestReport())
    assert report.written == 0 and report.mentions is not None and report.mentions.full
    assert report.mentions.mentions_found > 0 and digests(data_dir)[2] == [("state", "clean")]


def test_an_edited_summary_is_matched_again_alone(sample_dir: Path) -> None:
    """Rewrite one work's summary in a writer session: only that work is matched, its
    old mentions go and the new one comes."""
    work = NamedNode(f"{BASE}work/k1ca988fc1b90c194c3b4")
    with Writer(sample_dir, LAYOUT, PIPELINE_VERSION) as writer:
        store = writer.store
        summaries = [q.object for q in store.quads_for_pattern(work, BF.summary, None, None)]
        assert summaries
        for node in summaries:
            for quad in list(store.quads_for_pattern(node, RDFS.label, None, None)):
                store.remove(quad)
                store.add(Quad(node, RDFS.label, Literal("Letters written in Suriname."), quad.graph_name))
        writer.session.changed = True
        done = refresh_mentions(writer, LAYOUT, sample_dir)
    assert not done.full and done.works_matched == 1 and done.quads_removed > 0
    found = rows(open_latest_snapshot(sample_dir), MENTIONS_OF.format(graph=GRAPH, work=work.value))
    assert [label for label, _, _ in found] == ["Suriname"] * len(found) and found


def test_a_label_gone_unmatches_its_works_alone(sample_dir: Path) -> None:
    """The place Jerusalem loses its label (an edit): only the works the graph says mention it
    are matched again, and the mention goes (a manuscript "signed in Cairo" and in Jerusalem,
    its MARC 520; Cairo is only that record's own place of publication, never a target)."""
    work = f"{BASE}work/k32dd99c70c8b6a2e8fb7"
    with Writer(sample_dir, LAYOUT, PIPELINE_VERSION) as writer:
        store = writer.store
        labelled = list(store.quads_for_pattern(None, RDFS.label, Literal("Jerusalem"), None))
        places = {q.subject for q in labelled if any(store.quads_for_pattern(q.subject, RDF.type, BF.Place, None))}
        assert places
        mentioning = {
            q.subject.value for p in places
            for q in store.quads_for_pattern(None, CG.mentions, p, NamedNode(GRAPH))
        }  # fmt: skip
        assert work in mentioning
        for quad in labelled:
            if quad.subject in places:
                store.remove(quad)
        writer.session.changed = True
        done = refresh_mentions(writer, LAYOUT, sample_dir)
    assert not done.full and done.works_matched == len(mentioning) and "lost a label" in done.reason
    found = rows(open_latest_snapshot(sample_dir), MENTIONS_OF.format(graph=GRAPH, work=work))
    assert found == []


def test_a_refresh_killed_midway_is_followed_by_a_full_one(sample_dir: Path) -> None:
    """A refresh writes its state as it goes and settles it at the end; killed in between (its
    mark ``refreshing`` left, as a SIGKILL would leave it), the next one trusts nothing."""
    from graph.mention_state import open_state
    from graph.refresh_state import set_meta

    with closing(open_state(sample_dir)) as db:
        set_meta(db, "refreshing", "1")
    done = catalograph(sample_dir, "mentions", "--refresh")
    assert done.returncode == 0 and "mentions rebuilt" in done.stderr, done.stderr
    assert "0 quad(s) added, 0 removed" in done.stderr and digests(sample_dir)[2] == [("state", "clean")]


def test_a_full_refresh_rebuilds_the_same_graph(sample_dir: Path) -> None:
    before = set(open_latest_snapshot(sample_dir).quads_for_pattern(None, None, None, NamedNode(GRAPH)))
    done = catalograph(sample_dir, "mentions", "--refresh", "--full")
    assert done.returncode == 0 and "mentions rebuilt" in done.stderr, done.stderr
    after = set(open_latest_snapshot(sample_dir).quads_for_pattern(None, None, None, NamedNode(GRAPH)))
    assert before == after


def judged() -> dict[tuple[str, str], dict[str, int]]:
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    with JUDGED.open(encoding="utf-8") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(lines, delimiter="\t"):
            out[(row["source"], row["work"])][row["label"]] = int(row["correct"])
    return out


def test_precision_on_fifty_hand_labelled_works(pristine_sample: Store) -> None:
    """Every label matched in the 50 judged works must have been judged (a new match is
    a change to look at), and the share judged correct stays above ``MIN_PRECISION``."""
    labels = judged()
    assert len(labels) == 50
    stores = {"sample": pristine_sample, "oa": oa_store()}
    correct = total = 0
    for source, store in stores.items():
        matcher = build_matcher(read_labels(store, LAYOUT))
        texts = read_texts(store)
        for (where, work), verdicts in labels.items():
            if where != source:
                continue
            found = {matcher.form(key).casefold() for _, _, key in matcher.matches(texts[f"{BASE}work/{work}"])}
            assert found <= set(verdicts), f"{work}: matched but not judged: {found - set(verdicts)}"
            correct += sum(verdicts[form] for form in found)
            total += len(found)
    # 103 pairs judged; the rules refuse 8 of them, and 6 name only a record's own node (a place
    # of publication, a publisher), no mention target (docs/mentions.md)
    assert total >= 85
    assert correct / total >= MIN_PRECISION, f"precision {correct}/{total}"


def test_the_refresh_finds_what_one_matcher_of_every_label_finds(pristine_sample: Store) -> None:
    """The refresh never builds a matcher of the whole vocabulary: it matches each chunk of
    works against the patterns whose first token occurs in it. Its graph (the pristine
    sample's, made by the ingest's refresh) holds exactly the mentions that one matcher of
    every label finds in every work, so the precision measured above is the refresh's too."""
    matcher = build_matcher(read_labels(pristine_sample, LAYOUT))
    expected = {
        (work, m.unit, m.field, m.count)
        for work, texts in read_texts(pristine_sample).items()
        for m in matcher.mentions(texts)
    }
    held = {
        (work, unit, field.rsplit("/", 1)[-1], int(count))
        for work, unit, field, count in rows(pristine_sample, f"""SELECT ?w ?u ?f ?n WHERE {{ GRAPH <{GRAPH}> {{
            ?m cg:mentionedIn ?w ; cg:mentionOf ?u ; cg:textProperty ?f ; cg:mentionCount ?n }} }}""")
    }
    assert len(expected) > 200 and held == expected


def test_a_records_own_nodes_are_never_mentioned(pristine_sample: Store) -> None:
    """A record's own places, publishers and authors (``…/graph/marc/1#place-1``: one node per
    record, no page) are no mention targets: the graph links works to knowledge units only,
    though the texts name many of those nodes (every record's "London" was a target before)."""
    labels = rows(pristine_sample, """SELECT ?u ?k ?l WHERE {
        VALUES (?c ?k) { (skos:Concept "concept") (bf:Agent "agent") (bf:Place "place") }
        ?u a ?c ; rdfs:label ?l }""")
    own = [(unit, kind, label) for unit, kind, label in labels if LAYOUT.is_record_local(unit)]
    texts = read_texts(pristine_sample)
    would = build_matcher(own)
    named = {m.unit for pairs in texts.values() for m in would.mentions(pairs)}
    assert len(named) > 10, "the sample's texts name a record's own nodes: the rule is tested"
    targets = {u for (u,) in rows(pristine_sample, f"SELECT ?u WHERE {{ GRAPH <{GRAPH}> {{ ?m cg:mentionOf ?u }} }}")}
    linked = {u for (u,) in rows(pristine_sample, f"SELECT ?u WHERE {{ GRAPH <{GRAPH}> {{ ?w cg:mentions ?u }} }}")}
    assert len(targets) > 100 and linked == targets
    assert not any(LAYOUT.is_record_local(unit) for unit in targets)


def test_chinese_and_japanese_labels_match_inside_unspaced_text() -> None:
    """CJK text has no spaces: a two-character label matches as a character bigram,
    a one-character label never."""
    store = Store()
    graph = NamedNode(f"{BASE}graph/test/1")
    work, note = NamedNode(f"{BASE}work/k1"), NamedNode(f"{BASE}graph/test/1#summary")
    music, sound = NamedNode(f"{BASE}concept/k1"), NamedNode(f"{BASE}concept/k2")
    tokyo = NamedNode(f"{BASE}place/k3")
    store.extend([
        Quad(work, RDF.type, BF.Work, graph), Quad(work, BF.summary, note, graph),
        Quad(note, RDFS.label, Literal("本书论述中国音乐史。東京の音楽について。"), graph),
        Quad(music, RDF.type, SKOS.Concept, graph), Quad(music, SKOS.prefLabel, Literal("音乐", language="zh"), graph),
        Quad(music, SKOS.altLabel, Literal("音楽", language="ja"), graph),
        Quad(sound, RDF.type, SKOS.Concept, graph), Quad(sound, SKOS.prefLabel, Literal("音", language="zh"), graph),
        Quad(tokyo, RDF.type, BF.Place, graph), Quad(tokyo, RDFS.label, Literal("東京"), graph),
    ])  # fmt: skip
    matcher = build_matcher(read_labels(store, LAYOUT))
    found = {(m.unit, m.count) for m in matcher.mentions(read_texts(store)[work.value])}
    assert found == {(music.value, 2), (tokyo.value, 1)}


@pytest.mark.slow
def test_harvests_and_ingests_keep_the_mentions_a_full_rebuild_would_make(
    sample_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    """On the sample's store: a harvest (the loopback server stands in for arXiv's
    repository: its real answer of 150 physics records, read in place) ends by matching the
    new abstracts against every label; an ingest of the open-access records then matches its
    new works and the old works that contain one of its new labels. The graph they leave is
    the one a full rebuild makes."""
    from tests.conftest import shared_path
    from tests.oai_repository import OaiRepository, Reply, file_reply
    from tests.test_web_harvest import FAST, IDENTIFY, body, harvest

    physics = shared_path("oa/arxiv_oai/invenio-oaiharvester/sample_arxiv_response_listrecords_physics.xml")

    def answer(params: dict[str, str]) -> Reply:
        return Reply(body(IDENTIFY)) if params.get("verb") == "Identify" else file_reply(physics)

    with OaiRepository(answer) as repo:
        code, err = harvest(sample_dir, repo.url, capsys, FAST, metadata_prefix="arXiv", set_spec="physics")
    assert code == 0, err
    assert re.search(r"mentions updated in [\d.]+ s \(read .*\): .* \(150 with new texts", err), err
    count = rows(open_latest_snapshot(sample_dir), f"""SELECT (COUNT(*) AS ?n) WHERE {{
        GRAPH <{GRAPH}> {{ ?m cg:mentionedIn ?work }}
        FILTER EXISTS {{ ?instance bf:instanceOf ?work FILTER(STRSTARTS(STR(?instance), "{BASE}instance/arxiv-")) }} }}""")
    assert int(count[0][0]) > 0, err
    done = catalograph(sample_dir, "ingest", "--quiet", str(SHARED_DATA / "oa"))
    assert done.returncode in (0, 1), done.stderr  # 1: a few hostile test files are rejected
    line = next(x for x in done.stderr.splitlines() if "mentions updated" in x)
    assert "with new texts" in line and re.search(r"; [1-9]\d* containing one of", line), line
    graph = NamedNode(GRAPH)
    before = set(open_latest_snapshot(sample_dir).quads_for_pattern(None, None, None, graph))
    done = catalograph(sample_dir, "mentions", "--refresh", "--full")
    assert done.returncode == 0 and "0 quad(s) added, 0 removed" in done.stderr, done.stderr
    assert set(open_latest_snapshot(sample_dir).quads_for_pattern(None, None, None, graph)) == before


#: Two real Chinese summaries of the sample (MARC 520 of two books on Chinese diplomacy), and
#: what a concept labelled 外交 (diplomacy) and a place labelled 中国 (China) must find in
#: them, counted by hand: 中国 in 从中国改革, 用于中国外交, 创建中国外交, 全书分中国外交 and
#: in 新中国 four times; 外交 in 中国外交 three times, then in 的外交成就, 的外交历程,
#: 从外交的, 新中国外交工作, 外交学, 新中国外交实践, 新中国外交史.
CHINESE_SUMMARIES = {
    "k86e10b1c397ad3133445": {"中国": 4, "外交": 3},
    "ke4ca783da87947a6a7ef": {"中国": 4, "外交": 7},
}


def test_chinese_summaries_of_the_sample_are_matched_by_characters(pristine_sample: Store) -> None:
    """Real unspaced Chinese: each label found where it occurs, counted, and the store's own
    labels (Chinese and Japanese names among them) find nothing else in these texts."""
    texts = read_texts(pristine_sample)
    labels = list(read_labels(pristine_sample, LAYOUT))
    extra = [(f"{BASE}concept/test-diplomacy", "concept", "外交"), (f"{BASE}place/test-china", "place", "中国"),
             (f"{BASE}concept/test-book", "concept", "书")]  # one character: never a pattern
    matcher = build_matcher(labels + extra)
    names = {f"{BASE}concept/test-diplomacy": "外交", f"{BASE}place/test-china": "中国"}
    for work, expected in CHINESE_SUMMARIES.items():
        found = {names.get(m.unit, m.unit): m.count for m in matcher.mentions(texts[f"{BASE}work/{work}"])}
        assert found == expected, work


def test_japanese_text_is_matched_by_characters() -> None:
    """A real Japanese title (わが外交の近況, the Diplomatic Bluebook, in a George Washington
    University record of ../shared/data): kana and kanji are tokens alike."""
    matcher = build_matcher([(f"{BASE}concept/k1", "concept", "外交"), (f"{BASE}concept/k2", "concept", "近況報告")])
    assert [(m.unit, m.count) for m in matcher.mentions([("summary", "わが外交の近況")])] == [(f"{BASE}concept/k1", 1)]


def test_the_mention_terms_are_declared() -> None:
    from ontology.vocabulary import ontology_triples

    declared = {t.subject.value for t in ontology_triples() if isinstance(t.subject, NamedNode)}
    for term in (CG.Mention, CG.mentionedIn, CG.mentionOf, CG.textProperty, CG.mentionCount, CG.mentions):
        assert term.value in declared


def test_a_deleted_record_takes_its_mentions_with_it_and_nothing_is_missed(
    sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real catalogue record of the sample, deleted (the same bytes with leader/05 ``d``), in
    an ingest whose refresh reopens the store after every slice (as it does past its memory
    headroom): the refresh examines only what the deletion changed (the record's work, the
    units it labelled), the work's mentions go with its texts, and the graph is the one a full
    rebuild makes. A refresh that missed a work or a unit the deletion touched fails here."""
    import web.mentions_session
    from web.config import load_settings
    from web.ingest_command import run_ingest

    snapshot = open_latest_snapshot(sample_dir)
    mentioned = sorted({q.subject.value for q in snapshot.quads_for_pattern(None, CG.mentions, None, NamedNode(GRAPH))})
    with closing(sqlite3.connect(sample_dir / "record-index.sqlite")) as index:
        for work in mentioned:
            graphs = {q.graph_name.value for q in snapshot.quads_for_pattern(None, CG.linkedWork, NamedNode(work), None)}
            row = index.execute(
                "SELECT source_file, byte_offset FROM record_graph WHERE graph = ?", (min(graphs, default=""),)
            ).fetchone()
            if len(graphs) == 1 and row and row[1] is not None and Path(row[0]).suffix in (".mrc", ".marc"):
                break
        else:
            pytest.fail("no work of the sample is described by one binary MARC record")
    raw = (SAMPLE_DATA / "marc" / Path(row[0]).name).read_bytes()[row[1] :]
    record = raw[: int(raw[:5])]
    deleted = tmp_path / "deleted.mrc"
    deleted.write_bytes(record[:5] + b"d" + record[6:])
    monkeypatch.setattr(web.mentions_session, "MEMORY_HEADROOM_MB", -1.0)  # reopen after every slice
    report = run_ingest(load_settings(None, env={}, data_dir=sample_dir), [deleted])
    done = report.mentions
    assert report.deleted_present == 1 and done is not None and not done.full, report
    assert done.works_examined < 10 and done.reopened > 0 and done.quads_removed > 0, done
    after = open_latest_snapshot(sample_dir)
    assert not list(after.quads_for_pattern(NamedNode(work), CG.mentions, None, NamedNode(GRAPH)))
    graph = NamedNode(GRAPH)
    before = set(after.quads_for_pattern(None, None, None, graph))
    full = catalograph(sample_dir, "mentions", "--refresh", "--full")
    assert full.returncode == 0 and "0 quad(s) added, 0 removed" in full.stderr, full.stderr
    assert set(open_latest_snapshot(sample_dir).quads_for_pattern(None, None, None, graph)) == before


def test_the_record_of_each_works_mentions_is_what_the_graph_holds(sample_dir: Path) -> None:
    """A refresh of what changed diffs a work's mentions against the state's record of them
    (``work_found``), not against the graph: after the edits, deletions and refreshes above,
    the record and the graph say the same, node for node."""
    from graph.mention_graph import FIELDS

    with closing(sqlite3.connect(sample_dir / DIGESTS_FILE)) as db:
        recorded = {(w, u, FIELDS[f].value, str(c)) for w, u, f, c in db.execute("SELECT * FROM work_found")}
        assert db.execute("SELECT value FROM meta WHERE key = 'found'").fetchone() == ("1",)
    held = set(rows(open_latest_snapshot(sample_dir), f"""SELECT ?work ?unit ?field ?count WHERE {{
        GRAPH <{GRAPH}> {{ ?m cg:mentionedIn ?work ; cg:mentionOf ?unit ; cg:textProperty ?field ;
                           cg:mentionCount ?count }} }}"""))
    assert recorded and recorded == held


def _every_page(page, *args: object, size: int = 7) -> list:  # noqa: ANN001 - a page function
    found, offset, more = [], 0, True
    while more:
        rows, more = page(*args, offset, size)
        found += rows
        offset += size
    return found


def test_the_scans_by_pages_read_what_the_pattern_scans_read(pristine_sample: Store) -> None:
    """A refresh of everything lists the units, the works with texts, the works the graph holds
    mentions of and each record graph's works and units by pages of a query (``OFFSET`` and
    ``LIMIT``, the store reopened between pages: docs/mentions.md); over every page, in pages of
    7 here, they are what the scans by pattern and the graph-by-graph reads give."""
    store = pristine_sample
    typed = {
        (q.subject.value, q.graph_name.value)
        for cls, _kind in UNIT_KINDS
        for q in store.quads_for_pattern(None, RDF.type, cls, None)
        if isinstance(q.subject, NamedNode)
    }
    units = {u for u, _g in typed if not LAYOUT.is_record_local(u)}
    assert len(units) > 100 and set(_every_page(all_units_page, store, LAYOUT)) == units
    holders = {
        q.subject
        for p in (BF.summary, BF.tableOfContents)
        for q in store.quads_for_pattern(None, p, None, None)
        if isinstance(q.subject, NamedNode)
    }
    works = {h.value for h in holders if next(store.quads_for_pattern(h, RDF.type, BF.Work, None), None)}
    works |= {q.object.value for h in holders for q in store.quads_for_pattern(h, BF.instanceOf, None, None)}
    assert len(works) > 100 and set(_every_page(works_with_texts_page, store)) == works
    held = {q.object.value for q in store.quads_for_pattern(None, CG.mentionedIn, None, NamedNode(GRAPH))}
    assert len(held) > 50 and set(_every_page(held_works_page, store, LAYOUT)) == held
    graphs = [g.value for g in store.named_graphs() if isinstance(g, NamedNode)]
    links = {kind: set() for kind in ("work", "text", "unit")}
    for kind, predicate, value in GRAPH_LINKS:
        links[kind].update(_every_page(graph_links_page, store, LAYOUT, kind, predicate, value))
    assert links["work"] | links["text"] == {(g, w) for g in graphs for w in graph_works(store, g)}
    assert len(links["unit"]) > 100 and links["unit"] == {(g, u) for g in graphs for u in graph_units(store, LAYOUT, g)}
    # the mappers type only a record's own nodes in its graph (a unit in a graph of its own), and
    # those are no mention targets: the units read come from the units' graphs only
    own = {(g, u) for u, g in typed if LAYOUT.is_record_graph(g)}
    assert len(own) > 100 and all(LAYOUT.is_record_local(u) for _g, u in own)
    assert not any(LAYOUT.is_record_graph(g) for g, _u in links["unit"])


def test_the_labels_read_by_pages_are_what_the_unit_by_unit_reads_give(pristine_sample: Store) -> None:
    """A full refresh reads every unit's labels by pages of a query (``unit_labels_page``) where
    a refresh of what changed reads them unit by unit (``unit_labels``): on the sample, in pages
    of 7 type statements, and on a store made to hold every case the two could differ on (a unit
    typed in two graphs and of two kinds, labels by every predicate and in the default graph, an
    IRI where a label would be, a blank node, concepts deprecated as ``true`` and as ``"1"``)."""
    edge = Store()
    ex, g1, g2 = "http://e.org/", NamedNode("http://e.org/g1"), NamedNode("http://e.org/g2")
    true, one = (Literal(v, datatype=NamedNode("http://www.w3.org/2001/XMLSchema#boolean")) for v in ("true", "1"))
    def unit(name: str) -> NamedNode:
        return NamedNode(ex + name)

    edge.extend([
        Quad(unit("a"), RDF.type, BF.Agent, g1), Quad(unit("a"), RDF.type, BF.Agent, g2),
        Quad(unit("a"), RDF.type, BF.Place, g2), Quad(unit("a"), RDFS.label, Literal("Bath"), g1),
        Quad(unit("a"), SKOS.altLabel, Literal("Aquae Sulis", language="la"), DefaultGraph()),
        Quad(unit("c"), RDF.type, SKOS.Concept, g1), Quad(unit("c"), SKOS.prefLabel, Literal("Jazz"), g2),
        Quad(unit("c"), RDFS.label, unit("not-a-label"), g1),
        Quad(unit("d"), RDF.type, SKOS.Concept, g1), Quad(unit("d"), RDFS.label, Literal("Old"), g1),
        Quad(unit("d"), OWL.deprecated, true, g2),
        Quad(unit("e"), RDF.type, SKOS.Concept, g1), Quad(unit("e"), RDFS.label, Literal("Older"), g1),
        Quad(unit("e"), OWL.deprecated, one, g1),
        Quad(BlankNode("b"), RDF.type, SKOS.Concept, g1), Quad(BlankNode("b"), RDFS.label, Literal("Blank"), g1),
        Quad(unit("n"), RDF.type, BF.Agent, g1),
        Quad(NamedNode(f"{BASE}graph/marc/1#place-1"), RDF.type, BF.Place, NamedNode(f"{BASE}graph/marc/1")),
        Quad(NamedNode(f"{BASE}graph/marc/1#place-1"), RDFS.label, Literal("London"), NamedNode(f"{BASE}graph/marc/1")),
    ])  # fmt: skip
    for store, size in ((pristine_sample, 7), (edge, 2)):
        units = set(_every_page(all_units_page, store, LAYOUT))
        expected = {(u, kind, label) for u in units for kind, label in unit_labels(store, LAYOUT, u)}
        deprecated = deprecated_units(store)
        found = set()
        for offset in range(0, unit_type_count(store), size):
            found |= unit_labels_page(store, LAYOUT, offset, size, deprecated)
        assert found == expected
        assert unit_labels(store, LAYOUT, f"{BASE}graph/marc/1#place-1") == set()  # a record's own node
    assert len(expected) == 5 and deprecated == {ex + "d", ex + "e"}  # the edge store's


def test_the_plain_tokens_are_spacys_for_every_letter() -> None:
    """``plain_tokens`` says how spaCy's blank multi-language tokenizer cuts a word of letters,
    and one of letters and a comma, semicolon or colon, without asking it: true of every
    letter of Unicode at the start, inside and at the end of a word (two words per letter,
    tokenized by spaCy a few thousand at a time: it cuts a text at its spaces and tokenizes
    each chunk alone), and of every special case of the tokenizer that looks like such a word."""
    nlp = blank_pipeline()
    letters = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isalpha()]
    words = [word for c in letters for word in (f"{c}a{c}", f"a{c},", f"{c};")]
    assert len(letters) > 100_000
    for start in range(0, len(words), 6_000):
        chunk = words[start : start + 6_000]
        expected = [token for word in chunk for token in plain_tokens(word) or ("?",)]
        assert [t.text for t in nlp.make_doc(" ".join(chunk))] == expected, chunk[0]
    for key in nlp.tokenizer.rules:
        if plain_tokens(key) is not None:
            assert tuple(t.text for t in nlp.make_doc(key)) == plain_tokens(key), key
    assert plain_tokens("xD") == ("xD",) and plain_tokens("1984") is None and plain_tokens("J.") is None


def test_the_tokens_of_every_label_of_the_sample_are_spacys(pristine_sample: Store) -> None:
    """``label_words`` (spaCy asked only for the words ``plain_tokens`` cannot decide) gives the
    tokens ``nlp.make_doc`` gives, on every form of every label of the sample, and decides
    most words without spaCy."""
    forms = sorted({form for _unit, kind, label in read_labels(pristine_sample, LAYOUT) for form, _ in label_forms(label, kind)[0]})
    nlp = blank_pipeline()
    spacy_tokens = [tuple(t.text for t in nlp.make_doc(segment(form))) for form in forms]
    assert len(forms) > 2_000
    fresh = blank_pipeline()  # a tokenizer that has seen none of them
    assert [label_words(fresh, form) for form in forms] == spacy_tokens
    words = [word for form in forms for word in segment(form).split(" ")]
    assert sum(plain_tokens(word) is not None for word in words) > len(words) / 2
