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

from graph.ledger import NQUADS_CUT
from graph.search_documents import RELEVANT, Statement, Term

#: Each predicate a document reads, by its IRI's bytes, as text: the test that keeps a line and
#: the predicate's text in one look-up.
_RELEVANT = {p.encode(): p for p in RELEVANT}
_TYPE = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_SIMPLE = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
#: A kept line: its predicate as text and the rest of the line after it (``object <g> .``).
Entry = tuple[str, bytes]


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
        self._by_subject: dict[bytes, list[Entry]] = {}
        by_subject = self._by_subject
        relevant = _RELEVANT
        _GRAPHS.clear()  # a batch's own graphs: record graphs are not met again
        for chunk in chunks:
            # One regular expression cuts every line's subject, predicate and rest (a quarter
            # less CPU than finding them line by line in Python, measured on the benchmark set).
            # A line is kept as its predicate's text and its rest: the statement is cut from
            # there when a document reads it, without splitting subject and predicate off again
            # (docs/benchmarks.md, "The writer thread's CPU").
            for subject, predicate, rest in NQUADS_CUT.findall(chunk):
                text = relevant.get(predicate)
                if text is None:
                    continue
                if predicate == _TYPE and b"#" in subject:
                    continue  # a node's class: every node has one, and no document reads it
                entries = by_subject.get(subject)
                if entries is None:
                    by_subject[subject] = [(text, rest)]
                else:
                    entries.append((text, rest))

    def resources(self) -> set[str]:
        """The subjects of the lines a document reads, without their fragments (a record's
        ``{graph}#title-1`` counts as its graph): whose documents the lines may change."""
        return {subject.partition(b"#")[0].decode() for subject in self._by_subject}

    def about(self, subject: str) -> list[Statement]:
        return [_statement(entry) for entry in self._by_subject.get(subject.encode(), ())]

    def linked(self, predicate: str) -> set[str]:
        """The shared resources (IRIs without a fragment) the lines point to under ``predicate``:
        a work's contributors' agents, whose names a work's document reads."""
        found: set[bytes] = set()
        for entries in self._by_subject.values():
            for text, rest in entries:
                if text == predicate and rest[:1] == b"<":
                    target = rest[1 : rest.find(b">")]
                    if b"#" not in target:
                        found.add(target)
        return {target.decode() for target in found}

    def of_node(self, node: str, graph: str) -> list[Statement]:
        return [s for s in self.about(node) if s[2] == graph]


#: The graph IRIs of the last batch as text, by their bytes (a few thousand; emptied by each
#: ``BatchStatements``).
_GRAPHS: dict[bytes, str] = {}
#: How many IRIs or suffixes each of those keeps at most.
_DECODED_MAX = 50_000
#: A literal's suffix (``@en``, ``^^<datatype>``, nothing) -> its language and datatype.
_SUFFIXES: dict[bytes, tuple[str | None, str]] = {}


def _decoded(iri: bytes, known: dict[bytes, str]) -> str:
    text = known.get(iri)
    if text is None:
        text = iri.decode()
        if len(known) < _DECODED_MAX:
            known[iri] = text
    return text


def _statement(entry: Entry) -> Statement:
    """``(predicate, object, graph)`` of one kept line (``Entry``: its predicate and ``object <g> .``).

    A batch cuts a few hundred thousand of them: the rest is cut with one split (no IRI
    holds a space), and graph IRIs (a few thousand in a batch) and literals' suffixes are
    decoded once each."""
    predicate, rest = entry
    parts = rest.rsplit(b" ", 2)
    graph = parts[1] if len(parts) == 3 and parts[2] == b"." else b""
    if graph[:1] == b"<" and graph[-1:] == b">" and b'"' not in graph:  # no IRI holds '"'
        raw, graph, _ = parts
        graph = graph[1:-1]
        return predicate, _object(raw), _GRAPHS.get(graph) or _decoded(graph, _GRAPHS)
    return _cut(entry)


def _cut(entry: Entry) -> Statement:
    """``_statement`` of any kept line, the default graph's included."""
    predicate, rest = entry
    rest = rest.rstrip()
    graph_start = rest.rfind(b" <", 0, len(rest) - 3) if rest.endswith(b"> .") else -1
    # an IRI holds no '"': ``"a <b>"^^<t> .`` ends with "> ." and is in the default graph
    if graph_start >= 0 and b'"' not in rest[graph_start:]:
        graph = _decoded(rest[graph_start + 2 : -3], _GRAPHS)
        raw = rest[:graph_start]
    else:  # the default graph
        graph, raw = "", rest[:-2].rstrip()
    return predicate, _object(raw), graph


def _object(raw: bytes) -> Term:
    if raw.startswith(b"<"):
        return _new(Term, (raw[1:-1].decode(), False, None, None))
    if raw.startswith(b"_:"):
        return _new(Term, (raw.decode(), False, None, None))
    end = raw.rfind(b'"')
    value = raw[1:end].decode()
    if "\\" in value:
        value = _ESCAPE.sub(_unescape, value)
    suffix = raw[end + 1 :]
    kind = _SUFFIXES.get(suffix)
    if kind is None:
        kind = _suffix(suffix.decode())
        if len(_SUFFIXES) < _DECODED_MAX:
            _SUFFIXES[suffix] = kind
    return _new(Term, (value, True, *kind))


def _suffix(suffix: str) -> tuple[str | None, str]:
    """A literal's language and datatype from what follows its closing quote."""
    if suffix.startswith("@"):
        return suffix[1:], _LANG_STRING
    if suffix.startswith("^^<"):
        return None, suffix[3:-1]
    return None, _STRING


def _unescape(match: re.Match[str]) -> str:
    short, long, simple = match.groups()
    if short or long:
        return chr(int(short or long, 16))
    return _SIMPLE.get(simple, simple)


_new = tuple.__new__  # a Term made without NamedTuple's constructor, which is a Python function
_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
