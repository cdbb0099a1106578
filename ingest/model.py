"""The values that flow out of ingest: raw records, rejections, record graphs.

``Position``, ``RecordGraph`` and ``RecordWarning`` cross into ``graph`` and
are defined in ``ontology.records``; they are re-exported here for ingest's
own modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ontology.records import Position, RecordGraph, RecordWarning

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


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be read or mapped, and why.

    ``rule`` is a short stable code (``record-length``, ``directory``,
    ``encoding``, ``xml-syntax``...) that summaries group by; ``reason`` is the
    human sentence.
    """

    position: Position
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.position}: {self.rule}: {self.reason}"
