"""``graph.ontology_graph``: the ontology in the store, seeded from the file, then the catalogers'.

Real on-disk stores written by the real ``Writer`` from real records
(``data/marcxml/nlm.xml``), edits made through ``graph.updates.apply_changes``
as the editor makes them, and a "newer shipped ontology" given to the real
``seed_ontology`` as another statement list and digest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store, Triple

from graph import Writer
from graph.ontology_graph import SKOLEM, ontology_graph_triples, seed_ontology
from graph.updates import MisplacedStatementError, apply_changes
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import RecordGraph, SourceRecord
from ingest.sources import get_source
from ontology.namespaces import BF, CG, OWL, RDF, RDFS
from ontology.vocabulary import ontology_digest, ontology_triples

ROOT = Path(__file__).resolve().parent.parent
MINTER = IriMinter("http://127.0.0.1:5000/")
LAYOUT = MINTER.layout
GRAPH = LAYOUT.ontology_graph


@pytest.fixture(scope="module")
def records() -> list[RecordGraph]:
    path = ROOT / "data" / "marcxml" / "nlm.xml"
    sources = [r for r in get_source("marcxml").read(path, name="nlm.xml") if isinstance(r, SourceRecord)]
    return [map_record(r, MINTER) for r in sources[:4]]


def ingest(data_dir: Path, records: list[RecordGraph], ontology: bool = True) -> Writer:
    with Writer(data_dir, LAYOUT, "ontology-test", make_checkpoint=False, ontology=ontology) as writer:
        writer.write(records)
    return writer


def live(data_dir: Path) -> Store:
    return Store.read_only(str(data_dir / "store"))


def label(store: Store, term: NamedNode, language: str) -> set[str]:
    return {
        q.object.value
        for q in store.quads_for_pattern(term, RDFS.label, None, GRAPH)
        if q.object.language == language
    }


def test_an_ingest_seeds_the_graph_once_with_every_shipped_statement(tmp_path: Path, records) -> None:
    first = ingest(tmp_path, records)
    assert first.ontology_seed.added == len(ontology_triples()) and first.ontology_seed.changed
    store = live(tmp_path)
    assert {str(t) for t in ontology_graph_triples(store, LAYOUT)} == {str(t) for t in ontology_triples()}
    # blank nodes are skolem IRIs in the store: a dump parses back to the same statements
    held = list(store.quads_for_pattern(None, None, None, GRAPH))
    assert not any(isinstance(term, BlankNode) for q in held for term in (q.subject, q.object))
    assert any(q.subject.value.startswith(SKOLEM) for q in store.quads_for_pattern(None, None, None, GRAPH))
    stamp = next(store.quads_for_pattern(GRAPH, CG.contentHash, None, LAYOUT.metadata_graph))
    assert stamp.object.value == ontology_digest()
    del store
    again = ingest(tmp_path, records)
    assert not again.ontology_seed.changed  # the same file: one lookup, nothing written


def test_a_writer_that_does_not_ask_leaves_the_store_without_it(tmp_path: Path, records) -> None:
    ingest(tmp_path, records, ontology=False)
    assert next(live(tmp_path).quads_for_pattern(None, None, None, GRAPH), None) is None


def test_an_edit_survives_reingest_and_a_newer_shipped_ontology_never_undoes_it(tmp_path: Path, records) -> None:
    ingest(tmp_path, records)
    old = Quad(BF.Work, RDFS.label, Literal("作品", language="zh"), GRAPH)
    new = Quad(BF.Work, RDFS.label, Literal("著作", language="zh"), GRAPH)
    edit = apply_changes(tmp_path, remove=[old], add=[new], layout=LAYOUT, who="carl", reason="glossary")
    assert (edit.added, edit.removed) == (1, 1)
    ingest(tmp_path, records)  # re-ingest: the same file, the edit stays
    assert label(live(tmp_path), BF.Work, "zh") == {"著作"}

    # a newer release: it changes bf:Work's and bf:Instance's Chinese labels, adds a class, drops a statement
    dropped = next(t for t in ontology_triples() if t.subject == BF.Manuscript and t.predicate == RDFS.isDefinedBy)
    renamed = {BF.Work: "作品（新）", BF.Instance: "实例（新）"}
    shipped = [
        Triple(t.subject, t.predicate, Literal(renamed[t.subject], language="zh"))
        if t.subject in renamed and t.predicate == RDFS.label and t.object.language == "zh" else t
        for t in ontology_triples()
        if t != dropped
    ]  # fmt: skip
    shipped += [Triple(CG.Newcomer, RDF.type, OWL.Class), Triple(CG.Newcomer, RDFS.label, Literal("New", language="en"))]
    with Writer(tmp_path, LAYOUT, "ontology-test", make_checkpoint=False) as writer:
        report = seed_ontology(writer.store, LAYOUT, shipped=shipped, digest="a newer release")
    assert report.kept_edited == (BF.Work.value,)
    assert (report.added, report.removed) == (1 + 2, 1 + 1)  # Instance's label, Newcomer; a label, a statement
    store = live(tmp_path)
    assert label(store, BF.Work, "zh") == {"著作"}  # the cataloger's, kept
    assert label(store, BF.Instance, "zh") == {"实例（新）"}  # nobody edited it: the release's
    assert label(store, CG.Newcomer, "en") == {"New"}
    assert Quad(dropped.subject, dropped.predicate, dropped.object, GRAPH) not in store


def test_an_edit_of_a_store_without_the_graph_seeds_it_first(tmp_path: Path, records) -> None:
    ingest(tmp_path, records, ontology=False)
    scroll = NamedNode(f"{CG}Scroll")
    add = [Quad(scroll, RDF.type, OWL.Class, GRAPH), Quad(scroll, RDFS.subClassOf, BF.Work, GRAPH)]
    edit = apply_changes(tmp_path, add=add, layout=LAYOUT, who="carl")
    assert (edit.added, edit.removed) == (2, 0)  # the seeding is not part of the changeset
    store = live(tmp_path)
    assert len(ontology_graph_triples(store, LAYOUT)) == len(ontology_triples()) + 2


def test_a_statement_about_a_term_belongs_in_the_ontology_graph(tmp_path: Path, records) -> None:
    ingest(tmp_path, records)
    elsewhere = NamedNode("http://127.0.0.1:5000/graph/notes")
    for subject in (CG.KnowledgeUnit, BF.Work):  # a "#" term and a "/" term alike
        misplaced = Quad(subject, RDFS.comment, Literal("a note", language="en"), elsewhere)
        with pytest.raises(MisplacedStatementError, match="graph/ontology"):
            apply_changes(tmp_path, add=[misplaced], layout=LAYOUT, who="carl")
    assert next(live(tmp_path).quads_for_pattern(None, None, None, elsewhere), None) is None
