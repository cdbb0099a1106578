"""Provision activities (260, 264) and the 008 date: who published, made or distributed, where, when.

Each 260/264 becomes a bf:ProvisionActivity node of the class its second
indicator names (264: 0 Production, 1 Publication, 2 Distribution,
3 Manufacture; 260 is always Publication, its $e $f $g a Manufacture), with a
local bf:Place per $a and a local bf:Agent per $b: transcribed names, not
headings, so they are not merged across records. 264 ind2 = 4 is a copyright
notice date (bf:copyrightDate). The 008/07-10 year goes on the first
Publication node as ``bf:date "2003"^^xsd:gYear`` so that dates sort and
filter even when 260 $c reads "c2003" or "[i.e. 1963]".
"""

from __future__ import annotations

from pyoxigraph import NamedNode

from ingest.marc.bibcontext import BibContext, Version, indicator, joined, trim
from ingest.marc.terms import BF, XSD
from ingest.quads import clean_text

_BY_INDICATOR = {"0": BF.Production, "1": BF.Publication, "2": BF.Distribution, "3": BF.Manufacture}
_STATEMENT = frozenset("abcefg")
_PUBLICATION_CODES = ("a", "b", "c")
_MANUFACTURE_CODES = ("e", "f", "g")
#: 008/06 date types whose date 1 is no year of this Instance's publication.
_NO_DATE = frozenset("bn|")


def _date(value: str) -> str:
    value = trim(value).rstrip(" .,;:")
    if value.startswith("[") and value.endswith("]") and value.count("[") == 1:
        value = value[1:-1]
    return value


def _activity(ctx: BibContext, cls: NamedNode) -> NamedNode:
    node = ctx.local("provision")
    ctx.b.add(ctx.instance, BF.provisionActivity, node)
    ctx.b.type(node, BF.ProvisionActivity, cls)
    if cls is BF.Publication and ctx.publication is None:
        ctx.publication = node
    return node


def _fill(
    ctx: BibContext, node: NamedNode, versions: list[Version], codes: tuple[str, str, str]
) -> bool:
    """Places, agents and dates of ``codes`` (place, agent, date); True if any was found.

    The n-th $a of an 880 labels the same Place as the n-th $a of its partner.
    """
    b = ctx.b
    place_code, agent_code, date_code = codes
    places: list[NamedNode] = []
    agents: list[NamedNode] = []
    found = False
    for field, lang in versions:
        n_place = n_agent = 0
        for code, value in field.subfields:
            if not value:
                continue
            if code == place_code:
                name = clean_text(trim(value))
                if name:
                    place = _nth(ctx, places, n_place, "place", BF.Place, node)
                    b.label(place, name, lang)
                    found = True
                n_place += 1
            elif code == agent_code:
                name = clean_text(trim(value))
                if name:
                    agent = _nth(ctx, agents, n_agent, "agent", BF.Agent, node)
                    b.label(agent, name, lang)
                    found = True
                n_agent += 1
            elif code == date_code:
                b.text(node, BF.date, _date(value))
                found = True
    return found


def _nth(
    ctx: BibContext, nodes: list[NamedNode], n: int, kind: str, cls: NamedNode, activity: NamedNode
) -> NamedNode:
    if n < len(nodes):
        return nodes[n]
    node = ctx.local(kind)
    nodes.append(node)
    ctx.b.add(activity, BF.place if kind == "place" else BF.agent, node)
    ctx.b.type(node, cls)
    return node


def map_provision(ctx: BibContext, versions: list[Version]) -> None:
    """260/264 -> bf:provisionActivity, plus the transcribed bf:provisionActivityStatement."""
    b = ctx.b
    field = versions[0].field
    if field.tag == "264" and indicator(field, 1) == "4":
        for version, lang in versions:
            for code, value in version.subfields:
                if code == "c" and value:
                    b.text(ctx.instance, BF.copyrightDate, _date(value), lang)
        return
    cls = _BY_INDICATOR.get(indicator(field, 1), BF.Publication) if field.tag == "264" else BF.Publication
    node = _activity(ctx, cls)
    _fill(ctx, node, versions, _PUBLICATION_CODES)
    if field.tag == "260" and any(code in _MANUFACTURE_CODES for code, _ in field.subfields):
        manufacture = _activity(ctx, BF.Manufacture)
        _fill(ctx, manufacture, versions, _MANUFACTURE_CODES)
    for version, lang in versions:
        b.text(ctx.instance, BF.provisionActivityStatement, joined(version, _STATEMENT), lang)


def map_008_date(ctx: BibContext) -> None:
    """008/07-10 (date 1) as an xsd:gYear on the first Publication (made if there is none)."""
    f008 = ctx.f008
    year = f008[7:11]
    if f008[6] in _NO_DATE or not year.isdigit() or year == "0000":
        return
    node = ctx.publication if ctx.publication is not None else _activity(ctx, BF.Publication)
    ctx.b.typed(node, BF.date, year, XSD.gYear)


HANDLERS = {"260": map_provision, "264": map_provision}
