"""Scholarly sources -> BIBFRAME (ingest/scholarly/, ingest/sources/scholarly.py), on real records.

Each file is a real API response or fixture (tests/data/oa, from the MIT-licensed
commonmeta-py, habanero and pubmed_parser repositories: tests/data/README.md);
the expected values were read by hand from the files (a text editor, ``jq``).
Records go through the format's reader (found by ``detect_format``, never
told the format) and mapper; the N-Quads are loaded into an in-memory store
and queried with SPARQL.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, Store

from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import RecordGraph, Rejected
from ingest.sources import detect_format, get_source
from ontology.namespaces import PREFIXES
from tests.conftest import BASE, SHARED_DATA, shared_path, test_path

MINTER = IriMinter(BASE)
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


@functools.lru_cache(maxsize=32)
def mapped(path: Path) -> tuple[str, tuple[RecordGraph | Rejected, ...]]:
    """``(detected format, what each record became)``."""
    name = detect_format(path)
    assert name is not None, f"{path} not detected"
    out = []
    for item in get_source(name).read(path):
        out.append(item if isinstance(item, Rejected) else map_record(item, MINTER))
    return name, tuple(out)


def store_of(path: Path) -> Store:
    store = Store()
    for graph in mapped(path)[1]:
        assert isinstance(graph, RecordGraph), str(graph)
        store.load(graph.all_nquads, format=RdfFormat.N_QUADS)
    return store


def values(store: Store, query: str) -> list[str]:
    rows = store.query(SPARQL_PREFIXES + query, use_default_graph_as_union=True)
    return sorted(str(row[0].value) for row in rows)


def doi_instance(doi: str) -> str:
    return MINTER.from_identifier("instance", "doi", doi).value


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("relative", "expected", "records"),
    [
        ("oa/crossref/test_works_with_one_id.json", "crossref", 1),
        ("oa/crossref/test_works_query.json", "crossref", 2),
        ("oa/crossref/crossref.json", "crossref", 1),
        ("oa/crossref/crossref.xml", "crossref-xml", 1),
        ("oa/openalex/test_journal_article_with_funding.json", "openalex", 1),
        ("oa/openalex/test_get_random_id_from_openalex_1.json", "openalex", 5),
        ("oa/datacite/test_dataset_1.json", "datacite", 1),
        ("oa/datacite/datacite.json", "datacite", 1),
        ("oa/datacite/datacite-example-full-v4.4.xml", "datacite-xml", 1),
        ("oa/jats/pone.0046493.nxml", "jats", 1),
        ("oa/pubmed/pubmed-29768149.xml", "pubmed", 1),
    ],
)
def test_each_format_is_detected_by_content_and_every_record_maps(
    relative: str, expected: str, records: int
) -> None:
    name, graphs = mapped(test_path(relative))
    assert name == expected
    assert len(graphs) == records  # counts of MANIFEST.md / looked up by hand
    assert all(isinstance(g, RecordGraph) for g in graphs), [str(g) for g in graphs]


def test_a_json_file_of_something_else_is_not_claimed(tmp_path: Path) -> None:
    other = tmp_path / "package.json"
    other.write_text('{"name": "catalograph", "version": "0.1.0", "items": [1, 2]}')
    assert detect_format(other) is None
    jats_named_json = tmp_path / "article.json"
    jats_named_json.write_bytes(test_path("oa/jats/pone.0046493.nxml").read_bytes())
    assert detect_format(jats_named_json) == "jats"  # content, not name


# ---------------------------------------------------------------- Crossref JSON


def test_crossref_work_doi_journal_enumeration_licence_editor_and_references() -> None:
    # test_works_with_one_id.json: PLoS ONE 7(3) e33693, ISSN 1932-6203 (electronic), 6 authors,
    # 1 editor (Borlongan), 70 references of which 65 carry a DOI, CC BY 4.0.
    store = store_of(test_path("oa/crossref/test_works_with_one_id.json"))
    instance = doi_instance("10.1371/journal.pone.0033693")
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> bf:identifiedBy [ a bf:Doi ; rdf:value ?v ] }}") == [
        "10.1371/journal.pone.0033693"
    ]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:volumeNumber ?v }}") == ["7"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:issueNumber ?v }}") == ["3"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:pagination ?v }}") == ["e33693"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> dcterms:license ?v }}") == [
        "http://creativecommons.org/licenses/by/4.0/"
    ]
    serial = MINTER.from_identifier("instance", "issn", "1932-6203").value
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> bf:partOf ?v }}") == [serial]
    assert values(store, f"SELECT ?v WHERE {{ <{serial}> bf:identifiedBy [ a bf:Issn ; rdf:value ?v ] }}") == [
        "1932-6203"
    ]
    assert values(store, f"SELECT ?t WHERE {{ <{serial}> bf:instanceOf [ a bf:Serial ; rdfs:label ?t ] }}") == [
        "PLoS ONE"
    ]
    authors = values(store, "SELECT ?n WHERE { ?w a bf:Work ; bf:contribution [ bf:agent [ rdfs:label ?n ] ;"
                            " bf:role relators:aut ] }")
    assert len(authors) == 6 and "Sadasivan, Shankar" in authors
    assert values(store, f"SELECT ?n WHERE {{ <{instance}> bf:contribution [ bf:agent [ rdfs:label ?n ] ;"
                         " bf:role relators:edt ] }") == ["Borlongan, Cesario V."]
    cited = values(store, f"SELECT ?c WHERE {{ <{instance}> bf:references ?c }}")
    assert len(cited) == 65
    assert doi_instance("10.1038/sj.npp.1301164") in cited  # the first reference


def test_crossref_abstract_markup_is_stripped_and_funders_keep_their_registry_doi() -> None:
    # crossref.json (eLife 10.7554/eLife.01567): a JATS abstract; 8 funder entries, 5 with a
    # Funder Registry DOI (University of Lausanne twice, EMBO, Swiss National Science Foundation).
    store = store_of(test_path("oa/crossref/crossref.json"))
    abstract = values(store, "SELECT ?t WHERE { ?w bf:summary [ rdfs:label ?t ] }")
    assert len(abstract) == 1
    assert abstract[0].startswith("Among various advantages, their small size makes model organisms")
    assert "<" not in abstract[0] and "jats" not in abstract[0]
    funders = values(store, "SELECT DISTINCT ?f WHERE { ?w schema:funding [ schema:funder ?f ] }")
    assert "https://doi.org/10.13039/501100001711" in funders
    assert "https://doi.org/10.13039/501100006390" in funders
    assert values(store, "SELECT ?n WHERE { <https://doi.org/10.13039/501100003043> rdfs:label ?n }") == ["EMBO"]


def test_crossref_xml_query_result_gives_the_same_instance_as_the_json() -> None:
    # crossref.xml is the query-result XML of the same eLife article as crossref.json.
    xml = store_of(test_path("oa/crossref/crossref.xml"))
    instance = doi_instance("10.7554/elife.01567")
    assert values(xml, f"SELECT ?t WHERE {{ <{instance}> rdfs:label ?t }}") == [
        "Automated quantitative histology reveals vascular morphodynamics during Arabidopsis hypocotyl "
        "secondary growth"
    ]
    assert values(xml, f"SELECT ?v WHERE {{ <{instance}> schema:volumeNumber ?v }}") == ["3"]
    serial = MINTER.from_identifier("instance", "issn", "2050-084X").value
    assert values(xml, f"SELECT ?v WHERE {{ <{instance}> bf:partOf ?v }}") == [serial]
    json_store = store_of(test_path("oa/crossref/crossref.json"))
    # 27 citations in both; the XML's bib6 (Dolan 1993, Development 119:71) has no DOI yet.
    from_xml = values(xml, f"SELECT ?c WHERE {{ <{instance}> bf:references ?c }}")
    from_json = values(json_store, f"SELECT ?c WHERE {{ <{instance}> bf:references ?c }}")
    assert (len(from_xml), len(from_json)) == (26, 27)
    assert set(from_xml) < set(from_json)
    # One source, one record graph: the XML and the JSON name the same graph.
    assert mapped(test_path("oa/crossref/crossref.xml"))[1][0].graph == mapped(
        test_path("oa/crossref/crossref.json"))[1][0].graph


# ---------------------------------------------------------------- OpenAlex


def test_openalex_orcid_ror_issn_l_award_and_abstract() -> None:
    # test_journal_article_with_funding.json: Fortes (ORCID 0000-0001-7552-0164, University of
    # Lisbon ror 01c27hj86), Frontiers in Plant Science (ISSN-L 1664-462X) vol. 10 p. 816,
    # award CA17111 of European Cooperation in Science and Technology (ror 01bstzn19).
    store = store_of(test_path("oa/openalex/test_journal_article_with_funding.json"))
    instance = doi_instance("10.3389/fpls.2019.00816")
    orcid = "https://orcid.org/0000-0001-7552-0164"
    assert values(store, f"SELECT ?n WHERE {{ <{orcid}> a bf:Person ; rdfs:label ?n }}") == [
        "Fortes, Ana Margarida"]
    assert values(store, f"SELECT ?org WHERE {{ ?c bf:agent <{orcid}> ; cg:affiliation ?org }}") == [
        "https://ror.org/01c27hj86"]
    assert values(store, "SELECT ?n WHERE { <https://ror.org/01c27hj86> a bf:Organization ; rdfs:label ?n }") == [
        "University of Lisbon"]
    serial = MINTER.from_identifier("instance", "issn", "1664-462X").value
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> bf:partOf ?v }}") == [serial]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:volumeNumber ?v }}") == ["10"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:pageStart ?v }}") == ["816"]
    assert values(store, "SELECT ?a WHERE { ?w schema:funding [ schema:funder <https://ror.org/01bstzn19> ;"
                         " schema:identifier ?a ] }") == ["CA17111"]
    abstract = values(store, "SELECT ?t WHERE { ?w bf:summary [ rdfs:label ?t ] }")
    assert abstract[0].startswith("Polyamines are growth regulators that have been widely implicated")
    assert values(store, "SELECT ?s WHERE { <https://openalex.org/keywords/polyamine> skos:inScheme [ rdfs:label ?s ] }"
                  ) == ["OpenAlex keywords"]


def test_openalex_sici_doi_keeps_its_brackets_and_the_url_it_cannot_be_is_dropped() -> None:
    # test_doi_with_sici.json: DOI 10.1890/0012-9658(2006)87[2832:TIOPMA]2.0.CO;2, whose landing
    # page URL has "[" and "]", which an IRI may not hold.
    name, graphs = mapped(test_path("oa/openalex/test_doi_with_sici.json"))
    assert isinstance(graphs[0], RecordGraph), str(graphs[0])
    store = store_of(test_path("oa/openalex/test_doi_with_sici.json"))
    instance = doi_instance("10.1890/0012-9658(2006)87[2832:tiopma]2.0.co;2")
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> bf:identifiedBy [ a bf:Doi ; rdf:value ?v ] }}") == [
        "10.1890/0012-9658(2006)87[2832:tiopma]2.0.co;2"]


# ---------------------------------------------------------------- DataCite


def test_datacite_api_dataset_subjects_with_scheme_licence_and_cited_by() -> None:
    # test_dataset_1.json: Dryad dataset 10.5061/dryad.8515, 8 creators, subjects "Plasmodium" and
    # "Malaria" in the PLOS Subject Area Thesaurus, CC0, IsCitedBy 10.1371/journal.ppat.1000446.
    store = store_of(test_path("oa/datacite/test_dataset_1.json"))
    instance = doi_instance("10.5061/dryad.8515")
    work = values(store, f"SELECT ?w WHERE {{ <{instance}> bf:instanceOf ?w . ?w a bf:Dataset }}")
    assert len(work) == 1
    plos = values(store, "SELECT ?l WHERE { ?c skos:inScheme <https://github.com/PLOS/plos-thesaurus> ;"
                         " rdfs:label ?l }")
    assert plos == ["Malaria", "Plasmodium"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> dcterms:license ?v }}") == [
        "https://creativecommons.org/publicdomain/zero/1.0/legalcode"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> bf:referencedBy ?v }}") == [
        doi_instance("10.1371/journal.ppat.1000446")]
    assert len(values(store, f"SELECT ?c WHERE {{ <{work[0]}> bf:contribution ?c }}")) == 8


def test_datacite_xml_orcids_funder_and_subtitle() -> None:
    # datacite-example-full-v4.4.xml: Miller (ORCID 0000-0001-5000-0007), contributor Starr
    # (ProjectLeader, ORCID 0000-0002-7285-027X), NSF award CBET-106 (Crossref Funder ID
    # https://doi.org/10.13039/100000001), subtitle "Demonstration of DataCite Properties.".
    store = store_of(test_path("oa/datacite/datacite-example-full-v4.4.xml"))
    instance = doi_instance("10.5072/example-full")
    assert values(store, f"SELECT ?t WHERE {{ <{instance}> bf:title [ bf:subtitle ?t ] }}") == [
        "Demonstration of DataCite Properties"]
    agents = values(store, "SELECT ?a WHERE { ?w bf:contribution [ bf:agent ?a ] }")
    assert agents == ["https://orcid.org/0000-0001-5000-0007", "https://orcid.org/0000-0002-7285-027X"]
    assert values(store, "SELECT ?r WHERE { ?c bf:agent <https://orcid.org/0000-0002-7285-027X> ;"
                         " bf:role [ rdfs:label ?r ] }") == ["Project Leader"]
    assert values(store, "SELECT ?a WHERE { ?w schema:funding [ schema:funder <https://doi.org/10.13039/100000001> ;"
                         " schema:identifier ?a ] }") == ["CBET-106"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> dcterms:license ?v }}") == [
        "https://creativecommons.org/publicdomain/zero/1.0/"]


# ---------------------------------------------------------------- JATS and PubMed


def test_jats_article_ids_journal_affiliations_editor_and_references() -> None:
    # pone.0046493.nxml: DOI 10.1371/journal.pone.0046493, PMID 23029536, PLoS ONE (epub ISSN
    # 1932-6203) 7(9) e46493, 9 authors, editor Manganelli.
    store = store_of(test_path("oa/jats/pone.0046493.nxml"))
    instance = doi_instance("10.1371/journal.pone.0046493")
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> bf:identifiedBy [ rdfs:label ?v ] }}") == [
        "PubMed 23029536", "PubMed Central 3460867"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:issueNumber ?v }}") == ["9"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:pagination ?v }}") == ["e46493"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> bf:partOf ?v }}") == [
        MINTER.from_identifier("instance", "issn", "1932-6203").value]
    title = values(store, f"SELECT ?t WHERE {{ <{instance}> rdfs:label ?t }}")
    assert title == ["MmPPOX Inhibits Mycobacterium tuberculosis Lipolytic Enzymes Belonging to the "
                     "Hormone-Sensitive Lipase Family and Alters Mycobacterial Growth"]
    assert len(values(store, "SELECT ?c WHERE { ?w a bf:Work ; bf:contribution ?c }")) == 9
    assert values(store, f"SELECT ?n WHERE {{ <{instance}> bf:contribution [ bf:agent [ rdfs:label ?n ] ] }}") == [
        "Manganelli, Riccardo"]
    affiliations = values(store, "SELECT DISTINCT ?n WHERE { ?c cg:affiliation [ rdfs:label ?n ] }")
    assert any(n.startswith("CNRS - Aix-Marseille Université") for n in affiliations)
    # Its 8 DOIs in pub-id-type="doi" name figures (<object-id>) and itself, not cited works:
    # none of its references carries a DOI.
    assert values(store, f"SELECT ?c WHERE {{ <{instance}> bf:references ?c }}") == []
    assert values(store, "SELECT ?t WHERE { ?w bf:summary [ rdfs:label ?t ] }")[0].startswith(
        "Lipid metabolism plays an important role during the lifetime of Mycobacterium tuberculosis")


def test_jats_references_with_a_doi_link_to_the_cited_instance() -> None:
    # 1471-2180-11-174.nxml (read from ../shared/data): 64 references, 50 with a pub-id DOI, the
    # first 10.1038/nrmicro1460.
    store = store_of(shared_path("oa/jats/pubmed_parser/1471-2180-11-174.nxml"))
    cited = values(store, f"SELECT ?c WHERE {{ <{doi_instance('10.1186/1471-2180-11-174')}> bf:references ?c }}")
    assert len(cited) == 50
    assert doi_instance("10.1038/nrmicro1460") in cited


def test_pubmed_article_mesh_issn_pages_and_structured_abstract() -> None:
    # pubmed-29768149.xml: NEJM 378(20):1865-1876, e-ISSN 1533-4406 and linking ISSN 0028-4793
    # (MedlineJournalInfo/ISSNLinking: the serial is named by it), DOI 10.1056/NEJMoa1715274,
    # 23 MeSH headings (e.g. "Asthma", D001249), abstract sections BACKGROUND, METHODS...
    store = store_of(test_path("oa/pubmed/pubmed-29768149.xml"))
    instance = doi_instance("10.1056/nejmoa1715274")
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:pageStart ?v }}") == ["1865"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:pageEnd ?v }}") == ["1876"]
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> schema:volumeNumber ?v }}") == ["378"]
    serial = MINTER.from_identifier("instance", "issn", "0028-4793").value
    assert values(store, f"SELECT ?v WHERE {{ <{instance}> bf:partOf ?v }}") == [serial]
    assert values(store, f"SELECT ?v WHERE {{ <{serial}> bf:identifiedBy [ a bf:Issn ; rdf:value ?v ] }}") == [
        "1533-4406"]
    mesh = values(store, "SELECT ?c WHERE { ?w bf:subject ?c . ?c skos:inScheme <http://id.nlm.nih.gov/mesh> }")
    assert len(mesh) == 23
    assert "http://id.nlm.nih.gov/mesh/D001249" in mesh
    abstract = values(store, "SELECT ?t WHERE { ?w bf:summary [ rdfs:label ?t ] }")[0]
    assert abstract.startswith("BACKGROUND: In patients with mild asthma, as-needed use of an inhaled "
                               "glucocorticoid plus a fast-acting β 2-agonist")
    assert "METHODS: We conducted a 52-week" in abstract
    assert values(store, f"SELECT ?l WHERE {{ <{instance}> bf:language ?l }}") == [
        "http://id.loc.gov/vocabulary/languages/eng"]


# ---------------------------------------------------------------- every real file


OA = SHARED_DATA / "oa"
#: Records of each shared file that map, looked up by hand where one does not: the Crossref
#: sample's second work has no title, and so has the OpenAlex Japanese article (title null).
UNMAPPED = {
    "crossref/habanero/test_works_sample.json": 1,
    "openalex/commonmeta/test_journal_article_original_language.json": 1,
}


def _shared_files() -> list[str]:
    if not OA.exists():
        return []
    return sorted(str(p.relative_to(OA)) for folder in ("crossref", "openalex", "datacite", "jats", "pubmed")
                  for p in (OA / folder).glob("*/*") if p.is_file())


@pytest.mark.skipif(not OA.exists(), reason=f"{OA} (the developers' corpus, ../shared/data) is absent")
@pytest.mark.parametrize("relative", _shared_files())
def test_every_shared_file_is_detected_and_its_records_map(relative: str) -> None:
    name, graphs = mapped(OA / relative)
    assert name.removesuffix("-xml") == relative.split("/")[0]
    rejected = [g for g in graphs if isinstance(g, Rejected)]
    assert len(rejected) == UNMAPPED.get(relative, 0), [str(r) for r in rejected]
    assert all(r.rule == "no-title" for r in rejected)


def test_a_crossref_deposit_with_two_articles_in_one_journal_gives_two_records(tmp_path: Path) -> None:
    """A deposit (``doi_batch``) puts several articles under one ``<journal>``: each is a record,
    and each gets the journal's title, ISSN and issue. Made from crossref.xml's ``<journal>``,
    its article repeated under a second DOI, in the deposit schema 5.3.1's namespace."""
    text = test_path("oa/crossref/crossref.xml").read_text()
    journal = text[text.index("<journal>"):text.index("</journal>") + len("</journal>")]
    article = journal[journal.index("<journal_article"):journal.index("</journal_article>") + len(
        "</journal_article>")]
    second = article.replace("10.7554/eLife.01567</doi>", "10.7554/eLife.99999</doi>")
    deposit = tmp_path / "deposit.xml"
    deposit.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<doi_batch xmlns="http://www.crossref.org/schema/5.3.1" '
        'xmlns:jats="http://www.ncbi.nlm.nih.gov/JATS1" version="5.3.1"><head><doi_batch_id>1</doi_batch_id>'
        "</head><body>" + journal.replace("</journal>", second + "</journal>") + "</body></doi_batch>")
    name, graphs = mapped(deposit)
    assert name == "crossref-xml"
    assert [g.position.number for g in graphs] == [1, 2]
    assert [g.position.identifier for g in graphs] == ["10.7554/elife.01567", "10.7554/elife.99999"]
    store = store_of(deposit)
    serial = MINTER.from_identifier("instance", "issn", "2050-084X").value
    for doi in ("10.7554/elife.01567", "10.7554/elife.99999"):
        assert values(store, f"SELECT ?s WHERE {{ <{doi_instance(doi)}> bf:partOf ?s }}") == [serial]
        assert values(store, f"SELECT ?v WHERE {{ <{doi_instance(doi)}> schema:volumeNumber ?v }}") == ["3"]


def test_one_orcid_in_a_crossref_page_is_one_agent_for_all_his_works() -> None:
    # test_works_field_queries.json (query.author=carl boettiger, read from ../shared/data): 12 of
    # its 20 works give Carl Boettiger's ORCID 0000-0002-1642-628X.
    store = store_of(shared_path("oa/crossref/habanero/test_works_field_queries.json"))
    boettiger = "https://orcid.org/0000-0002-1642-628X"
    instances = values(store, f"SELECT DISTINCT ?i WHERE {{ ?i bf:instanceOf [ bf:contribution [ bf:agent <{boettiger}> ] ] }}")
    assert len(instances) == 12
    assert values(store, f"SELECT ?l WHERE {{ <{boettiger}> rdfs:label ?l }}") == ["Boettiger, Carl"]
