"""What every MARC mapper needs: the record's graph IRI, its kind, its deletion flag."""

from __future__ import annotations

import re
from urllib.parse import unquote

from pymarc import Record
from pyoxigraph import NamedNode

from ingest.iri import IriMinter, digest

_ORG_CODE = re.compile(r"[^A-Za-z0-9-]+")

#: Default source segment for records without an 003 (organisation code).
DEFAULT_SOURCE = "marc"


def control_value(record: Record, tag: str) -> str | None:
    """The data of the first control field ``tag``, stripped, or ``None``."""
    for field in record.get_fields(tag):
        data = (field.data or "").strip() if field.is_control_field() else ""
        if data:
            return data
    return None


def first_subfield(record: Record, tag: str, code: str) -> str | None:
    for field in record.get_fields(tag):
        if field.is_control_field():
            continue
        for value in field.get_subfields(code):
            if value and value.strip():
                return value.strip()
    return None


def record_key(record: Record, default_source: str = DEFAULT_SOURCE) -> tuple[str, str]:
    """``(source, id)`` naming the record: 003 + 001, else LCCN, else 035, else a content hash.

    The source segment is the 003 organisation code (lower-cased) so that two
    libraries' records with the same 001 do not collide.
    """
    control_number = control_value(record, "001")
    if control_number:
        return (source_segment(record, default_source), control_number)
    lccn = first_subfield(record, "010", "a")
    if lccn:
        return ("lccn", lccn.replace(" ", ""))
    system_number = first_subfield(record, "035", "a")
    if system_number:
        return ("sysnum", system_number)
    return (default_source, "h" + digest(record.as_marc().decode("latin-1")))


def source_segment(record: Record, default_source: str = DEFAULT_SOURCE) -> str:
    """The source part of the graph names of ``record``'s library: its 003, lower-cased."""
    org = control_value(record, "003")
    source = _ORG_CODE.sub("", org).lower() if org else ""
    return source or default_source


def control_number_instance(minter: IriMinter, graph: NamedNode) -> NamedNode:
    """The Instance IRI of the record named ``graph`` when it has no LCCN, ISBN or ISSN.

    ``instance/ctrl-{source}-{id}`` after the record's graph name (003 + 001),
    so that a holdings record, which knows its bibliographic record only by
    that record's 001 (its own 004) and 003, can name the same Instance.
    """
    prefix = minter.base + "graph/"
    name = graph.value
    if name.startswith(prefix):
        source, _, record_id = name[len(prefix) :].partition("/")
        name = f"{unquote(source)}-{unquote(record_id)}"
    return minter.from_identifier("instance", "ctrl", name)


def record_graph_iri(record: Record, minter: IriMinter, default_source: str = DEFAULT_SOURCE) -> NamedNode:
    source, record_id = record_key(record, default_source)
    return minter.graph(source, record_id)


def is_deleted(record: Record) -> bool:
    """Leader/05 = ``d``: the record was deleted at its source."""
    return len(str(record.leader)) > 5 and str(record.leader)[5] == "d"


#: UNIMARC's 100 $a, "general processing data": it opens with the date the
#: record was entered (YYYYMMDD) and a type-of-date code. A MARC21 100 $a is
#: a personal name, which never looks like that.
_UNIMARC_CODED_DATA = re.compile(r"\d{8}[a-kux]")


def unimarc_signs(record: Record) -> str | None:
    """Why ``record`` looks like UNIMARC rather than MARC21, or ``None``.

    Both formats share ISO 2709, so only the content tells them apart: UNIMARC
    puts the title in 200 and coded data in 100, and has no 245. Mapped as
    MARC21 such a record yields no title and an "agent" named after its coded
    data (seen in marc4j's Pride and Prejudice set and pymarc's testunimarc.dat).
    """
    if record.get_fields("245"):
        return None
    signs = []
    if any(field.get_subfields("a") for field in record.get_fields("200")):
        signs.append("its title is in 200")
    coded = [field.get_subfields("a") for field in record.get_fields("100")]
    if any(values and _UNIMARC_CODED_DATA.match(values[0]) for values in coded):
        signs.append("100 $a holds coded data (a date of entry, YYYYMMDD...)")
    if not signs:
        return None
    return " and ".join(signs) + ", and there is no 245"


#: Leader/06 of MARC 21 holdings records, and what each holds.
HOLDINGS_TYPES = {
    "u": "unknown holdings",
    "v": "multipart item holdings",
    "x": "single-part item holdings",
    "y": "serial item holdings",
}


def holdings_type(record: Record) -> str | None:
    """What a holdings record holds (leader/06 ``u``, ``v``, ``x``, ``y``), else ``None``."""
    leader = str(record.leader)
    return HOLDINGS_TYPES.get(leader[6]) if len(leader) > 6 else None


def is_authority(record: Record) -> bool:
    """Leader/06 = ``z``: an authority record (name, subject...)."""
    return len(str(record.leader)) > 6 and str(record.leader)[6] == "z"
