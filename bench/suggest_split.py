"""The records, texts, gold subjects and train/test split of issue 12's subject-suggestion task.

Kept apart from ``bench/suggest.py`` (which runs the systems and scores them)
so the protocol can be read, and checked, in one screen. The protocol, word for
word from issue 12 part 4:

    from the bibliographic records in ``../shared/data/marc`` and
    ``../shared/data/marcxml`` that have a 650 with second indicator 0 and a
    ``$a`` (leader/06 not in ``xyvuz``), the document text is 245 ``$a $b $n
    $p``, 246 ``$a``, 500/505/520 ``$a``; the gold is each such 650's first
    ``$a`` (NFC, whitespace collapsed, trailing `` .,;:/`` stripped);
    deduplicate by 001 + title; sort by sha1 of 001 + 0x1F + title and put
    every fifth record (index % 5 == 4) in the test set.

Choices the text leaves open, made here once:

- records are read with pymarc 5 (``MARCReader(to_unicode=True,
  force_utf8=False, permissive=True)``, ``parse_xml_to_array``), as
  ``../shared/data/MANIFEST.md`` counts them; a record pymarc cannot read is
  not in the task;
- "title" (for deduplication and the sort key) is the 245 ``$a $b $n $p``
  joined by spaces, NFC, whitespace collapsed; 001 absent counts as "";
- the first record (in file order: ``marc/`` then ``marcxml/``, paths sorted)
  of each 001 + title is kept;
- the gold is a set (a heading given twice counts once); a gold heading that
  normalises to "" is dropped.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymarc

TEXT_FIELDS: tuple[tuple[str, str], ...] = (
    ("245", "abnp"),
    ("246", "a"),
    ("500", "a"),
    ("505", "a"),
    ("520", "a"),
)
EXCLUDED_TYPES = "xyvuz"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Document:
    """One record of the task: its text, its hidden gold subjects and the record itself."""

    key: str  # sha1 of 001 + 0x1F + title, the sort key
    control_number: str
    title: str
    text: str
    gold: frozenset[str]
    record: pymarc.Record
    path: Path


def normalise_heading(text: str) -> str:
    """The issue's gold form: NFC, whitespace collapsed, trailing `` .,;:/`` stripped.

    >>> normalise_heading("Music  --\\nJapan. ")
    'Music -- Japan'
    >>> normalise_heading("Cats /")
    'Cats'
    """
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return text.rstrip(" .,;:/")


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _subfields(record: pymarc.Record, tag: str, codes: str) -> list[str]:
    return [
        " ".join(sub.value for sub in field.subfields if sub.code in codes and sub.value)
        for field in record.get_fields(tag)
    ]


def document_text(record: pymarc.Record) -> str:
    """245 $a $b $n $p, 246 $a, 500/505/520 $a, one line each."""
    parts: list[str] = []
    for tag, codes in TEXT_FIELDS:
        parts.extend(_collapse(p) for p in _subfields(record, tag, codes))
    return "\n".join(p for p in parts if p)


def record_title(record: pymarc.Record) -> str:
    return _collapse(" ".join(_subfields(record, "245", "abnp")))


def gold_headings(record: pymarc.Record) -> frozenset[str]:
    """The first $a of each 650 with second indicator 0."""
    gold = set()
    for field in record.get_fields("650"):
        if field.indicator2 != "0":
            continue
        first = next((sub.value for sub in field.subfields if sub.code == "a"), None)
        if first is not None and (heading := normalise_heading(first)):
            gold.add(heading)
    return frozenset(gold)


def read_records(shared: Path) -> Iterator[tuple[Path, pymarc.Record]]:
    """Every record pymarc reads from ``shared/marc`` and ``shared/marcxml``, in file order."""
    logging.getLogger("pymarc").setLevel(logging.ERROR)
    for path in sorted(p for p in (shared / "marc").rglob("*") if p.is_file()):
        with path.open("rb") as handle:
            reader = pymarc.MARCReader(handle, to_unicode=True, force_utf8=False, permissive=True)
            try:
                for record in reader:
                    if record is not None:
                        yield path, record
            except Exception:  # noqa: BLE001 - pymarc cannot resync: the rest of the file is lost
                continue
    for path in sorted(p for p in (shared / "marcxml").rglob("*") if p.is_file()):
        try:
            records = pymarc.parse_xml_to_array(str(path))
        except Exception:  # noqa: BLE001 - not MARCXML pymarc can read
            continue
        for record in records:
            if record is not None:
                yield path, record


def load_split(shared: Path) -> tuple[list[Document], list[Document]]:
    """(train, test) after the issue's filter, deduplication, sort and every-fifth rule."""
    seen: dict[tuple[str, str], Document] = {}
    for path, record in read_records(shared):
        leader = str(record.leader)
        if len(leader) < 7 or leader[6] in EXCLUDED_TYPES:
            continue
        gold = gold_headings(record)
        if not gold:
            continue
        fields_001 = record.get_fields("001")
        control = (fields_001[0].data or "").strip() if fields_001 else ""
        title = record_title(record)
        if (control, title) in seen:
            continue
        key = hashlib.sha1(f"{control}\x1f{title}".encode()).hexdigest()
        seen[(control, title)] = Document(
            key, control, title, document_text(record), gold, record, path
        )
    ordered = sorted(seen.values(), key=lambda d: d.key)
    train = [d for i, d in enumerate(ordered) if i % 5 != 4]
    test = [d for i, d in enumerate(ordered) if i % 5 == 4]
    return train, test


def write_marc(records: list[pymarc.Record], path: Path) -> None:
    """ISO 2709 in UTF-8 (leader/09 ``a``), as ``catalograph ingest`` reads it."""
    with path.open("wb") as out:
        for record in records:
            record.force_utf8 = True
            out.write(record.as_marc())
