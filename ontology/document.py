"""The ontology as a document to hand out: Turtle, JSON-LD or OWL's RDF/XML, serialised once.

``catalograph ontology export`` and the ``/ontology`` page's machine twins
serve the same bytes, written by pyoxigraph's serialisers (never by hand) from
the statements of ``catalograph.ttl``, with the project's prefixes. Each
format is serialised once per process.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from pyoxigraph import RdfFormat, Triple, serialize

from ontology.errors import UsageError
from ontology.namespaces import PREFIXES
from ontology.vocabulary import ontology_triples

#: Short names of the formats offered for export, as the CLI takes them.
EXPORT_FORMATS: dict[str, RdfFormat] = {
    "ttl": RdfFormat.TURTLE,
    "jsonld": RdfFormat.JSON_LD,
    "owl": RdfFormat.RDF_XML,  # OWL's exchange syntax (OWL 2 requires tools to read RDF/XML)
}

_EXTRA_PREFIXES = {
    "vann": "http://purl.org/vocab/vann/",
}


def export_format(name: str) -> RdfFormat:
    """The format a short name (``ttl``, ``jsonld``, ``owl``) or a media type names.

    >>> export_format("owl").name, export_format("text/turtle").name
    ('RDF/XML', 'Turtle')
    """
    wanted = name.strip().lower()
    if wanted in EXPORT_FORMATS:
        return EXPORT_FORMATS[wanted]
    found = RdfFormat.from_media_type(wanted) if "/" in wanted else None
    if found in EXPORT_FORMATS.values():
        return found
    raise UsageError(
        f"unknown export format {name!r}; use one of {', '.join(EXPORT_FORMATS)} or their media types"
    )


@lru_cache(maxsize=8)
def ontology_document(fmt: RdfFormat) -> bytes:
    """``catalograph.ttl``'s statements in ``fmt``, with the project's prefixes.

    >>> ontology_document(RdfFormat.TURTLE).startswith(b"@prefix")
    True
    """
    return serialize_ontology(ontology_triples(), fmt)


def serialize_ontology(triples: Iterable[Triple], fmt: RdfFormat) -> bytes:
    """An ontology given as its statements (a store's edited copy, say) in ``fmt``, with our prefixes."""
    prefixes = {**PREFIXES, **_EXTRA_PREFIXES}
    return serialize(triples, format=fmt, prefixes=prefixes) or b""
