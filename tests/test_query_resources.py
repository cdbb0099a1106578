"""What a resource page is built from, over a real store of mapped traject records.

Expected values were read in the records themselves (pymarc):
george_eliot.marc 001 2329645, 010 "2002036483", 100 "Paris, Bernard J.",
245 "Rereading George Eliot : changing responses to her experiments in life",
650 "Psychology in literature"; hebrew880s.marc 100 "Ratsabi, Shalom." with its
880 "רצבי, שלום."; iso639-3_lang.marc 700 "Kvaran, Gunnar B., $e editor.".
"""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, RdfFormat, Store, parse
from web_fixtures import BASE, build_data_dir

from graph import open_latest_snapshot
from ontology.errors import NotFoundError
from ontology.namespaces import BF, RDFS, compact
from query import resources
from query.listings import Paging, best_label
from query.resources import ResourceQueries

INSTANCE = NamedNode(BASE + "instance/lccn-2002036483")
ELIOT_GRAPH = NamedNode(BASE + "graph/marc/2329645")


@pytest.fixture(scope="module")
def queries(tmp_path_factory: pytest.TempPathFactory) -> ResourceQueries:
    store = open_latest_snapshot(build_data_dir(tmp_path_factory.mktemp("resources")))
    return ResourceQueries(store, BASE)


def one(store: Store, text: str) -> NamedNode:
    rows = list(store.query(text, use_default_graph_as_union=True))
    assert len(rows) == 1, rows
    return rows[0][0]


def labels_of(values) -> set[str]:
    return {label.value for value in values for label in value.labels}


def test_instance_description(queries: ResourceQueries) -> None:
    d = queries.describe(INSTANCE)
    assert d is not None
    assert [label.value for label in d.labels] == [
        "Rereading George Eliot : changing responses to her experiments in life"
    ]
    assert {compact(t.term.value) for t in d.types} >= {"bf:Instance", "bf:Print"}
    by_predicate = {}
    for predicate, value in d.statements:
        by_predicate.setdefault(predicate, []).append(value)
    (work,) = by_predicate[BF.instanceOf]
    assert [label.value for label in work.labels] == ["Rereading George Eliot"]
    (title,) = by_predicate[BF.title]
    nested = {(p, v.term) for p, v in title.nested}
    assert (BF.mainTitle, Literal("Rereading George Eliot")) in nested
    assert (BF.subtitle, Literal("changing responses to her experiments in life")) in nested
    isbns = {
        v.term.value
        for ident in by_predicate[BF.identifiedBy]
        for p, v in ident.nested
        if p.value.endswith("#value")
    }
    assert {"0791458334", "0791458342", "2002036483"} <= isbns
    (source,) = d.records.items
    assert source.graph == ELIOT_GRAPH
    assert (source.source_file, source.position) == ("george_eliot.marc", "1")
    assert source.generated and source.generated[:2] == "20"


def test_work_is_referenced_by_its_instance_and_agent_by_its_works(
    queries: ResourceQueries,
) -> None:
    work = one(
        queries.store, f"SELECT ?w WHERE {{ <{INSTANCE.value}> <{BF.instanceOf.value}> ?w }}"
    )
    d = queries.describe(work)
    (instances,) = [ls for ls in d.references if ls.key == "^bf:instanceOf"]
    assert [r.subject.term for r in instances.items] == [INSTANCE]
    assert (instances.count, instances.predicate, instances.via) == (1, BF.instanceOf, None)
    contributions = [v for p, v in d.statements if p == BF.contribution]
    agents = [dict(v.nested)[BF.agent] for v in contributions]
    assert labels_of(agents) == {"Paris, Bernard J."}
    assert "Psychology in literature" in labels_of(v for p, v in d.statements if p == BF.subject)

    agent = agents[0].term
    a = queries.describe(agent)
    (listing,) = [ls for ls in a.references if ls.key == "^bf:agent/^bf:contribution"]
    via_contribution = listing.items
    assert all((r.predicate, r.via) == (BF.agent, BF.contribution) for r in via_contribution)
    assert [r.subject.term for r in via_contribution] == [work]
    assert labels_of(r.subject for r in via_contribution) == {"Rereading George Eliot"}


def test_parallel_script_labels_are_all_kept(queries: ResourceQueries) -> None:
    agent = one(
        queries.store,
        'SELECT ?a WHERE { ?a <http://www.w3.org/2000/01/rdf-schema#label> "Ratsabi, Shalom" }',
    )
    d = queries.describe(agent)
    assert {(label.value, label.language) for label in d.labels} == {
        ("Ratsabi, Shalom", None),
        ("רצבי, שלום", "he-hebr"),
    }
    assert best_label(d.labels).value == "Ratsabi, Shalom"
    assert best_label(d.labels, ["he-IL", "en"]).value == "רצבי, שלום"


def test_record_graph_members_and_rdf_twin(queries: ResourceQueries) -> None:
    d = queries.describe(ELIOT_GRAPH)
    assert queries.is_record_graph(ELIOT_GRAPH)
    assert INSTANCE in {m.term for m in d.members.items}
    assert d.members.count == len(d.members.items)
    assert all("#" not in m.term.value for m in d.members.items)
    twin = queries.rdf(ELIOT_GRAPH, RdfFormat.N_TRIPLES, max_triples=10_000, max_bytes=10**7)
    assert not twin.truncated
    triples = list(parse(twin.body, format=RdfFormat.N_TRIPLES))
    in_graph = list(queries.store.quads_for_pattern(None, None, None, ELIOT_GRAPH))
    about_graph = list(queries.store.quads_for_pattern(ELIOT_GRAPH, None, None, None))
    assert len(triples) == len(in_graph) + len(about_graph)


def test_resource_twin_holds_its_subsidiary_nodes(queries: ResourceQueries) -> None:
    twin = queries.rdf(INSTANCE, RdfFormat.TURTLE, max_triples=10_000, max_bytes=10**7)
    triples = list(parse(twin.body, format=RdfFormat.TURTLE))
    title_node = next(
        t.object for t in triples if t.subject == INSTANCE and t.predicate == BF.title
    )
    assert any(t.subject == title_node and t.predicate == BF.mainTitle for t in triples)
    assert any(t.predicate == RDFS.label and t.subject == INSTANCE for t in triples)


def test_unknown_iri(queries: ResourceQueries) -> None:
    assert queries.describe(NamedNode(BASE + "work/does-not-exist")) is None


def test_values_are_bound_not_pasted(queries: ResourceQueries) -> None:
    """An IRI that would break out of a pasted query is just an IRI that matches nothing."""
    hostile = NamedNode(BASE + "work/x%3E%20%7D%20UNION%20%7B%20?s%20?p%20?o")
    assert queries.describe(hostile) is None



def test_a_lists_labels_read_at_once_equal_those_read_one_by_one(queries: ResourceQueries) -> None:
    """``_many`` (one query with the slice's IRIs in VALUES, written by pyoxigraph) finds for
    each item what ``labels.rq`` bound to that item finds, and nothing for an unknown IRI."""
    whole = queries.describe(INSTANCE)
    terms = [v.term for ls in whole.properties for v in ls.items if isinstance(v.term, NamedNode)]
    terms.append(NamedNode(BASE + "work/nothing-here"))
    found = queries._many("labels_many", "node", terms)
    for term in terms:
        alone = queries._rows("labels", 0, 50, node=term)
        key = lambda row: (str(row["label"]), str(row["title"]))  # noqa: E731
        assert sorted(map(key, found[term])) == sorted(map(key, alone)), term
    assert found[NamedNode(BASE + "work/nothing-here")] == []
    assert any(found[t] for t in terms)
    nodes = [t for t in terms if queries.is_subsidiary(t)]
    statements = queries._many("node_statements_many", "node", nodes, per_node=51)
    assert nodes and all(statements[t] for t in nodes)
    for node in nodes:
        alone = queries._rows("node_statements", 0, 51, node=node)
        key = lambda row: (str(row["p"]), str(row["o"]), str(row["label"]))  # noqa: E731
        assert sorted(map(key, statements[node])) == sorted(map(key, alone)), node
    # a share too small for one node's rows: nothing is trusted, each node asks alone
    assert queries._many("node_statements_many", "node", nodes, per_node=1) == {}


def test_lists_are_sliced_with_their_full_counts(queries: ResourceQueries) -> None:
    """george_eliot.marc identifies its instance several times (two ISBNs, an LCCN...): with
    one item per list, each page of that list shows one, and past the last there is none."""
    whole = queries.describe(INSTANCE)
    (identifiers,) = [ls for ls in whole.properties if ls.key == "bf:identifiedBy"]
    count = identifiers.count
    assert count >= 3 and len(identifiers.items) == count

    small = queries.describe(INSTANCE, Paging(size=1, items=100))
    assert all(len(ls.items) == min(ls.count, 1) for ls in small.properties)
    (cut,) = [ls for ls in small.properties if ls.key == "bf:identifiedBy"]
    assert (cut.count, len(cut.items)) == (count, 1)
    assert small.labels == whole.labels

    pages = [
        queries.describe(INSTANCE, Paging(size=1, focus="bf:identifiedBy", page=n)).focus
        for n in range(1, count + 1)
    ]
    assert [ls.start for ls in pages] == list(range(count))
    assert [ls.items[0].term for ls in pages] == [v.term for v in identifiers.items]
    with pytest.raises(NotFoundError, match=f"no page {count + 1}"):
        queries.describe(INSTANCE, Paging(size=1, focus="bf:identifiedBy", page=count + 1))
    with pytest.raises(NotFoundError, match="has no list"):
        queries.describe(INSTANCE, Paging(size=1, focus="bf:nothing"))


def test_a_page_shares_its_items_between_its_lists(queries: ResourceQueries) -> None:
    d = queries.describe(INSTANCE, Paging(size=100, items=4))
    assert sum(len(ls.items) for ls in [*d.properties, *d.references, d.records]) <= 4


def test_the_twin_is_cut_at_its_caps_and_says_so(queries: ResourceQueries) -> None:
    twin = queries.rdf(INSTANCE, RdfFormat.N_TRIPLES, max_triples=5, max_bytes=10**7)
    assert (twin.truncated, twin.cap, twin.rows) == (True, "max-rows=5", 5)
    assert len(list(parse(twin.body, format=RdfFormat.N_TRIPLES))) == 5
    small = queries.rdf(INSTANCE, RdfFormat.N_TRIPLES, max_triples=1000, max_bytes=300)
    assert small.truncated and small.cap == "max-bytes=300" and len(small.body) <= 300


def test_a_page_read_in_three_queries_equals_one_read_list_by_list(
    queries: ResourceQueries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every other subject of the sample's store, described with its property lists read at once
    (``PREFETCH_VALUES``) and one list at a time: the same page, item for item, nested
    statements and their budget included; with small slices too, and a list's own pages
    start where the page's slice ends."""
    subjects = sorted(
        {row["s"] for row in queries.store.query(
            "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }", use_default_graph_as_union=True)},
        key=str,
    )  # fmt: skip
    assert len(subjects) > 300
    subjects = subjects[::2]  # every other one: 200 pages in each of four ways
    pagings = [Paging(), Paging(size=2, items=7)]
    together = [queries.describe(s, p) for s in subjects for p in pagings]
    monkeypatch.setattr(resources, "PREFETCH_VALUES", -1)
    apart = [queries.describe(s, p) for s in subjects for p in pagings]
    differ = [str(d.iri) for d, a in zip(together, apart, strict=True) if d != a]
    assert not differ, differ[:5]
    assert any(len(ls.items) > 1 for d in together for ls in d.properties)
    for d in together[1::2]:  # size 2: the second page of each list goes on where the page stopped
        for ls in d.properties:
            if ls.count > 2:
                following = queries.describe(d.iri, Paging(size=2, focus=ls.key, page=2)).focus
                assert following.items[0].term not in {v.term for v in ls.items}, (d.iri, ls.key)
