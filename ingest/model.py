"""The values that flow out of ingest: raw records, rejections, record graphs.

``Position``, ``RecordGraph``, ``RecordWarning`` and ``Rejected`` cross into
``graph`` (which may refuse a record it cannot store) and are defined in
``ontology.records``; they are re-exported here for ingest's own modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ontology.records import Position, RecordGraph, RecordWarning, Rejected

__all__ = ["Position", "RecordGraph", "RecordWarning", "Rejected", "SourceRecord"]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record as read from its input, before mapping.

    ``payload`` is format specific (a ``pymarc.Record`` for MARC sources);
    ``warnings`` collects recoverable problems met while reading (e.g. a MARC-8
    character that could not be converted), each with its rule, so they can be
    reported and counted without rejecting the record.
    """

    position: Position
    format: str
    payload: Any
    warnings: tuple[RecordWarning, ...] = ()
