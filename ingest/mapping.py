"""Record -> knowledge units: the dispatch from a ``SourceRecord`` to its format's mapper.

A mapper may fail on a record nobody foresaw; that must cost one record, not
the ingest, so any exception here becomes a ``Rejected`` with rule
``mapping`` and the exception text (tests require zero such rejections on the
well-formed corpus, so bugs do not hide here).
"""

from __future__ import annotations

from ingest.iri import IriMinter
from ingest.model import RecordGraph, Rejected, SourceRecord
from ingest.sources import get_mapper
from ontology.errors import InputError


def map_record(
    record: SourceRecord, minter: IriMinter, default_source: str = "marc"
) -> RecordGraph | Rejected:
    try:
        mapper = get_mapper(record.format)
    except InputError:
        return Rejected(record.position, "format", f"no mapper for format {record.format!r}")
    try:
        return mapper(record, minter, default_source)
    except Exception as exc:  # noqa: BLE001 - one bad record must not stop the ingest
        return Rejected(record.position, "mapping", f"{type(exc).__name__}: {exc}")
