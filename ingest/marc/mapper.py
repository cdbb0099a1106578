"""MARC record -> record graph: deleted, authority or bibliographic."""

from __future__ import annotations

from ingest.iri import IriMinter
from ingest.marc.common import is_authority, is_deleted, record_graph_iri
from ingest.model import RecordGraph, SourceRecord
from ingest.quads import GraphBuilder


def map_marc(source_record: SourceRecord, minter: IriMinter, default_source: str = "marc") -> RecordGraph:
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
    builder = GraphBuilder(graph)
    if is_authority(record):
        from ingest.marc.authority import map_authority

        map_authority(record, builder, minter)
    else:
        from ingest.marc.bibliographic import map_bibliographic

        map_bibliographic(record, builder, minter)
    return builder.to_record_graph(source_record.position, source_record.warnings)
