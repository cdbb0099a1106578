"""Building the quads of one record, with the literal hygiene every mapper needs."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict

from pyoxigraph import Literal, NamedNode

from ingest.model import Position, RecordGraph, RecordWarning
from ontology.layout import Layout
from ontology.namespaces import RDF, RDFS, XSD
from ontology.records import group_units
from ontology.vocabulary import functional_properties

Term = NamedNode | Literal


class GraphBuilder:
    """Collects what one record says, as N-Quads lines, each filed in the graph it lives in.

    A statement that mentions a node local to the record (``{graph}#...``) goes
    into the record's graph; any other statement is about a shared knowledge
    unit and goes into the graph of its subject (``Layout.home_graph``), so that
    every record stating it states the same quad and the store can keep it once.
    Unit statements are kept per unit graph, since the store's ledger counts
    what a record says about a unit as one group (``ontology.records.group_units``);
    a statement of a functional property (``bf:instanceOf``) is kept apart.

    Lines are made as N-Triples text, not by building ``Quad`` objects: a
    ``Quad`` costs about 4 µs to construct, which was the largest single cost of
    mapping a record. Dicts keep the lines deduplicated and in first-stated
    order, so the serialisation (and its hash) is deterministic for a record.

    Subjects and predicates are always ``NamedNode`` (record graphs hold no
    blank nodes), so their N-Triples form ``<iri>`` is written from ``.value``:
    pyoxigraph's ``str(term)`` gives the same text but costs several times
    more, and a record states about a hundred quads; each ``.value`` makes a
    new str (~0.2 µs), so the methods read it once. IRI objects are written
    the same way; a ``Literal`` object as ``str(obj)``, and strings through
    :func:`_literal`, which falls back to pyoxigraph's own formatting whenever
    escaping could be involved.
    """

    __slots__ = ("graph", "layout", "_lines", "_units", "_functional", "_functional_predicates",
                 "_suffix", "_local")  # fmt: skip

    def __init__(self, graph: NamedNode, layout: Layout) -> None:
        self.graph = graph
        self.layout = layout
        self._lines: dict[str, None] = {}
        #: unit graph IRI -> its lines
        self._units: defaultdict[str, dict[str, None]] = defaultdict(dict)
        #: line -> unit graph IRI, for statements of functional properties
        self._functional: dict[str, str] = {}
        self._functional_predicates = functional_properties()
        self._suffix = f" {graph} .\n"
        self._local = graph.value + "#"

    def _put(self, subject: str, statement: str, local: bool, functional: bool = False) -> None:
        """File ``<s> <p> <o>`` in the record's graph (``local``) or in its unit's graph."""
        if local or subject.startswith(self._local):
            self._lines[statement + self._suffix] = None
            return
        owner = self.layout.owner(subject)
        line = f"{statement} <{owner}> .\n"
        if functional:
            self._functional[line] = owner
        else:
            self._units[owner][line] = None

    def add(self, subject: NamedNode, predicate: NamedNode, obj: Term) -> None:
        s = subject.value
        p = predicate.value
        if type(obj) is NamedNode:
            o = obj.value
            local = o.startswith(self._local)
            self._put(s, f"<{s}> <{p}> <{o}>", local, p in self._functional_predicates)
        else:
            self._put(s, f"<{s}> <{p}> {obj}", False, p in self._functional_predicates)

    def type(self, subject: NamedNode, *classes: NamedNode) -> None:
        s = subject.value
        if s.startswith(self._local):
            lines, suffix = self._lines, self._suffix
            for cls in classes:
                lines[f"<{s}> {_RDF_TYPE} <{cls.value}>{suffix}"] = None
            return
        owner = self.layout.owner(s)
        unit, suffix = self._units[owner], f" <{owner}> .\n"
        for cls in classes:
            unit[f"<{s}> {_RDF_TYPE} <{cls.value}>{suffix}"] = None

    def text(
        self, subject: NamedNode, predicate: NamedNode, value: str | None, language: str | None = None
    ) -> None:
        """Add a string literal unless it is empty after trimming; tag it if a language is given."""
        if value is None:
            return
        value = clean_text(value)
        if not value:
            return
        s = subject.value
        self._put(s, f"<{s}> <{predicate.value}> {_literal(value, language)}", False)

    def label(self, subject: NamedNode, value: str | None, language: str | None = None) -> None:
        self.text(subject, RDFS.label, value, language)

    def typed(self, subject: NamedNode, predicate: NamedNode, value: str, datatype: NamedNode) -> None:
        self.add(subject, predicate, Literal(value, datatype=datatype))

    def integer(self, subject: NamedNode, predicate: NamedNode, value: int) -> None:
        self.add(subject, predicate, Literal(str(value), datatype=XSD.integer))

    def __len__(self) -> int:
        return len(self._lines) + self._unit_count()

    def _unit_count(self) -> int:
        return sum(map(len, self._units.values())) + len(self._functional)

    def nquads(self) -> bytes:
        """The record's own statements (its graph), as N-Quads."""
        return "".join(self._lines).encode("utf-8")

    def unit_nquads(self) -> bytes:
        """The record's statements about shared units, each in its unit's graph, as N-Quads."""
        return group_units(self._units, self._functional_items())[0]

    def _functional_items(self) -> list[tuple[str, str]]:
        return [(owner, line) for line, owner in self._functional.items()]

    def to_record_graph(
        self, position: Position, warnings: tuple[RecordWarning, ...] = ()
    ) -> RecordGraph:
        data = self.nquads()
        units, groups = group_units(self._units, self._functional_items())
        digest = hashlib.sha256(data)
        digest.update(b"\0")
        digest.update(units)
        return RecordGraph(
            graph=self.graph.value,
            position=position,
            nquads=data,
            quad_count=len(self._lines),
            content_hash=digest.hexdigest(),
            warnings=warnings,
            units=units,
            unit_count=self._unit_count(),
            unit_groups=groups,
        )


_RDF_TYPE = str(RDF.type)

#: Characters N-Triples writes escaped (pyoxigraph's rule: C0 controls, ``"``,
#: ``\\``, DEL, U+FFFE, U+FFFF) or that pyoxigraph refuses (lone surrogates).
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f\ufffe\uffff\ud800-\udfff]')
#: Language tag -> the ``@tag`` suffix pyoxigraph writes for it (it lower-cases
#: tags); filled on first use, bounded since tags can come from the data.
_LANGUAGE_SUFFIXES: dict[str, str] = {}
_LANGUAGE_SUFFIXES_MAX = 1000


def _literal(value: str, language: str | None) -> str:
    """The N-Triples form of a string literal, exactly as ``str(Literal(value, language=...))``.

    Most values need no escaping, and then the text is ``"value"`` (plus the
    cached ``@tag``) without building a ``Literal``; anything else, including
    an invalid language tag (which raises as before), goes through pyoxigraph.
    """
    if _NEEDS_ESCAPE.search(value) is None:
        if not language:
            return f'"{value}"'
        suffix = _LANGUAGE_SUFFIXES.get(language)
        if suffix is None:
            try:
                suffix = str(Literal("", language=language))[2:]
            except ValueError:
                suffix = None
            if suffix is not None and len(_LANGUAGE_SUFFIXES) < _LANGUAGE_SUFFIXES_MAX:
                _LANGUAGE_SUFFIXES[language] = suffix
        if suffix is not None:
            return f'"{value}"{suffix}'
    return str(Literal(value, language=language) if language else Literal(value))


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
