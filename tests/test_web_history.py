"""The history pages, revert, validation through ``submit_change``, and reviewers' approval.

Flask's test client over a real data directory (the traject records ingested
by the real pipeline), real argon2 accounts signed in through the real login
form, real CSRF tokens. Changes are made by the session's SPARQL Update and
by a small page registered here that calls the real ``submit_change``, the
one door the editor's pages use.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Blueprint, Flask, jsonify, request
from flask.testing import FlaskClient
from pyoxigraph import Literal, NamedNode, Quad
from test_web_auth import INSTANCE, insert
from test_web_permissions import PASSWORD, sign_in
from web_fixtures import build_data_dir

from graph.proposals import Proposals
from ontology.namespaces import SKOS
from web.accounts import add_user
from web.app import close_app, create_app
from web.auth import requires
from web.changes import submit_change
from web.config import load_settings
from web.permissions import EDIT

CHANGESET = re.compile(r'/editor/history/([0-9A-Za-z.:_-]+)"')


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-history"))
    add_user(data_dir, "carl", PASSWORD, "cataloger")
    add_user(data_dir, "rita", PASSWORD, "reviewer")
    return data_dir


def make_app(data_dir: Path, **settings: object) -> Flask:
    app = create_app(load_settings(env={}, data_dir=data_dir, **settings))
    app.config["TESTING"] = True
    test_pages = Blueprint("test_pages", __name__)

    @test_pages.post("/test/change")
    @requires(EDIT)
    def change() -> object:
        """A stand-in for an editor page: quads in (as N-Quads-ish fields), one change out."""
        subject = NamedNode(request.form["s"])
        quad = Quad(subject, NamedNode(request.form["p"]), _term(request.form["o"]), subject)
        edit = submit_change(add=[quad], reason="a test page")
        return jsonify(changeset=edit.changeset, proposal=edit.proposal, added=edit.added)

    app.register_blueprint(test_pages)
    return app


def _term(text: str) -> NamedNode | Literal:
    if text.startswith("http"):
        return NamedNode(text)
    value, _, language = text.partition("@")
    return Literal(value, language=language or None)


@pytest.fixture(scope="module")
def agent(data_dir: Path) -> str:
    """An agent of the ingested records: a second resource to filter on."""
    app = make_app(data_dir)
    answer = app.test_client().get(
        "/sparql",
        query_string={"query": "SELECT ?a WHERE { ?a a bf:Agent ; rdfs:label ?l } ORDER BY ?a LIMIT 1"},
        headers={"Accept": "application/sparql-results+json"},
    )
    close_app(app)
    return answer.get_json()["results"]["bindings"][0]["a"]["value"]


@pytest.fixture()
def app(data_dir: Path):
    app = make_app(data_dir)
    yield app
    close_app(app)


def update(client: FlaskClient, token: str, text: str) -> str:
    answer = client.post("/sparql", data={"update": text}, headers={"X-CSRFToken": token})
    assert answer.status_code == 204, answer.get_data(as_text=True)
    return answer.headers["X-Catalograph-Changeset"].rsplit("/", 1)[1]


def ask(client: FlaskClient, query: str) -> bool:
    answer = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    return answer.get_json()["boolean"]


def noted(client: FlaskClient, note: str) -> bool:
    return ask(client, f'ASK {{ <{INSTANCE}> rdfs:comment "{note}" }}')


def page(client: FlaskClient, path: str, **args: str) -> str:
    answer = client.get(path, query_string=args, headers={"Accept": "text/html"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def test_history_lists_filters_shows_and_reverts(app: Flask, agent: str) -> None:
    carl = app.test_client()
    token = sign_in(carl, "carl")
    rita = app.test_client()
    rita_token = sign_in(rita, "rita")
    first = update(carl, token, insert("history note"))
    other = update(rita, rita_token, f'INSERT DATA {{ GRAPH <{agent}> {{ <{agent}> <{SKOS.note.value}> "by rita" }} }}')

    listed = page(carl, "/editor/history")
    assert listed.index(other) < listed.index(first)  # newest first
    by_carl = page(carl, "/editor/history", who="carl")
    assert first in by_carl and other not in by_carl
    about = page(carl, "/editor/history", resource=INSTANCE)
    assert first in about and other not in about
    assert other in page(carl, "/editor/history", resource=agent)
    assert first not in page(carl, "/editor/history", who="nobody")
    twin = carl.get("/editor/history", query_string={"who": "carl", "_format": "json"}).get_json()
    assert {item["key"] for item in twin["page"]["items"]} >= {first}
    assert {item["who"] for item in twin["page"]["items"]} == {"carl"}
    assert carl.get("/editor/history", query_string={"resource": "not an iri"}).status_code == 400

    shown = page(carl, f"/editor/history/{first}")
    assert "history note" in shown and "carl" in shown
    assert "Rereading George Eliot" in shown  # the instance named by its title, not only its IRI
    assert carl.get("/editor/history/no-such-changeset").status_code == 404

    # Revert: without the CSRF token refused; with it, a new changeset that undoes the note
    assert carl.post(f"/editor/history/{first}/revert").status_code == 403
    assert noted(carl, "history note")
    answer = carl.post(f"/editor/history/{first}/revert", data={"csrf_token": token, "reason": "a mistake"})
    assert answer.status_code == 303
    undo = answer.headers["Location"].rsplit("/", 1)[1]
    assert not noted(carl, "history note")
    undone = page(carl, f"/editor/history/{undo}")
    assert "a mistake" in undone and first in undone  # it says what it reverts
    assert undo in page(carl, f"/editor/history/{first}")  # and the original says who reverted it

    # Reverting the original again is refused, naming the later change
    again = carl.post(f"/editor/history/{first}/revert", data={"csrf_token": token})
    assert again.status_code == 422
    text = again.get_data(as_text=True)
    assert "no longer there" in text and undo in text
    # The revert of the revert brings it back
    answer = carl.post(f"/editor/history/{undo}/revert", data={"csrf_token": token})
    assert answer.status_code == 303 and noted(carl, "history note")


def test_submit_change_validates(app: Flask, agent: str) -> None:
    carl = app.test_client()
    token = sign_in(carl, "carl")

    def change(p: str, o: str) -> tuple[int, str]:
        answer = carl.post("/test/change", data={"s": agent, "p": p, "o": o}, headers={"X-CSRFToken": token})
        return answer.status_code, answer.get_data(as_text=True)

    assert change(SKOS.prefLabel.value, "First name@en")[0] == 200
    status, body = change(SKOS.prefLabel.value, "Second name@en")
    assert status == 422 and "preferred labels in language 'en'" in body
    status, body = change(SKOS.related.value, "http://127.0.0.1:5000/agent/nobody-at-all")
    assert status == 422 and "described nowhere" in body
    status, body = change(SKOS.altLabel.value, " spaced ")
    assert status == 422 and "leading or trailing spaces" in body


def test_with_review_changes_a_catalogers_change_waits_for_a_reviewer(data_dir: Path) -> None:
    app = make_app(data_dir, review_changes=True)
    try:
        carl = app.test_client()
        token = sign_in(carl, "carl")
        rita = app.test_client()
        rita_token = sign_in(rita, "rita")
        # SPARQL Update cannot wait for a reviewer: refused for the cataloger, open to the reviewer
        refused = carl.post("/sparql", data={"update": insert("by carl")}, headers={"X-CSRFToken": token})
        assert refused.status_code == 403 and "reviewer" in refused.get_data(as_text=True)
        key = update(rita, rita_token, insert("to be reviewed"))

        # carl's revert is kept as a proposal; nothing changes yet
        answer = carl.post(f"/editor/history/{key}/revert", data={"csrf_token": token, "reason": "wrong"})
        assert answer.status_code == 303 and "proposed=" in answer.headers["Location"]
        number = int(answer.headers["Location"].rsplit("=", 1)[1])
        assert noted(carl, "to be reviewed")
        assert carl.get("/editor/proposals").status_code == 403
        listed = page(rita, "/editor/proposals")
        assert f"proposal-{number}" in listed and "to be reviewed" in listed

        # rita approves: applied as carl's changeset, approved by rita
        assert rita.post(f"/editor/proposals/{number}/approve").status_code == 403  # no CSRF token
        answer = rita.post(f"/editor/proposals/{number}/approve", data={"csrf_token": rita_token})
        assert answer.status_code == 303
        assert not noted(carl, "to be reviewed")
        applied = answer.headers["Location"].rsplit("/", 1)[1]
        summary = rita.get(f"/editor/history/{applied}", query_string={"_format": "json"}).get_json()
        assert summary["changeset"]["summary"]["who"] == "carl"
        assert summary["changeset"]["summary"]["approved_by"] == "rita"
        assert summary["changeset"]["summary"]["reverts"].endswith(key)

        # a rejected proposal changes nothing and is remembered
        second = carl.post("/test/change", data={"s": INSTANCE, "p": SKOS.note.value, "o": "rejected note"},
                           headers={"X-CSRFToken": token}).get_json()  # fmt: skip
        assert second["changeset"] is None and second["proposal"] is not None
        answer = rita.post(f"/editor/proposals/{second['proposal']}/reject",
                           data={"csrf_token": rita_token, "reason": "not needed"})  # fmt: skip
        assert answer.status_code == 303
        assert not ask(carl, f'ASK {{ <{INSTANCE}> skos:note "rejected note" }}')
        decided = Proposals(data_dir).get(second["proposal"])
        assert (decided.status, decided.decided_by, decided.decision_reason) == ("rejected", "rita", "not needed")
        # a reviewer's own change applies at once
        own = rita.post("/test/change", data={"s": INSTANCE, "p": SKOS.note.value, "o": "rita's note"},
                        headers={"X-CSRFToken": rita_token}).get_json()  # fmt: skip
        assert own["changeset"] is not None and own["proposal"] is None
        # a proposal valid when made but not any more when approved is refused then
        label = {"s": INSTANCE, "p": SKOS.prefLabel.value}
        late = carl.post("/test/change", data={**label, "o": "Carl's title@en"}, headers={"X-CSRFToken": token})
        number = late.get_json()["proposal"]
        assert rita.post("/test/change", data={**label, "o": "Rita's title@en"},
                         headers={"X-CSRFToken": rita_token}).get_json()["changeset"]  # fmt: skip
        refused = rita.post(f"/editor/proposals/{number}/approve", data={"csrf_token": rita_token})
        assert refused.status_code == 422
        assert "2 preferred labels in language" in refused.get_data(as_text=True)
        assert Proposals(data_dir).get(number).status == "pending"
        assert not ask(carl, f'ASK {{ <{INSTANCE}> skos:prefLabel "Carl\'s title"@en }}')
    finally:
        close_app(app)


def test_routes_refuse_strangers_and_readers(app: Flask, data_dir: Path) -> None:
    anonymous = app.test_client()
    answer = anonymous.get("/editor/history", headers={"Accept": "text/html"})
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/login")
    assert anonymous.get("/editor/history", headers={"Accept": "text/plain"}).status_code == 401
    assert anonymous.post("/editor/history/x/revert").status_code == 401
    assert anonymous.post("/editor/proposals/1/approve").status_code == 401
    carl = app.test_client()
    token = sign_in(carl, "carl")
    assert carl.post("/editor/proposals/1/approve", data={"csrf_token": token}).status_code == 403
    assert carl.post("/editor/proposals/1/reject", data={"csrf_token": token}).status_code == 403


def test_a_resource_page_links_its_history_for_editors_only(app: Flask) -> None:
    path = "/" + INSTANCE.split("/", 3)[3]
    anonymous = app.test_client().get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Rereading George Eliot" in anonymous and "/editor/history?resource=" not in anonymous
    carl = app.test_client()
    sign_in(carl, "carl")
    page_html = carl.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'href="/editor/history?resource={INSTANCE}"' in page_html


def test_with_review_changes_the_editors_say_a_change_waits_for_a_reviewer(data_dir: Path) -> None:
    """A cataloger's new concept and new class become proposals: the pages say so (not "saved",
    not "nothing to change"), the store holds neither, and the reviewer sees both."""
    app = make_app(data_dir, review_changes=True)
    try:
        carl = app.test_client()
        token = sign_in(carl, "carl")
        concept = carl.post("/editor/vocabularies/concepts", data={
            "csrf_token": token, "scheme": "http://id.loc.gov/authorities/subjects",
            "label_1": "Proposed concept", "lang_1": "en", "reason": "a test",
        })  # fmt: skip
        assert concept.status_code == 303 and "proposed=" in concept.headers["Location"], concept.headers
        shown = page(carl, concept.headers["Location"].split("?")[0],
                     proposed=concept.headers["Location"].rsplit("=", 1)[1])  # fmt: skip
        assert "Sent to a reviewer as proposal" in shown
        assert not ask(carl, 'ASK { ?c skos:prefLabel "Proposed concept"@en }')
        term = carl.post("/editor/ontology/new", data={
            "csrf_token": token, "local_name": "ProposedClass", "kind": "class",
            "words-0-language": "en", "words-0-label": "Proposed class",
            "words-0-definition": "A class proposed by a test.",
        })  # fmt: skip
        assert term.status_code == 303 and "proposed=" in term.headers["Location"], term.get_data(as_text=True)[:800]
        number = term.headers["Location"].rsplit("=", 1)[1]
        assert "Sent to a reviewer as proposal" in page(carl, "/editor/ontology", proposed=number)
        assert not ask(carl, 'ASK { ?c rdfs:label "Proposed class"@en }')
        rita = app.test_client()
        sign_in(rita, "rita")
        listed = page(rita, "/editor/proposals")
        assert "Proposed concept" in listed and "Proposed class" in listed
    finally:
        close_app(app)
