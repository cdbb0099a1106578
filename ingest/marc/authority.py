"""MARC 21 authority records (leader/06 = z) -> agents and concepts (BIBFRAME, SKOS, MADS/RDF).

The node an authority record describes is named so that bibliographic headings
meet it, from the strongest identifier first:

1. the LCCN in 010 $a (or an LC 001 when 003 is DLC) -> its id.loc.gov IRI
   (``n 78095332`` -> ``http://id.loc.gov/authorities/names/n78095332``), the
   IRI a bibliographic ``$0 (DLC)n 78095332`` also gives;
2. else an authority IRI in 024 ($2 viaf, isni, gnd, orcid, uri...) or 035
   (``(OCoLC)fst...``);
3. else the heading's key (:func:`ingest.marc.headings.heading_key`), the IRI
   a bibliographic heading without ``$0`` gets. 001/003 are not used: no
   other record could ever name that IRI, so nothing would meet it.

When 1 or 2 applies the record also states ``owl:sameAs`` from that IRI to the
key IRI, so headings without ``$0`` reach the authority through one link;
undifferentiated personal names (008/32 = b) get no such link, as one heading
names several people there.

4XX become ``skos:altLabel``; 5XX relate by ``$w``/0 (g broader, h narrower,
anything else related) to the node that heading names, computed with the same
recipe. Notes: 670 ``skos:note``, 678 ``skos:note``, 680 ``skos:scopeNote``,
667 ``skos:editorialNote``, 688 ``skos:historyNote``. The scheme comes from
008/11 for subject headings and from the LCCN for LC names. Headings in tags
MARC 21 does not define (the IISG thesaurus uses 103/403/503, Dutch $a and
English $b) become plain concepts, labelled per language when the profile of
their 003 is known.
"""

from __future__ import annotations

import re
import unicodedata

from pymarc import Field, Record
from pyoxigraph import Literal, NamedNode

from ingest.iri import IriMinter
from ingest.marc.common import control_value
from ingest.marc.headings import (
    agent_class,
    agent_label,
    concept_label,
    has_title,
    heading_iri,
    heading_key,
    names_agent,
)
from ingest.marc.vocab import authority_iri, detect_script, lccn_iri, normalise_lccn, subject_scheme
from ingest.quads import GraphBuilder, clean_text
from ontology.namespaces import BF, MADS, OWL, RDF, RDFS, SDO, SKOS, XSD

_ORGANIZATIONS = "http://id.loc.gov/vocabulary/organizations/"
_CANCELLED = NamedNode("http://id.loc.gov/vocabulary/mstatus/cancinv")
_LC_NAMES = "http://id.loc.gov/authorities/names/"
_LCNAF = NamedNode("http://id.loc.gov/authorities/names")

#: MADS class of each heading tag (second and third digits); subject tags also get a scheme.
_SUBJECT_CLASSES = {
    "47": MADS.Topic, "48": MADS.Temporal, "50": MADS.Topic, "51": MADS.Geographic,
    "55": MADS.GenreForm, "62": MADS.Topic, "80": MADS.Topic, "81": MADS.Geographic,
    "82": MADS.Temporal, "85": MADS.GenreForm,
}
_NAME_CLASSES = {"00": MADS.PersonalName, "10": MADS.CorporateName, "11": MADS.ConferenceName}
_HEADING_TAGS = tuple(f"1{s}" for s in (*_NAME_CLASSES, "30", *_SUBJECT_CLASSES))
#: 008/11 (subject heading system) -> (2nd indicator of a 6XX, $2) for vocab.subject_scheme.
_SCHEME_BY_008 = {
    "a": ("0", None), "b": ("1", None), "c": ("2", None), "d": ("3", None), "k": ("5", None),
    "v": ("6", None), "r": ("7", "aat"), "s": ("7", "sears"),
}
#: Local profiles of tags MARC 21 leaves undefined: (003, tag) -> language of each subfield.
_LOCAL_PROFILES = {("iisg", "103"): {"a": "nl", "b": "en"}, ("iisg", "403"): {"a": "nl", "b": "en"}}
_NOTES = {"670": SKOS.note, "678": SKOS.note, "680": SKOS.scopeNote, "667": SKOS.editorialNote,
          "688": SKOS.historyNote}
_RELATIONS = {"g": SKOS.broader, "h": SKOS.narrower}
_YEARS = re.compile(r"^(?:b\.\s*)?(\d{3,4})\??\s*-\s*(\d{3,4})?\??\.?$")
_DATE_TYPES = (
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), XSD.date),
    (re.compile(r"^\d{4}-\d{2}$"), XSD.gYearMonth),
    (re.compile(r"^\d{4}$"), XSD.gYear),
)


def map_authority(record: Record, builder: GraphBuilder, minter: IriMinter) -> None:
    """State the agent or concept an authority record establishes, in ``builder``'s graph.

    A record without a heading (no 1XX) adds nothing.
    """
    heading = _heading_field(record)
    if heading is None:
        return
    fixed = control_value(record, "008") or ""
    tag = heading.tag
    is_subject = tag[1:] in _SUBJECT_CLASSES
    scheme = _scheme(record, fixed) if is_subject else None
    node = _record_iri(record, heading, scheme, minter)
    _state_classes(builder, node, heading, fixed)
    _state_labels(record, builder, node, heading)
    if node.value.startswith(_LC_NAMES):
        builder.add(node, SKOS.inScheme, _LCNAF)
    elif scheme is not None:
        builder.add(node, SKOS.inScheme, scheme)
    kind, key = heading_key(heading, scheme)
    key_node = minter.from_key(kind, key)
    undifferentiated = len(fixed) > 32 and fixed[32] == "b" and tag == "100"
    if key_node != node and not undifferentiated:
        builder.add(node, OWL.sameAs, key_node)
    for field in record.fields:
        if field.is_control_field():
            continue
        if field.tag[:1] == "5" and field.tag[1:].isdigit():
            _state_relation(builder, node, field, scheme, minter)
        elif field.tag in _NOTES:
            note = _join(field, "abiu")
            if note:  # verbatim: a note's final period ends a sentence, not an ISBD area
                builder.add(node, _NOTES[field.tag], Literal(note))
    _state_identifiers(record, builder, node)
    if names_agent(heading) and tag[1:] == "00":
        _state_life_dates(record, builder, node, heading)


def _heading_field(record: Record) -> Field | None:
    """The first 1XX with a label: a MARC 21 heading tag, else any other 1XX."""
    fallback = None
    for field in record.fields:
        if field.is_control_field() or not field.tag.startswith("1") or not _label(field):
            continue
        if field.tag in _HEADING_TAGS:
            return field
        if fallback is None and field.tag[1:].isdigit():
            fallback = field
    return fallback


def _scheme(record: Record, fixed: str) -> NamedNode | None:
    code = fixed[11] if len(fixed) > 11 else ""
    if code == "z":
        source = next((v for f in record.get_fields("040") for v in f.get_subfields("f")), None)
        return subject_scheme("7", source)
    indicator, source = _SCHEME_BY_008.get(code, ("4", None))
    return subject_scheme(indicator, source)


def _record_iri(
    record: Record, heading: Field, scheme: NamedNode | None, minter: IriMinter
) -> NamedNode:
    for field in record.get_fields("010"):
        for value in field.get_subfields("a"):
            iri = lccn_iri(value)
            if iri is not None:
                return iri
    if (control_value(record, "003") or "").upper() == "DLC":
        iri = lccn_iri(control_value(record, "001") or "")
        if iri is not None:
            return iri
    for field in record.get_fields("024"):
        source = next(iter(field.get_subfields("2")), "").strip().casefold()
        for value in field.get_subfields("a"):
            iri = authority_iri(value if source == "uri" else f"({source}){value}")
            if iri is not None:
                return iri
    for field in record.get_fields("035"):
        for value in field.get_subfields("a"):
            iri = authority_iri(value)
            if iri is not None:
                return iri
    kind, key = heading_key(heading, scheme)
    return minter.from_key(kind, key)


def _state_classes(builder: GraphBuilder, node: NamedNode, heading: Field, fixed: str) -> None:
    tag = heading.tag
    suffix = tag[1:]
    if names_agent(heading):
        builder.type(node, agent_class(tag, heading.indicator1), BF.Agent, _NAME_CLASSES[suffix])
    elif has_title(heading) or suffix == "30":
        builder.type(node, SKOS.Concept, MADS.NameTitle if has_title(heading) else MADS.Title)
    elif suffix in _SUBJECT_CLASSES:
        subdivided = suffix in ("50", "51", "55") and any(
            sf.code in "vxyz" for sf in heading.subfields
        )
        mads_class = MADS.ComplexSubject if subdivided else _SUBJECT_CLASSES[suffix]
        builder.type(node, SKOS.Concept, mads_class)
        if suffix == "51":
            builder.type(node, BF.Place)
    else:
        builder.type(node, SKOS.Concept)
    # 008/09 kind of record: b, c (references), e (node label) and g do not establish a heading.
    if not (len(fixed) > 9 and fixed[9] in "bceg"):
        builder.type(node, MADS.Authority)


def _label(field: Field) -> str:
    return agent_label(field) if names_agent(field) else concept_label(field)


def _profile(record: Record, field: Field) -> dict[str, str] | None:
    org = (control_value(record, "003") or "").casefold()
    return _LOCAL_PROFILES.get((org, field.tag))


def _labelled(record: Record, field: Field) -> list[tuple[str, str | None]]:
    """(text, language tag) pairs a heading gives; a script subtag when the text is not Latin."""
    profile = _profile(record, field)
    if profile is not None:
        return [
            (clean_text(sf.value), profile[sf.code])
            for sf in field.subfields
            if sf.code in profile and sf.value and clean_text(sf.value)
        ]
    text = _label(field)
    script = detect_script(text)
    return [(text, f"und-{script}" if script else None)] if text else []


def _literal(text: str, language: str | None) -> Literal:
    # Labels are cleaned by headings already; GraphBuilder.text would clean them
    # again and drop the period of "etc." that LC headings keep.
    return Literal(text, language=language) if language else Literal(text)


def _state_labels(record: Record, builder: GraphBuilder, node: NamedNode, heading: Field) -> None:
    for text, language in _labelled(record, heading):
        for predicate in (SKOS.prefLabel, RDFS.label, MADS.authoritativeLabel):
            builder.add(node, predicate, _literal(text, language))
    for field in record.fields:
        if not field.is_control_field() and field.tag[:1] == "4" and field.tag[1:].isdigit():
            for text, language in _labelled(record, field):
                builder.add(node, SKOS.altLabel, _literal(text, language))


def _state_relation(
    builder: GraphBuilder,
    node: NamedNode,
    field: Field,
    scheme: NamedNode | None,
    minter: IriMinter,
) -> None:
    if not _label(field):
        return
    control = next(iter(field.get_subfields("w")), "")
    predicate = _RELATIONS.get(control[:1], SKOS.related)
    target = heading_iri(field, scheme, minter)
    if target != node:
        builder.add(node, predicate, target)


def _join(field: Field, codes: str) -> str:
    text = " ".join(sf.value.strip() for sf in field.subfields if sf.code in codes and sf.value)
    return unicodedata.normalize("NFC", text).strip()


def _state_identifiers(record: Record, builder: GraphBuilder, node: NamedNode) -> None:
    """010 as bf:Lccn (cancelled $z too), 035 and 001/003 as bf:Local, each a node of this graph."""
    count = 0

    def identifier(cls: NamedNode, value: str, assigner: str | None = None) -> NamedNode:
        nonlocal count
        count += 1
        ident = IriMinter.local(builder.graph, "identifier", count)
        builder.add(node, BF.identifiedBy, ident)
        builder.type(ident, cls)
        builder.text(ident, RDF.value, value)
        code = re.sub(r"[^a-z0-9-]", "", (assigner or "").casefold())
        if code:
            builder.add(ident, BF.assigner, NamedNode(_ORGANIZATIONS + code))
        return ident

    for field in record.get_fields("010"):
        for code, value in ((sf.code, sf.value) for sf in field.subfields):
            if code in "az" and value and value.strip():
                ident = identifier(BF.Lccn, normalise_lccn(value))
                if code == "z":
                    builder.add(ident, BF.status, _CANCELLED)
    for field in record.get_fields("035"):
        for value in field.get_subfields("a"):
            match = re.match(r"^\(([^()]{1,40})\)\s*(.+)$", value.strip())
            if match:
                identifier(BF.Local, match.group(2), match.group(1))
            elif value.strip():
                identifier(BF.Local, value.strip())
    control_number = control_value(record, "001")
    if control_number:
        identifier(BF.Local, control_number, control_value(record, "003"))


def _state_life_dates(
    record: Record, builder: GraphBuilder, node: NamedNode, heading: Field
) -> None:
    """Birth and death from 046 $f/$g when they are plain dates, else from a ``1775-1817`` $d."""
    birth = death = None
    for field in record.get_fields("046"):
        birth = birth or _date(next(iter(field.get_subfields("f")), ""))
        death = death or _date(next(iter(field.get_subfields("g")), ""))
    if birth is None and death is None:
        years = _YEARS.match(clean_text(" ".join(heading.get_subfields("d"))))
        if years:
            birth = _date(years.group(1).zfill(4))
            death = _date((years.group(2) or "").zfill(4)) if years.group(2) else None
    for predicate, value in ((SDO.birthDate, birth), (SDO.deathDate, death)):
        if value is not None:
            builder.typed(node, predicate, value[0], value[1])


def _date(value: str) -> tuple[str, NamedNode] | None:
    value = value.strip()
    for pattern, datatype in _DATE_TYPES:
        if pattern.match(value):
            return value, datatype
    return None
