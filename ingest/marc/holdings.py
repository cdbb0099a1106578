"""MARC 21 holdings records (MFHD, leader/06 ``u`` ``v`` ``x`` ``y``) -> ``bf:Item``s of their Instance.

A holdings record describes a library's copies of something a bibliographic
record describes; mapped as a bibliographic record it would give an untitled
Instance and Work per copy. Here each 852 (location) gives one ``bf:Item``,
``{graph}#item-{n}``, local to the holdings record's graph, ``bf:itemOf`` the
Instance of the bibliographic record its 004 names, with what BIBFRAME can
carry of MFHD: the holding library (852 $a -> ``bf:heldBy``), sublocation and
shelving location ($b, $c -> ``bf:sublocation``), the shelf mark ($k $h $i $m,
else $j -> ``bf:shelfMark``, typed by the first indicator's scheme), public
notes ($z), the textual holdings (866-868 -> ``bf:enumerationAndChronology``)
and barcodes (852 $p, 876-878 $p -> ``bf:identifiedBy`` ``bf:Barcode``). Fields
other than 852 describe the first item.

The Instance: a holdings record knows its bibliographic record only by that
record's control number (004) and, by convention, shares its 003, so the
Instance is named as the bibliographic mapping names an Instance that has no
LCCN, ISBN or ISSN (``common.control_number_instance``). Items therefore meet
their Instance exactly when it was minted from its control number; otherwise
they name a node of their own, from which the Instance is one query away
(docs/mapping.md, *Holdings*). Ingest is pure and maps one record at a time,
so it cannot look up the bibliographic record's LCCN or ISBN.

A record of holdings type that has a 245 is a bibliographic record with its
holdings embedded (Internet Archive's ``_marc.xml`` files are typed ``x``):
mapped as bibliographic, plus the items of its 852s, with a warning.
"""

from __future__ import annotations

from pymarc import Field, Record
from pyoxigraph import Literal, NamedNode

from ingest.iri import IriMinter
from ingest.marc.common import (
    control_number_instance,
    control_value,
    holdings_type,
    source_segment,
)
from ingest.marc.terms import BF, RDF
from ingest.quads import GraphBuilder, clean_text

#: Shelf mark classes by the 852 first indicator (shelving scheme).
_SHELF_MARKS = {"0": BF.ShelfMarkLcc, "1": BF.ShelfMarkDdc, "2": BF.ShelfMarkNlm}
#: Textual holdings: 866 the basic unit, 867 supplements, 868 indexes.
_TEXTUAL = {"866": "", "867": "Supplements: ", "868": "Indexes: "}
_ITEM_INFORMATION = ("876", "877", "878")


class HoldingsWithoutInstance(ValueError):  # noqa: N818 - a verdict on a record
    """A holdings record that names no bibliographic record (no 004)."""


def instance_of(record: Record, minter: IriMinter, default_source: str) -> NamedNode:
    """The Instance the holdings ``record`` is about, from its 004 (and 003).

    Raises :class:`HoldingsWithoutInstance` when it has no 004.
    """
    bib_number = control_value(record, "004")
    if not bib_number:
        kind = holdings_type(record) or "holdings"
        raise HoldingsWithoutInstance(
            f"a holdings record ({kind}, leader/06 {str(record.leader)[6]!r}) with no 004, "
            "the control number of the bibliographic record it holds copies of"
        )
    bib_graph = minter.graph(source_segment(record, default_source), bib_number)
    return control_number_instance(minter, bib_graph)


def embedded_instance(record: Record, builder: GraphBuilder, minter: IriMinter) -> NamedNode:
    """The Instance the bibliographic mapping gave a record that carries its own holdings."""
    from ingest.marc.bibcontext import BibContext
    from ingest.marc.identifiers import instance_iri

    return instance_iri(BibContext(record, builder, minter))


class _Locals:
    """Names the record's local nodes, ``{graph}#{kind}-{n}``, as ``BibContext.local`` does.

    Its kinds (``item``, ``barcode``, ``item-note``, ``shelfmark``,
    ``sublocation``, ``enumeration``) are none of the bibliographic mapping's,
    so the items of a bibliographic record that carries its holdings never
    reuse one of its nodes.
    """

    def __init__(self, graph: NamedNode) -> None:
        self.graph = graph
        self.counters: dict[str, int] = {}

    def __call__(self, kind: str) -> NamedNode:
        n = self.counters[kind] = self.counters.get(kind, 0) + 1
        return IriMinter.local(self.graph, kind, n)


def map_items(
    record: Record, builder: GraphBuilder, minter: IriMinter, instance: NamedNode
) -> None:
    """State the record's items, ``bf:itemOf`` ``instance``, in ``builder``'s graph."""
    local = _Locals(builder.graph)
    locations: list[Field | None] = list(record.get_fields("852")) or [None]
    items = [local("item") for _ in locations]
    for item, location in zip(items, locations, strict=True):
        builder.type(item, BF.Item)
        builder.add(item, BF.itemOf, instance)
        if location is not None:
            _location(builder, minter, item, location, local)
    first = items[0]
    for field in record.get_fields(*_TEXTUAL):
        prefix = _TEXTUAL[field.tag]
        for text in field.get_subfields("a"):
            if clean_text(text):
                node = local("enumeration")
                builder.type(node, BF.EnumerationAndChronology)
                builder.label(node, prefix + text.strip())
                builder.add(first, BF.enumerationAndChronology, node)
        _notes(builder, first, field, local)
    for field in record.get_fields(*_ITEM_INFORMATION):
        for value in field.get_subfields("p"):
            _barcode(builder, first, value, local)
        _notes(builder, first, field, local)


def _barcode(builder: GraphBuilder, item: NamedNode, value: str, local: _Locals) -> None:
    value = clean_text(value)
    if value:
        node = local("barcode")
        builder.type(node, BF.Barcode)
        builder.add(node, RDF.value, Literal(value))
        builder.add(item, BF.identifiedBy, node)


def _location(
    builder: GraphBuilder, minter: IriMinter, item: NamedNode, field: Field, local: _Locals
) -> None:
    """852: holding library ($a, a code or a name), sublocations, shelf mark, public notes."""
    for value in field.get_subfields("a")[:1]:
        name = clean_text(value)
        if name:
            agent = minter.from_identifier("agent", "org", name)
            builder.type(agent, BF.Organization)
            builder.label(agent, name)
            builder.add(item, BF.heldBy, agent)
    for value in field.get_subfields("p"):  # piece designation: the barcode of a single piece
        _barcode(builder, item, value, local)
    for code in ("b", "c"):
        for value in field.get_subfields(code):
            if clean_text(value):
                node = local("sublocation")
                builder.type(node, BF.Sublocation)
                builder.label(node, value.strip())
                builder.add(item, BF.sublocation, node)
    mark = " ".join(
        value.strip() for code, value in field.subfields if code in "khim" and value.strip()
    ) or " ".join(value.strip() for value in field.get_subfields("j") if value.strip())
    if mark:
        node = local("shelfmark")
        indicator = (field.indicators or " ")[0]
        builder.type(node, _SHELF_MARKS.get(indicator, BF.ShelfMark))
        builder.label(node, mark)
        builder.add(item, BF.shelfMark, node)
    _notes(builder, item, field, local)


def _notes(builder: GraphBuilder, item: NamedNode, field: Field, local: _Locals) -> None:
    """Public notes ($z) as ``bf:note`` of the item."""
    for value in field.get_subfields("z"):
        if clean_text(value):
            node = local("item-note")
            builder.type(node, BF.Note)
            builder.label(node, value)
            builder.add(item, BF.note, node)
