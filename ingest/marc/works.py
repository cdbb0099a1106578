"""Work clustering: which bf:Work an Instance belongs to, why, and what kind of Work it is.

Editions and translations of one work must point to one Work node, so the
Work IRI is minted from a key that they share:

* ``creator|uniform title``: the main entry's name (1XX $a $b; no dates,
  so "Austen, Jane" and "Austen, Jane, 1775-1817" meet) and the uniform title
  (130/240 $a $k $m $n $p $r, without $l language, $f date, $s version or
  $o arrangement, so translations and versions meet). Reason
  ``cg:SameUniformTitle``.
* ``creator|collective|title proper`` when the uniform title is a
  collective one (:func:`ingest.marc.titles.is_collective`: "Works",
  "Poems. Selections", "Correspondence", "Œuvres", "Piano music"...). Such a
  title is whatever an author's compilations are called ("Novels" gathered
  seven different books of the Austen set), so it never keys a Work alone:
  the title proper joins it. Which form title it was does not
  (:func:`ingest.marc.titles.collective_key`): one compilation is "Works" in
  one catalogue and "Novels" in another. A selection from a named work
  ("Carmen. Selections", "Bible. Selections") keeps that title in the key
  instead. Reason ``cg:SameCollectiveTitleAndTitle``.
* ``creator|title proper`` (245 $a $n $p, non-filing characters dropped)
  when there is no uniform title. Reason ``cg:SameCreatorAndTitle``. The key
  has the same shape as the first, so an edition catalogued with a 240 and
  one without meet when the titles agree.
* With no creator and no uniform title, a title alone ("Report", "Poems",
  "Proceedings") would merge unrelated works, so the Work is keyed to the
  Instance itself (reason ``cg:RecordOnly``); records that share the
  Instance's identifier still share the Work. So is a record whose only
  uniform title is a bare collective one ("Poems") without a creator, or
  a collective one without a title proper.

Each link is stated as a ``cg:WorkLink`` node (``{graph}#work-link``) with its
reason and normalised key so that a cataloguer can find and undo it. The
Work is a single node for editions and translations; the language of the
text goes on the Instance (008/35-37, 041 $a $d), the Work carries the
original language (041 $h; else, for a record that is not a translation,
the language of its text). The Work's uniform title node is a part of the
Work named from its normalised text (:meth:`IriMinter.part`), so every
record of a cluster states the same title block once.
"""

from __future__ import annotations

from pymarc import Field
from pyoxigraph import NamedNode

from ingest.iri import IriMinter, normalise
from ingest.marc import vocab
from ingest.marc.bibcontext import BibContext, Version, first, indicator, joined
from ingest.marc.terms import BF, CG
from ingest.marc.titles import COLLECTIVE_KEY, collective_key, is_collective
from ingest.quads import clean_text

_CONTENT_CLASSES = {
    "a": BF.Text, "t": BF.Text, "c": BF.NotatedMusic, "d": BF.NotatedMusic,
    "e": BF.Cartography, "f": BF.Cartography, "g": BF.MovingImage, "i": BF.Audio,
    "j": BF.Audio, "k": BF.StillImage, "m": BF.Multimedia, "o": BF.Kit,
    "p": BF.MixedMaterial, "r": BF.Object,
}
#: BIBFRAME 2's audio subclasses (bf:NonMusicAudio/bf:MusicAudio are not in every release,
#: so both the generic bf:Audio above and the specific one are stated).
_AUDIO_CLASSES = {"i": BF.NonMusicAudio, "j": BF.MusicAudio}
_ISSUANCE = {
    level: NamedNode(f"http://id.loc.gov/vocabulary/issuance/{code}")
    for level, code in {"m": "mono", "s": "serl", "b": "serl", "i": "intg", "a": "mono",
                        "c": "mono", "d": "mono"}.items()
}

_UNIFORM_KEY = frozenset("akmnpr")
_MAIN = frozenset("a")
_UNIFORM_LABEL = frozenset("adkmnpr")
_TITLE_KEY = frozenset("anp")
_NAME_KEY = {"00": frozenset("ab"), "10": frozenset("ab"), "11": frozenset("a")}
_TITLE_PART = frozenset("tkmnpr")
_AFTER_NAME = frozenset("tkflmnoprs")
_MAIN_ENTRIES = ("100", "110", "111")
_TEXT = frozenset("abcdefghijklmnopqrstuvwxyz")
_SERIAL_LEVELS = frozenset("sb")
_MANUSCRIPT_TYPES = frozenset("tdf")
_PRINTED_TYPES = frozenset("acem")
_FORM_AT_29 = frozenset("efgkor")
_ELECTRONIC_FORMS = frozenset("soq")
_PRINT_FORMS = frozenset(" rd")


def non_filing(field: Field, which: int, text: str) -> str:
    """``text`` without the article the non-filing indicator counts (``The ``)."""
    count = indicator(field, which)
    if count.isdigit() and 0 < int(count) < len(text):
        return text[int(count):]
    return text


def name_key(field: Field) -> str:
    """The normalised name of a X00/X10/X11 heading for work keys (no dates, no relators)."""
    codes = _NAME_KEY.get(field.tag[1:], _NAME_KEY["00"])
    parts = []
    for code, value in field.subfields:
        if code in _AFTER_NAME:
            break
        if code in codes and value:
            parts.append(value)
    return normalise(" ".join(parts))


def _is_selection(title_key: str) -> bool:
    return title_key == "selections" or title_key.endswith(" selections")


def name_title_key(field: Field) -> str | None:
    """``creator|title`` of a name/title heading (7XX/6XX/8XX with $t), as the work key."""
    parts = []
    in_title = False
    for code, value in field.subfields:
        if code == "t":
            in_title = True
        if in_title and code in _TITLE_PART and value:
            parts.append(value)
    title = normalise(" ".join(parts))
    if not title or _is_selection(title):
        return None
    return f"{name_key(field)}|{title}"


def work_key(ctx: BibContext) -> tuple[str, NamedNode, str]:
    """``(key, reason, label)`` of this record's Work."""
    creator = ""
    for tag in _MAIN_ENTRIES:
        field = ctx.field(tag)
        if field is not None:
            creator = name_key(field)
            break
    uniform = ctx.field("240") if creator else None
    which = 1
    if uniform is None:
        uniform = ctx.field("130")
        which = 0
    collective: str | None = None  # the normalised collective uniform title, if that is what it is
    if uniform is not None:
        text = non_filing(uniform, which, joined(uniform, _UNIFORM_KEY))
        title = normalise(text)
        if title:
            if not is_collective(uniform):
                return f"{creator}|{title}", CG.SameUniformTitle, joined(uniform, _UNIFORM_LABEL)
            collective = title
    f245 = ctx.field("245")
    label = joined(f245, _TITLE_KEY) if f245 is not None else ""
    proper = normalise(non_filing(f245, 1, label)) if f245 is not None else ""
    if collective is not None:
        part = collective_key(collective)
        if proper and (creator or part != COLLECTIVE_KEY):
            return f"{creator}|{part}|{proper}", CG.SameCollectiveTitleAndTitle, label
    elif creator and proper:
        return f"{creator}|{proper}", CG.SameCreatorAndTitle, label
    return f"instance|{ctx.instance.value}", CG.RecordOnly, label or _any_title(ctx)


def _any_title(ctx: BibContext) -> str:
    """A label for a Work whose record has no title proper: any title text it has."""
    for tag in ("245", "246", "130", "240", "740", "880"):
        for field in ctx.fields(tag):
            if tag == "880" and not (first(field, "6") or "").startswith("245"):
                continue
            text = clean_text(joined(field, _TITLE_KEY) or joined(field, _TEXT))
            if text:
                return text
    return ""


def describe_work(ctx: BibContext) -> None:
    """Mint the Work, link the Instance to it with its reason, and type both."""
    b = ctx.b
    key, reason, label = work_key(ctx)
    work = ctx.work = ctx.minter.from_key("work", key)
    instance = ctx.instance
    b.add(instance, BF.instanceOf, work)
    link = ctx.minter.local(ctx.graph, "work", "link")
    b.type(link, CG.WorkLink)
    b.add(link, CG.linkedInstance, instance)
    b.add(link, CG.linkedWork, work)
    b.add(link, CG.reason, reason)
    b.text(link, CG.matchKey, key)
    b.type(work, BF.Work)
    b.label(work, label)
    leader = ctx.leader
    content = _CONTENT_CLASSES.get(leader[6])
    if content is not None:
        b.type(work, content)
        audio = _AUDIO_CLASSES.get(leader[6])
        if audio is not None:
            b.type(work, audio)
    level = leader[7]
    if level in _SERIAL_LEVELS:
        b.type(work, BF.Serial)
    elif level == "i":
        b.type(work, BF.Integrating)
    if leader[6] in _MANUSCRIPT_TYPES:
        b.type(work, BF.Manuscript)
    _type_instance(ctx)
    _languages(ctx)


def _type_instance(ctx: BibContext) -> None:
    """bf:Instance, and the carrier class 008's form of item or the record type implies.

    (Serial and Manuscript are Work classes since BIBFRAME 2.2; they are stated above.)
    """
    b = ctx.b
    instance = ctx.instance
    b.type(instance, BF.Instance)
    record_type = ctx.leader[6]
    form = ctx.f008[29] if record_type in _FORM_AT_29 else ctx.f008[23]
    if form in _ELECTRONIC_FORMS:
        b.type(instance, BF.Electronic)
    elif record_type in _PRINTED_TYPES and form in _PRINT_FORMS:
        b.type(instance, BF.Print)
    elif record_type in _PRINTED_TYPES and form == "f":
        b.type(instance, BF.Tactile)
    issuance = _ISSUANCE.get(ctx.leader[7])
    if issuance:
        b.add(instance, BF.issuance, issuance)


def record_language(ctx: BibContext) -> None:
    """008/35-37 (else the first 041 $a) -> ``ctx.marc_language`` and its BCP 47 subtag."""
    code = ctx.f008[35:38].strip().lower()
    if vocab.language_iri(code) is None or code in ("und", "zxx", "mul"):
        code = ""
        f041 = ctx.field("041")
        if f041 is not None:
            codes = _codes(f041, "a")
            code = codes[0] if codes else ""
    if code:
        ctx.marc_language = code
        ctx.lang = vocab.bcp47_language(code)


def _codes(field: Field, wanted: str) -> list[str]:
    """Language codes of ``$wanted``; old records pack several into one subfield (``engfre``)."""
    found = []
    for code, value in field.subfields:
        if code != wanted or not value:
            continue
        value = "".join(ch for ch in value.lower() if "a" <= ch <= "z")
        if len(value) > 3 and len(value) % 3 == 0:
            found.extend(value[i:i + 3] for i in range(0, len(value), 3))
        else:
            found.append(value)
    return found


def _languages(ctx: BibContext) -> None:
    b = ctx.b
    text_languages: list[str] = []
    code = ctx.f008[35:38].strip().lower()
    if code:
        text_languages.append(code)
    originals: list[str] = []
    translation = False
    for field in ctx.fields("041"):
        text_languages.extend(_codes(field, "a"))
        text_languages.extend(_codes(field, "d"))
        originals.extend(_codes(field, "h"))
        translation = translation or indicator(field, 0) == "1"
    for tag in ("240", "130"):
        for field in ctx.fields(tag):
            translation = translation or any(c == "l" for c, _ in field.subfields)
    for code in text_languages:
        iri = vocab.language_iri(code)
        if iri is not None:
            b.add(ctx.instance, BF.language, iri)
    for code in originals if (originals or translation) else text_languages:
        iri = vocab.language_iri(code)
        if iri is not None:
            b.add(ctx.work, BF.language, iri)


def map_uniform_title(ctx: BibContext, versions: list[Version]) -> None:
    """130/240 -> the Work's bf:Title (the preferred title of the work).

    The node is a part of the Work keyed by the title's normalised text, so the
    records of a cluster that give the same uniform title state one node.
    """
    mains = [(clean_text(joined(field, _MAIN)), lang) for field, lang in versions]
    if not any(main for main, _ in mains):
        return
    b = ctx.b
    first_field = versions[0].field
    key = normalise(joined(first_field, _UNIFORM_LABEL)) or normalise(joined(first_field, _TEXT))
    node = IriMinter.part(ctx.work, "title", key)
    b.add(ctx.work, BF.title, node)
    b.type(node, BF.Title)
    for index, ((field, lang), (main, _)) in enumerate(zip(versions, mains, strict=True)):
        b.text(node, BF.mainTitle, main, lang)
        for code, value in field.subfields:
            if code == "n" and value:
                b.text(node, BF.partNumber, value, lang)
            elif code == "p" and value:
                b.text(node, BF.partName, value, lang)
        b.label(node, joined(field, _UNIFORM_LABEL), lang)
        if index:  # the Work is shared: only the 880's script form joins its label
            b.label(ctx.work, joined(field, _UNIFORM_LABEL), lang)


HANDLERS = {"130": map_uniform_title, "240": map_uniform_title}
