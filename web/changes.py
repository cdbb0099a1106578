"""The editor's one door to the store: every change a form makes goes through ``submit_change``.

The editor's pages (ontology, vocabularies, review queue, history) build a
change as quads to add and remove, never as SPARQL text, and hand it here.
This is the single place that decides what happens to it: who made it (the
signed-in account), that it is validated, applied through the store's
single writer as one changeset (``graph.updates.apply_changes``), and that
this process's readers see it on their next request.

**Validation.** Every change passes ``graph.change_validation.editor_check``
(no cycle in ``skos:broader``, one preferred label per language, no
dangling reference, SHACL on the resources it touched); a page's own
``check`` runs too, and a refusal lists the problems of both
(``InvalidChangeError``, HTTP 422, nothing changed).

**Approval.** With ``review_changes`` on, a change from an account that may
not review (a cataloger) is checked by a dry run and kept as a proposal
(``graph.proposals``) instead: the ``Edit`` returned has no changeset and
names the ``proposal``. A reviewer approves it (``approve``: applied then,
checked again against the store as it is then, recorded as the author's
changeset with ``cg:approvedBy``) or rejects it (``reject``). A page's own
``check`` cannot be stored: it runs at submission; at approval the
editor's checks run again, and a revert's ``exact`` rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Quad

from graph.change_validation import ChangeCheck, all_of, editor_check, exactly
from graph.proposals import REJECTED, Proposals
from graph.updates import Edit, apply_changes
from ontology.errors import UsageError
from ontology.layout import Layout
from ontology.namespaces import CG
from web.accounts import Principal
from web.auth import request_principal
from web.state import settings
from web.update import needs_review, write


def submit_change(
    *,
    add: Iterable[Quad] = (),
    remove: Iterable[Quad] = (),
    reason: str | None = None,
    check: ChangeCheck | None = None,
    about: Iterable[tuple[NamedNode, NamedNode | Literal]] = (),
    exact: bool = False,
) -> Edit:
    """Apply one change for the signed-in account as one changeset, or keep it for review.

    ``exact``: refuse the change unless every statement to add is absent and
    every one to remove is present (a revert).
    """
    principal = _signed_in()
    config = settings()
    layout = Layout(config.base_iri)
    additions, removals, notes = list(add), list(remove), list(about)
    full = all_of(editor_check(layout), exactly(additions, removals) if exact else None, check)

    def apply(dry_run: bool = False) -> Edit:
        return apply_changes(
            config.data_dir, add=additions, remove=removals, layout=layout, who=principal.name,
            reason=reason, check=full, about=notes, dry_run=dry_run,
        )  # fmt: skip

    if not needs_review(principal):
        return write(apply)
    trial = write(lambda: apply(dry_run=True))
    if not trial.added and not trial.removed:
        return trial  # nothing would change: nothing to review
    number = Proposals(config.data_dir).propose(
        author=principal.name, add=additions, remove=removals, reason=reason, about=notes, exact=exact
    )
    return Edit(added=trial.added, removed=trial.removed, proposal=number)


def approve(number: int) -> Edit:
    """Apply proposal ``number`` for its author, checked again now; the reviewer is recorded."""
    reviewer = _signed_in()
    config = settings()
    layout = Layout(config.base_iri)
    with Proposals(config.data_dir).approving(number, reviewer.name) as approval:  # held till recorded
        proposal = approval.proposal
        check = all_of(
            editor_check(layout), exactly(proposal.additions, proposal.removals) if proposal.exact else None
        )
        edit = write(
            lambda: apply_changes(
                config.data_dir, add=proposal.additions, remove=proposal.removals, layout=layout,
                who=proposal.author, reason=proposal.reason, check=check,
                about=[*proposal.about, (CG.approvedBy, Literal(reviewer.name))],
            )
        )  # fmt: skip
        approval.changeset = edit.changeset
    return edit


def reject(number: int, reason: str | None) -> None:
    """Refuse proposal ``number``: it is kept, with who refused it, when and why."""
    reviewer = _signed_in()
    Proposals(settings().data_dir).decide(number, status=REJECTED, by=reviewer.name, reason=reason)


def _signed_in() -> Principal:
    principal = request_principal()
    if principal is None:  # every editing route requires a permission first
        raise UsageError("sign in to change the graph")
    return principal
