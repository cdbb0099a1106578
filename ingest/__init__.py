"""Ingest: records in, knowledge units as quads out.

Pure: nothing here touches the store. A source yields ``SourceRecord`` or
``Rejected`` items; a mapper turns a ``SourceRecord`` into a ``RecordGraph`` (or
a ``Rejected``); the composition root (``web.cli``) hands those to ``graph``.
"""

PIPELINE_VERSION = "0.1.0"
