"""A reviewer's decision on a match candidate, as quads to add and remove: accept, reject, undo.

Candidates (``graph.candidates``) are never merged silently; a reviewer
settles each one, and the settlement is an ordinary edit (the editor hands
these quads to ``web.changes.submit_change``: one changeset, journaled,
recorded with who, when and why, and revertible like any other):

- **accept**: the two become one by assertion, not by rewriting either:
  ``A owl:sameAs B`` in A's graph and ``B owl:sameAs A`` in B's (the graph
  ``ontology.layout.Layout.home_graph`` gives each statement, so each is a
  writer's statement about a unit, kept in the ledger across every re-ingest
  of the records that describe A or B, and each side's page shows the other
  as its own property), and the candidate's ``cg:status`` goes from
  ``cg:Pending`` to ``cg:Accepted``. Both per-source descriptions stay whole:
  removing the two statements undoes the merge;
- **reject**: ``cg:Pending`` becomes ``cg:Rejected``; a rebuild of the
  candidates keeps a decided candidate whole (``graph.candidates.write_candidates``),
  so a rejected pair is never proposed again;
- **undo**: the inverse of what the candidate's status says was done (the
  sameAs statements removed, the status back to ``cg:Pending``), as a new
  changeset; reverting the deciding changeset does the same.

``decision_check`` runs inside the edit (``graph.updates.apply_changes``'s
``check``) on the live store: a decision made from a page that was out of
date (another reviewer settled the candidate meanwhile) leaves the candidate
with two statuses, and is refused with nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import NamedNode, Quad, Store

from graph.candidates import candidates_graph
from graph.updates import ChangeCheck, InvalidChangeError
from ontology.errors import NotFoundError, UsageError
from ontology.layout import Layout
from ontology.namespaces import CG, OWL, RDF

ACCEPT = "accept"
REJECT = "reject"
UNDO = "undo"
DECISIONS = (ACCEPT, REJECT, UNDO)

#: The status each decision leaves.
_OUTCOME = {ACCEPT: CG.Accepted, REJECT: CG.Rejected, UNDO: CG.Pending}


@dataclass(frozen=True, slots=True)
class CandidateState:
    """One candidate as the store holds it now."""

    iri: NamedNode
    first: NamedNode
    second: NamedNode
    status: NamedNode


@dataclass(frozen=True, slots=True)
class Decision:
    """What one decision changes: the quads for ``submit_change`` and the status it leaves."""

    candidate: CandidateState
    decision: str
    add: tuple[Quad, ...]
    remove: tuple[Quad, ...]

    @property
    def outcome(self) -> NamedNode:
        return _OUTCOME[self.decision]

    def reason(self, why: str = "") -> str:
        """The changeset's reason: what was decided about which pair, and the reviewer's words."""
        said = {ACCEPT: "accepted", REJECT: "rejected", UNDO: "undid the decision on"}[self.decision]
        text = f"{said} match candidate {self.candidate.first.value} = {self.candidate.second.value}"
        return f"{text}: {why}" if why else text


def candidate_state(store: Store, layout: Layout, iri: str) -> CandidateState:
    """The candidate ``iri`` of the candidates graph; ``NotFoundError`` if there is none."""
    graph = candidates_graph(layout)
    if not iri.startswith(f"{graph.value}#c"):
        raise NotFoundError(f"{iri} is not a match candidate")
    try:
        subject = NamedNode(iri)
    except ValueError:
        raise NotFoundError(f"{iri!r} is not a match candidate") from None

    def one(predicate: NamedNode) -> NamedNode | None:
        found = [q.object for q in store.quads_for_pattern(subject, predicate, None, graph)]
        return found[0] if len(found) == 1 and isinstance(found[0], NamedNode) else None

    first, second, status = one(CG.candidateFor), one(CG.proposedMatch), one(CG.status)
    if first is None or second is None or status is None:
        raise NotFoundError(f"{iri} is not a match candidate (or it has no single status)")
    return CandidateState(subject, first, second, status)


def same_as_quads(layout: Layout, first: NamedNode, second: NamedNode) -> tuple[Quad, Quad]:
    """``first owl:sameAs second`` and back, each in the graph the layout keeps it in.

    >>> layout = Layout("http://example.org/")
    >>> a, b = NamedNode("http://example.org/agent/k1"), NamedNode("http://id.loc.gov/authorities/names/n1")
    >>> [q.graph_name.value for q in same_as_quads(layout, a, b)]
    ['http://example.org/agent/k1', 'http://id.loc.gov/authorities/names/n1']
    """
    return (
        Quad(first, OWL.sameAs, second, NamedNode(layout.home_graph(first.value, second.value))),
        Quad(second, OWL.sameAs, first, NamedNode(layout.home_graph(second.value, first.value))),
    )


def decide(state: CandidateState, layout: Layout, decision: str) -> Decision:
    """The quads of ``decision`` on the candidate as it is (``UsageError`` if it cannot apply).

    Accept and reject need a pending candidate; undo needs a decided one.
    """
    if decision not in DECISIONS:
        raise UsageError(f"unknown decision {decision!r} (one of {', '.join(DECISIONS)})")
    pending = state.status == CG.Pending
    if decision in (ACCEPT, REJECT) and not pending:
        raise UsageError(f"this candidate is already {_status_name(state.status)}: undo that first")
    if decision == UNDO and pending:
        raise UsageError("this candidate is pending: there is no decision to undo")
    graph = candidates_graph(layout)
    old = Quad(state.iri, CG.status, state.status, graph)
    new = Quad(state.iri, CG.status, _OUTCOME[decision], graph)
    same = same_as_quads(layout, state.first, state.second)
    if decision == ACCEPT:
        return Decision(state, decision, add=(new, *same), remove=(old,))
    if decision == UNDO and state.status == CG.Accepted:
        return Decision(state, decision, add=(new,), remove=(old, *same))
    return Decision(state, decision, add=(new,), remove=(old,))


def decision_check(decision: Decision, layout: Layout) -> ChangeCheck:
    """A ``check`` for ``apply_changes``: after the edit, the candidate has exactly the status the
    decision leaves (else it was settled meanwhile by someone else, and the edit is refused)."""
    graph = candidates_graph(layout)

    def check(store: Store, added: list[Quad], removed: list[Quad]) -> None:
        statuses = {q.object for q in store.quads_for_pattern(decision.candidate.iri, CG.status, None, graph)}
        typed = Quad(decision.candidate.iri, RDF.type, CG.MatchCandidate, graph) in store
        if statuses != {decision.outcome} or not typed:
            raise InvalidChangeError(
                ["the candidate was settled or changed by someone else meanwhile; reload the queue"]
            )

    return check


def _status_name(status: NamedNode) -> str:
    return status.value.rsplit("#", 1)[-1].lower()
