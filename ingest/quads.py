"""Building the quads of one record graph, with the literal hygiene every mapper needs."""

from __future__ import annotations

import hashlib

from pyoxigraph import Literal, NamedNode

from ingest.model import Position, RecordGraph
from ontology.namespaces import RDF, RDFS, XSD

Term = NamedNode | Literal


class GraphBuilder:
    """Collects the quads of one record graph as N-Quads lines, in the order they are stated.

    Lines are made with pyoxigraph's own term formatting (``str(term)`` is the
    N-Triples form, escaping included), not by building ``Quad`` objects: a
    ``Quad`` costs about 4 µs to construct, which was the largest single cost of
    mapping a record. A dict keeps the lines deduplicated and in first-stated
    order, so the serialisation (and its hash) is deterministic for a record.
    """

    __slots__ = ("graph", "_lines", "_suffix")

    def __init__(self, graph: NamedNode) -> None:
        self.graph = graph
        self._lines: dict[str, None] = {}
        self._suffix = f" {graph} .\n"

    def add(self, subject: NamedNode, predicate: NamedNode, obj: Term) -> None:
        self._lines[f"{subject} {predicate} {obj}{self._suffix}"] = None

    def type(self, subject: NamedNode, *classes: NamedNode) -> None:
        for cls in classes:
            self._lines[f"{subject} {_RDF_TYPE} {cls}{self._suffix}"] = None

    def text(
        self, subject: NamedNode, predicate: NamedNode, value: str | None, language: str | None = None
    ) -> None:
        """Add a string literal unless it is empty after trimming; tag it if a language is given."""
        if value is None:
            return
        value = clean_text(value)
        if not value:
            return
        obj = Literal(value, language=language) if language else Literal(value)
        self.add(subject, predicate, obj)

    def label(self, subject: NamedNode, value: str | None, language: str | None = None) -> None:
        self.text(subject, RDFS.label, value, language)

    def typed(self, subject: NamedNode, predicate: NamedNode, value: str, datatype: NamedNode) -> None:
        self.add(subject, predicate, Literal(value, datatype=datatype))

    def integer(self, subject: NamedNode, predicate: NamedNode, value: int) -> None:
        self.add(subject, predicate, Literal(str(value), datatype=XSD.integer))

    def __len__(self) -> int:
        return len(self._lines)

    def nquads(self) -> bytes:
        return "".join(self._lines).encode("utf-8")

    def to_record_graph(self, position: Position, warnings: tuple[str, ...] = ()) -> RecordGraph:
        data = self.nquads()
        return RecordGraph(
            graph=self.graph.value,
            position=position,
            nquads=data,
            quad_count=len(self._lines),
            content_hash=hashlib.sha256(data).hexdigest(),
            warnings=warnings,
        )


_RDF_TYPE = str(RDF.type)
_TRAILING_PUNCT = " /:;,=+"
#: Words whose final period is part of the word, not ISBD punctuation.
_ABBREVIATIONS = frozenset(
    ["etc", "cent", "ca", "inc", "co", "corp", "ltd", "bros", "dept", "jr", "sr", "st", "mr", "mrs", "dr", "fl", "b", "d", "ed", "eds", "comp", "tr", "trans", "illus", "ill", "no", "nos", "vol", "vols", "pt", "pts", "p", "pp", "v", "cm", "mm", "min", "sec", "ser", "univ", "assn", "soc", "natl", "intl", "col"]
)


def clean_text(value: str) -> str:
    """Trim spaces and the ISBD punctuation MARC leaves at the end of subfields.

    A final period is kept when it ends an abbreviation or an initial ("Jr.",
    "etc.", "J.") since removing it would change the value; otherwise it is dropped.

    >>> clean_text("Pride and prejudice /")
    'Pride and prejudice'
    >>> clean_text("Austen, Jane,")
    'Austen, Jane'
    >>> clean_text("London :")
    'London'
    >>> clean_text("Smith, J.")
    'Smith, J.'
    >>> clean_text("A novel.")
    'A novel'
    >>> clean_text("Comic books, strips, etc.")
    'Comic books, strips, etc.'
    >>> clean_text("20th cent.")
    '20th cent.'
    """
    value = value.replace("\x00", "").strip()
    while value and value[-1] in _TRAILING_PUNCT:
        value = value[:-1].rstrip()
    if value.endswith(".") and not value.endswith("..."):
        last_word = value[:-1].rsplit(" ", 1)[-1].lstrip("([")
        initial = len(last_word) <= 2 and last_word[:1].isupper()
        if not initial and last_word.casefold() not in _ABBREVIATIONS:
            value = value[:-1].rstrip()
    return value
