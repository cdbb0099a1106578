"""Physical description (300), series (440/490/8XX), classification (050-084), links (856), 040.

Series: 490 is a transcribed statement (bf:seriesStatement, bf:seriesEnumeration);
440/800/810/811/830 also name the series as a Work (typed bf:Series) minted
from ``series|`` + its normalised name and title, so every Instance of a
series meets in one node. The link (bf:hasSeries) is stated on the Instance,
not the Work: one Work gathers editions from different publishers' series.
"""

from __future__ import annotations

import re

from pymarc import Field
from pyoxigraph import NamedNode

from ingest.iri import normalise
from ingest.marc import vocab
from ingest.marc.bibcontext import (
    BibContext,
    Version,
    first,
    heading_lang,
    indicator,
    joined,
    trim,
)
from ingest.marc.notes import note
from ingest.marc.terms import BF, RDFS, XSD
from ingest.marc.works import name_title_key, non_filing
from ingest.quads import clean_text

_EXTENT = frozenset("af")
_SERIES_TITLE = frozenset("anp")
_SERIES_PARTS = frozenset("tnp")
_LOCATOR_NOTE = frozenset("3yz")
_CLASSES = {
    "050": BF.ClassificationLcc, "060": BF.ClassificationNlm, "080": BF.ClassificationUdc,
    "082": BF.ClassificationDdc, "083": BF.ClassificationDdc, "084": BF.Classification,
}
_LINK_SCHEMES = ("http://", "https://", "ftp://")
_CHANGE_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})")
_CONVENTION = re.compile(r"^[a-z0-9]{1,20}$")
_CONVENTIONS = "http://id.loc.gov/vocabulary/descriptionConventions/"


def map_extent(ctx: BibContext, versions: list[Version]) -> None:
    """300 -> bf:extent (bf:Extent labelled $a $f), $c bf:dimensions, $b and $e as notes."""
    b = ctx.b
    extents = [(clean_text(joined(version, _EXTENT)), lang) for version, lang in versions]
    if any(text for text, _ in extents):
        node = ctx.local("extent")
        b.add(ctx.instance, BF.extent, node)
        b.type(node, BF.Extent)
        for text, lang in extents:
            b.label(node, text, lang)
    details, accompanying = [], []
    for version, lang in versions:
        for code, value in version.subfields:
            if not value:
                continue
            if code == "c":
                b.text(ctx.instance, BF.dimensions, value, lang)
            elif code == "b":
                details.append((trim(value), lang))
            elif code == "e":
                accompanying.append((trim(value), lang))
    if details:
        note(ctx, ctx.instance, details, "physical details")
    if accompanying:
        note(ctx, ctx.instance, accompanying, "accompanying material")


def map_series_statement(ctx: BibContext, versions: list[Version]) -> None:
    """490 (and 440) -> bf:seriesStatement + bf:seriesEnumeration on the Instance."""
    b = ctx.b
    for field, lang in versions:
        b.text(ctx.instance, BF.seriesStatement, joined(field, _SERIES_TITLE), lang)
        for code, value in field.subfields:
            if code == "v" and value:
                b.text(ctx.instance, BF.seriesEnumeration, value)
    if versions[0].field.tag == "440":
        map_series(ctx, versions)


def map_series(ctx: BibContext, versions: list[Version]) -> None:
    """440/800/810/811/830 -> Instance bf:hasSeries <series Work>."""
    b = ctx.b
    field = versions[0].field
    tag = field.tag
    if tag in ("800", "810", "811"):
        key = name_title_key(field)
        labels = [(_after_title(f), lang) for f, lang in versions]
    else:
        title = non_filing(field, 1, joined(field, _SERIES_TITLE))
        key = f"|{normalise(title)}" if normalise(title) else None
        labels = [(joined(f, _SERIES_TITLE), lang) for f, lang in versions]
    if not key:
        return
    series = ctx.minter.from_key("work", "series|" + key)
    b.add(ctx.instance, BF.hasSeries, series)
    b.type(series, BF.Work, BF.Series)
    for index, (label, lang) in enumerate(labels):
        b.label(series, label, lang if index else heading_lang(lang))
    if tag != "440":
        for version, _ in versions:
            for code, value in version.subfields:
                if code == "v" and value:
                    b.text(ctx.instance, BF.seriesEnumeration, value)


def _after_title(field: Field) -> str:
    parts, seen = [], False
    for code, value in field.subfields:
        seen = seen or code == "t"
        if seen and code in _SERIES_PARTS and value:
            parts.append(trim(value))
    return " ".join(parts)


def map_classification(ctx: BibContext, versions: list[Version]) -> None:
    """050/060/080/082/084 -> bf:classification of the Work, one node per $a."""
    b = ctx.b
    field = versions[0].field
    tag = field.tag
    cls = _CLASSES[tag]
    source = first(field, "2")
    item = first(field, "b")
    for code, value in field.subfields:
        if code != "a" or not value or not trim(value):
            continue
        node = ctx.local("classification")
        b.add(ctx.work, BF.classification, node)
        b.type(node, cls)
        b.text(node, BF.classificationPortion, value)
        if item:
            b.text(node, BF.itemPortion, item)
            item = None
        if tag in ("082", "083") and source:
            b.text(node, BF.edition, source)
        elif tag == "084":
            scheme = vocab.classification_scheme(tag, source)
            if scheme is not None:
                b.add(node, BF.source, scheme)


def map_link(ctx: BibContext, versions: list[Version]) -> None:
    """856 $u -> bf:electronicLocator (ind2 = 2, a related resource: rdfs:seeAlso).

    Only a well-formed absolute http(s)/ftp IRI becomes a node; anything else
    is kept as a note, since the value is user data.
    """
    b = ctx.b
    field = versions[0].field
    prop = RDFS.seeAlso if indicator(field, 1) == "2" else BF.electronicLocator
    texts = []
    for code, value in field.subfields:
        if code != "u" or not value:
            continue
        url = value.strip()
        iri = None
        if url.lower().startswith(_LINK_SCHEMES):
            try:
                iri = NamedNode(url)
            except ValueError:
                iri = None
        if iri is not None:
            b.add(ctx.instance, prop, iri)
        else:
            texts.append(url)
    about = joined(field, _LOCATOR_NOTE)
    if about:
        texts.insert(0, about)
    if texts:
        note(ctx, ctx.instance, [(" ".join(texts), None)], "electronic locator")


def map_cataloguing_source(ctx: BibContext, versions: list[Version]) -> None:
    """040 (and 005) -> bf:adminMetadata: agency, language, conventions, last change."""
    b = ctx.b
    field = versions[0].field
    node = ctx.local("admin")
    b.add(ctx.instance, BF.adminMetadata, node)
    b.type(node, BF.AdminMetadata)
    agency = first(field, "a")
    if agency and clean_text(agency):
        agent = ctx.local("agent")
        b.add(node, BF.assigner, agent)
        b.type(agent, BF.Agent, BF.Organization)
        b.label(agent, agency)
    language = first(field, "b")
    iri = vocab.language_iri(language) if language else None
    if iri is not None:
        b.add(node, BF.descriptionLanguage, iri)
    for code, value in field.subfields:
        if code == "e" and value and _CONVENTION.match(value.strip().lower()):
            b.add(node, BF.descriptionConventions, NamedNode(_CONVENTIONS + value.strip().lower()))
    f005 = ctx.field("005")
    stamp = _CHANGE_DATE.match((f005.data or "") if f005 is not None and f005.control_field else "")
    if stamp:
        y, mo, d, h, mi, s = stamp.groups()
        if "01" <= mo <= "12" and "01" <= d <= "31" and h <= "23" and mi <= "59" and s <= "59":
            b.typed(node, BF.changeDate, f"{y}-{mo}-{d}T{h}:{mi}:{s}", XSD.dateTime)


HANDLERS = {
    "300": map_extent,
    "440": map_series_statement,
    "490": map_series_statement,
    "800": map_series,
    "810": map_series,
    "811": map_series,
    "830": map_series,
    "856": map_link,
    "040": map_cataloguing_source,
} | {tag: map_classification for tag in _CLASSES}
