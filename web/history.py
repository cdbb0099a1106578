"""``/editor/history`` and ``/editor/proposals``: every change, who made it, and undoing it.

The history lists changesets newest first (``query.changesets``), filtered
by account and by resource; a changeset's page shows who, when, why, and
its statements added and removed grouped by resource, with labels. Its
Revert button (POST, the session's CSRF token, permission ``edit``) sends
the inverse through ``web.changes.submit_change`` with ``exact``: a revert
of statements changed again since is refused, and the page says which
later changesets changed them. With ``review_changes`` on, a cataloger's
revert is a proposal like any other change; reviewers see the proposals at
``/editor/proposals`` and approve or reject each (permission ``review``).

Pages read the checkpoint the server serves; ``web.changes`` publishes a
new one with each change, so a page after a change shows it.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext
from pyoxigraph import NamedNode

from graph import store_path
from graph.change_validation import InvalidChangeError
from graph.changesets import is_changeset, recorded, revert_about
from graph.proposals import PENDING, Proposals
from ontology.errors import NotFoundError, UsageError
from ontology.layout import Layout
from query.changesets import MAX_DIFF, ChangesetHistory
from web.auth import request_principal, requires
from web.changes import approve, reject, submit_change
from web.i18n import reader_languages, term_label
from web.json_twin import json_response, wants_json
from web.permissions import EDIT, REVIEW
from web.state import settings, store
from web.update import needs_review

blueprint = Blueprint("history", __name__)

PAGE_SIZE = 50
#: Longest reason a form may give, in characters.
MAX_REASON = 1000
_KEY = re.compile(r"[0-9A-Za-z.:_-]{1,100}")
_NUMBER = re.compile(r"[1-9][0-9]{0,11}")
_OFFSET = re.compile(r"0|[1-9][0-9]{0,8}")
#: Longest resource IRI a filter takes.
MAX_IRI = 2000


def _layout() -> Layout:
    return Layout(settings().base_iri)


def _history() -> ChangesetHistory | None:
    """The history of the store served; ``None`` before there is any store."""
    if not (store_path(settings().data_dir) / "CURRENT").exists():
        return None
    return ChangesetHistory(store(), _layout())


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _render(template: str, **context: object) -> str:
    return render_template(template, iri_href=_iri_href, term_label=term_label, **context)


def _iri_href(iri: str) -> str:
    """Where a page links an IRI: this site's page for one under the base, else the IRI."""
    base = settings().base_iri
    if iri.startswith(base):
        return request.script_root + "/" + iri[len(base):]
    return iri if iri.startswith(("http://", "https://")) else "#"


@blueprint.get("/editor/history")
@requires(EDIT)
def history() -> Response:
    who = request.args.get("who", "").strip()[:64] or None
    resource = request.args.get("resource", "").strip() or None
    offset_text = request.args.get("offset", "0")
    if not _OFFSET.fullmatch(offset_text):
        raise UsageError("offset must be a whole number from 0")
    if resource is not None:
        if len(resource) > MAX_IRI:
            raise UsageError(f"a resource IRI has at most {MAX_IRI} characters")
        try:
            NamedNode(resource)
        except ValueError:
            raise UsageError(f"not an IRI: {resource!r}") from None
    found = _history()
    page = found.page(who=who, resource=resource, offset=int(offset_text), limit=PAGE_SIZE) if found else None
    if wants_json():
        return json_response({"who": who, "resource": resource, "page": page})
    label = found.labels([NamedNode(resource)], reader_languages()).get(resource) if found and resource else None
    body = _render("history.html", page=page, who=who, resource=resource, resource_label=label)
    return _html(body)


def _changeset_iri(key: str) -> str:
    iri = _layout().changesets + key
    if not _KEY.fullmatch(key) or not is_changeset(_layout(), iri):
        raise NotFoundError(f"there is no changeset {key!r}")
    return iri


def _changeset_page(key: str, problems: list[str] | None = None, later: list | None = None,
                    status: int = 200) -> Response:  # fmt: skip
    iri = _changeset_iri(key)
    found = _history()
    diff = found.diff(iri, reader_languages()) if found else None
    if diff is None:
        raise NotFoundError(f"there is no changeset <{iri}>")
    if wants_json():
        return json_response({"changeset": diff})
    body = _render(
        "changeset.html", diff=diff, max_diff=MAX_DIFF, problems=problems or [], later=later or [],
        reviewed=needs_review(request_principal()),  # type: ignore[arg-type]
    )  # fmt: skip
    return _html(body, status)


@blueprint.get("/editor/history/<key>")
@requires(EDIT)
def changeset(key: str) -> Response:
    return _changeset_page(key)


@blueprint.post("/editor/history/<key>/revert")
@requires(EDIT)
def revert(key: str) -> Response:
    iri = _changeset_iri(key)
    found = _history()
    if found is None:
        raise NotFoundError(f"there is no changeset <{iri}>")
    change = recorded(found.store, found.layout, iri)
    add, remove = change.inverse()
    reason = _reason() or gettext("Revert of %(changeset)s", changeset=key)
    try:
        edit = submit_change(add=add, remove=remove, reason=reason, about=revert_about(iri), exact=True)
    except InvalidChangeError as refused:
        summary = found.summary(iri)
        later = _later_changes(found, [*change.added, *change.removed], summary.when if summary else "")
        return _changeset_page(key, refused.problems, later, refused.http_status)
    if edit.proposal is not None:
        return redirect(url_for("history.proposals", proposed=edit.proposal), code=303)
    if edit.changeset is None:
        return _changeset_page(key, [gettext("Nothing to revert: the store already holds what this changeset undid.")], status=409)
    return redirect(url_for("history.changeset", key=edit.changeset[len(found.layout.changesets):]), code=303)


def _later_changes(found: ChangesetHistory, quads: list, after: str) -> list[tuple[str, str, str, str]]:
    """``(key, iri, when, who)`` of the changesets after ``after`` that touched these statements."""
    seen: dict[str, tuple[str, str, str, str]] = {}
    for quad in quads[:200]:
        for iri, when, who in found.later_changes(quad, after):
            seen.setdefault(iri, (iri[len(found.layout.changesets):], iri, when, who))
    return sorted(seen.values(), key=lambda row: row[2])


def _reason() -> str | None:
    text = request.form.get("reason", "").strip()
    if len(text) > MAX_REASON:
        raise UsageError(f"a reason has at most {MAX_REASON} characters")
    return text or None


# ------------------------------------------------------------ proposals


@blueprint.get("/editor/proposals")
@requires(REVIEW)
def proposals() -> Response:
    return _proposals_page()


def _proposals_page(problems: list[str] | None = None, status_code: int = 200) -> Response:
    status = request.args.get("status", PENDING)
    if status not in (PENDING, "approved", "rejected", "all"):
        raise UsageError("status is one of pending, approved, rejected, all")
    listed = Proposals(settings().data_dir).listed(None if status == "all" else status, limit=PAGE_SIZE)
    found = _history()
    shown = [
        (p, found.grouped(p.additions, p.removals, reader_languages())[0] if found else [])
        for p in listed
    ]
    if wants_json():
        return json_response({"status": status, "proposals": [p for p, _ in shown]})
    proposed = request.args.get("proposed", "")
    body = _render(
        "proposals.html", shown=shown, status=status, problems=problems or [],
        proposed=proposed if _NUMBER.fullmatch(proposed) else None,
    )  # fmt: skip
    return _html(body, status_code)


def _proposal_number(number: str) -> int:
    if not _NUMBER.fullmatch(number):
        raise NotFoundError(f"there is no proposal {number!r}")
    return int(number)


@blueprint.post("/editor/proposals/<number>/approve")
@requires(REVIEW)
def approve_proposal(number: str) -> Response:
    try:
        edit = approve(_proposal_number(number))
    except InvalidChangeError as refused:  # checked again now: the store may have changed since
        return _proposals_page(refused.problems, refused.http_status)
    if edit.changeset is None:
        return redirect(url_for("history.proposals", status="approved"), code=303)
    return redirect(url_for("history.changeset", key=edit.changeset[len(_layout().changesets):]), code=303)


@blueprint.post("/editor/proposals/<number>/reject")
@requires(REVIEW)
def reject_proposal(number: str) -> Response:
    reject(_proposal_number(number), _reason())
    return redirect(url_for("history.proposals"), code=303)
