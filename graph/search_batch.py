"""A batch's own N-Quads as the statements of search documents, without reading the store.

Why: reading a document from the store costs about 15-20 µs per statement
(pyoxigraph decodes every term of every quad it returns, from RocksDB's
tables), and a fresh ingest derives four to five documents per record: on the
benchmark set that was about 1 ms of CPU per record, more than the rest of
the writer's work. A resource the store did not hold before the batch (no
``search_feed`` row: docs/storage.md, "The search index") has every statement
a document reads in the batch itself: its record graphs' N-Quads and the unit
statements that entered the store. Those lines are cut here with byte
operations, only the ones whose predicate a document reads
(``graph.search_documents.RELEVANT``), and handed to the same ``derive`` as
the store's statements, so both give the same document (a test compares every
document with one derived afresh from the store).

The lines are pyoxigraph's own N-Quads (``ingest`` builds every term with
it): ``<s> <p> object <g> .``, one statement a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from graph.search_documents import RELEVANT, Statement, Term

_RELEVANT = frozenset(p.encode() for p in RELEVANT)
_TYPE = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_SIMPLE = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


class BatchStatements:
    """The statements of N-Quads lines, by subject (``graph.search_documents.Statements``).

    >>> batch = BatchStatements([
    ...     b'<http://e.org/i> <http://www.w3.org/2000/01/rdf-schema#label> "A \\\\"b\\\\""@en <http://e.org/i> .\\n'
    ...     b'<http://e.org/i> <http://e.org/unread> "x" <http://e.org/i> .\\n'
    ... ])
    >>> batch.about("http://e.org/i")
    [('http://www.w3.org/2000/01/rdf-schema#label', Term(value='A "b"', literal=True, language='en', datatype='http://www.w3.org/1999/02/22-rdf-syntax-ns#langString'), 'http://e.org/i')]
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._by_subject: dict[bytes, list[bytes]] = {}
        for chunk in chunks:
            for line in chunk.split(b"\n"):
                subject_end = line.find(b"> <")
                if subject_end < 0:
                    continue
                predicate_end = line.find(b">", subject_end + 3)
                predicate = line[subject_end + 3 : predicate_end]
                if predicate not in _RELEVANT:
                    continue
                if predicate == _TYPE and b"#" in line[1:subject_end]:
                    continue  # a node's class: every node has one, and no document reads it
                self._by_subject.setdefault(line[1:subject_end], []).append(line)

    def resources(self) -> set[str]:
        """The subjects of the lines a document reads, without their fragments (a record's
        ``{graph}#title-1`` counts as its graph): whose documents the lines may change."""
        return {subject.partition(b"#")[0].decode() for subject in self._by_subject}

    def about(self, subject: str) -> list[Statement]:
        return [_statement(line) for line in self._by_subject.get(subject.encode(), ())]

    def linked(self, predicate: str) -> set[str]:
        """The shared resources (IRIs without a fragment) the lines point to under ``predicate``:
        a work's contributors' agents, whose names a work's document reads."""
        wanted = b"> <" + predicate.encode() + b"> <"
        found: set[str] = set()
        for lines in self._by_subject.values():
            for line in lines:
                at = line.find(wanted)
                if at < 0:
                    continue
                start = at + len(wanted)
                target = line[start : line.find(b">", start)]
                if b"#" not in target:
                    found.add(target.decode())
        return found

    def of_node(self, node: str, graph: str) -> list[Statement]:
        return [s for s in self.about(node) if s[2] == graph]


def _statement(line: bytes) -> Statement:
    """``(predicate, object, graph)`` of one line ``<s> <p> object <g> .``."""
    subject_end = line.find(b"> <")
    predicate_end = line.find(b">", subject_end + 3)
    predicate = line[subject_end + 3 : predicate_end].decode()
    rest = line[predicate_end + 2 :].rstrip()
    if rest.endswith(b"> ."):
        graph_start = rest.rfind(b" <", 0, len(rest) - 3)
        graph = rest[graph_start + 2 : -3].decode()
        raw = rest[:graph_start]
    else:  # the default graph
        graph, raw = "", rest[:-2].rstrip()
    return predicate, _object(raw), graph


def _object(raw: bytes) -> Term:
    if raw.startswith(b"<"):
        return Term(raw[1:-1].decode())
    if raw.startswith(b"_:"):
        return Term(raw.decode())
    end = raw.rfind(b'"')
    value = raw[1:end].decode()
    if "\\" in value:
        value = _ESCAPE.sub(_unescape, value)
    suffix = raw[end + 1 :].decode()
    if suffix.startswith("@"):
        return Term(value, True, suffix[1:], _LANG_STRING)
    if suffix.startswith("^^<"):
        return Term(value, True, None, suffix[3:-1])
    return Term(value, True, None, _STRING)


def _unescape(match: re.Match[str]) -> str:
    short, long, simple = match.groups()
    if short or long:
        return chr(int(short or long, 16))
    return _SIMPLE.get(simple, simple)


_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
