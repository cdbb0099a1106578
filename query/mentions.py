"""Which knowledge units a work's abstracts and contents notes mention, by their labels.

A spaCy pipeline with no trained parts (``spacy.blank("xx")``, the
multi-language tokenizer: no official trained model installs from the package
registries, and an unofficial re-upload is never used; ``model`` takes the name
of an installed trained pipeline instead) and phrase tables of its tokens
(``PhraseTable``: what spaCy's ``PhraseMatcher`` finds, in a tenth of its memory) built from
every label of the store's concepts (``rdfs:label``, ``skos:prefLabel``,
``skos:altLabel``, all languages), agents and places (``rdfs:label``),
read by ``rq/mention_labels.rq`` through ``query.subject_index``'s reader.

Why a phrase matcher and not a statistical linker: the labels are the
catalog's own authority data, so an exact (tokenised) match is explainable,
and the only errors left are labels that are also ordinary words; the guards
of ``usable_label`` and the case rules of ``case_sensitive`` are where those
are stopped, and ``tests/data/mentions/precision.tsv`` measures what gets
through.

Chinese and Japanese have no spaces between words: every CJK character is
made a token of its own (``segment``) on both sides, so a label of n
characters matches as a character n-gram wherever it occurs. Chosen over
spaCy's Chinese tokenizer with jieba because it needs no extra package and
never splits a label across a word boundary the segmenter chose differently
(jieba's ``音乐史`` would hide the label ``音乐``); the price is that a short
label can match inside a longer word, so CJK labels need two characters.

Bounded: at most ``MAX_TEXT_CHARS`` characters of a work's text are read, at
most ``MAX_LABEL_TOKENS`` tokens per label, and at most ``MAX_LABELS`` labels in
``build_matcher`` (the precision test's and the bench's matcher of a whole
store). A refresh (``web.mentions_refresh``) never builds that one: it keeps
each label's patterns on disk (``label_patterns``, ``graph.mention_state``) and
matches a chunk of works against those whose first token occurs in it
(``pattern_matcher``), reading units and works one at a time by pattern
(``unit_labels``, ``work_texts``), or, in a full refresh, every unit's labels
by pages of a query (``unit_labels_page``). A label is tokenized by spaCy only
where a plain test cannot decide its words (``plain_tokens``, ``label_words``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from string import Template

from pyoxigraph import Literal, NamedNode, Store, Variable

from graph.mention_graph import mentions_graph
from ontology.layout import Layout
from ontology.namespaces import BF, CG, OWL, PREFIXES, RDF, RDFS, SKOS
from query.subject_index import _rows, sparql

#: Characters of one work's texts (all fields together) that are matched.
MAX_TEXT_CHARS = 20_000
#: Tokens of a label, at most (longer labels are headings no prose repeats).
MAX_LABEL_TOKENS = 12
#: Distinct labels in one matcher, at most (some 100 bytes of patterns each).
MAX_LABELS = 2_000_000
#: Letters (or digits) a non-CJK label needs; shorter ones ("Ga", "UK"
#: aside, see ``case_sensitive``) match ordinary words and initials.
MIN_LETTERS = 3
#: Characters a CJK label needs: one character is a word fragment.
MIN_CJK_CHARS = 2

_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])")
_TRAILING = re.compile(r"[\s.,;:/=\]\[]+$")
#: "Armstrong, Louis, 1901-1971" -> family "Armstrong", given "Louis".
_INVERTED_NAME = re.compile(r"^([^,()]+), ([^,()\d]+?)(?:,.*)?$")
_DATES = re.compile(r",?\s*(?:\d{3,4}\??-?(?:\d{3,4}\??)?|b\. \d+|d\. \d+|fl\. .*)\.?$")

#: Labels that are function words or filler in the languages of the sample:
#: a vocabulary that has them as concepts (a heading "The") is wrong, and the
#: mentions they would make are noise.
_STOP_WORDS = """the and for with from this that these those which their there here about into over
    under between among other others also such than then they them some many more most
    les des une dans pour avec sur par der die das und mit von den dem ein eine
    los las del por para con una uno che per gli
    introduction conclusion summary abstract contents chapter part volume index appendix
    preface results methods method background study studies data paper article analysis
    review case cases new general information literature"""
STOP_LABELS = frozenset(_STOP_WORDS.split())


def segment(text: str) -> str:
    """``text`` with a space between every two CJK characters, so each is a token
    (runs of white space become one space: only tokens matter here).

    >>> segment("日本音楽 and  jazz")
    '日 本 音 楽 and jazz'
    """
    return " ".join(_CJK.sub(r" \1 ", text).split())


def _letters(label: str) -> int:
    return sum(1 for c in label if c.isalnum())


def clean_label(label: str) -> str:
    """A label as prose would write it: NFC, single spaces, no trailing MARC punctuation.

    >>> clean_label("Music --  History.")
    'Music -- History'
    """
    text = " ".join(unicodedata.normalize("NFC", label).split())
    return _TRAILING.sub("", text)


def usable_label(label: str) -> bool:
    """Whether a (cleaned) label may become a pattern: long enough, not a number, not a stop word.

    >>> [usable_label(x) for x in ("Music", "Ga", "1984", "The", "音乐", "音", "X-rays", "AI")]
    [True, False, False, False, True, False, True, False]
    """
    if not label or not any(c.isalpha() for c in label):
        return False
    cjk = len(_CJK.findall(label))
    if cjk:
        return cjk >= MIN_CJK_CHARS or _letters(label) - cjk >= MIN_LETTERS
    if _letters(label) < MIN_LETTERS:
        return False
    return label.casefold() not in STOP_LABELS


def case_sensitive(label: str, kind: str) -> bool:
    """Whether a label matches only with its own case.

    Names (agents, places) are matched as written: "Bath" the city is not
    "bath", "Nature" the publisher is not "nature". So are acronyms and short
    labels ("AIDS" is not "aids", "Iron" the place is not "iron"); other
    concept labels ("Music", "Jazz") match in any case, as headings
    capitalise what prose does not.

    >>> case_sensitive("Music", "concept"), case_sensitive("AIDS", "concept")
    (False, True)
    >>> case_sensitive("Berlin", "place"), case_sensitive("Cell", "concept")
    (True, True)
    """
    if kind != "concept":
        return True
    letters = [c for c in label if c.isalpha()]
    return len(letters) <= 4 or (len(letters) > 1 and all(c.isupper() for c in letters))


def label_variants(label: str, kind: str) -> list[str]:
    """The forms of a label that prose uses: itself, and for an inverted personal name
    without its dates, the name in reading order.

    >>> label_variants("Armstrong, Louis, 1901-1971", "agent")
    ['Armstrong, Louis, 1901-1971', 'Louis Armstrong']
    >>> label_variants("Music.", "concept")
    ['Music']
    """
    text = clean_label(label)
    out = [text] if text else []
    if kind == "agent":
        found = _INVERTED_NAME.match(_DATES.sub("", text))
        if found:
            given, family = found[2].strip(), found[1].strip()
            if given and family:
                out.append(f"{given} {family}")
    return out


@dataclass(frozen=True, slots=True)
class Mention:
    """One unit mentioned in one field of a work's texts, ``count`` times."""

    unit: str
    field: str
    count: int


class PhraseTable:
    """Token sequences and the matcher keys they stand for, found in a token list.

    What spaCy's ``PhraseMatcher`` does with ``attr="ORTH"`` or ``"LOWER"``
    (every occurrence of every phrase, overlapping ones included), in a
    plain dict: measured on the x10 benchmark store (26,784 label forms),
    spaCy's matcher took 108 MB of a refresh's resident memory, this table a
    few MB, for the same matches.
    """

    def __init__(self) -> None:
        self._keys: dict[tuple[str, ...], list[int]] = {}
        #: first token -> the lengths of the phrases that start with it, longest first
        self._lengths: dict[str, list[int]] = {}

    def add(self, key: int, tokens: tuple[str, ...]) -> None:
        if not tokens:
            return
        self._keys.setdefault(tokens, []).append(key)
        lengths = self._lengths.setdefault(tokens[0], [])
        if len(tokens) not in lengths:
            lengths.append(len(tokens))
            lengths.sort(reverse=True)

    def __len__(self) -> int:
        return len(self._keys)

    def __call__(self, tokens: list[str]) -> Iterator[tuple[int, int, int]]:
        """``(key, start, end)`` of every phrase in ``tokens``.

        >>> table = PhraseTable()
        >>> table.add(1, ("new", "york")); table.add(2, ("york",))
        >>> list(table(["in", "new", "york"])), list(table(["new"]))
        ([(1, 1, 3), (2, 2, 3)], [])
        """
        keys, lengths, count = self._keys, self._lengths, len(tokens)
        for start, token in enumerate(tokens):
            for size in lengths.get(token, ()):
                if start + size > count:
                    continue
                for key in keys.get(tuple(tokens[start : start + size]), ()):
                    yield key, start, start + size


@dataclass
class MentionMatcher:
    """The labels of a store as two phrase tables: one per case rule (``case_sensitive``)."""

    nlp: object
    #: forms matched as written (a token's text), and casefolded forms (a token's ``lower_``)
    exact: PhraseTable
    folded: PhraseTable
    #: matcher key -> the units the label names (one label can name several)
    units: dict[int, tuple[str, ...]] = field(default_factory=dict)
    labels: int = 0
    skipped: int = 0

    def mentions(self, texts: Iterable[tuple[str, str]]) -> list[Mention]:
        """The mentions in one work's ``(field, text)`` pairs, counted per unit and field.

        Overlapping matches keep the longest ("New York Public Library" is not
        also "New York"); a span that is the label of several units counts
        for each.
        """
        return self.mentions_in(text_docs(self.nlp, texts))

    def mentions_in(self, docs: Iterable[tuple[str, object]]) -> list[Mention]:
        """``mentions`` of texts already tokenized (``text_docs``)."""
        counts: Counter = Counter()
        for field_name, _, key in self.matches_in(docs):
            for unit in self.units[key]:
                counts[(unit, field_name)] += 1
        return [Mention(unit, f, n) for (unit, f), n in sorted(counts.items())]

    def matches(self, texts: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str, int]]:
        """``(field, matched text, matcher key)`` of every kept match, in text order."""
        return self.matches_in(text_docs(self.nlp, texts))

    def matches_in(self, docs: Iterable[tuple[str, object]]) -> Iterator[tuple[str, str, int]]:
        for field_name, doc in docs:
            spans = [_Span(key, start, end) for key, start, end in self.exact([t.text for t in doc])]
            spans += [
                _Span(key, start, end)
                for key, start, end in self.folded([t.lower_ for t in doc])
                if not inside_name(doc, start)
            ]
            for span in sorted(_longest(spans), key=lambda s: (s.start, s.key)):
                yield field_name, doc[span.start : span.end].text, span.key

    def form(self, key: int) -> str:
        """The label a matcher key stands for (as matched: folded unless case-sensitive)."""
        return self.nlp.vocab.strings[key][1:]


#: Words that join the parts of a name ("Department *of* Health", "Stories *for the* Heart").
NAME_JOINERS = frozenset(["of", "for", "the", "and", "&", "de", "des", "du", "la", "le", "der", "die", "das", "für", "von", "y", "e", "et"])


def inside_name(doc, start: int) -> bool:  # noqa: ANN001 - a spaCy Doc
    """Whether the token at ``start``, written with a capital, continues a capitalised name
    through joining words: "Health" in "Department of Health", "Heart" in "Stories for the
    Heart". A concept's label matched there (in any case, as concept labels are) is a word
    of that name, not a mention of the concept; names of agents and places are matched as
    written, and are not asked. A capital after a plain word ("Korean War", "into Cancer")
    or at the start of the text is not enough.

    >>> import spacy
    >>> nlp = spacy.blank("xx")
    >>> doc = nlp.make_doc("the Department of Health and the health of women")
    >>> inside_name(doc, 3), inside_name(doc, 6)
    (True, False)
    >>> inside_name(nlp.make_doc("Stories for the Heart, the Korean War"), 3)
    True
    >>> inside_name(nlp.make_doc("the Korean War"), 2)
    False
    """
    if not doc[start].text[:1].isupper():
        return False
    i = start - 1
    while i >= 0 and doc[i].lower_ in NAME_JOINERS:
        i -= 1
    return i >= 0 and i < start - 1 and doc[i].text[:1].isupper() and doc[i].is_alpha


@dataclass(frozen=True, slots=True)
class _Span:
    key: int
    start: int
    end: int


def _longest(spans: list[_Span]) -> Iterator[_Span]:
    """Spans that no longer span overlaps, longest first then leftmost (as ``filter_spans``),
    every key of an identical span kept."""
    taken: set[int] = set()
    ordered = sorted(spans, key=lambda s: (-(s.end - s.start), s.start, s.key))
    chosen: dict[tuple[int, int], bool] = {}
    for span in ordered:
        where = (span.start, span.end)
        if where in chosen:
            if chosen[where]:
                yield span
            continue
        free = not any(i in taken for i in range(span.start, span.end))
        chosen[where] = free
        if free:
            taken.update(range(span.start, span.end))
            yield span


def blank_pipeline(model: str | None = None):
    """A tokenizer-only spaCy pipeline (``spacy.blank("xx")``), or the installed pipeline ``model``."""
    import spacy

    if model:
        return spacy.load(model, exclude=["parser", "ner", "lemmatizer", "textcat"])
    return spacy.blank("xx")


def label_forms(label: str, kind: str) -> tuple[list[tuple[str, bool]], int]:
    """The patterns one label gives, as ``(form, exact)`` (``exact``: matched only with its
    own case; a folded form is casefolded), and how many of its variants were refused.

    >>> label_forms("Armstrong, Louis, 1901-1971", "agent")
    ([('Armstrong, Louis, 1901-1971', True), ('Louis Armstrong', True)], 0)
    >>> label_forms("Music.", "concept"), label_forms("The", "concept")
    (([('music', False)], 0), ([], 1))
    """
    forms, refused = [], 0
    for form in label_variants(label, kind):
        if not usable_label(form):
            refused += 1
            continue
        exact = case_sensitive(form, kind)
        forms.append((form if exact else form.casefold(), exact))
    return forms, refused


def squashed(text: str, exact: bool) -> str:
    """``text`` without white space (and lower-cased unless ``exact``): a label can match a
    text only if its squashed form is a substring of the text's, since tokens cover every
    character but white space. A cheap test that needs no tokenizer.

    >>> squashed("New  York,\\nNY", exact=False)
    'newyork,ny'
    """
    text = "".join(text.split())
    return text if exact else text.lower()


def may_mention(texts: Iterable[tuple[str, str]], forms: Iterable[tuple[str, bool]]) -> bool:
    """Whether any of ``forms`` (``label_forms``) can match in a work's ``(field, text)`` pairs.

    >>> may_mention([("summary", "Letters from New\\nYork")], [("new york", False)])
    True
    >>> may_mention([("summary", "Letters from York")], [("New York", True)])
    False
    """
    whole = " ".join(text for _, text in texts)
    exact_text, folded_text = squashed(whole, True), squashed(whole, False)
    return any(
        squashed(form, exact) in (exact_text if exact else folded_text) for form, exact in forms
    )


def build_matcher(labels: Iterable[tuple[str, str, str]], model: str | None = None) -> MentionMatcher:
    """A matcher of ``(unit, kind, label)`` rows (``read_labels``), guarded by ``usable_label``."""
    nlp = blank_pipeline(model)
    by_form: dict[tuple[str, bool], set[str]] = defaultdict(set)
    skipped = 0
    for unit, kind, label in labels:
        forms, refused = label_forms(label, kind)
        skipped += refused
        for key in forms:
            if key not in by_form and len(by_form) >= MAX_LABELS:
                skipped += 1
                continue
            by_form[key].add(unit)
    matcher = MentionMatcher(nlp, PhraseTable(), PhraseTable())
    forms = sorted(by_form)
    for (form, exact), doc in zip(forms, nlp.tokenizer.pipe(segment(f) for f, _ in forms), strict=True):
        if len(doc) > MAX_LABEL_TOKENS:
            skipped += 1
            continue
        name = f"{'=' if exact else '~'}{form}"
        key = nlp.vocab.strings.add(name)
        if exact:
            matcher.exact.add(key, tuple(t.text for t in doc))
        else:
            matcher.folded.add(key, tuple(t.lower_ for t in doc))
        matcher.units[key] = tuple(sorted(by_form.pop((form, exact))))
    matcher.labels = len(matcher.units)
    matcher.skipped = skipped
    return matcher


def text_docs(nlp, texts: Iterable[tuple[str, str]]) -> list[tuple[str, object]]:  # noqa: ANN001 - spaCy
    """A work's ``(field, text)`` pairs tokenized as the matcher reads them: segmented, and
    at most ``MAX_TEXT_CHARS`` characters in all."""
    budget, docs = MAX_TEXT_CHARS, []
    for field_name, text in texts:
        if budget <= 0:
            break
        docs.append((field_name, nlp.make_doc(segment(text[:budget]))))
        budget -= len(text)
    return docs


def doc_tokens(docs: Iterable[tuple[str, object]]) -> set[str]:
    """The lower-cased tokens of ``docs``: a pattern can match only where its first token's
    lower case is one of them (``ORTH`` equal implies ``LOWER`` equal)."""
    from spacy.attrs import LOWER

    found: set[str] = set()
    for _field, doc in docs:
        strings = doc.vocab.strings
        found.update(strings[key] for key in doc.count_by(LOWER))
    return found


def word_tokens(tokens: Iterable[str]) -> set[str]:
    """Of lower-cased ``tokens``, those with a letter or digit: what a work's index keeps.

    >>> sorted(word_tokens(["new", "york", ",", "1984", "--"]))
    ['1984', 'new', 'york']
    """
    return {token for token in tokens if any(c.isalnum() for c in token)}


def label_patterns(nlp, unit_kind: str, label: str) -> list[tuple[str, bool, tuple[str, ...]]]:  # noqa: ANN001
    """The patterns a label gives (``label_forms``), each with its tokens; a form of more than
    ``MAX_LABEL_TOKENS`` tokens gives none.

    >>> label_patterns(blank_pipeline(), "agent", "Armstrong, Louis, 1901-1971")[1]
    ('Louis Armstrong', True, ('Louis', 'Armstrong'))
    """
    out = []
    for form, exact in label_forms(label, unit_kind)[0]:
        words = label_words(nlp, form)
        if 0 < len(words) <= MAX_LABEL_TOKENS:
            out.append((form, exact, words))
    return out


#: What spaCy's multi-language tokenizer splits off the end of a word of letters as a token.
_SPLIT_AFTER = frozenset(",;:")


def plain_tokens(word: str) -> tuple[str, ...] | None:
    """The tokens spaCy's blank multi-language tokenizer (``spacy.blank("xx")``) makes of
    ``word`` (a chunk between spaces) when a plain test decides them, else ``None``.

    A word of letters only (``str.isalpha``: CJK characters included) is one token: every
    prefix, suffix and infix rule of that tokenizer needs a character that is no letter (a
    quote, a bracket, a digit, a hyphen, a period, a symbol), and its special cases of letters
    only ("xD") are one token each. A word of letters followed by a comma, a semicolon or a
    colon is the word and that mark. Half of a store's label forms are made of such words
    only, and spaCy's first tokenizing of a chunk costs some 30 us: a refresh of everything
    tokenized 26,780 forms in 1.5-2.2 s (docs/benchmarks.md). tests/test_mentions.py proves
    it on every letter of Unicode in context, on the tokenizer's special cases and on every
    label of the sample.

    >>> plain_tokens("Louis"), plain_tokens("Armstrong,"), plain_tokens("1901-1971"), plain_tokens("U.S.")
    (('Louis',), ('Armstrong', ','), None, None)
    """
    if word.isalpha():
        return (word,)
    if len(word) > 1 and word[-1] in _SPLIT_AFTER and word[:-1].isalpha():
        return (word[:-1], word[-1])
    return None


def label_words(nlp, form: str) -> tuple[str, ...]:  # noqa: ANN001 - spaCy's Language, or what has its make_doc
    """The tokens of ``segment(form)`` as ``nlp.make_doc`` (the blank multi-language
    tokenizer) makes them, spaCy asked only for the words ``plain_tokens`` cannot decide,
    all of them in one call: spaCy cuts a text at its spaces and tokenizes each chunk alone,
    so the tokens of the words it is given, in order, are those of each word.

    >>> label_words(blank_pipeline(), "Armstrong, Louis, 1901-1971")
    ('Armstrong', ',', 'Louis', ',', '1901', '-', '1971')
    """
    words = segment(form).split(" ")
    plain = [plain_tokens(word) for word in words]
    hard = [word for word, tokens in zip(words, plain, strict=True) if tokens is None]
    if not hard:
        return tuple(token for tokens in plain for token in tokens)  # type: ignore[union-attr]
    found = [(token.idx, token.text) for token in nlp.make_doc(" ".join(hard))]
    out: list[str] = []
    at, end, lengths = 0, -1, (len(word) for word in hard)  # ``end``: where the hard word read ends
    for tokens in plain:
        if tokens is not None:
            out.extend(tokens)
            continue
        end += next(lengths) + 1
        while at < len(found) and found[at][0] < end:
            out.append(found[at][1])
            at += 1
    return tuple(out)


def pattern_matcher(nlp, patterns: Iterable[tuple[str, bool, tuple[str, ...], str]]) -> MentionMatcher:  # noqa: ANN001
    """A matcher of ``(form, exact, words, unit)`` patterns (``label_patterns``'s, with their
    unit): the same matches as ``build_matcher`` of their labels, built from stored tokens."""
    by_form: dict[tuple[str, bool], set[str]] = defaultdict(set)
    words_of: dict[tuple[str, bool], tuple[str, ...]] = {}
    for form, exact, words, unit in patterns:
        by_form[(form, exact)].add(unit)
        words_of[(form, exact)] = words
    matcher = MentionMatcher(nlp, PhraseTable(), PhraseTable())
    for form, exact in sorted(by_form):
        name = f"{'=' if exact else '~'}{form}"
        key = nlp.vocab.strings.add(name)
        if exact:
            matcher.exact.add(key, tuple(words_of[(form, exact)]))
        else:  # as spaCy's LOWER attribute folds a token: ``str.lower``
            matcher.folded.add(key, tuple(word.lower() for word in words_of[(form, exact)]))
        matcher.units[key] = tuple(sorted(by_form[(form, exact)]))
    matcher.labels = len(matcher.units)
    return matcher


#: The kinds of unit a text can mention, by class (``rq/mention_labels.rq``'s union).
UNIT_KINDS = ((SKOS.Concept, "concept"), (BF.Agent, "agent"), (BF.Place, "place"))
_LABEL_PREDICATES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel)
_TRUE = Literal("true", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
_KIND_OF = {cls: kind for cls, kind in UNIT_KINDS}


def is_mention_target(layout: Layout, unit: str) -> bool:
    """Whether a text's mention of ``unit`` is recorded: a knowledge unit (a page of its own,
    one node for every record that names it), never a node of one record's own graph
    (``…/graph/marc/1#place-1``: a place of publication, a publisher, an author with no
    identifier). Every record has its own such nodes, so "London" as a place of publication
    is one node per record: on the x10 benchmark store 121,230 of the 137,270 typed concepts,
    agents and places were a record's own, and a contents note naming London mentioned every
    one of them (98.5 % of 463,174 mentions, 5,521 for one work; docs/benchmarks.md). A
    record's nodes have no page to go to either (``Layout.is_part``).

    >>> layout = Layout("http://example.org/")
    >>> is_mention_target(layout, "http://example.org/place/k1"), is_mention_target(layout, "http://example.org/graph/marc/1#place-1")
    (True, False)
    """
    return not layout.is_record_local(unit)


def unit_labels(store: Store, layout: Layout, unit: str) -> set[tuple[str, str]]:
    """One unit's ``(kind, label)`` rows, read by pattern: what ``read_labels`` reads for it
    (none when it is no concept, agent or place, a deprecated concept, or no mention target:
    ``is_mention_target``).

    One scan of the unit's statements, sorted here, rather than a lookup per class and per
    label predicate: a refresh reads every unit this way, and the nine lookups cost three
    times the scan (measured, docs/benchmarks.md).
    """
    if not is_mention_target(layout, unit):
        return set()
    kinds: set[str] = set()
    labels: set[str] = set()
    for quad in store.quads_for_pattern(NamedNode(unit), None, None, None):
        predicate = quad.predicate
        if predicate == RDF.type:
            kind = _KIND_OF.get(quad.object)
            if kind is not None:
                kinds.add(kind)
        elif predicate in _LABEL_PREDICATES:
            if isinstance(quad.object, Literal):
                labels.add(quad.object.value)
        elif predicate == OWL.deprecated and quad.object == _TRUE:
            return set()
    return {(kind, label) for kind in kinds for label in labels}


def _page(store: Store, name: str, offset: int, size: int, *, union: bool = False, **bound: NamedNode) -> list:
    """Rows ``offset`` to ``offset + size`` of the query ``name``, its variables ``bound`` (no
    ORDER BY: the store's own index order, the same from one call to the next while nothing is
    written). ``union``: the default graph is every graph's, as a pattern scan reads them.

    Why pages: a scan decodes the terms of every row it reads, and RocksDB keeps the blocks it
    read for that until the store is closed (one scan of the x40 open-access store's type
    statements or of its mentions: +105-110 MB, docs/benchmarks.md); a page decodes only its
    own rows (skipping the earlier ones decodes nothing), and the caller reopens the store
    between pages (``web.mentions_session.RefreshSession.breathe``)."""
    substitutions = {Variable(var): term for var, term in bound.items()}
    query = f"{sparql(name)}\nOFFSET {offset} LIMIT {size}"
    return list(store.query(query, prefixes=PREFIXES, use_default_graph_as_union=union, substitutions=substitutions))


def all_units_page(store: Store, layout: Layout, offset: int, size: int) -> tuple[list[str], bool]:
    """Every concept, agent and place of the store that is a mention target (with repeats;
    ``is_mention_target``), from ``size`` type statements from ``offset`` on
    (``mention_units_all.rq``, ``_page``), and whether more follow."""
    rows = _page(store, "mention_units_all", offset, size, union=True)
    units = [unit.value for (unit,) in rows if isinstance(unit, NamedNode)]
    return [unit for unit in units if is_mention_target(layout, unit)], len(rows) == size


def unit_type_count(store: Store) -> int:
    """How many statements type a concept, an agent or a place (``all_units_page``'s rows)."""
    rows = store.query(sparql("mention_units_count"), prefixes=PREFIXES, use_default_graph_as_union=True)
    return int(next(iter(rows))[0].value)


def unit_labels_page(
    store: Store, layout: Layout, offset: int, size: int, deprecated: set[str]
) -> set[tuple[str, str, str]]:
    """``(unit, kind, label)`` of every unit typed by ``size`` type statements from ``offset``
    on (``all_units_page``'s page, ``rq/mention_unit_labels.rq``), but those of the units in
    ``deprecated`` (``deprecated_units``): over every page of ``unit_type_count`` statements,
    what ``unit_labels`` gives every unit that ``all_units_page`` lists, read by the query
    engine instead of a scan of each unit's statements in Python. Rows repeat from one page to
    another (a unit typed in several graphs, or of several kinds). A record's own nodes are
    read and dropped here (``is_mention_target``): a FILTER in the query would decode the
    IRIs of every row its OFFSET skips, page after page."""
    query = Template(sparql("mention_unit_labels")).substitute(offset=offset, size=size)
    rows = store.query(query, prefixes=PREFIXES, use_default_graph_as_union=True)
    return {
        (unit.value, kind.value, label.value)
        for unit, kind, label in rows
        if isinstance(unit, NamedNode)
        and isinstance(label, Literal)
        and unit.value not in deprecated
        and is_mention_target(layout, unit.value)
    }


def deprecated_units(store: Store) -> set[str]:
    """The resources stated ``owl:deprecated true`` in any graph (concepts merged into another:
    a cataloger's handful), whose labels ``unit_labels`` leaves out."""
    return {q.subject.value for q in store.quads_for_pattern(None, OWL.deprecated, _TRUE, None) if isinstance(q.subject, NamedNode)}


def works_with_texts_page(store: Store, offset: int, size: int) -> tuple[list[str], bool]:
    """Every work with a summary or contents note, its own or an instance's (with repeats), from
    ``size`` of the statements holding one from ``offset`` on (``mention_text_holders.rq``,
    ``_page``; each holder's works read by index lookups), and whether more follow."""
    rows = _page(store, "mention_text_holders", offset, size, union=True)
    return [work for (holder,) in rows for work in _works_of_holder(store, holder)], len(rows) == size


def held_works_page(store: Store, layout: Layout, offset: int, size: int) -> tuple[list[str], bool]:
    """The works the mentions graph holds mentions of (with repeats), ``size`` of its mention
    nodes from ``offset`` on (``mention_held_works.rq``, ``_page``), and whether more follow."""
    rows = _page(store, "mention_held_works", offset, size, graph=mentions_graph(layout))
    return [row["work"].value for row in rows], len(rows) == size


def _works_of_holder(store: Store, holder) -> Iterator[str]:  # noqa: ANN001 - a subject
    if not isinstance(holder, NamedNode):
        return
    if next(store.quads_for_pattern(holder, RDF.type, BF.Work, None), None) is not None:
        yield holder.value
    for link in store.quads_for_pattern(holder, BF.instanceOf, None, None):
        if isinstance(link.object, NamedNode):
            yield link.object.value


def graph_works(store: Store, graph: str) -> set[str]:
    """The works whose texts record graph ``graph`` may hold: those its instances are of, those
    it links, those with a summary or contents note stated in it."""
    g = NamedNode(graph)
    found = {
        q.object.value
        for predicate in (BF.instanceOf, CG.linkedWork)
        for q in store.quads_for_pattern(None, predicate, None, g)
        if isinstance(q.object, NamedNode)
    }
    for _name, prop in _TEXT_FIELDS:
        for quad in store.quads_for_pattern(None, prop, None, g):
            found.update(_works_of_holder(store, quad.subject))
    return found


#: What names the works (``graph_works``) and the units (``graph_units``) of a record graph,
#: each read for every graph by pages of one query (``graph_links_page``): its kind and pattern.
GRAPH_LINKS = (
    ("work", BF.instanceOf, None), ("work", CG.linkedWork, None),
    ("text", BF.summary, None), ("text", BF.tableOfContents, None),
    *(("unit", RDF.type, cls) for cls, _kind in UNIT_KINDS),
)  # fmt: skip


def graph_links_page(
    store: Store, layout: Layout, kind: str, predicate: NamedNode, value: NamedNode | None, offset: int, size: int
) -> tuple[list[tuple[str, str]], bool]:
    """``(graph, work)`` or ``(graph, unit)`` of every named graph (with repeats), from ``size``
    statements of one of ``GRAPH_LINKS`` from ``offset`` on (``_page``), and whether more
    follow: all the pages of all of them give what ``graph_works`` and ``graph_units`` give each
    graph, cheaper when most graphs are asked for (a first refresh)."""
    if kind == "work":
        rows = _page(store, "mention_graph_objects", offset, size, property=predicate)
        links = [(row["g"].value, row["object"].value) for row in rows if isinstance(row["object"], NamedNode)]
    elif kind == "text":
        rows = _page(store, "mention_graph_holders", offset, size, property=predicate)
        links = [(row["g"].value, work) for row in rows for work in _works_of_holder(store, row["subject"])]
    else:
        assert value is not None, kind
        rows = _page(store, "mention_graph_subjects", offset, size, property=predicate, object=value)
        links = [
            (row["g"].value, row["subject"].value)
            for row in rows
            if isinstance(row["subject"], NamedNode) and is_mention_target(layout, row["subject"].value)
        ]
    return links, len(rows) == size


def graph_units(store: Store, layout: Layout, graph: str) -> set[str]:
    """The concepts, agents and places record graph ``graph`` types that are mention targets
    (``is_mention_target``). The mappers type only a record's own nodes there (``…#agent-1``),
    which are none: a shared unit's labels are unit statements, in its own graph, and reach a
    refresh through the ledger (``graph.mention_changes.mention_subjects``). What is left is
    a unit typed in a record graph by a writer (SPARQL Update, the Graph Store Protocol)."""
    g = NamedNode(graph)
    return {
        q.subject.value
        for cls, _kind in UNIT_KINDS
        for q in store.quads_for_pattern(None, RDF.type, cls, g)
        if isinstance(q.subject, NamedNode) and is_mention_target(layout, q.subject.value)
    }


def read_labels(store: Store, layout: Layout) -> Iterator[tuple[str, str, str]]:
    """Every ``(unit IRI, kind, label)`` of the store's concepts, agents and places that are
    mention targets (``is_mention_target``)."""
    for row in _rows(store, "mention_labels"):
        unit = row["unit"].value
        if is_mention_target(layout, unit):
            yield unit, row["kind"].value, row["label"].value


def text_rows(store: Store) -> Iterator[tuple[str, str, str]]:
    """Every ``(work, field, text)`` of the store, streamed (a work's rows do not come together)."""
    for row in _rows(store, "mention_texts"):
        yield row["work"].value, row["field"].value, row["text"].value


def _bounded(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A work's pairs once each, in a stable order, cut at ``MAX_TEXT_CHARS`` in all."""
    out, size = [], 0
    for field_name, text in sorted(set(pairs)):
        if size >= MAX_TEXT_CHARS:
            break
        out.append((field_name, text[: MAX_TEXT_CHARS - size]))
        size += len(text)
    return out


def read_texts(store: Store) -> dict[str, list[tuple[str, str]]]:
    """Each work's ``(field, text)`` pairs (``work_texts``'s), every work's in memory at once:
    for the precision test and the benchmarks; a refresh reads works a chunk at a time."""
    texts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for work, field_name, text in text_rows(store):
        texts[work].append((field_name, text))
    return {work: _bounded(pairs) for work, pairs in texts.items()}


_TEXT_FIELDS = (("summary", BF.summary), ("tableOfContents", BF.tableOfContents))


def work_texts(store: Store, work: str) -> list[tuple[str, str]]:
    """One work's ``(field, text)`` pairs, read by pattern (what ``rq/mention_texts.rq`` reads
    for it): the labels of its own summaries and contents notes if it is a ``bf:Work``, and
    of its instances'.

    A refresh reads the works it matches this way, a chunk at a time, so its memory is
    that of a chunk, not of every text in the store.
    """
    node = NamedNode(work)
    holders = [q.subject for q in store.quads_for_pattern(None, BF.instanceOf, node, None)]
    if next(store.quads_for_pattern(node, RDF.type, BF.Work, None), None) is not None:
        holders.append(node)
    pairs = []
    for holder in set(holders):
        for field_name, prop in _TEXT_FIELDS:
            for quad in store.quads_for_pattern(holder, prop, None, None):
                for label in store.quads_for_pattern(quad.object, RDFS.label, None, None):
                    if isinstance(label.object, Literal):
                        pairs.append((field_name, label.object.value))
    return _bounded(pairs)
