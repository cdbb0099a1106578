"""Labels of the outside vocabulary terms we emit: relators, languages, issuance, schemes.

The mapper names roles, languages, modes of issuance, subject and
classification schemes by their id.loc.gov IRIs; a reader wants "author",
"English", "single unit". The code lists live here, in ``vocabularies/``, so
that ingest (which turns codes into IRIs) and the pages (which turn IRIs back
into words) read one copy through one function, ``vocabulary_label``, and the
layers above ingest never reach into ``ingest.marc`` for words.

- ``relators.tsv``: LC's MARC Code List for Relators (code, English label, and
  whether the role belongs on the Instance: ``ingest.marc.contributions``).
- ``languages.tsv``: LC's MARC Code List for Languages, with Chinese names from
  Unicode CLDR where CLDR has one.
- ``terms.tsv``: the few other terms the mapper emits by a fixed IRI (issuance,
  identifier status, well-known schemes), with id.loc.gov's English labels.

Codes the mapper takes from the record itself (``$2`` scheme codes, ``040 $e``
conventions, ``$5`` organisations) form open families: a code nobody listed
still gets a label built from the family's name and the code, so no emitted
term is shown as a bare IRI. Chinese labels are given only where a published
source has them (CLDR for languages); nothing is translated by guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from pyoxigraph import NamedNode

from ontology.namespaces import LANGUAGES, RELATORS

#: Open families: IRI prefix -> English name of the family (the code follows it in the label).
OPEN_FAMILIES: dict[str, str] = {
    "http://id.loc.gov/vocabulary/subjectSchemes/": "subject scheme",
    "http://id.loc.gov/vocabulary/classSchemes/": "classification scheme",
    "http://id.loc.gov/vocabulary/descriptionConventions/": "description conventions",
    "http://id.loc.gov/vocabulary/organizations/": "organization",
}


class Language(NamedTuple):
    """One row of the MARC language list."""

    iso639_1: str
    english: str
    replaced_by: str
    chinese: str


@dataclass(frozen=True, slots=True)
class Relator:
    """One row of the MARC relator list."""

    label: str
    instance: bool


def vocabulary_rows(name: str) -> list[list[str]]:
    """The data rows of ``vocabularies/name`` (comments and blank lines skipped), split on tabs."""
    text = resources.files("ontology.vocabularies").joinpath(name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def relators() -> dict[str, Relator]:
    """MARC relator code -> its English label and whether it is an Instance's role."""
    return {
        row[0]: Relator(row[1], len(row) > 2 and row[2] == "instance")
        for row in vocabulary_rows("relators.tsv")
    }


@lru_cache(maxsize=1)
def languages() -> dict[str, Language]:
    """MARC language code -> ISO 639-1 code, English name, replacement code, Chinese name."""
    table = {}
    for row in vocabulary_rows("languages.tsv"):
        row = row + [""] * (5 - len(row))
        table[row[0]] = Language(row[1], row[2], row[3], row[4])
    return table


@lru_cache(maxsize=1)
def _fixed() -> dict[str, dict[str, str]]:
    """IRI -> {language: label} for the terms of ``terms.tsv``."""
    found: dict[str, dict[str, str]] = {}
    for row in vocabulary_rows("terms.tsv"):
        labels = {"en": row[1]}
        if len(row) > 2 and row[2]:
            labels["zh"] = row[2]
        found[row[0]] = labels
    return found


def _labels(iri: str) -> dict[str, str]:
    if iri.startswith(RELATORS.iri):
        relator = relators().get(iri[len(RELATORS.iri) :])
        return {"en": relator.label} if relator else {}
    if iri.startswith(LANGUAGES.iri):
        language = languages().get(iri[len(LANGUAGES.iri) :])
        if language is None:
            return {}
        return {"en": language.english, **({"zh": language.chinese} if language.chinese else {})}
    fixed = _fixed().get(iri)
    if fixed is not None:
        return fixed
    for prefix, family in OPEN_FAMILIES.items():
        code = iri[len(prefix) :]
        if iri.startswith(prefix) and code and "/" not in code:
            return {"en": f"{family} {code}"}
    return {}


def vocabulary_labels(iri: str | NamedNode) -> dict[str, str]:
    """Every label we know of a vocabulary term, by language tag (``{}`` for an unknown term).

    >>> vocabulary_labels("http://id.loc.gov/vocabulary/languages/eng")
    {'en': 'English', 'zh': '英语'}
    """
    return dict(_labels(iri.value if isinstance(iri, NamedNode) else iri))


def vocabulary_label(iri: str | NamedNode, preferred: list[str] | tuple[str, ...] = ()) -> str | None:
    """The label of a vocabulary term in the first of ``preferred`` languages we have, else English.

    ``preferred`` holds language tags as a reader's Accept-Language gives them
    (``zh-CN`` matches a ``zh`` label). ``None`` when the term is not one we know.

    >>> vocabulary_label("http://id.loc.gov/vocabulary/issuance/mono")
    'single unit'
    >>> vocabulary_label(NamedNode("http://id.loc.gov/vocabulary/relators/aut"))
    'Author'
    >>> vocabulary_label("http://id.loc.gov/vocabulary/languages/chi", ["zh-CN", "en"])
    '中文'
    >>> vocabulary_label("http://id.loc.gov/vocabulary/subjectSchemes/gsafd")
    'subject scheme gsafd'
    >>> vocabulary_label("http://example.org/x") is None
    True
    """
    found = vocabulary_label_and_language(iri, preferred)
    return found[0] if found else None


def vocabulary_label_and_language(
    iri: str | NamedNode, preferred: list[str] | tuple[str, ...] = ()
) -> tuple[str, str] | None:
    """``vocabulary_label`` with the language tag of the label chosen, for ``lang=`` on a page.

    >>> vocabulary_label_and_language("http://id.loc.gov/vocabulary/languages/fre", ["zh"])
    ('法语', 'zh')
    """
    labels = _labels(iri.value if isinstance(iri, NamedNode) else iri)
    if not labels:
        return None
    for tag in preferred:
        primary = tag.split("-", 1)[0].strip().lower()
        if primary in labels:
            return labels[primary], primary
    return labels["en"], "en"
