"""The editor's one door to the store: every change a form makes goes through ``submit_change``.

The editor's pages (ontology, vocabularies, review queue, history) build a
change as quads to add and remove, never as SPARQL text, and hand it here.
This is the single place that decides what happens to it: who made it (the
signed-in account), that it is validated (``check``), applied through the
store's single writer as one changeset (``graph.updates.apply_changes``), and
that this process's readers see it on their next request. A reviewer's
approval, when the configuration asks for one, belongs here too, so no page
can bypass it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Quad

from graph.updates import ChangeCheck, Edit, apply_changes
from ontology.errors import UsageError
from ontology.layout import Layout
from web.auth import request_principal
from web.state import settings
from web.update import write


def submit_change(
    *,
    add: Iterable[Quad] = (),
    remove: Iterable[Quad] = (),
    reason: str | None = None,
    check: ChangeCheck | None = None,
    about: Iterable[tuple[NamedNode, NamedNode | Literal]] = (),
) -> Edit:
    """Apply one change for the signed-in account as one changeset (see the module docstring)."""
    principal = request_principal()
    if principal is None:  # every editing route requires a permission first
        raise UsageError("sign in to change the graph")
    config = settings()
    return write(
        lambda: apply_changes(
            config.data_dir,
            add=add,
            remove=remove,
            layout=Layout(config.base_iri),
            who=principal.name,
            reason=reason,
            check=check,
            about=about,
        )
    )
