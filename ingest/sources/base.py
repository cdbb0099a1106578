"""The small base class every ingest source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

from ingest.model import Rejected, SourceRecord

#: How many first bytes of a file a source looks at to claim it, unless it says otherwise.
SNIFF_BYTES = 4096
#: Chooses the record numbers a reader yields (see ``Source.read``).
Selector = Callable[[int], bool]


class Source(ABC):
    """Reads one input format as a stream of records and rejections.

    Contract every implementation keeps (tests check it on the broken corpus):
    - streaming: memory does not grow with the file;
    - never raises for bad content: a record that cannot be read comes out as
      ``Rejected`` with its position and the rule it broke, and reading goes on
      where it can (e.g. at the next MARC record terminator);
    - every record the file holds comes out exactly once, as one or the other,
      so records read = written + rejected.
    """

    format: ClassVar[str]
    #: How many first bytes of a file ``sniff`` is given (``ingest.sources.detect_format``).
    sniff_bytes: ClassVar[int] = SNIFF_BYTES

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes) -> bool:
        """True if ``head`` (the first ``sniff_bytes`` of a file, or all of it) looks like this format."""

    @classmethod
    def refusal(cls, head: bytes) -> str | None:
        """Why a file that looks like this kind of input is not this format, if it is not.

        Called for files no source claims, so the summary can say "not
        MARCXML: its root is <records>" instead of only "not a format
        catalograph reads". ``None``: nothing to say.
        """
        return None

    @abstractmethod
    def read(
        self, path: Path, name: str | None = None, select: Selector | None = None
    ) -> Iterator[SourceRecord | Rejected]:
        """Yield every record of ``path``; ``name`` is how the file is reported (default: path).

        ``select(number)`` (1-based record number) limits the output to the
        records it accepts, so parallel workers can share a file: a source
        should skip the decoding of the others, not only filter its output.
        Numbering is unchanged by ``select``.
        """
