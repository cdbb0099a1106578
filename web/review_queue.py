"""``/editor/review``: the review queue, where a reviewer settles the match candidates.

The queue lists the candidates linking left (``query.review``): both sides
with their labels, kinds and links to their pages, the score, the rule and
its reasons in words; filtered by status, rule and kind, strongest first,
paged, with counts. Anyone who may edit sees it (a cataloger can point a
reviewer at a pair); only a reviewer may decide: **accept** (the two become
one by ``owl:sameAs``, reversibly), **reject** (remembered: never proposed
again) or **undo** a decision. Each decision is built as quads by
``graph.review`` and goes through ``web.changes.submit_change``: one
changeset with who, when and why, refused if the candidate was settled by
someone else meanwhile (``graph.review.decision_check``).

The forms are Flask-WTF forms; ``web.auth.requires`` checks the session's
CSRF token before the view runs (a request signed with a token or a password
needs none), and the form's own fields are then validated.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from graph import store_path
from graph.review import ACCEPT, REJECT, UNDO, candidate_state, decide, decision_check
from ontology.errors import UsageError
from ontology.layout import Layout
from query.review import STATUSES, empty_page, queue_page
from web.auth import request_principal, requires
from web.changes import submit_change
from web.i18n import reader_languages
from web.json_twin import json_response, wants_json
from web.permissions import EDIT, REVIEW
from web.state import settings, store

blueprint = Blueprint("review_queue", __name__)

#: Longest reason a reviewer may give (it goes into the changeset).
MAX_REASON = 500
#: Longest filter value read from a URL (rules and kinds are short words).
_MAX_FILTER = 40

#: What each status is called on the page.
STATUS_NAMES = {
    "pending": lazy_gettext("pending"),
    "accepted": lazy_gettext("accepted"),
    "rejected": lazy_gettext("rejected"),
}
#: What each rule compares, in words.
RULE_NAMES = {
    "agent-punctuation": lazy_gettext("agents: same heading but for punctuation or case"),
    "agent-dates": lazy_gettext("agents: same name, dates missing on one side or (nearly) agreeing"),
    "agent-authority": lazy_gettext("agents: with and without an authority link"),
    "agent-authorities": lazy_gettext("agents: the same heading in two authority files"),
    "work-title": lazy_gettext("works: close titles from different sources"),
}
KIND_NAMES = {"agent": lazy_gettext("agent"), "work": lazy_gettext("work")}


class DecisionForm(FlaskForm):
    """One decision on one candidate; the CSRF token is checked by ``requires`` first."""

    class Meta:
        csrf = False  # ``web.auth.requires`` checked the session's token (a header-signed call has none)

    candidate = HiddenField(validators=[InputRequired(), Length(max=2000)])
    reason = StringField(lazy_gettext("Why (optional)"), validators=[Length(max=MAX_REASON)])
    back = HiddenField(validators=[Length(max=2000)])


def _filter(name: str) -> str | None:
    value = request.args.get(name, "")[:_MAX_FILTER]
    return value or None


@blueprint.get("/editor/review")
@requires(EDIT)
def queue() -> Response:
    """The queue: ``?status=pending|accepted|rejected&rule=…&kind=…&page=N``."""
    status = request.args.get("status", "pending")
    if status not in STATUSES:
        raise UsageError(f"status is one of {', '.join(STATUSES)}")
    page_text = request.args.get("page", "1")
    if not page_text.isdigit() or len(page_text) > 6 or int(page_text) < 1:
        raise UsageError("page is a whole number from 1")
    layout = Layout(settings().base_iri)
    if (store_path(settings().data_dir) / "CURRENT").exists():
        shown = queue_page(
            store(), layout, status=status, rule=_filter("rule"), kind=_filter("kind"),
            page=int(page_text), languages=reader_languages(),
        )  # fmt: skip
    else:  # a new data directory, nothing ingested yet: an empty queue, not an error
        shown = empty_page(status, _filter("rule"), _filter("kind"))
    principal = request_principal()
    assert principal is not None  # ``requires`` let the request in
    if wants_json():
        return json_response(shown)
    body = render_template(
        "review_queue.html",
        shown=shown,
        may_review=principal.may(REVIEW),
        status_names=STATUS_NAMES,
        rule_names=RULE_NAMES,
        kind_names=KIND_NAMES,
        href=lambda iri: _page_href(iri, layout),
        queue_href=_queue_href,
        form=DecisionForm(back=request.full_path.rstrip("?")),
        done=request.args.get("done", "")[:20],
    )
    return Response(body, content_type="text/html; charset=utf-8")


def _decide(decision: str) -> Response:
    form = DecisionForm()
    if not form.validate():
        raise UsageError("give the candidate to decide on (and a reason of at most 500 characters)")
    layout = Layout(settings().base_iri)
    state = candidate_state(store(), layout, form.candidate.data or "")
    change = decide(state, layout, decision)
    edit = submit_change(
        add=change.add,
        remove=change.remove,
        reason=change.reason((form.reason.data or "").strip()),
        check=decision_check(change, layout),
    )
    if wants_json() or request.accept_mimetypes.best == "application/json":
        return json_response(
            {"candidate": state.iri.value, "decision": decision, "status": change.outcome.value,
             "changeset": edit.changeset, "added": edit.added, "removed": edit.removed}  # fmt: skip
        )
    return redirect(_back(form.back.data, decision), code=303)


@blueprint.post("/editor/review/accept")
@requires(REVIEW)
def accept() -> Response:
    """The two sides become one (``owl:sameAs`` both ways) and the candidate is accepted."""
    return _decide(ACCEPT)


@blueprint.post("/editor/review/reject")
@requires(REVIEW)
def reject() -> Response:
    """The candidate is rejected, and never proposed again."""
    return _decide(REJECT)


@blueprint.post("/editor/review/undo")
@requires(REVIEW)
def undo() -> Response:
    """The decision on the candidate is undone (as a new changeset): it is pending again."""
    return _decide(UNDO)


def _back(target: str | None, decision: str) -> str:
    """Back to the queue page the form was on (its filters and page kept), saying what was done;
    anything but the queue's own path goes to the queue."""
    parts = urlsplit(target or "")
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k in ("status", "rule", "kind", "page")]
    return f"{url_for('review_queue.queue')}?{urlencode([*kept, ('done', decision)])}"


def _queue_href(**changes: object) -> str:
    """The queue's address with the current filters, some changed (``None`` drops one)."""
    wanted = {k: request.args.get(k) for k in ("status", "rule", "kind") if request.args.get(k)}
    for key, value in changes.items():
        if value is None:
            wanted.pop(key, None)
        else:
            wanted[key] = str(value)
    query = urlencode(wanted)
    return url_for("review_queue.queue") + (f"?{query}" if query else "")


def _page_href(iri: str, layout: Layout) -> str:
    """The page of a resource: its path under the base, or ``/about?iri=`` for an outside IRI."""
    if iri.startswith(layout.base):
        return request.script_root + "/" + iri[len(layout.base) :]
    return url_for("resources.about", iri=iri)
