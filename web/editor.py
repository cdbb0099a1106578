"""``/editor``: the cataloger's workspace, for accounts whose role may edit.

For now its landing page: who is signed in, what their role lets them do, and
what the editor holds (the ontology, the vocabularies, the review queue, the
history of changesets), each section added by the work that builds it. Every
route here names its permission with ``web.auth.requires``, never relying on
the ``/editor`` prefix: ``tests/test_web_permissions.py`` checks routes, not
paths.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from web.auth import request_principal, requires
from web.permissions import EDIT, REVIEW

blueprint = Blueprint("editor", __name__)


@blueprint.get("/editor")
@requires(EDIT)
def landing() -> Response:
    principal = request_principal()
    assert principal is not None  # ``requires`` let the request in
    body = render_template(
        "editor.html", principal=principal, may_review=principal.may(REVIEW)
    )
    return Response(body, content_type="text/html; charset=utf-8")
