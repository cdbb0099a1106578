"""Hostile bibliographic records: whatever the fields hold, mapping gives a valid graph or nothing.

Records are built from the tags the mapper reads, with arbitrary indicators,
subfield codes and text (bidi marks, punctuation only, broken ``$6`` links,
URLs with spaces), then mapped through ``ingest.mapping.map_record``: no
exception may escape as a ``mapping`` rejection, and the N-Quads must parse,
use no blank node and hold no empty literal.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymarc import Field, Leader, Record, Subfield
from pyoxigraph import Literal, RdfFormat, parse

from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import Position, RecordGraph, SourceRecord
from tests.conftest import BASE

MINTER = IriMinter(BASE)


def home_graph(quad) -> str:  # noqa: ANN001
    """The graph a mapped statement must be in (``ontology.layout``)."""
    obj = quad.object.value if type(quad.object).__name__ == "NamedNode" else None
    return MINTER.layout.home_graph(quad.subject.value, obj)
TAGS = [
    "010", "020", "022", "024", "035", "040", "041", "050", "082", "084", "100", "110", "111",
    "130", "210", "240", "245", "246", "250", "260", "264", "300", "440", "490", "500", "502",
    "505", "520", "600", "610", "650", "651", "653", "655", "700", "710", "720", "740", "830",
    "856", "880",
]
AWKWARD = st.sampled_from([
    "", " ", " : ", "/", ".", "\u200f", "\u200f:\u200f", "880-01", "245-01/(2/r", "245-00",
    "700-99/$1", "24", "880", "abc-de", "http://x y", "https://example.org/a", "javascript:alert(1)",
    "(OCoLC)", "()", "0-14-081759-X", "9999", "Ḥ", "東京", "Москва", "\x00", "n  79021164",
    "(DLC)n 79021164", "http://id.loc.gov/authorities/subjects/sh85076502", "fast", "aut", "author.",
])
TEXT = st.one_of(AWKWARD, st.text(max_size=30))
CODES = st.sampled_from(list("abcdefghknpqrstuvxyz0123456") + ["", "\u00e9"])
SUBFIELDS = st.lists(st.builds(Subfield, CODES, TEXT), max_size=6)
INDICATORS = st.sampled_from([" ", "0", "1", "2", "4", "7", "9", "x"])
FIELD = st.builds(
    lambda tag, i1, i2, subfields: Field(tag=tag, indicators=[i1, i2], subfields=subfields),
    st.sampled_from(TAGS), INDICATORS, INDICATORS, SUBFIELDS,
)
CONTROL = st.builds(
    lambda tag, data: Field(tag=tag, data=data),
    st.sampled_from(["001", "003", "005", "008"]),
    st.one_of(AWKWARD, st.text(max_size=45)),
)
LEADER = st.sampled_from([
    "00000nam a2200000 a 4500", "00000cjm a2200000 a 4500", "00000nas a2200000 a 4500",
    "00000ntm a2200000 a 4500", "00000", "00000ngm a22000007i 4500",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LEADER, st.lists(CONTROL, max_size=4), st.lists(FIELD, max_size=14))
def test_any_record_maps_to_a_clean_graph(leader: str, control: list, fields: list) -> None:
    record = Record()
    record.leader = Leader(leader.ljust(24))
    for field in control + fields:
        record.add_field(field)
    result = map_record(SourceRecord(Position("hostile", 1), "marc", record), MINTER)
    assert isinstance(result, RecordGraph), str(result)
    for quad in parse(result.all_nquads, format=RdfFormat.N_QUADS):
        assert quad.graph_name.value == home_graph(quad)  # each statement in its one graph
        assert type(quad.subject).__name__ == "NamedNode"
        assert type(quad.object).__name__ != "BlankNode"
        if isinstance(quad.object, Literal):
            assert quad.object.value.strip()
