"""Titles of the Instance (245, 246, 210, 222, 242, 247), its edition (250) and analytic titles (740).

The uniform title (130/240) is the Work's and is mapped in :mod:`works`;
which uniform titles are collective ("Works", "Poems. Selections"), and so
name no single work, is decided here (:func:`is_collective`).
Each 880 partner adds parallel literals to the same Title node.
"""

from __future__ import annotations

from pymarc import Field
from pyoxigraph import NamedNode

from ingest.iri import normalise
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


# ---------------------------------------------------------------- collective uniform titles

#: Collective uniform titles (AACR2 25.8-25.10, 25.15-25.16; RDA 6.2.2.10), normalised:
#: "Works", "Selections" and the conventional titles of works in one form, in
#: English as LC gives them, older LC forms ("Poetical works") and the forms
#: other national catalogues use.
_COLLECTIVE = frozenset({
    # English (LC)
    "works", "complete works", "collected works", "selected works", "selections",
    "correspondence", "letters", "essays", "librettos", "lyrics", "novellas", "novels",
    "plays", "poems", "prose works", "short stories", "speeches", "poetical works",
    "dramatic works", "laws etc", "treaties etc",
    # German
    "werke", "samtliche werke", "gesammelte werke", "ausgewahlte werke", "schriften",
    "gesammelte schriften", "briefe", "briefwechsel", "gedichte", "dramen", "romane",
    "erzahlungen", "novellen", "reden", "auswahl",
    # French
    "oeuvres", "œuvres", "oeuvres completes", "œuvres completes", "oeuvres choisies",
    "œuvres choisies", "correspondance", "lettres", "poesies", "poemes", "theatre",
    "romans", "nouvelles", "contes", "essais", "discours", "choix",
    # Spanish, Portuguese
    "obras", "obras completas", "obras escogidas", "obras selectas", "cartas",
    "epistolario", "correspondencia", "poemas", "poesias", "poesia", "teatro", "novelas",
    "cuentos", "contos", "ensayos", "ensaios", "discursos", "seleccion", "antologia",
    # Italian
    "opere", "opere complete", "tutte le opere", "lettere", "carteggio", "poesie",
    "romanzi", "racconti", "novelle", "saggi", "discorsi", "scelta",
    # Dutch, Latin
    "werken", "verzameld werk", "brieven", "gedichten", "opera omnia",
})
#: A $k or $p opening with one of these makes any uniform title a selection.
_SELECTION_WORDS = frozenset({
    "selections", "auswahl", "choix", "seleccion", "selecao", "scelta", "antologia",
})
#: Types of musical composition (AACR2 25.29, RDA 6.14.2.8): plural, with no
#: medium, number or key ("Nocturnes", "Masses"), they gather all of that type.
#: With a medium they may name one work ("Suites, violin, gamelan": Harrison's
#: only one), so those are left as they are.
_MUSIC_TYPES = frozenset({
    "anthems", "ballades", "cantatas", "chorale preludes", "concertos", "divertimentos",
    "etudes", "fantasias", "hymns", "impromptus", "inventions", "madrigals", "marches",
    "masses", "mazurkas", "motets", "nocturnes", "operas", "overtures", "partitas",
    "pieces", "polonaises", "preludes", "quartets", "quintets", "rhapsodies", "scherzos",
    "serenades", "sextets", "sonatas", "sonatinas", "songs", "suites", "symphonies",
    "toccatas", "trios", "waltzes",
})
#: Media of "... music" collective titles (RDA 6.14.2.8: "Piano music", "Chamber music").
_MUSIC_MEDIA = frozenset({
    "accordion", "band", "bassoon", "brass", "cello", "chamber", "choral", "clarinet",
    "clavichord", "flute", "guitar", "harmonium", "harp", "harpsichord", "horn",
    "instrumental", "keyboard", "lute", "mandolin", "oboe", "orchestra", "organ",
    "percussion", "piano", "recorder", "sacred", "saxophone", "secular", "string",
    "trombone", "trumpet", "tuba", "viol", "viola", "violin", "violoncello", "vocal",
    "wind", "woodwind",
})
_NUMBERED = frozenset("mnr")
#: What a uniform title naming only a form contributes to a work key.
COLLECTIVE_KEY = "collective"
_PARTS = frozenset("kp")


def is_collective(field: Field, title_code: str = "a") -> bool:
    """Whether a uniform title (130/240 from ``$a``, a name/title heading from ``$t``)
    is a collective title or a selection, which names no single work.

    >>> from pymarc import Subfield
    >>> is_collective(Field("240", ["1", "0"], [Subfield("a", "Works."),
    ...     Subfield("k", "Selections.")]))
    True
    >>> is_collective(Field("240", ["1", "0"], [Subfield("a", "Carmen."),
    ...     Subfield("k", "Selections")]))
    True
    >>> is_collective(Field("240", ["1", "0"], [Subfield("a", "Sonatas,"),
    ...     Subfield("m", "piano,"), Subfield("n", "no. 14")]))
    False
    >>> is_collective(Field("240", ["1", "0"], [Subfield("a", "Pride and prejudice.")]))
    False
    """
    main: str | None = None
    numbered = False
    started = title_code == "a"
    for code, value in field.subfields:
        if not started:
            started = code == title_code
            if not started:
                continue
        if not value:
            continue
        if code == title_code and main is None:
            main = normalise(value)
        elif code in _PARTS:
            words = normalise(value).split(" ", 1)
            if words[0] in _SELECTION_WORDS:
                return True
        elif code in _NUMBERED:
            numbered = True
    if not main:
        return False
    if main.rsplit(" ", 1)[-1] in _SELECTION_WORDS:
        return True
    if main in _MUSIC_TYPES:
        return not numbered
    return _form_title(main)


def _form_title(title: str) -> bool:
    """A normalised title that names a form, not a work: "works", "poems", "piano music"."""
    if title in _COLLECTIVE or title in _MUSIC_TYPES:
        return True
    words = title.split()
    return len(words) > 1 and words[-1] == "music" and all(w in _MUSIC_MEDIA for w in words[:-1])


def collective_key(title: str) -> str:
    """The part a collective uniform title gives a work key (``title`` is normalised).

    A title naming only a form ("works", "novels", "novels selections",
    "selections", "werke") becomes ``collective``: cataloguers give one
    compilation "Works" or "Novels", "Selections" or "Novels. Selections"
    (the Austen set has both pairs), and the title proper beside it says which
    compilation it is. A selection from a named work keeps its title
    ("carmen selections", "bible selections"): the work it is drawn from matters.

    >>> collective_key("novels selections"), collective_key("carmen selections")
    ('collective', 'carmen selections')
    """
    words = title.split()
    while words and (words[-1] in _SELECTION_WORDS or words[-1].isdigit()):
        words.pop()
    if not words or _form_title(" ".join(words)):
        return COLLECTIVE_KEY
    return title


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
