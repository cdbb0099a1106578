"""MARC text decoding: which encoding a record really uses, and MARC-8 to Unicode.

Why not just ``pymarc.Record(data)``: pymarc trusts leader/09, so a record
that says MARC-8 but holds UTF-8 (common in real exports) comes out as
mojibake, and one that says UTF-8 but holds MARC-8 fails whole; and its MARC-8
converter writes "Unable to parse character" to ``sys.stderr`` and puts a
space in place of the character, so the loss is invisible to the caller. Here
the choice of encoding is made per record from the bytes, and every
substitution becomes a warning on the record.

The MARC-8 tables are pymarc's (``pymarc.marc8_mapping``); the converter below
follows ``pymarc.marc8.MARC8ToUnicode`` (BSD-2-Clause) with these changes: the
space (0x20) is a space in every character set, as the MARC-8 specification
says (pymarc warns on each space of Hebrew, Cyrillic, Arabic and EACC text);
an unknown character becomes U+FFFD, not a space; truncated or unknown escape
sequences and C1 bytes that MARC-8 does not define are reported, not dropped
in silence or written to stderr.

Decisions for inconsistent records (each adds a warning):

- leader/09 blank (MARC-8) but the field bytes hold non-ASCII, no ESC (0x1B)
  and decode strictly as UTF-8: read as UTF-8;
- leader/09 ``a`` (UTF-8) but the bytes are not valid UTF-8: if they hold no
  well-formed UTF-8 multi-byte sequence at all and convert from MARC-8 with no
  substitution, read as MARC-8 (a MARC-8 record with a wrong flag, as in
  marc4j's pride-and-prejudice-with-many-errors.mrc); otherwise read as UTF-8
  with U+FFFD for each bad byte.

Refused (:class:`UnknownEncoding`, rule ``encoding``): text in a single-byte
code page that is neither (cp1251, cp866 or KOI8-R Cyrillic, Greek, Hebrew...
exported with leader/09 blank or ``a``). MARC-8 writes non-Latin scripts after
an ESC sequence; without one, its bytes 0x80-0xFF are ANSEL: a combining mark
or two before a base letter, or one special letter, so real MARC-8 text never
holds four of them in a row (at most two in the 3,000 MARC-8 records of the
developers' corpus), while every word of such a code page does. Read as
MARC-8, or as UTF-8 with U+FFFD, the record would be stored as unreadable
text under names made of it; refused, the report says which code page it
reads as, so it can be converted and read again.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

from pymarc import marc8_mapping

from ingest.model import RecordWarning

_CODESETS = marc8_mapping.CODESETS
_ODD_MAP = marc8_mapping.ODD_MAP

BASIC_LATIN = 0x42
ANSEL = 0x45
EACC = 0x31
_ESC = 0x1B

#: C1 bytes MARC-8 uses as controls (non-sort begin/end, joiners); dropped quietly.
_MARC8_C1_CONTROLS = frozenset({0x88, 0x89, 0x8D, 0x8E})

#: At most this many warnings are kept for one record; the rest are counted.
MAX_WARNINGS = 20

_PLAIN_ASCII = re.compile(rb"[\x20-\x7e]*\Z")
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_SEPARATORS = re.compile(rb"[\x1e\x1f]")
_ASCII_RUN = re.compile(rb"[\x20-\x7e]+")
#: pymarc's basic Latin set maps 0x21-0x7E to themselves (checked, not assumed).
_LATIN_IS_ASCII = all(
    _CODESETS[BASIC_LATIN].get(code) == (code, False) for code in range(0x21, 0x7F)
)


#: Four bytes 0x80-0xFF in a row, which MARC-8 without ESC never writes (module docstring).
_HIGH_RUN = re.compile(rb"[\x80-\xff]{4,}")
#: Code pages a refused record is tried in, to say what it holds (the usual Cyrillic ones).
_CODE_PAGES = ("cp1251", "koi8_r", "cp866")
_CYRILLIC_WORDS = re.compile(r"[\u0400-\u04ff]{3}(?:[\w ,.;:()/-]{0,38}[\u0400-\u04ff])?")


class UnknownEncoding(ValueError):  # noqa: N818 - a verdict on a record, like BrokenRecord
    """The record's text is in neither MARC-8 nor UTF-8; the message says why."""


class Encoding(Enum):
    """How the text of one record is read."""

    UTF8 = "utf-8"
    UTF8_REPLACE = "utf-8 with replacement"
    MARC8 = "marc-8"


#: The rule of the last warning of a record that had more than ``MAX_WARNINGS``.
MORE_WARNINGS = "more-warnings"


class Warnings:
    """The bounded list of warnings of one record (a damaged record could give thousands)."""

    __slots__ = ("items", "dropped")

    def __init__(self) -> None:
        self.items: list[RecordWarning] = []
        self.dropped = 0

    def add(self, rule: str, message: str) -> None:
        if len(self.items) < MAX_WARNINGS:
            self.items.append(RecordWarning(rule, message))
        else:
            self.dropped += 1

    def as_tuple(self) -> tuple[RecordWarning, ...]:
        if self.dropped:
            return (
                *self.items,
                RecordWarning(MORE_WARNINGS, f"... and {self.dropped} more warnings not listed"),
            )
        return tuple(self.items)


def choose_encoding(leader_09: str, field_bytes: bytes) -> tuple[Encoding, RecordWarning | None]:
    """The encoding to read a record's fields with, and a warning if it overrides the leader.

    ``field_bytes`` is the record's data area (fields only, no leader or
    directory): what the decision must rest on. Raises :class:`UnknownEncoding`
    for text in a single-byte code page.
    """
    if leader_09 == "a":
        try:
            field_bytes.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return Encoding.UTF8, None
        if not _UTF8_MULTIBYTE.search(field_bytes) and _converts_cleanly(field_bytes):
            return Encoding.MARC8, RecordWarning(
                "encoding", "leader/09 says UTF-8 but the bytes are not UTF-8; read as MARC-8"
            )
        _refuse_single_byte_text(field_bytes, "UTF-8")
        return Encoding.UTF8_REPLACE, None
    if not field_bytes.isascii() and b"\x1b" not in field_bytes:
        try:
            field_bytes.decode("utf-8")
        except UnicodeDecodeError:
            _refuse_single_byte_text(field_bytes, "MARC-8")
            return Encoding.MARC8, None
        return Encoding.UTF8, RecordWarning(
            "encoding", "leader/09 says MARC-8 but the bytes are UTF-8; read as UTF-8"
        )
    return Encoding.MARC8, None


def _refuse_single_byte_text(field_bytes: bytes, claimed: str) -> None:
    """Raise :class:`UnknownEncoding` if the bytes hold words of a single-byte code page.

    Well-formed UTF-8 sequences are taken out first, so that a UTF-8 record
    with a few bad bytes is not mistaken for one.
    """
    if _HIGH_RUN.search(field_bytes) is None:  # the usual MARC-8 record: one regex scan
        return
    for piece in _SEPARATORS.split(field_bytes):
        run = _HIGH_RUN.search(_UTF8_MULTIBYTE.sub(b"\x00", piece))
        if run is not None:
            break
    else:
        return
    guess = _code_page(field_bytes[:4000])
    reads = f"; it reads as {guess[0]}: {guess[1]!r}" if guess else ""
    raise UnknownEncoding(
        f"leader/09 says {claimed}, but bytes such as {run.group()[:6].hex(' ')} come in runs "
        f"that neither MARC-8 nor UTF-8 writes: text in a single-byte code page{reads}; "
        "convert the file to UTF-8 (or MARC-8) and read it again"
    )


def _code_page(data: bytes) -> tuple[str, str] | None:
    """The Cyrillic code page ``data`` most likely is, and a sample of it read so; else ``None``.

    Running text is mostly lower-case letters after a letter, and the three
    code pages put their letters at different bytes (lower case: cp1251
    0xE0-0xFF, KOI8-R 0xC0-0xDF, cp866 0xA0-0xAF and 0xE0-0xEF; the others
    give box-drawing characters for some of them), so the right one scores
    far higher than the others; no guess unless it does.
    """
    scores = []
    for name in _CODE_PAGES:
        text = data.decode(name, "replace")
        score = sum(
            1
            for before, char in zip(text, text[1:], strict=False)
            if char.islower() and before.isalpha() and not char.isascii()
        ) - sum(1 for char in text if not char.isascii() and not char.isalpha())
        scores.append((score, name, text))
    scores.sort(reverse=True)
    (best, name, text), (second, _, _) = scores[0], scores[1]
    if best < 1.25 * max(second, 0) + 4:
        return None
    run = _CYRILLIC_WORDS.search(text)
    return name, run.group() if run else text[:40]


def _converts_cleanly(field_bytes: bytes) -> bool:
    probe = Warnings()
    for piece in _SEPARATORS.split(field_bytes):
        if not piece.isascii():
            marc8_to_unicode(piece, probe, "")
            if probe.items:
                return False
    return True


def decode_text(raw: bytes, encoding: Encoding, warnings: Warnings, where: str) -> str:
    """``raw`` (one subfield or control field) as text; problems go to ``warnings``.

    ``where`` names the place for the warning (``245$a``).
    """
    if encoding is Encoding.MARC8:
        if _PLAIN_ASCII.match(raw):
            return raw.decode("ascii")
        return marc8_to_unicode(raw, warnings, where)
    if encoding is Encoding.UTF8:
        return raw.decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        warnings.add(
            "encoding",
            f"{where}: invalid UTF-8 byte 0x{raw[exc.start]:02X}; "
            "bad bytes replaced by U+FFFD"
        )
        return raw.decode("utf-8", "replace")


def marc8_to_unicode(raw: bytes, warnings: Warnings, where: str) -> str:
    """Convert MARC-8 bytes to NFC Unicode, reporting what could not be converted.

    The G0/G1 state starts afresh for each call (basic Latin / ANSEL), as
    pymarc does for each subfield.
    """
    g0, g1 = BASIC_LATIN, ANSEL
    out: list[str] = []
    combining: list[str] = []
    pos, size = 0, len(raw)
    while pos < size:
        byte = raw[pos]
        if byte == _ESC:
            pos, g0, g1 = _escape(raw, pos, g0, g1, warnings, where)
            continue
        if g0 == BASIC_LATIN and 0x20 <= byte < 0x7F and _LATIN_IS_ASCII:
            # A run of printable ASCII in basic Latin reads as itself (0x20 is a space in
            # every set): taken whole rather than byte by byte, since most MARC-8 text is
            # ASCII between a few diacritics. Pending combining marks follow its first
            # character, exactly as the byte-by-byte path below would place them.
            run = _ASCII_RUN.match(raw, pos)
            text = run.group().decode("ascii")
            out.append(text[0])
            if combining:
                out.extend(combining)
                combining.clear()
            out.append(text[1:])
            pos = run.end()
            continue
        if byte == 0x20:
            out.append(" ")
            out.extend(combining)
            combining.clear()
            pos += 1
            continue
        if g0 == EACC:
            if pos + 3 > size:
                warnings.add("encoding", f"{where}: MARC-8 EACC character cut short at the end")
                out.append("\ufffd")
                break
            code = (byte << 16) | (raw[pos + 1] << 8) | raw[pos + 2]
            pos += 3
            table = _CODESETS[EACC]
        else:
            code = byte
            pos += 1
            if code < 0x20:
                continue  # C0 controls are not text
            if code == 0x7F or 0x80 < code < 0xA0:
                if code not in _MARC8_C1_CONTROLS:
                    warnings.add(
                        "encoding",
                        f"{where}: byte 0x{code:02X} is not a MARC-8 character; dropped"
                    )
                continue
            table = _CODESETS.get(g1 if code > 0x80 else g0)
        entry = _lookup(table, code, g0 == EACC)
        if entry is None:
            odd = _ODD_MAP.get(code)
            if odd is not None:
                out.append(chr(odd))
                continue
            if g0 != BASIC_LATIN and 0x20 < code < 0x7F:
                warnings.add(
                    "encoding",
                    f"{where}: {chr(code)!r} (0x{code:02X}) is not in MARC-8 set "
                    f"0x{g0:02X}; read as ASCII (missing escape back to Latin?)"
                )
                out.append(chr(code))
                continue
            warnings.add(
                "encoding",
                f"{where}: MARC-8 character 0x{code:X} unknown in set "
                f"G0=0x{g0:02X} G1=0x{g1:02X}; replaced by U+FFFD"
            )
            entry = (0xFFFD, False)
        char = chr(entry[0])
        if entry[1]:
            combining.append(char)
        else:
            out.append(char)
            if combining:
                out.extend(combining)
                combining.clear()
    if combining:
        warnings.add("encoding", f"{where}: MARC-8 combining mark with no base character; dropped")
    return unicodedata.normalize("NFC", "".join(out))


def _lookup(table: dict | None, code: int, multibyte: bool) -> tuple[int, bool] | None:
    """The (code point, combining) of ``code`` in ``table``.

    A 94-character set means the same whether designated as G0 (codes
    0x21-0x7E) or G1 (0xA1-0xFE), as in ISO 2022; pymarc's tables hold each
    set at one of the two, so the other half is tried too.
    """
    if table is None:
        return None
    entry = table.get(code)
    if entry is None and not multibyte and code != 0x20 and code != 0xA0:
        entry = table.get(code ^ 0x80)
    return entry


def _escape(
    raw: bytes, pos: int, g0: int, g1: int, warnings: Warnings, where: str
) -> tuple[int, int, int]:
    """Apply the escape sequence at ``raw[pos]``; return the new position and sets."""
    rest = raw[pos + 1 : pos + 4]
    if not rest:
        warnings.add("encoding", f"{where}: MARC-8 escape (ESC) at the end of the text; dropped")
        return pos + 1, g0, g1
    first = rest[0]
    # Technique 1: ESC [(,] F -> G0, ESC [)-] F -> G1, ESC $ [,]? F -> G0, ESC $ [)-] F -> G1.
    if first in b"(,)-$":
        index = 1
        to_g1 = first in b")-"
        if first == 0x24 and len(rest) > 1 and rest[1] in b",)-":  # "$" then intermediate
            to_g1 = rest[1] in b")-"
            index = 2
        if len(rest) <= index:
            warnings.add("encoding", f"{where}: incomplete MARC-8 escape sequence; dropped")
            return len(raw), g0, g1
        final = rest[index]
        if final not in _CODESETS:
            warnings.add("encoding", f"{where}: unknown MARC-8 character set 0x{final:02X}")
        if to_g1:
            g1 = final
        else:
            g0 = final
        return pos + 2 + index, g0, g1
    # Technique 2: ESC g / b / p (Greek symbols, subscript, superscript), ESC s back to Latin.
    if first == 0x73:
        return pos + 2, BASIC_LATIN, g1
    if first in _CODESETS:
        return pos + 2, first, g1
    warnings.add(
        "encoding",
        f"{where}: unknown MARC-8 escape sequence ESC 0x{first:02X}; ESC dropped"
    )
    return pos + 1, g0, g1
