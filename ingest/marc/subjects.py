"""Subjects and genres (600-655) -> agents, Works, places and SKOS concepts of the Work.

A heading without subdivisions (or a 651 with only $z places under it) is
the thing itself: the agent (600/610/611), the Work (600 $t), the place
(651), the topic (650), the period (648) or the genre (655, bf:genreForm
rather than bf:subject). A subdivided heading
("Eliot, George--Psychology") is a madsrdf:ComplexSubject concept labelled
as LC displays it, linked with cg:hasComponent to its main heading so that
"Zionism--Historiography" and "Zionism--Philosophy" still share "Zionism"
(rdf:List component lists would need blank nodes). The scheme comes from the
second indicator or $2; $0/$1 name the heading's node when present.
"""

from __future__ import annotations

from pymarc import Field
from pymarc.field import Indicators
from pyoxigraph import NamedNode

from ingest.marc import headings, vocab
from ingest.marc.bibcontext import BibContext, Version, first, heading_lang, indicator, trim
from ingest.marc.contributions import describe_agent, related_work
from ingest.marc.terms import BF, CG, MADS, RDFS, SKOS

_SUBDIVISIONS = frozenset("vxyz")
_AUTHORITY = frozenset("01")
_MADS_CLASS = {
    "630": MADS.Title, "648": MADS.Temporal, "650": MADS.Topic, "651": MADS.Geographic,
    "655": MADS.GenreForm,
}


def _scheme(field: Field) -> NamedNode | None:
    return vocab.subject_scheme(indicator(field, 1), first(field, "2"))


def _subdivided(field: Field) -> bool:
    return any(code in _SUBDIVISIONS for code, _ in field.subfields)


def _places_only(field: Field) -> bool:
    """A 651 subdivided only by $z ("China--Henan Sheng") still names one place."""
    return all(code == "z" for code, _ in field.subfields if code in _SUBDIVISIONS)


def _main_heading(field: Field) -> Field:
    """The heading without its subdivisions (and without the $0/$1 that name the whole)."""
    return Field(
        tag=field.tag,
        indicators=Indicators(indicator(field, 0), indicator(field, 1)),
        subfields=[s for s in field.subfields if s.code not in _SUBDIVISIONS and s.code not in _AUTHORITY],
    )


def _concept(
    ctx: BibContext,
    versions: list[Version],
    scheme: NamedNode | None,
    classes: tuple[NamedNode, ...],
    kind: str = "concept",
    node: NamedNode | None = None,
    label: str | None = None,
) -> NamedNode | None:
    """A SKOS concept for the heading, or ``None`` if the heading has no text.

    Every version gives an rdfs:label (880s tagged with their script), and
    none a skos:prefLabel: one concept node gathers the headings of many
    records ("Courtship--Fiction" and "Courtship--fiction" share a key), and
    each stating its form as *the* preferred label would break SKOS's one
    preferred label per language. The preferred form is the authority
    record's to give. ``label`` is the first version's concept label if the
    caller has read it already.
    """
    b = ctx.b
    field = versions[0].field
    if label is None:
        label = headings.concept_label(field)
    if not label:
        return None
    if node is None:
        node = headings.concept_iri(field, scheme, ctx.minter, kind, label)
    b.type(node, SKOS.Concept, *classes)
    if scheme is not None:
        b.add(node, SKOS.inScheme, scheme)
    b.text(node, RDFS.label, label, heading_lang(versions[0].lang))
    for other, lang in versions[1:]:
        b.text(node, RDFS.label, headings.concept_label(other), lang)
    return node


def _complex(
    ctx: BibContext, versions: list[Version], scheme: NamedNode | None,
    component: NamedNode | None,
) -> NamedNode | None:
    field = versions[0].field
    label = headings.concept_label(field)
    node = headings.concept_iri(field, scheme, ctx.minter, label=label)
    if node == component:
        node = ctx.minter.from_key("concept", headings.concept_key(field, scheme, label))
    node = _concept(ctx, versions, scheme, (MADS.ComplexSubject,), node=node, label=label)
    if node is not None and component is not None and node != component:
        ctx.b.add(node, CG.hasComponent, component)
    return node


def map_name_subject(ctx: BibContext, versions: list[Version]) -> None:
    """600/610/611: the agent, or the Work for a name/title; complex concept if subdivided."""
    field = versions[0].field
    main = None
    if any(code == "t" for code, _ in field.subfields):
        main = related_work(ctx, [Version(_main_heading(v.field), v.lang) for v in versions])
    if main is None:
        main = describe_agent(ctx, versions)
    subject = main
    if _subdivided(field) or main is None:
        subject = _complex(ctx, versions, _scheme(field), main)
    if subject is not None:
        ctx.b.add(ctx.work, BF.subject, subject)


def map_subject(ctx: BibContext, versions: list[Version]) -> None:
    """630/648/650/651 -> concept (651: also a bf:Place); complex concept if subdivided."""
    field = versions[0].field
    tag = field.tag
    scheme = _scheme(field)
    kind = "place" if tag == "651" else "concept"
    classes = (_MADS_CLASS[tag], BF.Place) if tag == "651" else (_MADS_CLASS[tag],)
    if _subdivided(field) and not (tag == "651" and _places_only(field)):
        mains = [Version(_main_heading(v.field), v.lang) for v in versions]
        main = _concept(ctx, mains, scheme, classes, kind)
        subject = _complex(ctx, versions, scheme, main)
    else:
        subject = _concept(ctx, versions, scheme, classes, kind)
    if subject is not None:
        ctx.b.add(ctx.work, BF.subject, subject)


def map_genre(ctx: BibContext, versions: list[Version]) -> None:
    """655 -> bf:genreForm of the Work: a bf:GenreForm concept."""
    field = versions[0].field
    node = _concept(ctx, versions, _scheme(field), (BF.GenreForm, MADS.GenreForm))
    if node is not None:
        ctx.b.add(ctx.work, BF.genreForm, node)


def map_uncontrolled_terms(ctx: BibContext, versions: list[Version]) -> None:
    """653 -> one concept per $a, keyed by its words alone (no scheme)."""
    b = ctx.b
    for field, lang in versions:
        for code, value in field.subfields:
            term = trim(value) if code == "a" and value else ""
            if not term:
                continue
            node = ctx.minter.from_key("concept", f"uncontrolled|{term}")
            b.type(node, SKOS.Concept)
            b.text(node, RDFS.label, term, lang)
            b.add(ctx.work, BF.subject, node)


HANDLERS = {
    "600": map_name_subject, "610": map_name_subject, "611": map_name_subject,
    "630": map_subject, "648": map_subject, "650": map_subject, "651": map_subject,
    "655": map_genre, "653": map_uncontrolled_terms,
}
