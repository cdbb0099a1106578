"""Make the small export fixtures of this folder from real records of tests/data.

Run from the repository root: ``.venv/bin/python tests/data/exports/make_fixtures.py``.
Each fixture reproduces one fault seen in real exports, on real records, so
the readers' tests can say exactly what they expect of it (tests/data/README.md).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent


def records(relative: str) -> list[bytes]:
    """The records of a binary MARC file of tests/data, each with its terminator."""
    data = (DATA / relative).read_bytes()
    return [record + b"\x1d" for record in data.split(b"\x1d")[:-1]]


def cp866() -> bytes:
    """Records 1 and 3 of pymarc's 1251.dat re-encoded from cp1251 to cp866, around a MARC-8 record.

    Both code pages are single-byte, so every length and offset stays right:
    only the encoding is wrong (leader/09 blank says MARC-8).
    """
    cyrillic = records("marc/pymarc/1251.dat")
    marc8 = records("marc/pymarc/marc.dat")[0]
    recode = [record.decode("cp1251").encode("cp866") for record in cyrillic]
    return recode[0] + marc8 + recode[2]


def with_leader(record: bytes, lose: int | None = None, extra: bytes = b"") -> bytes:
    """``record`` with its leader written one character short (``lose`` one) or long (``extra``).

    The record length and base address are those of the record as written,
    as an exporter that counts what it writes would put them.
    """
    directory_end = record.index(b"\x1e")
    body = record[24:]
    size = 24 - (lose is not None) + len(extra)
    leader = bytearray(record[:24])
    leader[0:5] = b"%05d" % (size + len(body))
    leader[12:17] = b"%05d" % (size + directory_end - 24 + 1)
    if lose is not None:
        del leader[lose]
    return bytes(leader) + extra + body


def leaders_binary() -> bytes:
    """Records 1-4 of pymarc's marc.dat; the 1st with a 23-character leader, the 3rd with 25.

    Record 1 lost the blank at leader/08 (``cam  22`` -> ``cam 22``), record 3
    has a blank after ``4500``.
    """
    first, second, third, fourth = records("marc/pymarc/marc.dat")[:4]
    return with_leader(first, lose=8) + second + with_leader(third, extra=b" ") + fourth


def leaders_xml() -> bytes:
    """pymarc's batch.xml with a 23-character leader (record 1) and a 25-character one (record 2)."""
    text = (DATA / "marcxml/pymarc/batch.xml").read_text(encoding="utf-8")
    text = text.replace("<marc:leader>00925njm  22002777a 4500<", "<marc:leader>00925njm 22002777a 4500<")
    text = text.replace("<marc:leader>01832cmma 2200349 a 4500<", "<marc:leader>01832cmma 2200349 a 45000<")
    return text.encode("utf-8")


def counted_in_characters(record: bytes) -> bytes:
    """``record`` with its record length and directory counting UTF-8 characters, not bytes.

    The export bug of some systems: lengths and offsets computed on the text
    before it was encoded, so every number after the first multibyte
    character is short.
    """
    directory_end = record.index(b"\x1e")
    fields = record[directory_end + 1 : -1].split(b"\x1e")[:-1]
    directory = b""
    offset = 0
    for index in range(24, directory_end, 12):
        length = len((fields[len(directory) // 12] + b"\x1e").decode("utf-8"))
        directory += record[index : index + 3] + b"%04d%05d" % (length, offset)
        offset += length
    base = 24 + len(directory) + 1
    leader = b"%05d" % (base + offset + 1) + record[5:12] + b"%05d" % base + record[17:24]
    return leader + directory + record[directory_end:]


def character_counts() -> bytes:
    """Records 1-3 of traject's test_data.utf8.mrc (UTF-8, leader/09 ``a``), counted in characters.

    All three hold non-ASCII text (romanised Korean, Arabic script...), so
    each record is 14 to 240 bytes longer than it says.
    """
    chosen = records("marc/traject/test_data.utf8.mrc")
    return b"".join(counted_in_characters(record) for record in chosen[:3])


def holdings() -> bytes:
    """A bibliographic record and three MARC 21 holdings records (MFHD) for it, or for nothing.

    1. marc.dat's record 2 (Programming Python, 001 12515882) with an 003
       (DLC) and without its LCCN and ISBN, so its Instance is named from its
       control number;
    2. single-part item holdings (leader/06 ``x``) whose 004 names it: 852
       with library, sublocation, shelving location, LC call number, public
       note and barcode, as in the examples of the MARC 21 Format for
       Holdings Data (852 01 $aDLC$bMAIN...);
    3. multipart item holdings (``v``) for it: a textual holdings statement
       (866) and item information (876 $p barcode, $z note);
    4. serial item holdings (``y``) with no 004: a holdings record nobody
       can attach to an Instance.
    """
    from pymarc import Field, Leader, MARCReader, Record, Subfield

    with (DATA / "marc/pymarc/marc.dat").open("rb") as handle:
        bib = list(MARCReader(handle))[1]
    bib.remove_fields("010", "020")
    bib.add_ordered_field(Field(tag="003", data="DLC"))

    def mfhd(kind: str, control: str, *fields: Field, bib_number: str | None = "12515882") -> Record:
        record = Record(leader=Leader(f"00000n{kind}  a2200000un 4500"))
        record.add_field(Field(tag="001", data=control), Field(tag="003", data="DLC"))
        if bib_number:
            record.add_field(Field(tag="004", data=bib_number))
        record.add_field(Field(tag="008", data="0507152u    8   4001uu   0901128"), *fields)
        return record

    def field(tag: str, indicators: str, *pairs: str) -> Field:
        return Field(
            tag=tag,
            indicators=list(indicators),
            subfields=[Subfield(pair[0], pair[1:]) for pair in pairs],
        )

    single = mfhd(
        "x",
        "h1001",
        field("852", "01", "aDLC", "bMAIN", "cSTACKS", "hQA76.73.P98", "iL88 1996",
              "zSigned by the author.", "p39015012345678"),
    )
    multipart = mfhd(
        "v",
        "h1002",
        field("852", "0 ", "bREF", "hQA76.73.P98", "iL88 1996 c.2"),
        field("866", " 0", "80", "av.1-v.2"),
        field("876", "  ", "p39015000000002", "zCD-ROM missing."),
    )
    orphan = mfhd("y", "h1003", field("852", "  ", "bSERIALS"), bib_number=None)
    return b"".join(record.as_marc() for record in (bib, single, multipart, orphan))


FIXTURES = {
    "holdings.mrc": holdings,
    "utf8-character-counts.mrc": character_counts,
    "leader-23-25.mrc": leaders_binary,
    "leader-23-25.xml": leaders_xml,
    "cp866-cyrillic.mrc": cp866,
}


if __name__ == "__main__":
    for name, make in FIXTURES.items():
        (HERE / name).write_bytes(make())
        print(f"wrote {HERE / name}")
