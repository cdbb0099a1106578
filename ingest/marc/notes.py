"""Notes (5XX): general notes on the Instance; contents, summary and dissertation on the Work.

505 -> bf:tableOfContents (one bf:TableOfContents per 505, $g $t $r kept in
order), 520 -> bf:summary, 502 -> bf:dissertation; the other 5XX notes a
reader may want are bf:Note nodes with a bf:noteType saying which note it
is. 880 partners add parallel labels to the same node.
"""

from __future__ import annotations

from pymarc import Field
from pyoxigraph import NamedNode

from ingest.marc.bibcontext import BibContext, Version, joined
from ingest.marc.terms import BF, RDFS
from ingest.quads import clean_text

#: Letters are the text of a note; digits are control subfields ($3 aside, see below).
_TEXT = frozenset("abcdefghijklmnopqrstuvwxyz")
_CONTENTS = frozenset("agtr")
_SUMMARY = frozenset("ab")
_NOTE_TYPES = {
    "500": None, "501": "with", "504": "bibliography", "506": "access", "507": "scale",
    "508": "credits", "510": "citation", "511": "participants", "513": "report type",
    "515": "numbering", "516": "file type", "518": "capture", "521": "audience",
    "522": "geographic coverage", "524": "preferred citation", "525": "supplement",
    "530": "additional physical form", "532": "accessibility", "533": "reproduction",
    "534": "original version", "536": "funding", "538": "system details",
    "540": "use and reproduction", "544": "related materials", "545": "biographical",
    "546": "language", "547": "former title", "550": "issuing body", "552": "entity",
    "555": "index", "556": "documentation", "562": "copy identification",
    "565": "case file", "567": "methodology", "580": "linking entry", "581": "publications",
    "584": "accumulation", "585": "exhibitions", "586": "awards", "588": "description source",
}


def note(
    ctx: BibContext, owner: NamedNode, text_versions: list[tuple[str, str | None]],
    note_type: str | None,
) -> None:
    """A bf:Note on ``owner`` labelled with each version's text."""
    if not any(text for text, _ in text_versions):
        return
    b = ctx.b
    node = ctx.local("note")
    b.add(owner, BF.note, node)
    b.type(node, BF.Note)
    b.text(node, BF.noteType, note_type)
    for text, lang in text_versions:
        b.label(node, text, lang)


def _note_text(field: Field) -> str:
    text = joined(field, _TEXT)
    materials = joined(field, frozenset("3"))
    return f"{materials}: {text}" if materials and text else text


def map_note(ctx: BibContext, versions: list[Version]) -> None:
    note_type = _NOTE_TYPES.get(versions[0].field.tag)
    note(ctx, ctx.instance, [(_note_text(f), lang) for f, lang in versions], note_type)


def _labelled(
    ctx: BibContext, versions: list[Version], kind: str, prop: NamedNode, cls: NamedNode,
    codes: frozenset[str],
) -> NamedNode | None:
    texts = [(joined(f, codes), lang) for f, lang in versions]
    if not any(text for text, _ in texts):
        return None
    b = ctx.b
    node = ctx.local(kind)
    b.add(ctx.work, prop, node)
    b.type(node, cls)
    for text, lang in texts:
        b.text(node, RDFS.label, text, lang)
    return node


def map_contents(ctx: BibContext, versions: list[Version]) -> None:
    """505 -> bf:tableOfContents of the Work."""
    _labelled(ctx, versions, "contents", BF.tableOfContents, BF.TableOfContents, _CONTENTS)


def map_summary(ctx: BibContext, versions: list[Version]) -> None:
    """520 -> bf:summary of the Work."""
    _labelled(ctx, versions, "summary", BF.summary, BF.Summary, _SUMMARY)


def map_dissertation(ctx: BibContext, versions: list[Version]) -> None:
    """502 -> bf:dissertation: the note ($a) or its parts (degree $b, institution $c, year $d)."""
    node = _labelled(ctx, versions, "dissertation", BF.dissertation, BF.Dissertation, _TEXT)
    if node is None:
        return
    b = ctx.b
    institutions: list[NamedNode] = []
    for field, lang in versions:
        n = 0
        for code, value in field.subfields:
            if not value:
                continue
            if code == "b":
                b.text(node, BF.degree, value, lang)
            elif code == "c" and clean_text(value):
                if n == len(institutions):
                    institution = ctx.local("agent")
                    institutions.append(institution)
                    b.add(node, BF.grantingInstitution, institution)
                    b.type(institution, BF.Agent, BF.Organization)
                b.label(institutions[n], value, lang)
                n += 1
            elif code == "d":
                b.text(node, BF.date, value, lang)


HANDLERS = {tag: map_note for tag in _NOTE_TYPES} | {
    "502": map_dissertation,
    "505": map_contents,
    "520": map_summary,
}
