"""``/api/reconcile``: OpenRefine's Reconciliation Service API 0.2 (docs/web.md, "Reconciliation").

OpenRefine adds ``http://HOST/api/reconcile`` as a service, reads its
manifest, then sends batches of queries (``queries=``, GET or POST form),
asks for entity, type and property suggestions, shows previews in an iframe
and fetches columns by data extension (``extend=``). Whatever reads the
store (scoring candidates, extension, entity suggestions, previews) runs as a
``query.reconcile.ReconcileJob`` in a query worker under the page limits
(``web.page_limits``): a client's share, a slot, one deadline, a worker
killed at it. The manifest and the type and property suggestions are
constants and answer at once. Errors are RFC 9457 problems, as everywhere
under ``/api/``.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from ontology.errors import NotFoundError, UsageError
from query.reconcile import (
    MAX_LIMIT,
    MAX_REQUEST_BYTES,
    ReconcileJob,
    Reconciler,
    manifest,
)
from web.auth import open_to_all
from web.page_limits import answer_job
from web.state import settings

blueprint = Blueprint("reconcile", __name__, url_prefix="/api/reconcile")

#: The preview is shown in OpenRefine's iframe, so any page may frame it (only it).
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors *"
)


@blueprint.route("", methods=["GET", "POST"])
@open_to_all("reads only: OpenRefine sends query batches by POST (Reconciliation API)")
def service() -> Response:
    """The manifest, or a query batch's results (``queries``), or an extension (``extend``)."""
    values = request.values
    for name in ("queries", "extend"):
        if len(values.getlist(name)) > 1:
            raise UsageError(f"give {name} once")
    if "queries" in values:
        return _json(_run("reconcile", _bounded(values["queries"], "queries")))
    if "extend" in values:
        return _json(_run("extend", _bounded(values["extend"], "extend")))
    service_url = request.url_root.rstrip("/") + blueprint.url_prefix
    return _json(manifest(service_url, settings().base_iri))


@blueprint.get("/suggest/entity")
def suggest_entity() -> Response:
    prefix = _bounded(request.args.get("prefix", ""), "prefix")
    return _json(_run("suggest", prefix, request.args.get("type", "")))


@blueprint.get("/suggest/type")
def suggest_type() -> Response:
    return _json(Reconciler.suggest_types(_bounded(request.args.get("prefix", ""), "prefix")))


@blueprint.get("/suggest/property")
def suggest_property() -> Response:
    return _json(Reconciler.suggest_properties(_bounded(request.args.get("prefix", ""), "prefix")))


@blueprint.get("/propose_properties")
def propose_properties() -> Response:
    type_id = request.args.get("type", "")
    if not type_id:
        raise UsageError("give the type whose properties to propose as type")
    limit = request.args.get("limit", str(MAX_LIMIT))
    if not (limit.isascii() and limit.isdigit() and len(limit) <= 4):
        raise UsageError("limit is a whole number")
    return _json(Reconciler.propose_properties(type_id, int(limit)))


@blueprint.get("/preview")
def preview() -> Response:
    iri = _bounded(request.args.get("id", ""), "id")
    if not iri:
        raise UsageError("give the IRI of the entity to preview as id")
    found = _run("preview", iri)
    if found is None:
        raise NotFoundError(f"nothing is known of {iri[:200]}")
    candidate, facts = found
    response = Response(render_template("reconcile_preview.html", candidate=candidate, facts=facts))
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return response


def _run(operation: str, payload: str, type_id: str = ""):
    base = settings().base_iri
    return answer_job(
        lambda store_path: ReconcileJob(store_path, base, operation, payload, type_id),
        what="this reconciliation request",
    )


def _bounded(value: str, name: str) -> str:
    if len(value) > MAX_REQUEST_BYTES:
        raise UsageError(f"{name} is longer than {MAX_REQUEST_BYTES} characters; send less at once")
    return value


def _json(body: object) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-cache"
    return response
