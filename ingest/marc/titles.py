"""Titles of the Instance (245, 246, 210, 222, 242, 247), its edition (250) and analytic titles (740).

The uniform title (130/240) is the Work's and is mapped in :mod:`works`.
Each 880 partner adds parallel literals to the same Title node.
"""

from __future__ import annotations

from pymarc import Field
from pyoxigraph import NamedNode

from ingest.marc.bibcontext import BibContext, Version, first, indicator, joined, trim
from ingest.marc.terms import BF, RDFS
from ingest.quads import clean_text

_FULL_TITLE = frozenset("abfgknps")
_MAIN = frozenset("a")
_EDITION = frozenset("ab")
#: 246 second indicator -> the kind of variant, as bf:variantType says it.
_VARIANT_TYPES = {
    "0": "portion", "2": "distinctive", "3": "other", "4": "cover", "5": "added title page",
    "6": "caption", "7": "running", "8": "spine",
}
_TITLE_CLASSES = {
    "210": BF.AbbreviatedTitle, "222": BF.KeyTitle, "242": BF.VariantTitle, "246": BF.VariantTitle,
    "247": BF.VariantTitle,
}
_VARIANT_BY_TAG = {"242": "translated", "247": "former"}


def main_title(field: Field) -> str:
    """The main title of a title field: its $a (all of them, joined: one main title per
    language), else what else it has (a 245 of archival papers may have only $k)."""
    return clean_text(joined(field, _MAIN) or joined(field, _FULL_TITLE))


def title_node(
    ctx: BibContext, owner: NamedNode, versions: list[Version], cls: NamedNode = BF.Title,
    label: bool = True,
) -> NamedNode | None:
    """A Title node of ``owner`` with the parts of every version, or ``None`` if it has no text."""
    mains = [(main_title(field), lang) for field, lang in versions]
    if not any(main for main, _ in mains):
        return None
    b = ctx.b
    node = ctx.local("title")
    b.add(owner, BF.title, node)
    b.type(node, cls)
    if cls is not BF.Title:
        b.type(node, BF.VariantTitle)
    for (field, lang), (main, _) in zip(versions, mains, strict=True):
        b.text(node, BF.mainTitle, main, lang)
        for code, value in field.subfields:
            if not value:
                continue
            if code == "b":
                b.text(node, BF.subtitle, trim(value), lang)
            elif code == "n":
                b.text(node, BF.partNumber, trim(value), lang)
            elif code == "p":
                b.text(node, BF.partName, trim(value), lang)
        if label:
            b.text(node, RDFS.label, joined(field, _FULL_TITLE), lang)
    return node


def map_title_statement(ctx: BibContext, versions: list[Version]) -> None:
    """245 -> bf:title bf:Title, rdfs:label of the Instance, bf:responsibilityStatement ($c)."""
    b = ctx.b
    instance = ctx.instance
    if title_node(ctx, instance, versions, label=False) is not None:
        ctx.titled = True
    for field, lang in versions:
        b.text(instance, RDFS.label, joined(field, _FULL_TITLE), lang)
        for code, value in field.subfields:
            if code == "c" and value:
                b.text(instance, BF.responsibilityStatement, trim(value), lang)


def map_variant_title(ctx: BibContext, versions: list[Version]) -> None:
    """246 (and 210, 222, 242, 247) -> bf:title of a variant class, with bf:variantType."""
    field = versions[0].field
    tag = field.tag
    cls = _TITLE_CLASSES.get(tag, BF.VariantTitle)
    variant_type = _VARIANT_BY_TAG.get(tag)
    if tag == "246":
        if indicator(field, 1) == "1":
            cls = BF.ParallelTitle
            variant_type = "parallel"
        else:
            variant_type = _VARIANT_TYPES.get(indicator(field, 1))
        display = first(field, "i")
        if display:
            variant_type = display
    node = title_node(ctx, ctx.instance, versions, cls)
    if node is not None:
        ctx.titled = True
        ctx.b.text(node, BF.variantType, variant_type)


def map_edition(ctx: BibContext, versions: list[Version]) -> None:
    """250 -> bf:editionStatement."""
    for field, lang in versions:
        ctx.b.text(ctx.instance, BF.editionStatement, joined(field, _EDITION), lang)


def map_analytic_title(ctx: BibContext, versions: list[Version]) -> None:
    """740 -> a related (ind2 = 2: contained) Work known only by its title.

    The Work is local to this record: a title alone is too weak a key to merge on.
    """
    labels = [(joined(field, _FULL_TITLE), lang) for field, lang in versions]
    if not any(clean_text(label) for label, _ in labels):
        return
    b = ctx.b
    work = ctx.local("work")
    b.add(ctx.work, BF.hasPart if indicator(versions[0].field, 1) == "2" else BF.relatedTo, work)
    b.type(work, BF.Work)
    for label, lang in labels:
        b.label(work, label, lang)
    title_node(ctx, work, versions, label=False)


def ensure_instance_title(ctx: BibContext) -> None:
    """An Instance with no 245 or 246 still gets a Title: the Work's preferred title."""
    if ctx.titled:
        return
    for tag in ("130", "240", "740"):
        field = ctx.field(tag)
        if field is not None and title_node(ctx, ctx.instance, [Version(field, None)]):
            return


HANDLERS = {
    "245": map_title_statement,
    "210": map_variant_title,
    "222": map_variant_title,
    "242": map_variant_title,
    "246": map_variant_title,
    "247": map_variant_title,
    "250": map_edition,
    "740": map_analytic_title,
}
