"""SPARQL 1.1 Update at ``/sparql``: by POST only, and only with credentials.

``web.sparql`` sends here a POST whose form has ``update=`` or whose body is
``application/sparql-update``. The sender must be a writer (``web.auth``:
bearer token or cataloger account). The text is checked before it runs
(``query.update_check``: size, nesting, ``SERVICE`` and ``LOAD`` only to
allowed URLs), then goes as it is to the store's single writer
(``graph.updates``), which publishes a checkpoint; this process's readers
switch to it at once. Success is ``204 No Content``.

An update never travels by GET nor inside ``query=`` (``web.sparql`` refuses
those with 403), so a link or a cross-site form cannot trigger one; and it is
authenticated by the ``Authorization`` header, or by a browser's session
together with its CSRF token (``web.auth.require``), never by a cookie alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Response, request

from graph.updates import Edit, apply_update
from ontology.errors import UsageError
from ontology.layout import Layout
from ontology.namespaces import PREFIXES
from query.update_check import check_update
from web.accounts import Principal
from web.auth import SIGN_IN_ERRORS, ForbiddenError, request_principal, require_writer
from web.permissions import EDIT, REVIEW
from web.state import settings, store_holder

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
UPDATE_BODY = "application/sparql-update"
#: SPARQL Protocol parameters for an update's dataset; pyoxigraph cannot take them.
_DATASET_PARAMETERS = ("using-graph-uri", "using-named-graph-uri")

T = TypeVar("T")


def allow_upload() -> None:
    """Raise this request's body limit to ``max_upload_bytes`` if a writer sent it.

    Only before the body is read; anonymous requests keep the small query limit.
    """
    if not request.headers.get("Authorization"):
        return
    try:
        writer = request_principal()
    except SIGN_IN_ERRORS:  # said when an update needs it; a query does not
        return
    if writer is not None and writer.may(EDIT):
        limit = settings().max_upload_bytes
        request.max_content_length = limit
        request.max_form_memory_size = limit


def is_update_request() -> bool:
    """A POST carrying an update (form ``update=`` or an ``application/sparql-update`` body)."""
    if request.method != "POST":
        return False
    if request.mimetype == UPDATE_BODY:
        return True
    if request.mimetype == FORM:
        allow_upload()
        return "update" in request.form
    return False


def needs_review(principal: Principal) -> bool:
    """With ``review_changes`` on, whether ``principal``'s changes wait for a reviewer.

    Accounts that may not review do; a bearer token is not an account (the
    server's administrator configured it, for programs) and does not.
    """
    return settings().review_changes and principal.via != "token" and not principal.may(REVIEW)


def refuse_unreviewed(principal: Principal) -> None:
    """SPARQL Update and Graph Store writes cannot wait for review: refused when they would need it."""
    if needs_review(principal):
        raise ForbiddenError(
            f"{principal.name} ({principal.role}): changes here wait for a reviewer's approval; "
            "make them in the editor (/editor), which keeps them as proposals"
        )


def write(action: Callable[[], T]) -> T:
    """Run a store write from a request; this process's readers see it on their next request."""
    try:
        return action()
    finally:
        store_holder().refresh()


def edited_response(edit: Edit, status: int = 204) -> Response:
    """No body; headers say which record graphs are now edited and which changeset records it."""
    response = Response(status=status)
    response.headers.pop("Content-Type", None)  # no body
    response.headers["X-Catalograph-Edited-Graphs"] = str(len(edit.edited))
    if edit.changeset:
        response.headers["X-Catalograph-Changeset"] = edit.changeset
    return response


def answer_update() -> Response:
    principal = require_writer()
    refuse_unreviewed(principal)
    allow_upload()
    text = _update_text()
    for name in _DATASET_PARAMETERS:
        if request.args.getlist(name) or request.form.getlist(name):
            raise UsageError(f"{name} is not supported; name the graphs with USING in the update")
    config = settings()
    plan = check_update(
        text,
        max_bytes=config.max_upload_bytes,
        load_allow=config.load_allow,
        service_allow=config.service_allow,
        prefixes=PREFIXES,
    )
    edit = write(
        lambda: apply_update(
            config.data_dir,
            text,
            iris=plan.iris,
            all_graphs=plan.all_graphs,
            layout=Layout(config.base_iri),
            who=principal.name,
            prefixes=PREFIXES,
        )
    )
    log.info(
        "update by %s: %d characters, %d record graph(s) marked as edited",
        principal.name,
        len(text),
        len(edit.edited),
    )
    return edited_response(edit)


def _update_text() -> str:
    if request.mimetype == UPDATE_BODY:
        raw = request.get_data(cache=False)
        try:
            return raw.decode(request.mimetype_params.get("charset", "utf-8"))
        except (LookupError, UnicodeDecodeError) as exc:
            raise UsageError(f"the update body is not valid text: {exc}") from None
    values = request.form.getlist("update")
    if len(values) != 1:
        raise UsageError(f"give the 'update' parameter once, not {len(values)} times")
    if "query" in request.form:
        raise UsageError("a request carries either 'query' or 'update', not both")
    return values[0]
