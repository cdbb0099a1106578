"""Associative retrieval: what is related to a resource, through the units they share, and why.

Over the projection (``graph.projection``) each Work is a row of the sparse
matrix ``W`` (works × units): the units its own statements use and those of
its Instances (subjects, genres, contributors with their roles, series,
related works), each with the weight of its kind (``KIND_WEIGHTS``). Works,
not Instances, are ranked: ten editions of one work are one result ("and N
other editions"), which is the diversity a reader expects.

**Rarity.** A unit used by few works says more than one used by thousands:
each unit weighs ``1 / ln(1 + df)``, ``df`` the number of works using it (the
Adamic-Adar weight of link prediction: a shared neighbour counts by the
inverse log of its degree). A subject on 3 works weighs 0.91, on 3,000 works
0.13, seven times less; on one work alone 1.44. Unlike ``log(N / df)`` it does
not depend on the size of the whole collection ``N``, so adding records
changes the weights of the units those records use and of no other, and an
update stays local (``AssociationIndex.relist``). ``df`` is counted in works, not
instances, so fifty editions of one book do not make its subjects look
common. The count is rounded down to a power of two (``GRID_BITS``: 1, 2, 4,
8, ... works) before the weight is taken, so a unit's weight moves only when
its count crosses a power of two: one more record on a subject of 5 works,
or of 3,000, leaves its weight, and every list through it, alone (an update
after 1,000 records then scores again the users of a few units, not of
every unit the records name). The grid costs at most 29 % of a weight (a
unit of 7 works weighs as one of 4), less for common units (5 % at 3,000),
and keeps the order: a rarer unit never weighs less.

**Spreading activation in two bounded steps.** A seed (a Work, an Instance,
an agent, a concept, a place, or several with weights) is a vector over
units; activation spreads one step along the hierarchy (a subject reaches
its broader and narrower concepts and its components at half strength,
``HIERARCHY``), then one sparse product gives every work's score::

    score(s, t) = W[s] · M · W[t]ᵀ / sqrt(|s| · |t|),   M = D(√w) (I + ½ H) D(√w)

(``|t|``: how many units ``t`` uses, so a record with forty subjects does not
outrank one with four). ``M`` is symmetric, so ``score(s, t) = score(t, s)``,
which ``AssociationIndex.relist`` relies on. Two mat-vec steps, whatever the graph's size.

**Explanations.** ``AssociationIndex.reasons`` gives the units behind a
score: the shared ones, and those met through the hierarchy (its subject
*Jazz*, narrower than the seed's *Music*), with their weights and shares;
``query.related`` labels them and says it in words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from graph.projection import (
    BROADER,
    CONTRIBUTOR,
    EDGE_KINDS,
    GENRE,
    INSTANCE,
    RELATED,
    SERIES,
    SUBJECT,
    WORK,
    Projection,
    iri_array,
    iri_list,
    positions,
)
from ontology.errors import NotFoundError

#: Weight of a unit by how a work uses it.
KIND_WEIGHTS = {SUBJECT: 1.0, GENRE: 0.5, CONTRIBUTOR: 1.0, SERIES: 0.7, RELATED: 1.0}
#: Weight of the Work its editions share (each Work is a unit its Instances use).
WORK_WEIGHT = 1.0
#: Strength at which activation reaches a broader, narrower or component concept.
HIERARCHY = 0.5
#: ``df`` is rounded down to a power of 2**GRID_BITS before the weight is taken (1: 1, 2, 4, 8...).
GRID_BITS = 1
#: Results most asked for (API and CLI), and materialised per work in the derived graph.
MAX_LIMIT = 100
TOP_K = 10
#: Units named in one explanation.
MAX_REASONS = 6
#: Works scored together when every list is computed (memory: one batch of scores).
BATCH = 256
#: At most this many scores (nonzero entries of ``W[batch] @ M @ Wᵀ``, bounded from above before
#: the product) in one batch: a work that shares a common unit scores with every user of it,
#: so a batch of ``BATCH`` works held scores in proportion to the collection (``score_rows``).
SCORE_BUDGET = 400_000
#: Scores are rounded to this many decimals, so ties break by IRI the same way on every run.
DECIMALS = 9


def unit_weight(df: np.ndarray) -> np.ndarray:
    """``1 / ln(1 + df)``, ``df`` rounded down to a power of two (``GRID_BITS``) first.

    A unit of 3 works weighs as one of 2, of 3,000 as one of 2,048; rarer never weighs less:

    >>> [round(float(x), 2) for x in unit_weight(np.array([1, 2, 3, 4, 7, 8, 3000]))]
    [1.44, 0.91, 0.91, 0.62, 0.62, 0.46, 0.13]
    >>> bool(unit_weight(np.array([2048]))[0] == unit_weight(np.array([4095]))[0])
    True
    """
    df = np.maximum(np.asarray(df, dtype=np.float64), 1.0)
    _mantissa, exponent = np.frexp(df)  # df = m * 2**exponent, 0.5 <= m < 1: exact, no log
    bits = (exponent - 1) // GRID_BITS * GRID_BITS
    return 1.0 / np.log1p(np.ldexp(1.0, bits))


def _strongest(
    rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, shape: tuple[int, int]
) -> sparse.csr_matrix:
    """A sparse matrix of ``weights``; several edges to one cell (two roles...) keep the strongest."""
    order = np.lexsort((-weights, cols, rows))
    rows, cols, weights = rows[order], cols[order], weights[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sparse.csr_matrix((weights[first], (rows[first], cols[first])), shape=shape)


class AssociationIndex:
    """The matrices of one projection, ready for scoring (built once per projection)."""

    def __init__(self, projection: Projection) -> None:
        p = self.projection = projection
        n_units = len(p.units)
        kinds = p.resource_kind
        self.works = np.flatnonzero(kinds == WORK)
        self.work_pos = np.full(len(p.resources), -1, dtype=np.int64)
        self.work_pos[self.works] = np.arange(len(self.works))
        # Each Work is also a unit of its own (column n_units + its position), which its
        # Instances use: so two editions share their Work, and say so. Their names are not
        # copied into one array of columns (``column_name``): numpy's strings are as wide as
        # the longest, a unit's IRI, and the works are most columns (30 MB at x160 open access).
        n_units = self.columns = len(p.units) + len(self.works)
        editions = np.flatnonzero((kinds == INSTANCE) & (p.instance_work >= 0))
        editions = editions[self.work_pos[p.instance_work[editions]] >= 0]
        edge_resource = np.concatenate([p.edge_resource, editions]).astype(np.int64)
        edge_unit = np.concatenate(
            [p.edge_unit, len(p.units) + self.work_pos[p.instance_work[editions]]]
        ).astype(np.int64)
        kind_weight = np.concatenate(
            [
                np.array([KIND_WEIGHTS[k] for k in range(len(EDGE_KINDS))])[p.edge_kind],
                np.full(len(editions), WORK_WEIGHT),
            ]
        )
        #: resources × units: what each Instance or Work uses itself
        self.R = _strongest(edge_resource, edge_unit, kind_weight, (len(p.resources), n_units))
        # works × units: every edge goes to the work of its resource (an Instance's to its Work)
        owner = np.where(
            kinds[edge_resource] == INSTANCE, p.instance_work[edge_resource], edge_resource
        )
        keep = owner >= 0
        keep[keep] = self.work_pos[owner[keep]] >= 0
        self.W = _strongest(
            self.work_pos[owner[keep]],
            edge_unit[keep],
            kind_weight[keep],
            (len(self.works), n_units),
        )
        self.df = np.diff(self.W.tocsc().indptr)
        self.weight = unit_weight(self.df)
        self.length = np.maximum(np.diff(self.W.indptr), 1).astype(np.float64)
        h = sparse.csr_matrix(
            (np.full(len(p.hier_child), HIERARCHY), (p.hier_child, p.hier_parent)),
            shape=(n_units, n_units),
        )
        h = h.maximum(h.T)
        h.setdiag(0)
        h.eliminate_zeros()
        self.H = h.tocsr()
        root = sparse.diags(np.sqrt(self.weight))
        self.M = (root @ (sparse.identity(n_units, format="csr") + self.H) @ root).tocsr()
        self.editions = np.bincount(
            self.work_pos[p.instance_work[(kinds == INSTANCE) & (p.instance_work >= 0)]],
            minlength=len(self.works),
        )
        self.WT = self.W.T.tocsr()
        self._relations: dict[tuple[int, int], int] | None = None
        self._work_iris: list[str] | None = None
        self._unit_sets: dict[int, set[int]] = {}
        self._work_units: dict[int, dict[int, float]] = {}
        self._reach: np.ndarray | None = None
        self._links: dict[int, list[tuple[int, float]]] = {}
        self._names: list[str] | None = None
        self._weights: list[float] = []
        self._dfs: list[int] = []
        # each work's editions, and the edges of the work and its editions, as slices
        by_work = np.argsort(self.work_pos[p.instance_work[editions]], kind="stable")
        self.edition_rows = editions[by_work]
        self.edition_start = np.searchsorted(
            self.work_pos[p.instance_work[self.edition_rows]], np.arange(len(self.works) + 1)
        )
        edge_owner = np.where(
            kinds[p.edge_resource] == INSTANCE, p.instance_work[p.edge_resource], p.edge_resource
        )
        edge_owner = np.where(edge_owner >= 0, self.work_pos[np.maximum(edge_owner, 0)], -1)
        self.edge_order = np.argsort(edge_owner, kind="stable")
        self.edge_start = np.searchsorted(
            edge_owner[self.edge_order], np.arange(len(self.works) + 1)
        )

    # ------------------------------------------------------------ seeds

    def work_iri(self, position: int) -> str:
        return self._work_iri_list()[position]

    def _work_iri_list(self) -> list[str]:
        """The works' IRIs as Python strings, made once (explanations ask for them by the thousand)."""
        if self._work_iris is None:
            self._work_iris = iri_list(self.projection.resources[self.works])
        return self._work_iris

    def column_name(self, column: int) -> str:
        """The IRI of a column: a unit's, or for a Work's own column the Work's."""
        units = len(self.projection.units)
        return self.projection.unit_iri(column) if column < units else self.work_iri(column - units)

    def _column_lists(self) -> None:
        """Every column's name, weight and ``df`` as Python lists, for explanations made by the
        thousand (the works' names are ``work_iri``'s strings, not copies)."""
        self._names = iri_list(self.projection.units) + self._work_iri_list()
        self._weights = self.weight.tolist()
        self._dfs = self.df.tolist()

    def seed(self, iri: str) -> tuple[sparse.csr_matrix, set[int]]:
        """The unit vector of a resource, and the works it stands for (left out of its results).

        Raises ``NotFoundError`` when the projection does not know ``iri``.
        """
        p = self.projection
        row = p.row(iri)
        if row is not None:
            if p.resource_kind[row] == WORK:
                position = int(self.work_pos[row])
                return self.W[position], {position}
            work = int(p.instance_work[row])
            # the Work's own units and this Instance's (not those of its other editions)
            vector = self.R[row] if work < 0 else self.R[work].maximum(self.R[row])
            # the seed's own work stays among the results (its other editions) if it has any
            alone = work >= 0 and self.editions[self.work_pos[work]] <= 1
            return vector, ({int(self.work_pos[work])} if alone else set())
        unit = p.unit(iri)
        if unit is None:
            raise NotFoundError(
                f"{iri} is not a resource that association knows (an instance, a work, an agent, a concept, a place)"
            )
        return sparse.csr_matrix(([1.0], ([0], [unit])), shape=(1, self.columns)), set()

    def seeds(
        self, iris: Sequence[str], weights: Sequence[float] | None = None
    ) -> tuple[sparse.csr_matrix, set[int]]:
        """Several seeds, each scaled by its weight (1 when not given); unknown IRIs are skipped."""
        total = sparse.csr_matrix((1, self.columns))
        left_out: set[int] = set()
        found = 0
        for position, iri in enumerate(iris):
            try:
                vector, own = self.seed(iri)
            except NotFoundError:
                continue
            found += 1
            scale = float(weights[position]) if weights is not None else 1.0
            peak = vector.max() or 1.0
            total = total + vector * (scale / peak)
            left_out |= own
        if not found:
            raise NotFoundError("none of the seeds is a resource that association knows")
        return total.tocsr(), left_out

    # ------------------------------------------------------------ scoring

    def scores(self, vector: sparse.csr_matrix) -> np.ndarray:
        """Every work's score for one seed vector (two sparse products)."""
        spread = vector @ self.M
        length = max(vector.count_nonzero(), 1)
        raw = np.asarray((self.W @ spread.T).todense()).ravel()
        return np.round(raw / np.sqrt(self.length * length), DECIMALS)

    def top(self, scores: np.ndarray, k: int, left_out: set[int]) -> list[int]:
        """The ``k`` best works (score, then IRI), none left out, none at zero."""
        candidates = np.flatnonzero(scores > 0)
        if left_out:
            candidates = candidates[~np.isin(candidates, list(left_out))]
        if len(candidates) > 4 * k:
            cut = np.partition(scores[candidates], -k)[-k]
            candidates = candidates[scores[candidates] >= cut]
        iris = self.projection.resources[self.works[candidates]]
        order = np.lexsort((iris, -scores[candidates]))
        return candidates[order][:k].tolist()

    def without(self, target: int, instance_row: int) -> sparse.csr_matrix:
        """Work ``target``'s units without those only ``instance_row`` gives it (its other editions)."""
        rows = self.edition_rows[self.edition_start[target] : self.edition_start[target + 1]]
        others = rows[rows != instance_row]
        work_row = int(self.works[target])
        return sparse.vstack([self.R[work_row], self.R[others]]).max(axis=0).tocsr()

    def score_row(self, vector: sparse.csr_matrix, row: sparse.csr_matrix) -> float:
        """``vector``'s score for one work given as ``row`` (the formula of ``scores``)."""
        raw = (vector @ self.M @ row.T).toarray()[0, 0]
        return float(
            np.round(
                raw / math.sqrt(max(row.count_nonzero(), 1) * max(vector.count_nonzero(), 1)),
                DECIMALS,
            )
        )

    def work_units(self, work: int) -> dict[int, float]:
        """``W``'s row of ``work`` as {column: value}, kept (an update asks for the same ones often)."""
        found = self._work_units.get(work)
        if found is None:
            found = self._work_units[work] = self.row_units(self.W, work)
        return found

    def _linked(self, unit: int) -> list[tuple[int, float]]:
        """The units the hierarchy links to ``unit``, with the link's strength."""
        found = self._links.get(unit)
        if found is None:
            h = self.H
            part = slice(h.indptr[unit], h.indptr[unit + 1])
            found = self._links[unit] = list(
                zip(h.indices[part].tolist(), h.data[part].tolist(), strict=True)
            )
        return found

    def row_units(self, matrix: sparse.csr_matrix, row: int) -> dict[int, float]:
        """One row of ``matrix`` as {column: value} (without building a scipy row)."""
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        return dict(
            zip(matrix.indices[start:end].tolist(), matrix.data[start:end].tolist(), strict=True)
        )

    def reasons(
        self, seed: dict[int, float], target: int, row: dict[int, float] | None = None
    ) -> list[Reason]:
        """The units behind ``target``'s score for the ``seed`` units (``row``: its units, if not
        ``W``'s), strongest first."""
        if self._names is None:
            self._column_lists()
        names, weight, df = self._names, self._weights, self._dfs
        row = self.work_units(target) if row is None else row
        found: list[Reason] = []
        for unit, strength in row.items():
            if unit in seed:
                share = float(seed[unit] * strength * weight[unit])
                found.append(Reason(names[unit], weight[unit], share, df[unit], unit))
                continue
            for other, link in self._linked(unit):
                if other in seed:
                    share = float(
                        seed[other] * strength * link * math.sqrt(weight[unit] * weight[other])
                    )
                    found.append(
                        Reason(
                            names[unit],
                            weight[unit],
                            share,
                            df[unit],
                            unit,
                            via=names[other],
                            via_column=other,
                            link=link,
                        )
                    )
        found.sort(key=lambda r: (-r.share, r.unit, r.via or ""))  # a total order
        return found

    def reason_paths(
        self, seed: dict[int, float], target: int, limit: int = MAX_REASONS
    ) -> list[tuple[str, str | None]]:
        """The first ``limit`` of ``reasons`` as (unit, the seed's unit it was met through), in
        its order: what the derived graph states, made without the rest of each reason (an
        update explains tens of thousands of nodes, a full build every one)."""
        if self._names is None:
            self._column_lists()
        names, weight = self._names, self._weights
        found: list[tuple[float, str, str, str | None]] = []
        for unit, strength in self.work_units(target).items():
            if unit in seed:
                found.append((-float(seed[unit] * strength * weight[unit]), names[unit], "", None))
                continue
            for other, link in self._linked(unit):
                if other in seed:
                    share = float(
                        seed[other] * strength * link * math.sqrt(weight[unit] * weight[other])
                    )
                    found.append((-share, names[unit], names[other], names[other]))
        found.sort()  # the order of ``reasons``: share, then unit, then the unit met through
        return [(unit, via) for _share, unit, _key, via in found[:limit]]

    def relation(self, seed_unit: int, unit: int) -> str:
        """How ``unit`` stands to ``seed_unit``: ``broader``, ``narrower``, ``component`` or ``whole``."""
        if self._relations is None:
            p = self.projection
            self._relations = {
                (c, q): int(k)
                for c, q, k in zip(
                    p.hier_child.tolist(), p.hier_parent.tolist(), p.hier_kind.tolist(), strict=True
                )
            }
        up = self._relations.get((seed_unit, unit))
        if up is not None:
            return "broader" if up == BROADER else "component"
        return "narrower" if self._relations.get((unit, seed_unit)) == BROADER else "whole"

    def score_rows(self, works: Iterable[int]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Each work of ``works`` (ascending) with its scores: (work, the works it scores with, their
        scores), the nonzero part of its row of ``scores`` only.

        Row by row the same numbers whatever the batch (a sparse product computes each row of its
        result from the same row of its left operand alone), so a list computed again by an
        update equals the one a full build computes.
        """
        wanted = np.array(sorted(set(works)), dtype=np.int64)
        for batch in self._batches(wanted):
            block = self.W[batch]
            lengths = np.maximum(np.diff(block.indptr), 1)
            raw = (block @ self.M @ self.WT).tocsr()
            row_of = np.repeat(np.arange(len(batch)), np.diff(raw.indptr))
            scores = np.round(
                raw.data / np.sqrt(lengths[row_of] * self.length[raw.indices]), DECIMALS
            )
            for offset, source in enumerate(batch.tolist()):
                part = slice(raw.indptr[offset], raw.indptr[offset + 1])
                yield source, raw.indices[part], scores[part]

    def _batches(self, wanted: np.ndarray) -> Iterator[np.ndarray]:
        """``wanted`` cut into batches of at most ``BATCH`` works whose scores number at most
        ``SCORE_BUDGET`` (a work alone if it has more): the scores of a batch, and the arrays
        made from them, are its memory, and a work's count of scores grows with the collection
        (every user of its units, and of the units the hierarchy links them to). The bound per
        work is ``W``'s pattern times ``M``'s times the units' ``df``: the pairs the product
        sums, an upper bound of the works it reaches."""
        if self._reach is None:
            pattern = lambda matrix: matrix.astype(bool).astype(np.float64)  # noqa: E731
            self._reach = pattern(self.W) @ (pattern(self.M) @ self.df.astype(np.float64))
        cost = np.minimum(self._reach[wanted], SCORE_BUDGET)
        start = 0
        while start < len(wanted):
            # the first works after ``start`` whose costs add up to the budget, ``BATCH`` at most
            ends = np.cumsum(cost[start : start + BATCH])
            end = start + max(1, int(np.searchsorted(ends, SCORE_BUDGET, side="right")))
            yield wanted[start:end]
            start = end

    def forget_rows(self) -> None:
        """Drop the rows kept for explanations (``work_units``): a full build explains every
        work once as a source and many as targets, so kept they add up to all of ``W``
        as Python dicts (about 1 KB a work)."""
        self._work_units.clear()

    @staticmethod
    def best(source: int, works: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` best of one row of scores (score, then IRI: works are in IRI order), without
        ``source`` itself and without zeros (``top`` for a sparse row)."""
        keep = (scores > 0) & (works != source)
        works, scores = works[keep], scores[keep]
        if len(works) > k:
            cut = np.partition(scores, -k)[-k]
            works, scores = works[scores >= cut], scores[scores >= cut]
        order = np.lexsort((works, -scores))[:k]
        return list(zip(works[order].tolist(), scores[order].tolist(), strict=True))

    def lists(self, works: Iterable[int], k: int = TOP_K) -> dict[int, list[tuple[int, float]]]:
        """The top ``k`` works related to each of ``works`` (batched sparse products)."""
        return {s: self.best(s, found, scores, k) for s, found, scores in self.score_rows(works)}

    def relist(
        self,
        before: AssociationIndex,
        changed: set[str],
        hierarchy_units: set[str],
        k: int = TOP_K,
    ) -> Relisting:
        """The lists an update must compute again, computed: ``before``'s index holds the lists the
        derived graph holds (its projection's), this one the store now.

        Exact, not approximate. ``score(s, t)`` sums ``W[s, a] M[a, b] W[t, b]``; it
        can differ from before only if the row of ``s`` or ``t`` changed (a work
        read again) or an entry ``M[a, b]`` did, which takes a weight or a
        hierarchy link of ``a`` or ``b`` (the units ``U``). So every pair whose
        score changed has a work of ``A`` = (works whose row changed) ∪ (users of ``U``).
        The lists of ``A`` are computed again; so is the list of any other work
        that held a work of ``A`` (or one gone), and of any other work that a
        work of ``A`` now scores at or above the list's tenth (read from ``A``'s
        own rows: scores are symmetric; ``SYMMETRY_MARGIN`` covers the last bit
        that summing in another order may change). Every other list keeps its
        ten: their scores are unchanged and nothing new reaches their tenth.
        Units whose ``df`` stays between the same powers of two (``GRID_BITS``)
        keep their weight, so a new record on a subject of thousands of works
        leaves those works out of ``A``.
        """
        p, q = self.projection, before.projection
        change = self._change(before, changed, hierarchy_units)
        affected = change.users
        # the old lists, in this index's positions (-1: a work gone)
        to_new = positions(p.resources, q.resources)
        position_of = np.where(to_new >= 0, self.work_pos[np.maximum(to_new, 0)], -1)
        source, target = position_of[q.list_source], position_of[q.list_target]
        score = q.list_score
        vanished = (target < 0) | np.isin(target, np.array(sorted(affected), dtype=np.int64))
        held_changed = set(np.unique(source[vanished & (source >= 0)]).tolist())
        tenth = np.full(len(self.works), np.inf)
        counts = np.bincount(source[source >= 0], minlength=len(self.works))
        listed = source >= 0
        np.minimum.at(tenth, source[listed], score[listed])  # lists are in rank order: the last
        tenth[counts < k] = -np.inf  # a shorter list takes any work that scores at all
        computed: dict[int, list[tuple[int, float]]] = {}
        reached: set[int] = set()
        for work, works, scores in self.score_rows(affected):
            computed[work] = self.best(work, works, scores, k)
            reached.update(works[scores >= tenth[works] - SYMMETRY_MARGIN].tolist())
        more = (reached | held_changed) - affected
        computed.update(self.lists(more, k))
        # what the derived graph holds of the lists computed again, and of the sources gone
        wanted = np.isin(source, np.array(sorted(computed), dtype=np.int64)) | (source < 0)
        old: dict[int, list[tuple[int, str, float, int]]] = {}
        gone: dict[int, list[tuple[int, float]]] = {}
        for s, old_source, t, old_target, x in zip(
            source[wanted].tolist(),
            before.work_pos[q.list_source[wanted]].tolist(),
            target[wanted].tolist(),
            before.work_pos[q.list_target[wanted]].tolist(),
            score[wanted].tolist(),
            strict=True,
        ):
            if s < 0:
                gone.setdefault(old_source, []).append((old_target, x))
            else:
                old.setdefault(s, []).append((t, before.work_iri(old_target), x, old_target))
        # every list now: those kept (in this index's rows) and those computed
        keep = (source >= 0) & ~wanted
        new_sources = [s for s in sorted(computed) for _ in computed[s]]
        rows = np.concatenate(
            [self.works[source[keep]], self.works[np.array(new_sources, dtype=np.int64)]]
        )
        targets = np.concatenate(
            [
                self.works[target[keep]],
                self.works[
                    np.array([t for s in sorted(computed) for t, _ in computed[s]], dtype=np.int64)
                ],
            ]
        )
        scores_now = np.concatenate(
            [
                score[keep],
                np.array([x for s in sorted(computed) for _, x in computed[s]], dtype=np.float64),
            ]
        )
        order = np.argsort(rows, kind="stable")
        return Relisting(
            computed=computed,
            old=old,
            gone=gone,
            change=change,
            list_source=rows[order].astype(np.int32),
            list_target=targets[order].astype(np.int32),
            list_score=scores_now[order],
        )

    def _change(
        self, before: AssociationIndex, changed: set[str], hierarchy_units: set[str]
    ) -> Change:
        """The works whose row changed, the units (columns) whose weight or hierarchy changed,
        and ``A``.

        A work read again whose row of ``W`` is the one it had (the same units, used the same
        way: a new edition that adds no unit, a record graph written again the same) scores
        and is explained as before, so it is not counted as changed."""
        p, q = self.projection, before.projection
        rows = positions(p.resources, iri_array(sorted(changed)))
        # each column's counterpart before: a unit by its IRI, a Work's own column by its Work
        old_work = positions(q.resources[before.works], p.resources[self.works])
        old_column = np.concatenate(
            [positions(q.units, p.units), np.where(old_work >= 0, len(q.units) + old_work, -1)]
        )
        candidates = self.work_pos[rows[rows >= 0]]
        works = {
            w for w in candidates[candidates >= 0].tolist()
            if not self._same_row(before, w, old_work, old_column)
        }  # fmt: skip
        moved = (old_column < 0) | (before.weight[np.maximum(old_column, 0)] != self.weight)
        linked = positions(p.units, iri_array(sorted(hierarchy_units)))
        moved[self._link_ends(before)] = True
        units = np.flatnonzero(moved)
        users = set(np.unique(self.WT[units].indices).tolist()) if len(units) else set()
        was = positions(q.resources, p.resources[self.works])
        return Change(
            works=works,
            units=set(units.tolist()),
            users=works | users,
            before=np.where(was >= 0, before.work_pos[np.maximum(was, 0)], -1).tolist(),
            linked=set(linked[linked >= 0].tolist()),
        )

    def _link_ends(self, before: AssociationIndex) -> list[int]:
        """For each hierarchy link added or gone, the end with fewer users (its column).

        A link ``(a, b)`` changes ``M[a, b]``, so the score of a pair that uses ``a`` on one side
        and ``b`` on the other; every such pair has a user of ``a`` and a user of ``b``, so one
        end's users in ``A`` cover it (``relist`` finds the other side's lists from their rows,
        and ``same_pair`` looks at both sides). A new heading *X -- History* then puts the few
        users of *X -- History* in ``A``, not the thousands of users of *History*."""
        p, q = self.projection, before.projection

        def links(projection: Projection) -> set[tuple[bytes, bytes]]:
            units = projection.units
            return set(
                zip(
                    units[projection.hier_child].tolist(),
                    units[projection.hier_parent].tolist(),
                    strict=True,
                )
            )

        ends: list[int] = []
        for child, parent in sorted(links(p) ^ links(q)):
            columns = [c for c in (p.unit(child), p.unit(parent)) if c is not None]
            if len(columns) == 2:
                columns = [min(columns, key=lambda c: (int(self.df[c]), c))]
            ends += columns
        return ends

    def _same_row(
        self, before: AssociationIndex, work: int, old_work: np.ndarray, old_column: np.ndarray
    ) -> bool:
        """Whether ``work``'s row of ``W`` is, unit for unit, the one it had in ``before``."""
        then = int(old_work[work])
        if then < 0:
            return False
        part = slice(self.W.indptr[work], self.W.indptr[work + 1])
        columns = old_column[self.W.indices[part]]
        if (columns < 0).any():
            return False
        now = dict(zip(columns.tolist(), self.W.data[part].tolist(), strict=True))
        return now == self.row_units(before.W, then)

    def same_pair(self, change: Change, source: int, target: int) -> bool:
        """Whether ``source``'s association with ``target`` (score and explanation) is as it was:
        neither's row changed, and no unit whose weight or hierarchy changed takes part in it
        (one of theirs shared, or linked by the hierarchy to one of the other's)."""
        if source in change.works or target in change.works:
            return False
        if source not in change.users and target not in change.users:
            return True
        mine, theirs = self._units_of(source), self._units_of(target)
        h = self.H
        for own, other in ((mine, theirs), (theirs, mine)):
            for unit in change.units.intersection(own):
                if unit in other:
                    return False
                if any(n in other for n in h.indices[h.indptr[unit] : h.indptr[unit + 1]].tolist()):
                    return False
        return True

    def _units_of(self, work: int) -> set[int]:
        found = self._unit_sets.get(work)
        if found is None:
            found = set(self.W.indices[self.W.indptr[work] : self.W.indptr[work + 1]].tolist())
            self._unit_sets[work] = found
        return found


#: Below a list's tenth score, how far a work scored from its own side may still be at or above
#: it when scored from the list's side (the sums run in other orders; rounded to ``DECIMALS``).
SYMMETRY_MARGIN = 1e-8


@dataclass
class Change:
    """What an update changed, in an index's positions (``AssociationIndex.relist``)."""

    works: set[int]  # works whose row changed (read again, and not as they were)
    units: set[int]  # columns whose weight or hierarchy changed (``U``)
    users: set[int]  # ``A``: the works whose row changed and the users of ``U``
    before: list[int]  # each work's position in the index before (-1: a new work)
    linked: set[int]  # columns whose hierarchy changed


@dataclass
class Relisting:
    """The lists an update computed again, what the derived graph held of them, and every list now."""

    computed: dict[int, list[tuple[int, float]]]  # work -> [(work, score)], rank order
    #: work -> what its list held, in rank order: [(work or -1 if gone, its IRI, score, its
    #: position in the index before)]
    old: dict[int, list[tuple[int, str, float, int]]]
    #: a source no longer a work (its position before) -> what its list held [(position before,
    #: score)], in rank order
    gone: dict[int, list[tuple[int, float]]]
    change: Change
    list_source: np.ndarray  # every list now, as ``Projection.list_*``
    list_target: np.ndarray
    list_score: np.ndarray


@dataclass
class Reason:
    """One unit behind a result: shared with the seed, or met through the hierarchy (``via``)."""

    unit: str
    weight: float
    share: float
    works: int
    column: int = -1
    via: str | None = None
    via_column: int = -1
    link: float = 0.0  # the hierarchy's strength between the unit and ``via``
