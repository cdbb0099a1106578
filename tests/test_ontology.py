"""The library ontology, its JSON-LD context and its SHACL shapes.

The ontology must load in every tool we use (pyoxigraph, rdflib, owlready2 when
installed), declare every ``cg:`` term any layer writes or queries, and label
every reused term the code emits. The shapes must catch the faults they exist
for, on small graphs built here, and pass a correct graph made of two record
graphs that share a work and an agent.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, RdfFormat, Store, parse, serialize

from ontology.errors import InputError
from ontology.namespaces import BF, CG, PREFIXES, SKOS
from ontology.validation import ValidationReport, ontology_graph, shapes_graph, validate
from ontology.vocabulary import (
    ONTOLOGY_IRI,
    context_path,
    declared_terms,
    json_ld_context,
    label_for,
    load_ontology_quads,
    ontology_path,
    shapes_path,
    term_labels,
)

ROOT = Path(__file__).resolve().parent.parent
CODE_LAYERS = ("ingest", "graph", "query", "web")
CODE_SUFFIXES = {".py", ".rq", ".html", ".ttl", ".tsv"}
#: Namespace constants of ontology.namespaces whose terms the code emits as data.
EMITTED = {
    "BF": str(BF),
    "BFLC": "http://id.loc.gov/ontologies/bflc/",
    "SKOS": str(SKOS),
    "DCT": "http://purl.org/dc/terms/",
    "PROV": "http://www.w3.org/ns/prov#",
    "MADS": "http://www.loc.gov/mads/rdf/v1#",
    "SDO": "http://schema.org/",
}


def _code_files() -> list[Path]:
    return [
        path
        for layer in CODE_LAYERS
        for path in (ROOT / layer).rglob("*")
        if path.suffix in CODE_SUFFIXES and "static" not in path.parts and path.is_file()
    ]


def _cg_terms_used() -> dict[str, set[str]]:
    """cg: local names found in the code (``CG.x``, ``CG["x"]``, ``cg:x``, full IRIs) -> files."""
    pattern = re.compile(
        r"\bCG(?:\.([A-Za-z_]\w*)|\[\"(\w+)\"\])"
        r"|(?<![\w/])cg:([A-Za-z_]\w*)"
        r"|w3id\.org/catalograph/ontology#(\w+)"
    )
    found: dict[str, set[str]] = {}
    for path in _code_files():
        for match in pattern.finditer(path.read_text(encoding="utf-8", errors="replace")):
            local = next(group for group in match.groups() if group)
            found.setdefault(local, set()).add(str(path.relative_to(ROOT)))
    return found


def _trig_to_nquads(trig: str) -> bytes:
    return serialize(parse(trig.encode(), format=RdfFormat.TRIG), format=RdfFormat.N_QUADS)


PREFIX_BLOCK = """
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix bf: <http://id.loc.gov/ontologies/bibframe/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix madsrdf: <http://www.loc.gov/mads/rdf/v1#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix cg: <https://w3id.org/catalograph/ontology#> .
@prefix ex: <http://example.org/> .
"""

#: Two record graphs as the mapper writes them (simplified), sharing the Work
#: of *Pride and prejudice* and its author, plus their provenance.
GOOD = (
    PREFIX_BLOCK
    + """
ex:graph\\/a {
  ex:instance\\/isbn-9780141439518 a bf:Instance, bf:Print ;
    rdfs:label "Pride and prejudice" ;
    bf:instanceOf ex:work\\/kpp ;
    bf:title ex:graph\\/a\\#title-1 ;
    bf:language <http://id.loc.gov/vocabulary/languages/eng> ;
    bf:identifiedBy ex:graph\\/a\\#identifier-1 .
  ex:graph\\/a\\#title-1 a bf:Title ; bf:mainTitle "Pride and prejudice" .
  ex:graph\\/a\\#identifier-1 a bf:Isbn ; rdf:value "9780141439518" .
  ex:work\\/kpp a bf:Work, bf:Text ;
    rdfs:label "Pride and prejudice" ;
    bf:contribution ex:graph\\/a\\#contribution-1 ;
    bf:subject <http://id.loc.gov/authorities/subjects/sh85029535> .
  ex:graph\\/a\\#contribution-1 a bf:Contribution, bf:PrimaryContribution ;
    bf:agent <http://id.loc.gov/authorities/names/n79032879> ;
    bf:role <http://id.loc.gov/vocabulary/relators/aut> .
  <http://id.loc.gov/authorities/names/n79032879> a bf:Agent, bf:Person ;
    rdfs:label "Austen, Jane, 1775-1817" .
  <http://id.loc.gov/authorities/subjects/sh85029535> a skos:Concept, madsrdf:Topic ;
    skos:prefLabel "Courtship" ; rdfs:label "Courtship" .
  ex:graph\\/a\\#work-link a cg:WorkLink ;
    cg:linkedInstance ex:instance\\/isbn-9780141439518 ;
    cg:linkedWork ex:work\\/kpp ;
    cg:reason cg:SameCreatorAndTitle ;
    cg:matchKey "austen jane|pride and prejudice" .
}
ex:graph\\/b {
  ex:instance\\/lccn-2002036483 a bf:Instance ;
    bf:instanceOf ex:work\\/kpp ;
    bf:title ex:graph\\/b\\#title-1 .
  ex:graph\\/b\\#title-1 a bf:Title ;
    bf:mainTitle "Pride and prejudice" , "Гордость и предубеждение"@ru .
  ex:work\\/kpp a bf:Work ; rdfs:label "Pride and prejudice" .
  ex:graph\\/b\\#contribution-1 a bf:Contribution ;
    bf:agent <http://id.loc.gov/authorities/names/n79032879> .
  ex:work\\/kpp bf:contribution ex:graph\\/b\\#contribution-1 .
  <http://id.loc.gov/authorities/names/n79032879> a bf:Person ;
    rdfs:label "Austen, Jane, 1775-1817" , "Остин, Джейн"@ru .
  <http://id.loc.gov/authorities/subjects/sh85029535> a skos:Concept ;
    skos:prefLabel "Courtship" , "Ухаживание"@ru .
  ex:graph\\/b\\#work-link a cg:WorkLink ;
    cg:linkedInstance ex:instance\\/lccn-2002036483 ;
    cg:linkedWork ex:work\\/kpp ;
    cg:reason cg:SameUniformTitle ;
    cg:matchKey "austen jane|pride and prejudice" .
}
ex:graph\\/meta {
  ex:graph\\/a a cg:RecordGraph ;
    cg:sourceFile "records.mrc" ;
    cg:sourcePosition 1 ;
    cg:byteOffset 0 ;
    cg:contentHash "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" ;
    cg:pipelineVersion "0.1.0" ;
    prov:generatedAtTime "2025-11-21T12:00:00.000000Z"^^xsd:dateTime .
}
"""
)


@pytest.fixture(scope="module")
def good_report() -> ValidationReport:
    return validate(_trig_to_nquads(GOOD))


def _bad(body: str) -> ValidationReport:
    return validate(_trig_to_nquads(PREFIX_BLOCK + "ex:graph\\/x {" + body + "}"))


def _violations(report: ValidationReport) -> set[tuple[str, str | None]]:
    return {(r.focus_node, r.path) for r in report.violations}


EX = "http://example.org/"


# --- the ontology document ----------------------------------------------------


def test_ontology_parses_identically_in_pyoxigraph_and_rdflib() -> None:
    oxigraph_triples = list(parse(path=ontology_path(), format=RdfFormat.TURTLE))
    rdflib_graph = ontology_graph()
    assert len(oxigraph_triples) == len(rdflib_graph) > 500


def test_ontology_header_names_version_and_referenced_vocabularies() -> None:
    from rdflib import OWL, RDF, RDFS, URIRef

    graph = ontology_graph()
    ontology = URIRef(ONTOLOGY_IRI)
    assert (ontology, RDF.type, OWL.Ontology) in graph
    assert str(graph.value(ontology, OWL.versionInfo)) == "0.1.0"
    seen = {str(o) for o in graph.objects(ontology, RDFS.seeAlso)}
    assert "http://id.loc.gov/ontologies/bibframe/" in seen
    assert "http://www.w3.org/2004/02/skos/core" in seen
    # referenced, never imported: the file loads offline
    assert not list(graph.objects(ontology, OWL.imports))


def test_ontology_iri_matches_the_namespace_constant() -> None:
    assert str(CG) == ONTOLOGY_IRI + "#"


def test_knowledge_unit_is_the_superclass_of_the_seven_unit_classes() -> None:
    store = Store()
    store.extend(load_ontology_quads("urn:x-catalograph:ontology"))
    query = """
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX cg: <https://w3id.org/catalograph/ontology#>
        SELECT ?c WHERE { GRAPH ?g { ?c rdfs:subClassOf+ cg:KnowledgeUnit } }
    """
    found = {row["c"].value for row in store.query(query)}
    expected = {
        str(BF) + name for name in ("Work", "Instance", "Agent", "Place", "Event", "Identifier")
    } | {SKOS.Concept.value}
    assert expected <= found
    # subclasses of the units are units too, through the BIBFRAME hierarchy restated here
    assert {BF.Person.value, BF.Isbn.value, BF.Text.value} <= found
    # and the things that are not units stay out
    assert BF.Title.value not in found
    assert BF.Contribution.value not in found


def test_load_ontology_quads_uses_the_graph_asked_for() -> None:
    quads = load_ontology_quads("urn:x-catalograph:ontology")
    assert {q.graph_name for q in quads} == {NamedNode("urn:x-catalograph:ontology")}
    assert len(load_ontology_quads()) == len(quads)


def test_every_cg_term_used_in_the_code_is_declared() -> None:
    used = _cg_terms_used()
    declared = {iri.removeprefix(str(CG)) for iri in declared_terms()}
    undeclared = {term: sorted(files) for term, files in used.items() if term not in declared}
    assert not undeclared, (
        "declare these cg: terms in ontology/catalograph.ttl (and ontology/context.jsonld): "
        f"{undeclared}"
    )


def test_the_code_scan_finds_real_uses() -> None:
    """Guards the test above against a regex that silently matches nothing."""
    used = _cg_terms_used()
    assert "WorkLink" in used and "RecordGraph" in used and "sourceFile" in used


def test_every_reused_term_the_code_emits_has_a_label() -> None:
    pattern = re.compile(r"\b(" + "|".join(EMITTED) + r")(?:\.([A-Za-z_]\w*)|\[\"(\w+)\"\])")
    labels = term_labels()
    missing: dict[str, set[str]] = {}
    for path in _code_files():
        if path.suffix != ".py":
            continue
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            iri = EMITTED[match.group(1)] + (match.group(2) or match.group(3))
            if iri not in labels:
                missing.setdefault(iri, set()).add(str(path.relative_to(ROOT)))
    assert not missing, f"declare and label these terms in ontology/catalograph.ttl: {missing}"


def test_term_labels_cover_cg_and_reused_terms_in_english() -> None:
    labels = term_labels()
    assert labels[BF.instanceOf.value] == "instance of"
    assert labels[BF.Work.value] == "Work"
    assert labels[SKOS.prefLabel.value] == "preferred label"
    assert labels[CG.WorkLink.value] == "Work link"
    assert labels["http://www.w3.org/ns/prov#generatedAtTime"] == "generated at"
    assert labels["http://www.loc.gov/mads/rdf/v1#ComplexSubject"] == "Complex subject"
    labels.clear()  # a copy: the cached labels are untouched
    assert term_labels()[BF.Work.value] == "Work"


def test_label_for_spells_out_unknown_terms() -> None:
    assert label_for(BF.instanceOf.value) == "instance of"
    assert label_for("http://example.org/v#dateOfFirstPerformance") == "date of first performance"
    assert label_for("http://example.org/v/MusicalWork") == "Musical work"
    assert label_for("http://example.org/v#ISBNValue") == "ISBNValue"


def test_clustering_reasons_and_review_statuses_are_closed_sets() -> None:
    from rdflib import OWL, RDF, URIRef
    from rdflib.collection import Collection

    graph = ontology_graph()
    reasons = Collection(graph, graph.value(URIRef(CG.ClusteringReason.value), OWL.oneOf))
    assert {str(r) for r in reasons} == {
        CG.SameUniformTitle.value,
        CG.SameCollectiveTitleAndTitle.value,
        CG.SameCreatorAndTitle.value,
        CG.RecordOnly.value,
    }
    for reason in reasons:
        assert (reason, RDF.type, URIRef(CG.ClusteringReason.value)) in graph
    statuses = Collection(graph, graph.value(URIRef(CG.ReviewStatus.value), OWL.oneOf))
    assert len(list(statuses)) == 3


def test_ontology_loads_as_owl_in_owlready2(tmp_path: Path) -> None:
    pytest.importorskip(
        "owlready2", reason="owlready2 is the optional [ontology] extra: pip install .[ontology]"
    )
    from ontology.owl_model import load_owl_model

    world, onto = load_owl_model(tmp_path)  # tests/test_ontology_owl.py tests more
    unit = world[CG.KnowledgeUnit.value]
    work = world[BF.Work.value]
    assert unit is not None and work is not None
    assert unit in work.is_a
    assert world[CG.Changeset.value].is_a == [world["http://www.w3.org/ns/prov#Activity"]]
    assert world[CG.linkedWork.value] in set(onto.object_properties())
    assert world[CG.matchKey.value] in set(onto.data_properties())
    assert world[CG.SameUniformTitle.value] in set(world[CG.ClusteringReason.value].instances())


# --- the JSON-LD context --------------------------------------------------------------


def test_context_prefixes_match_the_namespace_constants() -> None:
    context = json_ld_context()
    for prefix, iri in PREFIXES.items():
        assert context[prefix] == iri, prefix


def test_context_defines_every_declared_cg_term() -> None:
    context = json_ld_context()
    defined = {
        (value if isinstance(value, str) else value["@id"]).removeprefix("cg:")
        for key, value in context.items()
        if not key.startswith("@") and key not in PREFIXES and key != "sh"
    }
    declared = {iri.removeprefix(str(CG)) for iri in declared_terms()}
    assert declared == defined


def test_context_expands_a_work_link_with_the_right_types() -> None:
    import rdflib

    document = {
        "@context": json.loads(context_path().read_text(encoding="utf-8"))["@context"],
        "@id": "http://example.org/graph/a#work-link",
        "@type": "WorkLink",
        "linkedWork": "http://example.org/work/k1",
        "reason": "SameUniformTitle",
        "matchKey": "austen jane|emma",
        "score": "0.5",
    }
    graph = rdflib.Graph().parse(data=json.dumps(document), format="json-ld")
    link = rdflib.URIRef("http://example.org/graph/a#work-link")
    cg = rdflib.Namespace(str(CG))
    assert (link, rdflib.RDF.type, cg.WorkLink) in graph
    assert (link, cg.linkedWork, rdflib.URIRef("http://example.org/work/k1")) in graph
    assert (link, cg.reason, cg.SameUniformTitle) in graph
    assert (link, cg.matchKey, rdflib.Literal("austen jane|emma")) in graph
    assert graph.value(link, cg.score).datatype == rdflib.XSD.decimal


# --- the shapes ---------------------------------------------------------------------


def test_shapes_parse_and_are_valid_shacl() -> None:
    from pyshacl import validate as shacl_validate
    from rdflib import Graph

    shapes = shapes_graph()
    assert len(shapes) > 100
    # meta-SHACL: the shapes graph itself conforms to the SHACL-for-SHACL shapes
    conforms, _, text = shacl_validate(Graph(), shacl_graph=shapes, meta_shacl=True)
    assert conforms, text


def test_every_term_the_shapes_name_is_declared_in_the_ontology() -> None:
    from rdflib import SH, URIRef
    from rdflib.collection import Collection

    shapes = shapes_graph()
    labels = term_labels()
    named = set()
    for predicate in (
        SH.targetClass,
        SH["class"],
        SH.path,
        SH.targetSubjectsOf,
        SH.targetObjectsOf,
    ):
        named |= {o for o in shapes.objects(None, predicate) if isinstance(o, URIRef)}
    for head in shapes.objects(None, SH["in"]):
        named |= set(Collection(shapes, head))
    assert URIRef(CG.RecordOnly.value) in named and URIRef(BF.instanceOf.value) in named
    unlabelled = sorted(str(term) for term in named if str(term) not in labels)
    assert not unlabelled


def test_good_graph_of_two_records_sharing_a_work_conforms(good_report: ValidationReport) -> None:
    assert good_report.conforms, good_report.text()
    assert good_report.results == []


def test_instance_without_instance_of_is_a_violation() -> None:
    report = _bad("""
        ex:i a bf:Instance ; bf:title ex:t .
        ex:t a bf:Title ; bf:mainTitle "Emma" .
    """)
    assert not report.conforms
    assert _violations(report) == {(EX + "i", BF.instanceOf.value)}
    assert "exactly one bf:Work" in report.violations[0].message


def test_instance_of_two_works_or_of_a_non_work_is_a_violation() -> None:
    report = _bad("""
        ex:i a bf:Instance ; bf:instanceOf ex:w1, ex:w2 ; bf:title ex:t .
        ex:j a bf:Instance ; bf:instanceOf ex:notawork ; bf:title ex:t .
        ex:t a bf:Title ; bf:mainTitle "Emma" .
        ex:w1 a bf:Work ; rdfs:label "Emma" .
        ex:w2 a bf:Work ; rdfs:label "Emma (another)" .
    """)
    assert _violations(report) == {(EX + "i", BF.instanceOf.value), (EX + "j", BF.instanceOf.value)}


def test_instance_typed_with_a_work_class_is_a_violation() -> None:
    """bf:Serial is a bf:Work subclass since BIBFRAME 2.2: an Instance must not carry it."""
    report = _bad("""
        ex:i a bf:Instance, bf:Serial ; bf:instanceOf ex:w ; bf:title ex:t ; rdfs:label "Nature" .
        ex:t a bf:Title ; bf:mainTitle "Nature" .
        ex:w a bf:Work ; rdfs:label "Nature" .
    """)
    assert _violations(report) == {(EX + "i", None)}
    assert "must not also be a work" in report.violations[0].message


def test_concept_with_two_english_or_two_untagged_preferred_labels_is_a_violation() -> None:
    report = _bad("""
        ex:c1 a skos:Concept ; skos:prefLabel "Whales"@en, "Cetacea"@en .
        ex:c2 a skos:Concept ; skos:prefLabel "Whales", "WHALES" .
        ex:c3 a skos:Concept ; skos:prefLabel "Whales", "Baleines"@fr, "Whales"@en .
    """)
    assert _violations(report) == {
        (EX + "c1", SKOS.prefLabel.value),
        (EX + "c2", SKOS.prefLabel.value),
    }


def test_concept_without_any_label_is_a_violation() -> None:
    report = _bad("""
        ex:c1 a skos:Concept ; skos:altLabel "Whales" .
        ex:c2 a skos:Concept ; rdfs:label "Whales" .
    """)
    assert _violations(report) == {(EX + "c1", None)}


def test_same_text_as_preferred_and_alternative_label_is_only_a_warning() -> None:
    report = _bad("""ex:c a skos:Concept ; skos:prefLabel "Whales" ; skos:altLabel "Whales" .""")
    assert report.conforms
    assert [(r.severity, r.path) for r in report.results] == [("Warning", SKOS.prefLabel.value)]


def test_contribution_needs_one_labelled_agent_and_iri_roles() -> None:
    report = _bad("""
        ex:c1 a bf:Contribution ; bf:agent ex:a1, ex:a2 .
        ex:c2 a bf:PrimaryContribution ; bf:role "author" .
        ex:w a bf:Work ; rdfs:label "W" ; bf:contribution ex:c3 .
        ex:c3 bf:agent ex:a3 .
        ex:a1 a bf:Person ; rdfs:label "Austen, Jane" .
        ex:a2 a bf:Organization .
    """)
    assert _violations(report) == {
        (EX + "c1", BF.agent.value),  # two agents
        (EX + "c2", BF.agent.value),  # none (a PrimaryContribution is a Contribution)
        (EX + "c2", BF.role.value),  # a literal role
        (EX + "c3", BF.agent.value),  # untyped contribution found through bf:contribution
        (EX + "a2", "http://www.w3.org/2000/01/rdf-schema#label"),  # unlabelled agent
    }


def test_identifier_needs_exactly_one_string_value() -> None:
    report = _bad("""
        ex:i bf:identifiedBy ex:id1, ex:id2, ex:id3, ex:id4 .
        ex:id1 a bf:Isbn ; rdf:value "9780141439518" .
        ex:id2 a bf:Isbn .
        ex:id3 a bf:Lccn ; rdf:value "2002036483", "2002036484" .
        ex:id4 a bf:Local ; rdf:value 42 .
    """)
    value = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value"
    assert _violations(report) == {(EX + "id2", value), (EX + "id3", value), (EX + "id4", value)}


def test_language_must_be_a_loc_language_iri() -> None:
    report = _bad("""
        ex:w1 bf:language <http://id.loc.gov/vocabulary/languages/fre> .
        ex:w2 bf:language "fre" .
        ex:w3 bf:language <http://id.loc.gov/vocabulary/iso639-1/fr> .
    """)
    assert _violations(report) == {(EX + "w2", BF.language.value), (EX + "w3", BF.language.value)}


def test_work_link_needs_one_instance_work_known_reason_and_key() -> None:
    report = _bad("""
        ex:i a bf:Instance ; bf:instanceOf ex:w ; bf:title ex:t .
        ex:t a bf:Title ; bf:mainTitle "Emma" .
        ex:w a bf:Work ; rdfs:label "Emma" .
        ex:ok a cg:WorkLink ; cg:linkedInstance ex:i ; cg:linkedWork ex:w ;
            cg:reason cg:RecordOnly ; cg:matchKey "instance|x" .
        ex:bad a cg:WorkLink ; cg:linkedInstance ex:w ; cg:linkedWork ex:w ;
            cg:reason cg:SameTitle ; cg:matchKey "" .
    """)
    assert _violations(report) == {
        (EX + "bad", CG.linkedInstance.value),
        (EX + "bad", CG.reason.value),
        (EX + "bad", CG.matchKey.value),
    }


def test_labels_must_be_non_empty_trimmed_strings() -> None:
    report = _bad("""
        ex:a a bf:Person ; rdfs:label " Austen, Jane" .
        ex:b a bf:Person ; rdfs:label "" .
        ex:c a bf:Person ; rdfs:label ex:notaliteral .
        ex:t bf:mainTitle "Emma\\n" .
        ex:u bf:mainTitle "Pride and\\nprejudice" .
    """)
    label = "http://www.w3.org/2000/01/rdf-schema#label"
    assert _violations(report) == {
        (EX + "a", label),
        (EX + "b", label),
        (EX + "c", label),
        (EX + "t", BF.mainTitle.value),
    }


def test_trailing_isbd_punctuation_is_a_warning_not_a_violation() -> None:
    report = _bad("""ex:t bf:mainTitle "Pride and prejudice /" ; bf:subtitle "a novel" .""")
    assert report.conforms
    assert [(r.severity, r.focus_node) for r in report.results] == [("Warning", EX + "t")]
    assert "ISBD" in report.results[0].message


def test_record_graph_provenance_fields_and_types() -> None:
    report = _bad("""
        ex:g1 a cg:RecordGraph ;
            cg:sourceFile "a.mrc" ; cg:sourcePosition "1" ;
            cg:contentHash "not-a-hash" ; cg:pipelineVersion "0.1.0" ;
            prov:generatedAtTime "2025-11-21" .
        ex:g2 a cg:RecordGraph ; cg:sourcePosition 0 .
    """)
    assert _violations(report) == {
        (EX + "g1", CG.sourcePosition.value),
        (EX + "g1", CG.contentHash.value),
        (EX + "g1", "http://www.w3.org/ns/prov#generatedAtTime"),
        (EX + "g2", CG.sourceFile.value),
        (EX + "g2", CG.sourcePosition.value),
        (EX + "g2", CG.contentHash.value),
        (EX + "g2", CG.pipelineVersion.value),
        (EX + "g2", "http://www.w3.org/ns/prov#generatedAtTime"),
    }


def test_graph_provenance_as_graph_layer_writes_it_conforms() -> None:
    from graph.provenance import provenance_quads, timestamp

    quads = provenance_quads(
        NamedNode(EX + "graph/a"),
        NamedNode(EX + "graph/meta"),
        source_file="records.mrc",
        position=3,
        byte_offset=1234,
        line=None,
        content_hash="0" * 64,
        pipeline_version="0.1.0",
        generated_at=timestamp(),
    )
    report = validate(serialize(quads, format=RdfFormat.N_QUADS))
    assert report.conforms, report.text()


def test_inputs_bytes_chunks_and_rdflib_dataset_give_the_same_report() -> None:
    import rdflib

    data = _trig_to_nquads(
        PREFIX_BLOCK
        + """
        ex:graph\\/a { ex:i a bf:Instance . }
        ex:graph\\/b { ex:i bf:title ex:t . ex:t a bf:Title ; bf:mainTitle "Emma" . }
    """
    )
    lines = data.splitlines(keepends=True)
    dataset = rdflib.Dataset()
    dataset.parse(data=data, format="nquads")
    reports = [
        validate(data),
        validate([b"".join(lines[:1]), b"".join(lines[1:])]),
        validate(dataset),
    ]
    assert {tuple(r.results) for r in reports} == {tuple(reports[0].results)}
    # the title in graph b satisfies the instance of graph a: shapes see the union
    assert _violations(reports[0]) == {(EX + "i", BF.instanceOf.value)}


def test_validation_never_changes_the_callers_graph() -> None:
    import rdflib

    graph = rdflib.Graph()
    graph.add((rdflib.URIRef(EX + "i"), rdflib.RDF.type, rdflib.URIRef(BF.Instance.value)))
    validate(graph)
    assert len(graph) == 1


def test_unparsable_or_oversized_input_raises_input_error() -> None:
    with pytest.raises(InputError, match="N-Quads"):
        validate(b"<http://example.org/a> <http://example.org/b> .\n")
    triples = b"".join(f'<{EX}s{n}> <{EX}p> "{n}" .\n'.encode() for n in range(11))
    with pytest.raises(InputError, match="more than 10 statements"):
        validate(triples, max_statements=10)
    assert validate(triples, max_statements=11).conforms


def test_malformed_shapes_graph_raises_input_error() -> None:
    from rdflib import BNode, Graph, URIRef
    from rdflib.namespace import RDF, SH

    shapes = Graph()
    shape, prop = URIRef(EX + "S"), BNode()
    shapes.add((shape, RDF.type, SH.NodeShape))
    shapes.add((shape, SH.targetClass, URIRef(BF.Work.value)))
    shapes.add((shape, SH.property, prop))
    shapes.add((prop, SH.path, URIRef(BF.title.value)))
    shapes.add((prop, SH.qualifiedValueShape, BNode()))  # no qualified count: malformed
    data = _trig_to_nquads(PREFIX_BLOCK + "ex:g { ex:w a bf:Work ; bf:title ex:t . }")
    with pytest.raises(InputError, match="shapes graph"):
        validate(data, shapes=shapes)


def test_report_text_lists_violations_first() -> None:
    report = _bad("""
        ex:t bf:mainTitle "Emma :" .
        ex:i a bf:Instance ; bf:title ex:t2 .
        ex:t2 a bf:Title ; bf:mainTitle "Emma" .
    """)
    lines = report.text().splitlines()
    assert lines[0] == "conforms: False; 1 violations, 1 warnings"
    assert lines[1].startswith("Violation: <http://example.org/i>")
    assert lines[2].startswith("Warning: <http://example.org/t>")


def test_importing_validation_does_not_import_rdflib_or_pyshacl() -> None:
    """pyshacl and rdflib cost ~0.2 s to import; pages and the CLI must not pay it."""
    code = (
        "import sys, ontology.validation, ontology.vocabulary; "
        "print(sorted(m for m in ('rdflib', 'pyshacl') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_shapes_and_context_files_ship_with_the_package() -> None:
    assert shapes_path().parent == ontology_path().parent == context_path().parent
    for path in (ontology_path(), shapes_path(), context_path()):
        assert path.suffix in {".ttl", ".jsonld"}  # pyproject's package-data patterns
