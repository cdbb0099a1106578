"""Match candidates: pairs that names and titles alone bring together, with a score and reasons.

A shared DOI, ORCID, ISBN or authority IRI already makes two descriptions one
node (``ingest``); nothing here merges anything. What is found here are the
pairs a cataloger should look at, written by ``graph.candidates`` into a
derived graph to be accepted or rejected:

- **agents** that are units of their own (minted from a MARC heading, or an
  authority, ORCID or ROR IRI) whose headings, folded as catalogers compare
  them (``query.reconcile.fold``) and without their dates
  (``query.reconcile.split_dates``), are the same: the same heading but for
  punctuation (``agent-punctuation``), one with dates and one without, or
  dates one of which extends the other (``agent-dates``), an authority-linked
  heading and the same heading without the link (``agent-authority``); with
  lower scores, below ``THRESHOLD``, an ORCID iD and the same name without it
  (an ORCID names an author, not a heading, and namesakes among authors are
  many), dates that nearly agree (one year off by
  one or by a digit: a typo, an uncertain birth year) and the same heading
  under two authority files (a Crossref funder DOI and a ROR IRI,
  ``agent-authorities``). Headings with dates that disagree otherwise name two
  people and are not proposed; neither are two IRIs of one authority file
  (it keeps its namesakes apart);
- **works** from different sources (a catalogue record and an open-access
  record, or two open-access sources: the source is the first segment of the
  record graph's name, and the open-access ones are those the caller names,
  ``web.candidates_command`` those of ``ingest.scholarly`` and ``ingest.oai``,
  since query never imports ingest). Works are units shared by the records
  whose normalised creator and title keys agree (``ingest.marc.works``,
  ``ingest.scholarly.mapper``); what is left are works whose keys differ
  (a name with initials or dates, a subtitle, a typo) and whose folded
  titles agree closely (rapidfuzz ``token_sort_ratio``) and whose primary
  contributors share a family name (``work-title``).

Work stays bounded: pairs are only compared inside a block (the same folded
name; the same creator family name or the same first title words), a block
of more than ``MAX_BLOCK`` members is skipped (a very common name says
nothing), and the candidates are at most ``MAX_CANDIDATES``.

The score is a rule's confidence, adjusted for how much the name or title
says: a heading whose given names are only initials, or a title of few
words, scores lower. ``THRESHOLD`` is the score at and above which a
candidate would be merged; its precision is measured on pairs labelled by
hand (``tests/data/candidates/labelled.tsv``, ``tests/test_query_candidates.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Store, Variable, parse

from graph.candidates import candidates_graph
from ontology.layout import Layout
from ontology.namespaces import BF, CG, PREFIXES, RDF, RDFS
from query.candidate_rules import MAX_BLOCK, MAX_CANDIDATES, THRESHOLD, family_name, title_forms

__all__ = ["MAX_BLOCK", "MAX_CANDIDATES", "THRESHOLD"]

_RQ = Path(__file__).resolve().parent / "rq"

#: A work's facts as the rules compare them: ``(kind, value)`` with kind ``source`` (the first
#: segment of a record graph linking it), ``oa`` (such a source, open-access), ``title`` (a
#: folded title form) or ``family`` (a primary contributor's folded family name).
WorkFact = tuple[str, str]


@cache
def sparql(name: str) -> str:
    """The text of ``query/rq/{name}.rq``."""
    return (_RQ / f"{name}.rq").read_text(encoding="utf-8")


def _rows(store: Store, name: str, layout: Layout, **bound: NamedNode) -> Iterator:
    substitutions = {Variable("graphs"): Literal(layout.graphs)}
    substitutions.update({Variable(name): term for name, term in bound.items()})
    yield from store.query(sparql(name), prefixes=PREFIXES, use_default_graph_as_union=True, substitutions=substitutions)


# ------------------------------------------------------------------ agents


def typed_agents(store: Store, layout: Layout, lines: Iterable[bytes]) -> list[tuple[str, str]]:
    """``(agent, graph)`` of those of ``lines`` (N-Quads typing something ``bf:Agent`` in a named
    graph: ``graph.candidate_changes.agent_type_lines``, the ledger's) that the store holds,
    about an agent of its own (an IRI, not a record graph's own node: the agents
    ``candidate_agents.rq`` selects). Every agent is typed ``bf:Agent`` as stated, beside its
    class (``bf:Person``...): nothing is inferred. One index lookup a line: the ledger's lines
    include statements the store no longer holds (a writer removed them, or a group left)."""
    pairs = []
    for quad in parse(b"".join(lines), RdfFormat.N_QUADS):
        agent, graph = quad.subject, quad.graph_name
        if (
            isinstance(agent, NamedNode)
            and isinstance(graph, NamedNode)
            and quad.predicate == RDF.type
            and quad.object == BF.Agent
            and not agent.value.startswith(layout.graphs)
            and quad in store
        ):
            pairs.append((agent.value, graph.value))
    return pairs


def graphs_writers_changed(store: Store) -> Iterator[str]:
    """The graphs some writer's changeset changed (``cg:changedGraph``: ``graph.updates``), each
    as often as changesets name it: the only graphs where a statement typing an agent may be
    that the ledger does not count (about an IRI the layout does not file, which a writer may
    put in any graph). As many as the edits, not the records."""
    for quad in store.quads_for_pattern(None, CG.changedGraph, None, None):
        if isinstance(quad.object, NamedNode):
            yield quad.object.value


def agents_typed_in(store: Store, layout: Layout, graph: str) -> list[tuple[str, str]]:
    """``(agent, graph)`` for the agents of their own the named graph ``graph`` types ``bf:Agent``
    (``typed_agents``' selection, read from the graph itself: one index lookup)."""
    return [
        (q.subject.value, graph)
        for q in store.quads_for_pattern(None, RDF.type, BF.Agent, NamedNode(graph))
        if isinstance(q.subject, NamedNode) and not q.subject.value.startswith(layout.graphs)
    ]


def labels_in_graphs(store: Store, pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """``(agent, label)``: the untagged labels of each agent of ``pairs`` stated in the graph
    beside it (pairs from ``typed_agents`` or ``agents_typed_in``), read by index lookups. Over every pair, what
    ``candidate_agents.rq`` gives over the whole store; read a slice of pairs at a time, so that
    the full refresh can reopen the store between slices (the query kept in RocksDB's memory
    every block it read until it ended: 170 -> 226 MB on the x10 benchmark store)."""
    for agent, graph in pairs:
        for quad in store.quads_for_pattern(NamedNode(agent), RDFS.label, None, NamedNode(graph)):
            label = quad.object
            if isinstance(label, Literal) and not label.language:
                yield agent, label.value


def agent_labels(store: Store, layout: Layout, iri: str) -> set[str]:
    """The untagged labels of ``iri`` as an agent of its own (none: not such an agent)."""
    return {row["label"].value for row in _rows(store, "candidate_agents", layout, agent=NamedNode(iri))}


# ------------------------------------------------------------------ works


def source_of(graph: str, layout: Layout) -> str:
    """The source of a record graph: the first segment of its name after the graphs' prefix."""
    return graph[len(layout.graphs) :].split("/", 1)[0]


def _untagged(store: Store, subject: NamedNode | BlankNode) -> set[str]:
    return {
        q.object.value
        for q in store.quads_for_pattern(subject, RDFS.label, None, None)
        if isinstance(q.object, Literal) and not q.object.language
    }


def work_facts(store: Store, layout: Layout, iri: str, open_access: Set[str]) -> set[WorkFact]:
    """The facts of the work ``iri`` (none: no record graph links it, or it has no title): what
    ``candidate_works.rq``'s rows of it give (``tests/test_query_candidates.py`` compares them), read by index lookups from the work (SPARQL's OPTIONAL over
    the creators joined every contribution of the store for each work: 30 ms a work on the
    sample, and growing with the store)."""
    work = NamedNode(iri)
    graphs = {
        q.graph_name.value
        for q in store.quads_for_pattern(None, CG.linkedWork, work, None)
        if isinstance(q.graph_name, NamedNode) and q.graph_name.value.startswith(layout.graphs)
    }
    titles = _untagged(store, work)
    if not graphs or not titles or next(store.quads_for_pattern(work, RDF.type, BF.Work, None), None) is None:
        return set()
    facts: set[WorkFact] = {("title", form) for title in titles for form in title_forms(title)}
    for graph in graphs:
        source = source_of(graph, layout)
        facts.add(("source", source))
        if source in open_access:
            facts.add(("oa", source))
    for contribution in {q.object for q in store.quads_for_pattern(work, BF.contribution, None, None)}:
        if isinstance(contribution, Literal) or next(
            store.quads_for_pattern(contribution, RDF.type, BF.PrimaryContribution, None), None
        ) is None:
            continue
        for agent in {q.object for q in store.quads_for_pattern(contribution, BF.agent, None, None)}:
            if not isinstance(agent, Literal):
                facts.update(("family", f) for label in _untagged(store, agent) if (f := family_name(label)))
    return facts


def graph_works(store: Store, layout: Layout, graph: str) -> set[str]:
    """The works the record graph ``graph`` links or gives contributions of: the works whose facts
    change when it is written, replaced or dropped. What ``candidate_graph_works.rq`` gives of
    it, by two index lookups in the graph: a full refresh asks it of every record graph, a
    slice at a time (that query over the whole store held +92 MB of RocksDB's memory on the
    x40 open-access store; by lookups, 2.8 s of CPU for its 16,280 record graphs, by the query
    bound to each graph 4.5 s)."""
    if not graph.startswith(layout.graphs):
        return set()
    named = NamedNode(graph)
    works = {q.object.value for q in store.quads_for_pattern(None, CG.linkedWork, None, named) if isinstance(q.object, NamedNode)}
    works.update(
        q.subject.value for q in store.quads_for_pattern(None, BF.contribution, None, named) if isinstance(q.subject, NamedNode)
    )
    return works


def works_of_creator(store: Store, iri: str) -> set[str]:
    """The works whose primary contribution names the agent ``iri``: their creators' family
    names change with its labels. Index lookups from the agent (a SPARQL join started from
    every contribution of the store)."""
    works = set()
    for link in store.quads_for_pattern(None, BF.agent, NamedNode(iri), None):
        contribution = link.subject
        if next(store.quads_for_pattern(contribution, RDF.type, BF.PrimaryContribution, None), None) is None:
            continue
        works.update(
            q.subject.value
            for q in store.quads_for_pattern(None, BF.contribution, contribution, None)
            if isinstance(q.subject, NamedNode)
        )
    return works


def has_open_access_works(store: Store, layout: Layout, open_access: Set[str]) -> bool:
    """Whether a record graph of an open-access source links a work (else no work is compared:
    a catalogue's own works met by their keys at ingest, and reading them all would be waste)."""
    for source in sorted(open_access):
        rows = store.query(
            sparql("candidate_open_access"),
            prefixes=PREFIXES,
            use_default_graph_as_union=True,
            substitutions={Variable("prefix"): Literal(f"{layout.graphs}{source}/")},
        )
        if next(iter(rows), None) is not None:
            return True
    return False


def said_to_be_one(store: Store, first: str, second: str) -> bool:
    """Whether ``owl:sameAs`` already joins the two, either way (such a pair is never proposed)."""
    return bool(
        store.query(
            sparql("candidate_same_pair"),
            prefixes=PREFIXES,
            use_default_graph_as_union=True,
            substitutions={Variable("a"): NamedNode(first), Variable("b"): NamedNode(second)},
        )
    )


# ------------------------------------------------------------------ what is stored


@dataclass(frozen=True, slots=True)
class StoredCandidate:
    """A candidate as the derived graph holds it, with a label of each side."""

    iri: str
    first: str
    second: str
    rule: str
    score: float
    reasons: tuple[str, ...]
    first_label: str
    second_label: str
    #: ``pending``, ``accepted`` or ``rejected`` (the local name of its ``cg:status``).
    status: str


def stored_candidates(store: Store, layout: Layout) -> list[StoredCandidate]:
    """The candidates in the store's derived graph, strongest first."""
    rows = store.query(
        sparql("candidates_list"),
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={Variable("graph"): NamedNode(candidates_graph(layout).value)},
    )
    return [
        StoredCandidate(
            row["candidate"].value, row["first"].value, row["second"].value, row["rule"].value,
            float(row["score"].value),
            tuple(sorted(row["reasons"].value.split("\n"))) if row["reasons"] is not None else (),
            row["firstName"].value if row["firstName"] is not None else "",
            row["secondName"].value if row["secondName"] is not None else "",
            row["status"].value.rsplit("#", 1)[-1].lower(),
        )  # fmt: skip
        for row in rows
    ]
