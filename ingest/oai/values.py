"""The values of an open-access record told apart: which identifier a string is, which language.

``dc:identifier`` holds DOIs, ISBNs, ISSNs, handles, URNs and URLs alike, in
any of their written forms, and ``dc:language`` codes and names alike; the
Instance is named from these values (``ingest.oai.description``), so each is
normalised the way the other sources normalise it: DOIs found by idutils and
normalised by ``ingest.identifiers`` (as every source's), ISBNs and ISSNs by the MARC mapper's own functions.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from types import ModuleType

from pyoxigraph import NamedNode

from ingest import identifiers
from ingest.marc import vocab
from ingest.marc.identifiers import normalise_isbn, normalise_issn
from ingest.marc.terms import BF
from ontology.term_labels import languages


@cache
def _idutils() -> ModuleType:
    """idutils, imported on first use: its import takes about 0.6 s (it compiles its patterns
    and imports isbnlib), which every ``catalograph`` command paid, open-access or not."""
    return importlib.import_module("idutils")


#: ISO 639-1 code -> MARC code, for ``dc:language`` values such as ``en``.
_BY_ISO639_1 = {row.iso639_1: code for code, row in languages().items() if row.iso639_1}
_BY_NAME = {row.english.casefold(): code for code, row in languages().items()}


def normalise_doi(value: str) -> str | None:
    """The DOI in ``value`` (``doi:``, ``https://doi.org/`` forms too), lower-cased, else ``None``.

    DOIs are case-insensitive (the DOI Handbook, 2.4), so two sources that
    differ in case name one Instance.

    >>> normalise_doi("https://doi.org/10.1016/J.ACHA.2012.03.009")
    '10.1016/j.acha.2012.03.009'
    >>> normalise_doi("doi:10.1103/PhysRevD.91.023525")
    '10.1103/physrevd.91.023525'
    >>> normalise_doi("http://example.org/x") is None
    True
    """
    value = value.strip()
    if not _idutils().is_doi(value):  # idutils knows the written forms (info:doi/, dx.doi.org...)
        return None
    # then the one rule every source names a DOI's Instance by (percent-decoded, lower case)
    return identifiers.normalise_doi(_idutils().normalize_doi(value))


def identifier_kind(value: str) -> tuple[NamedNode, str]:
    """``(BIBFRAME identifier class, normalised value)`` of a ``dc:identifier``-like value.

    >>> identifier_kind("ISBN 0-7914-5833-4 (alk. paper)")[1]
    '9780791458334'
    >>> identifier_kind("urn:issn:0028-0836")[0].value.rsplit("/", 1)[1]
    'Issn'
    >>> identifier_kind("http://hdl.handle.net/2027/mdp.39015")[0].value.rsplit("/", 1)[1]
    'Hdl'
    """
    doi = normalise_doi(value)
    if doi:
        return BF.Doi, doi
    lowered = value.casefold()
    if "isbn" in lowered or re.fullmatch(r"[0-9Xx\- ]{10,17}", value.strip()):
        isbn = normalise_isbn(value)
        if isbn:
            return BF.Isbn, isbn
    if "issn" in lowered or re.fullmatch(r"\d{4}-?\d{3}[\dXx]", value.strip()):
        issn = normalise_issn(value)
        if issn:
            return BF.Issn, issn
    schemes = _idutils().detect_identifier_schemes(value.strip())
    if "handle" in schemes and "doi" not in schemes:
        return BF.Hdl, value.strip()
    if "urn" in schemes:
        return BF.Urn, value.strip()
    return BF.Identifier, value.strip()


def language_code(value: str) -> str | None:
    """A MARC language code for a ``dc:language`` value: ``eng``, ``en``, ``en-US``, ``English``.

    >>> [language_code(v) for v in ("eng", "en-GB", "French", "xx")]
    ['eng', 'eng', 'fre', None]
    """
    text = value.strip().casefold()
    if not text:
        return None
    if vocab.language_iri(text) is not None and len(text) == 3:
        return text
    primary = re.split(r"[-_]", text, maxsplit=1)[0]
    if primary in _BY_ISO639_1:
        return _BY_ISO639_1[primary]
    if len(primary) == 3 and vocab.language_iri(primary) is not None:
        return primary
    return _BY_NAME.get(text)
