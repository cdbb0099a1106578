"""The registry of ingest sources: one entry per format, each with its reader, mapper and name.

A new format is one reader module (a ``Source``), one mapper function and one
line in ``FORMATS``; readers and mappers are imported only when their format
is used, so an optional dependency of one format costs nothing to the others
(as Annif's backends do). ``detect_format`` picks a file's format from its
first bytes, not its name, so a MARCXML file named ``.mrc`` still goes to the
right reader; compressed files (gzip, bzip2, xz) are judged by what they hold
(``ingest.sources.compressed``).

A source need not be a file: a stream (an OAI-PMH harvest, the pages of a
JSON API) yields the same ``SourceRecord`` and ``Rejected`` items, each with a
``Position`` naming the stream's URL, the record's index in it and what the
stream calls it (identifier, datestamp), and ``ingest.pipeline.map_stream``
maps them like a file's records.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingest.sources.base import SNIFF_BYTES, Source
from ingest.sources.compressed import read_head
from ontology.errors import InputError


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """One format Catalograph reads."""

    #: Its name on the command line (``--format NAME``) and in ``SourceRecord.format``.
    name: str
    #: ``module:Class`` of its reader (a ``Source``).
    reader: str
    #: ``module:function`` of its mapper: ``(SourceRecord, IriMinter, default_source)``
    #: -> ``RecordGraph | Rejected``.
    mapper: str
    #: What users call it, in messages.
    title: str


FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat("marc", "ingest.sources.marc_binary:MarcBinarySource", "ingest.marc.mapper:map_marc", "MARC21"),
    SourceFormat("marcxml", "ingest.sources.marc_xml:MarcXmlSource", "ingest.marc.mapper:map_marc", "MARCXML"),
    SourceFormat("oai-pmh", "ingest.sources.oai_pmh:OaiPmhSource", "ingest.oai.mapper:map_oai", "OAI-PMH"),
    SourceFormat("crossref", "ingest.sources.scholarly:CrossrefJsonSource", "ingest.scholarly.crossref:map_crossref", "Crossref JSON"),
    SourceFormat("crossref-xml", "ingest.sources.scholarly:CrossrefXmlSource", "ingest.scholarly.crossref_xml:map_crossref_xml", "Crossref XML"),
    SourceFormat("openalex", "ingest.sources.scholarly:OpenAlexSource", "ingest.scholarly.openalex:map_openalex", "OpenAlex JSON"),
    SourceFormat("datacite", "ingest.sources.scholarly:DataCiteJsonSource", "ingest.scholarly.datacite:map_datacite", "DataCite JSON"),
    SourceFormat("datacite-xml", "ingest.sources.scholarly:DataCiteXmlSource", "ingest.scholarly.datacite:map_datacite_xml", "DataCite XML"),
    SourceFormat("jats", "ingest.sources.scholarly:JatsSource", "ingest.scholarly.jats:map_jats", "JATS XML"),
    SourceFormat("pubmed", "ingest.sources.scholarly:PubMedSource", "ingest.scholarly.pubmed:map_pubmed", "PubMed XML"),
)
_REGISTRY: dict[str, SourceFormat] = {entry.name: entry for entry in FORMATS}


def formats() -> list[str]:
    return sorted(_REGISTRY)


def format_titles() -> str:
    """``MARC21, MARCXML``: what ``catalograph ingest`` reads, for messages."""
    return ", ".join(entry.title for entry in FORMATS)


def _entry(format_name: str) -> SourceFormat:
    try:
        return _REGISTRY[format_name]
    except KeyError:
        raise InputError(
            f"unknown input format {format_name!r}; known: {', '.join(formats())}"
        ) from None


def _load(target: str, format_name: str) -> object:
    module_name, attribute = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # an optional dependency of that format is missing
        raise InputError(
            f"format {format_name!r} needs a package that is not installed: {exc}"
        ) from exc
    return getattr(module, attribute)


def get_source(format_name: str) -> Source:
    """An instance of the reader for ``format_name``; a clear error if unknown."""
    return _load(_entry(format_name).reader, format_name)()


@cache
def get_mapper(format_name: str) -> Callable:
    """The mapper function of ``format_name`` (``SourceFormat.mapper``)."""
    return _load(_entry(format_name).mapper, format_name)


def detect_format(path: Path) -> str | None:
    """The format of ``path`` judged from its content, or ``None`` if no source claims it.

    Each source sees as many first bytes as it asks for (``Source.sniff_bytes``):
    binary MARC looks past a damaged first record, XML only at its prolog.
    """
    sources = {name: get_source(name) for name in formats()}
    head = read_head(path, max(source.sniff_bytes for source in sources.values()))
    for name, source in sources.items():
        if source.sniff(head[: source.sniff_bytes]):
            return name
    return None


def refusal(path: Path) -> str:
    """Why no source reads ``path`` (which ``detect_format`` did not claim), in one phrase.

    XML of another schema is named by its root element and namespace, once
    for the file, rather than read and rejected record by record.
    """
    head = read_head(path, SNIFF_BYTES)
    if not head:
        return "empty file"
    for name in formats():
        reason = get_source(name).refusal(head)
        if reason is not None:
            return reason
    return f"not a format catalograph reads ({format_titles()})"
