"""A recorded changeset read back as quads, and its revert: the inverse, as a new changeset.

``graph.updates`` records each edit as a ``cg:Changeset`` graph whose
``cg:addition`` and ``cg:removal`` are ``rdf:Statement`` nodes, each with its
``cg:inGraph`` (none: the default graph). ``recorded`` reads them back as
the quads they were; ``revert`` removes what the changeset added and adds
back what it removed, through ``apply_changes`` like any edit, with
``cg:reverts <original>`` on the new changeset.

**A revert is all or nothing.** If a statement the changeset added has been
removed since, or one it removed has come back, a later change touched the
same facts: undoing only the rest could leave a half state nobody asked
for (a concept without its new broader but with its new label), so the
revert is refused with each such statement named (``exactly``); revert the
later changesets first (newest first), or edit by hand. The check runs
inside the edit, under the writer's lock, so nothing can slip in between.
Reverting a revert re-applies the original, under the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, Store

from graph.change_validation import ChangeCheck, all_of, exactly
from graph.updates import Edit, apply_changes
from ontology.errors import NotFoundError, UsageError
from ontology.layout import Layout
from ontology.namespaces import CG, RDF

#: Most statements a changeset may hold to be reverted from the editor.
MAX_REVERT_STATEMENTS = 50_000


@dataclass(frozen=True, slots=True)
class RecordedChange:
    """What one changeset added and removed, as the quads they were."""

    changeset: NamedNode
    added: tuple[Quad, ...]
    removed: tuple[Quad, ...]

    def inverse(self) -> tuple[list[Quad], list[Quad]]:
        """``(add, remove)`` that undo it."""
        return list(self.removed), list(self.added)


def is_changeset(layout: Layout, iri: str) -> bool:
    """Whether ``iri`` names a changeset graph of this deployment.

    >>> layout = Layout("http://example.org/")
    >>> is_changeset(layout, "http://example.org/graph/changeset/20260101T000000.1Z-ab12")
    True
    >>> is_changeset(layout, "http://example.org/graph/meta")
    False
    """
    return iri.startswith(layout.changesets) and len(iri) > len(layout.changesets) and "#" not in iri


def recorded(store: Store, layout: Layout, iri: str) -> RecordedChange:
    """The statements changeset ``iri`` added and removed (``NotFoundError`` if unknown)."""
    if not is_changeset(layout, iri):
        raise NotFoundError(f"<{iri}> is not a changeset of this catalogue")
    changeset = NamedNode(iri)
    if next(iter(store.quads_for_pattern(changeset, RDF.type, CG.Changeset, changeset)), None) is None:
        raise NotFoundError(f"there is no changeset <{iri}>")
    parts: dict[NamedNode, list[Quad]] = {CG.addition: [], CG.removal: []}
    count = 0
    for link, found in parts.items():
        for statement in store.quads_for_pattern(changeset, link, None, changeset):
            count += 1
            if count > MAX_REVERT_STATEMENTS:
                raise UsageError(f"this changeset holds more than {MAX_REVERT_STATEMENTS:,} statements")
            found.append(_statement(store, statement.object, changeset))
    return RecordedChange(changeset, tuple(parts[CG.addition]), tuple(parts[CG.removal]))


def revert(
    data_dir: Path | str,
    iri: str,
    *,
    read_from: Store,
    layout: Layout,
    who: str,
    reason: str | None = None,
    check: ChangeCheck | None = None,
) -> Edit:
    """Undo changeset ``iri`` as a new changeset (see the module docstring).

    ``read_from`` is a store holding the changeset (a checkpoint will do: a
    changeset never changes once written); the revert itself is checked
    against the live store inside the edit.
    """
    change = recorded(read_from, layout, iri)
    add, remove = change.inverse()
    return apply_changes(
        data_dir,
        add=add,
        remove=remove,
        layout=layout,
        who=who,
        reason=reason or f"revert of {iri}",
        check=all_of(exactly(add, remove), check),
        about=revert_about(iri),
    )


def revert_about(iri: str) -> list[tuple[NamedNode, NamedNode | Literal]]:
    """What a revert's changeset says about itself."""
    return [(CG.reverts, NamedNode(iri))]


def _statement(store: Store, node: object, changeset: NamedNode) -> Quad:
    def one(predicate: NamedNode) -> object | None:
        found = next(iter(store.quads_for_pattern(node, predicate, None, changeset)), None)  # type: ignore[arg-type]
        return None if found is None else found.object

    subject, predicate, obj = one(RDF.subject), one(RDF.predicate), one(RDF.object)
    if subject is None or predicate is None or obj is None:
        raise UsageError(f"the changeset <{changeset.value}> has an incomplete statement ({node})")
    graph = one(CG.inGraph)
    return Quad(subject, predicate, obj, graph if isinstance(graph, NamedNode) else DefaultGraph())  # type: ignore[arg-type]

