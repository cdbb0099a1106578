"""Where every resource and every graph lives: the IRI layout under one base, in one place.

Every layer needs the same answers (ingest mints IRIs and files statements
into graphs, the store tells record graphs from unit graphs, the web app
dereferences IRIs, writes are checked against the layout), so the layout
and its validation live here, once::

    {base}{kind}/{slug}             a resource: work, instance, agent, concept, place, event, item
    {base}{kind}/{slug}#{part}      a part of a shared unit (a Work's contribution or title)
    {base}graph/{source}/{id}       the graph of one source record
    {base}graph/{source}/{id}#{n}   a node local to that record (its titles, notes, provision...)
    {base}graph/meta                provenance of every record graph
    {base}graph/changeset/{id}      one cataloger's change (who, when, what)
    {base}graph/ontology            the library ontology as this store holds it (seeded
                                    from ``catalograph.ttl``, edited by catalogers)

**Every statement lives in one graph** (``home_graph``): a statement that
mentions a node local to a record lives in that record's graph; any other
statement lives in the graph named by its subject, without the fragment (the
*unit graph*: ``<agent/k1>``'s name, type and labels are in the graph
``<agent/k1>``, whichever records state them). So no triple is stated in two
graphs, and the default graph, the union of them all, is a set of triples on
any engine (pyoxigraph 0.5 repeats a triple once per graph holding it:
oxigraph#1919).

A statement about a term of a vocabulary the ontology describes (a subject in
``ONTOLOGY_NAMESPACES``: ``cg:``, BIBFRAME, SKOS, MADS, PROV, Dublin Core,
schema.org, OWL, RDF(S)... and the ontology's own IRI) lives in the
**ontology graph**: ``bf:Work rdfs:label "Work"@en`` and
``cg:KnowledgeUnit rdfs:subClassOf ...`` are both there, whatever the shape of
their IRIs (``#`` or ``/``). No source record states anything about those
terms (ingest only uses them), so ingest never writes that graph.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from pyoxigraph import NamedNode

from ontology.namespaces import (
    BF,
    BFLC,
    CG,
    DCMITYPE,
    DCT,
    MADS,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SKOS,
    XSD,
)

#: Kinds of resource minted under the base and dereferenced by the web app.
RESOURCE_KINDS = ("work", "instance", "agent", "concept", "place", "event", "item")
#: The path segment of Catalograph's own graphs (record graphs, provenance, changesets).
GRAPHS = "graph"
#: Kinds the web app dereferences: the resources and the graphs.
KINDS = (*RESOURCE_KINDS, GRAPHS)
#: Sources that name Catalograph's own graphs, never a source's record graphs.
RESERVED_SOURCES = frozenset({"meta", "changeset", "derived", "ontology"})
#: Namespaces whose terms the ontology describes: statements about them live in the ontology graph.
#: The first, the ontology's IRI without its ``#``, covers the ontology itself and every ``cg:`` term.
ONTOLOGY_NAMESPACES = (
    str(CG).rstrip("#"),
    *(str(ns) for ns in (BF, BFLC, SKOS, MADS, PROV, DCT, DCMITYPE, SDO, OWL, RDF, RDFS, XSD)),
    "http://purl.org/vocab/vann/",
)

_BASE = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


class Layout:
    """The IRIs of one deployment, under its base IRI.

    >>> layout = Layout("http://example.org")
    >>> layout.base
    'http://example.org/'
    >>> layout.record_graph("marc", "123 4").value
    'http://example.org/graph/marc/123%204'
    >>> layout.home_graph("http://example.org/agent/k1", "http://id.loc.gov/vocabulary/relators/aut")
    'http://example.org/agent/k1'
    >>> layout.home_graph("http://example.org/instance/isbn-1", "http://example.org/graph/marc/1#title-1")
    'http://example.org/graph/marc/1'
    >>> layout.home_graph("http://example.org/work/k2#contribution-9f", None)
    'http://example.org/work/k2'
    >>> layout.home_graph("https://w3id.org/catalograph/ontology#KnowledgeUnit", None)
    'http://example.org/graph/ontology'
    >>> layout.home_graph("http://id.loc.gov/ontologies/bibframe/Work", None)
    'http://example.org/graph/ontology'
    """

    __slots__ = ("base", "graphs", "metadata_graph", "changesets", "ontology_graph")

    def __init__(self, base: str) -> None:
        if not _BASE.match(base):
            raise ValueError(f"base IRI must be an absolute http(s) IRI, got {base!r}")
        self.base = base if base.endswith("/") else base + "/"
        #: Prefix of every graph Catalograph itself names (``{base}graph/``).
        self.graphs = f"{self.base}{GRAPHS}/"
        self.metadata_graph = NamedNode(f"{self.graphs}meta")
        self.changesets = f"{self.graphs}changeset/"
        #: The library ontology as this store holds it (``graph.ontology_graph``).
        self.ontology_graph = NamedNode(f"{self.graphs}ontology")

    # ------------------------------------------------------------ minting

    def resource(self, kind: str, slug: str) -> NamedNode:
        """``{base}{kind}/{slug}``; ``slug`` must already be IRI-safe (``ingest.iri``)."""
        return NamedNode(f"{self.base}{kind}/{slug}")

    def record_graph(self, source: str, record_id: str) -> NamedNode:
        """The named graph of one source record: ``{base}graph/{source}/{id}``."""
        if source in RESERVED_SOURCES:
            source = f"{source}-records"  # never Catalograph's own graphs
        return NamedNode(f"{self.graphs}{quote(source, safe='')}/{quote(record_id, safe='')}")

    def changeset(self, key: str) -> NamedNode:
        """The graph (and subject) of one change a writer made."""
        return NamedNode(f"{self.changesets}{quote(key, safe='')}")

    # ------------------------------------------------------------ reading IRIs

    def is_catalograph_graph(self, iri: str) -> bool:
        """A graph Catalograph names itself (record graphs, provenance, changesets)."""
        return iri.startswith(self.graphs) and "#" not in iri

    def is_record_graph(self, iri: str) -> bool:
        """The graph of a source record (not provenance, not a changeset).

        >>> layout = Layout("http://example.org/")
        >>> layout.is_record_graph("http://example.org/graph/marc/1")
        True
        >>> layout.is_record_graph("http://example.org/graph/meta")
        False
        """
        if not self.is_catalograph_graph(iri):
            return False
        source, _, record_id = iri[len(self.graphs) :].partition("/")
        return bool(record_id) and source not in RESERVED_SOURCES

    def is_record_local(self, iri: str) -> bool:
        """A node that belongs to one record: ``{base}graph/{source}/{id}#{n}``."""
        return iri.startswith(self.graphs) and "#" in iri

    def is_part(self, iri: str) -> bool:
        """A node without a page of its own: a record's local node or a part of a unit.

        >>> layout = Layout("http://example.org/")
        >>> layout.is_part("http://example.org/work/k1#title-3"), layout.is_part("http://example.org/work/k1")
        (True, False)
        """
        return iri.startswith(self.base) and "#" in iri

    def owner(self, iri: str) -> str:
        """The IRI without the fragment when it is ours (``work/k1#title-3`` -> ``work/k1``)."""
        if "#" in iri and iri.startswith(self.base):
            return iri.partition("#")[0]
        return iri

    def kind(self, iri: str) -> str | None:
        """``work``, ``agent``... for a resource under the base (``graph`` for our graphs)."""
        if not iri.startswith(self.base):
            return None
        kind = iri[len(self.base) :].partition("/")[0]
        return kind if kind in KINDS else None

    def is_ontology_term(self, iri: str) -> bool:
        """A term of a vocabulary the ontology describes (see the module docstring).

        >>> layout = Layout("http://example.org/")
        >>> layout.is_ontology_term("http://www.w3.org/2004/02/skos/core#Concept")
        True
        >>> layout.is_ontology_term("http://id.loc.gov/authorities/names/n79021164")
        False
        """
        return iri.startswith(ONTOLOGY_NAMESPACES) and not iri.startswith(self.base)

    def home_graph(self, subject: str, object_iri: str | None) -> str:
        """The one graph a statement lives in (see the module docstring).

        ``object_iri`` is the object when it is an IRI, else ``None``.
        """
        if self.is_ontology_term(subject):
            return self.ontology_graph.value
        if object_iri is not None and object_iri.startswith(self.graphs) and "#" in object_iri:
            return object_iri.partition("#")[0]
        return self.owner(subject)
