"""The SPARQL 1.1 Service Description of the endpoint, as triples.

What a client can learn before sending a query: where the endpoint is, that it
speaks SPARQL 1.1 Query and Update, every results and RDF format it writes
(pyoxigraph's own tables, named by their W3C format IRIs), that the default
graph is the union of the named graphs (``sd:UnionDefaultGraph``), where the
Graph Store Protocol endpoint is, and the dataset, described by VoID.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Triple

from ontology.namespaces import DCT, PREFIXES, RDF, RDFS, SD, VOID
from query.negotiation import RDF_FORMATS, RESULTS_FORMATS, Format

#: The W3C registry of format IRIs ("Unique URIs for File Formats").
W3C_FORMATS = "http://www.w3.org/ns/formats/"
SPARQL11_PROTOCOL = "http://www.w3.org/TR/sparql11-protocol/"
GRAPH_STORE_PROTOCOL = "http://www.w3.org/TR/sparql11-http-rdf-update/"
SIMPLE_ENTAILMENT = "http://www.w3.org/ns/entailment/Simple"

#: Prefixes for writing descriptions (the dataset's own, plus ``sd`` and ``formats``).
DESCRIPTION_PREFIXES = {**PREFIXES, "sd": str(SD), "formats": W3C_FORMATS}


def used_prefixes(triples: Iterable[Triple]) -> dict[str, str]:
    """The prefixes of ``DESCRIPTION_PREFIXES`` whose namespace a triple uses (for tidy Turtle)."""
    seen: set[str] = set()
    for triple in triples:
        for term in (triple.subject, triple.predicate, triple.object):
            if isinstance(term, NamedNode):
                seen.add(term.value)
    return {
        prefix: namespace
        for prefix, namespace in DESCRIPTION_PREFIXES.items()
        if any(iri.startswith(namespace) for iri in seen)
    }


def format_iri(fmt: Format) -> str:
    """The W3C IRI of a pyoxigraph format.

    pyoxigraph 0.5 names JSON-LD ``https://www.w3.org/ns/formats/data/JSON-LD``,
    which is not in the registry; the registry's name is the last segment.

    >>> from pyoxigraph import RdfFormat
    >>> format_iri(RdfFormat.JSON_LD), format_iri(RdfFormat.TURTLE)
    ('http://www.w3.org/ns/formats/JSON-LD', 'http://www.w3.org/ns/formats/Turtle')
    """
    iri = fmt if isinstance(fmt, str) else fmt.iri
    return W3C_FORMATS + iri.rstrip("/").rsplit("/", 1)[-1]


def result_format_iris() -> list[str]:
    """Every format an answer can come in: SPARQL results, then RDF graphs."""
    return list(dict.fromkeys(format_iri(f) for f in (*RESULTS_FORMATS, *RDF_FORMATS)))


def rdf_format_iris() -> list[str]:
    return list(dict.fromkeys(format_iri(f) for f in RDF_FORMATS))


def service_triples(
    *, endpoint: str, graph_store: str, void_document: str, dataset: NamedNode
) -> list[Triple]:
    """The service description of the endpoint at ``endpoint`` (absolute URLs throughout)."""
    service = NamedNode(endpoint)
    store = NamedNode(graph_store)
    default_graph = NamedNode(dataset.value.partition("#")[0] + "#default-graph")
    triples = [
        Triple(service, RDF.type, SD.Service),
        Triple(service, SD.endpoint, service),
        Triple(service, RDFS.label, Literal("Catalograph SPARQL endpoint")),
        Triple(
            service,
            RDFS.comment,
            Literal(
                "Queries by GET or POST for everyone; updates by POST with a bearer token or a "
                "cataloger account. The default graph is the union of all named graphs. "
                "SERVICE and LOAD only to allowed URLs."
            ),
        ),
        Triple(service, DCT.conformsTo, NamedNode(SPARQL11_PROTOCOL)),
        Triple(service, SD.supportedLanguage, SD.SPARQL11Query),
        Triple(service, SD.supportedLanguage, SD.SPARQL11Update),
        Triple(service, SD.feature, SD.UnionDefaultGraph),
        Triple(service, SD.defaultEntailmentRegime, NamedNode(SIMPLE_ENTAILMENT)),
        Triple(service, SD.defaultDataset, dataset),
        Triple(service, RDFS.seeAlso, store),
        Triple(service, RDFS.seeAlso, NamedNode(void_document)),
        Triple(dataset, RDF.type, SD.Dataset),
        Triple(dataset, RDF.type, VOID.Dataset),
        Triple(dataset, SD.defaultGraph, default_graph),
        Triple(dataset, RDFS.seeAlso, NamedNode(void_document)),
        Triple(default_graph, RDF.type, SD.Graph),
        Triple(default_graph, RDFS.comment, Literal("the union of all named graphs")),
        Triple(store, RDFS.label, Literal("Graph Store Protocol endpoint (?graph=IRI, ?default)")),
        Triple(store, DCT.conformsTo, NamedNode(GRAPH_STORE_PROTOCOL)),
    ]
    triples += [Triple(service, SD.resultFormat, NamedNode(i)) for i in result_format_iris()]
    triples += [Triple(service, SD.inputFormat, NamedNode(i)) for i in rdf_format_iris()]
    return triples
