"""880 alternate graphic representations: pairing with their partners, and their language tags.

An 880 names its partner in ``$6`` (``245-02/(2/r``: tag 245, occurrence 02,
script ``(2`` = Hebrew, right-to-left); the partner names it back
(``$6 880-02``). Paired 880s become parallel literals on the partner's nodes
(``"東京"@ja-Jpan`` beside ``"Tōkyō"@ja-Latn``): the language is the
record's (008/35-37, via ``vocab.bcp47_language``), the script the ``$6``
code's (``vocab.script_subtag``) or, without a code, the text's
(``vocab.detect_script``); a script the language is not written in makes the
language ``und`` (a Russian note in a Chinese book: ``und-Cyrl``). The
romanised partner of a non-Latin 880 is tagged ``{language}-Latn`` in
transcribed text (titles, statements, notes), but heading labels (agents,
concepts, series and related works) stay untagged, as the authority record
and the records without 880s state them, so that they do not multiply.
Directional marks (U+200F...) are dropped from 880 text.

An 880 whose occurrence is ``00`` or whose partner is missing is still kept:
it is mapped as if it were the field its ``$6`` names. One whose ``$6`` is
missing or unreadable becomes a note, so no cataloguer's text is lost.
"""

from __future__ import annotations

from pymarc import Field
from pymarc.field import Indicators, Subfield

from ingest.marc import vocab
from ingest.marc.bibcontext import (
    BibContext,
    Version,
    indicator,
    joined,
    linkage_occurrence,
)

_TEXT_CODES = frozenset("abcdefghijklmnopqrstuvwxyz")
_CJK = frozenset({"Hani", "Hans", "Hant", "Jpan", "Kore", "Hira", "Kana", "Hang"})
_CYRILLIC = frozenset({"Cyrl"})
_ARABIC = frozenset({"Arab"})
#: Scripts the languages most often met in 880s are written in (BCP 47 primary subtag).
#: A language missing here is trusted with any script.
_SCRIPTS_OF: dict[str, frozenset[str]] = {
    "zh": _CJK, "ja": _CJK, "ko": _CJK,
    **dict.fromkeys(("ru", "uk", "be", "bg", "mk", "kk", "ky", "tg", "tt", "ba", "cv"), _CYRILLIC),
    **dict.fromkeys(("ar", "fa", "ur", "ps", "ug", "sd", "ota"), _ARABIC),
    **dict.fromkeys(("he", "yi", "lad", "jrb", "arc"), frozenset({"Hebr"})),
    "el": frozenset({"Grek"}), "grc": frozenset({"Grek"}), "hy": frozenset({"Armn"}),
    "ka": frozenset({"Geor"}), "th": frozenset({"Thai"}), "am": frozenset({"Ethi"}),
    **dict.fromkeys(("hi", "mr", "ne", "sa"), frozenset({"Deva"})),
    "bn": frozenset({"Beng"}), "ta": frozenset({"Taml"}), "km": frozenset({"Khmr"}),
    "lo": frozenset({"Laoo"}), "my": frozenset({"Mymr"}), "bo": frozenset({"Tibt"}),
}
#: Directional formatting marks 880s carry around RTL text. They are display
#: hints, not text: left in, they defeat punctuation trimming and label matching.
_BIDI_CONTROLS = dict.fromkeys(
    [0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
)


def pair_880s(ctx: BibContext) -> tuple[list[Version], list[Field]]:
    """Fill ``ctx.pairs``; return the unlinked 880s (re-tagged) and the unreadable ones."""
    fields_880 = ctx.fields("880")
    if not fields_880:
        return [], []
    claimed: set[tuple[str, str]] = set()
    for tag, fields in ctx.by_tag.items():
        if tag == "880" or tag < "010":
            continue
        for field in fields:
            for code, value in field.subfields:
                if code == "6" and value:
                    occurrence = linkage_occurrence(value)
                    if occurrence and value.lstrip().startswith("880"):
                        claimed.add((tag, occurrence))
                    break
    unlinked: list[Version] = []
    unreadable: list[Field] = []
    for field in fields_880:
        linkage = _linkage(field)
        if linkage is None:
            unreadable.append(field)
            continue
        tag, occurrence, script_code = linkage
        retagged = Field(
            tag=tag,
            indicators=Indicators(indicator(field, 0), indicator(field, 1)),
            subfields=[
                Subfield(s.code, s.value.translate(_BIDI_CONTROLS))
                for s in field.subfields
                if s.code != "6" and s.value
            ],
        )
        version = Version(retagged, language_tag(ctx, field, script_code))
        key = (tag, occurrence or "00")
        if occurrence and occurrence != "00" and key in claimed and key not in ctx.pairs:
            ctx.pairs[key] = version
        else:
            unlinked.append(version)
    return unlinked, unreadable


def _linkage(field: Field) -> tuple[str, str | None, str | None] | None:
    """``$6`` of an 880 -> (tag, occurrence, script code), or ``None`` when unreadable."""
    for code, value in field.subfields:
        if code == "6" and value:
            parts = value.strip().split("/")
            tag = parts[0][:3]
            if len(tag) != 3 or not tag.isdigit() or tag == "880" or tag < "010":
                return None
            script = parts[1].strip() if len(parts) > 1 and parts[1].strip() else None
            return tag, linkage_occurrence(value), script
    return None


def language_tag(ctx: BibContext, field: Field, script_code: str | None = None) -> str | None:
    """``{language}-{script}``: language from 008/35-37, script from ``$6`` or the text.

    When the record's language is not written in that script (a Russian note
    in a Chinese book), the language is unknown: ``und-Cyrl``.
    """
    script = vocab.script_subtag(script_code, ctx.marc_language) if script_code else None
    if not script:
        script = vocab.detect_script(joined(field, _TEXT_CODES))
    if not script:
        return ctx.lang
    language = ctx.lang
    expected = _SCRIPTS_OF.get(language or "")
    if language is None or (expected is not None and script not in expected):
        language = "und"
    return ctx.valid_tag(f"{language}-{script}")
