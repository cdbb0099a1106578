"""Accepting, rejecting and undoing match candidates on a real store built from real records.

The store is made by the real ``catalograph ingest`` (``review_fixtures``); each decision is
built by ``graph.review`` and applied by ``graph.updates.apply_changes``, the writer the
editor's ``submit_change`` calls; the candidates are rebuilt by the real
``catalograph candidates --refresh``; and a re-ingest of the same catalogue, every record of it
changed, shows that an accepted match outlives it. Each test settles a pair of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pymarc
import pytest
from pyoxigraph import NamedNode, Quad, Store
from review_fixtures import HERMAN, JAZZ, LAYOUT, MONK, candidate

from graph.candidates import candidates_graph
from graph.review import (
    ACCEPT,
    REJECT,
    UNDO,
    candidate_state,
    decide,
    decision_check,
    same_as_quads,
)
from graph.updates import InvalidChangeError, apply_changes
from ontology.errors import NotFoundError, UsageError
from ontology.namespaces import CG, OWL, RDF
from query.candidates import stored_candidates
from query.review import queue_page
from tests.conftest import BASE, IngestedStore, shared_path
from tests.test_cli_ingest import catalograph

LOVANO = (f"{BASE}agent/k63379aa54d403d9a401d", f"{BASE}agent/kc1b7f4ae19afa45e27de")
THOMPSON = (f"{BASE}agent/k3425c8edff20a19aa03e", f"{BASE}agent/k7c0aa3a3d11214e86a11")
DORHAM = (f"{BASE}agent/k74fa8debec0d202281c6", f"{BASE}agent/kc1fbe0f5c40ae180b4b1")


@pytest.fixture(scope="module")
def data_dir(review_store: IngestedStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return review_store.copy(tmp_path_factory, "review")


def live(data_dir: Path) -> Store:
    return Store.read_only(str(data_dir / "store"))


def settle(data_dir: Path, pair: tuple[str, str], decision: str, who: str = "rita") -> str:
    state = candidate_state(live(data_dir), LAYOUT, candidate(pair).value)
    change = decide(state, LAYOUT, decision)
    edit = apply_changes(
        data_dir, add=change.add, remove=change.remove, layout=LAYOUT, who=who,
        reason=change.reason("a test"), check=decision_check(change, LAYOUT),
    )  # fmt: skip
    assert edit.changeset is not None
    return edit.changeset


def status(data_dir: Path, pair: tuple[str, str]) -> set[NamedNode]:
    return {q.object for q in live(data_dir).quads_for_pattern(candidate(pair), CG.status, None, None)}


def same_as(data_dir: Path, pair: tuple[str, str]) -> set[Quad]:
    store = live(data_dir)
    a, b = (NamedNode(iri) for iri in pair)
    return set(store.quads_for_pattern(a, OWL.sameAs, b, None)) | set(store.quads_for_pattern(b, OWL.sameAs, a, None))


def refresh(data_dir: Path) -> str:
    done = catalograph(data_dir, "candidates", "--refresh")
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_ingest_left_the_marc_only_candidates_pending(data_dir: Path) -> None:
    held = {(c.first, c.second): c for c in stored_candidates(live(data_dir), LAYOUT)}
    assert MONK in held and held[MONK].rule == "agent-dates" and held[MONK].status == "pending"
    assert held[MONK].reasons == ("same name without dates",)
    assert held[HERMAN].score < 0.9 and "nearly agree" in held[HERMAN].reasons[0]
    assert status(data_dir, MONK) == {CG.Pending}
    assert not same_as(data_dir, MONK)


def test_accept_states_same_as_both_ways_in_one_changeset_and_outlives_refresh_and_reingest(
    data_dir: Path, tmp_path: Path
) -> None:
    changeset = NamedNode(settle(data_dir, MONK, ACCEPT))
    store = live(data_dir)
    assert status(data_dir, MONK) == {CG.Accepted}
    assert same_as(data_dir, MONK) == set(same_as_quads(LAYOUT, *(NamedNode(i) for i in MONK)))
    for quad in same_as(data_dir, MONK):  # each in its subject's own unit graph
        assert quad.graph_name.value == quad.subject.value
    added = [q.object for q in store.quads_for_pattern(changeset, CG.addition, None, changeset)]
    removed = [q.object for q in store.quads_for_pattern(changeset, CG.removal, None, changeset)]
    assert (len(added), len(removed)) == (3, 1)  # two sameAs and the new status; the old status
    reason = next(store.quads_for_pattern(changeset, CG.changeReason, None, changeset)).object.value
    assert reason == f"accepted match candidate {MONK[0]} = {MONK[1]}: a test"
    del store

    assert "0 quads added, 0 removed" in refresh(data_dir)  # accepted: kept whole, not proposed anew
    assert status(data_dir, MONK) == {CG.Accepted}

    # every jazz record changed (a note added), so every one is written again
    changed = tmp_path / "jazz-again.mrc"
    with open(shared_path(JAZZ), "rb") as source, open(changed, "wb") as out:
        for record in pymarc.MARCReader(source, to_unicode=True, force_utf8=True):
            if record is None:  # one pymarc cannot read; the ingest reads it (and it is unchanged)
                continue
            record.add_field(pymarc.Field(tag="500", indicators=[" ", " "], subfields=[pymarc.Subfield("a", "Again.")]))
            out.write(record.as_marc())
    done = catalograph(data_dir, "ingest", "--quiet", str(changed))
    assert done.returncode == 0, done.stderr
    written = int(re.search(r"written\s+(\d+)", done.stderr).group(1))
    assert written >= 900, done.stderr
    assert status(data_dir, MONK) == {CG.Accepted}
    assert len(same_as(data_dir, MONK)) == 2
    pending = queue_page(live(data_dir), LAYOUT, status="pending", size=100).items
    assert not [c for c, *_ in pending if {c.first, c.second} == set(MONK)]


def test_a_rejection_is_remembered_across_refreshes(data_dir: Path) -> None:
    before = queue_page(live(data_dir), LAYOUT).by_status
    settle(data_dir, HERMAN, REJECT)
    assert status(data_dir, HERMAN) == {CG.Rejected}
    assert not same_as(data_dir, HERMAN)
    refresh(data_dir)
    refresh(data_dir)
    assert status(data_dir, HERMAN) == {CG.Rejected}
    after = queue_page(live(data_dir), LAYOUT).by_status
    assert after["pending"] == before["pending"] - 1
    assert after["rejected"] == before["rejected"] + 1
    rejected = queue_page(live(data_dir), LAYOUT, status="rejected").items
    assert {(c.first, c.second) for c, *_ in rejected} >= {HERMAN}


def test_reverting_the_accepting_changeset_restores_the_candidate(data_dir: Path) -> None:
    """What a revert of the changeset does (its additions removed, its removals added back),
    read from the changeset graph alone: the candidate is pending again and the match gone."""
    changeset = NamedNode(settle(data_dir, LOVANO, ACCEPT))

    def statements(store: Store, link: NamedNode) -> list[Quad]:
        found = []
        for node in [q.object for q in store.quads_for_pattern(changeset, link, None, changeset)]:
            part = {q.predicate: q.object for q in store.quads_for_pattern(node, None, None, changeset)}
            found.append(Quad(part[RDF.subject], part[RDF.predicate], part[RDF.object], part[CG.inGraph]))
        return found

    store = live(data_dir)
    additions, removals = statements(store, CG.addition), statements(store, CG.removal)
    del store
    edit = apply_changes(data_dir, add=removals, remove=additions, layout=LAYOUT, who="rita", reason="revert")
    assert (edit.added, edit.removed) == (1, 3)
    assert status(data_dir, LOVANO) == {CG.Pending}
    assert not same_as(data_dir, LOVANO)
    refresh(data_dir)  # found again by the rules, still pending
    assert status(data_dir, LOVANO) == {CG.Pending}


def test_undo_of_an_acceptance_and_of_a_rejection(data_dir: Path) -> None:
    settle(data_dir, DORHAM, ACCEPT)
    settle(data_dir, DORHAM, UNDO)
    assert status(data_dir, DORHAM) == {CG.Pending} and not same_as(data_dir, DORHAM)
    settle(data_dir, DORHAM, REJECT)
    settle(data_dir, DORHAM, UNDO)
    assert status(data_dir, DORHAM) == {CG.Pending} and not same_as(data_dir, DORHAM)
    state = candidate_state(live(data_dir), LAYOUT, candidate(DORHAM).value)
    with pytest.raises(UsageError, match="no decision to undo"):
        decide(state, LAYOUT, UNDO)


def test_a_decision_made_from_a_stale_page_is_refused_and_changes_nothing(data_dir: Path) -> None:
    stale = candidate_state(live(data_dir), LAYOUT, candidate(THOMPSON).value)  # pending, read first
    settle(data_dir, THOMPSON, ACCEPT, who="first reviewer")
    late = decide(stale, LAYOUT, REJECT)
    with pytest.raises(InvalidChangeError, match="meanwhile"):
        apply_changes(data_dir, add=late.add, remove=late.remove, layout=LAYOUT, who="second reviewer",
                      check=decision_check(late, LAYOUT))  # fmt: skip
    assert status(data_dir, THOMPSON) == {CG.Accepted}
    assert len(same_as(data_dir, THOMPSON)) == 2
    with pytest.raises(UsageError, match="already accepted"):
        decide(candidate_state(live(data_dir), LAYOUT, candidate(THOMPSON).value), LAYOUT, REJECT)


def test_only_candidates_of_the_graph_can_be_decided(data_dir: Path) -> None:
    store = live(data_dir)
    for wrong in (MONK[0], f"{candidates_graph(LAYOUT).value}#cnothing", "not an iri", f"{BASE}graph/meta"):
        with pytest.raises(NotFoundError):
            candidate_state(store, LAYOUT, wrong)
    assert next(store.quads_for_pattern(candidate(MONK), RDF.type, CG.MatchCandidate, None)) is not None


def test_the_queue_pages_filters_and_counts(data_dir: Path) -> None:
    store = live(data_dir)
    whole = queue_page(store, LAYOUT, size=1000)
    assert whole.total == len(whole.items) == whole.by_status["pending"] >= 5
    seen = []
    pages = queue_page(store, LAYOUT, size=4).pages
    assert pages == -(-whole.total // 4)
    for number in range(1, pages + 1):
        page = queue_page(store, LAYOUT, size=4, page=number)
        assert page.page == number and len(page.items) <= 4
        seen += [c for c, *_ in page.items]
    assert sorted(c.iri for c in seen) == sorted(c.iri for c, *_ in whole.items)  # each once
    assert [c.score for c in seen] == sorted((c.score for c in seen), reverse=True)
    assert queue_page(store, LAYOUT, size=4, page=10_000).page == pages  # past the end: the last
    dates = queue_page(store, LAYOUT, rule="agent-dates", size=1000)
    assert dates.total == whole.by_rule["agent-dates"] and {c.rule for c, *_ in dates.items} == {"agent-dates"}
    assert queue_page(store, LAYOUT, kind="agent", size=1000).total == whole.by_kind["agent"]
    for hostile in ('agent-dates" } } DROP ALL #', "agent", "*"):  # bound as a literal: selects nothing
        assert queue_page(store, LAYOUT, rule=hostile).total == 0
    assert queue_page(store, LAYOUT, kind="work").items == []
    first, a, b = whole.items[0]
    assert a.kind == b.kind == "agent" and a.label != a.iri and b.label != b.iri
