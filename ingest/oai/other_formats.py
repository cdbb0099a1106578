"""Metadata of another format inside an OAI-PMH record, mapped by that format's own source and mapper.

A repository may serve any format it documents (``datacite``,
``oai_openaire``, JATS...). Rather than a second reader for each, the
metadata element is written out as the XML document it is and offered to
every other format of the registry (``ingest.sources``), as a file given to
``catalograph ingest`` would be: the source that claims it reads it, its
mapper maps its one record. The record graph that mapper names is then
renamed to the OAI record's graph (``{base}graph/oai/{identifier}``), the
only name a deletion can find, with the nodes local to it
(``{graph}#...``); what the record says about shared units is unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import tempfile
from pathlib import Path
from xml.etree.ElementTree import Element, tostring

from pyoxigraph import NamedNode

from ingest.iri import IriMinter
from ingest.model import Position, RecordGraph, Rejected, SourceRecord
from ingest.sources import detect_format, get_mapper, get_source

OAI_FORMAT = "oai-pmh"


def document(metadata: Element) -> bytes:
    """The metadata element as an XML document, its own namespace the default one.

    Readers that look for ``xmlns="..."`` at the root (rather than any prefix)
    then claim it as they would the format's own files.
    """
    body = tostring(_in_default_namespace(metadata), encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")


def _in_default_namespace(metadata: Element) -> Element:
    """A copy of ``metadata`` whose elements of the root's namespace carry it as the default.

    (``tostring(default_namespace=...)`` refuses attributes in no namespace,
    which every format has.) Left as it is when the root has no namespace or
    an element has none, which a default namespace would wrongly take in.
    """
    if metadata.tag[:1] != "{":
        return metadata
    namespace = metadata.tag[1:].partition("}")[0]
    prefix = "{" + namespace + "}"
    if any(element.tag[:1] != "{" for element in metadata.iter()):
        return metadata
    root = copy.deepcopy(metadata)
    for element in root.iter():
        if element.tag.startswith(prefix):
            element.tag = element.tag[len(prefix):]
    root.set("xmlns", namespace)
    return root


def map_other_format(
    metadata: Element, position: Position, graph: NamedNode, minter: IriMinter, default_source: str
) -> RecordGraph | Rejected | None:
    """The record graph of ``metadata`` in ``graph``, a rejection, or ``None`` if no format claims it."""
    with tempfile.TemporaryDirectory(prefix="catalograph-oai-") as folder:
        path = Path(folder) / "metadata.xml"
        path.write_bytes(document(metadata))
        format_name = detect_format(path)
        if format_name is None or format_name == OAI_FORMAT:
            return None
        items = list(get_source(format_name).read(path, name=str(position)))
    records = [item for item in items if isinstance(item, SourceRecord)]
    if len(records) != 1:
        rejected = next((item for item in items if isinstance(item, Rejected)), None)
        if rejected is not None:
            return Rejected(position, rejected.rule, rejected.reason)
        return Rejected(position, "oai-metadata", f"{len(records)} records in one OAI record")
    record = records[0]
    mapped = get_mapper(format_name)(
        SourceRecord(position, record.format, record.payload, record.warnings), minter, default_source)
    if isinstance(mapped, Rejected):
        return Rejected(position, mapped.rule, mapped.reason)
    return renamed(mapped, graph.value, position)


def renamed(mapped: RecordGraph, graph: str, position: Position) -> RecordGraph:
    """``mapped`` with its graph, and the nodes local to it, renamed ``graph``.

    IRIs in N-Quads stand between ``<`` and ``>`` (or ``#`` for a local
    node), so the old name is replaced where it is a whole IRI or the part
    before a fragment, never inside another IRI.

    >>> old = RecordGraph("http://e.org/graph/x/1", Position("f", 1),
    ...     b'<http://e.org/graph/x/1#t-1> <http://e.org/p> "a" <http://e.org/graph/x/1> .\\n', 1, "h")
    >>> renamed(old, "http://e.org/graph/oai/o%3A1", Position("u", 1)).nquads.decode()
    '<http://e.org/graph/oai/o%3A1#t-1> <http://e.org/p> "a" <http://e.org/graph/oai/o%3A1> .\\n'
    """
    old, new = mapped.graph.encode("utf-8"), graph.encode("utf-8")
    nquads = mapped.nquads.replace(b"<" + old + b">", b"<" + new + b">").replace(
        b"<" + old + b"#", b"<" + new + b"#")
    digest = hashlib.sha256(nquads)
    digest.update(b"\0")
    digest.update(mapped.units)
    return RecordGraph(
        graph=graph, position=position, nquads=nquads, quad_count=mapped.quad_count,
        content_hash=digest.hexdigest(), warnings=mapped.warnings, units=mapped.units,
        unit_count=mapped.unit_count, unit_groups=mapped.unit_groups,
    )
