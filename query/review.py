"""The review queue: match candidates as a reviewer reads them, filtered, sorted, paged, counted.

A page costs what it shows, not what the queue holds (up to
``query.candidates.MAX_CANDIDATES``): the counts by status and rule come from
one aggregate (``rq/review_counts.rq``); the candidates of the status, rule
and kind asked for are sorted by the store (``rq/review_page.rq``, every
value bound) and read only as far as the page's end; and only the page's
candidates are read whole (their pair and reasons, by pattern) and labelled
(``rq/review_labels.rq``, one bound query per side).

The kind of a candidate is what its rule compares (the rule's first word:
``agent``, ``work``); the kind of a side is what the layout says of an IRI
under the base, else the candidate's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from pathlib import Path

from pyoxigraph import Literal, NamedNode, QuerySolutions, Store, Variable

from graph.candidates import candidates_graph
from ontology.layout import Layout
from ontology.namespaces import CG, PREFIXES
from query.listings import best_label

_RQ = Path(__file__).resolve().parent / "rq"

#: The statuses a candidate can have, as the queue names them (the local names of cg:status).
STATUSES = ("pending", "accepted", "rejected")
#: Candidates on one page of the queue.
PAGE_SIZE = 25
#: The deepest page a request may ask for is bounded by the queue's length; a page number is
#: also capped so that an absurd one costs nothing.
MAX_PAGE = 100_000


@cache
def sparql(name: str) -> str:
    """The text of ``query/rq/{name}.rq``."""
    return (_RQ / f"{name}.rq").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a candidate as the queue shows it."""

    iri: str
    label: str
    #: ``agent``, ``work``...: the resource's kind.
    kind: str
    #: Its label's language, for the page's ``lang`` attribute.
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class QueuedCandidate:
    """One candidate of the queue (its sides unlabelled until it is on the page shown)."""

    iri: str
    first: str
    second: str
    rule: str
    score: float
    status: str
    reasons: tuple[str, ...]

    @property
    def kind(self) -> str:
        """What the rule compares: ``agent`` or ``work`` (the rule's first word).

        >>> QueuedCandidate("c", "a", "b", "agent-dates", 0.93, "pending", ()).kind
        'agent'
        """
        return self.rule.split("-", 1)[0]


@dataclass(slots=True)
class QueuePage:
    """One page of the queue, with the counts beside it."""

    status: str
    rule: str | None
    kind: str | None
    page: int
    pages: int
    #: Candidates that pass the filters (all pages).
    total: int
    items: list[tuple[QueuedCandidate, Side, Side]] = field(default_factory=list)
    #: How many candidates have each status (no other filter).
    by_status: dict[str, int] = field(default_factory=dict)
    #: Of the chosen status: how many per rule and per kind.
    by_rule: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)


def empty_page(status: str = "pending", rule: str | None = None, kind: str | None = None) -> QueuePage:
    """The queue of a data directory with no store yet: nothing to review."""
    return QueuePage(status, rule, kind, 1, 1, 0, by_status=dict.fromkeys(STATUSES, 0))


def _query(store: Store, name: str, bound: dict[str, NamedNode | Literal]) -> QuerySolutions:
    return store.query(
        sparql(name),
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={Variable(key): value for key, value in bound.items()},
    )  # type: ignore[return-value]


def _status_term(status: str) -> NamedNode:
    return CG[status.capitalize()]


def counts(store: Store, layout: Layout) -> Counter[tuple[str, str]]:
    """How many candidates have each (status, rule)."""
    found: Counter[tuple[str, str]] = Counter()
    for row in _query(store, "review_counts", {"graph": candidates_graph(layout)}):
        found[(row["status"].value.rsplit("#", 1)[-1].lower(), row["rule"].value)] += int(row["count"].value)
    return found


def read_candidate(store: Store, layout: Layout, iri: NamedNode, status: str) -> QueuedCandidate | None:
    """One candidate whole (its pair, rule, score, reasons), read by pattern."""
    graph = candidates_graph(layout)

    def values(predicate: NamedNode) -> list[str]:
        return sorted(q.object.value for q in store.quads_for_pattern(iri, predicate, None, graph))

    first, second, rule, score = (values(p) for p in (CG.candidateFor, CG.proposedMatch, CG.matchRule, CG.matchScore))
    if not (first and second and rule and score):
        return None
    return QueuedCandidate(iri.value, first[0], second[0], rule[0], float(score[0]), status, tuple(values(CG.matchReason)))


def queue_page(
    store: Store,
    layout: Layout,
    *,
    status: str = "pending",
    rule: str | None = None,
    kind: str | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
    languages: list[str] | tuple[str, ...] = (),
) -> QueuePage:
    """One page of the candidates of ``status`` (and ``rule``, ``kind`` when given), labelled.

    Unknown filter values select nothing (an empty page), never an error: they
    come from a reader's URL; they are bound as literals, never pasted.
    """
    held = counts(store, layout)
    by_status = {s: sum(n for (st, _r), n in held.items() if st == s) for s in STATUSES}
    of_status = {r: n for (st, r), n in held.items() if st == status}
    by_kind: Counter[str] = Counter()
    for r, n in of_status.items():
        by_kind[r.split("-", 1)[0]] += n
    total = sum(n for r, n in of_status.items() if (rule is None or r == rule) and (kind is None or r.split("-", 1)[0] == kind))
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages, MAX_PAGE)
    result = QueuePage(
        status, rule, kind, page, pages, total,
        by_status=by_status, by_rule=dict(sorted(of_status.items())), by_kind=dict(sorted(by_kind.items())),
    )  # fmt: skip
    if status not in STATUSES or total == 0:
        return result
    bound: dict[str, NamedNode | Literal] = {
        "graph": candidates_graph(layout),
        "status": _status_term(status),
        "kind": Literal(f"{kind}-" if kind else ""),
    }
    if rule is not None:
        bound["rule"] = Literal(rule)
    rows = islice(_query(store, "review_page", bound), (page - 1) * size, page * size)
    for row in rows:
        found = read_candidate(store, layout, row["candidate"], status)
        if found is not None:
            result.items.append(
                (
                    found,
                    side(store, layout, found.first, found.kind, languages),
                    side(store, layout, found.second, found.kind, languages),
                )
            )
    return result


def side(store: Store, layout: Layout, iri: str, kind: str, languages: list[str] | tuple[str, ...] = ()) -> Side:
    """``iri`` labelled in the reader's languages, with its kind (module docstring)."""
    labels: list[Literal] = []
    for row in store.query(
        sparql("review_labels"),
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={Variable("node"): NamedNode(iri)},
    ):
        if isinstance(row["label"], Literal):
            labels.append(row["label"])
    best = best_label(labels, languages)
    own = layout.kind(iri)
    return Side(
        iri,
        best.value if best is not None else iri,
        own if own and own != "graph" else kind,
        best.language if best is not None else None,
    )
