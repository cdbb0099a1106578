"""What subject suggestion knows of the store: each Work's words, subjects, agents and series.

Built once per checkpoint from three SPARQL queries (``rq/suggest_work_*.rq``)
and kept in memory, because a suggestion compares a new record with every
Work and a query per request would be far too slow. The text index is a plain
inverted index (term -> works with their TF-IDF weights), written here rather
than borrowed from the seed search index so that suggestion works on any
store today; it can switch to that index once it exists.

Memory is bounded: at most ``max_works`` works are indexed (the rest are
left out, and ``truncated`` says so), each with at most ``MAX_TERMS_PER_WORK``
distinct terms from at most ``MAX_TEXT_CHARS`` characters of text, so the
postings never exceed ``max_works * MAX_TERMS_PER_WORK`` entries (about 100
bytes each in CPython: some 400 MB for 100,000 works, 8 MB for the 2,500
training works of bench/suggest.py).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pyoxigraph import Store

from ontology.errors import StoreError
from ontology.namespaces import PREFIXES

_RQ = Path(__file__).resolve().parent / "rq"

#: Works indexed, at most (see the module's docstring for the memory it costs).
MAX_WORKS = 200_000
#: Characters of one work's text that are read.
MAX_TEXT_CHARS = 20_000
#: Distinct terms kept per work (its most frequent ones).
MAX_TERMS_PER_WORK = 200
#: Terms in more than this share of the works say nothing about a subject.
MAX_DOCUMENT_FREQUENCY = 0.25

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@cache
def sparql(name: str) -> str:
    """The text of ``query/rq/{name}.rq``."""
    return (_RQ / f"{name}.rq").read_text(encoding="utf-8")


_LCC = re.compile(r"\s*([A-Z]{1,3})\s*(\d+)")
#: The class schemes whose numbers are read, by the local name of their bf: class.
CLASS_SCHEMES = {"ClassificationLcc": "lcc", "ClassificationNlm": "nlm", "ClassificationDdc": "ddc"}


def class_keys(scheme: str, portion: str) -> tuple[str, ...]:
    """A class number's keys, narrow then broad; () for a scheme or number not understood.

    >>> class_keys("lcc", "HG230.3")
    ('lcc:HG230', 'lcc:HG')
    >>> class_keys("ddc", "792/.0944/361")
    ('ddc:79209', 'ddc:792')
    >>> class_keys("lcc", "2403")
    ()
    """
    if scheme in ("lcc", "nlm"):
        found = _LCC.match(portion.upper())
        return (f"{scheme}:{found[1]}{found[2]}", f"{scheme}:{found[1]}") if found else ()
    if scheme == "ddc":
        digits = re.sub(r"[^0-9]", "", portion)
        return (f"ddc:{digits[:5]}", f"ddc:{digits[:3]}") if len(digits) >= 3 else ()
    return ()


def fold(text: str) -> str:
    """Case and diacritics folded, so "Élan" meets "elan".

    >>> fold("Élan Vital")
    'elan vital'
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stem(word: str) -> str:
    """A light plural strip, the same on both sides: "sisters" meets "sister"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The index terms of ``text``: folded, lightly stemmed words; CJK runs as character bigrams.

    >>> terms("Sisters' Courtship, 1813")
    ['sister', 'courtship', '1813']
    >>> terms("日本音楽")
    ['日本', '本音', '音楽']
    """
    out: list[str] = []
    for word in _WORD.findall(fold(text)):
        if _CJK.search(word):
            chars = [c for c in word if _CJK.match(c)]
            out.extend(a + b for a, b in zip(chars, chars[1:], strict=False))
            if len(chars) == 1:
                out.append(chars[0])
        elif len(word) > 1 or word.isdigit():
            out.append(_stem(word))
    return out


@dataclass
class SubjectIndex:
    """Works as numbered rows: their concepts, agents, series and text vectors."""

    base: str
    scheme: str | None
    works: list[str] = field(default_factory=list)
    work_ids: dict[str, int] = field(default_factory=dict)
    concepts: list[str] = field(default_factory=list)
    concept_ids: dict[str, int] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    #: work id -> its first title, to name it in a reason
    titles: dict[int, str] = field(default_factory=dict)
    #: agent or series IRI -> its label
    link_labels: dict[str, str] = field(default_factory=dict)
    #: concept id -> work ids (for co-occurrence)
    concept_work_ids: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    #: work id -> concept ids
    work_subjects: list[set[int]] = field(default_factory=list)
    #: concept id -> number of works that have it
    concept_works: Counter = field(default_factory=Counter)
    #: agent or series IRI -> work ids
    agent_works: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    series_works: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    #: class key (``class_keys``) -> work ids
    class_works: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    #: term -> [(work id, weight)], weights of unit-length TF-IDF vectors
    postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    #: term -> [(concept id, weight)]: each concept's text is the sum of its works' vectors
    concept_postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    #: folded label terms (a tuple) -> concept ids with that label
    label_terms: dict[tuple[str, ...], list[int]] = field(default_factory=lambda: defaultdict(list))
    #: folded term -> the label keys (of ``label_terms``) that hold it
    label_keys_by_term: dict[str, set[tuple[str, ...]]] = field(default_factory=lambda: defaultdict(set))
    longest_label: int = 1
    truncated: bool = False

    @property
    def work_count(self) -> int:
        return len(self.works)

    def _work(self, iri: str) -> int | None:
        found = self.work_ids.get(iri)
        if found is None and len(self.works) < MAX_WORKS:
            found = self.work_ids[iri] = len(self.works)
            self.works.append(iri)
            self.work_subjects.append(set())
        elif found is None:
            self.truncated = True
        return found

    def _concept(self, iri: str, label: str) -> int:
        found = self.concept_ids.get(iri)
        if found is None:
            found = self.concept_ids[iri] = len(self.concepts)
            self.concepts.append(iri)
            self.labels.append(label)
            key = tuple(terms(label))
            if key:
                self.label_terms[key].append(found)
                for term in key:
                    self.label_keys_by_term[term].add(key)
                self.longest_label = max(self.longest_label, len(key))
        return found

    def vector(self, text: str) -> dict[str, float]:
        """The unit-length TF-IDF vector of ``text`` over this index's vocabulary."""
        counts = Counter(t for t in terms(text[:MAX_TEXT_CHARS]) if t in self.idf)
        weights = {t: (1 + math.log(n)) * self.idf[t] for t, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {t: w / norm for t, w in weights.items()}

    def similar_works(self, text: str, limit: int, exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        """The ``limit`` works whose text is nearest ``text`` (cosine), best first."""
        scores: dict[int, float] = defaultdict(float)
        for term, weight in self.vector(text).items():
            for work, work_weight in self.postings.get(term, ()):
                scores[work] += weight * work_weight
        for work in exclude:
            scores.pop(work, None)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]

    def similar_concepts(self, text: str, limit: int) -> list[tuple[int, float]]:
        """The ``limit`` concepts whose works' words are nearest ``text`` (cosine), best first."""
        scores: dict[int, float] = defaultdict(float)
        for term, weight in self.vector(text).items():
            for concept, concept_weight in self.concept_postings.get(term, ()):
                scores[concept] += weight * concept_weight
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]


def build_subject_index(store: Store, base: str, scheme: str | None = None) -> SubjectIndex:
    """Read every Work's subjects, agents, series and text from ``store`` (a checkpoint).

    ``scheme``: only concepts of this ``skos:inScheme`` are suggested (e.g.
    ``http://id.loc.gov/authorities/subjects``); ``None`` takes every scheme.
    Only works with at least one such subject are indexed: the others have
    nothing to vote for.
    """
    index = SubjectIndex(base=base, scheme=scheme)
    for row in _rows(store, "suggest_work_subjects"):
        if scheme is not None and (row["scheme"] is None or row["scheme"].value != scheme):
            continue
        work = index._work(row["work"].value)
        if work is not None:
            concept = index._concept(row["concept"].value, row["label"].value)
            if concept not in index.work_subjects[work]:
                index.work_subjects[work].add(concept)
                index.concept_works[concept] += 1
                index.concept_work_ids[concept].append(work)
    for row in _rows(store, "suggest_work_links"):
        work = index.work_ids.get(row["work"].value)
        if work is not None:
            table = index.agent_works if row["kind"].value == "agent" else index.series_works
            table[row["node"].value].add(work)
            if row["label"] is not None:
                index.link_labels.setdefault(row["node"].value, row["label"].value)
    for row in _rows(store, "suggest_work_classes"):
        work = index.work_ids.get(row["work"].value)
        scheme = CLASS_SCHEMES.get(row["kind"].value.rsplit("/", 1)[-1])
        if work is not None and scheme is not None:
            for key in class_keys(scheme, row["portion"].value):
                index.class_works[key].add(work)
    texts: dict[int, list[str]] = defaultdict(list)
    sizes: Counter = Counter()
    for row in _rows(store, "suggest_work_texts"):
        work = index.work_ids.get(row["work"].value)
        if work is not None and row["kind"].value == "title" and work not in index.titles:
            index.titles[work] = row["text"].value
        if work is not None and sizes[work] < MAX_TEXT_CHARS:
            texts[work].append(row["text"].value)
            sizes[work] += len(row["text"].value) + 1
    _index_texts(index, texts)
    return index


def _index_texts(index: SubjectIndex, texts: dict[int, list[str]]) -> None:
    counts = {
        work: Counter(terms("\n".join(parts)[:MAX_TEXT_CHARS])).most_common(MAX_TERMS_PER_WORK)
        for work, parts in texts.items()
    }
    frequency: Counter = Counter(term for pairs in counts.values() for term, _ in pairs)
    total = max(len(counts), 1)
    index.idf = {
        term: math.log((1 + total) / (1 + n)) + 1.0
        for term, n in frequency.items()
        if n <= max(1, MAX_DOCUMENT_FREQUENCY * total)
    }
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for work, pairs in counts.items():
        weights = {t: (1 + math.log(n)) * index.idf[t] for t, n in pairs if t in index.idf}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        for term, weight in weights.items():
            postings[term].append((work, weight / norm))
    index.postings = dict(postings)
    vectors: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for term, pairs in index.postings.items():
        for work, weight in pairs:
            for concept in index.work_subjects[work]:
                vectors[concept][term] += weight
    concept_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for concept, vector in vectors.items():
        top = sorted(vector.items(), key=lambda item: -item[1])[:MAX_TERMS_PER_WORK]
        norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
        for term, weight in top:
            concept_postings[term].append((concept, weight / norm))
    index.concept_postings = dict(concept_postings)


def _rows(store: Store, name: str):
    try:
        yield from store.query(sparql(name), prefixes=PREFIXES, use_default_graph_as_union=True)
    except OSError as exc:
        raise StoreError(f"the store could not be read: {exc}") from exc
