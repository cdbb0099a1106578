"""Provenance of record graphs, kept in the metadata graph.

Every record graph ``<g>`` is described in the metadata graph ``<m>``::

    <g> a cg:RecordGraph ;
        cg:sourceFile "records.mrc" ;                 # the path as the user gave it
        cg:sourcePosition 42 ;                        # record number in that file (1-based)
        cg:byteOffset 18234 ;                         # when known (binary MARC)
        cg:sourceLine 977 ;                           # when known (XML)
        cg:sourceIdentifier "oai:repo:42" ;           # when a stream names the record (OAI-PMH)
        cg:sourceDatestamp "2024-01-02" ;             # ... and dates it
        cg:contentHash "9f86d0...";                   # SHA-256 of the record graph's N-Quads
        cg:pipelineVersion "0.1.0" ;
        prov:generatedAtTime "2025-11-21T12:00:00.000000Z"^^xsd:dateTime .

The content hash is what makes re-ingest cheap and exact: a record whose
mapped quads hash to the stored value is skipped, so its graph *and* its
provenance (time included) stay byte for byte as they were. Provenance is
bulk-loaded after its record's data, in the same load, and the journal
(``graph.record_index``) rolls back any batch that did not finish, so provenance in the store always
describes a complete graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pyoxigraph import Literal, NamedNode, Quad, Store

from ontology.namespaces import CG, PROV, RDF, XSD

#: Every cg: term this layer states (the ontology declares them).
CG_TERMS = (
    CG.RecordGraph,
    CG.sourceFile,
    CG.sourcePosition,
    CG.byteOffset,
    CG.sourceLine,
    CG.sourceIdentifier,
    CG.sourceDatestamp,
    CG.contentHash,
    CG.pipelineVersion,
)


@dataclass(frozen=True, slots=True)
class Provenance:
    """What the metadata graph says about one record graph."""

    graph: str
    source_file: str | None
    position: int | None
    byte_offset: int | None
    line: int | None
    identifier: str | None
    datestamp: str | None
    content_hash: str | None
    pipeline_version: str | None
    generated_at: str | None
    quads: tuple[Quad, ...]


def timestamp(moment: datetime | None = None) -> Literal:
    """An ``xsd:dateTime`` in UTC with microseconds: one per writing session.

    Microseconds make the time of a session unique (sessions are serialised by
    the lock), which is how a graph written twice in one session is told from
    one written by an earlier session.
    """
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    # The canonical form (no trailing zeros in the fraction), which is what the
    # store gives back: a written time then compares equal to the one read.
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return Literal(text + "Z", datatype=XSD.dateTime)


def _integer(value: int) -> Literal:
    return Literal(str(value), datatype=XSD.integer)


def provenance_quads(
    graph: NamedNode,
    metadata_graph: NamedNode,
    *,
    source_file: str,
    position: int,
    byte_offset: int | None,
    line: int | None,
    content_hash: str,
    pipeline_version: str,
    generated_at: Literal,
    identifier: str | None = None,
    datestamp: str | None = None,
) -> list[Quad]:
    quads = [
        Quad(graph, RDF.type, CG.RecordGraph, metadata_graph),
        Quad(graph, CG.sourceFile, Literal(source_file), metadata_graph),
        Quad(graph, CG.sourcePosition, _integer(position), metadata_graph),
        Quad(graph, CG.contentHash, Literal(content_hash), metadata_graph),
        Quad(graph, CG.pipelineVersion, Literal(pipeline_version), metadata_graph),
        Quad(graph, PROV.generatedAtTime, generated_at, metadata_graph),
    ]
    if byte_offset is not None:
        quads.append(Quad(graph, CG.byteOffset, _integer(byte_offset), metadata_graph))
    if line is not None:
        quads.append(Quad(graph, CG.sourceLine, _integer(line), metadata_graph))
    if identifier is not None:
        quads.append(Quad(graph, CG.sourceIdentifier, Literal(identifier), metadata_graph))
    if datestamp is not None:
        quads.append(Quad(graph, CG.sourceDatestamp, Literal(datestamp), metadata_graph))
    return quads


class ProvenanceNQuads:
    """The N-Quads of ``provenance_quads`` for one writing session, made fast.

    Why not ``serialize(provenance_quads(...))``: building eight ``Quad``
    objects per record costs ~30 µs, and it runs in the writer thread, which
    fights the mapping thread for the GIL. Measured on the ×10 benchmark
    input, the provenance took 14.7 s of the writer's 46 s, with the writer
    the bottleneck of the ingest. Here every term is still formatted by
    pyoxigraph (``str`` of a ``NamedNode`` or ``Literal`` is its N-Triples
    form, escaped), once per session or per source file; a record adds only
    its graph IRI, integers and the hash. ``tests/test_graph_store.py`` checks
    the output parses to exactly the quads of ``provenance_quads``.
    """

    def __init__(
        self, metadata_graph: NamedNode, pipeline_version: str, generated_at: Literal
    ) -> None:
        self._end = f" {metadata_graph} .\n"
        self._head = f" {RDF.type} {CG.RecordGraph}{self._end}"
        self._version = f" {CG.pipelineVersion} {Literal(pipeline_version)}{self._end}"
        self._time = f" {PROV.generatedAtTime} {generated_at}{self._end}"
        self._integer = f"^^{XSD.integer}"
        # the predicates' N-Triples forms, once per session rather than once per record
        self._position = f" {CG.sourcePosition} "
        self._hash = f" {CG.contentHash} "
        self._offset = f" {CG.byteOffset} "
        self._line = f" {CG.sourceLine} "
        self._identifier = f" {CG.sourceIdentifier} "
        self._datestamp = f" {CG.sourceDatestamp} "
        self._sources: dict[str, str] = {}

    def record(
        self,
        graph: str,
        *,
        source_file: str,
        position: int,
        byte_offset: int | None,
        line: int | None,
        content_hash: str,
        identifier: str | None = None,
        datestamp: str | None = None,
    ) -> str:
        """The provenance of one record graph, as N-Quads lines."""
        subject = str(NamedNode(graph))  # validates the IRI, as Quad(...) would
        source = self._sources.get(source_file)
        if source is None:
            if len(self._sources) > 10_000:  # one entry per input file; bounded all the same
                self._sources.clear()
            source = self._sources[source_file] = (
                f" {CG.sourceFile} {Literal(source_file)}{self._end}"
            )
        end, integer = self._end, self._integer
        parts = [
            subject, self._head,
            subject, source,
            subject, f'{self._position}"{int(position)}"{integer}{end}',
            subject, f"{self._hash}{Literal(content_hash)}{end}",
            subject, self._version,
            subject, self._time,
        ]  # fmt: skip
        if byte_offset is not None:
            parts += (subject, f'{self._offset}"{int(byte_offset)}"{integer}{end}')
        if line is not None:
            parts += (subject, f'{self._line}"{int(line)}"{integer}{end}')
        if identifier is not None:
            parts += (subject, f"{self._identifier}{Literal(identifier)}{end}")
        if datestamp is not None:
            parts += (subject, f"{self._datestamp}{Literal(datestamp)}{end}")
        return "".join(parts)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def read_provenance(store: Store, graph: NamedNode, metadata_graph: NamedNode) -> Provenance | None:
    """The provenance of ``graph``, or ``None`` if the store has none (new or incomplete)."""
    quads = tuple(store.quads_for_pattern(graph, None, None, metadata_graph))
    if not quads:
        return None
    values: dict[str, str] = {}
    for quad in quads:
        values[quad.predicate.value] = quad.object.value
    return Provenance(
        graph=graph.value,
        source_file=values.get(CG.sourceFile.value),
        position=_int_or_none(values.get(CG.sourcePosition.value)),
        byte_offset=_int_or_none(values.get(CG.byteOffset.value)),
        line=_int_or_none(values.get(CG.sourceLine.value)),
        identifier=values.get(CG.sourceIdentifier.value),
        datestamp=values.get(CG.sourceDatestamp.value),
        content_hash=values.get(CG.contentHash.value),
        pipeline_version=values.get(CG.pipelineVersion.value),
        generated_at=values.get(PROV.generatedAtTime.value),
        quads=quads,
    )


def drop_record_graph(store: Store, graph: NamedNode, metadata_graph: NamedNode) -> None:
    """Remove a record graph and its provenance (each step its own transaction).

    Provenance goes first: should the process die in between, what is left is
    data without provenance, which the next ingest treats as new and replaces.
    """
    for quad in list(store.quads_for_pattern(graph, None, None, metadata_graph)):
        store.remove(quad)
    store.remove_graph(graph)
