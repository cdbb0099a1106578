"""MARC code lists turned into IRIs: relators, languages, scripts, schemes, authority links.

CONTRACT (signatures are fixed): every function is pure, fast (called per
field), and returns ``None`` for a value it does not recognise rather than
raising. Headings that name the same thing must meet in one node, so the IRIs
given here are the canonical ``http://`` forms id.loc.gov publishes.

The code lists (relators, languages) are the Library of Congress MARC Code
Lists, kept with their labels in ``ontology/vocabularies`` and read through
``ontology.term_labels`` (the pages read the same copy); ``relator_terms.tsv`` adds the abbreviations and
variants of $e terms catalogues use, ``scripts.tsv`` the Unicode blocks of
each ISO 15924 script. All are read once, at import.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache
from importlib import resources

from pyoxigraph import NamedNode

from ontology.namespaces import LANGUAGES, RELATORS
from ontology.term_labels import languages, relators

_RELATOR_BASE = RELATORS.iri


def _rows(name: str) -> list[list[str]]:
    text = resources.files("ingest.marc").joinpath(name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


#: relator code -> English label
RELATOR_LABELS: dict[str, str] = {code: row.label for code, row in relators().items()}
#: Discontinued relator codes and the code that replaced them.
_RELATOR_REPLACED = {"clb": "ctb", "voc": "sng"}

#: MARC language code -> (ISO 639-1 code or "", English name, replacement code or "")
_LANGUAGES: dict[str, tuple[str, str, str]] = {
    code: (row.iso639_1, row.english, row.replaced_by) for code, row in languages().items()
}

# ---------------------------------------------------------------- relators


def relator_iri(code: str) -> NamedNode | None:
    """$4: a MARC relator code (``aut``, ``ill``...) or a relator IRI -> id.loc.gov relator IRI.

    >>> relator_iri("aut.").value
    'http://id.loc.gov/vocabulary/relators/aut'
    >>> relator_iri("https://id.loc.gov/vocabulary/relators/ill").value
    'http://id.loc.gov/vocabulary/relators/ill'
    >>> relator_iri("xyz") is None
    True
    """
    if not code:
        return None
    value = code.strip().rstrip(".,;: ").strip()
    lowered = value.casefold()
    for prefix in ("http://id.loc.gov/vocabulary/relators/", "https://id.loc.gov/vocabulary/relators/"):
        if lowered.startswith(prefix):
            lowered = lowered[len(prefix):].removesuffix(".html").strip("/")
            break
    lowered = _RELATOR_REPLACED.get(lowered, lowered)
    if lowered in RELATOR_LABELS:
        return RELATORS[lowered]
    return None


def _term_key(term: str) -> str:
    text = unicodedata.normalize("NFKC", term).casefold()
    text = text.split("$", 1)[0]
    text = re.sub(r"[.,;:()\[\]/?!\"']+", " ", text)
    return " ".join(text.split())


#: $e terms beyond the labels: abbreviations, variants, a few non-English terms.
_TERM_VARIANTS: dict[str, str] = {row[0]: row[1] for row in _rows("relator_terms.tsv")}

_RELATOR_BY_TERM: dict[str, str] = {
    **{_term_key(label): code for code, label in RELATOR_LABELS.items()},
    **{_term_key(label.removesuffix(", etc.")): code for code, label in RELATOR_LABELS.items()},
    **_TERM_VARIANTS,
}
for _old, _new in _RELATOR_REPLACED.items():
    _RELATOR_BY_TERM[_term_key(RELATOR_LABELS[_old])] = _new

_TERM_SPLIT = re.compile(r"\s*(?:\band\b|&|,|;|/|\bund\b|\bet\b|\by\b)\s*", re.IGNORECASE)


def _lookup_term(key: str) -> str | None:
    if not key:
        return None
    code = _RELATOR_BY_TERM.get(key)
    for prefix in ("joint ", "jt ", "co-"):
        if code is None and key.startswith(prefix):
            code = _RELATOR_BY_TERM.get(key[len(prefix):])
    return code


def relators_from_term(term: str) -> list[NamedNode]:
    """Every relator a $e term names, in order (``ed. and tr.`` -> editor, translator).

    >>> [r.value.rsplit("/", 1)[1] for r in relators_from_term("joint ed. and tr.")]
    ['edt', 'trl']
    """
    return [RELATORS[code] for code in _relator_codes(term)] if term else []


@lru_cache(maxsize=4096)
def _relator_codes(term: str) -> tuple[str, ...]:
    """Cached: a catalogue repeats the same few hundred $e terms millions of times."""
    whole = _lookup_term(_term_key(term[:200]))
    if whole:
        return (whole,)
    codes: list[str] = []
    for part in _TERM_SPLIT.split(term[:200].split("$", 1)[0]):
        code = _lookup_term(_term_key(part))
        if code and code not in codes:
            codes.append(code)
    return tuple(codes)


def relator_from_term(term: str) -> NamedNode | None:
    """$e: a relator term in English (``author.``, ``illustrator,``) -> relator IRI.

    When a term names several roles (``ed. and tr.``) the first is returned;
    :func:`relators_from_term` gives them all.

    >>> relator_from_term("Illustrator,").value
    'http://id.loc.gov/vocabulary/relators/ill'
    >>> relator_from_term("joint author.").value
    'http://id.loc.gov/vocabulary/relators/aut'
    >>> relator_from_term("tr.").value
    'http://id.loc.gov/vocabulary/relators/trl'
    >>> relator_from_term("gardener") is None
    True
    """
    found = relators_from_term(term)
    return found[0] if found else None


def relator_label(iri: NamedNode) -> str | None:
    """English label of a relator IRI, for pages and the Role node.

    >>> relator_label(relator_iri("trl"))
    'Translator'
    """
    value = iri.value if isinstance(iri, NamedNode) else str(iri)
    if not value.startswith(_RELATOR_BASE):
        return None
    return RELATOR_LABELS.get(value[len(_RELATOR_BASE):])


# ---------------------------------------------------------------- languages


def _language_code(code: str) -> str | None:
    """The current MARC code for ``code`` (discontinued codes replaced), or ``None``."""
    if not code:
        return None
    value = code.strip().casefold()
    entry = _LANGUAGES.get(value)
    if entry is None:
        return None
    return entry[2] or value


def language_iri(code: str) -> NamedNode | None:
    """A MARC language code (008/35-37, 041) -> http://id.loc.gov/vocabulary/languages/xxx.

    Discontinued codes are replaced by their successors (``scr`` -> ``hrv``) so
    that old and new records meet; ``und``, ``mul`` and ``zxx`` are real codes.

    >>> language_iri("eng").value
    'http://id.loc.gov/vocabulary/languages/eng'
    >>> language_iri("scr").value
    'http://id.loc.gov/vocabulary/languages/hrv'
    >>> language_iri("|||") is None
    True
    """
    current = _language_code(code)
    return LANGUAGES[current] if current else None


def language_name(code: str) -> str | None:
    """English name of a MARC language code (``fre`` -> ``French``)."""
    current = _language_code(code)
    return _LANGUAGES[current][1] if current else None


def bcp47_language(code: str) -> str | None:
    """A MARC language code -> BCP 47 primary subtag (``eng`` -> ``en``, ``jpn`` -> ``ja``).

    BCP 47 wants the ISO 639-1 code where one exists; otherwise the MARC code
    is the ISO 639-2 code, which equals 639-2/T for every language without a
    639-1 code, and is a valid subtag as it stands.

    >>> [bcp47_language(c) for c in ("fre", "ger", "chi", "haw", "zxx")]
    ['fr', 'de', 'zh', 'haw', 'zxx']
    """
    current = _language_code(code)
    if current is None:
        return None
    return _LANGUAGES[current][0] or current


# ---------------------------------------------------------------- scripts

_SCRIPT_CODES = {
    "(3": "Arab", "(4": "Arab", "(B": "Latn", "(N": "Cyrl", "(Q": "Cyrl",
    "(S": "Grek", "(2": "Hebr",
}
_CJK_BY_LANGUAGE = {"jpn": "Jpan", "ja": "Jpan", "kor": "Kore", "ko": "Kore"}


def script_subtag(code: str, language: str | None = None) -> str | None:
    """$6 script code (``(3``, ``(N``, ``$1``...) -> ISO 15924 (``Arab``, ``Cyrl``, ``Jpan``...).

    ``$1`` (CJK) depends on the language: ``Jpan`` for Japanese, ``Kore`` for
    Korean, ``Hani`` otherwise. A whole $6 value (``245-01/(3/r``) is accepted.

    >>> script_subtag("245-01/(3/r")
    'Arab'
    >>> script_subtag("$1", "jpn")
    'Jpan'
    >>> script_subtag("880-02/$1", "chi")
    'Hani'
    """
    if not code:
        return None
    parts = [p.strip(" \u200e\u200f") for p in code.split("/")]
    if len(parts) > 1 and re.match(r"^\d{3}(-\d+)?$", parts[0]):
        parts = parts[1:]
    candidate = parts[0] if parts else ""
    if candidate == "$1":
        return _CJK_BY_LANGUAGE.get((language or "").strip().casefold(), "Hani")
    return _SCRIPT_CODES.get(candidate)


#: (first code point, last code point, ISO 15924 code), sorted by first code point.
_RANGES = sorted((int(a, 16), int(b, 16), code) for a, b, code in _rows("scripts.tsv"))
_STARTS = [r[0] for r in _RANGES]


def _script_of(char: str) -> str | None:
    i = bisect_right(_STARTS, ord(char)) - 1
    if i >= 0 and ord(char) <= _RANGES[i][1]:
        return _RANGES[i][2]
    return None


def detect_script(text: str) -> str | None:
    """ISO 15924 code of the dominant non-Latin script of ``text`` (fallback when $6 has none).

    Only letters count; ``None`` when Latin letters are at least as many as the
    non-Latin ones. Kana makes CJK text ``Jpan`` and Hangul makes it ``Kore``.
    At most the first 2,000 characters are read.

    >>> detect_script("Война и мир")
    'Cyrl'
    >>> detect_script("東京の本")
    'Jpan'
    >>> detect_script("Pride and prejudice") is None
    True
    """
    if not text:
        return None
    counts: dict[str, int] = {}
    for char in text[:2000]:
        if char.isalpha():
            script = _script_of(char) or "Zyyy"
            counts[script] = counts.get(script, 0) + 1
    if counts.get("Hira") or counts.get("Kana"):
        counts["Jpan"] = counts.pop("Hira", 0) + counts.pop("Kana", 0) + counts.pop("Hani", 0)
    elif counts.get("Hang"):
        counts["Kore"] = counts.pop("Hang", 0) + counts.pop("Hani", 0)
    latin = counts.pop("Latn", 0)
    counts.pop("Zyyy", None)
    if not counts:
        return None
    script, count = max(counts.items(), key=lambda item: item[1])
    return script if count > latin else None


# ---------------------------------------------------------------- schemes

_SUBJECTS = "http://id.loc.gov/authorities/subjects"
_SCHEME_BY_INDICATOR = {
    "0": _SUBJECTS,
    "1": "http://id.loc.gov/authorities/childrensSubjects",
    "2": "http://id.nlm.nih.gov/mesh",
    "3": "http://id.loc.gov/vocabulary/subjectSchemes/nal",
    "5": "http://id.loc.gov/vocabulary/subjectSchemes/cash",
    "6": "http://id.loc.gov/vocabulary/subjectSchemes/rvm",
}
#: $2 codes whose scheme has an IRI of its own rather than a subjectSchemes entry.
_SCHEME_BY_SOURCE = {
    "lcsh": _SUBJECTS,
    "lcshac": "http://id.loc.gov/authorities/childrensSubjects",
    "mesh": "http://id.nlm.nih.gov/mesh",
    "lcgft": "http://id.loc.gov/authorities/genreForms",
    "fast": "http://id.worldcat.org/fast",
    "naf": "http://id.loc.gov/authorities/names",
    "lcnaf": "http://id.loc.gov/authorities/names",
    "lcdgt": "http://id.loc.gov/authorities/demographicTerms",
    "lcmpt": "http://id.loc.gov/authorities/performanceMediums",
}
_SOURCE_CODE = re.compile(r"^[a-z0-9-]{1,40}$")


def _source_code(source: str | None) -> str | None:
    if not source:
        return None
    code = source.strip().rstrip(".,;: ").strip().casefold()
    return code if _SOURCE_CODE.match(code) else None


def subject_scheme(second_indicator: str, source: str | None) -> NamedNode | None:
    """Scheme of a 6XX heading from its 2nd indicator, or from $2 when the indicator is 7.

    A blank or undefined indicator with a $2 (654-658, and careless 6XX) also
    uses $2; indicator 4 ("source not specified") gives ``None``.

    >>> subject_scheme("0", None).value
    'http://id.loc.gov/authorities/subjects'
    >>> subject_scheme("7", "lcgft").value
    'http://id.loc.gov/authorities/genreForms'
    >>> subject_scheme("7", "gsafd.").value
    'http://id.loc.gov/vocabulary/subjectSchemes/gsafd'
    >>> subject_scheme("7", "bad code!") is None
    True
    """
    indicator = (second_indicator or " ").strip()
    if indicator in _SCHEME_BY_INDICATOR:
        return NamedNode(_SCHEME_BY_INDICATOR[indicator])
    if indicator == "4":
        return None
    code = _source_code(source)
    if code is None:
        return None
    return NamedNode(_SCHEME_BY_SOURCE.get(code, f"http://id.loc.gov/vocabulary/subjectSchemes/{code}"))


_CLASS_SCHEMES = "http://id.loc.gov/vocabulary/classSchemes/"
_CLASS_BY_TAG = {"050": "lcc", "060": "nlm", "080": "udc", "082": "ddc", "083": "ddc"}


def classification_scheme(tag: str, source: str | None = None) -> NamedNode | None:
    """050 -> LCC, 060 -> NLM, 082 -> DDC, 084 -> the scheme in $2.

    >>> classification_scheme("082").value
    'http://id.loc.gov/vocabulary/classSchemes/ddc'
    >>> classification_scheme("084", "rvk").value
    'http://id.loc.gov/vocabulary/classSchemes/rvk'
    """
    code = _CLASS_BY_TAG.get((tag or "").strip())
    if code is None and (tag or "").strip() in ("084", "086"):
        code = _source_code(source)
    return NamedNode(_CLASS_SCHEMES + code) if code else None


# ---------------------------------------------------------------- authority links

#: LCCN prefixes of id.loc.gov authority files.
_LCCN_AUTHORITIES = {
    "n": "names", "nb": "names", "nr": "names", "no": "names", "ns": "names",
    "sh": "subjects", "sj": "childrensSubjects", "gf": "genreForms",
    "dg": "demographicTerms", "mp": "performanceMediums",
}
_PREFIXED = re.compile(r"^\(([^()]{1,40})\)\s*(.*)$", re.DOTALL)
_LCCN = re.compile(r"^([a-z]{1,3})(\d{8}|\d{10})$")
_HAS_HOST = re.compile(r"^https?://[^/?#@:]+(?::\d{1,5})?(?:[/?#]|$)", re.IGNORECASE)
_BAD_IRI_CHARS = re.compile(r"[\s<>\"{}|\\^`\x00-\x1f\x7f]")
_ID_LOC = re.compile(r"^https?://id\.loc\.gov/(authorities|vocabulary)/([A-Za-z]+)/([A-Za-z0-9-]+?)"
                     r"(?:\.(?:html|json|jsonld|rdf|nt|ttl|madsrdf\.rdf|skos\.rdf))?/?$")
_FAST_IRI = re.compile(r"^https?://id\.worldcat\.org/fast/(?:fst)?0*(\d{1,10})/?$")
_IDENTIFIER_BASES = {
    "viaf": ("http://viaf.org/viaf/", re.compile(r"^\d{1,22}$")),
    "de-588": ("https://d-nb.info/gnd/", re.compile(r"^[0-9X-]{1,14}[0-9X]$")),
    "de-588a": ("https://d-nb.info/gnd/", re.compile(r"^[0-9X-]{1,14}[0-9X]$")),
    "gnd": ("https://d-nb.info/gnd/", re.compile(r"^[0-9X-]{1,14}[0-9X]$")),
    "isni": ("https://isni.org/isni/", re.compile(r"^\d{15}[\dX]$")),
    "orcid": ("https://orcid.org/", re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")),
    "dnlm": ("http://id.nlm.nih.gov/mesh/", re.compile(r"^[DCQTM]\d{6,9}$")),
}


def normalise_lccn(value: str) -> str:
    """LC's LCCN normalisation: drop blanks and any ``/...`` suffix; ``-NNN`` pads to 6 digits.

    >>> normalise_lccn("n  79021164")
    'n79021164'
    >>> normalise_lccn("n79-2116")
    'n79002116'
    """
    value = "".join(value.split()).split("/", 1)[0]
    if "-" in value:
        left, _, right = value.partition("-")
        if right.isdigit() and len(right) <= 6:
            value = left + right.zfill(6)
    return value


def _uri(value: str) -> NamedNode | None:
    if _BAD_IRI_CHARS.search(value) or len(value) > 2000 or not _HAS_HOST.match(value):
        return None
    loc = _ID_LOC.match(value)
    if loc:
        value = f"http://id.loc.gov/{loc.group(1)}/{loc.group(2)}/{loc.group(3)}"
    fast = _FAST_IRI.match(value)
    if fast:
        value = f"http://id.worldcat.org/fast/{fast.group(1)}"
    try:
        return NamedNode(value)
    except ValueError:
        return None


def lccn_iri(value: str) -> NamedNode | None:
    """An LCCN of an LC authority file (``n 79021164``, ``sh 85076502``) -> its id.loc.gov IRI."""
    lccn = _LCCN.match(normalise_lccn(value).casefold())
    if not lccn or lccn.group(1) not in _LCCN_AUTHORITIES:
        return None
    return NamedNode(f"http://id.loc.gov/authorities/{_LCCN_AUTHORITIES[lccn.group(1)]}/{lccn.group(0)}")


def authority_iri(value: str) -> NamedNode | None:
    """$0/$1 -> authority IRI: ``(DLC)n 79021164`` -> LC names, ``(OCoLC)fst...`` -> FAST.

    >>> authority_iri("(DLC)n  79021164").value
    'http://id.loc.gov/authorities/names/n79021164'
    >>> authority_iri("(OCoLC)fst00862898").value
    'http://id.worldcat.org/fast/862898'
    >>> authority_iri("(DE-588)118505602-4").value
    'https://d-nb.info/gnd/118505602-4'
    >>> authority_iri("(CaOTULAS)123") is None
    True
    """
    if not value:
        return None
    text = value.strip()
    if len(text) > 2000:
        return None
    prefixed = _PREFIXED.match(text)
    if prefixed:
        org, rest = prefixed.group(1).strip().casefold(), prefixed.group(2).strip()
        if org == "uri":
            text = rest
        elif org == "dlc":
            return lccn_iri(rest)
        elif org == "ocolc":
            fast = re.match(r"^fst0*(\d{1,10})$", rest)
            return NamedNode(f"http://id.worldcat.org/fast/{fast.group(1)}") if fast else None
        elif org in _IDENTIFIER_BASES:
            base, pattern = _IDENTIFIER_BASES[org]
            ident = rest.replace(" ", "") if org in ("isni", "viaf") else rest
            return NamedNode(base + ident) if pattern.match(ident) else None
        else:
            return None
    if re.match(r"^https?://", text, re.IGNORECASE):
        return _uri(text)
    return lccn_iri(text)
