"""Associative retrieval over real records: what is related, why, and that every way of asking agrees.

The sample of ``data/`` is ingested by ``catalograph ingest`` (which ends by
refreshing the associations) into a real data directory (a copy of the
session's, tests/conftest.py); other stores here by its library function; ``related`` is asked of the checkpoint it published and of the
projection that checkpoint names. Hand-picked records from the sample:

- Princeton's *Ars minor* fragments of Donatus (data/marcxml/princeton.xml,
  001 4603408 and six other copies): seven editions of one Work, which also
  shares the subject *Latin language--Grammar--Early works to 1500* with
  Alexander de Villa Dei's *Doctrinale* (001 4612422), and no other work.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pymarc
import pytest
from pyoxigraph import NamedNode, QueryResultsFormat, RdfFormat, Variable

from graph.derived import AssociationNode, associations_graph, read_token
from graph.projection import iri_list, load
from graph.snapshots import open_latest_snapshot
from ingest.marc.vocab import relator_label
from ontology.layout import Layout
from ontology.namespaces import CG
from query.association import AssociationIndex
from query.related import Association, Labels
from web.config import load_settings
from web.ingest_command import run_ingest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = sorted((ROOT / "data" / "marc").glob("*")) + sorted((ROOT / "data" / "marcxml").glob("*"))
PRINCETON = ROOT / "data" / "marcxml" / "princeton.xml"
GWU = ROOT / "data" / "marcxml" / "gwu.xml"
SHARED = Path(os.environ.get("CATALOGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
BASE = "http://127.0.0.1:5000/"
LAYOUT = Layout(BASE)
ARS_MINOR = BASE + "instance/ctrl-marc-4603408"
DONATUS = "Donatus, Aelius"
LATIN_GRAMMAR = "Latin language--Grammar--Early works to 1500"
DOCTRINALE = BASE + "instance/ctrl-marc-4612422"


def ingest(data_dir: Path, paths: list[Path]) -> None:
    report = run_ingest(load_settings(env={}, data_dir=data_dir), paths)
    assert report.associations is not None


def association_of(data_dir: Path) -> Association:
    store = open_latest_snapshot(data_dir)
    projection = load(data_dir, read_token(store, LAYOUT) or "")
    assert projection is not None, "the checkpoint names no saved projection"
    return Association(AssociationIndex(projection), store, LAYOUT)


def labels(association: Association) -> Labels:
    return Labels(association.store, ("en",), relator_label)


@pytest.fixture(scope="module")
def sample(sample_copy: Path) -> Path:
    return sample_copy


@pytest.fixture(scope="module")
def association(sample: Path) -> Association:
    return association_of(sample)


def work_of(association: Association, instance: str) -> str:
    p = association.index.projection
    return p.resource_iri(int(p.instance_work[p.row(instance)]))


# ------------------------------------------------------------ what is related, and why


def test_other_editions_of_the_same_work_come_first_as_one_result(association: Association) -> None:
    results = association.related(ARS_MINOR, 10, labels=labels(association))
    first = results[0]
    assert first.same_work and first.iri == work_of(association, ARS_MINOR)
    assert first.editions == 7
    assert first.because.startswith("Another edition of the same work (and 5 other editions)")
    assert DONATUS in first.because
    shared = {unit.label: unit for unit in first.units}
    assert shared[DONATUS].relation == "contributor" and shared[DONATUS].kind == "agent"
    assert any(unit.kind == "work" for unit in first.units)
    # the seed itself is never a result, and its work only once
    assert [r.iri for r in results].count(first.iri) == 1


def test_a_record_sharing_a_rare_subject_is_related_and_the_subject_named(
    association: Association,
) -> None:
    results = association.related(ARS_MINOR, 10, labels=labels(association))
    doctrinale = work_of(association, DOCTRINALE)
    found = next(r for r in results if r.iri == doctrinale)
    unit = next(u for u in found.units if u.label == LATIN_GRAMMAR)
    assert unit.relation == "subject" and unit.kind == "concept"
    assert unit.works == 2  # the two works that carry it: rare, so weighty
    assert f"the subject *{LATIN_GRAMMAR}*" in found.because
    # rarity: this subject weighs more than any unit used by more works
    index = association.index
    # (on the grid of powers of two a unit of 2 works weighs as one of 3: the next step is 4)
    assert unit.weight > float(index.weight[index.df >= 4].max())


def test_results_are_diverse_one_per_work(association: Association) -> None:
    agent = next(u.iri for u in association.related(ARS_MINOR, 1)[0].units if u.label == DONATUS)
    results = association.related(agent, 10, labels=labels(association))
    iris = [r.iri for r in results]
    assert len(iris) == len(set(iris))
    ars = next(r for r in results if r.iri == work_of(association, ARS_MINOR))
    assert ars.editions == 7 and "(and 6 other editions)" in ars.because
    assert ars.because.startswith(f"Has the contributor *{DONATUS}*")
    # seven instances of one work are one line, not seven
    p = association.index.projection
    instances_in_results = sum(
        int(np.count_nonzero(p.instance_work == p.row(r.iri))) for r in results
    )
    assert instances_in_results > len(results)


def test_any_kind_of_resource_can_be_a_seed(association: Association) -> None:
    index = association.index
    p = index.projection
    kinds = {LAYOUT.kind(u) for u in iri_list(p.units)}
    assert {"agent", "concept"} <= kinds
    for kind in ("agent", "concept", "place", "work"):
        column = next(
            c for c in np.argsort(-index.df[: len(p.units)])
            if LAYOUT.kind(p.unit_iri(c)) == kind and index.df[c] > 0
        )  # fmt: skip
        results = association.related(p.unit_iri(column), 5, labels=labels(association))
        assert results, kind
        assert all(r.because and r.units for r in results), kind
    work = work_of(association, ARS_MINOR)
    assert all(r.iri != work for r in association.related(work, 10))


def test_a_subject_reaches_the_headings_it_is_part_of(association: Association) -> None:
    """A component concept that no work uses on its own finds works through a complex heading."""
    index = association.index
    p = index.projection
    components = {int(c) for c, k in zip(p.hier_parent, p.hier_kind, strict=True) if k == 1}
    used = {int(c) for c in np.flatnonzero(index.df[: len(p.units)])}
    seed = min(c for c in components if c not in used and LAYOUT.kind(p.unit_iri(c)) == "concept")
    results = association.related(p.unit_iri(seed), 5, labels=labels(association))
    assert results
    via = [u for r in results for u in r.units if u.via]
    assert via and all(u.via["iri"] == p.unit_iri(seed) for u in via)
    assert all(u.via["relation"] == "whole" for u in via)
    assert "a heading that contains *" in results[0].because


def test_several_seeds_with_weights(association: Association) -> None:
    one = association.related(ARS_MINOR, 5)
    both = association.related_to_seeds([ARS_MINOR, DOCTRINALE], [1.0, 1.0], 5)
    assert {r.iri for r in both} != {r.iri for r in one}
    assert work_of(association, DOCTRINALE) not in {r.iri for r in both}  # a seed is not a result
    with pytest.raises(Exception, match="none of the seeds"):
        association.related_to_seeds([BASE + "instance/nothing-here"], [1.0])


def test_unknown_resource_is_not_found(association: Association) -> None:
    from ontology.errors import NotFoundError

    with pytest.raises(NotFoundError):
        association.related(BASE + "instance/nothing-here")


# ------------------------------------------------------------ the derived graph


ASSOCIATIONS_OF = """
PREFIX cg: <https://w3id.org/catalograph/ontology#>
SELECT ?g ?source ?target ?score ?rank WHERE {
  GRAPH ?g { ?a cg:source ?source ; cg:target ?target ; cg:score ?score ; cg:rank ?rank }
} ORDER BY ?rank
"""
REASONS_OF = """
PREFIX cg: <https://w3id.org/catalograph/ontology#>
SELECT ?g ?source ?target ?reason ?unit ?through WHERE {
  GRAPH ?g { ?a cg:source ?source ; cg:target ?target ; cg:hasReason ?reason ; cg:explainedBy ?unit .
             ?reason cg:reasonUnit ?unit . OPTIONAL { ?reason cg:through ?through } }
} ORDER BY ?reason
"""


def test_the_sparql_association_graph_agrees_with_the_api(association: Association) -> None:
    """Targets, ranks and scores, and each node's reasons in order (the unit, the unit met
    through): what the API explains in words, the derived graph states by IRI."""
    store = association.store
    graph = associations_graph(LAYOUT)
    index = association.index
    checked = 0
    for position in range(0, len(index.works), max(1, len(index.works) // 40)):
        work = index.work_iri(position)
        api = association.related(work, 10, labels=labels(association))
        bound = {Variable("source"): NamedNode(work), Variable("g"): graph}
        rows = list(store.query(ASSOCIATIONS_OF, substitutions=bound))
        assert [r["target"].value for r in rows] == [r.iri for r in api]
        assert [round(float(r["score"].value), 6) for r in rows] == [round(r.score, 6) for r in api]
        for row, result in zip(rows, api, strict=True):
            reasons = list(
                store.query(REASONS_OF, substitutions={**bound, Variable("target"): row["target"]})
            )
            assert [
                (r["unit"].value, r["through"] and r["through"].value) for r in reasons
            ] == [(u.iri, u.via and u.via["iri"]) for u in result.units]
        checked += bool(rows)
    assert checked >= 20
    # bounded: at most ten per work, and every statement in the one derived graph
    sources = [q.object for q in store.quads_for_pattern(None, CG.source, None, None)]
    assert max(sources.count(s) for s in set(sources)) <= 10
    assert {q.graph_name for q in store.quads_for_pattern(None, CG.source, None, None)} == {graph}
    assert {q.graph_name for q in store.quads_for_pattern(None, CG.reasonUnit, None, None)} == {graph}


def test_the_example_query_lists_association_nodes(sample: Path) -> None:
    from query.sparql import run_query

    text = (ROOT / "query" / "examples" / "10-association-nodes.rq").read_text(encoding="utf-8")
    result = run_query(
        open_latest_snapshot(sample),
        text,
        results_format=QueryResultsFormat.TSV,
        graph_format=RdfFormat.TURTLE,
        max_rows=100,
        max_bytes=1_000_000,
    )
    header, *rows = [line.split(b"\t") for line in result.body.decode().encode().splitlines()]
    assert len(rows) >= 20 and rows[0][0].startswith(b"<") and b"work/" in rows[0][0]
    # every unit named by its label, joined from the unit's own graph
    label = header.index(b"?unitLabel")
    assert all(row[label].startswith(b'"') for row in rows)


# ------------------------------------------------------------ incremental = full


def deletions(path: Path, into: Path, count: int) -> Path:
    with path.open("rb") as handle:
        records = [r for r in pymarc.MARCReader(handle, to_unicode=True, force_utf8=True) if r][
            :count
        ]
    for record in records:
        record.leader = record.leader[:5] + "d" + record.leader[6:]  # leader/05 = d: deleted
    into.write_bytes(b"".join(r.as_marc() for r in records))
    return into


def derived_state(data_dir: Path) -> tuple[object, list[str]]:
    store = open_latest_snapshot(data_dir)
    projection = load(data_dir, read_token(store, LAYOUT) or "")
    quads = sorted(
        str(q) for q in store.quads_for_pattern(None, None, None, associations_graph(LAYOUT))
        if not q.predicate.value.endswith("#projection")
    )  # fmt: skip
    return projection, quads


def split_out(path: Path, into: Path, control_number: str) -> tuple[Path, Path]:
    """``path``'s records as two binary files: all but ``control_number``'s, and that one alone."""
    records = [r for r in pymarc.parse_xml_to_array(str(path)) if r is not None]
    held = [r for r in records if r["001"] and r["001"].data == control_number]
    assert held, f"no record {control_number} in {path}"
    rest, one = into / f"{path.stem}-rest.mrc", into / f"{path.stem}-{control_number}.mrc"
    rest.write_bytes(b"".join(r.as_marc() for r in records if r not in held))
    one.write_bytes(b"".join(r.as_marc() for r in held))
    return rest, one


def changed_records(path: Path, into: Path) -> Path:
    """Records of ``path`` as a cataloger might edit them: three take another record's subjects
    (so subjects gain and lose works), one gets another title."""
    with path.open("rb") as handle:
        records = [
            r for r in pymarc.MARCReader(handle, to_unicode=True, force_utf8=True) if r and r.get_fields("650")
        ]  # fmt: skip
    donor, edited = records[0], records[1:5]
    for record in edited[:3]:
        for field in record.get_fields("650"):
            record.remove_field(field)
        for field in donor.get_fields("650"):
            record.add_ordered_field(field)
    title = edited[3]["245"]
    title.subfields[0] = pymarc.Subfield("a", f"{title.subfields[0].value} (revised)")
    into.write_bytes(b"".join(r.as_marc() for r in edited))
    return into


@pytest.mark.slow
def test_incremental_updates_after_adds_edits_and_deletions_equal_a_full_build(
    tmp_path: Path,
) -> None:
    """Step by step: half the sample, the other half but for one edition of the *Ars minor*,
    that edition (a new edition of a Work that other lists name, with no unit its Work lacks: no
    list is computed again, and the API counts its editions), records edited, records deleted. Each step's derived graph and projection
    are then those of one ingest of the same records, and a full rebuild of the last one finds
    nothing to change."""
    removed = deletions(ROOT / "data" / "marc" / "demoRecs.mrc", tmp_path / "deleted.mrc", 5)
    edited = changed_records(ROOT / "data" / "marc" / "test_data.utf8.mrc", tmp_path / "edited.mrc")
    rest, edition = split_out(PRINCETON, tmp_path, "4612596")
    others = [p for p in SAMPLE if p != PRINCETON]
    steps = [others[:12], [*others[12:], rest], [edition], [edited], [removed]]
    stepwise = tmp_path / "stepwise"
    done: list[Path] = []
    for number, step in enumerate(steps):
        report = run_ingest(load_settings(env={}, data_dir=stepwise), step)
        done += step
        assert report.associations is not None
        if number:  # an update: lists computed again for some works, not all
            assert not report.associations.full
            assert report.associations.works_listed < len(association_of(stepwise).index.works)
            # the new edition adds no unit to its Work: no score, no reason and no list changes
            assert (report.associations.works_listed == 0) == (number == 2)
        if number in (2, 4):  # compare with one ingest of the same records
            whole = tmp_path / f"whole-{number}"
            ingest(whole, done)
            (p1, q1), (p2, q2) = derived_state(stepwise), derived_state(whole)
            assert p1 is not None and p2 is not None
            assert p1.same_as(p2) and p1.token == p2.token  # the token is a digest of the content
            assert len(q1) > 1000 and q1 == q2
    # the new edition is counted in the explanations of lists that name its Work
    association = association_of(stepwise)
    doctrinale = association.related(DOCTRINALE, 10, labels=labels(association))
    ars_minor = next(r for r in doctrinale if r.label.startswith("Ars minor"))
    assert ars_minor.editions == 7 and "(and 6 other editions)" in ars_minor.because
    assert full_rebuild_writes(stepwise) == 0


def full_rebuild_writes(data_dir: Path) -> int:
    """Quads a full rebuild adds to the derived graph as the updates left it (0: they agree)."""
    from graph.writer import Writer
    from ingest import PIPELINE_VERSION
    from web.association_build import refresh_associations

    with Writer(data_dir, LAYOUT, PIPELINE_VERSION) as writer:
        done = refresh_associations(writer, LAYOUT, data_dir, full=True)
    assert done.full
    return done.quads_written


def test_an_update_writes_its_new_quads_in_few_loads_and_makes_room_first(tmp_path: Path) -> None:
    """``graph.derived._add_lines``: quads from a stream of N-Quads lines, in bulk loads of up to ``batch`` and the rest in
    a transaction, every one counted; ``_room_to_write``: past the writer's budget the store is
    reopened (the one handed back is live), under it the same store is kept."""
    from pyoxigraph import Literal, Quad, Store

    from graph.derived import BULK_FROM, _add_lines
    from graph.writer import Writer
    from ingest import PIPELINE_VERSION
    from web.association_build import _Edits, _room_to_write

    graph, p = associations_graph(LAYOUT), NamedNode(CG.rank.value)
    count = 2 * BULK_FROM + 7  # two bulk loads of BULK_FROM, seven quads in a transaction
    lines = (f'<{graph.value}#a{n}> {p} "{n}" {graph} .\n' for n in range(count))
    store = Store()
    assert _add_lines(store, lines, batch=BULK_FROM) == count
    assert (
        len(store) == count
        and Quad(NamedNode(f"{graph.value}#a{count - 1}"), p, Literal(str(count - 1)), graph)
        in store
    )
    assert _add_lines(store, iter(())) == 0

    node = AssociationNode(BASE + "work/a", BASE + "work/b", 1, 0.5, ())
    with Writer(tmp_path / "data", LAYOUT, PIPELINE_VERSION, memory_budget_mb=None) as writer:
        writer.store.add(Quad(graph, p, Literal("1"), graph))
        _room_to_write(writer, _Edits(new=[node]))
        assert writer._reopened_at_mb == 0  # no budget: nothing given back
        writer.memory_budget_mb = 1.0  # any process is past it: the store is reopened
        store = _room_to_write(writer, _Edits(new=[node]))
        assert writer._reopened_at_mb > 0 and store is writer.store
        store.add(Quad(graph, p, Literal("2"), graph))  # the store handed back is the live one
        assert len(store) == 2
        del store


def test_an_unchanged_reingest_changes_nothing(sample: Path) -> None:
    before = (sample / "snapshots" / "CURRENT").read_text()
    report = run_ingest(load_settings(env={}, data_dir=sample), SAMPLE[:3])
    assert report.written == 0 and report.associations.resources_read == 0
    assert (sample / "snapshots" / "CURRENT").read_text() == before  # no new checkpoint


def test_a_store_without_a_trusted_projection_is_rebuilt(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ingest(data_dir, [PRINCETON])
    assert read_token(open_latest_snapshot(data_dir), LAYOUT)
    for path in (data_dir / "projection").glob("*.npz"):
        path.write_bytes(b"not a projection")
    report = run_ingest(load_settings(env={}, data_dir=data_dir), [GWU])
    assert (
        report.associations.full and report.associations.reason == "no projection matches the store"
    )
    fresh = tmp_path / "fresh"
    ingest(fresh, [PRINCETON, GWU])
    assert derived_state(data_dir)[0].same_as(derived_state(fresh)[0])


def test_a_refresh_that_reopens_the_store_between_every_slice_writes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reading in slices and a full build's writing between bulk loads take the store again
    (``graph.projection.LiveStore``), and ``_Breath`` reopens it past its headroom: forced to
    reopen at every slice of 7 resources and after every 300 quads, a first build, an update
    and a full rebuild over the graph held (with a stale source to remove) write what a refresh
    that never reopens writes (and no reference to a closed store is left behind: a reopen
    then fails on the lock). The first build's loads run on a thread of their own, its last
    lines and token in one more load, and it waits for RocksDB's compactions at its end."""
    import graph.derived
    import graph.projection
    import web.association_build as build
    from graph.store import StoreSession

    first, second = [PRINCETON], [GWU]
    plain = tmp_path / "plain"
    ingest(plain, first)
    ingest(plain, second)
    reopens: list[int] = []
    reopen = StoreSession.reopen

    def counted(session: StoreSession) -> object:
        reopens.append(1)
        return reopen(session)

    monkeypatch.setattr(StoreSession, "reopen", counted)
    waits: list[int] = []
    wait = StoreSession.wait_for_compactions

    def counted_wait(session: StoreSession) -> None:
        waits.append(1)
        wait(session)

    monkeypatch.setattr(StoreSession, "wait_for_compactions", counted_wait)
    monkeypatch.setattr(build, "LEVEL0_STOP_WRITES", 2)  # a first build of 3 loads or more waits
    monkeypatch.setattr(graph.projection, "READ_SLICE", 7)
    monkeypatch.setattr(graph.derived, "HELD_SLICE", 3)
    monkeypatch.setattr(graph.derived, "BATCH_QUADS", 300)
    monkeypatch.setattr(build, "MEMORY_HEADROOM_MB", -1e9)  # past it at every call
    sliced = tmp_path / "sliced"
    ingest(sliced, first)  # a first build
    assert len(reopens) > 20 and waits == [1]
    ingest(sliced, second)  # an update
    (p1, q1), (p2, q2) = derived_state(sliced), derived_state(plain)
    assert p1 is not None and p2 is not None and p1.same_as(p2) and p1.token == p2.token
    assert len(q1) > 1000 and q1 == q2
    # a node of a source that is no work (as a work deleted leaves): a full build removes it
    from graph.derived import ReasonStated, _quads
    from graph.writer import Writer
    from ingest import PIPELINE_VERSION

    reason = (ReasonStated(BASE + "concept/x"),)
    stale = AssociationNode(BASE + "work/gone", BASE + "work/other", 1, 0.5, reason)
    with Writer(sliced, LAYOUT, PIPELINE_VERSION) as writer:
        writer.store.extend(_quads(LAYOUT, stale))
        writer.session.changed = True  # a checkpoint that holds it
    assert len(derived_state(sliced)[1]) > len(q2)
    assert full_rebuild_writes(sliced) == 0  # the graph held read back source by source
    assert derived_state(sliced)[1] == q2


def test_a_first_builds_load_that_fails_is_raised_in_the_building_thread(tmp_path: Path) -> None:
    """A first build's bulk loads run on a thread of their own (``graph.derived._Load``): what
    a load raises comes back to the thread that waits for it, and the loading thread holds
    no reference to the store once waited for (the store can be opened again)."""
    from pyoxigraph import Store

    from graph.derived import _Load

    store = Store(str(tmp_path / "store"))
    good = _Load(store, b"<http://e/s> <http://e/p> <http://e/o> <http://e/g> .\n", 1)
    assert good.wait() == 1
    bad = _Load(store, b"<http://e/s> <http://e/p> .\n", 1)
    with pytest.raises(SyntaxError):
        bad.wait()
    del store, good, bad
    assert len(Store(str(tmp_path / "store"))) == 1


# ------------------------------------------------------------ shared records (translations)


def test_translations_by_one_translator_are_related(tmp_path: Path) -> None:
    """Polish translations of Austen: *Rozważna i romantyczna* (ISBN 9788392132226) and *Duma i
    uprzedzenie* share their translator, Anna Przedpełska-Trzeciakowska."""
    source = SHARED / "marc" / "marc4j" / "pride-and-prejudice-fixed.mrc"
    if not source.exists():
        pytest.skip(
            f"the shared test corpus is not here ({source}); see tests/README or MANIFEST.md"
        )
    data_dir = tmp_path / "data"
    ingest(data_dir, [source])
    association = association_of(data_dir)
    results = association.related(
        BASE + "instance/isbn-9788392132226", 10, labels=labels(association)
    )
    duma = next(r for r in results if r.label.startswith("Duma i uprzedzenie"))
    assert duma.editions > 1
    assert any(u.label.startswith("Przedpelska-Trzeciakowska") for u in duma.units)
    assert "Przedpelska-Trzeciakowska, Anna" in duma.because
    assert results[0].same_work  # its other editions first


# ------------------------------------------------------------ a checkpoint reads its own projection


def test_a_reader_uses_the_projection_its_checkpoint_names(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ingest(data_dir, [PRINCETON])
    old_store = open_latest_snapshot(data_dir)
    old_token = read_token(old_store, LAYOUT)
    assert old_token
    ingest(data_dir, [p for p in SAMPLE if p != PRINCETON])
    new_store = open_latest_snapshot(data_dir)
    assert read_token(new_store, LAYOUT) != old_token
    # the server still on the older checkpoint finds its own projection
    older = load(data_dir, old_token)
    newer = load(data_dir, read_token(new_store, LAYOUT) or "")
    assert older is not None and newer is not None
    assert len(older.resources) < len(newer.resources)


def relabelled(path: Path, into: Path, control_number: str, heading: str) -> Path:
    """A copy of record ``control_number`` of ``path`` under another control number (another
    edition of the same Work), its subject ``heading`` in capitals: the same concept (keys fold
    case), with one more label, which becomes the label shown (capitals sort first)."""
    record = next(
        r for r in pymarc.parse_xml_to_array(str(path))
        if r is not None and r["001"] and r["001"].data == control_number
    )  # fmt: skip
    record["001"].data = f"{control_number}0"
    changed = 0
    for field in record.get_fields("650"):
        if field["a"] == heading:
            field["a"] = heading.upper()
            changed += 1
    assert changed, f"no 650 {heading!r} in record {control_number}"
    into.write_bytes(record.as_marc())
    return into


NAMING = """
PREFIX cg: <https://w3id.org/catalograph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?a ?source WHERE {
  ?unit rdfs:label ?label . FILTER(STR(?label) = "MANUSCRIPTS, ARABIC--New Jersey--Princeton")
  GRAPH ?g { ?a cg:explainedBy ?unit ; cg:source ?source }
} ORDER BY ?a
"""


def test_a_label_changed_by_an_update_is_read_with_the_nodes(tmp_path: Path) -> None:
    """A new edition gives a subject that hundreds of stored nodes name another label, which
    becomes the one shown, and changes no unit's weight and no work's units. The derived graph
    names the subject by IRI: the update explains none of those nodes again, still equals a
    full rebuild, and the API's words (labels joined when read) show the new label (issue 12)."""
    data_dir = tmp_path / "data"
    ingest(data_dir, [PRINCETON, GWU])
    capitals = relabelled(PRINCETON, tmp_path / "relabelled.mrc", "4795081", "Manuscripts, Arabic")
    report = run_ingest(load_settings(env={}, data_dir=data_dir), [capitals])
    assert report.associations is not None and not report.associations.full
    association = association_of(data_dir)
    naming = list(association.store.query(NAMING, use_default_graph_as_union=True))
    assert len(naming) > 100
    assert report.associations.nodes_explained < len(naming) // 10
    because = association.related(naming[0]["source"].value, 10, labels=labels(association))
    assert any("*MANUSCRIPTS, ARABIC--New Jersey--Princeton*" in r.because for r in because)
    assert not any("*Manuscripts, Arabic--New Jersey--Princeton*" in r.because for r in because)
    updated = derived_state(data_dir)[1]
    assert full_rebuild_writes(data_dir) == 0
    assert derived_state(data_dir)[1] == updated

