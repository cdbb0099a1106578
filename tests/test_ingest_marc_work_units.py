"""The Work is one unit: what the records of a cluster say about it, each thing once.

Records are ingested through the real ``catalograph`` command into a real
on-disk store, then read from its latest checkpoint. The shipped sample
(data/) is enough for most checks; the Austen set (marc4j, LGPL) and UVa's
2,000 records (solrmarc) are read in place from ../shared/data, and those
tests skip when it is absent. Expected values were read in the records with
pymarc:

* princeton.xml, seven records (001 4606192, 4606209, 4612448, 4612558,
  4612577, 4612596, 4603408): 100 1 $a Donatus, Aelius. ; 245 10 $a Ars minor
  [fragment]. Record 4606209 adds 700 $a Howard, Arthur, $c Sir, $e former
  owner. $5 NjP and 710 $a Maggs Bros., $e bookseller. $5 NjP.
* princeton.xml 001 4609321 (the Gutenberg Bible): 130 0 $a Bible. $l Latin.
  $s Vulgate. $f 1456. ; no 1XX ; 700 Gutenberg, Johann, $d 1397?-1468, $e
  printer. ; 700 Fogel, Johannes, $d fl. 1455-1462, $e binder. $5 NjP ; 710
  Predigerkirche (Erfurt, Germany), $e former owner. ; 700 Brinley, George, Ives,
  Brayton, Cole, Hamilton, Ellsworth, James W. (James William), each $e former
  owner. $5 NjP.
* pride-and-prejudice-fixed.mrc: seven records whose 240 is "Novels" (010
  2006274247, 93004574, 83005473, 95136691, 81010777, 92050209, 2001411738) and
  two whose 240 is "Works." (010 75028070 "The complete novels of Jane Austen",
  Vintage 1976; 001 2091983 "[The Folio Jane Austen]", 1975). 83005473 and
  92050209 are the Modern Library's 1983 and 1992 editions of "The complete
  novels of Jane Austen". 80040257 (240 Selections) and 90031996 (240 Novels.
  $k Selections) are OUP's 1980 and 1990 "Northanger Abbey ; Lady Susan ; The
  Watsons ; and Sanditon".
* cjk2.marc (marc-perl): see the test that reads it.
* uva_001_2000.mrc record 1165 (001 u1194, 003 SIRSI): 100 Keith, George, $d 1639?-1716. ;
  700 Skene, Alexander, $e editor. ; 700 Rutherford, Samuel, $d 1600?-1661. ;
  700 Forbes, John, $d active 1685, $e printer. ; 700 Mather, William Gwinn, $d
  1857-1951, $e former owner. $5 ViU ; 710 Tracy W. McGregor Library. $b Mather
  Collection. ; 710 McGregor Fund.
"""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Store
from test_ingest_marc_mapping import RELATORS, ask, column, select, store_of, work_iri

from graph import open_latest_snapshot
from ingest.iri import IriMinter
from ingest.marc import titles, works
from tests.conftest import BASE, SAMPLE_DATA, shared_path
from tests.test_cli_ingest import catalograph

BF = "http://id.loc.gov/ontologies/bibframe/"
CG = "https://w3id.org/catalograph/ontology#"
DONATUS = "donatus aelius|ars minor fragment"
PRIDE = "austen jane|pride and prejudice"
#: Roles in one manifestation, copy or edition that the records of the corpus carry.
INSTANCE_ROLE_CODES = ("prt", "pbl", "bsl", "bnd", "fmo", "dnr", "dst", "fds", "scr", "trl", "edt")


def _ingest(data_dir: Path, *paths: Path) -> Store:
    done = catalograph(data_dir, "ingest", *map(str, paths))
    assert "written" in done.stderr, done.stderr
    return open_latest_snapshot(data_dir)


@pytest.fixture(scope="module")
def shipped(sample_copy: Path) -> Store:
    """data/ (the demo sample), ingested as ``bash .ci/up`` does (``tests/conftest.py``)."""
    return open_latest_snapshot(sample_copy)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """data/ with the Austen set and UVa's 2,000 records (read in place from ../shared/data)."""
    austen = shared_path("marc/marc4j/pride-and-prejudice-fixed.mrc")
    uva = shared_path("marc/solrmarc/uva_001_2000.mrc")
    return _ingest(tmp_path_factory.mktemp("corpus") / "data", SAMPLE_DATA, austen, uva)


def _agent(store: Store, label: str) -> str:
    [(agent,)] = select(store, f'SELECT DISTINCT ?a WHERE {{ ?a a bf:Agent ; rdfs:label "{label}" }}')
    return agent


def _instance_roles(store: Store, instance: str) -> set[tuple[str, str]]:
    return set(select(store, f"""SELECT DISTINCT ?name ?role WHERE {{
        <{instance}> bf:contribution ?c . ?c bf:agent/rdfs:label ?name ; bf:role ?role }}"""))


def _duplicate_contributions(store: Store) -> list[tuple]:
    return select(store, """SELECT ?owner ?agent (COUNT(DISTINCT ?c) AS ?n) WHERE {
        ?owner bf:contribution ?c . ?c bf:agent ?agent } GROUP BY ?owner ?agent
        HAVING (COUNT(DISTINCT ?c) > 1)""")


# ---------------------------------------------------------------- one contribution per agent


def test_the_donatus_cluster_states_donatus_once(shipped: Store) -> None:
    work = work_iri(DONATUS)
    graphs = column(shipped, f"""SELECT ?g WHERE {{ GRAPH ?g {{ ?l cg:linkedWork <{work}> }} }}""")
    assert {g.rsplit("/", 1)[1] for g in graphs} == {
        "4606192", "4606209", "4612448", "4612558", "4612577", "4612596", "4603408"}
    # Before: one bf:Contribution per record, so Donatus was listed 7 times.
    donatus = _agent(shipped, "Donatus, Aelius")
    node = IriMinter.part(NamedNode(work), "contribution", donatus).value
    assert column(shipped, f"SELECT ?c WHERE {{ <{work}> bf:contribution ?c }}") == {node}
    assert column(shipped, f"SELECT ?t WHERE {{ <{node}> a ?t }}") == {
        BF + "Contribution", BF + "PrimaryContribution"}
    assert column(shipped, f"SELECT ?a WHERE {{ <{node}> bf:agent ?a }}") == {donatus}
    assert not ask(shipped, f"ASK {{ <{node}> bf:role ?r }}")  # 100 without $e: no role invented


def test_no_owner_has_two_contribution_nodes_for_one_agent(shipped: Store) -> None:
    # Before: 79 (work, agent) pairs in data/ + the Austen set had several nodes (Austen: 167).
    assert _duplicate_contributions(shipped) == []


def test_a_related_works_contribution_is_a_part_of_that_work(shipped: Store) -> None:
    # musical_cage.marc: 700 12 $a Cage, John. $t Winter music
    winter = work_iri("cage john|winter music")
    cage = _agent(shipped, "Cage, John")
    node = IriMinter.part(NamedNode(winter), "contribution", cage).value
    assert column(shipped, f"SELECT ?c WHERE {{ <{winter}> bf:contribution ?c }}") == {node}


# ---------------------------------------------------------------- roles of one manifestation or copy


def test_booksellers_and_former_owners_are_on_the_instance(shipped: Store) -> None:
    instance = f"{BASE}instance/ctrl-marc-4606209"
    assert _instance_roles(shipped, instance) == {
        ("Howard, Arthur, Sir", RELATORS + "fmo"), ("Maggs Bros.", RELATORS + "bsl")}
    assert not ask(shipped, """ASK { ?w a bf:Work ; bf:contribution/bf:agent/rdfs:label ?n
        FILTER(?n IN ("Howard, Arthur, Sir", "Maggs Bros.")) }""")


def test_the_printer_binder_and_owners_of_a_gutenberg_bible_are_on_its_instance(shipped: Store) -> None:
    instance = f"{BASE}instance/ctrl-marc-4609321"
    assert _instance_roles(shipped, instance) == {
        ("Gutenberg, Johann, 1397?-1468", RELATORS + "prt"),
        ("Fogel, Johannes, fl. 1455-1462", RELATORS + "bnd"),
        ("Predigerkirche (Erfurt, Germany)", RELATORS + "fmo"),
        ("Brinley, George, 1817-1875", RELATORS + "fmo"),
        ("Ives, Brayton, 1840-1914", RELATORS + "fmo"),
        ("Cole, Hamilton", RELATORS + "fmo"),
        ("Ellsworth, James W. (James William), 1849-1925", RELATORS + "fmo"),
    }
    # The Work "Bible" gathers four Bibles of data/: none of their printers or owners is its.
    [(work,)] = select(shipped, f"SELECT ?w WHERE {{ <{instance}> bf:instanceOf ?w }}")
    assert work == work_iri("|bible")
    assert not ask(shipped, f"ASK {{ <{work}> bf:contribution ?c }}")


def _roles_on(store: Store, cls: str) -> set[str]:
    values = " ".join(f"<{RELATORS}{code}>" for code in INSTANCE_ROLE_CODES)
    return column(store, f"""SELECT ?r WHERE {{ VALUES ?r {{ {values} }}
        ?o a {cls} ; bf:contribution ?c . ?c bf:role ?r }}""")


def test_no_work_carries_a_role_of_one_manifestation_or_copy(shipped: Store) -> None:
    assert _roles_on(shipped, "bf:Work") == set()
    assert {RELATORS + code for code in ("prt", "bsl", "bnd", "fmo", "trl", "edt")} <= _roles_on(
        shipped, "bf:Instance")


def test_a_name_with_a_work_role_and_an_edition_role_contributes_to_both() -> None:
    # RDA_record_SCORE_Arias_for_bass.mrc: 700 1 $a Larsen, Robert L., $d 1934- $e editor, $e compiler.
    store = store_of(shared_path("marc/evergreen/RDA_record_SCORE_Arias_for_bass.mrc"))
    rows = set(select(store, """SELECT ?class ?role WHERE { ?o bf:contribution ?c ; a ?class .
        ?c bf:agent/rdfs:label "Larsen, Robert L., 1934-" ; bf:role ?role
        FILTER(?class IN (bf:Work, bf:Instance)) }"""))
    assert rows == {(BF + "Work", RELATORS + "com"), (BF + "Instance", RELATORS + "edt")}


# ---------------------------------------------------------------- the corpus


@pytest.mark.slow
def test_the_austen_and_uva_corpus_states_each_creator_once(corpus: Store) -> None:
    assert _duplicate_contributions(corpus) == []
    assert _roles_on(corpus, "bf:Work") == set()
    pride = work_iri(PRIDE)
    [(instances,)] = select(corpus, f"SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?i bf:instanceOf <{pride}> }}")
    assert int(instances) >= 140  # 148 measured (docs/mapping.md)
    austen = _agent(corpus, "Austen, Jane, 1775-1817")
    assert len(column(corpus, f"SELECT ?c WHERE {{ <{pride}> bf:contribution ?c . ?c bf:agent <{austen}> }}")) == 1
    # 21 title blocks before (one per record with a 240): one now, a part of the Work.
    node = IriMinter.part(NamedNode(pride), "title", "pride and prejudice").value
    assert column(corpus, f"SELECT ?t WHERE {{ <{pride}> bf:title ?t }}") == {node}
    assert column(corpus, f"SELECT ?m WHERE {{ <{node}> bf:mainTitle ?m }}") == {"Pride and prejudice"}


def test_jefferson_owned_copies_and_contributed_only_where_named_without_a_role(corpus: Store) -> None:
    jefferson = _agent(corpus, "Jefferson, Thomas, 1743-1826")
    # u1050 (the President's message to the House, 1808): 700 1 $a Jefferson, Thomas, $d 1743-1826.
    [(message,)] = select(corpus, f"""SELECT ?w WHERE {{
        GRAPH <{BASE}graph/sirsi/u1050> {{ ?link cg:linkedInstance ?i ; cg:linkedWork ?w }} }}""")
    assert column(corpus, f"SELECT ?w WHERE {{ ?w a bf:Work ; bf:contribution/bf:agent <{jefferson}> }}") == {
        message}
    # u1388, u1389, u1392, u1393, u1777...: 700 Jefferson, Thomas, $d 1743-1826 $e former owner. $5 ViU
    owned = column(corpus, f"""SELECT ?i WHERE {{ ?i a bf:Instance ; bf:contribution ?c .
        ?c bf:agent <{jefferson}> ; bf:role <{RELATORS}fmo> }}""")
    assert len(owned) >= 5


def test_a_named_work_keeps_its_creators_and_its_edition_roles_go_to_the_instance(corpus: Store) -> None:
    [(instance, work)] = select(corpus, f"""SELECT ?i ?w WHERE {{
        GRAPH <{BASE}graph/sirsi/u1194> {{ ?link cg:linkedInstance ?i ; cg:linkedWork ?w }} }}""")
    on_work = set(select(corpus, f"""SELECT ?name ?primary WHERE {{ <{work}> bf:contribution ?c .
        ?c bf:agent/rdfs:label ?name BIND(EXISTS {{ ?c a bf:PrimaryContribution }} AS ?primary) }}"""))
    assert {name for name, _ in on_work} == {
        "Keith, George, 1639?-1716", "Rutherford, Samuel, 1600?-1661",
        "Tracy W. McGregor Library. Mather Collection", "McGregor Fund"}
    assert ("Keith, George, 1639?-1716", "true") in on_work
    assert _instance_roles(corpus, instance) == {
        ("Skene, Alexander", RELATORS + "edt"),
        ("Forbes, John, active 1685", RELATORS + "prt"),
        ("Mather, William Gwinn, 1857-1951", RELATORS + "fmo"),
    }


# ---------------------------------------------------------------- collective uniform titles


#: The instances of the seven records whose 240 is "Novels", by LCCN.
NOVELS = {
    lccn: f"{BASE}instance/lccn-{lccn}"
    for lccn in ("2006274247", "93004574", "83005473", "95136691", "81010777", "92050209", "2001411738")
}


def test_novels_and_works_no_longer_gather_different_books(corpus: Store) -> None:
    # Before: "austen jane|novels" linked the seven instances, "austen jane|works" two.
    assert not ask(corpus, """ASK { ?l cg:matchKey ?k FILTER(?k IN ("austen jane|novels",
        "austen jane|works", "austen jane|novels selections", "austen jane|selections")) }""")
    works_of = {
        lccn: column(corpus, f"SELECT ?w WHERE {{ GRAPH ?g {{ ?l cg:linkedInstance <{iri}> ; "
                             f"cg:reason cg:SameCollectiveTitleAndTitle ; cg:linkedWork ?w }} }}")
        for lccn, iri in NOVELS.items()
    }
    assert all(len(found) == 1 for found in works_of.values()), works_of
    assert len(set().union(*works_of.values())) == 5
    # The Modern Library's two editions of "The complete novels of Jane Austen" still meet,
    # and with them Vintage's, whose 240 says "Works." where theirs says "Novels".
    key = "austen jane|collective|complete novels of jane austen"
    assert works_of["83005473"] == works_of["92050209"] == {work_iri(key)}
    vintage = column(corpus, f"SELECT ?k WHERE {{ ?l cg:linkedInstance <{BASE}instance/lccn-75028070> ; "
                             "cg:matchKey ?k }")
    assert vintage == {key}
    folio = column(corpus, f"SELECT ?k WHERE {{ GRAPH <{BASE}graph/marc/2091983> {{ ?l cg:matchKey ?k }} }}")
    assert folio == {"austen jane|collective|folio jane austen"}


def test_a_selection_meets_its_other_editions_whatever_its_form_title(corpus: Store) -> None:
    # 010 80040257 (240 Selections) and 90031996 (240 Novels. Selections): OUP's 1980 and 1990
    # editions of "Northanger Abbey ; Lady Susan ; The Watsons ; and Sanditon"
    key = "austen jane|collective|northanger abbey lady susan the watsons and sanditon"
    for lccn in ("80040257", "90031996"):
        assert select(corpus, f"""SELECT ?w ?r WHERE {{ ?l cg:linkedInstance <{BASE}instance/lccn-{lccn}> ;
            cg:linkedWork ?w ; cg:reason ?r }}""") == [(work_iri(key), CG + "SameCollectiveTitleAndTitle")]
    # ... and a selection from a named work keeps that work in its key (oclc.xml: 100 Bizet, Georges;
    # 240 Carmen. $k Selections ; 245 Carmen): highlights are not the opera
    assert ask(corpus, 'ASK { ?l cg:matchKey "bizet georges|carmen selections|carmen" }')
    assert not ask(corpus, 'ASK { ?l cg:matchKey "bizet georges|carmen" }')


def test_a_name_title_heading_with_a_collective_title_is_a_work_of_the_record_alone() -> None:
    # cjk2.marc (001 NJPX02-B1931): 700 12 $a Shikishi, $c Princess, daughter of Goshirakawa,
    # Emperor of Japan, $d d. 1201. $t Works. $f 2001. : her collected poems, within a commentary;
    # keyed "shikishi|works" it would be every collection of her works any record names.
    store = store_of(shared_path("marc/marc-perl/cjk2.marc"))
    graph = f"{BASE}graph/cstrlin/NJPX02-B1931"
    assert column(store, "SELECT ?p WHERE { ?w bf:hasPart ?p }") == {f"{graph}#work-1"}
    assert not ask(store, f"ASK {{ <{work_iri('shikishi|works')}> ?p ?o }}")
    [(contribution,)] = select(store, f"SELECT ?c WHERE {{ <{graph}#work-1> bf:contribution ?c }}")
    assert contribution.startswith(f"{graph}#contribution-")


def test_translations_with_a_real_uniform_title_still_meet(corpus: Store) -> None:
    # record 290: 240 Pride and prejudice. $l French. $f 1982. ; 245 Orgueil et préjugés
    rows = select(corpus, f"""SELECT ?w ?r WHERE {{
        ?l cg:linkedInstance <{BASE}instance/isbn-9782264004529> ; cg:linkedWork ?w ; cg:reason ?r }}""")
    assert rows == [(work_iri(PRIDE), CG + "SameUniformTitle")]


def test_collective_title_rules_doctests() -> None:
    assert doctest.testmod(titles).failed == 0
    assert doctest.testmod(works).failed == 0
