"""Leaders of 23 or 25 characters, made 24 again.

Some exports write a leader one character short or long: a blank lost when a
field was trimmed, a character doubled, a stray byte after ``4500``. In binary
MARC the directory then starts one byte early or late, which the directory
itself shows (its entries are 12 bytes each, ending at the first field
terminator); in MARCXML the ``<leader>`` text is simply 23 or 25 characters.
Rejecting such a record loses a good record for one character of its leader,
so both readers repair it, with a warning that says what was done.

Which character is missing or extra is not written anywhere, so the repair
tries every place: insert a blank (or the ``0`` that ends ``4500``) / drop one
character at each position, and keep the leader whose positions hold the most
values MARC 21 allows there (digits in the record length and base address,
``4500`` at 20-23, a known record type at 06...). Among equally good ones a
blank goes where MARC 21 leaders most often have one (leader/08, /19...), and
the character dropped is a blank or a doubled one, else the later one. The record's text does not depend on the
leader's coded values except leader/09, and the encoding is chosen from the
bytes anyway (``ingest.marc.decoding``).
"""

from __future__ import annotations

LENGTH = 24

#: Values MARC 21 allows at each coded position (bibliographic, authority, holdings...).
_ALLOWED = {
    5: "acdnp",
    6: "acdefgijkmoprtuvxyzq",
    7: "abcdims ",
    8: " a",
    9: " a",
    10: "2",
    11: "2",
    17: " 12345678uzIJKLM",
    18: " acinu",
    19: " abcr",
    20: "4",
    21: "5",
    22: "0",
    23: "0",
}
#: Where a lost blank most likely was, best first: positions that are blank in most records.
_BLANK_PLACES = (8, 19, 18, 17, 9, 7, 23)


def _score(leader: str) -> int:
    """How many positions of a 24-character leader hold a value MARC 21 allows there."""
    score = 2 * leader[0:5].isdigit() + 2 * leader[12:17].isdigit()
    return score + sum(leader[position] in allowed for position, allowed in _ALLOWED.items())


def repair(raw: str) -> tuple[str, str] | None:
    """The 24-character leader for a ``raw`` leader of 23 or 25 characters, and what was done.

    ``None`` for any other length (a leader that far off is not repaired).

    >>> repair("00714cama2200205 a 4500")
    ('00714cam a2200205 a 4500', 'a leader of 23 characters; a blank inserted at leader/08')
    >>> repair("00714cam a2200205 a 45000")
    ('00714cam a2200205 a 4500', "a leader of 25 characters; the '0' at leader/24 dropped")
    >>> repair("00714cam a2200205 a 450")
    ('00714cam a2200205 a 4500', "a leader of 23 characters; the '0' that ends leader/20-23 (4500) added")
    """
    if len(raw) == LENGTH - 1:
        candidates = [
            (raw[:at] + " " + raw[at:], at, f"a blank inserted at leader/{at:02d}")
            for at in range(LENGTH)
        ]
        if raw.endswith("450"):
            candidates.append((raw + "0", LENGTH, "the '0' that ends leader/20-23 (4500) added"))

        def rank(candidate: tuple[str, int, str]) -> tuple[int, int]:
            leader, at, _ = candidate
            preference = _BLANK_PLACES.index(at) if at in _BLANK_PLACES else len(_BLANK_PLACES)
            return (_score(leader), -preference)

    elif len(raw) == LENGTH + 1:
        candidates = [
            (raw[:at] + raw[at + 1 :], at, f"the {raw[at]!r} at leader/{at:02d} dropped")
            for at in range(LENGTH + 1)
        ]

        def rank(candidate: tuple[str, int, str]) -> tuple[int, bool, int]:
            leader, at, _ = candidate
            doubled = raw[at] == " " or raw[at] == raw[at - 1 : at] or raw[at] == raw[at + 1 : at + 2]
            return (_score(leader), doubled, at)

    else:
        return None
    leader, _at, done = max(candidates, key=rank)
    return leader, f"a leader of {len(raw)} characters; {done}"
