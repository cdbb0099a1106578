"""OpenRefine reconciliation (Reconciliation Service API 0.2) through a real server over a real store.

Every answer is validated against the specification's own JSON schemas
(``tests/data/reconciliation-0.2``, see its README). Requests are sent the
way OpenRefine sends them: the batch as a form field ``queries`` in a POST.
Expected values were read in the records (pymarc): george_eliot.marc (100
"Paris, Bernard J.", 245 "Rereading George Eliot : changing responses to her
experiments in life", 010 "2002036483", 020 "0791458342", 260 date "c2003");
hebrew880s.marc (100 "Ratsabi, Shalom." and its 880 "רצבי, שלום.").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from web_fixtures import HOSTILE_NAME, build_data_dir, running_server, settings_for

SCHEMAS = Path(__file__).parent / "data" / "reconciliation-0.2"
INSTANCE = "http://127.0.0.1:5000/instance/lccn-2002036483"


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema, default_specification=DRAFT7)
        resources.append((schema["$id"], resource))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validate(name: str, document: object) -> None:
    """Fail with the schema's complaint if ``document`` does not conform to ``name``.json."""
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    errors = sorted(
        Draft7Validator(schema, registry=REGISTRY).iter_errors(document), key=lambda e: e.path
    )
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-reconcile"))
    with running_server(settings_for(data_dir)) as root:
        yield root + "/api/reconcile"


def reconcile(service: str, batch: dict) -> dict:
    validate("reconciliation-query-batch", batch)  # what we send is what OpenRefine may send
    response = requests.post(service, data={"queries": json.dumps(batch)}, timeout=30)
    assert response.status_code == 200, response.text
    answer = response.json()
    validate("reconciliation-result-batch", answer)
    assert set(answer) == set(batch)
    return answer


def test_the_manifest_conforms_and_names_every_service(service: str) -> None:
    response = requests.get(service, timeout=30)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # OpenRefine in a browser
    manifest = response.json()
    validate("manifest", manifest)
    assert "0.2" in manifest["versions"]
    assert {t["id"] for t in manifest["defaultTypes"]} == {
        "agent",
        "work",
        "instance",
        "concept",
        "place",
    }
    assert manifest["preview"]["url"] == service + "/preview?id={{id}}"
    assert manifest["suggest"]["entity"] == {
        "service_url": service,
        "service_path": "/suggest/entity",
    }


def test_a_heading_finds_its_agent_as_a_certain_match(service: str) -> None:
    answer = reconcile(
        service,
        {
            "q0": {"query": "Paris, Bernard J.", "type": "agent", "limit": 3},
            "q1": {"query": "Bernard Paris", "type": "agent"},  # word order, no initial
            "q2": {"query": "רצבי, שלום", "type": "agent"},  # the 880's Hebrew form
        },
    )
    first = answer["q0"]["result"][0]
    assert first["name"] == "Paris, Bernard J."
    assert first["match"] is True and first["score"] == 100
    assert first["type"] == [{"id": "agent", "name": "Agent"}]
    assert answer["q1"]["result"][0]["id"] == first["id"]
    assert answer["q2"]["result"][0]["name"] == "Ratsabi, Shalom"


def test_a_type_filters_and_properties_raise_or_lower_the_score(service: str) -> None:
    answer = reconcile(
        service,
        {
            "work": {"query": "Rereading George Eliot", "type": "work"},
            "agrees": {
                "query": "Rereading George Eliot",
                "type": "work",
                "properties": [{"pid": "creator", "v": "Paris, Bernard"}],
            },
            "conflicts": {
                "query": "Rereading George Eliot",
                "type": "work",
                "properties": [{"pid": "creator", "v": "Tolstoy, Leo"}],
            },
        },
    )
    work = answer["work"]["result"][0]
    assert work["name"] == "Rereading George Eliot"
    assert all(r["type"][0]["id"] == "work" for r in answer["work"]["result"])
    agrees = answer["agrees"]["result"][0]
    conflicts = answer["conflicts"]["result"][0]
    assert agrees["id"] == conflicts["id"] == work["id"]
    assert agrees["score"] > conflicts["score"]
    assert {"id": "creator", "value": pytest.approx(1.0, abs=0.2)} in [
        {"id": f["id"], "value": f["value"]} for f in agrees["features"] if f["id"] == "creator"
    ]


def test_an_identifier_alone_is_a_certain_match_in_any_form(service: str) -> None:
    answer = reconcile(
        service,
        {
            "lccn": {"properties": [{"pid": "lccn", "v": "2002-036483"}], "type": "instance"},
            "isbn13": {
                "properties": [{"pid": "isbn", "v": "978-0-7914-5834-1"}]
            },  # stored as ISBN-10
            "wrong": {
                "query": "Rereading George Eliot",
                "type": "instance",
                "properties": [{"pid": "isbn", "v": "9780071623438"}],
            },
        },
    )
    for key in ("lccn", "isbn13"):
        (found,) = answer[key]["result"]
        assert found["id"] == INSTANCE and found["match"] is True, key
    wrong = answer["wrong"]["result"][0]
    assert wrong["id"] == INSTANCE and wrong["match"] is False  # the title agrees, the ISBN not


def test_suggest_services_conform(service: str) -> None:
    entities = requests.get(
        service + "/suggest/entity", params={"prefix": "Rerea", "type": "work"}, timeout=30
    ).json()
    validate("suggest-entities-response", entities)
    assert [e["name"] for e in entities["result"]][:1] == ["Rereading George Eliot"]
    types = requests.get(service + "/suggest/type", params={"prefix": "ag"}, timeout=30).json()
    validate("suggest-types-response", types)
    assert [t["id"] for t in types["result"]] == ["agent"]
    props = requests.get(service + "/suggest/property", params={"prefix": "isb"}, timeout=30).json()
    validate("suggest-properties-response", props)
    assert [p["id"] for p in props["result"]] == ["isbn"]
    proposed = requests.get(
        service + "/propose_properties", params={"type": "instance"}, timeout=30
    ).json()
    assert proposed["type"] == "instance"
    assert {"isbn", "lccn", "work", "creator", "year"} <= {p["id"] for p in proposed["properties"]}


def test_data_extension_conforms_and_fetches_the_facts(service: str) -> None:
    request = {
        "ids": [INSTANCE, "http://127.0.0.1:5000/agent/none"],
        "properties": [{"id": "isbn"}, {"id": "year"}, {"id": "creator"}, {"id": "lccn"}],
    }
    validate("data-extension-query", request)
    response = requests.post(service, data={"extend": json.dumps(request)}, timeout=30)
    assert response.status_code == 200, response.text
    extension = response.json()
    validate("data-extension-response", extension)
    row = extension["rows"][INSTANCE]
    assert sorted(v["str"] for v in row["isbn"]) == ["0791458334", "0791458342"]
    assert row["lccn"] == [{"str": "2002036483"}]
    assert {"int": 2003} in row["year"]
    assert [v["name"] for v in row["creator"]] == ["Paris, Bernard J."]
    assert extension["rows"]["http://127.0.0.1:5000/agent/none"] == {
        "isbn": [],
        "year": [],
        "creator": [],
        "lccn": [],
    }
    meta = {m["id"]: m for m in extension["meta"]}
    assert meta["creator"]["type"]["id"] == "agent"


def test_the_preview_escapes_record_text_and_may_be_framed(service: str) -> None:
    answer = reconcile(service, {"q": {"query": HOSTILE_NAME, "type": "agent"}})
    hostile = answer["q"]["result"][0]
    assert hostile["name"].startswith("O'Hara")
    response = requests.get(service + "/preview", params={"id": hostile["id"]}, timeout=30)
    assert response.status_code == 200
    assert "<b>Bold</b>" not in response.text and "&lt;b&gt;Bold&lt;/b&gt;" in response.text
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "script-src" not in policy  # default-src 'none'
    missing = requests.get(service + "/preview", params={"id": "http://127.0.0.1:5000/agent/x"})
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"queries": "{not json"}, "not JSON"),
        ({"queries": json.dumps({"q": {"query": "x", "type": "planet"}})}, "unknown type"),
        ({"queries": json.dumps({"q": {"query": "x", "colour": "red"}})}, "unknown fields"),
        ({"queries": json.dumps({f"q{n}": {"query": "x"} for n in range(51)})}, "at most 50"),
        (
            {"queries": json.dumps({"q": {"query": "x", "properties": [{"pid": "shoe", "v": 1}]}})},
            "unknown property",
        ),
        (
            {"extend": json.dumps({"ids": ["x"] * 101, "properties": [{"id": "isbn"}]})},
            "at most 100",
        ),
        ({"extend": json.dumps({"ids": [], "properties": [{"id": "shoe"}]})}, "unknown property"),
    ],
)
def test_bad_requests_are_problems_that_say_why(service: str, data: dict, says: str) -> None:
    response = requests.post(service, data=data, timeout=30)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and says in problem["detail"], problem


def test_a_get_with_queries_answers_as_a_post(service: str) -> None:
    batch = {"q0": {"query": "Paris, Bernard J.", "type": "agent"}}
    got = requests.get(service, params={"queries": json.dumps(batch)}, timeout=30).json()
    assert got == reconcile(service, batch)
