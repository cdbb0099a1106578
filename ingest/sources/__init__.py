"""The registry of ingest sources, one module per format, loaded lazily.

A source is looked up by format name; ``detect_format`` picks the format from a
file's first bytes (not only its extension), so a MARCXML file named ``.mrc``
still goes to the right reader. Compressed files (gzip, bzip2, xz) are judged
by the first bytes of what they hold (``ingest.sources.compressed``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ingest.sources.base import Source
from ingest.sources.compressed import read_head
from ontology.errors import InputError

#: format name -> "module:Class", imported only when that format is used.
_REGISTRY: dict[str, str] = {
    "marc": "ingest.sources.marc_binary:MarcBinarySource",
    "marcxml": "ingest.sources.marc_xml:MarcXmlSource",
}

#: How many bytes ``detect_format`` looks at.
SNIFF_BYTES = 4096


def formats() -> list[str]:
    return sorted(_REGISTRY)


def get_source(format_name: str) -> Source:
    """An instance of the source for ``format_name``; a clear error if unknown."""
    try:
        target = _REGISTRY[format_name]
    except KeyError:
        raise InputError(
            f"unknown input format {format_name!r}; known: {', '.join(formats())}"
        ) from None
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # an optional dependency of that source is missing
        raise InputError(
            f"format {format_name!r} needs a package that is not installed: {exc}"
        ) from exc
    return getattr(module, class_name)()


def detect_format(path: Path) -> str | None:
    """The format of ``path`` judged from its content, or ``None`` if no source claims it."""
    head = read_head(path, SNIFF_BYTES)
    for name in formats():
        if get_source(name).sniff(head):
            return name
    return None
