"""SHACL validation of what Catalograph writes, against ``ontology/shapes.ttl``.

The shapes apply to the *merged* view, as queries see it: the union of every
record graph given, plus the class hierarchy of ``catalograph.ttl`` (so a
``bf:Person`` is checked as a ``bf:Agent`` without running a reasoner).
Inference is off: the shapes describe the data as stored, not what a reasoner
could derive from it.

rdflib and pyshacl take a quarter of a second to import, so they are imported
only when validation runs, never by importing this module.

A one-liner for the record graphs of an ingest::

    report = validate([record_graph.nquads for record_graph in record_graphs])
    assert report.conforms, report.text()
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from ontology.errors import InputError
from ontology.namespaces import compact
from ontology.vocabulary import ontology_path, shapes_path

if TYPE_CHECKING:
    import rdflib

#: Refuse data graphs larger than this: pyshacl keeps everything in memory and
#: its run time grows faster than linearly; bigger inputs are validated in slices.
DEFAULT_MAX_STATEMENTS = 500_000

_SH = "http://www.w3.org/ns/shacl#"
#: The namespace of the shapes in ``shapes.ttl``.
SHAPES_NAMESPACE = "https://w3id.org/catalograph/shapes#"
_RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class ValidationResult(NamedTuple):
    """One SHACL result: what is wrong, where, and how bad.

    ``severity`` is ``"Violation"``, ``"Warning"`` or ``"Info"``; ``path`` is
    the property IRI (``None`` for node-level constraints); ``value`` is the
    offending value when the constraint names one.
    """

    focus_node: str
    path: str | None
    message: str
    severity: str
    value: str | None = None
    shape: str | None = None

    def __str__(self) -> str:
        where = f"<{self.focus_node}>"
        if self.path:
            where += f" <{self.path}>"
        if self.value is not None and self.value != self.focus_node:
            where += f" = {self.value}"
        return f"{self.severity}: {where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of one validation. Warnings never make ``conforms`` false."""

    conforms: bool
    results: list[ValidationResult] = field(default_factory=list)

    @property
    def violations(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity != "Violation"]

    def text(self, limit: int = 50) -> str:
        """Readable summary: the first ``limit`` results, sorted, then a count of the rest."""
        lines = [
            f"conforms: {self.conforms}; {len(self.violations)} violations, "
            f"{len(self.warnings)} warnings"
        ]
        ordered = sorted(self.results, key=lambda r: (r.severity != "Violation", r.message, r))
        lines += [str(result) for result in ordered[:limit]]
        if len(ordered) > limit:
            lines.append(f"... and {len(ordered) - limit} more")
        return "\n".join(lines)


def validate(
    data: rdflib.Graph | bytes | Iterable[bytes],
    *,
    shapes: rdflib.Graph | None = None,
    max_statements: int = DEFAULT_MAX_STATEMENTS,
) -> ValidationReport:
    """Validate ``data`` against the Catalograph shapes (or ``shapes``).

    ``data`` is an rdflib graph or dataset (all its graphs are merged), or
    N-Quads / N-Triples bytes, or several such byte strings (e.g. the
    ``nquads`` of many ``RecordGraph`` values), which are merged. Blank node
    labels are scoped to their byte string, as N-Quads says. Raises
    ``InputError`` for unparsable bytes, more than ``max_statements``
    statements or a malformed ``shapes`` graph; the caller's graph is never
    modified.
    """
    from pyshacl import validate as shacl_validate
    from pyshacl.errors import ReportableRuntimeError

    union = _union_graph(data, max_statements)
    _add_class_hierarchy(union)
    try:
        conforms, results_graph, _text = shacl_validate(
            union,
            shacl_graph=shapes if shapes is not None else _shapes_graph(),
            inference="none",
            abort_on_first=False,
            allow_warnings=True,
            allow_infos=True,
            advanced=False,
            inplace=True,
        )
    except ReportableRuntimeError as exc:
        raise InputError(f"the shapes graph cannot be used: {exc.message}") from exc
    used = shapes if shapes is not None else _shapes_graph()
    return ValidationReport(conforms=bool(conforms), results=_results(results_graph, used))


def ontology_graph() -> rdflib.Graph:
    """``catalograph.ttl`` as a fresh rdflib graph (the caller may change it)."""
    import rdflib

    return rdflib.Graph().parse(ontology_path(), format="turtle")


def shapes_graph() -> rdflib.Graph:
    """``shapes.ttl`` as a fresh rdflib graph (the caller may change it)."""
    import rdflib

    return rdflib.Graph().parse(shapes_path(), format="turtle")


@lru_cache(maxsize=1)
def _shapes_graph() -> rdflib.Graph:
    return shapes_graph()


@lru_cache(maxsize=1)
def _class_hierarchy() -> tuple[tuple[str, str], ...]:
    from pyoxigraph import NamedNode, RdfFormat, parse

    subclass = NamedNode(_RDFS_SUBCLASS)
    return tuple(
        (triple.subject.value, triple.object.value)
        for triple in parse(path=ontology_path(), format=RdfFormat.TURTLE)
        if triple.predicate == subclass and isinstance(triple.object, NamedNode)
    )


def _add_class_hierarchy(graph: rdflib.Graph) -> None:
    from rdflib import RDFS, URIRef

    for sub, sup in _class_hierarchy():
        graph.add((URIRef(sub), RDFS.subClassOf, URIRef(sup)))


def _union_graph(data: object, max_statements: int) -> rdflib.Graph:
    import rdflib

    union = rdflib.Graph()
    if isinstance(data, rdflib.Graph):
        triples = (
            ((s, p, o) for s, p, o, _ in data.quads((None, None, None, None)))
            if data.context_aware
            else iter(data)
        )
        for count, triple in enumerate(triples, 1):
            if count > max_statements:
                raise _too_big(max_statements)
            union.add(triple)
        return union
    chunks = [data] if isinstance(data, bytes | bytearray | memoryview) else data
    count = 0
    for number, chunk in enumerate(chunks):
        for triple in _parse_nquads(bytes(chunk), number):
            count += 1
            if count > max_statements:
                raise _too_big(max_statements)
            union.add(triple)
    return union


def _parse_nquads(chunk: bytes, number: int) -> Iterable[tuple]:
    """Triples of one N-Quads/N-Triples byte string, as rdflib terms (graph names dropped)."""
    from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, parse
    from rdflib import BNode, URIRef
    from rdflib import Literal as RdfLiteral

    def convert(term: object) -> object:
        if isinstance(term, NamedNode):
            return URIRef(term.value)
        if isinstance(term, BlankNode):
            return BNode(f"c{number}_{term.value}")
        if isinstance(term, Literal):
            if term.language:
                return RdfLiteral(term.value, lang=term.language)
            return RdfLiteral(term.value, datatype=URIRef(term.datatype.value))
        raise InputError(f"unsupported RDF term in data to validate: {term}")

    try:
        for quad in parse(chunk, format=RdfFormat.N_QUADS):
            yield convert(quad.subject), convert(quad.predicate), convert(quad.object)
    except SyntaxError as exc:
        raise InputError(f"data to validate is not valid N-Quads: {exc}") from exc


def _short(shape: str) -> str:
    """``cgsh:InstanceShape`` for a shape of ``shapes.ttl``."""
    return "cgsh:" + shape[len(SHAPES_NAMESPACE) :] if shape.startswith(SHAPES_NAMESPACE) else shape


def _shape_name(shape: object, shapes: rdflib.Graph) -> str | None:
    """The IRI of the shape a result came from: an unnamed property shape is named by its node shape."""
    from rdflib import BNode, URIRef

    for _hop in range(12):  # a property shape, or one in an sh:or list, inside a node shape
        if not isinstance(shape, BNode):
            break
        owner = next(iter(shapes.subjects(None, shape)), None)
        if owner is None:
            break
        shape = owner
    return str(shape) if isinstance(shape, URIRef) else None


def _too_big(limit: int) -> InputError:
    return InputError(
        f"more than {limit} statements to validate; validate smaller slices or raise max_statements"
    )


def _results(report: rdflib.Graph, shapes: rdflib.Graph) -> list[ValidationResult]:
    from rdflib import RDF, BNode, Literal, URIRef

    sh = {
        name: URIRef(_SH + name)
        for name in (
            "ValidationResult",
            "focusNode",
            "resultPath",
            "resultMessage",
            "resultSeverity",
            "value",
            "sourceShape",
            "sourceConstraintComponent",
        )
    }

    def one(node: object, predicate: str) -> object | None:
        return next(iter(report.objects(node, sh[predicate])), None)

    def show(term: object | None) -> str | None:
        if term is None or isinstance(term, BNode):
            return None
        if isinstance(term, Literal):
            if term.datatype is None or str(term.datatype) == _XSD_STRING:
                return Literal(str(term), lang=term.language).n3()
            return term.n3()
        return str(term)

    results = []
    for node in report.subjects(RDF.type, sh["ValidationResult"]):
        messages = sorted(str(m) for m in report.objects(node, sh["resultMessage"]))
        component = str(one(node, "sourceConstraintComponent") or "")
        severity = str(one(node, "resultSeverity") or _SH + "Violation")
        results.append(
            ValidationResult(
                focus_node=str(one(node, "focusNode")),
                path=show(one(node, "resultPath")),
                message="; ".join(messages) or component.rsplit("#", 1)[-1],
                severity=severity.rsplit("#", 1)[-1],
                value=show(one(node, "value")),
                shape=_shape_name(one(node, "sourceShape"), shapes),
            )
        )
    results.sort(key=lambda r: (r.severity != "Violation", r.focus_node, r.path or "", r.message))
    return results


@dataclass
class ValidationTally:
    """Results of many validations of slices of one store, added up for one report.

    Each slice names the nodes whose results count (``complete``): a node seen
    only at the edge of a slice may lack statements its shape needs. A node
    checked in several slices (a work shared by many instances) is counted
    once per distinct result. Only the first ``keep`` results are kept for
    showing; the counts are of all of them.
    """

    keep: int = 50
    checked: dict[str, int] = field(default_factory=dict)
    violations: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    shown: list[ValidationResult] = field(default_factory=list)
    _seen: set[tuple] = field(default_factory=set, repr=False)

    @property
    def conforms(self) -> bool:
        return not self.violations

    @property
    def violation_count(self) -> int:
        return sum(self.violations.values())

    @property
    def warning_count(self) -> int:
        return sum(self.warnings.values())

    def add(
        self, target: str, focus_count: int, report: ValidationReport, complete: Iterable[str],
        skipped: int = 0,
    ) -> None:
        """Count ``report``'s results about the ``complete`` nodes of one slice of ``target``."""
        self.checked[target] = self.checked.get(target, 0) + focus_count
        self.skipped += skipped
        counted = frozenset(complete)
        for result in report.results:
            if result.focus_node not in counted:
                continue
            key = (result.focus_node, result.path, result.message, result.value)
            if key in self._seen:
                continue
            self._seen.add(key)
            table = self.violations if result.severity == "Violation" else self.warnings
            shape = _short(result.shape) if result.shape else "(unnamed shape)"
            table[shape] = table.get(shape, 0) + 1
            if len(self.shown) < self.keep:
                self.shown.append(result)

    def text(self) -> str:
        """A readable report: totals, counts per shape, focus nodes per class, then the results kept."""
        lines = [
            f"conforms: {self.conforms}; {self.violation_count} violations, "
            f"{self.warning_count} warnings; {sum(self.checked.values())} focus nodes checked"
            + (f", {self.skipped} nodes too large to check" if self.skipped else "")
        ]
        if self.violations or self.warnings:
            lines.append("per shape (violations / warnings):")
            for shape in sorted(set(self.violations) | set(self.warnings)):
                lines.append(
                    f"  {shape}: {self.violations.get(shape, 0)} / {self.warnings.get(shape, 0)}"
                )
        lines.append("focus nodes checked per class:")
        lines += [f"  {compact(cls)}: {count}" for cls, count in sorted(self.checked.items())]
        ordered = sorted(self.shown, key=lambda r: (r.severity != "Violation", r.shape or "", r))
        for result in ordered:
            lines.append(f"{result}" + (f" [{_short(result.shape)}]" if result.shape else ""))
        shown_total = self.violation_count + self.warning_count
        if shown_total > len(self.shown):
            lines.append(f"... and {shown_total - len(self.shown)} more")
        return "\n".join(lines)
