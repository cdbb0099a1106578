"""Namespace constants every layer imports.

Terms are pyoxigraph ``NamedNode`` objects, created once and cached, because the
ingest mapper builds tens of millions of quads and re-validating the same IRI for
every quad would dominate its cost.
"""

from __future__ import annotations

from functools import lru_cache

from pyoxigraph import NamedNode


class Namespace:
    """An IRI prefix whose attributes and items are cached ``NamedNode`` terms.

    Not a ``str`` subclass on purpose: ``BF.title`` must be the BIBFRAME
    property, not ``str.title``.

    A term looked up as an attribute is kept in the instance's ``__dict__``,
    so every later ``BF.title`` is one ordinary attribute lookup: going
    through ``__getattr__`` and the cache each time cost ~2 µs, and the
    mappers name terms a hundred times per record. Attribute names come from
    the code, so that dict stays small; ``BF[name]``, which may be given
    names from the data (relator or language codes), keeps the bounded cache.

    >>> BF.Work.value
    'http://id.loc.gov/ontologies/bibframe/Work'
    >>> BF["instanceOf"] is BF.instanceOf
    True
    >>> str(SKOS)
    'http://www.w3.org/2004/02/skos/core#'
    """

    __slots__ = ("iri", "__dict__")

    def __init__(self, iri: str) -> None:
        self.iri = iri

    def __getattr__(self, local: str) -> NamedNode:
        if local.startswith("__"):
            raise AttributeError(local)
        term = self.__dict__[local] = _term(self.iri, local)
        return term

    def __getitem__(self, local: str) -> NamedNode:
        return _term(self.iri, local)

    def __str__(self) -> str:
        return self.iri

    def __repr__(self) -> str:
        return f"Namespace({self.iri!r})"


@lru_cache(maxsize=8192)
def _term(prefix: str, local: str) -> NamedNode:
    return NamedNode(prefix + local)


RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
BF = Namespace("http://id.loc.gov/ontologies/bibframe/")
BFLC = Namespace("http://id.loc.gov/ontologies/bflc/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCT = Namespace("http://purl.org/dc/terms/")
PROV = Namespace("http://www.w3.org/ns/prov#")
MADS = Namespace("http://www.loc.gov/mads/rdf/v1#")
SDO = Namespace("http://schema.org/")
DCMITYPE = Namespace("http://purl.org/dc/dcmitype/")
VOID = Namespace("http://rdfs.org/ns/void#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

#: Catalograph's own vocabulary: stable, independent of where an instance runs.
CG = Namespace("https://w3id.org/catalograph/ontology#")

#: Controlled values published by the Library of Congress, used as objects.
LANGUAGES = Namespace("http://id.loc.gov/vocabulary/languages/")
RELATORS = Namespace("http://id.loc.gov/vocabulary/relators/")

#: Prefixes offered to SPARQL users, Turtle output and the query UI.
PREFIXES: dict[str, str] = {
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "owl": str(OWL),
    "bf": str(BF),
    "bflc": str(BFLC),
    "skos": str(SKOS),
    "dcterms": str(DCT),
    "prov": str(PROV),
    "madsrdf": str(MADS),
    "schema": str(SDO),
    "dcmitype": str(DCMITYPE),
    "void": str(VOID),
    "cg": str(CG),
    "lang": str(LANGUAGES),
    "relators": str(RELATORS),
}


def compact(iri: str) -> str:
    """``bf:Work`` for a BIBFRAME IRI, by the longest known prefix; the IRI when none fits.

    >>> compact("http://id.loc.gov/ontologies/bibframe/Work")
    'bf:Work'
    >>> compact("http://example.org/thing")
    'http://example.org/thing'
    """
    best = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]) :]}" if best else iri
