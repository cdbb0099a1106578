"""The review queue: match candidates as a reviewer reads them, filtered, sorted, paged, counted.

The derived graph of candidates (``graph.candidates``) is read once per
request without labels (``rq/review_candidates.rq``: a few columns per
candidate, at most ``query.candidates.MAX_CANDIDATES`` of them), filtered by
status, rule and kind and sorted by score in Python; only the page shown is
labelled (``rq/review_labels.rq``, one bound query per side), so a page costs
the same whatever the queue holds. The counts a reviewer needs (by status,
and of the chosen status by rule and by kind) come from the same read.

The kind of a side is what the layout says of an IRI under the base
(``agent``, ``work``), else what the rule compares (an authority's IRI on an
``agent-*`` rule is an agent).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Store, Variable

from graph.candidates import candidates_graph
from ontology.layout import Layout
from ontology.namespaces import PREFIXES
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


def all_candidates(store: Store, layout: Layout) -> list[QueuedCandidate]:
    """Every candidate of the derived graph, strongest first (ties by IRI, so pages are stable)."""
    rows = store.query(
        sparql("review_candidates"),
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={Variable("graph"): candidates_graph(layout)},
    )
    found = [
        QueuedCandidate(
            row["candidate"].value, row["first"].value, row["second"].value, row["rule"].value,
            float(row["score"].value), row["status"].value.rsplit("#", 1)[-1].lower(),
            tuple(sorted(row["reasons"].value.split("\n"))) if row["reasons"] is not None else (),
        )  # fmt: skip
        for row in rows
    ]
    found.sort(key=lambda c: (-c.score, c.iri))
    return found


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
    come from a reader's URL.
    """
    held = all_candidates(store, layout)
    by_status = Counter(c.status for c in held)
    of_status = [c for c in held if c.status == status]
    chosen = [c for c in of_status if (rule is None or c.rule == rule) and (kind is None or c.kind == kind)]
    pages = max(1, -(-len(chosen) // size))
    page = min(max(1, page), pages, MAX_PAGE)
    shown = chosen[(page - 1) * size : page * size]
    result = QueuePage(
        status, rule, kind, page, pages, len(chosen),
        by_status={s: by_status.get(s, 0) for s in STATUSES},
        by_rule=dict(sorted(Counter(c.rule for c in of_status).items())),
        by_kind=dict(sorted(Counter(c.kind for c in of_status).items())),
    )  # fmt: skip
    for candidate in shown:
        result.items.append(
            (
                candidate,
                side(store, layout, candidate.first, candidate.kind, languages),
                side(store, layout, candidate.second, candidate.kind, languages),
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
