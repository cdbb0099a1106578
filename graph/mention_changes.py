"""Which units' patterns for the mentions may have changed since the mentions' last refresh.

Why: the derived graph of mentions (``graph.mention_graph``) is refreshed at the
end of an ingest for what changed only (``web.mentions_refresh``). A unit's
patterns come from its labels, its kind and whether it is deprecated
(``query.mentions.unit_labels``), and those statements enter and leave the store
through the ledger (``graph.ledger``: the unit statements of a batch), not as
record graphs the refresh could compare. So each batch notes the subjects of
such statements here, in the record index's table ``mention_change``, in the
same transaction as the batch that changed them; the mentions' refresh reads
them and forgets them once its graph is written. A session killed in between
leaves them for the next refresh (an IRI read again for nothing costs a lookup,
never a wrong mention).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from graph.ledger import Cut, insert_many
from ontology.namespaces import OWL, RDF, RDFS, SKOS

SCHEMA = "CREATE TABLE IF NOT EXISTS mention_change (iri TEXT PRIMARY KEY) WITHOUT ROWID"

#: What ``query.mentions.unit_labels`` reads: a unit's labels, its kind, whether it is deprecated.
MENTION_PREDICATES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, RDF.type, OWL.deprecated)
_MENTION_IRIS = frozenset(p.value.encode() for p in MENTION_PREDICATES)


def mention_subjects(cuts: Iterable[Cut]) -> set[str]:
    """The resources (as written, fragment kept) that N-Quads lines give or take a label, a
    type or a deprecation: the units whose patterns the mentions' refresh must read again.
    The lines come cut (``graph.ledger.cut_lines``: a batch's unit statements, ``UnitPlan.cut``).

    >>> from graph.ledger import cut_lines
    >>> sorted(mention_subjects(cut_lines([
    ...     b'<http://e.org/c/1> <http://www.w3.org/2004/02/skos/core#altLabel> "A" <g> .\\n'
    ...     b'<http://e.org/c/2#x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <t> <g> .\\n'
    ...     b'<http://e.org/c/3> <http://www.w3.org/2004/02/skos/core#broader> <http://e.org/c/1> <g> .\\n',
    ... ])))
    ['http://e.org/c/1', 'http://e.org/c/2#x']
    """
    found = {subject for subject, predicate, _ in cuts if predicate in _MENTION_IRIS}
    return {subject.decode() for subject in found}


def note(db: sqlite3.Connection, iris: Iterable[str]) -> None:
    """Inside the batch's transaction: ``iris``' patterns for the mentions may have changed."""
    insert_many(db, "INSERT OR IGNORE INTO mention_change", ((iri,) for iri in sorted(iris)), width=1)


def noted(db: sqlite3.Connection, after: str, size: int) -> list[str]:
    """The IRIs noted for the mentions, in order, ``size`` after ``after``."""
    rows = db.execute("SELECT iri FROM mention_change WHERE iri > ? ORDER BY iri LIMIT ?", (after, size))
    return [iri for (iri,) in rows]


def forget(db: sqlite3.Connection, upto: str | None) -> None:
    """The mentions' refresh has read every IRI noted up to ``upto`` (all: ``None``)."""
    with db:
        if upto is None:
            db.execute("DELETE FROM mention_change")
        else:
            db.execute("DELETE FROM mention_change WHERE iri <= ?", (upto,))
