"""Headings (names, topics, places, genres) -> labels and IRIs, shared by bib and authority mapping.

A heading names the same agent or concept wherever it occurs, so both mappers
must derive its IRI the same way. The recipe, in order:

1. an authority IRI in ``$0`` or ``$1`` (:func:`ingest.marc.vocab.authority_iri`);
2. else a key minted with :meth:`IriMinter.from_key`:

   * names (X00, X10, X11): ``minter.from_key("agent", agent_key(field))``
     where the key is the name portion only (:func:`agent_label`), so
     ``700 $a Austen, Jane, $d 1775-1817, $e author.`` and the authority
     ``100 $a Austen, Jane, $d 1775-1817`` meet;
   * everything else (topics, places, genres, titles, chronological terms):
     ``minter.from_key("concept", concept_key(field, scheme))`` where the key
     is ``"{scheme IRI}|{label}"`` (empty scheme IRI when unknown), so the
     same words in two thesauri stay two concepts.

``from_key`` normalises case, accents, punctuation and spacing, so the ISBD
punctuation of one record does not split a heading from its twin.
"""

from __future__ import annotations

import unicodedata

from pymarc import Field
from pyoxigraph import NamedNode

from ingest.iri import IriMinter
from ingest.marc.vocab import authority_iri
from ingest.quads import clean_text
from ontology.namespaces import BF

#: Subfields of the name portion, by the last two digits of the tag.
_NAME_CODES = {"00": "abcdgjq", "10": "abcdgn", "11": "acdegnq"}
#: Subfields that open the title portion of a name/title heading.
_TITLE_START = "tkflmors"
_SUBDIVISIONS = "vxyz"
#: Control subfields ($0 authority, $2 source, $6 linkage, $w control...) and $i relationship.
_CONTROL = "0123456789wi"
_CLASS_BY_SUFFIX = {"00": BF.Person, "10": BF.Organization, "11": BF.Meeting}
#: id.loc.gov authority files that name things other than agents.
_NOT_AGENT_FILES = (
    "http://id.loc.gov/authorities/subjects/",
    "http://id.loc.gov/authorities/childrensSubjects/",
    "http://id.loc.gov/authorities/genreForms/",
    "http://id.loc.gov/authorities/demographicTerms/",
    "http://id.loc.gov/authorities/performanceMediums/",
)


def effective_tag(field: Field) -> str:
    """The field's tag, or for an 880 the tag it pairs with (from ``$6``)."""
    tag = field.tag or ""
    if tag == "880":
        linkage = next((v for v in field.get_subfields("6") if v), "")
        if len(linkage) >= 3 and linkage[:3].isdigit():
            return linkage[:3]
    return tag


#: Directional marks MARC puts around right-to-left text (880 fields); not part of a heading.
#: Values are also put in NFC: MARC-8 decodes to decomposed letters, UTF-8 records vary.
_BIDI = " \u200e\u200f\u202a\u202b\u202c\u202d\u202e"


#: Abbreviations LC headings end with, whose period :func:`clean_text` would drop.
_ABBREVIATIONS = ("etc.", "cent.", "Dept.", "Inc.", "Ltd.", "Bros.", "Corp.", "Govt.", "Univ.")


def _clean(value: str) -> str:
    """ISBD punctuation off, but ``Pay, allowances, etc.`` and ``17th cent.`` keep their period."""
    cleaned = clean_text(value)
    if cleaned and value.rstrip(" ,;:/").endswith(_ABBREVIATIONS) and not cleaned.endswith("."):
        return cleaned + "."
    return cleaned


def _heading_value(value: str | None) -> str:
    """A subfield value in NFC without edge spaces and bidi marks (``""`` for none)."""
    if not value:
        return ""
    if not value.isascii():  # ASCII is already NFC; most headings are ASCII
        value = unicodedata.normalize("NFC", value)
    return value.strip(_BIDI)


def _subfields(field: Field) -> list[tuple[str, str]]:
    if field.control_field:
        return []
    pairs = []
    for code, value in field.subfields:  # _heading_value, inlined: this runs for every heading
        if not value:
            continue
        if not value.isascii():
            value = unicodedata.normalize("NFC", value)
        value = value.strip(_BIDI)
        if value:
            pairs.append((code, value))
    return pairs


def is_name_tag(tag: str) -> bool:
    """X00, X10, X11 (not 010/011 or 110 of a holdings record, which are not headings)."""
    return len(tag) == 3 and tag[0] in "1234678" and tag[1:] in _NAME_CODES


def has_title(field: Field) -> bool:
    """A name/title heading (``$t``): the field names a work, not only an agent."""
    if field.control_field:
        return False
    return any(code == "t" and _heading_value(value) for code, value in field.subfields)


def agent_label(field: Field) -> str:
    """The name portion of an X00/X10/X11 heading, punctuated the LC way.

    Persons take $a $b $c $d $g $j $q; organisations $a $b $c $d $g $n;
    meetings $a $c $d $e $g $n $q; all stop at the title portion ($t...) and
    leave out relators ($e, $4; $j for meetings).

    >>> from pymarc import Subfield
    >>> agent_label(Field("700", ["1", " "], [Subfield("a", "Austen, Jane,"),
    ...     Subfield("d", "1775-1817,"), Subfield("e", "author.")]))
    'Austen, Jane, 1775-1817'
    """
    suffix = effective_tag(field)[1:]
    codes = _NAME_CODES.get(suffix, "abcdgnq")
    parts: list[str] = []
    for code, value in _subfields(field):
        if code in _TITLE_START:
            break
        if code in codes:
            parts.append(value.strip())
    return _clean(" ".join(parts))


def agent_class(tag: str, first_indicator: str | None = None) -> NamedNode:
    """X00 -> bf:Person (bf:Family if ind1 = 3), X10 -> bf:Organization, X11 -> bf:Meeting."""
    suffix = (tag or "")[1:]
    if suffix == "00" and first_indicator == "3":
        return BF.Family
    return _CLASS_BY_SUFFIX.get(suffix, BF.Agent)


def authority_link(field: Field) -> NamedNode | None:
    """The first usable IRI of ``$0`` (authority record), else ``$1`` (real-world object)."""
    for code in ("0", "1"):
        for value in field.get_subfields(code):
            iri = authority_iri(value)
            if iri is not None:
                return iri
    return None


def agent_key(field: Field, label: str | None = None) -> str:
    """The key a name heading without an authority link is minted from.

    ``label`` is the field's :func:`agent_label` when the caller has it already
    (a mapper labels the agent, then names it: one reading of the field, not two).
    """
    return agent_label(field) if label is None else label


def agent_iri(field: Field, minter: IriMinter, label: str | None = None) -> NamedNode:
    """The agent a name heading names: its authority IRI, else minted from :func:`agent_key`.

    A ``$0`` on a name/title heading ($t) or on a subject string names that
    work or subject, not the agent, so it is not used for the agent.
    ``label``: as for :func:`agent_key`.
    """
    if not has_title(field):
        link = authority_link(field)
        if link is not None and not link.value.startswith(_NOT_AGENT_FILES):
            return link
    return minter.from_key("agent", agent_key(field, label))


def concept_label(field: Field) -> str:
    """Main heading and its subdivisions ($v $x $y $z) joined with ``--`` as LC displays them.

    >>> from pymarc import Subfield
    >>> concept_label(Field("650", [" ", "0"], [Subfield("a", "Authors, English"),
    ...     Subfield("y", "19th century"), Subfield("v", "Biography.")]))
    'Authors, English--19th century--Biography'
    """
    tag = effective_tag(field)
    relators = "j" if tag[1:] == "11" else "e"
    main: list[str] = []
    subdivisions: list[str] = []
    for code, value in _subfields(field):
        if code in _CONTROL or code in relators:
            continue
        if code in _SUBDIVISIONS:
            subdivisions.append(_clean(value))
        elif subdivisions:
            subdivisions[-1] = _clean(f"{subdivisions[-1]} {value}")
        else:
            main.append(value.strip())
    parts = [_clean(" ".join(main)), *subdivisions]
    return "--".join(part for part in parts if part)


def concept_key(field: Field, scheme: NamedNode | None, label: str | None = None) -> str:
    """The key a heading without an authority link is minted from: ``"{scheme}|{label}"``.

    Titles and name/titles (X30, a name with $t) name works, which belong to no
    thesaurus, so their key has no scheme and one work meets itself across
    LCSH, LCNAF and local files. ``label`` is the field's :func:`concept_label`
    when the caller has it already (it labels the concept, then names it).
    """
    if has_title(field) or effective_tag(field)[1:] == "30":
        scheme = None
    if label is None:
        label = concept_label(field)
    return f"{scheme.value if scheme is not None else ''}|{label}"


def concept_iri(
    field: Field,
    scheme: NamedNode | None,
    minter: IriMinter,
    kind: str = "concept",
    label: str | None = None,
) -> NamedNode:
    """The concept a heading names: its authority IRI, else minted from :func:`concept_key`."""
    link = authority_link(field)
    if link is not None:
        return link
    return minter.from_key(kind, concept_key(field, scheme, label))


def names_agent(field: Field) -> bool:
    """An X00/X10/X11 heading without a title portion: it names an agent, not a work."""
    return is_name_tag(effective_tag(field)) and not has_title(field)


def heading_key(field: Field, scheme: NamedNode | None) -> tuple[str, str]:
    """``(kind, key)`` that :meth:`IriMinter.from_key` names any heading from when it has no link.

    The one recipe both mappers share: names -> ``("agent", agent_key)``; a
    geographic name (X51) subdivided by nothing but $z places -> ``("place",
    concept_key)``, as the bibliographic 651 mapping names places; everything
    else (titles and complex subjects included) -> ``("concept", concept_key)``.
    """
    if names_agent(field):
        return "agent", agent_key(field)
    codes = {code for code, _ in _subfields(field)}
    if effective_tag(field)[1:] == "51" and not codes & set("vxy"):
        return "place", concept_key(field, scheme)
    return "concept", concept_key(field, scheme)


def heading_iri(field: Field, scheme: NamedNode | None, minter: IriMinter) -> NamedNode:
    """The node a heading names: :func:`agent_iri` for names, else its link or its key."""
    if names_agent(field):
        return agent_iri(field, minter)
    link = authority_link(field)
    if link is not None:
        return link
    kind, key = heading_key(field, scheme)
    return minter.from_key(kind, key)
