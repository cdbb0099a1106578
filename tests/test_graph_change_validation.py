"""The checks every editor change passes, the revert of a changeset, and proposals kept for review.

On a real on-disk store written by the real ``Writer`` from real records
(``data/marcxml/nlm.xml``, as ``tests/test_graph_changes.py``): each rule is
broken on purpose (a forged cycle in ``skos:broader``, two preferred labels
in English, a reference to an IRI nothing describes, a SHACL violation), and
each refusal leaves every graph as it was; a change that keeps the rules
goes through. A changeset is reverted, the revert reverted, and a revert of
something changed again since is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store
from test_graph_changes import LAYOUT, _store, _write
from test_graph_changes import records as records  # the module's fixture  # noqa: F401

from graph.change_validation import EditorCheck, InvalidChangeError, all_of, exactly, integrity
from graph.changesets import recorded, revert
from graph.proposals import APPROVED, PENDING, REJECTED, Proposals
from graph.updates import apply_changes, apply_update
from ontology.errors import NotFoundError, StoreBusyError, UsageError
from ontology.namespaces import BF, CG, RDF, RDFS, SKOS

CHECK = EditorCheck(LAYOUT)


@pytest.fixture()
def data_dir(tmp_path: Path, records) -> Path:
    _write(tmp_path, records)
    return tmp_path


def concepts(data_dir: Path, n: int = 3) -> list[NamedNode]:
    store = _store(data_dir)
    found = sorted(
        {q.subject for q in store.quads_for_pattern(None, RDF.type, SKOS.Concept, None)
         if q.subject.value.startswith(LAYOUT.base)}, key=str
    )[:n]  # fmt: skip
    del store
    assert len(found) == n
    return found


def refused(**change: object) -> list[str]:
    """The problems an editor's change is refused with (the exception is not kept: its
    traceback would hold the writer's store open)."""
    try:
        apply_changes(change.pop("data_dir"), layout=LAYOUT, who="alice", **{"check": CHECK, **change})
    except InvalidChangeError as refusal:
        return refusal.problems
    raise AssertionError("the change was not refused")


def home(node: NamedNode) -> NamedNode:
    return NamedNode(LAYOUT.home_graph(node.value, None))


def broader(narrower: NamedNode, wider: NamedNode) -> Quad:
    return Quad(narrower, SKOS.broader, wider, home(narrower))


def snapshot(data_dir: Path) -> set[Quad]:
    """Every statement outside changesets and provenance (what an edit may change)."""
    store = _store(data_dir)
    quads = {q for q in store if not (q.graph_name.value or "").startswith(LAYOUT.graphs + "changeset/")}
    del store
    return {q for q in quads if q.graph_name != LAYOUT.metadata_graph}


def test_a_forged_cycle_in_broader_is_refused(data_dir: Path) -> None:
    a, b, c = concepts(data_dir)
    edit = apply_changes(data_dir, add=[broader(a, b), broader(b, c)], layout=LAYOUT, who="alice", check=CHECK)
    assert edit.added == 2
    before = snapshot(data_dir)
    problems = refused(data_dir=data_dir, add=[broader(c, a)])  # c under a closes a → b → c → a
    assert "cycle" in problems[0] and a.value in problems[0]
    assert snapshot(data_dir) == before
    # the same cycle said with skos:narrower (a narrower c ≡ c broader a), and a loop on itself
    with pytest.raises(InvalidChangeError, match="cycle"):
        apply_changes(data_dir, add=[Quad(a, SKOS.narrower, c, home(a))], layout=LAYOUT, who="alice", check=CHECK)
    with pytest.raises(InvalidChangeError, match="broader than itself"):
        apply_changes(data_dir, add=[broader(a, a)], layout=LAYOUT, who="alice", check=CHECK)
    # SPARQL Update gets the same rule
    text = f"INSERT DATA {{ GRAPH <{c.value}> {{ <{c.value}> <{SKOS.broader.value}> <{a.value}> }} }}"
    with pytest.raises(InvalidChangeError, match="cycle"):
        apply_update(data_dir, text, iris=[c.value], all_graphs=False, layout=LAYOUT, who="alice")
    assert snapshot(data_dir) == before


def test_two_preferred_labels_in_one_language_are_refused(data_dir: Path) -> None:
    (a,) = concepts(data_dir, 1)
    first = Quad(a, SKOS.prefLabel, Literal("Cell biology", language="en"), home(a))
    second = Quad(a, SKOS.prefLabel, Literal("Biology of cells", language="en"), home(a))
    chinese = Quad(a, SKOS.prefLabel, Literal("细胞生物学", language="zh"), home(a))
    assert apply_changes(data_dir, add=[first, chinese], layout=LAYOUT, who="alice", check=CHECK).added == 2
    with pytest.raises(InvalidChangeError, match="2 preferred labels in language 'en'"):
        apply_changes(data_dir, add=[second], layout=LAYOUT, who="alice", check=CHECK)
    assert second not in set(_store(data_dir))
    # replacing one by the other in one change is fine
    edit = apply_changes(data_dir, add=[second], remove=[first], layout=LAYOUT, who="alice", check=CHECK)
    assert (edit.added, edit.removed) == (1, 1)


def test_a_dangling_reference_is_refused(data_dir: Path) -> None:
    a, b = concepts(data_dir, 2)
    nowhere = NamedNode(LAYOUT.base + "concept/no-such-concept")
    with pytest.raises(InvalidChangeError, match="described nowhere"):
        apply_changes(data_dir, add=[Quad(a, SKOS.related, nowhere, home(a))], layout=LAYOUT, who="alice", check=CHECK)
    # an IRI that is described, or one outside the base, may be pointed at
    outside = NamedNode("http://id.loc.gov/authorities/subjects/sh85014203")
    edit = apply_changes(
        data_dir, add=[Quad(a, SKOS.related, b, home(a)), Quad(a, SKOS.exactMatch, outside, home(a))],
        layout=LAYOUT, who="alice", check=CHECK,
    )  # fmt: skip
    assert edit.added == 2
    # and a resource still pointed at may not lose its last statement
    store = _store(data_dir)
    everything_about_b = list(store.quads_for_pattern(b, None, None, None))
    del store
    with pytest.raises(InvalidChangeError, match="still points at it"):
        apply_changes(data_dir, remove=everything_about_b, layout=LAYOUT, who="alice", check=CHECK)


def test_a_shacl_violation_is_refused_but_an_old_one_does_not_block(data_dir: Path) -> None:
    store = _store(data_dir)
    agent = next(q.subject for q in store.quads_for_pattern(None, RDF.type, BF.Person, None))
    names = list(store.quads_for_pattern(agent, RDFS.label, None, None))
    del store
    assert names
    with pytest.raises(InvalidChangeError, match="must have an rdfs:label"):
        apply_changes(data_dir, remove=names, layout=LAYOUT, who="alice", check=CHECK)
    (a,) = concepts(data_dir, 1)
    padded = Quad(a, SKOS.altLabel, Literal(" padded "), home(a))
    with pytest.raises(InvalidChangeError, match="without leading or trailing spaces"):
        apply_changes(data_dir, add=[padded], layout=LAYOUT, who="alice", check=CHECK)
    # the agent made invalid by SPARQL Update (not checked against shapes) can still be edited
    apply_changes(data_dir, remove=names, layout=LAYOUT, who="alice")
    note = Quad(agent, SKOS.note, Literal("name to be checked"), home(agent))
    assert apply_changes(data_dir, add=[note], layout=LAYOUT, who="alice", check=CHECK).added == 1


def test_checks_combine_and_refuse_with_all_their_problems(data_dir: Path) -> None:
    a, b = concepts(data_dir, 2)

    def own_rule(store: Store, added: list[Quad], removed: list[Quad]) -> None:
        raise InvalidChangeError(["the page's own rule"])

    problems = refused(data_dir=data_dir, add=[broader(a, a)], check=all_of(integrity, own_rule))
    assert problems == [f"<{a.value}> cannot be broader than itself", "the page's own rule"]


def test_revert_and_revert_of_the_revert(data_dir: Path) -> None:
    a, b, _c = concepts(data_dir)
    label = Quad(a, SKOS.prefLabel, Literal("Posters (art)", language="en"), home(a))
    store = _store(data_dir)
    old = next(store.quads_for_pattern(a, RDFS.label, None, None))
    del store
    original = apply_changes(
        data_dir, add=[label, broader(a, b)], remove=[old], layout=LAYOUT, who="alice", reason="better label"
    )
    before_revert = snapshot(data_dir)
    assert label in before_revert and old not in before_revert

    undo = revert(data_dir, original.changeset, read_from=_store(data_dir), layout=LAYOUT, who="bob")
    assert (undo.added, undo.removed) == (1, 2)
    after = snapshot(data_dir)
    assert old in after and label not in after and broader(a, b) not in after
    store = _store(data_dir)
    assert next(store.quads_for_pattern(NamedNode(undo.changeset), CG.reverts, None, None)).object.value == original.changeset
    del store
    # reverting the original again: its statements are no longer as it left them
    with pytest.raises(InvalidChangeError, match="no longer there"):
        revert(data_dir, original.changeset, read_from=_store(data_dir), layout=LAYOUT, who="bob")
    # the revert of the revert brings the change back
    redo = revert(data_dir, undo.changeset, read_from=_store(data_dir), layout=LAYOUT, who="carol")
    assert (redo.added, redo.removed) == (2, 1)
    assert snapshot(data_dir) == before_revert
    store = _store(data_dir)
    assert set(recorded(store, LAYOUT, redo.changeset).added) == set(recorded(store, LAYOUT, original.changeset).added)
    del store


def test_a_revert_of_something_changed_again_is_refused(data_dir: Path) -> None:
    (a,) = concepts(data_dir, 1)
    note = Quad(a, SKOS.note, Literal("first note"), home(a))
    first = apply_changes(data_dir, add=[note], layout=LAYOUT, who="alice")
    apply_changes(data_dir, remove=[note], layout=LAYOUT, who="bob")  # a later change removes it
    before = snapshot(data_dir)
    with pytest.raises(InvalidChangeError, match="no longer there"):
        revert(data_dir, first.changeset, read_from=_store(data_dir), layout=LAYOUT, who="carol")
    assert snapshot(data_dir) == before
    with pytest.raises(InvalidChangeError, match="already there"):  # exactly() on its own
        apply_changes(data_dir, add=[Quad(a, RDF.type, SKOS.Concept, home(a))], layout=LAYOUT, who="x",
                      check=exactly([Quad(a, RDF.type, SKOS.Concept, home(a)), note], []))  # fmt: skip


def test_a_dry_run_checks_and_keeps_nothing(data_dir: Path) -> None:
    (a,) = concepts(data_dir, 1)
    before = snapshot(data_dir)
    note = Quad(a, SKOS.note, Literal("only tried"), home(a))
    edit = apply_changes(data_dir, add=[note], layout=LAYOUT, who="alice", check=CHECK, dry_run=True)
    assert (edit.added, edit.changeset) == (1, None)
    assert snapshot(data_dir) == before
    with pytest.raises(InvalidChangeError):
        apply_changes(data_dir, add=[broader(a, a)], layout=LAYOUT, who="alice", check=CHECK, dry_run=True)


def test_proposals_are_kept_and_decided_once(tmp_path: Path) -> None:
    proposals = Proposals(tmp_path)
    s, g = NamedNode(LAYOUT.base + "concept/x"), NamedNode(LAYOUT.base + "concept/x")
    add = [Quad(s, SKOS.prefLabel, Literal("Zhōngguó 中国", language="zh-Latn"), g)]
    number = proposals.propose(author="carl", add=add, remove=[], reason="why not",
                               about=[(CG.reverts, NamedNode(LAYOUT.changesets + "x"))], exact=True)  # fmt: skip
    kept = proposals.get(number)
    assert (kept.author, kept.additions, kept.status, kept.exact) == ("carl", tuple(add), PENDING, True)
    assert kept.about == ((CG.reverts, NamedNode(LAYOUT.changesets + "x")),)
    other = proposals.propose(author="carl", add=[], remove=add, reason=None)
    assert [p.id for p in proposals.listed()] == [other, number]
    proposals.decide(number, status=APPROVED, by="rita", changeset="cs")
    proposals.decide(other, status=REJECTED, by="rita", reason="not needed")
    with pytest.raises(Exception, match="decided already"):
        proposals.decide(number, status=REJECTED, by="rita")
    assert proposals.listed() == []
    assert {p.status for p in proposals.listed(None)} == {APPROVED, REJECTED}


def test_an_approval_holds_its_proposal_until_it_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one reviewer applies a proposal, another can neither approve nor reject it; a
    failed application leaves it pending; the approval records the changeset it became."""
    import graph.proposals as proposals_module

    monkeypatch.setattr(proposals_module, "BUSY_WAIT_S", 0.2)
    proposals = Proposals(tmp_path)
    s = NamedNode(LAYOUT.base + "concept/x")
    number = proposals.propose(author="carl", add=[Quad(s, SKOS.note, Literal("n"), s)], remove=[], reason=None)
    with pytest.raises(RuntimeError), proposals.approving(number, "rita"):
        raise RuntimeError("the change did not apply")
    assert proposals.get(number).status == PENDING
    with proposals.approving(number, "rita") as approval:
        assert approval.proposal.id == number
        with pytest.raises(StoreBusyError):
            proposals.decide(number, status=REJECTED, by="sam")
        with pytest.raises(StoreBusyError), proposals.approving(number, "sam"):
            pass
        approval.changeset = "cs-1"
    kept = proposals.get(number)
    assert (kept.status, kept.decided_by, kept.changeset) == (APPROVED, "rita", "cs-1")
    with pytest.raises(UsageError, match="approved already"), proposals.approving(number, "sam"):
        pass
    with pytest.raises(NotFoundError):
        proposals.decide(number + 1, status=REJECTED, by="sam")


def test_shapes_are_checked_chunk_by_chunk(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A change touching more resources than one pyshacl run takes: each chunk is validated."""
    import graph.change_validation as validation

    monkeypatch.setattr(validation, "SHAPE_CHUNK", 2)
    a, b, c = concepts(data_dir)
    fine = [Quad(n, SKOS.altLabel, Literal(f"Alias {i}"), home(n)) for i, n in enumerate((a, b))]
    padded = Quad(c, SKOS.altLabel, Literal("padded "), home(c))  # in the second chunk
    problems = refused(data_dir=data_dir, add=[*fine, padded])
    assert len(problems) == 1 and c.value in problems[0] and "trailing spaces" in problems[0]
    monkeypatch.setattr(validation, "MAX_SHAPE_NODES", 2)
    assert "at most 2 are checked" in refused(data_dir=data_dir, add=fine + [padded])[0]
