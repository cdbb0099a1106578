"""What an editor's change must not break: the checks ``apply_changes`` runs before it records.

A change is checked on the store as it leaves it (inside the edit, under the
writer's lock: ``graph.updates.ChangeCheck``), and only for what **it**
introduced, so that a cataloger can still correct a resource that was
already imperfect:

- **no cycle in ``skos:broader``**: an added ``broader`` (or ``narrower``,
  its inverse) edge must not lead back to where it starts, followed
  transitively through both properties, at most ``MAX_HIERARCHY_NODES``
  concepts (a hierarchy too large to walk is refused, not trusted);
- **one preferred label per language** (SKOS S14): a resource given a
  ``skos:prefLabel`` may not then hold two in the same language (no tag
  counts as one more language);
- **no dangling reference**: an added statement may not point at an IRI
  under the base that no graph describes (a typo, a concept deleted
  meanwhile), and a change may not take away the last statement about a
  resource under the base that others still point at;
- **SHACL** (``ontology/shapes.ttl``) on the resources the change touched
  only: their statements, those of the nodes they point at, and those
  nodes' types, cut from the store as ``graph.shape_sample`` cuts its
  slices, never the whole store. A violation the same resources already had
  before the change is not the change's fault and does not refuse it.

Every refusal is one readable sentence for the form that sent the change
(``InvalidChangeError.problems``). ``integrity`` is the part cheap enough
for every write, SPARQL Update and the Graph Store included (no cycle, one
preferred label); ``editor_check`` adds the rest for the editor's changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Store, parse, serialize

from graph.shape_sample import MAX_STATEMENTS_PER_NODE, describe_nodes
from ontology.errors import UsageError
from ontology.layout import Layout
from ontology.namespaces import RDF, SKOS
from ontology.validation import validate  # rdflib and pyshacl load only when validate runs


class InvalidChangeError(UsageError):
    """An edit that would leave the data invalid (HTTP 422); nothing was changed.

    ``problems`` are the readable reasons, one per broken rule, for a form to show.
    """

    http_status = 422

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("the change was not made: " + "; ".join(self.problems))


#: What ``apply_changes`` calls to validate an edit: the store after the change, what it added
#: and what it removed; it raises ``InvalidChangeError`` to refuse it.
ChangeCheck = Callable[[Store, list[Quad], list[Quad]], None]


#: Most concepts one cycle check walks up from an added ``broader`` edge.
MAX_HIERARCHY_NODES = 10_000
#: Most resources whose shapes one change is checked against (a change touching more is
#: refused: split it, or write it with SPARQL Update, which is not checked against shapes);
#: at ~7 ms a resource (docs/web.md), about 15 s.
MAX_SHAPE_NODES = 2_000
#: Resources validated together (one pyshacl run).
SHAPE_CHUNK = 100
#: Most problems one refusal lists (the rest are counted).
MAX_PROBLEMS = 20


def integrity(store: Store, added: list[Quad], removed: list[Quad]) -> None:
    """No cycle in ``skos:broader``, one preferred label per language: for every write."""
    problems = [*broader_cycles(store, added), *duplicate_preferred_labels(store, added)]
    _refuse(problems)


@dataclass(frozen=True, slots=True)
class EditorCheck:
    """Every check above, for the editor's changes under one base (a ``ChangeCheck``)."""

    layout: Layout
    shapes: bool = True

    def __call__(self, store: Store, added: list[Quad], removed: list[Quad]) -> None:
        problems = [
            *broader_cycles(store, added),
            *duplicate_preferred_labels(store, added),
            *dangling_references(store, self.layout, added, removed),
        ]
        if self.shapes and not problems:  # a broken hierarchy first; SHACL costs more
            problems += shape_violations(store, added, removed)
        _refuse(problems)


def editor_check(layout: Layout) -> ChangeCheck:
    """The checks every change from the editor passes (``web.changes.submit_change``)."""
    return EditorCheck(layout)


def all_of(*checks: ChangeCheck | None) -> ChangeCheck:
    """One check that runs each of ``checks`` and refuses with all their problems together."""
    chosen = [c for c in checks if c is not None]

    def run(store: Store, added: list[Quad], removed: list[Quad]) -> None:
        problems: list[str] = []
        for check in chosen:
            try:
                check(store, added, removed)
            except InvalidChangeError as refused:
                problems += [p for p in refused.problems if p not in problems]
        _refuse(problems)

    return run


def exactly(add: Iterable[Quad], remove: Iterable[Quad]) -> ChangeCheck:
    """A check that the change did all it asked: each statement to add was absent before and
    each to remove was there (a revert of something changed again since is refused)."""
    wanted_add, wanted_remove = set(add), set(remove)

    def run(store: Store, added: list[Quad], removed: list[Quad]) -> None:
        present = sorted(wanted_add - set(added), key=str)
        absent = sorted(wanted_remove - set(removed), key=str)
        problems = [f"{_statement(q)} is already there (a later change added it back)" for q in present]
        problems += [f"{_statement(q)} is no longer there (a later change removed or replaced it)" for q in absent]
        _refuse(problems)

    return run


# ------------------------------------------------------------ the rules


def broader_cycles(store: Store, added: list[Quad]) -> list[str]:
    """A problem for each added ``broader``/``narrower`` edge that closes a cycle."""
    problems = []
    for narrower, broader in _added_edges(added):
        if narrower == broader:
            problems.append(f"{_node(narrower)} cannot be broader than itself")
            continue
        path = _path_up(store, broader, narrower)
        if path is not None:
            chain = " → ".join(_node(n) for n in [narrower, *path])
            problems.append(f"{_node(narrower)} cannot have {_node(broader)} as broader: that makes a cycle ({chain})")
    return problems


def duplicate_preferred_labels(store: Store, added: list[Quad]) -> list[str]:
    """A problem for each resource given a preferred label that now has two in one language."""
    problems = []
    seen: set[tuple[object, str]] = set()
    for quad in added:
        if quad.predicate != SKOS.prefLabel or not isinstance(quad.object, Literal):
            continue
        language = (quad.object.language or "").lower()
        if (quad.subject, language) in seen:
            continue
        seen.add((quad.subject, language))
        same = sorted(
            {q.object.value for q in store.quads_for_pattern(quad.subject, SKOS.prefLabel, None, None)
             if isinstance(q.object, Literal) and (q.object.language or "").lower() == language}
        )  # fmt: skip
        if len(same) > 1:
            where = f"in language '{language}'" if language else "without a language tag"
            shown = ", ".join(f'"{text}"' for text in same[:5])
            problems.append(f"{_node(quad.subject)} would have {len(same)} preferred labels {where} ({shown}); keep one")
    return problems


def dangling_references(store: Store, layout: Layout, added: list[Quad], removed: list[Quad]) -> list[str]:
    """Added statements pointing at an undescribed IRI under the base, and resources under the
    base left undescribed while something still points at them."""
    problems = []
    for iri in sorted({q.object for q in added if _ours(layout, q.object)}, key=str):
        if not _described(store, iri):
            problems.append(f"{_node(iri)} is described nowhere: a statement may not point at it (a typo, or deleted?)")
    for iri in sorted({q.subject for q in removed if _ours(layout, q.subject)}, key=str):
        if _described(store, iri):
            continue
        referrer = next(iter(store.quads_for_pattern(None, None, iri, None)), None)
        if referrer is not None:
            problems.append(
                f"{_node(iri)} would no longer be described, but {_node(referrer.subject)} still points at it "
                f"({_node(referrer.predicate)}); move or remove those references first"
            )
    return problems


def shape_violations(store: Store, added: list[Quad], removed: list[Quad]) -> list[str]:
    """New SHACL violations of the resources the change touched (before and after compared),
    validated ``SHAPE_CHUNK`` resources at a time (pyshacl's time grows faster than its graph)."""
    focus = _touched(store, added, removed)
    if len(focus) > MAX_SHAPE_NODES:
        return [f"this change touches {len(focus):,} resources; at most {MAX_SHAPE_NODES:,} are checked "
                "against the shapes in one change: make smaller changes (import in slices)"]  # fmt: skip
    problems: list[str] = []
    for start in range(0, len(focus), SHAPE_CHUNK):
        problems += _new_violations(store, focus[start : start + SHAPE_CHUNK], added, removed)
    return problems


def _new_violations(
    store: Store, focus: list[NamedNode | BlankNode], added: list[Quad], removed: list[Quad]
) -> list[str]:
    after = describe_nodes(store, focus, MAX_STATEMENTS_PER_NODE)
    wanted = {_name(n) for n in focus} & after.complete
    report = validate(after.ntriples)
    new = {_key(r): r for r in report.violations if r.focus_node in wanted}
    if not new:
        return []
    # what the same slice said before the change: those violations were already there
    triples = {q.triple for q in parse(after.ntriples, format=RdfFormat.N_TRIPLES)}
    triples -= {q.triple for q in added}
    triples |= {q.triple for q in removed if _within(q, after.complete)}
    before = validate(serialize(triples, format=RdfFormat.N_TRIPLES) or b"")
    for result in before.violations:
        new.pop(_key(result), None)
    return [f"{_node_text(r.focus_node)}: {r.message}" + (f" ({r.value})" if r.value else "")
            for r in sorted(new.values(), key=lambda r: (r.focus_node, r.message))]  # fmt: skip


# ------------------------------------------------------------ helpers


def _refuse(problems: list[str]) -> None:
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"and {len(problems) - MAX_PROBLEMS} more problems")
    raise InvalidChangeError(shown)


def _added_edges(added: list[Quad]) -> list[tuple[NamedNode, NamedNode]]:
    """``(narrower, broader)`` pairs the change added, whichever of the two properties says it."""
    edges: dict[tuple[NamedNode, NamedNode], None] = {}
    for quad in added:
        if not isinstance(quad.subject, NamedNode) or not isinstance(quad.object, NamedNode):
            continue
        if quad.predicate == SKOS.broader:
            edges[(quad.subject, quad.object)] = None
        elif quad.predicate == SKOS.narrower:
            edges[(quad.object, quad.subject)] = None
    return list(edges)


def _parents(store: Store, node: NamedNode) -> list[NamedNode]:
    found = [q.object for q in store.quads_for_pattern(node, SKOS.broader, None, None)]
    found += [q.subject for q in store.quads_for_pattern(None, SKOS.narrower, node, None)]
    return [n for n in dict.fromkeys(found) if isinstance(n, NamedNode)]


def _path_up(store: Store, start: NamedNode, target: NamedNode) -> list[NamedNode] | None:
    """The chain of broader concepts from ``start`` up to ``target``, if there is one (breadth first)."""
    came_from: dict[NamedNode, NamedNode | None] = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for parent in _parents(store, node):
                if parent in came_from:
                    continue
                came_from[parent] = node
                if parent == target:
                    chain = [parent]
                    step: NamedNode | None = node
                    while step is not None:
                        chain.append(step)
                        step = came_from[step]
                    return list(reversed(chain))
                if len(came_from) > MAX_HIERARCHY_NODES:
                    raise InvalidChangeError(
                        [f"the hierarchy above {_node(start)} has more than {MAX_HIERARCHY_NODES:,} concepts: "
                         "too large to check for a cycle"]  # fmt: skip
                    )
                following.append(parent)
        frontier = following
    return None


def _ours(layout: Layout, term: object) -> bool:
    return isinstance(term, NamedNode) and term.value.startswith(layout.base)


def _described(store: Store, iri: NamedNode) -> bool:
    return next(iter(store.quads_for_pattern(iri, None, None, None)), None) is not None


def _touched(store: Store, added: list[Quad], removed: list[Quad]) -> list[NamedNode | BlankNode]:
    """The subjects the change touched and the nodes it now points at; if it changed a type,
    also the nodes pointing at that resource (their ``sh:class`` reads it), a few of each."""
    nodes: dict[NamedNode | BlankNode, None] = {}
    for quad in (*added, *removed):
        if isinstance(quad.subject, NamedNode | BlankNode):
            nodes[quad.subject] = None
    for quad in added:
        if isinstance(quad.object, NamedNode | BlankNode) and quad.predicate != RDF.type:
            nodes[quad.object] = None
    for quad in (*added, *removed):
        if quad.predicate == RDF.type:
            for count, referrer in enumerate(store.quads_for_pattern(None, None, quad.subject, None)):
                if count >= 20:
                    break
                if isinstance(referrer.subject, NamedNode | BlankNode):
                    nodes[referrer.subject] = None
    return list(nodes)


def _within(quad: Quad, complete: frozenset[str]) -> bool:
    return isinstance(quad.subject, NamedNode | BlankNode) and _name(quad.subject) in complete


def _name(node: NamedNode | BlankNode) -> str:
    return node.value if isinstance(node, NamedNode) else f"c0_{node.value}"


def _key(result: object) -> tuple:
    return (result.focus_node, result.path, result.message, result.value)  # type: ignore[attr-defined]


def _node(term: object) -> str:
    if isinstance(term, NamedNode):
        return f"<{term.value}>"
    return str(term)


def _node_text(name: str) -> str:
    return f"<{name}>" if "://" in name else "a blank node"


def _statement(quad: Quad) -> str:
    return f"{quad.subject} {quad.predicate} {quad.object}"
