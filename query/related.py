"""What is related to a resource, for readers: results with their explanation, in words.

``query.association`` scores works over the projection; this module turns a
seed IRI into those scores and each result into what a reader sees: the
work, its editions, the units behind its score with their labels (from the
store, in the reader's languages), kinds, roles, weights and paths through
the hierarchy, and a sentence that says the same ("Shares the subject
*Music -- Japan -- 20th century* and the composer *Takemitsu, Tōru*."). The
API, the pages and the CLI all explain through ``Association.describe``, so they
say the same thing; the derived graph states the same reasons by IRI
(``AssociationIndex.reasons``), and labels are joined when it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Store
from scipy import sparse

from graph.projection import CONTRIBUTOR, GENRE, INSTANCE, RELATED, SERIES, SUBJECT, iri_list
from ontology.layout import Layout
from ontology.namespaces import BF, MADS, RDFS, RELATORS, SKOS
from ontology.term_labels import vocabulary_label
from query.association import MAX_LIMIT, MAX_REASONS, AssociationIndex, Reason
from query.listings import best_label


@dataclass
class Unit:
    iri: str
    label: str
    kind: str
    relation: str
    roles: list[str] = field(default_factory=list)
    weight: float = 0.0
    share: float = 0.0
    works: int = 0
    via: dict[str, str] | None = None


@dataclass
class Related:
    """One result: a work (and its editions) related to the seed, with why."""

    iri: str
    label: str
    score: float
    editions: int
    instance: str | None
    same_work: bool
    units: list[Unit]
    because: str

    def as_json(self) -> dict[str, object]:
        return {
            "iri": self.iri,
            "label": self.label,
            "score": self.score,
            "editions": self.editions,
            "instance": self.instance,
            "same_work": self.same_work,
            "because": self.because,
            "units": [
                {k: v for k, v in u.__dict__.items() if v is not None and v != []}
                for u in self.units  # noqa: PLC1802
            ],
        }


def role_names(languages: Sequence[str] = ()) -> Callable[[NamedNode], str | None]:
    """Names of relator roles in ``languages`` (``ontology.term_labels``, the one place pages,
    the API, the CLI and the derived graph take them from); ``None`` for any other IRI."""
    wanted = tuple(languages)
    return lambda node: (
        vocabulary_label(node, wanted) if node.value.startswith(RELATORS.iri) else None
    )


class Labels:
    """Labels from the store, in the reader's languages (``query.listings.best_label``)."""

    _label_predicates = (RDFS.label, SKOS.prefLabel, MADS.authoritativeLabel)

    def __init__(
        self,
        store: Store,
        languages: Sequence[str] = (),
        role_names: Callable[[NamedNode], str | None] | None = None,
    ) -> None:
        self.store, self.languages, self.role_names = store, list(languages), role_names
        self._cache: dict[str, str] = {}

    def __call__(self, iri: str) -> str:
        if iri not in self._cache:
            self._cache[iri] = self._find(iri)
        return self._cache[iri]

    def _find(self, iri: str) -> str:
        node = NamedNode(iri)
        if self.role_names is not None:  # a relator term: its name from the relator list
            named = self.role_names(node)
            if named:
                return named
        labels: list[Literal] = []
        # most nodes have an rdfs:label, so one seek usually does (each pattern is a seek)
        for predicate in self._label_predicates:
            labels = [
                q.object for q in self.store.quads_for_pattern(node, predicate, None, None)
                if isinstance(q.object, Literal)
            ]  # fmt: skip
            if labels:
                break
        else:
            for title in self.store.quads_for_pattern(node, BF.title, None, None):
                labels += [
                    q.object for q in self.store.quads_for_pattern(title.object, BF.mainTitle, None, None)  # type: ignore[arg-type]
                    if isinstance(q.object, Literal)
                ]  # fmt: skip
        best = best_label(labels, self.languages)
        if best is not None:
            return best.value
        return iri.rstrip("/").rpartition("/")[2] or iri


_RELATION_WORDS = {
    SUBJECT: "subject",
    GENRE: "genre",
    CONTRIBUTOR: "contributor",
    SERIES: "series",
    RELATED: "related work",
}


class Association:
    """``related`` and ``related_to_seeds`` over one index and the store it describes."""

    def __init__(self, index: AssociationIndex, store: Store, layout: Layout) -> None:
        self.index, self.store, self.layout = index, store, layout

    def related(self, iri: str, limit: int = 10, *, labels: Labels | None = None) -> list[Related]:
        """What is related to the resource ``iri``, best first, one result per work."""
        vector, left_out = self.index.seed(iri)
        own_work = self._own_work(iri)
        own = None
        if (
            own_work is not None and own_work not in left_out
        ):  # its other editions, without the seed
            own = (own_work, self.index.without(own_work, self.index.projection.row(iri)))  # type: ignore[arg-type]
        return self._results(
            vector, left_out, limit, labels, own=own, seed_is_unit=self._is_unit(iri)
        )

    def related_to_seeds(
        self,
        iris: Sequence[str],
        weights: Sequence[float] | None = None,
        limit: int = 10,
        *,
        labels: Labels | None = None,
    ) -> list[Related]:
        """What is related to several seeds at once (a text search's hits, with their scores)."""
        vector, left_out = self.index.seeds(list(iris)[:MAX_LIMIT], weights)
        return self._results(vector, left_out, limit, labels, own=None, seed_is_unit=False)

    def _is_unit(self, iri: str) -> bool:
        return self.index.projection.row(iri) is None

    def _own_work(self, iri: str) -> int | None:
        p = self.index.projection
        row = p.row(iri)
        if row is None or p.resource_kind[row] != INSTANCE or p.instance_work[row] < 0:
            return None
        return int(self.index.work_pos[p.instance_work[row]])

    def _results(
        self,
        vector: sparse.csr_matrix,
        left_out: set[int],
        limit: int,
        labels: Labels | None,
        *,
        own: tuple[int, sparse.csr_matrix] | None,
        seed_is_unit: bool,
    ) -> list[Related]:
        limit = max(1, min(limit, MAX_LIMIT))
        labels = labels or Labels(self.store)
        scores = self.index.scores(vector)
        own_row = None
        if own is not None:
            scores[own[0]] = self.index.score_row(vector, own[1])
            own_row = self.index.row_units(own[1], 0)
        seed = self.index.row_units(vector, 0)
        return [
            self.describe(
                seed,
                target,
                float(scores[target]),
                labels,
                seed_is_unit=seed_is_unit,
                own_row=own_row if own is not None and own[0] == target else None,
            )
            for target in self.index.top(scores, limit, left_out)
        ]

    def describe(
        self,
        seed: dict[int, float],
        target: int,
        score: float,
        labels: Labels,
        *,
        seed_is_unit: bool = False,
        own_row: dict[int, float] | None = None,
    ) -> Related:
        """Result ``target`` (a work's position) with its explanation; ``seed``: the seed's units
        ({column: weight}); ``own_row``: the seed's own work, scored on its other editions."""
        same_work = own_row is not None
        index, p = self.index, self.index.projection
        work_row = int(index.works[target])
        work_iri = p.resource_iri(work_row)
        editions = index.edition_rows[index.edition_start[target] : index.edition_start[target + 1]]
        instances = sorted(iri_list(p.resources[editions]))
        instance = instances[0] if instances else None
        units = [
            self._unit(reason, target, labels)
            for reason in index.reasons(seed, target, own_row)[:MAX_REASONS]
        ]
        label = labels(work_iri)
        if label == work_iri.rpartition("/")[2] and instance:
            label = labels(instance)
        return Related(
            iri=work_iri,
            label=label,
            score=score,
            editions=len(instances),
            instance=instance,
            same_work=same_work,
            units=units,
            because=because(units, same_work, len(instances), seed_is_unit),
        )

    def _unit(self, reason: Reason, target: int, labels: Labels) -> Unit:
        index, p = self.index, self.index.projection
        if reason.unit == index.work_iri(target):
            return Unit(
                iri=reason.unit,
                label=labels(reason.unit),
                kind="work",
                relation="work",
                weight=round(float(reason.weight), 4),
                share=round(float(reason.share), 6),
                works=reason.works,
            )
        column = reason.column
        edges = index.edge_order[index.edge_start[target] : index.edge_start[target + 1]]
        rows = edges[p.edge_unit[edges] == column]
        kinds = sorted({int(k) for k in p.edge_kind[rows]})
        relation = _RELATION_WORDS[kinds[0]] if kinds else "subject"
        roles = sorted({labels(p.roles[r].decode("utf-8")) for r in p.edge_role[rows] if r >= 0})
        via = None
        if reason.via is not None:
            related_up = index.relation(reason.via_column, reason.column)
            via = {"iri": reason.via, "label": labels(reason.via), "relation": related_up}
        return Unit(
            iri=reason.unit,
            label=labels(reason.unit),
            kind=self.layout.kind(reason.unit) or "concept",
            relation=relation,
            roles=roles,
            weight=round(float(reason.weight), 4),
            share=round(float(reason.share), 6),
            works=reason.works,
            via=via,
        )


_VIA_WORDS = {
    "broader": "broader than",
    "narrower": "narrower than",
    "component": "part of the heading",
    "whole": "a heading that contains",
}


def _phrase(unit: Unit) -> str:
    name = f"*{unit.label}*"
    if unit.relation == "contributor":
        role = " and ".join(r.lower() for r in unit.roles) if unit.roles else "contributor"
        return f"the {role} {name}"
    return f"the {unit.relation} {name}"


def because(units: list[Unit], same_work: bool, editions: int, seed_is_unit: bool) -> str:
    """The explanation in words.

    >>> u = [Unit("x", "Music -- Japan -- 20th century", "concept", "subject"),
    ...      Unit("y", "Takemitsu, Tōru", "agent", "contributor", roles=["Composer"])]
    >>> because(u, False, 1, False)
    'Shares the subject *Music -- Japan -- 20th century* and the composer *Takemitsu, Tōru*.'
    >>> because(u[:1], True, 3, False)
    'Another edition of the same work (and 1 other edition); shares the subject *Music -- Japan -- 20th century*.'
    """
    direct = [_phrase(u) for u in units if u.via is None and u.relation != "work"]
    via = [
        f"{_phrase(u)}, {_VIA_WORDS[u.via['relation']]} *{u.via['label']}*" for u in units if u.via
    ]
    parts: list[str] = []
    if direct:
        parts.append(("has " if seed_is_unit else "shares ") + _join(direct))
    if via:
        parts.append("has " + _join(via))
    text = "; ".join(parts)
    if same_work:
        others = editions - 2
        more = f" (and {others} other edition{'s' if others != 1 else ''})" if others > 0 else ""
        text = f"another edition of the same work{more}" + (f"; {text}" if text else "")
    elif editions > 1:
        text += f" (and {editions - 1} other edition{'s' if editions > 2 else ''})"
    return (text[:1].upper() + text[1:] + ".") if text else ""


def _join(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
