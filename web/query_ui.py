"""What the browser query UI at ``/sparql`` needs: its example queries, settings and headers.

The page (``templates/sparql.html``) is YASGUI, served from ``static/vendor/``
(no CDN: it works offline), driven by ``static/sparql-ui.js``. Everything the
script needs from the server (the endpoint, the prefixes, the examples) is
rendered into the page as one JSON block, because the Content-Security-Policy
forbids inline script.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib.resources import files

from flask import url_for
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf

from ontology.namespaces import PREFIXES
from web.auth import session_principal
from web.permissions import EDIT

#: Most triples the graph view draws from a CONSTRUCT answer (a bigger graph is unreadable).
GRAPH_VIEW_MAX_TRIPLES = 500

#: Two libraries add one fixed ``<style>`` element each: YASR's column resizer
#: (in yasgui.min.js) and cytoscape (``.__________cytoscape_container``). The
#: query UI's policy is the site-wide one (``web.app.SECURITY_HEADERS``) plus
#: the hashes of exactly those two style sheets; no ``'unsafe-inline'``, no
#: ``'unsafe-eval'``, scripts from this server only, and ``connect-src 'self'``,
#: so the page cannot send a request anywhere else. ``tests/test_web_query_ui.py``
#: recomputes the hashes from the vendored files and fails when an update changes them.
INLINE_STYLE_HASHES = (
    "sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=",  # yasgui.min.js: column resizer
    "sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8=",  # cytoscape.min.js: container
)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    f"style-src 'self' {' '.join(repr(h) for h in INLINE_STYLE_HASHES)}; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


@dataclass(frozen=True)
class Example:
    """One example query: ``query/examples/NN-name.rq``, whose leading comments give its title and description."""

    id: str
    title: str
    description: str
    query: str


def parse_example(name: str, text: str) -> Example:
    """The first comment line is the title, the following comment lines the description."""
    comments = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        comments.append(line[1:].strip())
    title = comments[0] if comments else name
    return Example(id=name, title=title, description=" ".join(comments[1:]), query=text)


@lru_cache(maxsize=1)
def load_examples() -> tuple[Example, ...]:
    """The example queries shipped in ``query/examples/``, in file-name order."""
    folder = files("query").joinpath("examples")
    found = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".rq")), key=lambda e: e.name
    )
    return tuple(parse_example(e.name.removesuffix(".rq"), e.read_text("utf-8")) for e in found)


def page_config(default_query: str) -> dict[str, object]:
    """The JSON the page's script reads: endpoint, prefixes, examples, limits.

    For a browser signed in with a role that may edit, also the session's CSRF
    token, which the script sends as ``X-CSRFToken`` with every request: the
    session's cookie alone never makes an update (``web.auth.require``).
    """
    editor = session_principal()
    return {
        "endpoint": url_for("sparql.endpoint"),
        "prefixes": PREFIXES,
        "defaultQuery": default_query,
        "examples": [asdict(example) for example in load_examples()],
        "graphViewMaxTriples": GRAPH_VIEW_MAX_TRIPLES,
        "messages": script_messages(),
        "csrfToken": generate_csrf() if editor is not None and editor.may(EDIT) else None,
    }


def script_messages() -> dict[str, str]:
    """What ``sparql-ui.js`` may say, in the reader's language (the script has no catalogue).

    ``{shown}`` and ``{total}`` are filled in by the script.
    """
    return {
        "editorMissing": gettext(
            "The query editor (YASGUI) did not load: /static/vendor/yasgui.min.js is missing. "
            "The plain form below still works."
        ),
        "downloadGraph": gettext("Download the graph (N-Triples)"),
        "graphCut": gettext(
            "Showing the first {shown} of {total} triples (download for all of them)."
        ),
        "graphAll": gettext("{total} triples. Click a node to see its IRI."),
        "graphMissing": gettext(
            "The graph view needs /static/vendor/cytoscape.min.js, which did not load."
        ),
    }
