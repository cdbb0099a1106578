"""An OAI-PMH record -> its record graph, whatever format its metadata is in.

The graph is named from the OAI identifier (``{base}graph/oai/{identifier}``),
which is all a deleted record's header gives: so a re-harvest replaces a
record's graph, a deletion (``status="deleted"``) drops it, and a response
saved to a file and ingested names the same graph as the harvest. The
metadata is mapped by its namespace: Dublin Core (``ingest.oai.dublin_core``),
arXiv and arXivRaw (``ingest.oai.arxiv``), MARCXML (read by the MARCXML
reader and mapped by the MARC mapper into the OAI graph); any other format is
offered to the other readers of the registry, as a file would be
(``ingest.oai.other_formats``), and rejected with its name (rule
``oai-format``) if none claims it.
"""

from __future__ import annotations

from xml.etree.ElementTree import tostring

from ingest.iri import IriMinter
from ingest.marc.mapper import map_marc
from ingest.model import RecordGraph, Rejected, SourceRecord
from ingest.oai.arxiv import is_arxiv, read_arxiv
from ingest.oai.description import describe
from ingest.oai.dublin_core import is_dublin_core, read_dublin_core
from ingest.oai.other_formats import map_other_format
from ingest.quads import GraphBuilder
from ingest.sources import format_titles
from ingest.sources.marc_xml import MARC_NS, records_in
from ingest.sources.oai_pmh import OaiRecord, local_name

#: The source segment of every OAI record graph: ``{base}graph/oai/{identifier}``.
GRAPH_SOURCE = "oai"


def repository_key(identifier: str) -> str:
    """The repository part of an OAI identifier (``oai:arXiv.org:1507.03011`` -> ``arXiv.org``).

    Names the scheme of the repository's subjects; an identifier that is not
    in the ``oai:{repository}:{local}`` form is its own repository.

    >>> repository_key("oai:arXiv.org:1507.03011"), repository_key("12345")
    ('arXiv.org', '12345')
    """
    scheme, _, rest = identifier.partition(":")
    if scheme.lower() == "oai" and ":" in rest:
        return rest.partition(":")[0]
    return identifier


def map_oai(
    source_record: SourceRecord, minter: IriMinter, default_source: str = "marc"
) -> RecordGraph | Rejected:
    """Map one OAI-PMH record (a ``SourceRecord`` whose payload is an ``OaiRecord``)."""
    record: OaiRecord = source_record.payload
    position = source_record.position
    graph = minter.graph(GRAPH_SOURCE, record.identifier)
    if record.deleted:
        return RecordGraph(graph=graph.value, position=position, nquads=b"", quad_count=0,
                           content_hash="", deleted=True)
    metadata = record.metadata
    if is_dublin_core(metadata) or is_arxiv(metadata):
        description = read_dublin_core(metadata) if is_dublin_core(metadata) else read_arxiv(metadata)
        builder = GraphBuilder(graph, minter.layout)
        repository = repository_key(record.identifier)
        scheme = ("arxiv", "arXiv category taxonomy") if is_arxiv(metadata) else (
            f"oai:{repository}", f"Subjects of the OAI-PMH repository {repository}")
        describe(description, builder, minter, record.identifier, scheme)
        return builder.to_record_graph(position, source_record.warnings)
    if local_name(metadata.tag) in ("record", "collection") and metadata.tag[:1] != "{" or (
        metadata.tag.startswith(f"{{{MARC_NS}}}")
    ):
        return _map_marc(record, source_record, minter, default_source, graph)
    other = map_other_format(metadata, position, graph, minter, default_source)
    if other is not None:
        return other
    namespace = metadata.tag[1:].partition("}")[0] if metadata.tag[:1] == "{" else "no namespace"
    return Rejected(position, "oai-format", (
        f"metadata <{local_name(metadata.tag)}> in {namespace}: not a format catalograph maps "
        f"(oai_dc, arXiv, arXivRaw, MARCXML, or a format `catalograph ingest` reads: {format_titles()})"))


def _map_marc(record: OaiRecord, source_record: SourceRecord, minter: IriMinter,
              default_source: str, graph) -> RecordGraph | Rejected:  # noqa: ANN001
    items = records_in(tostring(record.metadata), str(source_record.position))
    marc = [item for item in items if isinstance(item, SourceRecord)]
    if len(marc) != 1:
        rejected = next((item for item in items if isinstance(item, Rejected)), None)
        reason = rejected.reason if rejected else f"{len(marc)} MARC records in one OAI record"
        return Rejected(source_record.position, rejected.rule if rejected else "oai-metadata", reason)
    one = marc[0]
    return map_marc(
        SourceRecord(source_record.position, one.format, one.payload, one.warnings),
        minter, default_source, graph=graph)
