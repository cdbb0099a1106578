"""``/editor``: the cataloger's workspace, for accounts whose role may edit.

For now its landing page: who is signed in, what their role lets them do, and
what the editor holds (the ontology, the vocabularies, the review queue, the
history of changesets), each section added by the work that builds it; and,
for admins, the list of accounts (changed with ``catalograph user`` on the
server: no account is made or changed over HTTP). Every
route here names its permission with ``web.auth.requires``, never relying on
the ``/editor`` prefix: ``tests/test_web_permissions.py`` checks routes, not
paths.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from web.accounts import list_users
from web.auth import request_principal, requires
from web.permissions import EDIT, MANAGE_ACCOUNTS, REVIEW
from web.state import settings

blueprint = Blueprint("editor", __name__)


@blueprint.get("/editor")
@requires(EDIT)
def landing() -> Response:
    principal = request_principal()
    assert principal is not None  # ``requires`` let the request in
    body = render_template(
        "editor.html",
        principal=principal,
        may_review=principal.may(REVIEW),
        may_manage_accounts=principal.may(MANAGE_ACCOUNTS),
    )
    return Response(body, content_type="text/html; charset=utf-8")


@blueprint.get("/editor/accounts")
@requires(MANAGE_ACCOUNTS)
def accounts() -> Response:
    """Who has an account, with which role: for an admin, read-only."""
    body = render_template("accounts.html", accounts=list_users(settings().data_dir))
    return Response(body, content_type="text/html; charset=utf-8")
