"""MARC record -> record graph: deleted, holdings, authority or bibliographic."""

from __future__ import annotations

from pyoxigraph import NamedNode

from ingest.iri import IriMinter
from ingest.marc.common import (
    holdings_type,
    is_authority,
    is_deleted,
    record_graph_iri,
    unimarc_signs,
)
from ingest.model import RecordGraph, RecordWarning, Rejected, SourceRecord
from ingest.quads import GraphBuilder


def map_marc(
    source_record: SourceRecord,
    minter: IriMinter,
    default_source: str = "marc",
    graph: NamedNode | None = None,
) -> RecordGraph | Rejected:
    """``graph``: the graph to state the record in when its source names it (an OAI-PMH
    harvest names it from the OAI identifier, which its deletions give alone); the
    Instance is still named from the record's own 003 + 001 when it has no LCCN,
    ISBN or ISSN, so a record meets itself whichever way it came."""
    record = source_record.payload
    own_graph = record_graph_iri(record, minter, default_source)
    graph = graph or own_graph
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
    warnings = source_record.warnings
    holdings = holdings_type(record)
    if holdings is not None and not record.get_fields("245"):
        from ingest.marc.holdings import HoldingsWithoutInstance, instance_of, map_items

        try:
            instance = instance_of(record, minter, default_source)
        except HoldingsWithoutInstance as missing:
            return Rejected(source_record.position, "holdings-without-instance", str(missing))
        map_items(record, builder, minter, instance)
    elif is_authority(record):
        from ingest.marc.authority import map_authority

        map_authority(record, builder, minter)
    else:
        from ingest.marc.bibliographic import map_bibliographic

        map_bibliographic(record, builder, minter, own_graph)
        if holdings is not None:  # a bibliographic record typed as holdings, with its 852s
            from ingest.marc.holdings import embedded_instance, map_items

            map_items(record, builder, minter, embedded_instance(record, builder, minter))
            warnings = (
                *warnings,
                RecordWarning(
                    "holdings",
                    f"leader/06 {str(record.leader)[6]!r} says {holdings}, but the record has "
                    "a 245: mapped as a bibliographic record, its 852s as its items",
                ),
            )
    return builder.to_record_graph(source_record.position, warnings)
