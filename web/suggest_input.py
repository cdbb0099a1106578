"""MARC records in, subject queries out: what ``catalograph suggest FILE`` and the bench ask about.

A record given as MARC says more than its words: mapped by the very mapper
that ingest uses, with its IRIs minted under the store's base, it names the
same Work node as its other editions already in the store (work clustering
is deterministic), the same agents and the same series. Those IRIs go into
the ``SubjectQuery`` beside the text, so suggestion can use the graph around
the record without the record being stored. Its 6XX fields are dropped first:
a suggestion never sees the subjects it is meant to find.

The text is what issue 12's evaluation reads: 245 ``$a $b $n $p`` as the
title, 520 ``$a`` as the summary, 246 ``$a`` and 500/505 ``$a`` as notes.
This module lives in ``web`` because it joins ``ingest`` (reading and
mapping) and ``query`` (the query type), which never import each other.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pymarc
from pyoxigraph import RdfFormat, parse

from ingest.iri import IriMinter
from ingest.model import Rejected, SourceRecord
from ingest.sources import detect_format, get_mapper, get_source, refusal
from ontology.errors import InputError
from ontology.namespaces import BF, RDF
from ontology.records import RecordGraph
from query.subject_index import CLASS_SCHEMES
from query.suggest import SubjectQuery

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """One record of the file: where it is, its 001 and title, and what suggestion is asked."""

    number: int
    control_number: str
    query: SubjectQuery


def _text(record: pymarc.Record, tag: str, codes: str) -> list[str]:
    out = []
    for field in record.get_fields(tag):
        joined = " ".join(s.value for s in field.subfields if s.code in codes and s.value)
        joined = _SPACE.sub(" ", unicodedata.normalize("NFC", joined)).strip()
        if joined:
            out.append(joined)
    return out


def without_subjects(record: pymarc.Record) -> pymarc.Record:
    """A copy of ``record`` without its 6XX fields."""
    copy = pymarc.Record(leader=str(record.leader), force_utf8=True)
    for field in record.fields:
        if not field.tag.startswith("6"):
            copy.add_field(field)
    return copy


def record_query(record: pymarc.Record, graph: RecordGraph | None) -> SubjectQuery:
    """The text of ``record`` and the Work, agent and series IRIs its mapped ``graph`` names."""
    works: list[str] = []
    agents: list[str] = []
    series: list[str] = []
    kinds: dict[str, str] = {}
    portions: list[tuple[str, str]] = []
    if graph is not None and not graph.deleted:
        for quad in parse(graph.all_nquads, format=RdfFormat.N_QUADS):
            target = {BF.instanceOf: works, BF.agent: agents, BF.hasSeries: series}.get(quad.predicate)
            if target is not None and quad.object.value not in target:
                target.append(quad.object.value)
            elif quad.predicate == RDF.type and quad.object.value.startswith(str(BF)):
                scheme = CLASS_SCHEMES.get(quad.object.value[len(str(BF)) :])
                if scheme is not None:
                    kinds[quad.subject.value] = scheme
            elif quad.predicate == BF.classificationPortion:
                portions.append((quad.subject.value, quad.object.value))
    classes = tuple((kinds[node], number) for node, number in portions if node in kinds)
    notes = [*_text(record, "246", "a"), *_text(record, "500", "a"), *_text(record, "505", "a")]
    return SubjectQuery(
        title=" ".join(_text(record, "245", "abnp")),
        summary=" ".join(_text(record, "520", "a")),
        notes=tuple(notes),
        works=tuple(works),
        agents=tuple(agents),
        series=tuple(series),
        classes=classes,
    )


def read_record_queries(path: Path, base_iri: str, source: str = "marc") -> Iterator[RecordQuery | Rejected]:
    """Every record of a MARC or MARCXML file as a ``RecordQuery``; unreadable ones as ``Rejected``."""
    format_name = detect_format(path)
    if format_name is None:
        raise InputError(f"{path}: {refusal(path)}")
    minter = IriMinter(base_iri)
    mapper = get_mapper(format_name)
    for item in get_source(format_name).read(path):
        if isinstance(item, Rejected):
            yield item
            continue
        record = without_subjects(item.payload)
        mapped = mapper(replace_payload(item, record), minter, source)
        graph = mapped if isinstance(mapped, RecordGraph) else None
        fields_001 = record.get_fields("001")
        control = (fields_001[0].data or "").strip() if fields_001 else ""
        yield RecordQuery(item.position.number, control, record_query(record, graph))


def replace_payload(item: SourceRecord, record: pymarc.Record) -> SourceRecord:
    return replace(item, payload=record)
