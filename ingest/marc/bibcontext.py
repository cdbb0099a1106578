"""What the parts of one bibliographic record's mapping share.

The record's Instance and Work, its language, the counters that name its
local nodes (``{graph}#title-1``...) and the 880 pairs. The field helpers
below read ``Field.subfields`` directly: pymarc attribute access is the main
cost of mapping, so every helper walks the subfield list once.
"""

from __future__ import annotations

from typing import NamedTuple
from unicodedata import is_normalized, normalize

from pymarc import Field, Record
from pymarc.field import Subfield
from pyoxigraph import Literal, NamedNode

from ingest.iri import IriMinter
from ingest.quads import GraphBuilder

#: Directional marks that 880 fields carry around their text (they would
#: otherwise hide trailing ISBD punctuation from ``clean_text``).
_EDGE = " \t\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


#: Keyed IRIs already minted in this process: (base, kind, key) -> IRI. Headings
#: (authors, subjects, series) recur from record to record, and minting one
#: (normalise, SHA-1, base32) costs more than mapping several fields.
_KEYED: dict[tuple[str, str, str], NamedNode] = {}
_KEYED_MAX = 20_000  # bounded: about 4 MB per worker


class RememberingMinter(IriMinter):
    """The caller's minter, remembering what :meth:`from_key` gave (same key, same IRI)."""

    def __init__(self, minter: IriMinter) -> None:
        # IriMinter.__init__ is not called: the base was validated when ``minter`` was made.
        self.layout = minter.layout
        self.base = minter.base
        self._minter = minter

    def from_key(self, kind: str, key: str) -> NamedNode:
        cache_key = (self.base, kind, key)
        iri = _KEYED.get(cache_key)
        if iri is None:
            if len(_KEYED) >= _KEYED_MAX:
                _KEYED.clear()
            iri = _KEYED[cache_key] = self._minter.from_key(kind, key)
        return iri

    def from_identifier(self, kind: str, scheme: str, value: str) -> NamedNode:
        return self._minter.from_identifier(kind, scheme, value)

    def resource(self, kind: str, slug: str) -> NamedNode:
        return self._minter.resource(kind, slug)


class Version(NamedTuple):
    """One version of a field: the field itself or its 880 partner, with the
    BCP 47 tag its literals carry (``None``: untagged)."""

    field: Field
    lang: str | None


def first(field: Field, code: str) -> str | None:
    """The first non-empty value of subfield ``code``."""
    for c, v in field.subfields:
        if c == code and v:
            return v
    return None


def joined(field: Field, codes: frozenset[str], sep: str = " ") -> str:
    """The values of ``codes`` joined, each stripped of edge spaces and bidi marks."""
    return sep.join(v.strip(_EDGE) for c, v in field.subfields if c in codes and v)


def trim(value: str) -> str:
    """Edge spaces and bidi marks off; also the Arabic comma/semicolon that ends RTL ISBD parts."""
    return value.strip(_EDGE).rstrip("\u060c\u061b ")


def indicator(field: Field, which: int) -> str:
    inds = field.indicators
    if not inds:
        return " "
    value = inds[which]
    return value if value else " "


def heading_lang(lang: str | None) -> str | None:
    """The tag of a heading's own label: none for a romanised heading (it must equal the
    authority record's plain label), the script tag for an unlinked 880 heading."""
    return None if lang is None or lang.endswith("-Latn") else lang


class BibContext:
    """State of one record's mapping; built once per record by ``map_bibliographic``."""

    __slots__ = (
        "record",
        "b",
        "minter",
        "graph",
        "record_name",
        "leader",
        "f008",
        "by_tag",
        "instance",
        "work",
        "marc_language",
        "lang",
        "pairs",
        "publication",
        "titled",
        "memo",
        "_counters",
        "_tags",
    )

    def __init__(self, record: Record, builder: GraphBuilder, minter: IriMinter) -> None:
        self.record = record
        self.b = builder
        self.minter = minter if isinstance(minter, RememberingMinter) else RememberingMinter(minter)
        self.graph = builder.graph
        #: The graph the record's own 003 + 001 name (``graph`` unless a harvest names it).
        self.record_name = builder.graph
        self.leader = str(record.leader or "").ljust(24)
        by_tag: dict[str, list[Field]] = {}
        for field in record.fields:
            by_tag.setdefault(field.tag, []).append(field)
            _compose(field.subfields)
        self.by_tag = by_tag
        f008 = by_tag.get("008")
        self.f008 = ((f008[0].data or "") if f008 else "").ljust(40)
        self.instance: NamedNode = builder.graph  # replaced once the identifiers are read
        self.work: NamedNode = builder.graph
        self.marc_language: str | None = None
        self.lang: str | None = None
        #: (tag, occurrence) -> 880 field re-tagged as its partner's tag.
        self.pairs: dict[tuple[str, str], Version] = {}
        #: The first bf:Publication node, where the 008 date goes.
        self.publication: NamedNode | None = None
        #: Whether the Instance got a bf:title (every Instance must have one).
        self.titled = False
        #: Per-record caches of the parts (one bf:Source node per source name...).
        self.memo: dict[str, dict] = {}
        self._counters: dict[str, int] = {}
        self._tags: dict[str, bool] = {}

    def local(self, kind: str) -> NamedNode:
        """The next local node of ``kind`` in this record graph: ``{graph}#{kind}-{n}``."""
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        return IriMinter.local(self.graph, kind, n)

    def fields(self, tag: str) -> list[Field]:
        return self.by_tag.get(tag, [])

    def field(self, tag: str) -> Field | None:
        found = self.by_tag.get(tag)
        return found[0] if found else None

    def versions(self, field: Field) -> list[Version]:
        """The field and its 880 partner, each with the language tag of its literals.

        The romanised field is tagged ``{lang}-Latn`` only when a non-Latin
        partner exists and the record's language is known; otherwise untagged.
        """
        if not self.pairs:
            return [Version(field, None)]
        occurrence = None
        for c, v in field.subfields:
            if c == "6" and v:
                occurrence = linkage_occurrence(v)
                break
        if occurrence is None:
            return [Version(field, None)]
        partner = self.pairs.get((field.tag, occurrence))
        if partner is None:
            return [Version(field, None)]
        roman = None
        lang = self.lang
        tag = partner.lang
        if lang and tag and tag.startswith(lang + "-") and not tag.endswith("-Latn"):
            roman = self.valid_tag(f"{lang}-Latn")
        return [Version(field, roman), partner]

    def valid_tag(self, tag: str) -> str | None:
        """``tag`` if pyoxigraph accepts it as a language tag (cached per record)."""
        ok = self._tags.get(tag)
        if ok is None:
            try:
                Literal("x", language=tag)
                ok = True
            except ValueError:
                ok = False
            self._tags[tag] = ok
        return tag if ok else None


def _compose(subfields: list[Subfield]) -> None:
    """Put subfield values in NFC, in place: MARC-8 decodes to decomposed letters and
    UTF-8 records vary, and "Ḥarb" must be one string however it was typed."""
    for index, (code, value) in enumerate(subfields):
        if value and type(value) is str and not value.isascii() and not is_normalized("NFC", value):
            subfields[index] = Subfield(code, normalize("NFC", value))


def linkage_occurrence(linkage: str) -> str | None:
    """``880-01`` or ``880-01/(3/r`` -> ``01``."""
    head = linkage.strip().split("/", 1)[0]
    if len(head) >= 6 and head[3] == "-":
        return head[4:].strip() or None
    return None
