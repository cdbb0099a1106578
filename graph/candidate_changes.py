"""Which resources' headings, titles or creators for the match candidates may have changed since their last refresh.

Why: the match candidates are refreshed at the end of an ingest for what
changed only (``web.candidates_refresh``). An agent's heading (its labels and
type), a work's titles and its contributions' agents, and the ``owl:sameAs``
that keeps a pair from being proposed, enter and leave the store as unit
statements, through the ledger (``graph.ledger``), not as record graphs the
refresh could compare. So each batch notes the subjects of such statements
(and the resources a sameAs names) here, in the record index's table
``candidate_change``, in the same transaction as the batch that changed them
(as ``graph.mention_changes`` does for the mentions); the candidates' refresh
reads them and forgets them once its graph is written. A session killed in
between leaves them for the next refresh (an IRI read again for nothing costs
a lookup, never a wrong candidate).

A full refresh lists the agents here too (``agent_type_lines``): the statements
typing an agent ``bf:Agent`` in a unit graph are the ledger's, so its groups
and the writers' unit edits, read by key a slice at a time, name every one,
where pages of the store's type statements at an ``OFFSET`` scanned every
statement before each page (docs/candidates.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path

from graph.ledger import Cut, insert_many
from ontology.namespaces import BF, OWL, RDF, RDFS

SCHEMA = "CREATE TABLE IF NOT EXISTS candidate_change (iri TEXT PRIMARY KEY) WITHOUT ROWID"

#: What ``query.candidates`` reads of a unit: labels, types, contributions and their agents.
CANDIDATE_PREDICATES = (RDFS.label, RDF.type, BF.contribution, BF.agent, OWL.sameAs)
_IRIS = frozenset(p.value.encode() for p in CANDIDATE_PREDICATES)
_SAME_AS = OWL.sameAs.value.encode()
#: The middle of an N-Quads line that types its subject ``bf:Agent`` in a named graph.
AGENT_TYPE = f" <{RDF.type.value}> <{BF.Agent.value}> <".encode()
#: The page cache (KiB) of the connection that scans the ledger for agents (``agent_type_lines``).
SCAN_CACHE_KIB = 1024


def candidate_subjects(cuts: Iterable[Cut]) -> set[str]:
    """The resources that N-Quads lines give or take a label, a type, a contribution or an
    agent (each as written and without its fragment: a contribution ``<work#c1>`` is its
    work's), and both sides of a sameAs: what the candidates' refresh must read again. The
    lines come cut (``graph.ledger.cut_lines``: a batch's unit statements, ``UnitPlan.cut``).

    >>> from graph.ledger import cut_lines
    >>> sorted(candidate_subjects(cut_lines([
    ...     b'<http://e.org/a/1> <http://www.w3.org/2000/01/rdf-schema#label> "A" <g> .\\n'
    ...     b'<http://e.org/w/2#c1> <http://id.loc.gov/ontologies/bibframe/agent> <http://e.org/a/1> <g> .\\n'
    ...     b'<http://e.org/a/3> <http://www.w3.org/2002/07/owl#sameAs> <http://e.org/a/4> <g> .\\n'
    ...     b'<http://e.org/c/5> <http://www.w3.org/2004/02/skos/core#broader> <http://e.org/c/1> <g> .\\n',
    ... ])))
    ['http://e.org/a/1', 'http://e.org/a/3', 'http://e.org/a/4', 'http://e.org/w/2', 'http://e.org/w/2#c1']
    """
    kept = [(subject, predicate, rest) for subject, predicate, rest in cuts if predicate in _IRIS]
    found = {subject for subject, _, _ in kept}
    found |= {subject.partition(b"#")[0] for subject in found}
    found |= {rest[1 : rest.index(b">")] for _, predicate, rest in kept
              if predicate == _SAME_AS and rest.startswith(b"<")}  # fmt: skip
    return {iri.decode() for iri in found}


def note(db: sqlite3.Connection, iris: Iterable[str]) -> None:
    """Inside the batch's transaction: ``iris`` (``candidate_subjects`` of the unit statements
    added or removed) may have changed for the candidates."""
    db.execute(SCHEMA)
    insert_many(db, "INSERT OR IGNORE INTO candidate_change", ((iri,) for iri in sorted(iris)), width=1)


def noted(db: sqlite3.Connection, after: str, size: int) -> list[str]:
    """The IRIs noted for the candidates, in order, ``size`` after ``after``."""
    db.execute(SCHEMA)
    rows = db.execute("SELECT iri FROM candidate_change WHERE iri > ? ORDER BY iri LIMIT ?", (after, size))
    return [iri for (iri,) in rows]


def forget(db: sqlite3.Connection) -> None:
    """The candidates' refresh has read every IRI noted."""
    db.execute(SCHEMA)
    with db:
        db.execute("DELETE FROM candidate_change")


def agent_type_lines(path: Path, size: int) -> Iterator[list[bytes]]:
    """The N-Quads lines that type something ``bf:Agent`` in a named graph, of the ledger's groups
    (``unit_group_text``, by id: ``size`` groups holding one at a time) and then of the writers'
    unit edits that add a statement (``unit_edit``, by hash), in the record index at ``path``.
    A superset of such statements in unit graphs (a group no record makes any more, a statement
    a writer removed, are not told apart here: the caller looks each up in the store), each
    slice read by key after the last one, so that the caller may let the store breathe between
    slices. A statement may come more than once (the groups of several records about one agent).

    Read through a connection of its own, read-only, with a cache of ``SCAN_CACHE_KIB``: the
    scan reads every group's text (493 MB at x160 open-access records), which would fill the
    writer's 16 MB cache and push out the pages its batches use (measured: +21 MB of RSS
    through a 16 MB cache, +6 MB through 1 MB). What it reads is what is committed: the
    candidates' refresh runs between batches."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        db.execute(f"PRAGMA cache_size = -{SCAN_CACHE_KIB}")
        after: int | bytes = 0
        while rows := db.execute(
            "SELECT id, lines FROM unit_group_text WHERE id > ? AND instr(lines, ?) > 0 ORDER BY id LIMIT ?",
            (after, AGENT_TYPE, size),
        ).fetchall():
            after = rows[-1][0]
            yield [line for _id, text in rows for line in text.splitlines(keepends=True) if AGENT_TYPE in line]
        after = b""
        while rows := db.execute(
            "SELECT hash, quad FROM unit_edit WHERE hash > ? AND sign > 0 AND instr(quad, ?) > 0 "
            "ORDER BY hash LIMIT ?",
            (after, AGENT_TYPE, size),
        ).fetchall():
            after = rows[-1][0]
            yield [line for _hash, line in rows]
