"""``/editor/vocabularies`` through the real app: forms in, one changeset each, seen at once.

A real data directory (``data/marcxml/nlm.xml`` ingested by the real
``Writer``, which publishes the checkpoint the app serves), real accounts
signed in through the real login form, Flask's test client. After each
change the concept's page, ``/api/search`` and SPARQL must show it on the
next request; a refusal shows its reason in the form and changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_web_permissions import PASSWORD, sign_in

from graph import Writer
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import SourceRecord
from ingest.sources import get_source
from web.accounts import add_user
from web.app import create_app
from web.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:5000/"
LCSH = "http://id.loc.gov/authorities/subjects"
SLICE = ROOT / "tests" / "data" / "skos" / "mesh-slice.ttl"
HOSTILE = "<script>alert('x')</script> Tele & care"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    data_dir = tmp_path_factory.mktemp("vocabulary-editor") / "data"
    minter = IriMinter(BASE)
    path = ROOT / "data" / "marcxml" / "nlm.xml"
    records = [map_record(r, minter) for r in get_source("marcxml").read(path, name="nlm.xml")
               if isinstance(r, SourceRecord)]  # fmt: skip
    with Writer(data_dir, minter.layout, "test") as writer:
        writer.write(records)
    add_user(data_dir, "carl", PASSWORD, "cataloger")
    app = create_app(load_settings(env={}, data_dir=data_dir))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def cataloger(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    return client, sign_in(client, "carl")


def ask(client: FlaskClient, query: str) -> bool:
    answer = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["boolean"]


def page(client: FlaskClient, path: str, **args: str) -> str:
    answer = client.get(path, query_string=args, headers={"Accept": "text/html"})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    return answer.get_data(as_text=True)


def most_used_concepts(client: FlaskClient) -> list[str]:
    query = (
        "SELECT ?c (COUNT(?w) AS ?n) WHERE { ?w bf:subject ?c . ?c skos:inScheme ?s } "
        "GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT 5"
    )
    answer = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    return [row["c"]["value"] for row in answer.get_json()["results"]["bindings"]]


def test_schemes_are_listed_with_their_concepts(cataloger) -> None:
    client, _token = cataloger
    body = page(client, "/editor/vocabularies")
    assert "http://id.nlm.nih.gov/mesh" in body and "Add a concept" in body
    listing = page(client, "/editor/vocabularies", scheme="http://id.nlm.nih.gov/mesh", q="neopl")
    assert "/editor/vocabularies/concept?iri=" in listing
    assert re.search(r"\d+ concepts", listing)
    assert 'href="/editor/vocabularies"' in page(client, "/editor")  # linked from the editor
    total = int(re.search(r"(\d+) concepts", page(client, "/editor/vocabularies", scheme="http://id.nlm.nih.gov/mesh"))
                .group(1))  # fmt: skip
    assert total > 50
    second = page(client, "/editor/vocabularies", scheme="http://id.nlm.nih.gov/mesh", start="50")
    assert 'rel="prev"' in second and second.count("/editor/vocabularies/concept?iri=") == min(50, total - 50)


def test_the_editor_speaks_chinese(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "carl")
    client.get("/-/lang", query_string={"to": "zh", "next": "/editor/vocabularies"})
    body = page(client, "/editor/vocabularies")
    assert "新增概念" in body and "导入 SKOS 文件" in body and "合并两个概念" in body


def test_a_new_concept_is_seen_at_once_by_its_page_search_and_sparql(cataloger) -> None:
    client, token = cataloger
    parent = most_used_concepts(client)[0]
    answer = client.post("/editor/vocabularies/concepts", data={
        "csrf_token": token, "scheme": LCSH, "label_1": HOSTILE, "lang_1": "en",
        "label_2": "远程护理", "lang_2": "zh-Hans", "broader": parent, "reason": "a test",
    })  # fmt: skip
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    location = answer.headers["Location"]
    assert "saved=" in location
    iri = re.search(r"iri=([^&]+)", location).group(1).replace("%3A", ":").replace("%2F", "/")
    body = page(client, location.split("?")[0], iri=iri)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Tele &amp; care" in body and "<script>alert" not in body
    assert "远程护理" in body and "zh-hans" in body
    hits = client.get("/api/search", query_string={"q": "远程护理"}).get_json()["hits"]
    assert iri in [h["iri"] for h in hits]
    assert ask(client, f'ASK {{ <{iri}> skos:prefLabel "远程护理"@zh-Hans ; skos:broader <{parent}> }}')
    assert ask(client, f"ASK {{ <{parent}> skos:narrower <{iri}> }}")
    assert "远程护理" in page(client, "/" + iri[len(BASE):])  # the reader's page
    # a wrong language tag is said in the form; nothing changes
    answer = client.post("/editor/vocabularies/concept/labels", data={
        "csrf_token": token, "iri": iri, "kind": "altLabel", "text": "Telenursing", "lang": "english",
    })  # fmt: skip
    assert answer.status_code == 422
    assert "is not a language tag" in answer.get_data(as_text=True)
    assert not ask(client, f'ASK {{ <{iri}> skos:altLabel ?l }}')
    answer = client.post("/editor/vocabularies/concept/labels", data={
        "csrf_token": token, "iri": iri, "kind": ["altLabel", "scopeNote"], "text": ["Telenursing", "Care at a distance."],
        "lang": ["en", "en"],
    })  # fmt: skip
    assert answer.status_code == 303
    assert ask(client, f'ASK {{ <{iri}> skos:altLabel "Telenursing"@en ; skos:scopeNote ?n }}')


def test_a_merge_shows_what_moves_then_moves_it(cataloger) -> None:
    client, token = cataloger
    survivor, merged = most_used_concepts(client)[1:3]
    half = page(client, "/editor/vocabularies/merge", merged=merged)  # from a concept's page: one side given
    assert f'value="{merged}"' in half and "What will move" not in half
    preview = page(client, "/editor/vocabularies/merge", merged=merged, survivor=survivor)
    counts = re.search(r'<th scope="row">bf:subject</th><td>(\d+)</td>', preview)
    assert "statements move." in preview or "statement moves." in preview
    assert counts and int(counts.group(1)) >= 1
    assert not ask(client, f"ASK {{ <{merged}> owl:deprecated true }}")  # a preview changes nothing
    answer = client.post("/editor/vocabularies/merge", data={"csrf_token": token, "merged": merged, "survivor": survivor})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    assert not ask(client, f"ASK {{ ?w bf:subject <{merged}> }}")
    assert ask(client, f"ASK {{ <{merged}> owl:deprecated true ; dcterms:isReplacedBy <{survivor}> }}")
    old_name = client.get("/sparql", headers={"Accept": "application/sparql-results+json"}, query_string={
        "query": f"SELECT ?l WHERE {{ <{merged}> rdfs:label ?l }} LIMIT 1"}).get_json()["results"]["bindings"][0]["l"]["value"]
    hits = client.get("/api/search", query_string={"q": old_name, "kind": "concept", "limit": 50}).get_json()["hits"]
    assert survivor in [h["iri"] for h in hits]  # found by its new alternate label, at once
    alias = page(client, "/" + merged[len(BASE):])  # the merged IRI still resolves, and says so
    assert "Merged into" in alias and f'href="/{survivor[len(BASE):]}"' in alias
    again = client.post("/editor/vocabularies/merge", data={"csrf_token": token, "merged": merged, "survivor": survivor})
    assert again.status_code == 422 and "merged already" in again.get_data(as_text=True)
    forged = client.post("/editor/vocabularies/merge", data={"csrf_token": token[:-2] + "xx", "merged": survivor,
                                                             "survivor": merged})  # fmt: skip
    assert forged.status_code == 403


def test_a_skos_file_is_reported_before_it_is_imported(cataloger) -> None:
    client, token = cataloger
    upload = {"csrf_token": token, "scheme": "http://id.nlm.nih.gov/mesh",
              "file": (SLICE.open("rb"), "mesh-slice.ttl")}  # fmt: skip
    answer = client.post("/editor/vocabularies/import", data=upload, content_type="multipart/form-data")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200, body[:2000]
    assert re.search(r'class="new-concepts">7<', body) and re.search(r'class="new-relations">5<', body)
    assert not ask(client, "ASK { <http://id.nlm.nih.gov/mesh/D001943> ?p ?o }")  # nothing yet
    pending = re.search(r'name="token" value="([^"]+)"', body).group(1)
    answer = client.post("/editor/vocabularies/import", data={"csrf_token": token, "token": pending,
                                                               "scheme": "http://id.nlm.nih.gov/mesh"})  # fmt: skip
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    assert ask(client, 'ASK { <http://id.nlm.nih.gov/mesh/D001943> skos:prefLabel "乳腺肿瘤"@zh }')
    reused = client.post("/editor/vocabularies/import", data={"csrf_token": token, "token": pending,
                                                               "scheme": "http://id.nlm.nih.gov/mesh"})  # fmt: skip
    assert reused.status_code == 422 and "upload the file again" in reused.get_data(as_text=True)
    hostile = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aa">]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    from io import BytesIO

    answer = client.post("/editor/vocabularies/import", content_type="multipart/form-data", data={
        "csrf_token": token, "scheme": "http://id.nlm.nih.gov/mesh", "file": (BytesIO(hostile), "x.rdf"),
    })  # fmt: skip
    assert answer.status_code == 422 and "DOCTYPE" in answer.get_data(as_text=True)


def test_a_split_takes_the_chosen_references(cataloger) -> None:
    client, token = cataloger
    source = most_used_concepts(client)[3]
    form = page(client, "/editor/vocabularies/split", iri=source)
    works = re.findall(r'name="reference" value="([^"]+)"', form)
    assert len(works) >= 2
    answer = client.post("/editor/vocabularies/split", data={
        "csrf_token": token, "iri": source, "label": ["A narrower sense", ""], "lang": ["en", "zh"],
        "reference": works[0],
    })  # fmt: skip
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    new = re.search(r"iri=([^&]+)", answer.headers["Location"]).group(1).replace("%3A", ":").replace("%2F", "/")
    assert ask(client, f'ASK {{ <{works[0]}> bf:subject <{new}> . <{new}> skos:prefLabel "A narrower sense"@en }}')
    assert not ask(client, f"ASK {{ <{works[0]}> bf:subject <{source}> }}")
    assert ask(client, f"ASK {{ <{works[1]}> bf:subject <{source}> }}")
    refused = client.post("/editor/vocabularies/split", data={"csrf_token": token, "iri": source, "label": "",
                                                              "lang": "en"})  # fmt: skip
    assert refused.status_code == 422 and "needs a preferred label" in refused.get_data(as_text=True)
