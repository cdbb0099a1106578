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


FIXTURES = {
    "cp866-cyrillic.mrc": cp866,
}


if __name__ == "__main__":
    for name, make in FIXTURES.items():
        (HERE / name).write_bytes(make())
        print(f"wrote {HERE / name}")
