"""The derived graph of match candidates: pairs that may be one resource, never merged silently.

Deterministic identity (a shared DOI, ORCID, ISBN, authority IRI) already
makes sources meet in one node. What is left is the pairs only names and
titles bring together: ``query.candidates`` finds them, and they are written
here, into the graph ``{base}graph/derived/candidates``, for catalogers to
accept or reject. Each candidate::

    <…/candidates#c{hash of the sorted pair}> a cg:MatchCandidate ;
        cg:candidateFor <agent/k1> ; cg:proposedMatch <agent/k2> ; cg:status cg:Pending ;
        cg:matchRule "agent-dates" ; cg:matchScore 0.93 ;
        cg:matchReason "same name without dates"@en .

(``cg:candidateFor`` the first IRI of the sorted pair, ``cg:proposedMatch``
the second: the terms the ontology declared for the review queue.)

The IRI is a hash of the sorted pair, not of a position, so a candidate keeps
its IRI across rebuilds whatever else changed: a later rejection, stated
against that IRI (``cg:status cg:Rejected``), stays attached to the same pair
and is kept when the candidates are rebuilt (``write_candidates``). Only the writer writes the graph, and only the
difference with what it holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pyoxigraph import Literal, NamedNode, Quad, Store

from ontology.layout import Layout
from ontology.namespaces import CG, RDF, XSD

CANDIDATES = "derived/candidates"


@dataclass(frozen=True, slots=True)
class MatchCandidate:
    """Two resources that may be one, with how sure and why (found in ``query.candidates``)."""

    first: str
    second: str
    rule: str
    score: float
    reasons: tuple[str, ...]

    @property
    def pair(self) -> tuple[str, str]:
        """The two IRIs in sorted order: a pair is the same whichever side it was found from."""
        return (self.first, self.second) if self.first <= self.second else (self.second, self.first)


def candidates_graph(layout: Layout) -> NamedNode:
    return NamedNode(f"{layout.graphs}{CANDIDATES}")


def candidate_iri(layout: Layout, first: str, second: str) -> NamedNode:
    """The IRI of the candidate pairing ``first`` and ``second``, the same in either order.

    >>> layout = Layout("http://example.org/")
    >>> a, b = "http://example.org/agent/k1", "http://example.org/agent/k2"
    >>> candidate_iri(layout, a, b) == candidate_iri(layout, b, a)
    True
    >>> candidate_iri(layout, a, b).value.startswith("http://example.org/graph/derived/candidates#c")
    True
    """
    pair = "\n".join(sorted((first, second)))
    digest = hashlib.blake2b(pair.encode("utf-8"), digest_size=12).hexdigest()
    return NamedNode(f"{candidates_graph(layout).value}#c{digest}")


def decimal_text(score: float) -> str:
    """``score`` (to three places) as the store writes an ``xsd:decimal`` back, so that a
    rebuild compares equal to what it wrote.

    >>> decimal_text(0.98), decimal_text(1.0), decimal_text(0.9304)
    ('0.98', '1', '0.93')
    """
    return format(Decimal(f"{score:.3f}").normalize(), "f")


def candidate_quads(
    layout: Layout, candidate: MatchCandidate, status: NamedNode = CG.Pending
) -> list[Quad]:
    graph = candidates_graph(layout)
    subject = candidate_iri(layout, candidate.first, candidate.second)
    first, second = candidate.pair
    quads = [
        Quad(subject, RDF.type, CG.MatchCandidate, graph),
        Quad(subject, CG.candidateFor, NamedNode(first), graph),
        Quad(subject, CG.proposedMatch, NamedNode(second), graph),
        Quad(subject, CG.status, status, graph),
        Quad(subject, CG.matchRule, Literal(candidate.rule), graph),
        Quad(subject, CG.matchScore, Literal(decimal_text(candidate.score), datatype=XSD.decimal), graph),
    ]
    quads += [Quad(subject, CG.matchReason, Literal(r, language="en"), graph) for r in candidate.reasons]
    return quads


def write_candidates(store: Store, layout: Layout, candidates: Sequence[MatchCandidate]) -> tuple[int, int]:
    """Make the candidates graph hold ``candidates``, and keep what catalogers decided;
    returns (quads added, quads removed).

    A candidate whose status is no longer ``cg:Pending`` (accepted or rejected,
    by a later edit) keeps that status when it is found again, and is kept
    whole when it is not: a rejected pair is remembered, never proposed anew.
    Only the difference is written: a rebuild that finds what the graph holds
    writes nothing, and the candidates that stayed keep their statements.
    """
    graph = candidates_graph(layout)
    held = set(store.quads_for_pattern(None, None, None, graph))
    decided = {q.subject: q.object for q in held if q.predicate == CG.status and q.object != CG.Pending}
    wanted: set[Quad] = set()
    for candidate in candidates:
        iri = candidate_iri(layout, candidate.first, candidate.second)
        wanted.update(candidate_quads(layout, candidate, decided.get(iri, CG.Pending)))
    found = {quad.subject for quad in wanted}
    wanted |= {quad for quad in held if quad.subject in decided and quad.subject not in found}
    gone = held - wanted
    for quad in gone:
        store.remove(quad)
    new = wanted - held
    if new:
        store.extend(new)
    return len(new), len(gone)


def update_candidate(
    store: Store, layout: Layout, pair: tuple[str, str], candidate: MatchCandidate | None
) -> tuple[int, int]:
    """Make the graph hold ``candidate`` for ``pair`` (``None``: the rules no longer find it), as
    ``write_candidates`` would, reading and writing that candidate's statements only; returns
    (quads added, quads removed). A decided candidate keeps its status, and is kept whole when
    it is no longer found."""
    graph = candidates_graph(layout)
    subject = candidate_iri(layout, *pair)
    held = set(store.quads_for_pattern(subject, None, None, graph))
    status = next((q.object for q in held if q.predicate == CG.status and q.object != CG.Pending), CG.Pending)
    if candidate is None:
        if status != CG.Pending:
            return 0, 0
        wanted: set[Quad] = set()
    else:
        wanted = set(candidate_quads(layout, candidate, status))
    gone, new = held - wanted, wanted - held
    for quad in gone:
        store.remove(quad)
    if new:
        store.extend(new)
    return len(new), len(gone)
