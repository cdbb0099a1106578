"""Every vocabulary term the mapper can emit has a label (``ontology.term_labels``).

Two ways to fail: the mapper's fixed tables (issuance, statuses, schemes, the
relator and language code lists) hold a term with no label; or a real record
of ``data/`` maps to a vocabulary IRI nobody labelled.
"""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, parse

from ingest.marc import authority, description, identifiers, vocab, works
from ingest.marc.mapper import map_marc
from ingest.model import Position, SourceRecord
from ontology.term_labels import languages, relators, vocabulary_label, vocabulary_labels
from tests.conftest import ROOT
from tests.test_ingest_marc_mapping import MINTER, read

#: Objects under these prefixes are vocabulary terms (not authorities' headings, which carry labels).
_VOCABULARY = "http://id.loc.gov/vocabulary/"
_SCHEME_ROOTS = {
    "http://id.loc.gov/authorities/subjects",
    "http://id.loc.gov/authorities/childrensSubjects",
    "http://id.loc.gov/authorities/genreForms",
    "http://id.loc.gov/authorities/names",
    "http://id.loc.gov/authorities/demographicTerms",
    "http://id.loc.gov/authorities/performanceMediums",
    "http://id.nlm.nih.gov/mesh",
    "http://id.worldcat.org/fast",
}


def _fixed_terms() -> list[str]:
    found = [term.value for term in works._ISSUANCE.values()]
    found += [identifiers._CANCELLED.value, identifiers._INCORRECT.value, authority._CANCELLED.value]
    found += list(vocab._SCHEME_BY_INDICATOR.values()) + list(vocab._SCHEME_BY_SOURCE.values())
    found += [vocab.classification_scheme(tag).value for tag in vocab._CLASS_BY_TAG]
    found += [vocab.relator_iri(code).value for code in relators()]
    found += [vocab.language_iri(code).value for code in languages()]
    return found


def test_every_fixed_term_the_mapper_emits_has_an_english_label() -> None:
    terms = sorted(set(_fixed_terms()))
    assert len(terms) > 500  # the relator and language lists are in
    unlabelled = [iri for iri in terms if not vocabulary_label(iri) or "http" in vocabulary_label(iri)]
    assert not unlabelled, f"terms the mapper emits without a label: {unlabelled}"


def test_open_families_label_any_code_the_record_brings() -> None:
    assert vocabulary_label(vocab.subject_scheme("7", "gsafd")) == "subject scheme gsafd"
    assert vocabulary_label(vocab.classification_scheme("084", "rvk")) == "classification scheme rvk"
    assert vocabulary_label(NamedNode(description._CONVENTIONS + "dacs")) == "description conventions dacs"
    assert vocabulary_label(NamedNode(authority._ORGANIZATIONS + "dlc")) == "organization dlc"


def test_known_labels_are_the_code_lists_words_and_chinese_only_where_sourced() -> None:
    assert vocabulary_label("http://id.loc.gov/vocabulary/issuance/mono") == "single unit"
    assert vocabulary_label("http://id.loc.gov/vocabulary/relators/aut").casefold() == "author"
    assert vocabulary_label("http://id.loc.gov/vocabulary/languages/eng", ["zh"]) == "英语"
    assert vocabulary_label("http://id.loc.gov/vocabulary/languages/eng", ["fr", "en"]) == "English"
    assert "zh" not in vocabulary_labels("http://id.loc.gov/vocabulary/relators/aut")
    assert vocabulary_label("http://id.loc.gov/vocabulary/relators/nosuchcode") is None


def _emitted_vocabulary_terms() -> set[str]:
    found: set[str] = set()
    files = sorted((ROOT / "data" / "marc").glob("*.m*c")) + sorted((ROOT / "data" / "marcxml").glob("*.xml"))
    assert files, "the shipped sample data/ is missing"
    for path in files:
        for index, record in enumerate(read(Path(path))):
            graph = map_marc(SourceRecord(Position(path.name, index + 1), "marc", record), MINTER)
            for quad in parse(graph.all_nquads, format=RdfFormat.N_QUADS):
                obj = quad.object
                if isinstance(obj, NamedNode) and (
                    obj.value.startswith(_VOCABULARY) or obj.value in _SCHEME_ROOTS
                ):
                    found.add(obj.value)
    return found


def test_every_vocabulary_term_real_records_map_to_has_a_label() -> None:
    emitted = _emitted_vocabulary_terms()
    assert any("/issuance/" in iri for iri in emitted) and any("/relators/" in iri for iri in emitted)
    unlabelled = sorted(iri for iri in emitted if vocabulary_label(iri) is None)
    assert not unlabelled, f"vocabulary terms without a label: {unlabelled}"
