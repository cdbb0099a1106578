"""Mentions of knowledge units in abstracts and contents notes, on real records.

The shipped sample is ingested by the real command into a store on disk and
``catalograph mentions --refresh`` is run on it; the open-access records of
``../shared/data/oa`` are mapped by the real mappers into a store in memory.
Precision is measured against ``tests/data/mentions/precision.tsv``: 50 works
(25 of each), every label matched in them judged by hand.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store

from graph import open_latest_snapshot
from graph.mention_graph import mentions_graph
from graph.writer import Writer
from ingest import PIPELINE_VERSION
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import Rejected
from ingest.sources import detect_format, get_source
from ontology.layout import Layout
from ontology.namespaces import BF, CG, PREFIXES, RDF, RDFS, SKOS
from query.mentions import build_matcher, read_labels, read_texts
from tests.conftest import BASE, SAMPLE_DATA, SHARED_DATA
from tests.test_cli_ingest import catalograph
from web.mentions_command import refresh_mentions

JUDGED = Path(__file__).parent / "data" / "mentions" / "precision.tsv"
LAYOUT = Layout(BASE)
GRAPH = mentions_graph(LAYOUT).value
#: Below this share of correct (work, label) pairs the guards have regressed (measured: 85/103).
MIN_PRECISION = 0.8


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("mentions") / "data"
    done = catalograph(data_dir, "ingest", "--quiet", str(SAMPLE_DATA))
    assert done.returncode == 0, done.stderr
    done = catalograph(data_dir, "mentions", "--refresh")
    assert done.returncode == 0, done.stderr
    assert "mentions rebuilt" in done.stderr
    return data_dir


@pytest.fixture(scope="module")
def pristine_sample(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The sample as ingested, for the precision test (the tests above edit theirs)."""
    data_dir = tmp_path_factory.mktemp("pristine") / "data"
    done = catalograph(data_dir, "ingest", "--quiet", str(SAMPLE_DATA))
    assert done.returncode == 0, done.stderr
    return open_latest_snapshot(data_dir)


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
        matcher = build_matcher(read_labels(store))
        texts = read_texts(store)
        for (where, work), verdicts in labels.items():
            if where != source:
                continue
            found = {matcher.form(key).casefold() for _, _, key in matcher.matches(texts[f"{BASE}work/{work}"])}
            assert found <= set(verdicts), f"{work}: matched but not judged: {found - set(verdicts)}"
            correct += sum(verdicts[form] for form in found)
            total += len(found)
    assert total >= 100
    assert correct / total >= MIN_PRECISION, f"precision {correct}/{total}"


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
    matcher = build_matcher(read_labels(store))
    found = {(m.unit, m.count) for m in matcher.mentions(read_texts(store)[work.value])}
    assert found == {(music.value, 2), (tokyo.value, 1)}


def test_the_mention_terms_are_declared() -> None:
    from ontology.vocabulary import ontology_triples

    declared = {t.subject.value for t in ontology_triples() if isinstance(t.subject, NamedNode)}
    for term in (CG.Mention, CG.mentionedIn, CG.mentionOf, CG.textProperty, CG.mentionCount, CG.mentions):
        assert term.value in declared
