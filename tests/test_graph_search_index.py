"""The search index says what the store says: after ingest, deletion, a changed record,
a writer's edit of a shared unit, a batch killed after its writes, and in each checkpoint.

"Says what the store says" is checked in full: the index's rows equal the rows
derived afresh from the store (``SearchIndex.ensure`` on an empty database),
for every resource, not only for the ones a test looks up.
"""

from __future__ import annotations

import copy
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
from pymarc import Field, Subfield
from pyoxigraph import Literal, NamedNode, Quad, Store

from graph import Writer, latest_snapshot, open_latest_snapshot
from graph.ledger import cut_lines
from graph.record_index import index_path
from graph.search_index import PUBLISHED_FILE, SearchIndex
from graph.updates import apply_update
from ingest.model import SourceRecord
from ontology.namespaces import BF, RDF, RDFS
from ontology.records import RecordGraph
from query.search import SearchQuery, search_in
from tests.test_graph_units import LAYOUT, ROOT, VERSION, deletion, live, mapped, source_records

_ROWS = """
SELECT d.iri, d.kind, d.label, d.year, d.languages, d.work, f.title, f.label, f.variant, f.abstract, f.note,
       f.creator, d.forms,
       (SELECT group_concat(facet || '=' || value, ' | ') FROM
           (SELECT facet, value FROM search_facet AS x WHERE x.doc = d.id ORDER BY facet, value))
FROM search_doc AS d JOIN search_fts AS f ON f.rowid = d.id
"""


def rows(db: sqlite3.Connection) -> dict[str, tuple]:
    """Every document's row, text and facets (the facets of a document as one string)."""
    found = {row[0]: row[1:] for row in db.execute(_ROWS)}
    orphans = db.execute("SELECT count(*) FROM search_facet WHERE doc NOT IN (SELECT id FROM search_doc)")
    assert orphans.fetchone()[0] == 0, "facet rows of no document"
    fts = db.execute("SELECT count(*) FROM search_fts").fetchone()[0]
    assert fts == len(found), "full-text rows without a document, or documents without text"
    return found


def fresh_rows(store: Store) -> dict[str, tuple]:
    """Every document derived afresh from ``store``."""
    with closing(sqlite3.connect(":memory:", isolation_level=None)) as db:
        db.execute("CREATE TABLE about (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        SearchIndex(db).ensure(store)
        return rows(db)


def live_rows(data_dir: Path) -> dict[str, tuple]:
    with closing(sqlite3.connect(index_path(data_dir))) as db:
        return rows(db)


def assert_in_step(data_dir: Path) -> dict[str, tuple]:
    """The live index equals the live store's documents; returns them."""
    expected = fresh_rows(live(data_dir))
    assert expected, "nothing to search for: the test would prove nothing"
    found = live_rows(data_dir)
    missing = sorted(set(expected) - set(found))[:3]
    extra = sorted(set(found) - set(expected))[:3]
    differ = [iri for iri in expected if iri in found and found[iri] != expected[iri]][:3]
    assert not (missing or extra or differ), (missing, extra, [(found[i], expected[i]) for i in differ])
    return found


def hits(data_dir: Path, text: str, **filters: object) -> list[str]:
    with closing(sqlite3.connect(index_path(data_dir))) as db:
        return search_in(db, SearchQuery.build(text, limit=100, **filters)).iris


def write(data_dir: Path, batch: list[RecordGraph], checkpoint: bool = False) -> None:
    with Writer(data_dir, LAYOUT, VERSION, make_checkpoint=checkpoint) as writer:
        writer.write(batch)


@pytest.fixture(scope="module")
def records() -> list[SourceRecord]:
    return source_records("nlm.xml")[:20] + source_records("gwu.xml")


def retitled(record: SourceRecord, title: str) -> RecordGraph:
    marc = copy.deepcopy(record.payload)
    marc.remove_fields("245", "880")
    marc.add_ordered_field(Field("245", ["1", "0"], [Subfield("a", title)]))
    return mapped(SourceRecord(record.position, record.format, marc))


def copied(record: SourceRecord) -> RecordGraph:
    """Another record of the same edition: the same fields under another control number."""
    marc = copy.deepcopy(record.payload)
    control = marc.get("001")
    marc.remove_fields("001")
    marc.add_ordered_field(Field("001", data=(control.data if control else "") + "-copy"))
    return mapped(SourceRecord(record.position, record.format, marc))


def instance_of(record: RecordGraph) -> str:
    return next(line.split(b" ")[0][1:-1].decode() for line in record.nquads.splitlines() if b"/instance/" in line.split(b" ")[0])


def test_ingest_in_batches_and_the_checkpoint_copy(tmp_path: Path, records: list[SourceRecord]) -> None:
    graphs = [mapped(r) for r in records]
    write(tmp_path, graphs[:30])
    write(tmp_path, graphs[30:], checkpoint=True)  # units met again, others new
    found = assert_in_step(tmp_path)
    assert {row[0] for row in found.values()} >= {"work", "instance", "agent", "concept"}
    # the checkpoint carries a copy equal to what its own store says
    checkpoint = latest_snapshot(tmp_path)
    assert checkpoint is not None
    with closing(sqlite3.connect(checkpoint / PUBLISHED_FILE)) as db:
        assert rows(db) == fresh_rows(open_latest_snapshot(tmp_path))


def test_delete_and_a_changed_record(tmp_path: Path, records: list[SourceRecord]) -> None:
    graphs = [mapped(r) for r in records]
    write(tmp_path, graphs)
    instance = instance_of(graphs[3])
    store = live(tmp_path)
    old_title = next(
        part.object.value
        for title in store.quads_for_pattern(NamedNode(instance), BF.title, None, None)
        for part in store.quads_for_pattern(title.object, BF.mainTitle, None, None)
    )
    del store
    assert instance in hits(tmp_path, old_title)
    # a record changed: its new title is found, and its document no longer holds the old one
    changed = retitled(records[3], "Zyxwvut quarterly of imaginary ornithology")
    assert instance_of(changed) == instance
    write(tmp_path, [changed])
    found = assert_in_step(tmp_path)
    found_now = hits(tmp_path, "zyxwvut ornithology")  # the instance, and its work (titled alike)
    assert instance in found_now and {found[i][0] for i in found_now} <= {"instance", "work"}
    assert old_title not in found[instance][5]
    # deleted: nothing of it is found any more
    write(tmp_path, [deletion(changed)])
    assert instance not in assert_in_step(tmp_path)
    assert hits(tmp_path, "zyxwvut") == []


def test_a_writers_edit_of_a_shared_label(tmp_path: Path, records: list[SourceRecord]) -> None:
    graphs = [mapped(r) for r in records[:20]]
    write(tmp_path, graphs)
    store = live(tmp_path)
    # a concept many of these records share (MeSH subjects of the NLM records)
    counts: dict[str, int] = {}
    for record in graphs:
        for line in record.units.splitlines():
            if b"/concept/" in line.split(b" ")[0] and RDFS.label.value.encode() in line:
                iri = line.split(b" ")[0][1:-1].decode()
                counts[iri] = counts.get(iri, 0) + 1
    concept = max(counts, key=counts.__getitem__)
    old = next(store.quads_for_pattern(NamedNode(concept), RDFS.label, None, None)).object
    del store
    assert concept in hits(tmp_path, old.value)
    apply_update(
        tmp_path,
        f"DELETE WHERE {{ GRAPH <{concept}> {{ <{concept}> <{RDFS.label.value}> ?label }} }} ; "
        f'INSERT DATA {{ GRAPH <{concept}> {{ <{concept}> <{RDFS.label.value}> "Qwertyuiop studies" }} }}',
        iris=[concept],
        all_graphs=False,
        layout=LAYOUT,
        who="test",
    )
    assert hits(tmp_path, "qwertyuiop") == [concept]
    assert concept not in hits(tmp_path, old.value, kind="concept")
    assert_in_step(tmp_path)
    # the edit outlives a re-ingest of every record that states the old label
    write(tmp_path, [retitled(records[0], "Another title"), *graphs[1:]])
    assert hits(tmp_path, "qwertyuiop") == [concept]
    assert_in_step(tmp_path)


def _killed_child(data_dir: Path, body: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)],
        capture_output=True,
        timeout=120,
        cwd=ROOT,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]


def test_a_batch_killed_after_its_writes_then_rerun(tmp_path: Path, records: list[SourceRecord]) -> None:
    """Killed after the batch's loads and search reads, before its commit: the next writer rolls
    the batch back, and the index follows; a rerun writes both again."""
    graphs = [mapped(r) for r in records]
    write(tmp_path, graphs[:25])
    before = assert_in_step(tmp_path)
    # the same records, changed, in a process that dies inside the commit of the batch
    _killed_child(
        tmp_path,
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import graph.search_index as search_index
        from tests.test_graph_search_index import retitled, write
        from tests.test_graph_units import source_records
        def die(self, update):
            os.kill(os.getpid(), signal.SIGKILL)
        search_index.SearchIndex.apply = die
        records = source_records("nlm.xml")[:20] + source_records("gwu.xml")
        write({str(tmp_path)!r}, [retitled(r, "Killed " + str(n)) for n, r in enumerate(records[20:45])])
        """,
    )
    with Writer(tmp_path, LAYOUT, VERSION, make_checkpoint=False) as writer:
        assert writer.recovered  # the journal rolled the batch back
    after = assert_in_step(tmp_path)
    assert hits(tmp_path, "killed") == []
    # the records the batch was replacing are gone as a whole, and the index says so
    assert set(after) < set(before)
    write(tmp_path, graphs[:25])  # the rerun writes them again
    assert assert_in_step(tmp_path) == before


def test_stale_documents_of_a_killed_session_are_settled_by_the_next(
    tmp_path: Path, records: list[SourceRecord]
) -> None:
    """Resources the store already held are marked stale by a batch and derived when the
    session ends; a session killed after its batches' commits, before it settles, leaves
    the marks, and the next session settles them."""
    graphs = [mapped(r) for r in records[:25]]
    write(tmp_path, graphs)
    assert_in_step(tmp_path)
    # copies of the records under other control numbers: their Instances (named by ISBN or
    # LCCN) and Works are in the store already, so the batch marks them stale
    _killed_child(
        tmp_path,
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import graph.record_index as record_index
        from tests.test_graph_search_index import copied, write
        from tests.test_graph_units import source_records
        def die(self, store, chunks=None, size=None):
            os.kill(os.getpid(), signal.SIGKILL)
        record_index.RecordIndex.settle_search = die
        records = source_records("nlm.xml")[:20] + source_records("gwu.xml")
        write({str(tmp_path)!r}, [copied(r) for r in records[:25]])
        """,
    )
    with closing(sqlite3.connect(index_path(tmp_path))) as db:
        stale = {iri for (iri,) in db.execute("SELECT iri FROM search_stale")}
        assert stale, "no document was left stale: the test would prove nothing"
    with Writer(tmp_path, LAYOUT, VERSION, make_checkpoint=False) as writer:
        assert not writer.recovered  # the batches committed: nothing to roll back
    found = assert_in_step(tmp_path)
    assert stale & set(found)
    with closing(sqlite3.connect(index_path(tmp_path))) as db:
        assert db.execute("SELECT count(*) FROM search_stale").fetchone()[0] == 0


def test_an_edit_killed_before_it_is_recorded(tmp_path: Path, records: list[SourceRecord]) -> None:
    graphs = [mapped(r) for r in records[:20]]
    write(tmp_path, graphs)
    before = assert_in_step(tmp_path)
    agent = next(
        line.split(b" ")[0][1:-1].decode()
        for r in graphs
        for line in r.units.splitlines()
        if b"/agent/" in line.split(b" ")[0] and RDFS.label.value.encode() in line
    )
    _killed_child(
        tmp_path,
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import graph.updates as updates
        from ontology.layout import Layout
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        updates._mark_edited = die
        updates.apply_update(
            {str(tmp_path)!r},
            'DELETE WHERE {{ GRAPH <{agent}> {{ <{agent}> <{RDFS.label.value}> ?o }} }}',
            iris=[{agent!r}], all_graphs=False, layout=Layout({LAYOUT.base!r}), who="killed",
        )
        """,
    )
    with Writer(tmp_path, LAYOUT, VERSION, make_checkpoint=False):
        pass  # opening rolls the edit back
    assert assert_in_step(tmp_path) == before


def test_an_index_of_an_earlier_version_is_rebuilt(tmp_path: Path, records: list[SourceRecord]) -> None:
    write(tmp_path, [mapped(r) for r in records[:10]], checkpoint=True)
    first = latest_snapshot(tmp_path)
    with closing(sqlite3.connect(index_path(tmp_path), isolation_level=None)) as db:
        db.execute("DROP TABLE search_fts")
        db.execute("DELETE FROM search_doc")
        db.execute("DELETE FROM about WHERE key = 'search'")
    write(tmp_path, [], checkpoint=True)  # nothing written, but the index built anew is published
    assert_in_step(tmp_path)
    checkpoint = latest_snapshot(tmp_path)
    assert checkpoint is not None and checkpoint != first
    with closing(sqlite3.connect(checkpoint / PUBLISHED_FILE)) as db:
        assert rows(db) == fresh_rows(open_latest_snapshot(tmp_path))


def test_a_resource_derived_again_keeps_its_id_and_a_new_one_gets_another() -> None:
    """The highest id, freed and kept by its resource in one update, is not given to a new one."""
    store = Store()
    a, b = NamedNode("http://example.org/agent/a"), NamedNode("http://example.org/agent/b")
    store.add(Quad(a, RDF.type, BF.Agent, a))
    store.add(Quad(a, RDFS.label, Literal("Aardvark, Anna"), a))
    with closing(sqlite3.connect(":memory:", isolation_level=None)) as db:
        db.execute("CREATE TABLE about (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        index = SearchIndex(db)
        index.ensure(store)
        store.add(Quad(b, RDF.type, BF.Person, b))
        store.add(Quad(b, RDFS.label, Literal("Bittern, Bo"), b))
        index.apply(index.derive(store, [a.value, b.value]))
        assert rows(db) == fresh_rows(store)
        assert search_in(db, SearchQuery.build("bittern")).iris == [b.value]


def _contributors(graphs: list[RecordGraph]) -> dict[str, set[str]]:
    """Each shared agent the records' works name as a contributor -> those works."""
    works: dict[str, set[str]] = {}
    for record in graphs:
        for line in record.units.splitlines():
            parts = line.split(b" ")
            if parts[1] == f"<{BF.agent.value}>".encode() and b"#contribution-" in parts[0]:
                work = parts[0][1:-1].decode().partition("#")[0]
                works.setdefault(parts[2][1:-1].decode(), set()).add(work)
    return works


def test_works_carry_their_contributors_names_and_follow_an_edit_of_one(
    tmp_path: Path, records: list[SourceRecord]
) -> None:
    """A work's document holds its contributors' names (from the agents' own unit graphs):
    the first batch writes the agents, the second new works naming agents the store held
    already (their names are not among that batch's lines), and an edit of an agent's name
    reaches every work it contributed to."""
    graphs = [mapped(r) for r in records]
    write(tmp_path, graphs[:30])
    write(tmp_path, graphs[30:])
    found = assert_in_step(tmp_path)
    works = _contributors(graphs)
    agent = max(works, key=lambda a: len(works[a]))
    assert len(works[agent]) >= 2, "no agent shared by two works: the test would prove nothing"
    name = next(live(tmp_path).quads_for_pattern(NamedNode(agent), RDFS.label, None, NamedNode(agent))).object.value
    for work in works[agent]:
        assert name in found[work][10], (work, found[work])  # the creator column
        assert f"agent={agent}" in found[work][12]
    apply_update(
        tmp_path,
        f"DELETE WHERE {{ GRAPH <{agent}> {{ <{agent}> <{RDFS.label.value}> ?label }} }} ; "
        f'INSERT DATA {{ GRAPH <{agent}> {{ <{agent}> <{RDFS.label.value}> "Plonkwhistle, Ottoline" }} }}',
        iris=[agent],
        all_graphs=False,
        layout=LAYOUT,
        who="test",
    )
    found = assert_in_step(tmp_path)
    assert set(hits(tmp_path, "plonkwhistle", kind="work")) == works[agent]
    assert all(name not in found[work][10] for work in works[agent])


def test_a_unit_statement_entering_or_leaving_touches_the_works_it_feeds(
    tmp_path: Path, records: list[SourceRecord]
) -> None:
    """What a batch touches when the ledger adds or removes a statement of an agent's unit
    graph (another record starts or stops stating its name): the works naming the agent."""
    graphs = [mapped(r) for r in records]
    write(tmp_path, graphs)
    works = _contributors(graphs)
    agent = max(works, key=lambda a: len(works[a]))
    line = next(
        line + b"\n"
        for r in graphs
        for line in r.units.splitlines()
        if line.startswith(f"<{agent}> <{RDFS.label.value}>".encode())
    )
    with closing(sqlite3.connect(index_path(tmp_path))) as db:
        index = SearchIndex(db)
        assert works[agent] <= index.touched(set(), [], [], cut_lines([line]))
        assert works[agent] <= index.touched(set(), [], [], [], cut_lines([line]))
        assert not works[agent] & index.touched(set(), [], [], [])


def test_a_batchs_lines_are_cut_as_the_general_parser_cuts_them() -> None:
    """``search_batch._statement`` cuts a line's rest with one split: every line (spaces and ``<``
    in literals, escapes, a datatype, the default graph, which a batch's lines never are in,
    and a typed literal ending in ``<y>"^^<t> .`` that only looks like a graph) gives what the
    general parser (``_cut``) gives and what pyoxigraph reads in it."""
    from pyoxigraph import RdfFormat, parse

    from graph.search_batch import _cut, _statement
    from graph.search_documents import _graph, _term

    lines = [
        b'<http://e.org/i> <http://e.org/p> "a <b> c" <http://e.org/g> .',
        b'<http://e.org/i> <http://e.org/p> "a \\"q\\" \\u00e9"@fr-latn <http://e.org/g> .',
        b'<http://e.org/i> <http://e.org/p> "1999"^^<http://www.w3.org/2001/XMLSchema#gYear> <http://e.org/g> .',
        b"<http://e.org/i> <http://e.org/p> <http://e.org/o> <http://e.org/g> .",
        b'<http://e.org/i> <http://e.org/p> "in the default graph" .',
        b"<http://e.org/i> <http://e.org/p> <http://e.org/o> .",
        b'<http://e.org/i> <http://e.org/p> "x y"^^<http://e.org/t> .',
        b'<http://e.org/i> <http://e.org/p> "x <y>"^^<http://e.org/t> .',
        b'<http://e.org/i> <http://e.org/p> "x <y>"^^<http://e.org/t> <http://e.org/g> .',
    ]
    for line in lines:
        [(_, predicate, rest)] = cut_lines([line])
        entry = (predicate.decode(), rest)  # as ``BatchStatements`` keeps a line
        assert _statement(entry) == _cut(entry), line
        quad = next(iter(parse(line, RdfFormat.N_QUADS)))
        assert _statement(entry) == (quad.predicate.value, _term(quad.object), _graph(quad.graph_name))
