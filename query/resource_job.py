"""A resource's page or RDF twin as a job for a query worker, where it can be stopped.

Gathering what a page shows takes dozens of small queries; a heavily used
resource or a slow store can make that long, and pyoxigraph cannot cancel a
query. So the web layer never asks them in a request thread: it sends a
``ResourceJob`` to the same worker processes as SPARQL queries
(``query.execution``), under a deadline at which the worker is killed, and
gets back a ``Description`` (bounded by its ``Paging``) or the twin's bytes
(bounded in triples and bytes).

A request path may name two resources: ``/work/x.ttl`` is the Turtle twin of
``/work/x``, unless ``/work/x.ttl`` itself is known. The job carries both
``candidates`` and answers the first the store knows, so deciding costs no
question in the server.
"""

from __future__ import annotations

from typing import NamedTuple

from pyoxigraph import NamedNode, RdfFormat, Store

from ontology.errors import QueryError
from query.listings import Description, Paging
from query.resources import ResourceQueries
from query.sparql import SparqlResult

#: What a candidate may want: its page (HTML)...
PAGE = "page"
#: ...or nothing (the client accepts no format it has): only whether it exists.
NOTHING = ""


class Candidate(NamedTuple):
    """A resource the request may mean, and what is wanted of it.

    ``want`` is ``PAGE``, the media type of an RDF format (the twin), or
    ``NOTHING``.
    """

    iri: str
    want: str


class ResourceAnswer(NamedTuple):
    """Which candidate the store knows (its index), and what was made for it."""

    index: int
    description: Description | None = None
    rdf: SparqlResult | None = None


class ResourceJob(NamedTuple):
    """One resource request for a worker: plain values only, so it pickles small."""

    store_path: str
    base: str
    candidates: tuple[Candidate, ...]
    paging: Paging
    max_triples: int
    max_bytes: int

    def run(self, store: Store) -> ResourceAnswer | None:
        """The answer for the first candidate the store knows; ``None`` if it knows none."""
        queries = ResourceQueries(store, self.base)
        for index, (iri, want) in enumerate(self.candidates):
            node = NamedNode(iri)
            if not queries.exists(node):
                continue
            if want == PAGE:
                return ResourceAnswer(index, description=queries.describe(node, self.paging))
            if want == NOTHING:
                return ResourceAnswer(index)
            fmt = RdfFormat.from_media_type(want)
            if fmt is None:
                raise QueryError(f"not an RDF media type: {want}")
            rdf = queries.rdf(node, fmt, self.max_triples, self.max_bytes)
            return ResourceAnswer(index, rdf=rdf)
        return None
