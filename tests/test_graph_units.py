"""Each knowledge unit once: unit graphs, the ledger, writers' edits, on real records.

Records that share units (the NLM and Princeton MARCXML samples: MeSH
subjects on up to 98 records, shared authors and series) are written through
``graph.Writer`` into real on-disk stores, edited through ``graph.updates``
(the code behind SPARQL Update and the Graph Store Protocol), and the store
is compared with what the records say, with a store built from scratch, and
with the RDF merge computed independently (a Python set of the dumped
triples; Apache Jena's merge in ``test_jena_crosscheck.py``).
"""

from __future__ import annotations

import copy
import functools
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymarc import Field, Subfield
from pyoxigraph import NamedNode, Quad, QueryResultsFormat, RdfFormat, Store, parse

from graph import Writer
from graph.record_index import index_path
from graph.updates import apply_update
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import Position, RecordGraph, SourceRecord
from ingest.sources import get_source
from ontology.namespaces import BF, RDFS, SKOS

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:5000/"
MINTER = IriMinter(BASE)
LAYOUT = MINTER.layout
VERSION = "units-test"


def source_records(name: str) -> list[SourceRecord]:
    path = ROOT / "data" / "marcxml" / name
    return [r for r in get_source("marcxml").read(path, name=name) if isinstance(r, SourceRecord)]


def mapped(record: SourceRecord) -> RecordGraph:
    graph = map_record(record, MINTER)
    assert isinstance(graph, RecordGraph), str(graph)
    return graph


@pytest.fixture(scope="module")
def nlm() -> list[SourceRecord]:
    return source_records("nlm.xml")


@functools.cache
def record_pool() -> tuple[RecordGraph, ...]:
    """Twelve records that share units (MeSH subjects, authors, series), and four more."""
    nlm, princeton = source_records("nlm.xml"), source_records("princeton.xml")
    return tuple(mapped(r) for r in nlm[:12] + princeton[:4])


@pytest.fixture(scope="module")
def pool() -> list[RecordGraph]:
    return list(record_pool())


def write(data_dir: Path, batch: list[RecordGraph]) -> None:
    with Writer(data_dir, LAYOUT, VERSION, make_checkpoint=False) as writer:
        writer.write(batch)


def deletion(record: RecordGraph) -> RecordGraph:
    return RecordGraph(record.graph, record.position, b"", 0, "", deleted=True)


def live(data_dir: Path) -> Store:
    """The live store, read while no writer runs (each test's writers have ended); an empty
    store where nothing was ever written."""
    if not (data_dir / "store" / "CURRENT").exists():
        return Store()
    return Store.read_only(str(data_dir / "store"))


def union_rows(store: Store) -> list[tuple[str, str, str]]:
    """Every solution of ``?s ?p ?o`` over the default graph, duplicates kept (no DISTINCT)."""
    return [
        (str(row["s"]), str(row["p"]), str(row["o"]))
        for row in store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    ]


def merge(store: Store) -> set[tuple[str, str, str]]:
    """The RDF merge computed apart from the SPARQL engine: the set of every graph's triples."""
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in store}


def user_content(store: Store) -> set[tuple[str, str, str]]:
    """The merge, without provenance times (they say when a record was written)."""
    times = "<http://www.w3.org/ns/prov#generatedAtTime>"
    return {t for t in merge(store) if t[1] != times and "changeset/" not in t[0]}


def unit_quads(store: Store) -> set[Quad]:
    return {
        q
        for q in store
        if isinstance(q.graph_name, NamedNode) and not LAYOUT.is_catalograph_graph(q.graph_name.value)
    }


def said(records: list[RecordGraph]) -> Counter[Quad]:
    """What the records say about units, each statement counted once per record."""
    counts: Counter[Quad] = Counter()
    for record in records:
        counts.update(set(parse(record.units, format=RdfFormat.N_QUADS)))
    return counts


def said_lines(records: list[RecordGraph]) -> Counter[str]:
    """``said``, keyed by the N-Quads line as the mapper wrote it (the ledger's own text)."""
    counts: Counter[str] = Counter()
    for record in records:
        counts.update({line.decode() for line in record.units.splitlines()})
    return counts


def ledger(data_dir: Path) -> dict[str, int]:
    """The ledger's count of each unit statement: the records that make a group holding it."""
    counts: Counter[str] = Counter()
    with closing(sqlite3.connect(index_path(data_dir))) as db:
        for lines, refs in db.execute(
            "SELECT t.lines, g.refs FROM unit_group AS g JOIN unit_group_text AS t USING (key)"
        ):
            for line in bytes(lines).decode().splitlines():
                counts[line] += refs  # a row left at zero shows as a zero count
    return dict(counts)


def edits(data_dir: Path) -> list[tuple[str, int]]:
    with closing(sqlite3.connect(index_path(data_dir))) as db:
        return sorted((bytes(quad).decode(), sign) for quad, sign in db.execute("SELECT quad, sign FROM unit_edit"))


# ---------------------------------------------------------------- shared units


def test_a_shared_unit_is_stated_once_and_goes_when_no_record_says_it(
    tmp_path: Path, pool: list[RecordGraph]
) -> None:
    nlm = pool[:12]
    counts = said(nlm)
    shared = [quad for quad, n in counts.items() if n >= 3]
    assert shared, "the NLM records share MeSH subjects"
    write(tmp_path, nlm)
    store = live(tmp_path)
    assert unit_quads(store) == set(counts)
    rows = union_rows(store)
    assert len(rows) == len(set(rows)) == len(merge(store))  # the union is a set
    assert ledger(tmp_path) == said_lines(nlm)  # each statement counted once per record
    del store

    statement = max(shared, key=lambda q: counts[q])
    holders = [r for r in nlm if statement in set(parse(r.units, format=RdfFormat.N_QUADS))]
    write(tmp_path, [deletion(r) for r in holders[:-1]])  # all but one record that says it
    store = live(tmp_path)
    assert statement in store
    assert unit_quads(store) == set(said([r for r in nlm if r not in holders[:-1]]))
    del store
    write(tmp_path, [deletion(holders[-1])])
    store = live(tmp_path)
    assert statement not in store
    remaining = [r for r in nlm if r not in holders]
    assert unit_quads(store) == set(said(remaining))
    assert ledger(tmp_path) == said_lines(remaining)


def test_a_changed_record_retracts_what_it_no_longer_says(
    tmp_path: Path, nlm: list[SourceRecord]
) -> None:
    record = nlm[0]
    before = mapped(record)
    marc = copy.deepcopy(record.payload)
    for field in marc.get_fields("650"):
        marc.remove_field(field)
    marc.add_ordered_field(Field("650", [" ", "2"], [Subfield("a", "Invented Topic For Tests")]))
    after = mapped(SourceRecord(record.position, record.format, marc))
    others = [mapped(r) for r in nlm[1:12]]
    write(tmp_path, [before, *others])
    write(tmp_path, [after])
    store = live(tmp_path)
    assert unit_quads(store) == set(said([after, *others]))
    labels = {q.object.value for q in store.quads_for_pattern(None, RDFS.label, None, None)}
    assert "Invented Topic For Tests" in labels


# ---------------------------------------------------------------- one Work per Instance


def edition(record: SourceRecord, control: str, title: str) -> RecordGraph:
    """A copy of a real record under another control number and title proper, keeping its
    LCCN: another record of the same Instance that clusters it into another Work."""
    marc = copy.deepcopy(record.payload)
    marc.get_fields("001")[0].data = control
    marc.remove_fields("240", "130", "245")
    marc.add_ordered_field(Field("245", ["1", "0"], [Subfield("a", title)]))
    return mapped(SourceRecord(Position("copies", int(control[-1])), record.format, marc))


def works_of(store: Store, instance: NamedNode) -> list[str]:
    return sorted(q.object.value for q in store.quads_for_pattern(instance, BF.instanceOf, None, None))


def test_an_instance_shared_by_records_of_different_works_is_an_instance_of_one(
    tmp_path: Path, nlm: list[SourceRecord]
) -> None:
    base = next(r for r in nlm if r.payload.get_fields("010") and r.payload.get_fields("100"))
    first = edition(base, "copy-1", "First title")
    second = edition(base, "copy-2", "Second title")
    third = edition(base, "copy-3", "Second title")
    instance = next(
        q.subject for q in parse(first.units, format=RdfFormat.N_QUADS) if q.predicate == BF.instanceOf
    )
    work = {
        r.graph: next(q.object.value for q in parse(r.units, format=RdfFormat.N_QUADS) if q.predicate == BF.instanceOf)
        for r in (first, second, third)
    }
    assert work[first.graph] != work[second.graph] == work[third.graph]

    write(tmp_path, [first, second])  # one record each: the tie goes to the first in code-point order
    tie = min(work[first.graph], work[second.graph])
    assert works_of(live(tmp_path), instance) == [tie]
    write(tmp_path, [third])  # two records say the second work: it wins
    assert works_of(live(tmp_path), instance) == [work[second.graph]]
    write(tmp_path, [deletion(second), deletion(third)])
    assert works_of(live(tmp_path), instance) == [work[first.graph]]
    # a writer's choice wins over every record's, and outlives re-ingest
    chosen = work[second.graph]
    edit = apply_update(
        tmp_path,
        f"INSERT DATA {{ GRAPH <{instance.value}> {{ <{instance.value}> <{BF.instanceOf.value}> <{chosen}> }} }}",
        iris=[instance.value, chosen, BF.instanceOf.value],
        all_graphs=False,
        layout=LAYOUT,
        who="alice",
    )
    assert edit.added == 1
    assert works_of(live(tmp_path), instance) == [chosen]
    write(tmp_path, [second, third])
    write(tmp_path, [deletion(first)])
    assert works_of(live(tmp_path), instance) == [chosen]


# ---------------------------------------------------------------- a killed edit


def test_an_edit_killed_before_it_is_recorded_is_rolled_back(
    tmp_path: Path, pool: list[RecordGraph]
) -> None:
    write(tmp_path, pool[:12])
    before = merge(live(tmp_path))
    unit = next(q.subject.value for q in said(pool[:12]) if q.predicate == RDFS.label)
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(f"""
            import os, signal, sys
            sys.path.insert(0, {str(ROOT)!r})
            import graph.updates as updates
            from ontology.layout import Layout
            real = updates._mark_edited
            def die(*args, **kwargs):  # the edit ran and was read back; nothing is recorded yet
                os.kill(os.getpid(), signal.SIGKILL)
            updates._mark_edited = die
            updates.apply_update(
                {str(tmp_path)!r},
                'DELETE WHERE {{ GRAPH <{unit}> {{ <{unit}> ?p ?o }} }} ; '
                'INSERT DATA {{ GRAPH <{unit}> {{ <{unit}> <{SKOS.note.value}> "half done" }} }}',
                iris=[{unit!r}], all_graphs=False, layout=Layout({BASE!r}), who="killed",
            )
        """)],
        capture_output=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    with Writer(tmp_path, LAYOUT, VERSION) as writer:  # opening recovers
        assert writer.recovered == []  # no ingest batch was pending
    after = merge(live(tmp_path))
    assert after == before  # the unit's graph is back, no changeset graph, no note
    assert edits(tmp_path) == []
    with closing(sqlite3.connect(index_path(tmp_path))) as db:
        assert db.execute("SELECT count(*) FROM pending_edit").fetchone()[0] == 0


# ---------------------------------------------------------------- any sequence, one answer

#: Operations of the property test: (kind, record index or edit number).
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("ingest"), st.integers(0, 15)),
        st.tuples(st.just("change"), st.integers(0, 15)),
        st.tuples(st.just("delete"), st.integers(0, 15)),
        st.tuples(st.just("add-note"), st.integers(0, 15)),
        st.tuples(st.just("drop-labels"), st.integers(0, 15)),
    ),
    min_size=1,
    max_size=8,
)


def changed(record: RecordGraph) -> RecordGraph:
    """Another version of a record: one unit statement dropped, one added (a new mapping)."""
    lines = record.units.splitlines(keepends=True)
    unit = lines[0].split(b" ", 1)[0].decode()[1:-1] if lines else f"{BASE}agent/extra"
    extra = f'<{unit}> <{SKOS.editorialNote.value}> "revised in a later export" <{LAYOUT.owner(unit)}> .\n'
    units = b"".join(lines[1:]) + extra.encode()
    return RecordGraph(
        record.graph,
        record.position,
        record.nquads,
        record.quad_count,
        record.content_hash + "-changed",
        units=units,
        unit_count=len(lines),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_any_sequence_of_ingests_edits_and_deletions_equals_a_clean_build(
    tmp_path_factory: pytest.TempPathFactory, operations: list
) -> None:
    """Random ingests, re-ingests of changed records, deletions and writers' edits (a note
    added to a unit, its labels removed), in any order: the union equals the store built from
    scratch from the records that remain plus the edits that survive, and is a set."""
    pool = record_pool()
    incremental = tmp_path_factory.mktemp("incremental")
    state: dict[str, RecordGraph] = {}
    for n, (kind, index) in enumerate(operations):
        record = pool[index]
        if kind == "ingest":
            write(incremental, [record])
            state[record.graph] = record
        elif kind == "change":
            write(incremental, [changed(record)])
            state[record.graph] = changed(record)
        elif kind == "delete":
            write(incremental, [deletion(record)])
            state.pop(record.graph, None)
        else:
            subjects = sorted({q.subject.value for q in said([record])})
            unit = subjects[n % len(subjects)]  # a unit, or a part of one ({work}#contribution-…)
            graph = LAYOUT.owner(unit)
            if kind == "add-note":
                text = f'INSERT DATA {{ GRAPH <{graph}> {{ <{unit}> <{SKOS.note.value}> "note {n}" }} }}'
            else:
                text = f"DELETE WHERE {{ GRAPH <{graph}> {{ <{unit}> <{RDFS.label.value}> ?label }} }}"
            apply_update(incremental, text, iris=[graph], all_graphs=False, layout=LAYOUT, who="prop")
    scratch = tmp_path_factory.mktemp("scratch")
    if state:
        write(scratch, list(state.values()))
    surviving = edits(incremental)
    if surviving:
        added = "".join(quad for quad, sign in surviving if sign > 0)
        removed = "".join(quad for quad, sign in surviving if sign < 0)
        text = f"DELETE DATA {{ {to_data(removed)} }} ; INSERT DATA {{ {to_data(added)} }}"
        graphs = {q.graph_name.value for q in parse((added + removed).encode(), format=RdfFormat.N_QUADS)}
        apply_update(scratch, text, iris=sorted(graphs), all_graphs=False, layout=LAYOUT, who="prop")
    grown, clean = live(incremental), live(scratch)
    for quad, sign in surviving:  # a writer's last word holds, whatever the records say
        assert (next(parse(quad.encode(), format=RdfFormat.N_QUADS)) in grown) is (sign > 0)
    assert user_content(grown) == user_content(clean)
    rows = union_rows(grown)
    assert len(rows) == len(set(rows)) == len(merge(grown))


def to_data(nquads: str) -> str:
    """N-Quads as the body of INSERT DATA / DELETE DATA (one GRAPH block per quad)."""
    quads = parse(nquads.encode(), format=RdfFormat.N_QUADS)
    return " ".join(f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }}" for q in quads)




# ---------------------------------------------------------------- Jena's merge


@pytest.mark.slow
def test_after_ingests_edits_and_deletions_the_union_is_jenas_merge(
    tmp_path: Path, nlm: list[SourceRecord]
) -> None:
    """A store grown by every kind of write (records sharing units, a changed record, a
    deleted one, writers' additions and removals, one Work chosen for a shared Instance) is
    exported, and Apache Jena's merge of its named graphs gives, row for row, what our union
    gives: ``SELECT ?s ?p ?o`` without DISTINCT, duplicates counted."""
    from test_jena_crosscheck import (  # the cross-check's Jena runner and comparison
        Answer,
        SuiteQuery,
        difference,
        require_jena,
        start_jena,
        theirs,
        xerces_fix,
    )

    require_jena()
    pool = list(record_pool())
    write(tmp_path, pool)
    write(tmp_path, [changed(pool[0]), deletion(pool[1])])
    base = next(r for r in nlm if r.payload.get_fields("010") and r.payload.get_fields("100"))
    write(tmp_path, [edition(base, "copy-1", "First title"), edition(base, "copy-2", "Second title")])
    unit = next(q.subject.value for q in said(pool[2:3]) if q.predicate == RDFS.label)
    for text in (
        f'INSERT DATA {{ GRAPH <{unit}> {{ <{unit}> <{SKOS.note.value}> "checked" }} }}',
        f"DELETE WHERE {{ GRAPH <{unit}> {{ <{unit}> <{RDFS.label.value}> ?label }} }}",
    ):
        apply_update(tmp_path, text, iris=[unit], all_graphs=False, layout=LAYOUT, who="test")
    export = tmp_path / "export.nq"
    store = live(tmp_path)
    store.dump(str(export), RdfFormat.N_QUADS)
    query_file = tmp_path / "all-triples.rq"
    query_file.write_text("SELECT ?s ?p ?o WHERE { ?s ?p ?o }\n", encoding="utf-8")
    query = SuiteQuery(query_file, query_file.read_text(), False, None, False)
    jena = start_jena(export, tmp_path / "jena", xerces_fix(tmp_path / "xerces"), [query])
    mine = Answer.parse(
        store.query(query.text, use_default_graph_as_union=True).serialize(
            format=QueryResultsFormat.JSON
        ),
        graph=False,
    )
    assert jena.wait(timeout=240) == 0, (tmp_path / "jena" / "stderr.txt").read_text()[-2000:]
    assert len(mine.rows) > 1000
    assert difference(mine, theirs(tmp_path / "jena", query), ordered=False) is None
