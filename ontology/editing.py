"""Edits of the library ontology as statements to add and remove: what the editor's forms make.

Each operation reads the ontology as it stands (the statements of the
store's ontology graph and the ``OntologyReference`` built from them,
``ontology.reference.build_reference``) and returns a ``TermChange``: quads
to remove and to add in the ontology graph, and the reason to record.
Nothing here writes: the web layer hands the change to
``web.changes.submit_change``, which applies it as one changeset, and runs
``hierarchy_problems`` inside the edit on the store as the change leaves it,
so a cycle that a concurrent edit would make is refused too
(``ontology.ontology_checks``).

Refused (``OntologyEditError``, HTTP 422, one readable reason per broken
rule): a local name that is not a plain name (``LOCAL_NAME``: a letter, then
letters, digits, ``_`` or ``-``, at most 64; upper case first for a class,
lower case for a property), a term already declared, a language tag that is
not one, a label or definition too long or holding control characters, no
English label, a superclass, superproperty, domain or range that is not a
declared term of the right kind, a superclass or superproperty that would
make a cycle (the term itself or one below it), and deleting a term the
shipped ontology declares or one still in use.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Quad, Triple

from ontology.errors import UsageError
from ontology.namespaces import CG, DCT, OWL, RDF, RDFS, SKOS, XSD, compact
from ontology.ontology_checks import terms_of
from ontology.reference import OntologyReference, ontology_reference

#: A new term's local name in the ``cg:`` namespace.
LOCAL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
#: A language as the forms take it: a primary language subtag (``en``, ``zh``, ``fr``), the
#: unit the reference model keeps labels and definitions by (``ontology.reference``).
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}$")
MAX_LABEL = 200
MAX_DEFINITION = 2000
#: Most languages, superterms, domains or ranges one form may give.
MAX_VALUES = 20

#: The kinds of term the editor creates, and the ``rdf:type`` each is declared with.
KIND_TYPES: dict[str, NamedNode] = {
    "class": OWL.Class,
    "object property": OWL.ObjectProperty,
    "datatype property": OWL.DatatypeProperty,
    "annotation property": OWL.AnnotationProperty,
}
#: Ranges a datatype property may have besides classes.
DATATYPES = (
    XSD.string, RDF.langString, XSD.integer, XSD.decimal, XSD.boolean, XSD.date, XSD.dateTime,
    XSD.gYear, XSD.anyURI,
)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class OntologyEditError(UsageError):
    """An ontology edit that breaks a rule (HTTP 422); ``problems`` says which, one line each."""

    http_status = 422

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("the ontology was not changed: " + "; ".join(self.problems))


@dataclass
class TermDraft:
    """What a form says a term should be: its words per language and its links."""

    labels: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TermChange:
    """Statements to remove, then add, in the ontology graph, and why."""

    iri: str
    add: tuple[Quad, ...]
    remove: tuple[Quad, ...]
    reason: str

    @property
    def empty(self) -> bool:
        return not self.add and not self.remove


def is_property(kind: str) -> bool:
    return "property" in kind


def new_term_iri(local_name: str, kind: str) -> str:
    """The IRI of a new term in the ``cg:`` namespace, from a strictly checked local name.

    >>> new_term_iri("ManuscriptLeaf", "class")
    'https://w3id.org/catalograph/ontology#ManuscriptLeaf'
    >>> new_term_iri("leafCount", "class")
    Traceback (most recent call last):
    ...
    ontology.editing.OntologyEditError: the ontology was not changed: a class's name starts with a capital letter (leafCount)
    """
    name = local_name.strip()
    if kind not in KIND_TYPES:
        raise OntologyEditError([f"unknown kind of term {kind[:40]!r}"])
    if not LOCAL_NAME.match(name):
        raise OntologyEditError(
            [f"{name[:70]!r} is not a name: a letter, then letters, digits, '_' or '-', at most 64"]
        )
    if kind == "class" and not name[0].isupper():
        raise OntologyEditError([f"a class's name starts with a capital letter ({name})"])
    if is_property(kind) and not name[0].islower():
        raise OntologyEditError([f"a property's name starts with a small letter ({name})"])
    return f"{CG}{name}"


def declare(model: OntologyReference, iri: str, kind: str, draft: TermDraft, graph: NamedNode) -> TermChange:
    """A new class or property: its declaration, labels, definitions and links."""
    problems = [f"{compact(iri)} is already declared"] if iri in model.terms else []
    problems += draft_problems(model, iri, kind, draft)
    if problems:
        raise OntologyEditError(problems)
    term = NamedNode(iri)
    add = [Quad(term, RDF.type, KIND_TYPES[kind], graph), Quad(term, RDFS.isDefinedBy, NamedNode(model.iri), graph)]
    add += [Quad(term, RDFS.label, Literal(text, language=tag), graph) for tag, text in draft.labels.items()]
    add += [
        Quad(term, SKOS.definition, Literal(text, language=tag), graph) for tag, text in draft.definitions.items()
    ]
    add += [Quad(term, _parent_link(kind), NamedNode(p), graph) for p in draft.parents]
    add += [Quad(term, RDFS.domain, NamedNode(d), graph) for d in draft.domains]
    add += [Quad(term, RDFS.range, NamedNode(r), graph) for r in draft.ranges]
    return TermChange(iri, tuple(add), (), f"new {kind} {compact(iri)}")


def revise(
    model: OntologyReference, triples: Iterable[Triple], iri: str, draft: TermDraft, graph: NamedNode
) -> TermChange:
    """A declared term made to say what ``draft`` says; only what differs is removed and added."""
    term = model.terms.get(iri)
    if term is None:
        raise OntologyEditError([f"{compact(iri)} is not declared"])
    problems = draft_problems(model, iri, term.kind, draft)
    if problems:
        raise OntologyEditError(problems)
    subject = NamedNode(iri)
    mine = [t for t in triples if t.subject == subject]
    add: list[Quad] = []
    remove: list[Quad] = []

    def literals(predicates: Sequence[NamedNode]) -> dict[str, list[Triple]]:
        found: defaultdict[str, list[Triple]] = defaultdict(list)
        for t in mine:
            if t.predicate in predicates and isinstance(t.object, Literal):
                found[_primary(t.object.language)].append(t)
        return found

    labels = literals([RDFS.label])
    for tag in labels.keys() | draft.labels.keys():
        if [t.object.value for t in labels.get(tag, [])] != ([draft.labels[tag]] if tag in draft.labels else []):
            remove += [Quad(t.subject, t.predicate, t.object, graph) for t in labels.get(tag, [])]
            if tag in draft.labels:
                add.append(Quad(subject, RDFS.label, Literal(draft.labels[tag], language=tag), graph))
    definitions, comments = literals([SKOS.definition]), literals([RDFS.comment])
    for tag in definitions.keys() | comments.keys() | draft.definitions.keys():
        shown = definitions.get(tag) or comments.get(tag) or []  # what the reference shows
        wanted = draft.definitions.get(tag)
        if wanted is not None and shown and " ".join(shown[0].object.value.split()) == wanted:
            continue
        if wanted is None and not shown:
            continue
        remove += [Quad(t.subject, t.predicate, t.object, graph) for t in shown]
        if wanted is not None:
            add.append(Quad(subject, SKOS.definition, Literal(wanted, language=tag), graph))
    for link, values in (
        (_parent_link(term.kind), draft.parents),
        (RDFS.domain, draft.domains if is_property(term.kind) else None),
        (RDFS.range, draft.ranges if is_property(term.kind) else None),
    ):
        if values is None:
            continue
        held = {t.object.value: t for t in mine if t.predicate == link and isinstance(t.object, NamedNode)}
        remove += [Quad(t.subject, t.predicate, t.object, graph) for v, t in held.items() if v not in values]
        add += [Quad(subject, link, NamedNode(v), graph) for v in values if v not in held]
    return TermChange(iri, tuple(add), tuple(remove), f"edited {term.kind} {compact(iri)}")


def deprecate(
    model: OntologyReference, triples: Iterable[Triple], iri: str, replacement: str | None, graph: NamedNode
) -> TermChange:
    """``owl:deprecated true`` on a term, with ``dcterms:isReplacedBy`` its replacement if given."""
    term = model.terms.get(iri)
    if term is None:
        raise OntologyEditError([f"{compact(iri)} is not declared"])
    problems = []
    if replacement:
        other = model.terms.get(replacement)
        if replacement == iri:
            problems.append("a term cannot replace itself")
        elif other is None or is_property(other.kind) != is_property(term.kind):
            problems.append(f"{compact(replacement)} is not a declared {_broad(term.kind)}")
    if problems:
        raise OntologyEditError(problems)
    subject = NamedNode(iri)
    mine = [t for t in triples if t.subject == subject and t.predicate in (OWL.deprecated, DCT.isReplacedBy)]
    remove = [Quad(t.subject, t.predicate, t.object, graph) for t in mine]
    add = [Quad(subject, OWL.deprecated, Literal(True), graph)]
    if replacement:
        add.append(Quad(subject, DCT.isReplacedBy, NamedNode(replacement), graph))
    return _net(iri, add, remove, f"deprecated {compact(iri)}")


def undeprecate(triples: Iterable[Triple], iri: str, graph: NamedNode) -> TermChange:
    """A deprecated term back in use: its ``owl:deprecated`` and ``dcterms:isReplacedBy`` go."""
    subject = NamedNode(iri)
    remove = [
        Quad(t.subject, t.predicate, t.object, graph)
        for t in triples
        if t.subject == subject and t.predicate in (OWL.deprecated, DCT.isReplacedBy)
    ]
    return TermChange(iri, (), tuple(remove), f"{compact(iri)} no longer deprecated")


def removal(model: OntologyReference, triples: Iterable[Triple], iri: str, uses: int, graph: NamedNode) -> TermChange:
    """Every statement about a cataloger-made term nobody uses (``uses``: statements that use it)."""
    if iri not in model.terms:
        raise OntologyEditError([f"{compact(iri)} is not declared"])
    problems = []
    if iri in shipped_terms():
        problems.append(f"{compact(iri)} comes with Catalograph's ontology: deprecate it instead")
    if uses:
        problems.append(f"{compact(iri)} is used by {uses:,} statement(s): it cannot be deleted while used")
    if problems:
        raise OntologyEditError(problems)
    mine = terms_of(triples).get(iri, set())
    remove = [Quad(t.subject, t.predicate, t.object, graph) for t in sorted(mine, key=str)]
    return TermChange(iri, (), tuple(remove), f"deleted {compact(iri)}")


def shipped_terms() -> frozenset[str]:
    """The terms ``catalograph.ttl`` declares (never deleted from a store, only deprecated)."""
    return frozenset(ontology_reference().terms)


def draft_problems(model: OntologyReference, iri: str, kind: str, draft: TermDraft) -> list[str]:
    """Everything wrong with ``draft`` for the term ``iri`` of ``kind`` (see the module docstring)."""
    problems: list[str] = []
    for name, values, limit in (("label", draft.labels, MAX_LABEL), ("definition", draft.definitions, MAX_DEFINITION)):
        if len(values) > MAX_VALUES:
            problems.append(f"at most {MAX_VALUES} languages")
        for tag, text in values.items():
            if not LANGUAGE_TAG.match(tag):
                problems.append(f"{tag[:20]!r} is not a language tag (such as en, zh or fr)")
            if not text.strip():
                problems.append(f"the {name} in {tag[:20]} is empty")
            elif len(text) > limit:
                problems.append(f"the {name} in {tag[:20]} is longer than {limit} characters")
            elif _CONTROL.search(text):
                problems.append(f"the {name} in {tag[:20]} holds control characters")
    if not draft.labels.get("en", "").strip():
        problems.append("a term needs a label in English (en)")
    classes = {i for i, t in model.terms.items() if t.kind == "class"}
    properties = {i for i, t in model.terms.items() if is_property(t.kind)}
    wanted_parents = properties if is_property(kind) else classes
    for field_name, values, allowed, what in (
        ("parents", draft.parents, wanted_parents, "super" + _broad(kind)),
        ("domains", draft.domains, classes, "domain"),
        ("ranges", draft.ranges, classes | {d.value for d in DATATYPES}, "range"),
    ):
        if len(values) > MAX_VALUES:
            problems.append(f"at most {MAX_VALUES} values for {field_name}")
        for value in values:
            if value not in allowed:
                problems.append(f"{compact(value)[:120]} is not a declared term that can be a {what}")
    if (draft.domains or draft.ranges) and not is_property(kind):
        problems.append("only a property has a domain and a range")
    below = set(_below(model, iri)) | {iri}
    problems += [
        f"{compact(p)} is {compact(iri)} or below it: that would make a cycle" for p in draft.parents if p in below
    ]
    return problems


def draft_of(model: OntologyReference, iri: str) -> TermDraft:
    """What the form for an existing term starts with."""
    term = model.terms[iri]
    return TermDraft(
        labels=dict(term.labels),
        definitions=dict(term.definitions),
        parents=list(term.parents),
        domains=list(term.domains),
        ranges=list(term.ranges),
    )


def clean_words(values: Mapping[str, str]) -> dict[str, str]:
    """Per-language texts from a form: tags lower-cased, whitespace folded, empty ones dropped.

    >>> clean_words({" EN ": " A  class ", "zh": " "})
    {'en': 'A class'}
    """
    found = {}
    for tag, text in values.items():
        words = " ".join(text.split())
        if tag.strip() and words:
            found[tag.strip().lower()] = words
    return found


def _below(model: OntologyReference, iri: str) -> list[str]:
    seen: dict[str, None] = {}
    todo = list(model.terms[iri].children) if iri in model.terms else []
    while todo:
        node = todo.pop()
        if node not in seen:
            seen[node] = None
            todo.extend(model.terms[node].children if node in model.terms else ())
    return list(seen)


def _primary(language: str | None) -> str:
    return (language or "en").split("-")[0].lower()


def _parent_link(kind: str) -> NamedNode:
    return RDFS.subPropertyOf if is_property(kind) else RDFS.subClassOf


def _broad(kind: str) -> str:
    return "property" if is_property(kind) else "class"


def _net(iri: str, add: list[Quad], remove: list[Quad], reason: str) -> TermChange:
    """Statements both removed and added cancel out (an edit that changes nothing records nothing)."""
    both = set(add) & set(remove)
    return TermChange(
        iri, tuple(q for q in add if q not in both), tuple(q for q in remove if q not in both), reason
    )
