"""MARC bibliographic records -> BIBFRAME (ingest/marc/bibliographic.py and its parts).

Each rule is checked on a real record whose expected values were read by hand
from the record (printed with pymarc): traject's and solrmarc's test records
and marc2bibframe2's test MARCXML, all committed under tests/data. Records go
through ``ingest.marc.mapper.map_marc``; the N-Quads it returns are loaded
into an in-memory pyoxigraph store and queried with SPARQL. Where a value
ends in ISBD punctuation the expected value is the raw subfield passed
through ``clean_text`` (whose abbreviation list decides "p." vs "pbk").
"""

from __future__ import annotations

import functools
from pathlib import Path

import pymarc
from pyoxigraph import Literal, NamedNode, RdfFormat, Store

from ingest.iri import IriMinter
from ingest.marc.mapper import map_marc
from ingest.model import Position, RecordGraph, SourceRecord
from ingest.quads import clean_text
from ontology.namespaces import PREFIXES
from tests.conftest import BASE, test_path

MINTER = IriMinter(BASE)
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
RELATORS = "http://id.loc.gov/vocabulary/relators/"
LANGUAGES = "http://id.loc.gov/vocabulary/languages/"


# ---------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=64)
def read(path: Path) -> tuple[pymarc.Record, ...]:
    """Every record of a binary MARC or MARCXML file, as the readers give them to the mapper."""
    if path.suffix == ".xml":
        return tuple(pymarc.parse_xml_to_array(str(path)))
    with path.open("rb") as handle:
        reader = pymarc.MARCReader(handle, to_unicode=True, force_utf8=False, permissive=True)
        return tuple(record for record in reader if record is not None)


def map_one(path: Path, index: int = 0) -> RecordGraph:
    record = read(path)[index]
    return map_marc(SourceRecord(Position(path.name, index + 1), "marc", record), MINTER)


@functools.lru_cache(maxsize=64)
def store_of(path: Path, index: int = 0) -> Store:
    store = Store()
    store.load(map_one(path, index).all_nquads, format=RdfFormat.N_QUADS)
    return store


def select(store: Store, query: str) -> list[tuple]:
    """Rows of a SELECT as tuples of plain values (IRI strings, literal strings)."""
    solutions = store.query(SPARQL_PREFIXES + query, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [tuple(None if row[n] is None else row[n].value for n in names) for row in solutions]


def column(store: Store, query: str) -> set:
    return {row[0] for row in select(store, query)}


def ask(store: Store, query: str) -> bool:
    return bool(store.query(SPARQL_PREFIXES + query, use_default_graph_as_union=True))


def work_iri(key: str) -> str:
    return MINTER.from_key("work", key).value


ELIOT = test_path("marc/traject/george_eliot.marc")
CAGE = test_path("marc/traject/musical_cage.marc")
ARMSTRONG = test_path("marc/traject/louis_armstrong.marc")
THESIS = test_path("marc/traject/manuscript_online_thesis.marc")
NATURE = test_path("marc/traject/nature.marc")
CONFERENCE = test_path("marc/traject/microform_online_conference.marc")


# ---------------------------------------------------------------- instance, work, types


def test_instance_is_named_from_the_lccn_and_linked_to_its_work_with_the_reason() -> None:
    store = store_of(ELIOT)  # 010 "  2002036483"; 100 Paris, Bernard J.; 245 Rereading George Eliot
    instance = MINTER.from_identifier("instance", "lccn", "2002036483").value
    key = "paris bernard j|rereading george eliot"
    assert select(store, f"SELECT ?w WHERE {{ <{instance}> bf:instanceOf ?w }}") == [(work_iri(key),)]
    assert select(store, """SELECT ?i ?w ?r ?k WHERE {
        ?l a cg:WorkLink ; cg:linkedInstance ?i ; cg:linkedWork ?w ; cg:reason ?r ; cg:matchKey ?k }""") == [
        (instance, work_iri(key), "https://w3id.org/catalograph/ontology#SameCreatorAndTitle", key)
    ]
    graph = map_one(ELIOT).graph
    assert column(store, "SELECT ?l WHERE { ?l a cg:WorkLink }") == {f"{graph}#work-link"}


def test_work_and_instance_classes_follow_the_leader_and_008() -> None:
    # george_eliot: leader/06 a, 008/23 blank -> Text work, printed instance
    assert column(store_of(ELIOT), "SELECT ?c WHERE { ?i bf:instanceOf ?w . ?w a ?c }") == {
        "http://id.loc.gov/ontologies/bibframe/Work", "http://id.loc.gov/ontologies/bibframe/Text"}
    assert ask(store_of(ELIOT), "ASK { ?i a bf:Instance, bf:Print }")
    # musical_cage: leader/06 j (musical sound recording)
    assert ask(store_of(CAGE), "ASK { ?w a bf:Work, bf:Audio, bf:MusicAudio }")
    # manuscript_online_thesis: leader/06 t -> a Manuscript work (a Work class since BF 2.2)
    assert ask(store_of(THESIS), "ASK { ?w a bf:Work, bf:Manuscript . ?i bf:instanceOf ?w }")
    assert not ask(store_of(THESIS), "ASK { ?i a bf:Instance, bf:Manuscript }")
    # nature: leader/07 s -> a Serial work; issuance serl on the instance
    assert ask(store_of(NATURE), "ASK { ?w a bf:Serial . ?i bf:instanceOf ?w ; "
               "bf:issuance <http://id.loc.gov/vocabulary/issuance/serl> }")


# ---------------------------------------------------------------- titles


def test_title_statement_gives_the_title_parts_label_and_responsibility() -> None:
    store = store_of(ELIOT)
    assert select(store, "SELECT ?m ?s WHERE { ?i a bf:Instance ; bf:title ?t . "
                  "?t a bf:Title ; bf:mainTitle ?m ; bf:subtitle ?s }") == [
        ("Rereading George Eliot", "changing responses to her experiments in life")]
    assert column(store, "SELECT ?l WHERE { ?i a bf:Instance ; rdfs:label ?l }") == {
        "Rereading George Eliot : changing responses to her experiments in life"}
    assert column(store, "SELECT ?r WHERE { ?i bf:responsibilityStatement ?r }") == {"Bernard J. Paris"}
    assert column(store, "SELECT ?l WHERE { ?w a bf:Work ; rdfs:label ?l . ?i bf:instanceOf ?w }") == {
        "Rereading George Eliot"}


def test_uniform_title_titles_the_work_and_keys_it() -> None:
    store = store_of(CAGE)  # 100 Cage, John; 240 Atlas eclipticalis; 245 Lou Harrison, Harry Partch, John Cage
    key = "cage john|atlas eclipticalis"
    assert column(store, "SELECT ?r WHERE { ?l cg:reason ?r }") == {
        "https://w3id.org/catalograph/ontology#SameUniformTitle"}
    assert column(store, "SELECT ?m WHERE { ?w bf:title/bf:mainTitle ?m . ?i bf:instanceOf ?w }") == {
        "Atlas eclipticalis"}
    assert column(store, "SELECT ?w WHERE { ?i bf:instanceOf ?w }") == {work_iri(key)}


def test_variant_abbreviated_and_key_titles() -> None:
    store = store_of(NATURE)  # 210 0 Nature $b (Lond.); 222 0 Nature $b (London); 246 00 Nature
    rows = set(select(store, "SELECT ?c ?m ?s WHERE { ?i bf:title ?t . ?t a ?c ; bf:mainTitle ?m . "
                             "OPTIONAL { ?t bf:subtitle ?s } FILTER(?c != bf:VariantTitle) }"))
    bf = "http://id.loc.gov/ontologies/bibframe/"
    assert (bf + "AbbreviatedTitle", "Nature", "(Lond.)") in rows
    assert (bf + "KeyTitle", "Nature", "(London)") in rows
    assert (bf + "Title", "Nature", None) in rows
    assert column(store, "SELECT ?v WHERE { ?t a bf:VariantTitle ; bf:variantType ?v }") >= {"portion"}


# ---------------------------------------------------------------- contributions


def test_main_entry_is_a_primary_contribution_without_an_invented_role() -> None:
    store = store_of(ELIOT)  # 100 1  $a Paris, Bernard J.  (no $e, no $4)
    assert select(store, """SELECT ?name ?class WHERE { ?i bf:instanceOf ?w . ?w bf:contribution ?c .
        ?c a bf:PrimaryContribution ; bf:agent ?a . ?a rdfs:label ?name ; a ?class
        FILTER(?class != bf:Agent) }""") == [("Paris, Bernard J.", "http://id.loc.gov/ontologies/bibframe/Person")]
    assert not ask(store, "ASK { ?i bf:instanceOf/bf:contribution ?c . ?c bf:role ?r }")


def test_relator_code_and_unknown_code_give_roles() -> None:
    # louis_armstrong: 100 $a Armstrong, Louis, $d 1901-1971. $4 prf
    assert column(store_of(ARMSTRONG), "SELECT ?r WHERE { ?c a bf:PrimaryContribution ; bf:role ?r }") == {
        RELATORS + "prf"}
    # fields_700_4_samp record 2: 700 $a Gedda, Nicolai $4 prḟ (no such code) -> a Role node with the text
    store = store_of(test_path("marc/solrmarc/fields_700_4_samp.mrc"), 1)
    assert select(store, """SELECT ?label WHERE { ?c bf:agent/rdfs:label "Gedda, Nicolai" ;
        bf:role ?r . ?r a bf:Role ; rdfs:label ?label }""") == [("prḟ",)]
    # ... and 700 $e performer. -> relators:prf
    assert ask(store, f"""ASK {{ ?c bf:agent/rdfs:label "Horne, Marilyn" ; bf:role <{RELATORS}prf> }}""")


def test_meeting_main_entry_is_a_meeting_agent() -> None:
    # 111 2  $a Conference on Artificial Intelligence Applications $n (4th : $d 1988 : $c San Diego, Calif.)
    store = store_of(CONFERENCE)
    labels = column(store, "SELECT ?l WHERE { ?c a bf:PrimaryContribution ; bf:agent ?a . "
                           "?a a bf:Meeting ; rdfs:label ?l }")
    assert len(labels) == 1 and labels.pop().startswith("Conference on Artificial Intelligence Applications")
    assert column(store, "SELECT ?l WHERE { ?c bf:agent ?a . ?a a bf:Organization ; rdfs:label ?l }") == {
        "IEEE Computer Society", "American Association for Artificial Intelligence"}


def test_name_title_added_entries_are_related_works_keyed_like_clustered_works() -> None:
    store = store_of(CAGE)
    # 700 12 $a Cage, John. $t Winter music -> the Work "cage john|winter music", contained (ind2 2)
    winter = work_iri("cage john|winter music")
    assert ask(store, f"""ASK {{ ?w bf:hasPart <{winter}> . <{winter}> a bf:Work ; rdfs:label "Winter music" ;
        bf:contribution/bf:agent/rdfs:label "Cage, John" }}""")
    # 700 12 $a Harrison, Lou, $d 1917-2003. $t Suites, $m violin, gamelan
    assert ask(store, f"ASK {{ ?w bf:hasPart <{work_iri('harrison lou|suites violin gamelan')}> }}")
    # 700 12 ... $t Songbooks. $k Selections. names no single work: a Work local to the record
    graph = map_one(CAGE).graph
    assert column(store, 'SELECT ?p WHERE { ?w bf:hasPart ?p . ?p rdfs:label "Songbooks. Selections" }') == {
        f"{graph}#work-1"}
    # the title is not part of any agent's name
    assert not ask(store, 'ASK { ?a a bf:Agent ; rdfs:label ?l FILTER(CONTAINS(?l, "Winter")) }')


# ---------------------------------------------------------------- subjects


def test_name_subjects_and_complex_subjects() -> None:
    store = store_of(ELIOT)
    eliot = select(store, 'SELECT ?a WHERE { ?a a bf:Person ; rdfs:label "Eliot, George, 1819-1880" }')
    assert len(eliot) == 1
    # 600 10 $a Eliot, George, $d 1819-1880 $x Knowledge $x Psychology.
    assert ask(store, f"""ASK {{ ?w bf:subject ?s . ?s a skos:Concept, madsrdf:ComplexSubject ;
        rdfs:label "Eliot, George, 1819-1880--Knowledge--Psychology" ;
        skos:inScheme <http://id.loc.gov/authorities/subjects> ; cg:hasComponent <{eliot[0][0]}> }}""")
    # 600 10 $a Eliot, George, $d 1819-1880. $t Middlemarch -> the Work Middlemarch by Eliot
    middlemarch = work_iri("eliot george|middlemarch")
    assert ask(store, f'ASK {{ ?w bf:subject <{middlemarch}> . <{middlemarch}> a bf:Work ; rdfs:label "Middlemarch" }}')
    # 650 0 $a Psychoanalysis and literature $z England $x History $y 19th century.
    assert ask(store, """ASK { ?w bf:subject ?s . ?s a madsrdf:ComplexSubject ;
        rdfs:label "Psychoanalysis and literature--England--History--19th century" ;
        cg:hasComponent ?t . ?t a madsrdf:Topic ; rdfs:label "Psychoanalysis and literature" }""")
    # 650 0 $a Psychology in literature (no subdivision) is the topic itself
    assert ask(store, 'ASK { ?w bf:subject ?s . ?s a skos:Concept, madsrdf:Topic ; '
                      'rdfs:label "Psychology in literature" }')
    # headings of many records meet on one concept: none of them claims the preferred label
    assert not ask(store, "ASK { ?s skos:prefLabel ?l }")


def test_place_temporal_genre_and_authority_links() -> None:
    store = store_of(test_path("marcxml/marc2bibframe2/880/648a-655a.xml"))
    # 651 7 $a China $z Henan Sheng. $2 fast $0 (OCoLC)fst01212204: one place, named by FAST
    fast = "http://id.worldcat.org/fast/"
    assert ask(store, f"""ASK {{ ?w bf:subject <{fast}1212204> . <{fast}1212204> a bf:Place,
        madsrdf:Geographic, skos:Concept ; rdfs:label "China--Henan Sheng" ; skos:inScheme <{fast[:-1]}> }}""")
    # 648 7 $a 1900-1999. $2 fast (no $0): a Temporal concept minted from its key
    assert ask(store, 'ASK { ?w bf:subject ?t . ?t a madsrdf:Temporal ; rdfs:label "1900-1999" }')
    # 655 7 $a Criticism, interpretation, etc. $2 fast $0 (OCoLC)fst01411635: genreForm, not subject
    assert ask(store, f"""ASK {{ ?w bf:genreForm <{fast}1411635> . <{fast}1411635> a bf:GenreForm, skos:Concept ;
        rdfs:label "Criticism, interpretation, etc." }}""")
    assert not ask(store, f"ASK {{ ?w bf:subject <{fast}1411635> }}")
    # the 880's form (a csht heading) is a parallel label of the same genre node
    assert ask(store, f'ASK {{ <{fast}1411635> rdfs:label "批評, 解釋等"@zh-Hani }}')


# ---------------------------------------------------------------- identifiers


def test_isbns_with_qualifiers_and_the_control_number() -> None:
    store = store_of(test_path("marc/pymarc/multi_isbn.dat"))
    # 020 $a 0914378287 (v. 1) / 0914378295 (lim. ed.) (v. 1) / 0914378260 (pbk.) (v. 1)
    rows = select(store, "SELECT ?v ?q WHERE { ?i bf:identifiedBy ?n . ?n a bf:Isbn ; rdf:value ?v ; bf:qualifier ?q }")
    assert set(rows) == {("0914378287", "v. 1"), ("0914378295", "lim. ed."), ("0914378295", "v. 1"),
                         ("0914378260", clean_text("pbk.")), ("0914378260", "v. 1")}
    assert column(store, "SELECT ?v WHERE { ?i bf:identifiedBy ?n . ?n a bf:Lccn ; rdf:value ?v }") == {"77017192"}
    assert column(store, "SELECT ?v WHERE { ?i bf:identifiedBy ?n . ?n a bf:Local ; rdf:value ?v }") == {"4612195"}
    # the LCCN outranks the ISBN in naming the instance
    assert column(store, "SELECT ?i WHERE { ?i a bf:Instance }") == {f"{BASE}instance/lccn-77017192"}


def test_issn_cancelled_issn_and_035_sources() -> None:
    store = store_of(NATURE)  # 022 $a 0028-0836 $z 0302-2889; 035 (CStRLIN)MDJGAAD1070-S
    assert select(store, "SELECT ?v WHERE { ?n a bf:Issn ; rdf:value ?v FILTER NOT EXISTS { ?n bf:status ?s } }") == [
        ("0028-0836",)]
    assert select(store, "SELECT ?v ?s WHERE { ?n a bf:Issn ; rdf:value ?v ; bf:status ?s }") == [
        ("0302-2889", "http://id.loc.gov/vocabulary/mstatus/cancinv")]
    assert ("MDJGAAD1070-S", "CStRLIN") in select(
        store, "SELECT ?v ?src WHERE { ?n a bf:Local ; rdf:value ?v ; bf:source/rdfs:label ?src }")


def test_024_by_first_indicator() -> None:
    assert column(store_of(CAGE), "SELECT ?v WHERE { ?n a bf:Upc ; rdf:value ?v }") == {"021475088065"}
    # demoRecs record 4: 024 1 $a 883904299783 ; 024 7 $a 00883904299783 $2 gtin-14
    store = store_of(test_path("marc/solrmarc/demoRecs.mrc"), 3)
    assert column(store, "SELECT ?v WHERE { ?n a bf:Upc ; rdf:value ?v }") == {"883904299783"}
    assert select(store, "SELECT ?v ?s WHERE { ?n a bf:Identifier ; rdf:value ?v ; bf:source/rdfs:label ?s }") == [
        ("00883904299783", "gtin-14")]


# ---------------------------------------------------------------- provision, extent, edition


def test_publication_with_place_agent_date_and_008_year() -> None:
    store = store_of(ELIOT)  # 260 $a Albany : $b State University of New York Press, $c c2003.
    rows = select(store, """SELECT ?place ?agent WHERE { ?i bf:provisionActivity ?p . ?p a bf:Publication ;
        bf:place/rdfs:label ?place ; bf:agent/rdfs:label ?agent }""")
    assert rows == [("Albany", "State University of New York Press")]
    dates = store.query(SPARQL_PREFIXES + "SELECT ?d WHERE { ?p a bf:Publication ; bf:date ?d }",
                        use_default_graph_as_union=True)
    assert {row["d"] for row in dates} == {
        Literal("c2003"), Literal("2003", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))}
    assert column(store, "SELECT ?s WHERE { ?i bf:provisionActivityStatement ?s }") == {
        "Albany : State University of New York Press, c2003"}


def test_264_second_indicator_and_copyright_date() -> None:
    store = store_of(test_path("marc/solrmarc/demoRecs.mrc"), 3)
    # 264 1 ... TM Productions Limited ; 264 2 Beverly Hills, Calif. : Twentieth Century Fox...; 264 4 $c ©2013
    assert ask(store, 'ASK { ?p a bf:Publication ; bf:agent/rdfs:label "TM Productions Limited" }')
    assert set(select(store, "SELECT ?place ?agent WHERE { ?p a bf:Distribution ; "
                             "bf:place/rdfs:label ?place ; bf:agent/rdfs:label ?agent }")) == {
        (clean_text("Beverly Hills, Calif. :"), "Twentieth Century Fox Home Entertainment")}
    assert column(store, "SELECT ?c WHERE { ?i bf:copyrightDate ?c }") == {"©2013"}


def test_extent_dimensions_and_edition() -> None:
    store = store_of(ELIOT)  # 300 $a xiii, 220 p. ; $c 23 cm.
    assert column(store, "SELECT ?l WHERE { ?i bf:extent ?e . ?e a bf:Extent ; rdfs:label ?l }") == {
        clean_text("xiii, 220 p. ;")}
    assert column(store, "SELECT ?d WHERE { ?i bf:dimensions ?d }") == {clean_text("23 cm.")}
    # demoRecs record 4: 250 $a Widescreen.
    assert column(store_of(test_path("marc/solrmarc/demoRecs.mrc"), 3),
                  "SELECT ?e WHERE { ?i bf:editionStatement ?e }") == {"Widescreen"}


# ---------------------------------------------------------------- languages


def test_language_of_the_text_on_the_instance_original_language_on_the_work() -> None:
    # test_data.utf8 record 2: 008/35-37 urd; 041 1 $a urd $h snd (translated from Sindhi)
    store = store_of(test_path("marc/traject/test_data.utf8.mrc"), 1)
    assert column(store, "SELECT ?l WHERE { ?i a bf:Instance ; bf:language ?l }") == {LANGUAGES + "urd"}
    assert column(store, "SELECT ?l WHERE { ?w a bf:Work ; bf:language ?l }") == {LANGUAGES + "snd"}
    # not a translation: the work's language is the language of its text
    assert column(store_of(ELIOT), "SELECT ?l WHERE { ?w a bf:Work ; bf:language ?l }") == {LANGUAGES + "eng"}


# ---------------------------------------------------------------- series, notes, classification, links


def test_series_statement_and_series_work() -> None:
    store = store_of(ARMSTRONG)  # 490 1 $a Big bands ; 830 0 $a Big bands.
    assert column(store, "SELECT ?s WHERE { ?i bf:seriesStatement ?s }") == {"Big bands"}
    series = MINTER.from_key("work", "series||big bands").value
    assert ask(store, f'ASK {{ ?i a bf:Instance ; bf:hasSeries <{series}> . '
                      f'<{series}> a bf:Work, bf:Series ; rdfs:label "Big bands" }}')
    # the obsolete 440 is both statement and traced series
    assert ask(store_of(ELIOT), """ASK { ?i bf:seriesStatement "SUNY series in psychoanalysis and culture" ;
        bf:hasSeries/rdfs:label "SUNY series in psychoanalysis and culture" }""")


def test_contents_summary_notes_and_dissertation() -> None:
    contents = column(store_of(ARMSTRONG), "SELECT ?l WHERE { ?w bf:tableOfContents ?t . "
                                           "?t a bf:TableOfContents ; rdfs:label ?l }")
    assert len(contents) == 1
    text = contents.pop()
    assert text.startswith("The music goes 'round and 'round -- I'm in the mood for love -- ")
    assert text.endswith("On the sunny side of the street")
    # test_data.utf8 record 2: 520 $a Author's memoirs during his imprisonment ...
    assert column(store_of(test_path("marc/traject/test_data.utf8.mrc"), 1),
                  "SELECT ?l WHERE { ?w bf:summary ?s . ?s a bf:Summary ; rdfs:label ?l }") == {
        "Author's memoirs during his imprisonment in Sahiwal District jail during late 1960s"}
    store = store_of(THESIS)  # 502 $a Thesis (Ph. D.)--Johns Hopkins University, 2005.
    assert column(store, "SELECT ?l WHERE { ?w bf:dissertation ?d . ?d a bf:Dissertation ; rdfs:label ?l }") == {
        "Thesis (Ph. D.)--Johns Hopkins University, 2005"}
    notes = set(select(store, "SELECT ?l ?t WHERE { ?i bf:note ?n . ?n rdfs:label ?l OPTIONAL { ?n bf:noteType ?t } }"))
    assert ("Vita", None) in notes
    assert ("Includes bibliographical references (l. 236-277)", "bibliography") in notes


def test_classification_numbers() -> None:
    store = store_of(ELIOT)  # 050 00 $a PR4692.P74 $b P37 2003 ; 082 00 $a 823/.8 $2 21
    assert select(store, "SELECT ?a ?b WHERE { ?w bf:classification ?c . ?c a bf:ClassificationLcc ; "
                         "bf:classificationPortion ?a ; bf:itemPortion ?b }") == [("PR4692.P74", "P37 2003")]
    assert select(store, "SELECT ?a ?e WHERE { ?w bf:classification ?c . ?c a bf:ClassificationDdc ; "
                         "bf:classificationPortion ?a ; bf:edition ?e }") == [("823/.8", "21")]
    assert column(store_of(NATURE), "SELECT ?a WHERE { ?c a bf:ClassificationNlm ; bf:classificationPortion ?a }") == {
        "W1 NA81"}


def test_electronic_locator_only_for_a_valid_iri_and_its_notes() -> None:
    store = store_of(THESIS)  # 856 41 $u http://wwwlib.umi.com/dissertations/dlnow/3172690 $z Available to ...
    assert column(store, "SELECT ?u WHERE { ?i bf:electronicLocator ?u }") == {
        "http://wwwlib.umi.com/dissertations/dlnow/3172690"}
    assert ask(store, 'ASK { ?i bf:note ?n . ?n bf:noteType "electronic locator" ; '
                      'rdfs:label "Available to US Hopkins community" }')
