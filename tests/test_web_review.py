"""``/editor/review`` over the real server: the queue, accept, reject and undo, and who may.

A store built by the real ``catalograph ingest`` from real records (``review_fixtures``), the
real server (waitress), real accounts signed in through the real login form with
``requests``; decisions posted as the page's forms post them. Checked: the queue shows both
sides with their labels, kinds, links, score, rule and reasons, filtered and counted; an
acceptance makes each side's page link to the other as "same as", and the queue, its JSON twin
and SPARQL show it; a rejection and an undo; and the refusals: no account, a cataloger (who
sees the queue but may not decide), a reviewer without the CSRF token or with a forged one,
a candidate that is none, a reason too long.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from review_fixtures import HERMAN, MONK, candidate
from web_fixtures import running_server, settings_for

from tests.conftest import IngestedStore
from web.accounts import add_user

PASSWORD = "a long enough password"
MULLIGAN = ("http://127.0.0.1:5000/agent/k30bbdb12890bb04d0e22", "http://127.0.0.1:5000/agent/k61c18f1f129f7ff96bd0")
BLACKWELL = ("http://127.0.0.1:5000/agent/kc3ebd006134f6fc68d1c", "http://127.0.0.1:5000/agent/kebc576677b646b8c6d3e")


@pytest.fixture(scope="module")
def url(review_store: IngestedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = review_store.copy(tmp_path_factory, "web-review")
    add_user(data_dir, "carl", PASSWORD, "cataloger")
    add_user(data_dir, "rita", PASSWORD, "reviewer")
    with running_server(settings_for(data_dir)) as root:
        yield root


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)


def signed_in(url: str, name: str) -> tuple[requests.Session, str]:
    """A session signed in through the login form, and the CSRF token its pages carry."""
    session = requests.Session()
    session.headers["Accept"] = "text/html"
    token = token_of(session.get(url + "/login").text)
    answer = session.post(url + "/login", data={"name": name, "password": PASSWORD, "csrf_token": token},
                          allow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    return session, token_of(session.get(url + "/editor/review").text)


def post(session: requests.Session, url: str, action: str, pair: tuple[str, str], token: str | None,
         **extra: str) -> requests.Response:  # fmt: skip
    data = {"candidate": candidate(pair).value, "back": "/editor/review?kind=agent", **extra}
    if token is not None:
        data["csrf_token"] = token
    return session.post(f"{url}/editor/review/{action}", data=data, allow_redirects=False)


def queue_json(session: requests.Session, url: str, **params: str) -> dict:
    answer = session.get(url + "/editor/review", params={**params, "_format": "json"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def pairs(body: dict) -> set[tuple[str, str]]:
    return {(first["iri"], second["iri"]) for _c, first, second in body["items"]}


def test_the_queue_shows_both_sides_score_rule_and_reasons(url: str) -> None:
    rita, _token = signed_in(url, "rita")
    answer = rita.get(url + "/editor/review")
    page = answer.text
    assert "<h1>Review queue</h1>" in page
    # the reader's pages' security headers, and a page for this account alone
    assert "default-src" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "private, no-store"
    first, second = MONK
    item = page[page.index(f'id="c-{candidate(MONK).value.rsplit("#", 1)[1]}"'):]
    item = item[: item.index("</li>")]
    assert f'href="/{first.split("/", 3)[3]}"' in item and f'href="/{second.split("/", 3)[3]}"' in item
    assert ">Monk, Thelonious</a>" in item and ">Monk, Thelonious, 1917-1982</a>" in item
    assert "0.93" in item and "agents: same name, dates missing on one side or (nearly) agreeing" in item
    assert "same name without dates" in item and "(agent)" in item
    assert 'action="/editor/review/accept"' in item and 'action="/editor/review/reject"' in item
    body = queue_json(rita, url)
    assert body["status"] == "pending" and body["total"] == len(body["items"]) >= 10
    scores = [c["score"] for c, *_ in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert body["by_kind"] == {"agent": body["total"]}
    assert sum(body["by_rule"].values()) == body["total"]
    # filters: a rule, a kind; an unknown one selects nothing (and is shown escaped, never run)
    dates = queue_json(rita, url, rule="agent-dates")
    assert dates["total"] == body["by_rule"]["agent-dates"] and {c["rule"] for c, *_ in dates["items"]} == {"agent-dates"}
    assert queue_json(rita, url, kind="work")["total"] == 0
    hostile = rita.get(url + "/editor/review", params={"rule": "<script>x</script>"})
    assert hostile.status_code == 200 and "<script>x</script>" not in hostile.text
    assert rita.get(url + "/editor/review", params={"status": "merged"}).status_code == 400
    assert rita.get(url + "/editor/review", params={"page": "0"}).status_code == 400


def test_accept_makes_each_page_link_to_the_other_and_the_decision_shows_in_sparql(url: str) -> None:
    rita, token = signed_in(url, "rita")
    before = queue_json(rita, url)["by_status"]
    answer = post(rita, url, "accept", MULLIGAN, token, reason="same saxophonist")
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"] == "/editor/review?kind=agent&done=accept"
    assert "Accepted: the two are now one." in rita.get(url + answer.headers["Location"]).text
    after = queue_json(rita, url)["by_status"]
    assert (after["pending"], after["accepted"]) == (before["pending"] - 1, before["accepted"] + 1)
    assert MULLIGAN in pairs(queue_json(rita, url, status="accepted"))
    assert MULLIGAN not in pairs(queue_json(rita, url))
    reader = requests.Session()  # a reader: no account
    for this, other in (MULLIGAN, MULLIGAN[::-1]):
        page = reader.get(url + "/" + this.split("/", 3)[3], headers={"Accept": "text/html"}).text
        row = page[page.index('data-list="owl:sameAs"'):]
        row = row[: row.index("</tr>")]
        assert ">same as</th>" in row and f'href="/{other.split("/", 3)[3]}"' in row, row
        assert "Elsewhere" not in page[: page.index("</header>")]  # ours is not an outside authority
    query = (
        "PREFIX cg: <https://w3id.org/catalograph/ontology#> PREFIX owl: <http://www.w3.org/2002/07/owl#> "
        "SELECT ?first ?second WHERE { ?c cg:status cg:Accepted ; cg:candidateFor ?first ; "
        "cg:proposedMatch ?second . ?first owl:sameAs ?second . ?second owl:sameAs ?first }"
    )
    rows = reader.get(url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}).json()
    found = {(r["first"]["value"], r["second"]["value"]) for r in rows["results"]["bindings"]}
    assert MULLIGAN in found
    # undo: pending again, the match gone from both pages
    answer = post(rita, url, "undo", MULLIGAN, token)
    assert answer.status_code == 303
    assert MULLIGAN in pairs(queue_json(rita, url))
    page = reader.get(url + "/" + MULLIGAN[0].split("/", 3)[3], headers={"Accept": "text/html"}).text
    assert 'data-list="owl:sameAs"' not in page


def test_reject_and_the_json_answer(url: str) -> None:
    rita, token = signed_in(url, "rita")
    answer = rita.post(
        url + "/editor/review/reject",
        data={"candidate": candidate(HERMAN).value, "csrf_token": token},
        headers={"Accept": "application/json"}, allow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"].endswith("#Rejected") and body["changeset"].startswith("http://127.0.0.1:5000/graph/changeset/")
    assert (body["added"], body["removed"]) == (1, 1)
    rejected = rita.get(url + "/editor/review", params={"status": "rejected"}).text
    assert "Herman, Woody, 1913-1987" in rejected and 'action="/editor/review/undo"' in rejected
    again = post(rita, url, "reject", HERMAN, token)  # settled already: a clear refusal
    assert again.status_code == 400 and "already rejected" in again.text


def test_refused_without_an_account_the_role_or_the_csrf_token(url: str) -> None:
    stranger = requests.Session()
    assert post(stranger, url, "accept", BLACKWELL, None).status_code == 401
    page = stranger.get(url + "/editor/review", headers={"Accept": "text/html"}, allow_redirects=False)
    assert page.status_code == 303 and page.headers["Location"].startswith("/login?next=/editor/review")
    carl, carl_token = signed_in(url, "carl")
    seen = carl.get(url + "/editor/review").text
    assert "Your role may see the queue; a reviewer decides." in seen
    assert 'action="/editor/review/accept"' not in seen and "Blackwell, Ed" in seen
    refused = post(carl, url, "accept", BLACKWELL, carl_token)
    assert refused.status_code == 403 and "may not review" in refused.text
    rita, token = signed_in(url, "rita")
    without = post(rita, url, "accept", BLACKWELL, None)
    assert without.status_code == 403 and "CSRF" in without.text
    forged = post(rita, url, "accept", BLACKWELL, token[:-2] + "xx")
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert BLACKWELL in pairs(queue_json(rita, url))  # nothing was decided
    too_long = post(rita, url, "accept", BLACKWELL, token, reason="x" * 501)
    assert too_long.status_code == 400
    nothing = rita.post(url + "/editor/review/accept", allow_redirects=False,
                        data={"candidate": MONK[0], "csrf_token": token})  # fmt: skip
    assert nothing.status_code == 404 and html.escape(MONK[0]) in nothing.text
    assert BLACKWELL in pairs(queue_json(rita, url))


def test_the_queue_in_chinese(url: str) -> None:
    rita, _token = signed_in(url, "rita")
    page = rita.get(url + "/editor/review", headers={"Accept-Language": "zh"}).text
    assert "<h1>审校队列</h1>" in page
    assert "接受" in page and "拒绝" in page


def test_the_editor_links_to_the_queue(url: str, tmp_path: Path) -> None:
    rita, _token = signed_in(url, "rita")
    assert 'href="/editor/review"' in rita.get(url + "/editor").text


def test_the_example_query_shows_the_decisions(url: str) -> None:
    """query/examples/16-review-decisions.rq over /sparql: who decided what, and the sameAs."""
    rita, token = signed_in(url, "rita")
    pair = ("http://127.0.0.1:5000/agent/kaf17459fd1ede95264a4", "http://127.0.0.1:5000/agent/kf9ed51c78dc1771280a3")
    assert post(rita, url, "accept", pair, token, reason="one drummer").status_code == 303
    text = (Path(__file__).resolve().parent.parent / "query/examples/16-review-decisions.rq").read_text()
    answer = requests.get(url + "/sparql", params={"query": text}, headers={"Accept": "application/sparql-results+json"})
    rows = [r for r in answer.json()["results"]["bindings"] if r["candidate"]["value"] == candidate(pair).value]
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["status"]["value"].endswith("#Accepted") and row["sameAs"]["value"] == "true"
    assert row["who"]["value"] == "rita" and row["why"]["value"].endswith(": one drummer")
    assert (row["firstLabel"]["value"], row["secondLabel"]["value"]) == ("Jones, Bobby", "Jones, Bobby, 1928-")
