"""MARC record -> record graph: deleted, authority or bibliographic."""

from __future__ import annotations

from ingest.iri import IriMinter
from ingest.marc.common import is_authority, is_deleted, record_graph_iri, unimarc_signs
from ingest.model import RecordGraph, Rejected, SourceRecord
from ingest.quads import GraphBuilder


def map_marc(
    source_record: SourceRecord, minter: IriMinter, default_source: str = "marc"
) -> RecordGraph | Rejected:
    record = source_record.payload
    graph = record_graph_iri(record, minter, default_source)
    if is_deleted(record):
        return RecordGraph(
            graph=graph.value,
            position=source_record.position,
            nquads=b"",
            quad_count=0,
            content_hash="",
            deleted=True,
            warnings=source_record.warnings,
        )
    unimarc = unimarc_signs(record)
    if unimarc is not None:  # mapped as MARC21 it would be junk: refused, and said why
        return Rejected(
            source_record.position,
            "unimarc",
            f"a UNIMARC record, not MARC21 ({unimarc}); Catalograph maps MARC21 only",
        )
    builder = GraphBuilder(graph, minter.layout)
    if is_authority(record):
        from ingest.marc.authority import map_authority

        map_authority(record, builder, minter)
    else:
        from ingest.marc.bibliographic import map_bibliographic

        map_bibliographic(record, builder, minter)
    return builder.to_record_graph(source_record.position, source_record.warnings)
