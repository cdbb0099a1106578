"""``ontology.editing``: each edit of the ontology as statements, and each refusal, on the shipped ontology.

The operations are pure (the ontology's statements in, quads to add and
remove out), so they are checked against the real ``catalograph.ttl`` and
its reference model, and their results applied to a plain statement set to
see the ontology they leave (``build_reference``).
"""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from ontology.editing import (
    OntologyEditError,
    TermDraft,
    declare,
    deprecate,
    new_term_iri,
    removal,
    revise,
    undeprecate,
)
from ontology.namespaces import BF, CG, DCT, OWL, RDFS, SKOS
from ontology.ontology_checks import hierarchy_problems
from ontology.reference import build_reference
from ontology.vocabulary import ontology_triples

GRAPH = NamedNode("http://example.org/graph/ontology")


def applied(triples: list[Triple], change) -> list[Triple]:
    """The statements after a change (removals first, as ``apply_changes`` does)."""
    gone = {(q.subject, q.predicate, q.object) for q in change.remove}
    kept = [t for t in triples if (t.subject, t.predicate, t.object) not in gone]
    return kept + [Triple(q.subject, q.predicate, q.object) for q in change.add]


@pytest.fixture()
def triples() -> list[Triple]:
    return list(ontology_triples())


def draft(**words) -> TermDraft:
    return TermDraft(labels={"en": "Palm-leaf manuscript", "zh": "贝叶经"}, **words)


def test_a_new_class_under_an_existing_one_with_labels_in_two_languages(triples) -> None:
    model = build_reference(triples)
    iri = new_term_iri("PalmLeafManuscript", "class")
    change = declare(model, iri, "class", draft(parents=[BF.Manuscript.value]), GRAPH)
    assert all(q.graph_name == GRAPH for q in change.add) and not change.remove
    after = build_reference(applied(triples, change))
    term = after.terms[iri]
    assert (term.kind, term.labels, term.parents) == (
        "class", {"en": "Palm-leaf manuscript", "zh": "贝叶经"}, [BF.Manuscript.value],
    )  # fmt: skip
    assert iri in after.terms[BF.Manuscript.value].children


@pytest.mark.parametrize(
    ("name", "kind", "why"),
    [
        ("lower", "class", "capital"),
        ("Upper", "object property", "small letter"),
        ("has space", "class", "not a name"),
        ("A" * 65, "class", "not a name"),
        ("Évé", "class", "not a name"),
        ("X>", "class", "not a name"),
        ("Thing", "individual", "unknown kind"),
    ],
)
def test_a_local_name_is_validated_strictly(name: str, kind: str, why: str) -> None:
    with pytest.raises(OntologyEditError, match=why):
        new_term_iri(name, kind)


def test_refusals_of_a_new_term_name_every_problem(triples) -> None:
    model = build_reference(triples)
    bad = TermDraft(
        labels={"zh": "无英文", "english": "x", "fr": "a\x07b"},
        parents=[BF.title.value, "http://example.org/Undeclared"],
        domains=[BF.Work.value],
    )
    with pytest.raises(OntologyEditError) as refused:
        declare(model, CG.KnowledgeUnit.value, "class", bad, GRAPH)
    text = " | ".join(refused.value.problems)
    for expected in (
        "cg:KnowledgeUnit is already declared",
        "'english' is not a language tag",
        "control characters",
        "needs a label in English",
        "bf:title is not a declared term that can be a superclass",
        "Undeclared is not a declared term",
        "only a property has a domain",
    ):
        assert expected in text, (expected, text)
    assert refused.value.http_status == 422


def test_a_subclass_cycle_is_refused(triples) -> None:
    model = build_reference(triples)
    # bf:Work is below cg:KnowledgeUnit: making the unit a kind of Work would close a loop
    work_draft = TermDraft(labels={"en": "Knowledge unit"}, parents=[BF.Work.value])
    with pytest.raises(OntologyEditError, match="cycle"):
        revise(model, triples, CG.KnowledgeUnit.value, work_draft, GRAPH)
    itself = TermDraft(labels={"en": "Work"}, parents=[BF.Work.value])
    with pytest.raises(OntologyEditError, match="cycle"):
        revise(model, triples, BF.Work.value, itself, GRAPH)
    # the check run inside the edit sees a cycle however it was made
    a, b = NamedNode("http://example.org/A"), NamedNode("http://example.org/B")
    looped = [*triples, Triple(a, RDFS.subClassOf, b), Triple(b, RDFS.subClassOf, a)]
    assert hierarchy_problems(looped) == ["http://example.org/A is below itself (rdfs:subClassOf)"]
    assert hierarchy_problems(triples) == []


def test_revising_changes_only_what_differs(triples) -> None:
    model = build_reference(triples)
    work = model.terms[BF.Work.value]
    unchanged = TermDraft(
        labels=dict(work.labels), definitions=dict(work.definitions), parents=list(work.parents)
    )
    assert revise(model, triples, BF.Work.value, unchanged, GRAPH).empty
    changed = TermDraft(
        labels={**work.labels, "zh": "作品（改）", "fr": "Œuvre"},
        definitions={"en": "A new definition."},
        parents=list(work.parents),
    )
    change = revise(model, triples, BF.Work.value, changed, GRAPH)
    removed = {(q.predicate, q.object) for q in change.remove}
    added = {(q.predicate, q.object) for q in change.add}
    assert (RDFS.label, Literal("作品", language="zh")) in removed
    assert added >= {
        (RDFS.label, Literal("作品（改）", language="zh")),
        (RDFS.label, Literal("Œuvre", language="fr")),
        (SKOS.definition, Literal("A new definition.", language="en")),
    }
    assert (RDFS.label, Literal(work.labels["en"], language="en")) not in removed
    # the Chinese definition was left out of the form: it goes
    assert any(p == SKOS.definition and o.language == "zh" for p, o in removed)
    after = build_reference(applied(triples, change)).terms[BF.Work.value]
    assert after.labels["zh"] == "作品（改）" and after.definitions == {"en": "A new definition."}


def test_a_property_gets_a_domain_a_range_and_a_superproperty(triples) -> None:
    model = build_reference(triples)
    iri = new_term_iri("leafCount", "datatype property")
    words = TermDraft(
        labels={"en": "leaf count", "zh": "叶数"},
        parents=[BF.extent.value] if BF.extent.value in model.properties else [],
        domains=[BF.Instance.value],
        ranges=["http://www.w3.org/2001/XMLSchema#integer"],
    )
    after = build_reference(applied(triples, declare(model, iri, "datatype property", words, GRAPH)))
    term = after.terms[iri]
    assert (term.kind, term.domains, term.ranges) == (
        "datatype property", [BF.Instance.value], ["http://www.w3.org/2001/XMLSchema#integer"],
    )  # fmt: skip
    with pytest.raises(OntologyEditError, match="superproperty"):
        declare(model, new_term_iri("other", "object property"), "object property",
                TermDraft(labels={"en": "x"}, parents=[BF.Work.value]), GRAPH)  # fmt: skip


def test_deprecation_with_a_replacement_and_its_undoing(triples) -> None:
    model = build_reference(triples)
    change = deprecate(model, triples, BF.Text.value, BF.Work.value, GRAPH)
    after_triples = applied(triples, change)
    term = build_reference(after_triples).terms[BF.Text.value]
    assert term.deprecated and term.replaced_by == [BF.Work.value]
    assert {q.predicate for q in change.add} == {OWL.deprecated, DCT.isReplacedBy}
    with pytest.raises(OntologyEditError, match="not a declared class"):
        deprecate(model, triples, BF.Text.value, BF.title.value, GRAPH)
    with pytest.raises(OntologyEditError, match="cannot replace itself"):
        deprecate(model, triples, BF.Text.value, BF.Text.value, GRAPH)
    undone = undeprecate(after_triples, BF.Text.value, GRAPH)
    back = build_reference(applied(after_triples, undone)).terms[BF.Text.value]
    assert not back.deprecated and back.replaced_by == []


def test_only_an_unused_cataloger_made_term_can_be_deleted(triples) -> None:
    model = build_reference(triples)
    iri = new_term_iri("Scroll", "class")
    with_scroll = applied(triples, declare(model, iri, "class", TermDraft(labels={"en": "Scroll"}), GRAPH))
    model = build_reference(with_scroll)
    with pytest.raises(OntologyEditError, match="used by 3 statement"):
        removal(model, with_scroll, iri, 3, GRAPH)
    with pytest.raises(OntologyEditError, match="comes with Catalograph"):
        removal(model, with_scroll, BF.Work.value, 0, GRAPH)
    change = removal(model, with_scroll, iri, 0, GRAPH)
    assert {q.subject.value for q in change.remove} == {iri} and len(change.remove) == 3
    assert iri not in build_reference(applied(with_scroll, change)).terms
