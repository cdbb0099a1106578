"""System pages: the home page and the ``/-/`` pages about the service itself.

``/`` shows what the graph holds, and its JSON twin (``/?_format=json``,
``web.json_twin``) and ``/-/stats`` the same figures as JSON (all from
``web.state.figures``, so they agree with ``catalograph stats``
and VoID); ``/-/health`` says whether the store can be read (for load
balancers and monitors); ``/-/version`` which versions answer.
"""

from __future__ import annotations

import importlib.metadata
import platform
import tomllib
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, render_template
from flask_babel import lazy_gettext

from ontology.errors import CatalographError
from query.negotiation import HTML, content_type
from web.browse import GROUP_KINDS
from web.json_twin import json_link, json_response, wants_json
from web.state import app_state, figures, settings

_ROOT = Path(__file__).resolve().parent.parent

blueprint = Blueprint("system", __name__)

#: The home page's rows: each kind of knowledge unit (``graph.stats.group_name``) by its name.
GROUP_LABELS = {
    "works": lazy_gettext("Works"),
    "instances": lazy_gettext("Instances"),
    "agents": lazy_gettext("Agents"),
    "concepts": lazy_gettext("Concepts"),
    "places": lazy_gettext("Places"),
    "events": lazy_gettext("Events"),
    "identifiers": lazy_gettext("Identifiers"),
}


@blueprint.get("/")
def home() -> Response:
    groups, base = figures().groups, settings().base_iri
    if wants_json():
        return json_response({"groups": groups, "base": base})
    body = render_template(
        "home.html", groups=groups, group_labels=GROUP_LABELS, base=base, browsable=GROUP_KINDS
    )
    response = Response(body, content_type=content_type(HTML))
    response.headers["Link"] = json_link()
    return response


@blueprint.get("/-/stats")
def stats() -> Response:
    """The home page's machine twin: every figure ``catalograph stats --json`` prints."""
    return jsonify(figures().summary())


@blueprint.get("/-/health")
def health() -> tuple[Response, int]:
    holder = app_state().store
    try:
        holder.get()
    except (CatalographError, OSError) as exc:
        message = exc.format_message() if isinstance(exc, CatalographError) else str(exc)
        return jsonify(status="unavailable", store={"open": False, "error": message}), 503
    return jsonify(status="ok", store={"open": True, "opened_as": holder.source}), 200


@blueprint.get("/-/version")
def version() -> Response:
    return jsonify(
        catalograph=catalograph_version(),
        pyoxigraph=importlib.metadata.version("pyoxigraph"),
        flask=importlib.metadata.version("flask"),
        waitress=importlib.metadata.version("waitress"),
        python=platform.python_version(),
    )


def catalograph_version() -> str:
    """The installed package's version, else the one pyproject.toml declares (a checkout)."""
    try:
        return importlib.metadata.version("catalograph")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        with (_ROOT / "pyproject.toml").open("rb") as handle:
            project: dict[str, Any] = tomllib.load(handle).get("project", {})
        return str(project.get("version", "unknown"))
    except (OSError, tomllib.TOMLDecodeError):
        return "unknown"
