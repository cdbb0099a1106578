"""What the store says about one resource, gathered for its page and its RDF twin.

The SPARQL lives in ``query/rq/*.rq``; the resource and the prefixes that tell
a record's subsidiary nodes apart are passed as bound variables
(``substitutions=``), never pasted into the query text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    RdfFormat,
    Store,
    Variable,
    serialize,
)

from ontology.errors import StoreError
from ontology.namespaces import PREFIXES, RDF

_RQ = Path(__file__).resolve().parent / "rq"

Node = NamedNode | BlankNode
Term = NamedNode | BlankNode | Literal


@cache
def sparql(name: str) -> str:
    """The text of ``query/rq/{name}.rq``."""
    return (_RQ / f"{name}.rq").read_text(encoding="utf-8")


@dataclass(slots=True)
class Value:
    """An RDF term and the labels it has in the store (several languages and scripts)."""

    term: Term
    labels: list[Literal] = field(default_factory=list)
    #: For a record's subsidiary node (a title, a contribution): its own statements.
    nested: list[tuple[NamedNode, Value]] = field(default_factory=list)
    #: Main titles, used as labels only when the term has no label of its own.
    titles: list[Literal] = field(default_factory=list)

    def settle(self) -> Value:
        """Fall back to the titles when no label was found."""
        if not self.labels:
            self.labels = self.titles
        self.titles = []
        return self


@dataclass(slots=True)
class Reference:
    """Something that points at the resource: ``subject --predicate--> resource``.

    ``via`` is set when the pointer is a subsidiary node of ``subject``
    (``work --contribution--> #contribution-1 --agent--> resource``).
    """

    subject: Value
    predicate: NamedNode
    via: NamedNode | None = None
    #: What tells one instance from another with the same title: dates and publishers of
    #: its provision, and its languages (IRIs).
    dates: list[str] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)
    languages: list[NamedNode] = field(default_factory=list)


@dataclass(slots=True)
class Provenance:
    """A record graph a resource comes from, and where that record was read."""

    graph: NamedNode
    source_file: str | None
    position: str | None
    generated: str | None


@dataclass(slots=True)
class Description:
    iri: NamedNode
    labels: list[Literal]
    statements: list[tuple[NamedNode, Value]]
    references: list[Reference]
    #: (predicate, via) -> number of distinct subjects, not capped.
    reference_counts: dict[tuple[NamedNode, NamedNode | None], int]
    graphs: list[Provenance]
    #: For a record graph: the resources it describes.
    members: list[Value]

    @property
    def types(self) -> list[Value]:
        return [value for predicate, value in self.statements if predicate == RDF.type]

    @property
    def reference_total(self) -> int:
        return sum(self.reference_counts.values())


class ResourceQueries:
    """The questions a resource page asks, over one store and one base IRI."""

    def __init__(self, store: Store, base: str) -> None:
        self.store = store
        self.base = base if base.endswith("/") else base + "/"
        self.graphs_prefix = Literal(self.base + "graph/")
        #: Nodes under the base with a fragment are subsidiary: a record's own
        #: (``{graph}#title-1``) or a shared unit's part (``{work}#contribution-…``).
        self.base_literal = Literal(self.base)
        self.meta = NamedNode(self.base + "graph/meta")

    def _run(self, name: str, **bound: Term) -> QueryBoolean | list:
        """Run ``rq/{name}.rq`` with ``bound`` values; rows are read here so read errors are too."""
        substitutions = {Variable(key): value for key, value in bound.items()}
        try:
            result = self.store.query(
                sparql(name),
                prefixes=PREFIXES,
                use_default_graph_as_union=True,
                substitutions=substitutions,
            )
            return result if isinstance(result, QueryBoolean) else list(result)
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc

    def is_record_graph(self, iri: NamedNode) -> bool:
        return iri.value.startswith(self.graphs_prefix.value) and "#" not in iri.value

    def exists(self, iri: NamedNode) -> bool:
        """Whether any statement mentions ``iri`` (as subject or object)."""
        return bool(self._run("exists", iri=iri))

    def describe(self, iri: NamedNode) -> Description | None:
        """Everything a page shows about ``iri``; ``None`` if the store never mentions it."""
        if not self.exists(iri):
            return None
        own_labels: list[Literal] = []
        statements: dict[tuple[NamedNode, Term], Value] = {}
        for row in self._run("properties", iri=iri):
            predicate, obj = row["p"], row["o"]
            value = statements.setdefault((predicate, obj), Value(obj))
            _add_label(value.labels, row["label"])
            _add_label(value.titles, row["title"])
            is_label = predicate.value in _LABEL_PREDICATES and isinstance(obj, Literal)
            if is_label and obj not in own_labels:
                own_labels.append(obj)
        for value in statements.values():
            value.settle()
        self._nest(iri, statements)
        if not own_labels:
            own_labels = _titles(statements)
        members = [] if not self.is_record_graph(iri) else self._members(iri)
        return Description(
            iri=iri,
            labels=own_labels,
            statements=[(p, v) for (p, _), v in statements.items()],
            references=self._references(iri),
            reference_counts=self._reference_counts(iri),
            graphs=self._provenance(iri),
            members=members,
        )

    def _nest(self, iri: NamedNode, statements: dict[tuple[NamedNode, Term], Value]) -> None:
        by_node: dict[Term, dict[tuple[NamedNode, Term], Value]] = defaultdict(dict)
        for row in self._run("nested", iri=iri, base=self.base_literal):
            value = by_node[row["node"]].setdefault((row["p"], row["o"]), Value(row["o"]))
            _add_label(value.labels, row["label"])
        for (_, obj), value in statements.items():
            if obj in by_node:
                value.nested = [(p, v) for (p, _), v in by_node[obj].items()]

    def _references(self, iri: NamedNode) -> list[Reference]:
        found: dict[tuple[Node, NamedNode, NamedNode | None], Reference] = {}
        for row in self._run("references", iri=iri, base=self.base_literal):
            key = (row["s"], row["p"], row["via"])
            ref = found.setdefault(key, Reference(Value(row["s"]), row["p"], row["via"]))
            _add_label(ref.subject.labels, row["label"])
            _add_label(ref.subject.titles, row["title"])
            for values, term in (
                (ref.dates, row["date"]),
                (ref.publishers, row["publisher"]),
                (ref.languages, row["language"]),
            ):
                value = term if isinstance(term, NamedNode) else _text(term)
                if value is not None and value not in values:
                    values.append(value)
        for ref in found.values():
            ref.subject.settle()
        return list(found.values())

    def _reference_counts(self, iri: NamedNode) -> dict[tuple[NamedNode, NamedNode | None], int]:
        return {
            (row["p"], row["via"]): int(row["n"].value)
            for row in self._run("reference_counts", iri=iri, base=self.base_literal)
        }

    def _provenance(self, iri: NamedNode) -> list[Provenance]:
        found: dict[NamedNode, Provenance] = {}
        for row in self._run("record_graphs", iri=iri, meta=self.meta):
            found.setdefault(
                row["g"],
                Provenance(
                    row["g"], _text(row["file"]), _text(row["position"]), _text(row["time"])
                ),
            )
        return list(found.values())

    def _members(self, iri: NamedNode) -> list[Value]:
        found: dict[Term, Value] = {}
        for row in self._run("graph_members", iri=iri, base=self.base_literal):
            value = found.setdefault(row["s"], Value(row["s"]))
            _add_label(value.labels, row["label"])
            _add_label(value.titles, row["title"])
        return [value.settle() for value in found.values()]

    def rdf(self, iri: NamedNode, fmt: RdfFormat) -> bytes:
        """The RDF twin of a page: the resource and its subsidiary nodes (or a record graph)."""
        if self.is_record_graph(iri):
            triples = self._run("describe_graph", iri=iri, meta=self.meta)
        else:
            triples = self._run("describe", iri=iri, base=self.base_literal)
        return serialize(triples, format=fmt, prefixes=PREFIXES)


_LABEL_PREDICATES = frozenset(
    PREFIXES[prefix] + local
    for prefix, local in (
        ("rdfs", "label"),
        ("skos", "prefLabel"),
        ("madsrdf", "authoritativeLabel"),
    )
)
_TITLE = NamedNode(PREFIXES["bf"] + "title")
_MAIN_TITLE = NamedNode(PREFIXES["bf"] + "mainTitle")


def _titles(statements: dict[tuple[NamedNode, Term], Value]) -> list[Literal]:
    """The main titles of a work or instance, its label when it has no ``rdfs:label``."""
    return [
        nested.term
        for (predicate, _), value in statements.items()
        if predicate == _TITLE
        for inner, nested in value.nested
        if inner == _MAIN_TITLE and isinstance(nested.term, Literal)
    ]


def _add_label(labels: list[Literal], label: Term | None) -> None:
    if isinstance(label, Literal) and label not in labels:
        labels.append(label)


def _text(term: Term | None) -> str | None:
    return None if term is None else term.value


def best_label(
    labels: list[Literal], languages: list[str] | tuple[str, ...] = ()
) -> Literal | None:
    """The label to show first: the reader's languages, then untagged, English, Latin script.

    ``languages`` are BCP 47 tags in the reader's order of preference (from
    Accept-Language). The other labels are parallel forms (other scripts and
    languages) that a page shows beside it.

    >>> labels = [Literal("רצבי, שלום", language="he-Hebr"),
    ...           Literal("Ratsabi, Shalom", language="he-Latn")]
    >>> best_label(labels).value
    'Ratsabi, Shalom'
    >>> best_label(labels, ["he"]).value
    'רצבי, שלום'
    >>> best_label([Literal("Jane"), Literal("Jeanne", language="fr")], ["fr-CA", "en"]).value
    'Jeanne'
    """
    if not labels:
        return None
    wanted = [tag.lower() for tag in languages if tag and tag != "*"]

    def rank(label: Literal) -> tuple[int, int, str]:
        tag = (label.language or "").lower()
        for index, lang in enumerate(wanted):
            if tag == lang:
                return (0, index * 3, label.value)
            if tag and tag.split("-")[0] == lang.split("-")[0]:
                # A reader of Hebrew reads Hebrew script before a romanisation.
                return (0, index * 3 + 1 + tag.endswith("-latn"), label.value)
        if not tag:
            return (1, 0, label.value)
        if tag.split("-")[0] == "en":
            return (2, 0, label.value)
        if tag.endswith("-latn"):
            return (3, 0, label.value)
        return (4, 0, tag + label.value)

    return min(labels, key=rank)
