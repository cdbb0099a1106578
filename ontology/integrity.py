"""Is the ontology well formed? The checks ``catalograph ontology validate`` runs before any data.

Each check reads ``catalograph.ttl`` (and ``shapes.ttl``) as statements, with
no reasoner: every declared term has a label and a definition in English and
in Chinese; what
``rdfs:subClassOf``, ``rdfs:domain`` and ``rdfs:range`` name is a declared
class (or a datatype), what ``rdfs:subPropertyOf`` names a declared property;
the class hierarchy has no cycle; the shapes are valid SHACL (checked against
SHACL's own shapes) and name only declared terms. Warnings are for what
could be better and breaks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import NamedNode, Triple

from ontology.hierarchy import ClassHierarchy, class_hierarchy
from ontology.namespaces import RDFS, XSD, compact
from ontology.reference import build_reference, ontology_reference
from ontology.vocabulary import ontology_triples

_SH = "http://www.w3.org/ns/shacl#"
_DATATYPES = (str(XSD), "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString")


@dataclass
class OntologyCheck:
    """Problems (the ontology is not well formed) and warnings (it could be better)."""

    terms: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self, limit: int = 50) -> str:
        lines = [
            f"ontology: {self.terms} terms declared; {len(self.problems)} problems, "
            f"{len(self.warnings)} warnings"
        ]
        lines += [f"problem: {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        shown = min(len(self.warnings), 5)  # the rest are counted, not listed
        lines += [f"warning: {w}" for w in self.warnings[:shown]]
        if len(self.warnings) > shown:
            lines.append(f"... and {len(self.warnings) - shown} more warnings")
        return "\n".join(lines)


def check_ontology(shapes: bool = True, triples: Iterable[Triple] | None = None) -> OntologyCheck:
    """Every check above; ``shapes=False`` leaves out the shapes (SHACL's own check takes a second).

    ``triples``: the ontology to check (a store's copy, as catalogers edited
    it); ``catalograph.ttl`` when ``None``.

    >>> check = check_ontology(shapes=False)
    >>> check.ok, check.terms > 400
    (True, True)
    """
    statements = ontology_triples() if triples is None else tuple(triples)
    reference = ontology_reference() if triples is None else build_reference(statements)
    terms = reference.terms
    check = OntologyCheck(terms=len(terms))
    for term in terms.values():
        for language in ("en", "zh"):
            if language not in term.labels:
                check.problems.append(f"{term.curie} has no rdfs:label in {language}")
        for language in ("en", "zh"):
            if language not in term.definitions:
                check.problems.append(f"{term.curie} has no definition in {language}")
    classes = {iri for iri, term in terms.items() if term.kind == "class"}
    properties = {iri for iri, term in terms.items() if "property" in term.kind}
    for t in statements:
        if not isinstance(t.object, NamedNode) or not isinstance(t.subject, NamedNode):
            continue
        target = t.object.value
        if t.predicate in (RDFS.subClassOf, RDFS.domain) or (
            t.predicate == RDFS.range and not target.startswith(_DATATYPES)
        ):
            if target not in classes:
                check.problems.append(
                    f"{compact(t.subject.value)} {compact(t.predicate.value)} "
                    f"{compact(target)}, which is not a declared class"
                )
        elif t.predicate == RDFS.subPropertyOf and target not in properties:
            check.problems.append(
                f"{compact(t.subject.value)} rdfs:subPropertyOf {compact(target)}, "
                "which is not a declared property"
            )
    hierarchy = class_hierarchy() if triples is None else ClassHierarchy.from_triples(statements)
    for cls in hierarchy.parents:
        if cls in hierarchy.ancestors(cls) or any(
            cls in hierarchy.parents.get(p, ()) for p in hierarchy.ancestors(cls)
        ):
            check.problems.append(f"{compact(cls.value)} is its own superclass (a cycle)")
    if shapes:
        check.problems += _shape_problems(set(terms))
    return check


def _shape_problems(declared: set[str]) -> list[str]:
    from pyshacl import validate as shacl_validate
    from rdflib import Graph, URIRef
    from rdflib.collection import Collection

    from ontology.validation import shapes_graph

    shapes = shapes_graph()
    conforms, _graph, text = shacl_validate(Graph(), shacl_graph=shapes, meta_shacl=True)
    problems = [] if conforms else [f"shapes.ttl is not valid SHACL: {text[:1000]}"]
    named: set[str] = set()
    for local in ("targetClass", "class", "path", "targetSubjectsOf", "targetObjectsOf"):
        named |= {str(o) for o in shapes.objects(None, URIRef(_SH + local)) if isinstance(o, URIRef)}
    for head in shapes.objects(None, URIRef(_SH + "in")):
        named |= {str(o) for o in Collection(shapes, head) if isinstance(o, URIRef)}
    problems += [
        f"shapes.ttl names {compact(iri)}, which the ontology does not declare"
        for iri in sorted(named - declared)
    ]
    return problems



def term_gaps(iris: Iterable[str]) -> dict[str, list[str]]:
    """For each IRI that is not fully described: what it lacks (a declaration, a label or a
    definition in English or Chinese). Fully described IRIs are left out.

    >>> term_gaps(["http://id.loc.gov/ontologies/bibframe/instanceOf"])
    {}
    >>> term_gaps(["http://example.org/v#undeclared"])["http://example.org/v#undeclared"][:1]
    ['declaration']
    """
    terms = ontology_reference().terms
    gaps: dict[str, list[str]] = {}
    for iri in iris:
        term = terms.get(iri)
        if term is None:
            gaps[iri] = ["declaration", "label@en", "label@zh", "definition@en", "definition@zh"]
            continue
        missing = [f"label@{tag}" for tag in ("en", "zh") if tag not in term.labels]
        missing += [f"definition@{tag}" for tag in ("en", "zh") if tag not in term.definitions]
        if missing:
            gaps[iri] = missing
    return gaps
