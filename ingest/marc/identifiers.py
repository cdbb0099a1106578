"""Identifiers (001/003, 010, 020, 022, 024, 035) and the Instance IRI chosen from the strongest.

The Instance is named from, in order: the first DOI (024 7_ $2 doi, lower
case as ``ingest.identifiers.normalise_doi`` gives it, so the Crossref,
DataCite, OpenAlex, JATS or PubMed record of that DOI names the same
Instance, whatever else either carries), unless the record is a book with a
valid ISBN (books are named by ISBN on both sides); then a well-formed LCCN
(010 $a), the first valid ISBN (020 $a, as ISBN-13 digits), the first valid
ISSN (022 $a); else the record's own name (003 + 001, as the record graph is
named). A record with a DOI also states ``owl:sameAs`` from its Instance to
the IRIs its LCCN, ISBN or ISSN name (``instance_aliases``), so a record of
one of those without the DOI is still said to be the same (an assertion that
goes with the record, as a reviewer's acceptance of a candidate is one). Two records
that share one of these identifiers therefore describe one Instance node,
which is the point (a library's record and the LC record of one printing
meet); the cost is that a record quoting a wrong LCCN or a set ISBN joins the
wrong Instance, so only checksum-valid ISBN/ISSN and well-formed LCCNs count,
and ``$z`` (cancelled/invalid) values never do.
"""

from __future__ import annotations

import re

from pyoxigraph import Literal, NamedNode

from ingest.identifiers import normalise_doi
from ingest.identifiers import normalise_isbn as checked_isbn
from ingest.identifiers import normalise_issn as checked_issn
from ingest.marc.bibcontext import BibContext, Version, first, indicator, trim
from ingest.marc.common import control_number_instance
from ingest.marc.terms import BF, RDF
from ingest.quads import clean_text

_ISBN_TOKEN = re.compile(r"[0-9][0-9Xx\- ]{8,16}[0-9Xx]")
_ISSN = re.compile(r"([0-9]{4})-?([0-9]{3}[0-9Xx])")
_LCCN = re.compile(r"^[a-z]{0,3}[0-9]{8,10}$")
_QUALIFIER = re.compile(r"\(([^)]*)\)")

#: id.loc.gov status of ``$z`` (cancelled/invalid) and ``$y`` (incorrect) values.
_CANCELLED = NamedNode("http://id.loc.gov/vocabulary/mstatus/cancinv")
_INCORRECT = NamedNode("http://id.loc.gov/vocabulary/mstatus/incorrect")

_024_CLASSES = {"0": BF.Isrc, "1": BF.Upc, "2": BF.Ismn, "3": BF.Ean, "4": BF.Sici}
_024_SOURCES = {
    "doi": BF.Doi, "hdl": BF.Hdl, "handle": BF.Hdl, "isni": BF.Isni, "uri": BF.Identifier,
    "urn": BF.Urn, "ansi": BF.Ansi, "iso": BF.Iso, "istc": BF.Istc, "iswc": BF.Iswc,
}


def normalise_lccn(value: str) -> str | None:
    """The normalised LCCN (LC's rule: no blanks, nothing after ``/``, serial zero-padded).

    >>> normalise_lccn("  2002036483 ")
    '2002036483'
    >>> normalise_lccn("69015342 //r86")
    '69015342'
    >>> normalise_lccn("n 79-21164")
    'n79021164'
    """
    value = value.split("/", 1)[0].replace(" ", "").strip().lower()
    if "-" in value:
        prefix, _, serial = value.partition("-")
        if serial.isdigit() and len(serial) <= 6:
            value = prefix + serial.zfill(6)
    return value if _LCCN.match(value) else None


def normalise_isbn(value: str) -> str | None:
    """ISBN-13 digits of the ISBN that ``value`` (a 020 $a, qualifiers and all) starts with,
    if its checksum is valid, else ``None``; the check is python-stdnum's, as for every
    other source (``ingest.identifiers``), so a book meets itself across sources.

    >>> normalise_isbn("0791458334 (alk. paper)")
    '9780791458334'
    >>> normalise_isbn("0-14-081759-X (koko paketti)")
    '9780140817591'
    >>> normalise_isbn("0791458335") is None
    True
    """
    match = _ISBN_TOKEN.search(value)
    return checked_isbn(match.group(0).replace(" ", "")) if match else None


def normalise_issn(value: str) -> str | None:
    """``1234-5679`` form of the ISSN in ``value`` (a 022 $a), if its checksum is valid.

    >>> normalise_issn("0028-0836")
    '0028-0836'
    >>> normalise_issn("0028-0837") is None
    True
    """
    match = _ISSN.search(value)
    return checked_issn(match.group(1) + match.group(2)) if match else None


def instance_iri(ctx: BibContext) -> NamedNode:
    """The Instance IRI from the strongest identifier (see the module docstring): the DOI first
    unless the record is a book with an ISBN, as the open-access mappers choose
    (``ingest.scholarly.mapper.instance_iri``), so that a catalogue record and a Crossref
    record of one DOI name one Instance whatever else the catalogue record carries."""
    candidates = _minted(ctx)
    doi = candidates.get("doi")
    if doi is not None and not ("isbn" in candidates and _book(ctx)):
        return doi
    for scheme in ("lccn", "isbn", "issn", "doi"):
        if scheme in candidates:
            return candidates[scheme]
    return control_number_instance(ctx.minter, ctx.record_name)


def instance_aliases(ctx: BibContext) -> list[NamedNode]:
    """The Instance IRIs the record's other identifiers name, when it has a DOI: stated
    ``owl:sameAs`` the Instance (a statement of this record about the Instance, which the
    ledger retracts with the record), so that a record of the same LCCN or ISBN without the
    DOI is still said to be the same."""
    candidates = _minted(ctx)
    if "doi" not in candidates:
        return []
    chosen = ctx.instance
    return sorted({iri for iri in candidates.values() if iri != chosen}, key=lambda n: n.value)


def _book(ctx: BibContext) -> bool:
    """Leader/06-07: language material (printed or manuscript), a monograph."""
    return ctx.leader[6:7] in ("a", "t") and ctx.leader[7:8] in ("m", "")


def _minted(ctx: BibContext) -> dict[str, NamedNode]:
    """The Instance IRI each identifier scheme of the record gives (the first valid one each).

    Read once per record: ``instance_iri`` and ``instance_aliases`` both ask, and the
    ISBN check (python-stdnum) is among the costlier steps of a record.
    """
    found = ctx.memo.get("minted")
    if found is None:
        found = ctx.memo["minted"] = _mint(ctx)
    return found


def _mint(ctx: BibContext) -> dict[str, NamedNode]:
    minter, found = ctx.minter, {}
    for field in ctx.fields("010"):
        value = first(field, "a")
        lccn = normalise_lccn(value) if value else None
        if lccn:
            found["lccn"] = minter.from_identifier("instance", "lccn", lccn)
            break
    for field in ctx.fields("020"):
        isbns = [normalise_isbn(value) for code, value in field.subfields if code == "a" and value]
        isbn = next((i for i in isbns if i), None)
        if isbn:
            found["isbn"] = minter.from_identifier("instance", "isbn", isbn)
            break
    for field in ctx.fields("022"):
        value = first(field, "a")
        issn = normalise_issn(value) if value else None
        if issn:
            found["issn"] = minter.from_identifier("instance", "issn", issn)
            break
    for field in ctx.fields("024"):
        if indicator(field, 0) == "7" and trim(first(field, "2") or "").lower() == "doi":
            doi = normalise_doi(first(field, "a"))
            if doi:
                found["doi"] = minter.from_identifier("instance", "doi", doi)
                break
    return found


def map_control_number(ctx: BibContext) -> None:
    """001 (+ 003 as its source) -> a bf:Local identifier of the Instance."""
    f001 = ctx.field("001")
    number = (f001.data or "").strip() if f001 is not None and f001.control_field else ""
    if not number:
        return
    node = _identifier(ctx, BF.Local, number)
    f003 = ctx.field("003")
    org = (f003.data or "").strip() if f003 is not None and f003.control_field else ""
    if org and node is not None:
        _source(ctx, node, org)


def _identifier(ctx: BibContext, cls: NamedNode, value: str) -> NamedNode | None:
    """An identifier node of the Instance holding ``value``; none for an empty value."""
    value = clean_text(value)
    if not value:
        return None
    node = ctx.local("identifier")
    b = ctx.b
    b.add(ctx.instance, BF.identifiedBy, node)
    b.type(node, cls)
    b.add(node, RDF.value, Literal(value))
    return node


def _source(ctx: BibContext, node: NamedNode, label: str) -> None:
    """``bf:source`` of an identifier: one bf:Source node per source name and record."""
    label = clean_text(label)
    if not label:
        return
    sources = ctx.memo.setdefault("sources", {})
    source = sources.get(label)
    if source is None:
        source = sources[label] = ctx.local("source")
        ctx.b.type(source, BF.Source)
        ctx.b.label(source, label)
    ctx.b.add(node, BF.source, source)


def _cancelled(ctx: BibContext, cls: NamedNode, value: str, status: NamedNode = _CANCELLED) -> None:
    node = _identifier(ctx, cls, value)
    if node is not None:
        ctx.b.add(node, BF.status, status)


def map_lccn(ctx: BibContext, versions: list[Version]) -> None:
    field = versions[0].field
    for code, value in field.subfields:
        if code == "a" and value:
            _identifier(ctx, BF.Lccn, normalise_lccn(value) or trim(value))
        elif code == "z" and value:
            _cancelled(ctx, BF.Lccn, trim(value))


def _split_qualifier(value: str) -> tuple[str, list[str]]:
    """``0140057749 (pbk.) :`` -> (``0140057749``, [``pbk.``])."""
    qualifiers = _QUALIFIER.findall(value)
    number = _QUALIFIER.sub("", value).strip(" :;.")
    return number, [q for q in qualifiers if q.strip()]


def map_isbn(ctx: BibContext, versions: list[Version]) -> None:
    field = versions[0].field
    b = ctx.b
    node = None
    for code, value in field.subfields:
        if not value:
            continue
        if code == "a":
            number, qualifiers = _split_qualifier(value)
            node = _identifier(ctx, BF.Isbn, number.replace("-", "").replace(" ", "") or number)
            for qualifier in qualifiers if node is not None else ():
                b.text(node, BF.qualifier, qualifier)
        elif code == "q" and node is not None:
            b.text(node, BF.qualifier, value.strip("() :;"))
        elif code == "z":
            number, _ = _split_qualifier(value)
            _cancelled(ctx, BF.Isbn, number or value)
        elif code == "c":
            b.text(ctx.instance, BF.acquisitionTerms, value)


def map_issn(ctx: BibContext, versions: list[Version]) -> None:
    field = versions[0].field
    for code, value in field.subfields:
        if not value:
            continue
        if code == "a":
            _identifier(ctx, BF.Issn, normalise_issn(value) or trim(value))
        elif code == "l":
            _identifier(ctx, BF.IssnL, normalise_issn(value) or trim(value))
        elif code == "y":
            _cancelled(ctx, BF.Issn, trim(value), _INCORRECT)
        elif code in ("z", "m"):
            _cancelled(ctx, BF.Issn, trim(value))


def map_024(ctx: BibContext, versions: list[Version]) -> None:
    field = versions[0].field
    ind1 = indicator(field, 0)
    cls = _024_CLASSES.get(ind1, BF.Identifier)
    source = None
    if ind1 == "7":
        source = trim(first(field, "2") or "")
        cls = _024_SOURCES.get(source.lower(), BF.Identifier)
    for code, value in field.subfields:
        if not value:
            continue
        if code == "a":
            node = _identifier(ctx, cls, trim(value))
            if node is None:
                continue
            if source and cls is BF.Identifier:
                _source(ctx, node, source)
            qualifier = first(field, "q")
            if qualifier:
                ctx.b.text(node, BF.qualifier, qualifier.strip("() :;"))
        elif code == "z":
            _cancelled(ctx, cls, trim(value))


def map_035(ctx: BibContext, versions: list[Version]) -> None:
    """035 system numbers: ``(OCoLC)7947282`` -> bf:Local "7947282" from source "OCoLC"."""
    field = versions[0].field
    for code, value in field.subfields:
        if code not in ("a", "z") or not value:
            continue
        value = trim(value)
        source = None
        if value.startswith("(") and ")" in value:
            source, _, value = value[1:].partition(")")
            value = value.strip()
        if not value:
            continue
        node = _identifier(ctx, BF.Local, value)
        if node is None:
            continue
        if source:
            _source(ctx, node, source)
        if code == "z":
            ctx.b.add(node, BF.status, _CANCELLED)


HANDLERS = {"010": map_lccn, "020": map_isbn, "022": map_issn, "024": map_024, "035": map_035}
