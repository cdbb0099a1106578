"""The library ontology in the store: seeded from ``catalograph.ttl``, then the catalogers' to edit.

The ontology lives in one named graph, ``{base}graph/ontology``
(``Layout.ontology_graph``; every statement about a term of a vocabulary it
describes lives there, ``Layout.home_graph``), so SPARQL users query it next
to the data and catalogers edit it through the single writer like any other
graph, each edit a changeset (``graph.updates.apply_changes``).

**Seeding** (``seed_ontology``) runs when an ingest or a harvest opens the
store (``graph.Writer(..., ontology=True)``, asked by
``web.ingest_command``) and before any edit of the ontology graph
(``graph.updates``):

- a store without the graph gets every statement of the shipped file;
- the SHA-256 of the file it was seeded from is kept in the metadata graph
  (``<{base}graph/ontology> cg:contentHash "…"``): while the file is the same,
  seeding is one lookup and writes nothing, so a cataloger's edits stay as
  they are across re-ingests and restarts;
- when a newer Catalograph ships another file, each term **no cataloger has
  changed** is made to say exactly what the new file says (new terms come,
  changed labels change, dropped statements go); a term a cataloger has
  changed (the subject of a statement a changeset added to or removed from
  the ontology graph: ``cg:subjectOfChange`` of a changeset whose
  ``cg:changedGraph`` is that graph) is left as the cataloger left it, and
  is named in the report and the log instead. So a newer shipped ontology
  never silently undoes a cataloger's edit, and it never fights one either.

A term's statements are those whose subject it is, with the blank nodes it
reaches (an ``owl:unionOf`` list is part of the term that names it);
``ontology.vocabulary.ontology_triples`` names blank nodes by their order in
the file, so the file and the store's copy compare statement by statement.
In the store those few blank nodes are skolem IRIs
(``https://w3id.org/catalograph/ontology/.well-known/genid/N``, RDF 1.1
§3.5): a dump of the store parses back to the same statements, and a
SPARQL user can name them. ``ontology_graph_triples`` turns them back into
blank nodes, so what is read, checked and exported is the ontology as OWL
tools expect it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store, Triple

from ontology.layout import Layout
from ontology.namespaces import CG
from ontology.ontology_checks import terms_of
from ontology.vocabulary import ONTOLOGY_IRI, ontology_digest, ontology_triples

log = logging.getLogger(__name__)

#: Where the ontology's blank nodes are named in the store (RDF 1.1 skolem IRIs).
SKOLEM = f"{ONTOLOGY_IRI}/.well-known/genid/"


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What seeding did: statements added and removed, terms left as catalogers edited them."""

    added: int = 0
    removed: int = 0
    #: Terms the new shipped file would change but a cataloger has changed: left alone.
    kept_edited: tuple[str, ...] = ()
    seconds: float = 0.0
    #: Whether the store was already seeded from this file (nothing read but one statement).
    current: bool = True

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed) or not self.current


def seed_ontology(
    store: Store,
    layout: Layout,
    shipped: Iterable[Triple] | None = None,
    digest: str | None = None,
) -> SeedReport:
    """Bring the store's ontology graph up to the shipped file, keeping catalogers' edits (see above).

    ``shipped`` and ``digest``: another version of the ontology than
    ``catalograph.ttl`` (its statements and an identifier of them), as a newer
    release would ship it.
    """
    started = time.perf_counter()
    digest = digest or ontology_digest()
    graph, meta = layout.ontology_graph, layout.metadata_graph
    stamps = list(store.quads_for_pattern(graph, CG.contentHash, None, meta))
    if any(q.object.value == digest for q in stamps) and store.contains_named_graph(graph):
        return SeedReport()
    held = terms_of(ontology_graph_triples(store, layout))
    wanted = terms_of(ontology_triples() if shipped is None else shipped)
    edited = edited_terms(store, layout)
    add: list[Triple] = []
    remove: list[Triple] = []
    kept: list[str] = []
    for term in sorted(wanted.keys() | held.keys()):
        new, old = wanted.get(term, set()), held.get(term, set())
        if new == old:
            continue
        if term in edited:
            kept.append(term)
            continue
        add += new - old
        remove += old - new
    for t in remove:
        store.remove(_stored(t, graph))
    store.extend([_stored(t, graph) for t in add])  # one transaction
    for q in stamps:
        store.remove(q)
    store.add(Quad(graph, CG.contentHash, Literal(digest), meta))  # last: an interrupted seed is redone
    report = SeedReport(len(add), len(remove), tuple(kept), time.perf_counter() - started, current=False)
    log.info(
        "ontology graph seeded from catalograph.ttl: %d statement(s) added, %d removed in %.2f s",
        report.added, report.removed, report.seconds,
    )  # fmt: skip
    if kept:
        log.warning(
            "the shipped ontology changes %d term(s) a cataloger has edited; they were left as edited: %s",
            len(kept), ", ".join(kept[:20]) + (" ..." if len(kept) > 20 else ""),
        )  # fmt: skip
    return report


def ontology_graph_triples(store: Store, layout: Layout) -> list[Triple]:
    """The statements of the store's ontology graph (empty when it has none), skolem IRIs as blank nodes."""
    found = []
    for q in store.quads_for_pattern(None, None, None, layout.ontology_graph):
        subject, obj = q.subject, q.object
        if subject.value.startswith(SKOLEM) or (isinstance(obj, NamedNode) and obj.value.startswith(SKOLEM)):
            found.append(Triple(_unskolem(subject), q.predicate, _unskolem(obj)))
        else:
            found.append(q.triple)
    return found


def ontology_version(store: Store, layout: Layout) -> tuple[str, int]:
    """What the ontology graph holds, told cheaply: the file it was seeded from and the edits since.

    Every change of the graph is seeding (which stamps the file's digest) or
    an edit (a changeset naming the graph), so two stores with the same
    version hold the same ontology: a reader rereads the graph only when this
    changes, not at every checkpoint an ingest publishes.
    """
    stamp = next(store.quads_for_pattern(layout.ontology_graph, CG.contentHash, None, layout.metadata_graph), None)
    edits = sum(1 for _ in store.quads_for_pattern(None, CG.changedGraph, layout.ontology_graph, None))
    return (stamp.object.value if stamp is not None else "", edits)


def stored_quad(triple: Triple, graph: NamedNode) -> Quad:
    """A statement of the ontology as the store keeps it: blank nodes as skolem IRIs.

    >>> from ontology.namespaces import RDF
    >>> stored_quad(Triple(BlankNode("cgontology3"), RDF.first, RDF.nil), NamedNode("http://e.org/g")).subject.value
    'https://w3id.org/catalograph/ontology/.well-known/genid/cgontology3'
    """
    return Quad(_skolem(triple.subject), triple.predicate, _skolem(triple.object), graph)


_stored = stored_quad


def _skolem(term: Any) -> Any:
    return NamedNode(SKOLEM + term.value) if isinstance(term, BlankNode) else term


def _unskolem(term: Any) -> Any:
    if isinstance(term, NamedNode) and term.value.startswith(SKOLEM):
        return BlankNode(term.value[len(SKOLEM) :])
    return term


def edited_terms(store: Store, layout: Layout) -> set[str]:
    """Terms some changeset changed a statement about in the ontology graph."""
    found: set[str] = set()
    for change in store.quads_for_pattern(None, CG.changedGraph, layout.ontology_graph, None):
        for q in store.quads_for_pattern(change.subject, CG.subjectOfChange, None, change.graph_name):
            found.add(q.object.value)
    return found
