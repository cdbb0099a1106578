"""Match candidates on real records: ``catalograph candidates --refresh`` and the hand-labelled pairs.

The store is built by the real ``catalograph ingest`` in a subprocess, from the shipped sample
(data/), committed test files and MARC files of ../shared/data whose catalogues name the same
people several ways (solrmarc's uva_001_2000, marc4j's Pride and prejudice file, evergreen's
French-history, jazz and open-source files), plus Crossref and OpenAlex records that name funders
by a Crossref funder DOI and by ROR. The candidates are then rebuilt by the real command and read
back from the checkpoint: the precision of those at or above ``THRESHOLD`` is measured against
tests/data/candidates/labelled.tsv, where each pair is judged by hand with its reason.

On a copy of that store, one article is held twice: the Crossref record of the eLife article
10.7554/eLife.01567 (committed) and a MARC record made here with pymarc for the same article, with
no DOI and the first author with initials only ("Sankar, M."), so that the creator-and-title work
keys differ and nothing deterministic joins them, and a subtitle the cataloguer added. The two
works must come out as a candidate, not as one node.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pymarc
import pytest
from pymarc import Field, Leader, Record, Subfield
from pyoxigraph import NamedNode, Quad

from graph.candidates import candidate_iri, candidates_graph
from graph.snapshots import open_latest_snapshot
from ontology.layout import Layout
from ontology.namespaces import CG
from query.candidates import THRESHOLD, stored_candidates
from tests.conftest import BASE, SAMPLE_DATA, shared_path, test_path
from tests.test_cli_ingest import catalograph

LAYOUT = Layout(BASE)
#: The files of ../shared/data the labelled pairs come from.
SHARED_FILES = (
    "marc/solrmarc/uva_001_2000.mrc",
    "marc/marc4j/pride-and-prejudice-fixed.mrc",
    "marc/evergreen/lul_fre_500.mrc",
    "marc/evergreen/jazz_1k.mrc",
    "marc/evergreen/oss.marc",
    "oa/crossref/commonmeta",
    "oa/crossref/habanero/test_works_field_queries.json",
    "oa/openalex/commonmeta",
)
COMMITTED = ("marcxml/marc2bibframe2/880", "marc/solrmarc/fields_700_4_samp.mrc", "oa")


def labelled() -> dict[tuple[str, str], dict[str, str]]:
    path = test_path("candidates/labelled.tsv")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    rows = csv.DictReader(lines, delimiter="\t")
    found = {}
    for row in rows:
        assert row["verdict"] in ("same", "different"), row
        assert row["first"] < row["second"], f"pair not sorted: {row}"
        found[(row["first"], row["second"])] = row
    return found


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared = [str(shared_path(relative)) for relative in SHARED_FILES]
    data = tmp_path_factory.mktemp("candidates-store")
    committed = [str(test_path(relative)) for relative in COMMITTED]
    done = catalograph(data, "ingest", "--quiet", str(SAMPLE_DATA), *committed, *shared)
    assert done.returncode in (0, 1), done.stderr  # 1: some records of the corpus are rejected
    done = catalograph(data, "candidates", "--refresh", "--json")
    assert done.returncode == 0, done.stderr
    return data


def test_the_labelled_set_is_large_enough_and_judged() -> None:
    pairs = labelled()
    assert len(pairs) >= 50
    assert all(row["reason"].strip() for row in pairs.values())


@pytest.mark.slow
def test_precision_of_the_candidates_at_or_above_the_threshold(catalogue: Path) -> None:
    pairs = labelled()
    held = stored_candidates(open_latest_snapshot(catalogue), LAYOUT)
    above = [c for c in held if c.score >= THRESHOLD]
    unlabelled = [(c.first, c.second, c.first_label, c.second_label) for c in above if (c.first, c.second) not in pairs]
    assert not unlabelled, f"label these candidates by hand in labelled.tsv: {unlabelled}"
    right = sum(pairs[(c.first, c.second)]["verdict"] == "same" for c in above)
    precision = right / len(above)
    print(f"\nprecision at >= {THRESHOLD}: {right}/{len(above)} = {precision:.3f}; "
          f"{len(held)} candidates in all, {len(pairs)} pairs labelled")
    assert len(above) >= 40
    assert precision >= 0.98
    # a pair judged different never reaches the threshold
    assert not [c for c in above if pairs[(c.first, c.second)]["verdict"] == "different"]


def test_every_rule_shows_up_with_its_reasons(catalogue: Path) -> None:
    held = {(c.first, c.second): c for c in stored_candidates(open_latest_snapshot(catalogue), LAYOUT)}
    by_rule = {c.rule for c in held.values()}
    assert {"agent-punctuation", "agent-dates", "agent-authority", "agent-authorities"} <= by_rule
    mulligan = held[(f"{BASE}agent/k30bbdb12890bb04d0e22", f"{BASE}agent/k6cf3d3010eb9f4f45414")]
    assert (mulligan.first_label, mulligan.second_label) == ("Mulligan, Gerry, 1927-1996", "Mulligan, Gerry")
    assert mulligan.reasons == ("same name without dates",)
    assert mulligan.score >= THRESHOLD
    herman = [c for c in held.values() if c.first_label.startswith("Herman, Woody")]
    assert len(herman) == 1 and herman[0].score < THRESHOLD  # dates that only nearly agree: review
    assert "nearly agree" in herman[0].reasons[0]


def test_the_candidate_iri_is_the_hash_of_the_pair_and_a_rebuild_writes_nothing(catalogue: Path) -> None:
    store = open_latest_snapshot(catalogue)
    held = stored_candidates(store, LAYOUT)
    for c in held:
        assert c.iri == candidate_iri(LAYOUT, c.second, c.first).value
    graph = candidates_graph(LAYOUT)
    assert Quad(NamedNode(held[0].iri), CG.status, CG.Pending, graph) in store
    # nothing merged: both sides of every candidate are still two resources
    assert not list(store.quads_for_pattern(NamedNode(held[0].first), NamedNode("http://www.w3.org/2002/07/owl#sameAs"), None))
    done = catalograph(catalogue, "candidates", "--refresh")
    assert done.returncode == 0, done.stderr
    assert "0 quads added, 0 removed" in done.stderr
    listed = catalograph(catalogue, "candidates", "--json", "--limit", "3")
    body = json.loads(listed.stdout)
    assert body["threshold"] == THRESHOLD
    assert [c["iri"] for c in body["candidates"]] == [c.iri for c in held[:3]]


def test_the_example_query_lists_the_candidates(catalogue: Path) -> None:
    text = (Path(__file__).resolve().parent.parent / "query/examples/15-match-candidates.rq").read_text()
    done = catalograph(catalogue, "query", "--format", "json", text)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["results"]["bindings"]
    assert len(rows) >= 40
    assert {"candidate", "first", "second", "score", "rule", "reasons"} <= set(rows[0])


def marc_article(tmp_path: Path) -> Path:
    """The eLife article as a cataloguer might describe it, without its DOI."""
    record = Record(leader=Leader("00000nab a2200000 i 4500"))
    record.add_field(
        Field(tag="001", data="elife01567-nodoi"),
        Field(tag="003", data="XxTest"),
        Field("100", ["1", " "], [Subfield("a", "Sankar, M."), Subfield("e", "author.")]),
        Field("245", ["1", "0"], [Subfield("a", "Automated quantitative histology reveals vascular "
                                                 "morphodynamics during Arabidopsis hypocotyl secondary growth :"),
                                  Subfield("b", "an image-based approach /"),
                                  Subfield("c", "Martial Sankar [and four others].")]),
    )  # fmt: skip
    path = tmp_path / "article.xml"
    path.write_bytes(pymarc.record_to_xml(record, namespace=True))
    return path


def test_the_candidates_conform_to_the_shapes(catalogue: Path) -> None:
    from pyoxigraph import RdfFormat, serialize

    from ontology.validation import validate

    store = open_latest_snapshot(catalogue)
    quads = list(store.quads_for_pattern(None, None, None, candidates_graph(LAYOUT)))
    assert len(quads) > 300
    report = validate(serialize(quads, format=RdfFormat.N_QUADS))
    assert report.conforms, report.results[:5]


def catalogue_records(tmp_path: Path, deleted: bool = False) -> Path:
    """Two records for the catalogue: the eLife article without its DOI (its work a candidate of
    the Crossref record's), and a record by "Mulligan, Gerry, b. 1927" (another heading in the
    block of the two Mulligans); with ``deleted``, the article again, deleted at its source."""
    article = pymarc.parse_xml_to_array(str(marc_article(tmp_path)))[0]
    if deleted:
        article.leader = Leader("00000dab a2200000 i 4500")
        path = tmp_path / "deleted.xml"
        path.write_bytes(pymarc.record_to_xml(article, namespace=True))
        return path
    record = Record(leader=Leader("00000njm a2200000 i 4500"))
    record.add_field(
        Field(tag="001", data="mulligan-b1927"),
        Field(tag="003", data="XxTest"),
        Field("100", ["1", " "], [Subfield("a", "Mulligan, Gerry,"), Subfield("d", "b. 1927.")]),
        Field("245", ["1", "0"], [Subfield("a", "Night lights revisited /"), Subfield("c", "Gerry Mulligan.")]),
    )  # fmt: skip
    path = tmp_path / "added.xml"
    path.write_bytes(b"".join([pymarc.record_to_xml(r, namespace=True) for r in (article, record)]))
    path.write_bytes(b'<collection xmlns="http://www.loc.gov/MARC21/slim">' + path.read_bytes().replace(
        b' xmlns="http://www.loc.gov/MARC21/slim"', b"") + b"</collection>")  # fmt: skip
    return path


def test_incremental_refreshes_after_records_added_and_deleted_equal_a_full_one(
    catalogue: Path, tmp_path: Path
) -> None:
    """On a copy of the catalogue, with ingests that refresh the candidates for what they changed
    only (``web.candidates_refresh``):

    - the eLife article catalogued without its DOI meets the Crossref record of it as a
      candidate, not one node (nothing deterministic joins them: "Sankar, M." and a subtitle);
      a heading "Mulligan, Gerry, b. 1927" joins the block of the two Mulligans;
    - a rejection (stated through the single writer, as the review queue does) survives the
      refreshes, the pair keeping its IRI and status;
    - the article's record deleted at its source takes its pending candidate away;
    - a full refresh afterwards writes nothing: the incremental graph is the full one.
    """
    from graph.writer import Writer

    data = tmp_path / "store"
    shutil.copytree(catalogue, data)
    before = {(c.first, c.second) for c in stored_candidates(open_latest_snapshot(data), LAYOUT)}
    done = catalograph(data, "ingest", "--quiet", str(catalogue_records(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "(updated: " in done.stderr, done.stderr  # incremental, not rebuilt
    store = open_latest_snapshot(data)
    new = [c for c in stored_candidates(store, LAYOUT) if (c.first, c.second) not in before]
    assert {c.rule for c in new} >= {"work-title", "agent-dates"}, new
    (work,) = [c for c in new if c.rule == "work-title"]
    described_by = {}
    for side in (work.first, work.second):
        graphs = {q.graph_name.value for q in store.quads_for_pattern(None, CG.linkedWork, NamedNode(side))}
        described_by[side] = {g.split("/graph/")[1].split("/")[0] for g in graphs}
    # the catalogue's side, and the open-access one (its Crossref and OpenAlex records met by DOI)
    assert sorted(described_by.values(), key=sorted) == [{"crossref", "openalex"}, {"xxtest"}]
    assert work.reasons == ("title similarity 1.00, same first author family name",)
    assert work.score >= THRESHOLD
    mulligan = [c for c in new if "b. 1927" in c.first_label + c.second_label]
    assert len(mulligan) >= 2, new  # the new heading against both Mulligans of the block
    del store
    graph = candidates_graph(LAYOUT)
    with Writer(data, LAYOUT, "candidates-test") as writer:
        writer.store.remove(Quad(NamedNode(mulligan[0].iri), CG.status, CG.Pending, graph))
        writer.store.add(Quad(NamedNode(mulligan[0].iri), CG.status, CG.Rejected, graph))
        writer.session.changed = True
    done = catalograph(data, "ingest", "--quiet", str(catalogue_records(tmp_path, deleted=True)))
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\s*deleted\s+1$", done.stderr, re.MULTILINE) and "(updated: " in done.stderr, done.stderr
    held = {c.iri: c for c in stored_candidates(open_latest_snapshot(data), LAYOUT)}
    assert work.iri not in held
    assert all(c.iri in held for c in mulligan) and held[mulligan[0].iri].status == "rejected"
    done = catalograph(data, "candidates", "--refresh", "--full", "--json")
    assert done.returncode == 0, done.stderr
    assert "0 quads added, 0 removed" in done.stderr and "(rebuilt)" in done.stderr, done.stderr
    (again,) = [c for c in json.loads(done.stdout)["candidates"] if c["iri"] == mulligan[0].iri]
    assert again["status"] == "rejected"


def test_the_record_index_says_which_sources_it_holds_graphs_of(catalogue: Path, tmp_path: Path) -> None:
    """Works are compared only once an open-access record graph is held, and the record index
    says so by a seek (``RecordIndex.holds_graph_under``) where the store would scan every
    record's work link: yes for Crossref, no for a source never ingested or a prefix of a name."""
    from graph.writer import Writer

    data = tmp_path / "store"
    shutil.copytree(catalogue, data)
    with Writer(data, LAYOUT, "candidates-test") as writer:
        index = writer.session.index
        assert index.holds_graph_under(f"{LAYOUT.graphs}crossref/")
        assert index.holds_graph_under(f"{LAYOUT.graphs}marc/")
        assert not index.holds_graph_under(f"{LAYOUT.graphs}crossre/")
        assert not index.holds_graph_under(f"{LAYOUT.graphs}no-such-source/")
        assert not index.holds_graph_under(f"{LAYOUT.graphs}~")  # past every graph


def test_an_ingest_stopped_before_its_candidates_refresh_is_made_good_by_the_next(
    catalogue: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records are committed, then the process dies before the candidates are refreshed
    (here: the refresh raises, as a kill at that moment would stop it). The next ingest of the
    same files finds every record unchanged; it must still refresh the candidates, which lag
    (``web.candidates_command.mark_owed``), not leave the review queue without the new pairs."""
    from click.testing import CliRunner

    from web import candidates_command
    from web.cli import cli

    data = tmp_path / "store"
    shutil.copytree(catalogue, data)
    before = {c.iri for c in stored_candidates(open_latest_snapshot(data), LAYOUT)}
    added = catalogue_records(tmp_path)

    def stopped(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("stopped before the candidates' refresh")

    with monkeypatch.context() as patched:
        patched.setattr(candidates_command, "refresh_candidates", stopped)
        result = CliRunner().invoke(cli, ["--data-dir", str(data), "ingest", "--quiet", str(added)])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError), result.output
    done = catalograph(data, "ingest", "--quiet", str(added))
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\s*unchanged\s+2$", done.stderr, re.MULTILINE), done.stderr  # nothing new to write
    assert "match candidates" in done.stderr, done.stderr  # yet the refresh ran
    new = {c.iri for c in stored_candidates(open_latest_snapshot(data), LAYOUT)} - before
    assert len(new) >= 3, new  # the article's work and the new Mulligan heading, as in the test above
    done = catalograph(data, "candidates", "--refresh", "--full")
    assert "0 quads added, 0 removed" in done.stderr, done.stderr


#: The slice the paged full refreshes below read agents and works by, a reopen after each: dozens
#: of slices of each kind over the catalogue (72 of its 6,957 agents, 49 of its 4,723 record
#: graphs, 48 of its 4,574 works). Each reopen of this store costs about 25 ms of CPU and 80 ms
#: of wall time under load (RocksDB opens every table again, in some 200 threads, and writes and
#: syncs a new MANIFEST and log). Slices of 7 made 1,155 and 1,346 reopens, 39 of the 44 s of
#: CPU and 109 of the 120 s of wall time of the agents' refresh, 43 of 48 s and 115 of 129 s of
#: the works' (measured on 2026-12-07 at load 6 to 7), for the same keyset reads past the same
#: kind of boundary: every key is unique, and no agent of the catalogue is typed in two graphs,
#: so no slice of any size splits an agent's pairs. docs/testing.md, "The suite's time".
SMALL_SLICE = 97


def _refresh_fully_reopening_at_each_breath(
    data: Path, monkeypatch: pytest.MonkeyPatch, **sizes: int
) -> list[int]:
    """A full refresh of the store at ``data`` with ``web.candidates_refresh``'s page and slice
    ``sizes`` set and the store reopened at every breath; it must find the graph as the
    catalogue's refreshes made it (nothing to write). Returns one item per reopen."""
    from graph.writer import Writer
    from web import candidates_refresh
    from web.candidates_command import refresh_candidates

    for name, size in sizes.items():
        monkeypatch.setattr(candidates_refresh, name, size)
    monkeypatch.setattr(candidates_refresh, "MEMORY_HEADROOM_MB", -1.0)  # every breath reopens
    reopens: list[int] = []
    with Writer(data, LAYOUT, "candidates-test") as writer:
        reopen = writer.session.reopen
        monkeypatch.setattr(writer.session, "reopen", lambda: reopens.append(1) or reopen())
        done = refresh_candidates(writer, LAYOUT, data, full=True)
    assert (done.added, done.removed, done.full) == (0, 0, True), done
    return reopens


def _agent_type_pairs(store: object) -> set[tuple[str, str]]:
    """``(agent, graph)`` of every statement typing an agent of its own ``bf:Agent`` in a named
    graph, by one query over the whole store (what the full refresh listed by ``OFFSET`` pages
    of it before it listed them from the ledger)."""
    rows = store.query("SELECT ?agent ?g WHERE { GRAPH ?g { ?agent a <http://id.loc.gov/ontologies/bibframe/Agent> } }")
    return {
        (row["agent"].value, row["g"].value)
        for row in rows
        if isinstance(row["agent"], NamedNode) and not row["agent"].value.startswith(LAYOUT.graphs)
    }


def test_a_full_refresh_reading_agents_a_few_at_a_time_gives_what_the_query_gives(
    catalogue: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full refresh lists the agents with the graphs typing them from the ledger (its groups
    and the writers' unit edits, ``TYPE_SLICE`` at a time, each looked up in the store) and from
    the graphs writers changed, then reads their labels by index lookups, ``AGENT_SLICE``
    agents at a time, the store reopened between slices when the process grew
    (``web.candidates_refresh``). After writers' edits the ledger does not count (an agent
    typed in a graph of no unit, another in a record graph) or that it counts (a type
    removed, an agent added in its unit graph), and with slices of 50 and ``SMALL_SLICE`` and a
    reopen after every one, the pairs listed must be exactly those a query over the whole store
    gives, the state must hold exactly the labels ``candidate_agents.rq`` gives over the whole store, and
    the graph must be the one an incremental refresh made: nothing to write."""
    from pyoxigraph import Literal, Variable

    from graph.candidate_state import open_state
    from graph.updates import apply_update
    from ontology.namespaces import PREFIXES
    from query.candidates import sparql
    from web import candidates_refresh

    data = tmp_path / "store"
    shutil.copytree(catalogue, data)
    snapshot = open_latest_snapshot(data)
    before = _agent_type_pairs(snapshot)
    removed = min((agent, graph) for agent, graph in before if agent == graph and agent.startswith(f"{BASE}agent/"))
    record = min(g.value for g in snapshot.named_graphs() if LAYOUT.is_record_graph(g.value))
    del snapshot
    agent = "http://id.loc.gov/ontologies/bibframe/Agent"
    label = "http://www.w3.org/2000/01/rdf-schema#label"
    elsewhere, minted = "http://example.com/elsewhere", f"{BASE}agent/added-by-a-writer"
    edits = {
        "a graph of no unit": (elsewhere, f'<http://example.com/p/1> a <{agent}> ; <{label}> "Zyxwv, Quentin"'),
        "a record graph": (record, f'<http://example.com/p/2> a <{agent}> ; <{label}> "Qwzyx, Ursula"'),
        "its unit graph": (minted, f'<{minted}> a <{agent}> ; <{label}> "Vwxyz, Quirinus"'),
    }
    for graph, triples in edits.values():
        apply_update(data, f"INSERT DATA {{ GRAPH <{graph}> {{ {triples} }} }}",
                     iris=[graph], all_graphs=False, layout=LAYOUT, who="test")  # fmt: skip
    apply_update(data, f"DELETE DATA {{ GRAPH <{removed[1]}> {{ <{removed[0]}> a <{agent}> }} }}",
                 iris=[removed[1]], all_graphs=False, layout=LAYOUT, who="test")  # fmt: skip
    done = catalograph(data, "candidates", "--refresh")
    assert done.returncode == 0, done.stderr
    snapshot = open_latest_snapshot(data)
    expected_pairs = _agent_type_pairs(snapshot)
    assert removed not in expected_pairs
    assert expected_pairs - before == {
        ("http://example.com/p/1", elsewhere), ("http://example.com/p/2", record), (minted, minted)
    }  # fmt: skip
    rows = snapshot.query(
        sparql("candidate_agents"),
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={Variable("graphs"): Literal(LAYOUT.graphs)},
    )
    expected = {(row["agent"].value, row["label"].value) for row in rows}
    assert len(expected) > 1000
    del snapshot
    listed: set[tuple[str, str]] = set()
    list_agents = candidates_refresh._list_agents

    def listing(run: object) -> None:
        list_agents(run)
        listed.update(run.db.execute("SELECT agent, graph FROM todo_agent"))

    monkeypatch.setattr(candidates_refresh, "_list_agents", listing)
    reopens = _refresh_fully_reopening_at_each_breath(data, monkeypatch, AGENT_SLICE=SMALL_SLICE, TYPE_SLICE=50)
    assert listed == expected_pairs
    assert len(reopens) > len({agent for agent, _label in expected}) / SMALL_SLICE
    db = open_state(data)
    assert set(db.execute("SELECT agent, label FROM agent_label")) == expected
    db.close()


def test_a_full_refresh_reading_works_a_page_at_a_time_gives_what_the_queries_give(
    catalogue: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full refresh lists the works the record graphs name and reads each one's facts
    by index lookups (``query.candidates.work_facts``), and each record graph's works by index
    lookups too (``graph_works``), the store reopened between slices when the process grew.
    With slices of ``SMALL_SLICE`` and a reopen after every one, the state must hold exactly the
    facts ``candidate_works.rq`` gives over the whole store and the record graphs' rows of
    ``candidate_graph_works.rq`` (what the refresh read before it read in pages), and the graph
    must be the one the catalogue's refreshes made: nothing to write."""
    from pyoxigraph import Literal, Variable

    from graph.candidate_state import open_state
    from ontology.namespaces import PREFIXES
    from query.candidate_rules import family_name, title_forms
    from query.candidates import source_of, sparql
    from web.candidates_command import OPEN_ACCESS_SOURCES

    data = tmp_path / "store"
    shutil.copytree(catalogue, data)
    snapshot = open_latest_snapshot(data)
    bound = {Variable("graphs"): Literal(LAYOUT.graphs)}
    facts = set()
    for row in snapshot.query(sparql("candidate_works"), prefixes=PREFIXES, use_default_graph_as_union=True, substitutions=bound):
        work, source = row["work"].value, source_of(row["g"].value, LAYOUT)
        facts |= {(work, "source", source)} | {(work, "title", f) for f in title_forms(row["title"].value)}
        if source in OPEN_ACCESS_SOURCES:
            facts.add((work, "oa", source))
        if row["creator"] is not None and (family := family_name(row["creator"].value)):
            facts.add((work, "family", family))
    rows = snapshot.query(sparql("candidate_graph_works"), prefixes=PREFIXES, use_default_graph_as_union=True, substitutions=bound)
    graph_works = {(row["g"].value, row["work"].value) for row in rows}
    assert len({work for work, _kind, _value in facts}) > 100 and len(graph_works) > 100
    reopens = _refresh_fully_reopening_at_each_breath(data, monkeypatch, WORK_SLICE=SMALL_SLICE)
    assert len(reopens) > len({work for work, _kind, _value in facts}) / SMALL_SLICE
    db = open_state(data)
    assert set(db.execute("SELECT work, kind, value FROM work_fact")) == facts
    records = {graph for (graph,) in db.execute("SELECT graph FROM manifest")}
    assert set(db.execute("SELECT graph, work FROM graph_work")) == {(g, w) for g, w in graph_works if g in records}
    db.close()
