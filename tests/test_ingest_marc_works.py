"""Work clustering (ingest/marc/works.py), shared Instances, and the whole test corpus mapped.

The clustering test reads marc4j's 383-record *Pride and prejudice* result
set (LGPL: read in place from ../shared/data) and checks that editions and a
translation with a uniform title meet in one Work, each link with its reason.
"""

from __future__ import annotations

import functools
import re

from pyoxigraph import Literal, RdfFormat, Store, parse
from test_ingest_marc_mapping import MINTER, column, read, select, store_of, work_iri

from ingest.mapping import map_record
from ingest.marc.mapper import map_marc
from ingest.model import Position, RecordGraph, Rejected, SourceRecord
from tests.conftest import BASE, TEST_DATA, shared_path, test_path


def home_graph(quad) -> str:  # noqa: ANN001
    """The graph a mapped statement must be in (``ontology.layout``)."""
    obj = quad.object.value if type(quad.object).__name__ == "NamedNode" else None
    return MINTER.layout.home_graph(quad.subject.value, obj)

PRIDE = "austen jane|pride and prejudice"
CG = "https://w3id.org/catalograph/ontology#"


@functools.lru_cache(maxsize=1)
def pride_and_prejudice_mapped() -> list[RecordGraph | Rejected]:
    path = shared_path("marc/marc4j/pride-and-prejudice-fixed.mrc")
    return [
        map_marc(SourceRecord(Position(path.name, index + 1), "marc", record), MINTER)
        for index, record in enumerate(read(path))
    ]


@functools.lru_cache(maxsize=1)
def pride_and_prejudice() -> Store:
    store = Store()
    for mapped in pride_and_prejudice_mapped():
        if isinstance(mapped, RecordGraph):
            store.load(mapped.all_nquads, format=RdfFormat.N_QUADS)
    return store


def test_unimarc_records_in_the_set_are_refused_not_mapped_into_junk() -> None:
    """17 of the 383 records are UNIMARC (MANIFEST: 200 title, 100 coded data, no 245).

    Mapped as MARC21 they gave instances without a title and agents named like
    "19001124d1981       y engy01      b." (their 100 $a).
    """
    refused = [m for m in pride_and_prejudice_mapped() if isinstance(m, Rejected)]
    assert len(refused) == 17
    assert {m.rule for m in refused} == {"unimarc"}
    assert all("its title is in 200" in m.reason for m in refused)
    labels = column(pride_and_prejudice(), "SELECT ?l WHERE { ?a a bf:Agent ; rdfs:label ?l }")
    assert labels and not [label for label in labels if re.match(r"\d{8}[a-kux]", label)]


def _link(store: Store, instance: str) -> set[tuple]:
    return set(select(store, f"""SELECT ?w ?r ?k WHERE {{
        ?l cg:linkedInstance <{instance}> ; cg:linkedWork ?w ; cg:reason ?r ; cg:matchKey ?k }}"""))


def test_editions_and_a_translation_with_a_uniform_title_share_one_work() -> None:
    store = pride_and_prejudice()
    # record 10: 100 Austen, Jane, 1775-1817. ; 245 Pride and prejudice / (no 240)
    penguin = f"{BASE}instance/isbn-9780140238211"  # 020 $a 0140238212 as ISBN-13
    assert _link(store, penguin) == {(work_iri(PRIDE), CG + "SameCreatorAndTitle", PRIDE)}
    # record 290: 240 Pride and prejudice. $l French. $f 1982. ; 245 Orgueil et préjugés
    french = f"{BASE}instance/isbn-9782264004529"  # 020 $a 2264004525
    assert _link(store, french) == {(work_iri(PRIDE), CG + "SameUniformTitle", PRIDE)}
    assert column(store, f"SELECT ?l WHERE {{ <{french}> bf:language ?l }}") == {
        "http://id.loc.gov/vocabulary/languages/fre"}


def test_clustering_gives_far_fewer_works_than_instances() -> None:
    store = pride_and_prejudice()
    [(works, instances)] = select(store, """SELECT (COUNT(DISTINCT ?w) AS ?works) (COUNT(DISTINCT ?i) AS ?instances)
        WHERE { ?i bf:instanceOf ?w }""")
    assert int(instances) > 300 and int(works) * 3 < int(instances)
    [(pride,)] = select(store, f"SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?i bf:instanceOf <{work_iri(PRIDE)}> }}")
    assert int(pride) >= 140
    reasons = column(store, f"SELECT ?r WHERE {{ ?l cg:linkedWork <{work_iri(PRIDE)}> ; cg:reason ?r }}")
    assert reasons == {CG + "SameCreatorAndTitle", CG + "SameUniformTitle"}


def test_a_translation_without_uniform_title_keeps_its_own_work_but_says_its_original_language() -> None:
    store = pride_and_prejudice()
    # record 294: 041 1 $a fre $h eng ; 245 Orgueil et préjugé (no 240: the original title is unknown)
    french = f"{BASE}instance/isbn-9782268040257"  # 020 $a 2268040259 (br.)
    [(work, reason, key)] = _link(store, french)
    assert key == "austen jane|orgueil et prejuge" and reason == CG + "SameCreatorAndTitle"
    assert column(store, f"SELECT ?l WHERE {{ <{work}> bf:language ?l }}") == {
        "http://id.loc.gov/vocabulary/languages/eng"}


def test_two_records_sharing_an_lccn_describe_one_instance() -> None:
    store = pride_and_prejudice()
    # records 28 (001 001395440) and 31 (001 13113436) both have 010 $a 2003265779
    instance = MINTER.from_identifier("instance", "lccn", "2003265779").value
    graphs = column(store, f"SELECT ?g WHERE {{ GRAPH ?g {{ ?l cg:linkedInstance <{instance}> }} }}")
    assert {g.rsplit("/", 1)[1] for g in graphs} == {"001395440", "13113436"}
    assert column(store, f"SELECT ?w WHERE {{ <{instance}> bf:instanceOf ?w }}") == {work_iri(PRIDE)}


def test_no_creator_and_no_uniform_title_keys_the_work_to_the_instance() -> None:
    # 245 00 Wuyang Jiahu. $n (Er) ; no 1XX, no 130: a title alone could be anyone's "Report"
    store = store_of(test_path("marcxml/marc2bibframe2/880/650complex-651-651complex.xml"))
    instance = MINTER.from_identifier("instance", "lccn", "2018468840").value
    key = f"instance|{instance}"
    assert _link(store, instance) == {(work_iri(key), CG + "RecordOnly", key)}
    assert column(store, f"SELECT ?l WHERE {{ <{work_iri(key)}> rdfs:label ?l }}") == {"Wuyang Jiahu. (Er)"}


def test_uniform_title_alone_keys_a_work_but_a_selection_needs_its_title_proper() -> None:
    # nature: 130 0 Nature (London, England) and no 1XX
    nature = store_of(test_path("marc/traject/nature.marc"))
    assert column(nature, "SELECT ?k WHERE { ?l cg:matchKey ?k ; cg:reason cg:SameUniformTitle }") == {
        "|nature london england"}
    # test_data.utf8 record 7: 130 0 Koryŏsa. $p Yŏlchŏn. $k Selections. names no one work;
    # with its title proper (245 10 Koryŏ inmul yŏlchŏn /) it names this selection
    koryo = store_of(test_path("marc/traject/test_data.utf8.mrc"), 6)
    assert select(koryo, "SELECT ?r ?k WHERE { ?l cg:reason ?r ; cg:matchKey ?k }") == [
        (CG + "SameCollectiveTitleAndTitle", "|koryosa yolchon selections|koryo inmul yolchon")]


# ---------------------------------------------------------------- the whole committed corpus


def _corpus_files() -> list:
    files = sorted((TEST_DATA / "marc").rglob("*.m*")) + sorted((TEST_DATA / "marc").rglob("*.dat"))
    return files + sorted((TEST_DATA / "marcxml").rglob("*.xml"))


def test_every_good_test_record_maps_without_error_blank_node_or_empty_literal() -> None:
    files = _corpus_files()
    assert len(files) >= 30
    mapped = 0
    for path in files:
        for index, record in enumerate(read(path)):
            source = SourceRecord(Position(path.name, index + 1), "marc", record)
            result = map_record(source, MINTER)
            assert not isinstance(result, Rejected), str(result)
            if result.deleted:
                continue
            mapped += 1
            for quad in parse(result.all_nquads, format=RdfFormat.N_QUADS):
                assert quad.graph_name.value == home_graph(quad)  # each statement in its one graph
                for term in (quad.subject, quad.object):
                    assert type(term).__name__ != "BlankNode", f"{path.name} #{index + 1}: {quad}"
                if isinstance(quad.object, Literal):
                    assert quad.object.value.strip(), f"{path.name} #{index + 1}: empty literal {quad}"
    assert mapped > 150


def test_mapping_is_deterministic() -> None:
    path = test_path("marc/traject/hebrew880s.marc")
    record = read(path)[0]
    first = map_marc(SourceRecord(Position(path.name, 1), "marc", record), MINTER)
    again = map_marc(SourceRecord(Position(path.name, 1), "marc", record), MINTER)
    assert first.nquads == again.nquads and first.content_hash == again.content_hash
