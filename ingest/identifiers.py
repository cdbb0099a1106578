"""The identifiers that make two sources meet: DOI, ORCID, ROR, ISSN, ISBN, normalised once.

A resource is named from its strongest identifier (``ingest.iri``), so every
mapper must turn the same identifier into the same text, whatever form its
source wrote it in (``https://doi.org/10.1371/JOURNAL.pone.0033693``,
``doi:10.1371/journal.pone.0033693``; ``http://orcid.org/0000-0002-1825-0097``,
``0000000218250097``). Check digits are verified (python-stdnum for ISSN,
ISBN and ORCID's ISO 7064 MOD 11-2; ROR's own ISO 7064 MOD 97-10 here), and a
value that fails is ``None``: a mistyped ORCID would otherwise join two people.
Callers keep such a value as a warning, never as an identifier.
"""

from __future__ import annotations

import re

from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_11_2

__all__ = ["ORCID_BASE", "ROR_BASE", "normalise_doi", "normalise_isbn", "normalise_issn",
           "normalise_orcid", "normalise_ror"]

ORCID_BASE = "https://orcid.org/"
ROR_BASE = "https://ror.org/"

#: A DOI: directory indicator ``10.``, a registrant code, ``/``, a suffix of printable characters.
_DOI = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")
_DOI_PREFIXES = re.compile(
    r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|info:doi/|urn:doi:)", re.IGNORECASE
)
_ORCID = re.compile(r"^(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$")
_ORCID_PREFIX = re.compile(r"^(?:https?://(?:www\.)?orcid\.org/|orcid:\s*)", re.IGNORECASE)
_ROR = re.compile(r"^0[0-9a-hjkmnp-tv-z]{6}\d{2}$")
_ROR_PREFIX = re.compile(r"^(?:https?://(?:www\.)?ror\.org/)", re.IGNORECASE)
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
#: Longer than any real DOI; a longer value is refused rather than hashed into a name.
MAX_DOI_LENGTH = 300


def normalise_doi(value: str | None) -> str | None:
    """The DOI in lower case without resolver prefix, or ``None`` if it is not one.

    DOIs are case-insensitive (the DOI Handbook, 2.4), so ``10.1371/JOURNAL.PONE.1``
    and ``10.1371/journal.pone.1`` are one identifier and must name one node.

    >>> normalise_doi("https://doi.org/10.1371/JOURNAL.pone.0033693")
    '10.1371/journal.pone.0033693'
    >>> normalise_doi("doi:10.5061/dryad.8515")
    '10.5061/dryad.8515'
    >>> normalise_doi("10.1890/0012-9658(2006)87%5B2832:tiopma%5D2.0.co;2")
    '10.1890/0012-9658(2006)87[2832:tiopma]2.0.co;2'
    >>> normalise_doi("not a doi") is None
    True
    """
    if not value or not isinstance(value, str):
        return None
    text = _DOI_PREFIXES.sub("", value.strip())
    if "%" in text:  # a DOI copied out of a URL: its reserved characters are percent-encoded
        from urllib.parse import unquote

        text = unquote(text)
    text = text.strip().lower()
    if len(text) > MAX_DOI_LENGTH or not _DOI.match(text):
        return None
    return text


def normalise_orcid(value: str | None) -> str | None:
    """``0000-0002-1825-0097`` form of a checksum-valid ORCID iD, else ``None``.

    >>> normalise_orcid("http://orcid.org/0000-0002-1825-0097")
    '0000-0002-1825-0097'
    >>> normalise_orcid("0000000218250097")
    '0000-0002-1825-0097'
    >>> normalise_orcid("0000-0002-1825-0098") is None
    True
    """
    if not value or not isinstance(value, str):
        return None
    match = _ORCID.match(_ORCID_PREFIX.sub("", value.strip()).upper())
    if match is None:
        return None
    digits = "".join(match.groups())
    if not mod_11_2.is_valid(digits):
        return None
    return "-".join(match.groups())


def normalise_ror(value: str | None) -> str | None:
    """The 9-character ROR ID (``01c27hj86``) when its two check digits agree, else ``None``.

    A ROR ID is ``0``, six Crockford base-32 characters and a checksum of
    the number they make (ISO/IEC 7064 MOD 97-10).

    >>> normalise_ror("https://ror.org/01c27hj86")
    '01c27hj86'
    >>> normalise_ror("01c27hj87") is None
    True
    """
    if not value or not isinstance(value, str):
        return None
    text = _ROR_PREFIX.sub("", value.strip()).lower().rstrip("/")
    if not _ROR.match(text):
        return None
    number = 0
    for char in text[:7]:
        number = number * 32 + _CROCKFORD.index(char)
    return text if 98 - (number * 100) % 97 == int(text[7:]) else None


def normalise_issn(value: str | None) -> str | None:
    """``1234-5679`` form of a checksum-valid ISSN (as the MARC mapper writes it), else ``None``.

    >>> normalise_issn("2050084X")
    '2050-084X'
    >>> normalise_issn("0028-0837") is None
    True
    """
    if not value or not isinstance(value, str):
        return None
    try:
        return stdnum_issn.format(stdnum_issn.validate(value.strip()))
    except ValidationError:
        return None


def normalise_isbn(value: str | None) -> str | None:
    """ISBN-13 digits of a checksum-valid ISBN (as the MARC mapper names Instances), else ``None``.

    >>> normalise_isbn("978-0-387-68574-8")
    '9780387685748'
    >>> normalise_isbn("0-14-081759-X")
    '9780140817591'
    """
    if not value or not isinstance(value, str):
        return None
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(value.strip())).replace("-", "")
    except ValidationError:
        return None
