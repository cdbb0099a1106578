"""How text is cut into searchable terms: one rule for what is indexed and what is asked.

SQLite's ``unicode61`` tokenizer (with ``remove_diacritics 2``) folds case
and diacritics, so ``dvorak`` finds ``Dvořák``, but it takes a run of Chinese
or Japanese characters as one token: 外交青書 would be found only by itself.
FTS5's ``trigram`` tokenizer finds no two-character word at all (偏见, 北京:
docs/benchmarks.md, "Seed search"), and most Chinese words have two
characters. So every CJK run is written as its overlapping character bigrams
followed by its last character (``外交青書`` -> ``外交 交青 青書 書``): a word
of two characters or more is the phrase of its bigrams, in order, and a single
character is a prefix of some bigram or is the last character. The same
function prepares the indexed text and the query, so both always agree.
Text is NFKC-normalised first (full-width Latin, ligatures, and MARC-8's
decomposed letters come out as one form).
"""

from __future__ import annotations

import re
import unicodedata

#: Han (with extension A and the supplementary planes), kana, Hangul syllables, compatibility ideographs.
CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]+"
)
#: A word outside CJK runs: letters and digits (``unicode61`` splits on the rest).
WORD = re.compile(r"[^\W_]+")


def grams(run: str) -> list[str]:
    """A CJK run as its indexed terms.

    >>> grams("外交青書")
    ['外交', '交青', '青書', '書']
    >>> grams("書")
    ['書']
    """
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def fold(text: str) -> str:
    """NFKC, the one normal form of indexed and asked text."""
    return unicodedata.normalize("NFKC", text)


def index_text(text: str) -> str:
    """Text as it is written into the full-text index.

    >>> index_text("Issued by: 外務省")
    'Issued by:  外務 務省 省 '
    """
    return CJK.sub(lambda m: " " + " ".join(grams(m.group())) + " ", fold(text))


def query_terms(text: str) -> list[tuple[str, str]]:
    """The query's terms in order, each ``("word", w)`` or ``("cjk", run)``.

    >>> query_terms("Dvořák 交響曲 no.9")
    [('word', 'Dvořák'), ('cjk', '交響曲'), ('word', 'no'), ('word', '9')]
    """
    terms: list[tuple[str, str]] = []
    folded = fold(text)
    position = 0
    for run in CJK.finditer(folded):
        terms += [("word", w) for w in WORD.findall(folded[position : run.start()])]
        terms.append(("cjk", run.group()))
        position = run.end()
    terms += [("word", w) for w in WORD.findall(folded[position:])]
    return terms
