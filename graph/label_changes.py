"""Which resources' shown label may have changed since the derived graph was last written.

Why: the derived graph's explanations name units by their labels
(``query.related.Labels``: ``rdfs:label``, ``skos:prefLabel``,
``madsrdf:authoritativeLabel``, else the main title), and an incremental update
of it (``web.association_build``) recomputes only the lists whose scores a change
touched. A new record can give a shared unit another label without changing any
weight (another edition of a work that spells a subject in capitals): the label
shown switches, and every node naming the unit must be explained again, whatever
list it is in (issue 12). The statements that decide a unit's label enter and
leave the store through the ledger (``graph.ledger``: the unit statements of a
batch); the subjects of those whose predicate is a label's are kept here, in the
record index's table ``label_change``, in the same transaction as the batch that
changed them, until the refresh that reads them has written the derived graph.
So a session killed in between leaves them for the next one (an IRI noted twice,
or explained again for nothing, costs a lookup, never a wrong word).

Changes that do not go through the ledger need no row here: a record graph
written or dropped makes the refresh read its resources again, and a cataloger's
edit of a unit does too (``graph.projection``: ``changed_resources``), and the
refresh treats every resource read again as possibly relabelled.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from graph.ledger import delete_many, insert_many
from ontology.namespaces import BF, MADS, OWL, RDF, RDFS, SKOS

SCHEMA = "CREATE TABLE IF NOT EXISTS label_change (iri TEXT PRIMARY KEY) WITHOUT ROWID"
#: The same for the derived graph of mentions, which reads other statements and is refreshed
#: on its own (``web.mentions_command``): its rows are forgotten by that refresh only.
MENTION_SCHEMA = "CREATE TABLE IF NOT EXISTS mention_change (iri TEXT PRIMARY KEY) WITHOUT ROWID"

#: What ``query.related.Labels`` reads to choose a label (tests/test_query_association.py
#: checks they agree): a statement with one of these predicates may change a shown label.
LABEL_PREDICATES = (RDFS.label, SKOS.prefLabel, MADS.authoritativeLabel, BF.title, BF.mainTitle)
_PREDICATE_TOKENS = frozenset(f"<{p.value}>".encode() for p in LABEL_PREDICATES)
#: What ``query.mentions.unit_labels`` reads: a unit's labels, its kind, whether it is deprecated.
MENTION_PREDICATES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, RDF.type, OWL.deprecated)
_MENTION_TOKENS = frozenset(f"<{p.value}>".encode() for p in MENTION_PREDICATES)


def labelled_subjects(texts: Iterable[bytes]) -> set[str]:
    """The resources that N-Quads ``texts`` (one or more lines each, as the ledger keeps them)
    give or take a label, each without its fragment (a title node ``…#title-1`` is its work's).

    >>> sorted(labelled_subjects([
    ...     b'<http://e.org/c/1> <http://www.w3.org/2004/02/skos/core#prefLabel> "A" <http://e.org/c/1> .\\n'
    ...     b'<http://e.org/w/2#title-1> <http://id.loc.gov/ontologies/bibframe/mainTitle> "B" <g> .\\n',
    ...     b'<http://e.org/c/3> <http://www.w3.org/2004/02/skos/core#broader> <http://e.org/c/1> <g> .\\n',
    ...     b'_:b1 <http://www.w3.org/2000/01/rdf-schema#label> "C" <g> .\\n',
    ... ]))
    ['http://e.org/c/1', 'http://e.org/w/2']
    """
    found: set[bytes] = set()
    for text in texts:
        for line in text.split(b"\n"):
            if not line.startswith(b"<"):
                continue  # a blank node: its owner's link to it enters or leaves as well
            subject, _, rest = line.partition(b" ")
            if rest[: rest.find(b" ")] in _PREDICATE_TOKENS:
                found.add(subject[1:-1].partition(b"#")[0])
    return {subject.decode() for subject in found}


def mention_subjects(texts: Iterable[bytes]) -> set[str]:
    """The resources (as written, fragment kept) that N-Quads ``texts`` give or take a label, a
    type or a deprecation: the units whose patterns the mentions' refresh must read again.

    >>> sorted(mention_subjects([
    ...     b'<http://e.org/c/1> <http://www.w3.org/2004/02/skos/core#altLabel> "A" <g> .\\n'
    ...     b'<http://e.org/c/2#x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <t> <g> .\\n'
    ...     b'<http://e.org/c/3> <http://www.w3.org/2004/02/skos/core#broader> <http://e.org/c/1> <g> .\\n',
    ... ]))
    ['http://e.org/c/1', 'http://e.org/c/2#x']
    """
    found: set[bytes] = set()
    for text in texts:
        for line in text.split(b"\n"):
            if line.startswith(b"<"):
                subject, _, rest = line.partition(b" ")
                if rest[: rest.find(b" ")] in _MENTION_TOKENS:
                    found.add(subject[1:-1])
    return {subject.decode() for subject in found}


def note_for_mentions(db: sqlite3.Connection, iris: Iterable[str]) -> None:
    """Inside the batch's transaction: ``iris``' patterns for the mentions may have changed."""
    insert_many(db, "INSERT OR IGNORE INTO mention_change", ((iri,) for iri in sorted(iris)), width=1)


def noted_for_mentions(db: sqlite3.Connection, after: str, size: int) -> list[str]:
    """The IRIs noted for the mentions, in order, ``size`` after ``after``."""
    rows = db.execute("SELECT iri FROM mention_change WHERE iri > ? ORDER BY iri LIMIT ?", (after, size))
    return [iri for (iri,) in rows]


def forget_for_mentions(db: sqlite3.Connection, upto: str | None) -> None:
    """The mentions' refresh has read every IRI noted up to ``upto`` (all: ``None``)."""
    with db:
        if upto is None:
            db.execute("DELETE FROM mention_change")
        else:
            db.execute("DELETE FROM mention_change WHERE iri <= ?", (upto,))


def note(db: sqlite3.Connection, iris: Iterable[str]) -> None:
    """Inside the batch's transaction: ``iris``' labels may have changed."""
    insert_many(db, "INSERT OR IGNORE INTO label_change", ((iri,) for iri in sorted(iris)), width=1)


def noted(db: sqlite3.Connection) -> set[str]:
    """Every IRI noted since the rows were last forgotten."""
    return {iri for (iri,) in db.execute("SELECT iri FROM label_change")}


def forget(db: sqlite3.Connection, iris: Iterable[str]) -> None:
    """The derived graph now says what ``iris``' labels are (after a refresh wrote it)."""
    delete_many(db, "label_change", list(iris), column="iri")


def forget_all(db: sqlite3.Connection) -> None:
    """After a full build: the derived graph says every label as the store has it."""
    db.execute("DELETE FROM label_change")
