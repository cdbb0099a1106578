"""Subject suggestion for catalogers: concepts for a record that has none, each with its reason.

A bag of words only knows which words went with which headings. The graph
knows more: the same Work's other editions and translations already have
subjects, an author or a performer's other works are mostly about the same
things, a series gathers one topic, and headings come in company. So a
suggestion here is a vote of several kinds of evidence about each candidate
concept (``FEATURES``):

- ``knn``: the share of the most similar works (TF-IDF cosine over titles
  and notes, ``query.subject_index``) that have it, weighted by similarity;
- ``centroid``: the cosine of the text with all the words of the works that
  have the concept (what Annif's ``tfidf`` backend does alone);
- ``words``: the share of the label's words (weighted by rarity) that the
  text contains, when at least half of them;
- ``work``: the record's own Work (other editions, translations) has it;
- ``agent`` / ``series``: the share of the works of the record's agents or
  series that have it (the best agent, and the best series);
- ``class`` / ``broad_class``: the share of the works filed under the
  record's class number (LCC ``HG230``, DDC ``792.09``), or its broad class
  (``HG``, ``792``), that have it;
- ``label``: its label is written in the record's title (1) or notes (0.6);
- ``cooc``: it is often given together with the strongest other candidates;
- ``prior``: how common it is (a log share of the works).

The vote is a weighted sum; its weights and the logistic calibration that
turns it into a probability-like score were fitted on training data only
(``bench/suggest.py``, which prints them: a held-out fifth of the training
records scored against a store of the other four fifths). The reason names
the evidence that counted most, in words.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from query.subject_index import SubjectIndex, class_keys, terms

FEATURES: tuple[str, ...] = ("knn", "centroid", "words", "work", "agent", "series", "class", "broad_class", "label", "cooc", "prior")
#: The ``Weights`` field of a feature whose name is a Python keyword.
FEATURE_FIELDS = {"class": "class_"}
#: Similar works that vote.
NEIGHBOURS = 25
#: A neighbour's vote is its similarity to this power (over the sum of them all).
KNN_POWER = 1.0
#: Concepts nearest the text by ``centroid`` that become candidates.
CENTROID_CANDIDATES = 30
#: Works of one agent or series read, at most (a prolific agent is sampled, not read whole).
MAX_LINKED_WORKS = 500
#: Agents, series or class numbers of one record read, at most.
MAX_LINKS = 50
#: First-stage candidates whose company is counted for ``cooc``.
COOC_SEEDS = 8
#: Characters of query text read, at most.
MAX_QUERY_CHARS = 20_000
#: Suggestions returned, at most.
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Weights:
    """The weight of each feature and the calibration ``1 / (1 + exp(-(slope * sum + intercept)))``."""

    knn: float = 1.0
    centroid: float = 0.5
    words: float = 0.2
    work: float = 1.0
    agent: float = 0.5
    series: float = 0.3
    # "class" is a keyword: the field is class_, read through FEATURE_FIELDS
    class_: float = 0.5
    broad_class: float = 0.2
    label: float = 0.5
    cooc: float = 0.3
    prior: float = 0.1
    slope: float = 4.0
    intercept: float = -3.0

    def weight(self, feature: str) -> float:
        return getattr(self, FEATURE_FIELDS.get(feature, feature))

    def combine(self, values: dict[str, float]) -> float:
        return sum(self.weight(name) * values.get(name, 0.0) for name in FEATURES)

    def calibrate(self, combined: float) -> float:
        return 1.0 / (1.0 + math.exp(-(self.slope * combined + self.intercept)))


#: Fitted by ``bench/suggest.py`` on training records only (its "fitted:" line; see
#: docs/benchmarks.md): the calibration store of four fifths of the training records,
#: scored on the fifth held out. Zero weights are features that did not help there.
DEFAULT_WEIGHTS = Weights(
    knn=1.0, centroid=0.0, words=0.2, work=1.0, agent=0.75, series=6.0, class_=1.5,
    broad_class=2.0, label=0.1, cooc=0.0, prior=0.3, slope=1.7041, intercept=-4.2147,
)


@dataclass(frozen=True, slots=True)
class SubjectQuery:
    """A record without subjects: its words and, when known, its Work, agents and series IRIs."""

    title: str = ""
    summary: str = ""
    notes: tuple[str, ...] = ()
    works: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    series: tuple[str, ...] = ()
    #: (scheme, class number): ``("lcc", "HG230.3")``; schemes as in ``subject_index.class_keys``
    classes: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(p for p in (self.title, self.summary, *self.notes) if p)[:MAX_QUERY_CHARS]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggested concept: its IRI, label, score in [0, 1], reason and the evidence behind it."""

    iri: str
    label: str
    score: float
    reason: str
    evidence: dict[str, float] = field(default_factory=dict)


@dataclass
class _Context:
    """What the features were computed from, to write the reasons."""

    neighbours: list[tuple[int, float]]
    best_agent: dict[int, tuple[str, int, int]]  # concept -> (agent IRI, works with it, works)
    best_series: dict[int, tuple[str, int, int]]
    best_class: dict[int, tuple[str, int, int]]
    cooc_with: dict[int, int]  # concept -> the seed concept it goes with


def suggest(
    index: SubjectIndex, query: SubjectQuery, limit: int = 10, weights: Weights = DEFAULT_WEIGHTS
) -> list[Suggestion]:
    """The ``limit`` best concepts for ``query``, best first.

    >>> from query.subject_index import SubjectIndex
    >>> suggest(SubjectIndex(base="http://e.org/", scheme=None), SubjectQuery(title="Jazz"))
    []
    """
    limit = max(1, min(limit, MAX_LIMIT))
    values, context = candidate_features(index, query, weights)
    ranked = sorted(
        ((weights.combine(v), c) for c, v in values.items()), key=lambda item: (-item[0], item[1])
    )
    return [
        Suggestion(
            iri=index.concepts[concept],
            label=index.labels[concept],
            score=round(weights.calibrate(combined), 4),
            reason=_reason(index, concept, values[concept], context, weights),
            evidence={k: round(v, 4) for k, v in values[concept].items() if v},
        )
        for combined, concept in ranked[:limit]
    ]


def candidate_features(
    index: SubjectIndex, query: SubjectQuery, weights: Weights = DEFAULT_WEIGHTS
) -> tuple[dict[int, dict[str, float]], _Context]:
    """Every candidate concept with the value of each feature (``FEATURES``)."""
    values: dict[int, dict[str, float]] = defaultdict(dict)
    text = query.text
    neighbours = index.similar_works(text, NEIGHBOURS) if text else []
    total = sum(s**KNN_POWER for _, s in neighbours)
    for work, similarity in neighbours:
        for concept in index.work_subjects[work]:
            entry = values[concept]
            entry["knn"] = entry.get("knn", 0.0) + similarity**KNN_POWER / total
    for concept, similarity in index.similar_concepts(text, CENTROID_CANDIDATES) if text else []:
        values[concept]["centroid"] = similarity
    for iri in query.works:
        work = index.work_ids.get(iri)
        if work is not None:
            for concept in index.work_subjects[work]:
                values[concept]["work"] = 1.0
    best_agent = _linked(index, index.agent_works, query.agents, values, "agent")
    best_series = _linked(index, index.series_works, query.series, values, "series")
    keys = [class_keys(scheme, number) for scheme, number in query.classes]
    best_class = _linked(index, index.class_works, [k[0] for k in keys if k], values, "class")
    _linked(index, index.class_works, [k[1] for k in keys if k], values, "broad_class")
    _label_matches(index, query, values)
    _label_words(index, text, values)
    cooc_with = _company(index, values, weights)
    most = max(index.concept_works.values(), default=1)
    for concept, entry in values.items():
        entry["prior"] = math.log1p(index.concept_works[concept]) / math.log1p(most)
    return values, _Context(neighbours, best_agent, best_series, best_class, cooc_with)


def _linked(
    index: SubjectIndex,
    table: dict[str, set[int]],
    iris: Iterable[str],
    values: dict[int, dict[str, float]],
    name: str,
) -> dict[int, tuple[str, int, int]]:
    """For each concept, the agent (or series) whose works have it most often, smoothed by one."""
    best: dict[int, tuple[str, int, int]] = {}
    for iri in list(iris)[:MAX_LINKS]:
        works = sorted(table.get(iri, ()))[:MAX_LINKED_WORKS]
        if not works:
            continue
        counts = Counter(c for w in works for c in index.work_subjects[w])
        for concept, count in counts.items():
            share = count / (len(works) + 1)
            if share > values[concept].get(name, 0.0):
                values[concept][name] = share
                best[concept] = (iri, count, len(works))
    return best


def _label_matches(index: SubjectIndex, query: SubjectQuery, values: dict[int, dict[str, float]]) -> None:
    """Concepts whose whole label is written in the title (1.0) or elsewhere in the text (0.6)."""
    for part, strength in ((query.title, 1.0), ("\n".join((query.summary, *query.notes)), 0.6)):
        words = terms(part[:MAX_QUERY_CHARS])
        for size in range(1, min(index.longest_label, len(words)) + 1):
            for start in range(len(words) - size + 1):
                for concept in index.label_terms.get(tuple(words[start : start + size]), ()):
                    if strength > values[concept].get("label", 0.0):
                        values[concept]["label"] = strength


def _label_words(index: SubjectIndex, text: str, values: dict[int, dict[str, float]]) -> None:
    """``words``: the rarity-weighted share of a label's words in the text, when half or more."""
    present = set(terms(text))
    if not present:
        return
    seen: set[int] = set()
    keys = {key for term in present for key in index.label_keys_by_term.get(term, ())}
    for key in sorted(keys):
        concepts = index.label_terms[key]
        weight = [index.idf.get(t, 1.0) for t in key]
        share = sum(w for t, w in zip(key, weight, strict=True) if t in present) / sum(weight)
        if share >= 0.5:
            for concept in concepts:
                if concept not in seen:
                    seen.add(concept)
                    values[concept]["words"] = share


def _company(index: SubjectIndex, values: dict[int, dict[str, float]], weights: Weights) -> dict[int, int]:
    """``cooc``: P(concept | seed) summed over the strongest first-stage candidates, by their strength."""
    first = sorted(values, key=lambda c: -weights.combine(values[c]))[:COOC_SEEDS]
    strength = {c: weights.combine(values[c]) for c in first}
    top = max(strength.values(), default=0.0) or 1.0
    cooc_with: dict[int, int] = {}
    best: dict[int, float] = {}
    for seed in first:
        works = index.concept_work_ids.get(seed, [])[:MAX_LINKED_WORKS]
        if not works:
            continue
        together = Counter(c for w in works for c in index.work_subjects[w] if c != seed)
        for concept, count in together.items():
            part = strength[seed] / top * count / len(works)
            values[concept]["cooc"] = values[concept].get("cooc", 0.0) + part
            if part > best.get(concept, 0.0):
                best[concept], cooc_with[concept] = part, seed
    return cooc_with


def _reason(
    index: SubjectIndex, concept: int, values: dict[str, float], context: _Context, weights: Weights
) -> str:
    """The evidence that counted most, in words, strongest first (at most three pieces)."""
    parts: list[tuple[float, str]] = []
    if values.get("work"):
        parts.append((weights.work, "other editions of the same work have it"))
    if values.get("knn"):
        having = [w for w, _ in context.neighbours if concept in index.work_subjects[w]]
        example = index.titles.get(having[0], "") if having else ""
        example = f' (e.g. "{_short(example)}")' if example else ""
        parts.append((
            weights.knn * values["knn"],
            f"{len(having)} of the {len(context.neighbours)} most similar works have it{example}",
        ))
    for name, table, noun in (
        ("agent", context.best_agent, "works of"),
        ("series", context.best_series, "works in the series"),
        ("class", context.best_class, "works filed under"),
    ):
        if values.get(name) and concept in table:
            iri, count, total = table[concept]
            label = index.link_labels.get(iri, iri.split(":", 1)[-1] if name == "class" else iri)
            parts.append((weights.weight(name) * values[name], f"{count} of {total} {noun} {label} have it"))
    if values.get("label"):
        where = "title" if values["label"] >= 1.0 else "notes"
        parts.append((weights.label * values["label"], f"its label is in the {where}"))
    if values.get("words"):
        parts.append((weights.words * values["words"], "most of its label's words are in the text"))
    if values.get("centroid"):
        parts.append((weights.centroid * values["centroid"], "the words of its works are close to the text's"))
    if values.get("prior"):
        count = index.concept_works[concept]
        parts.append((weights.prior * values["prior"], f"common here ({count} {'work has' if count == 1 else 'works have'} it)"))
    if values.get("cooc") and concept in context.cooc_with:
        partner = index.labels[context.cooc_with[concept]]
        parts.append((weights.cooc * values["cooc"], f"often given with {partner}"))
    parts.sort(key=lambda p: -p[0])
    return "; ".join(text for _, text in parts[:3]) or "a common subject of this catalogue"


def _short(text: str, size: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"
