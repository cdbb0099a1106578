"""The history of changes: changesets listed newest first, and one changeset as a readable diff.

Every write is a ``cg:Changeset`` graph (``graph.updates``). The history
lists them by time, a page at a time, filtered by the account that made
them (``prov:wasAssociatedWith/rdfs:label``) and by a resource (its
``cg:subjectOfChange``, or its unit graph as ``cg:changedGraph``, so the
changes to a work's contributions count as the work's). A diff groups the
statements added and removed by the resource they are about (the part of a
unit, ``work/k1#title-1``, with its unit) and names resources by their
labels where the store has them.

The filters reach the store as bound terms (``substitutions``), never pasted
into the text; the IRIs of a diff's ``VALUES`` block come from the store and
are written by pyoxigraph (which binds only variables a query projects,
so each bound variable is in its ``SELECT``). Ordering by time reads every changeset's time,
so a page costs time linear in the number of changesets (measured in memory:
19 ms for 1,000, 93 ms for 10,000; docs/web.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store, Variable

from graph.changesets import recorded
from ontology.errors import StoreError
from ontology.layout import Layout
from ontology.namespaces import PREFIXES
from query.listings import best_label

#: Changesets a history page lists at most.
MAX_PAGE = 100
#: Statements of one changeset a diff shows at most (the rest are counted).
MAX_DIFF = 1000
#: Resources of one diff looked up for their labels at most.
MAX_LABELLED = 300

_HEAD = """
  ?cs a cg:Changeset ; prov:startedAtTime ?when ; prov:wasAssociatedWith ?agent .
  ?agent rdfs:label ?who .
  OPTIONAL { ?cs cg:changeReason ?reason }
  OPTIONAL { ?cs cg:reverts ?reverts }
  OPTIONAL { ?cs cg:approvedBy ?approved }
"""
_COLUMNS = """?cs ?when ?who (SAMPLE(?reason) AS ?why) (SAMPLE(?reverts) AS ?undoes)
  (SAMPLE(?approved) AS ?approver)"""
#: Every changeset, newest first (``?who`` may be bound: one account's).
LIST = f"""
SELECT {_COLUMNS} WHERE {{ GRAPH ?cs {{ {_HEAD} }} }}
GROUP BY ?cs ?when ?who ORDER BY DESC(?when) DESC(?cs)
"""
#: The changesets about ``?resource`` (its statements, or its unit graph), newest first.
LIST_ABOUT = f"""
SELECT {_COLUMNS} ?resource WHERE {{
  GRAPH ?cs {{ {{ ?cs cg:subjectOfChange ?resource }} UNION {{ ?cs cg:changedGraph ?resource }}
              {_HEAD} }}
}}
GROUP BY ?cs ?when ?who ?resource ORDER BY DESC(?when) DESC(?cs)
"""
#: One changeset's head (``?cs`` bound).
ONE = f"""
SELECT {_COLUMNS} WHERE {{ GRAPH ?cs {{ {_HEAD} }} }} GROUP BY ?cs ?when ?who
"""
#: The changesets that revert ``?cs``.
REVERTED_BY = """
SELECT ?by ?when ?cs WHERE { GRAPH ?by { ?by cg:reverts ?cs ; prov:startedAtTime ?when } } ORDER BY ?when
"""
#: Changesets after ``?after`` that added or removed the statement ``?s ?p ?o``.
LATER_CHANGES = """
SELECT DISTINCT ?cs ?when ?who ?s ?p ?o ?after WHERE {
  GRAPH ?cs { ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
              ?cs cg:addition|cg:removal ?st ; prov:startedAtTime ?when ;
                  prov:wasAssociatedWith/rdfs:label ?who }
  FILTER (?when > ?after)
} ORDER BY ?when
"""
#: The labels of the ``VALUES`` nodes (filled with IRIs from the store), an instance's
#: main titles as its label.
LABELS = """
SELECT ?node ?label WHERE {
  VALUES ?node {}
  { ?node rdfs:label|skos:prefLabel|madsrdf:authoritativeLabel ?label }
  UNION
  { ?node bf:title/bf:mainTitle ?label }
}
"""


@dataclass(frozen=True, slots=True)
class ChangesetSummary:
    """One line of the history."""

    iri: str
    key: str
    when: str
    who: str
    reason: str | None
    reverts: str | None
    approved_by: str | None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    items: list[ChangesetSummary]
    offset: int
    limit: int
    more: bool


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One statement added (``+``) or removed (``-``)."""

    sign: str
    #: The part of the resource the statement is about (``title-1``), ``None`` for itself.
    part: str | None
    predicate: str
    value: str
    #: The value's IRI when it is one (linked), else ``None``.
    link: str | None
    #: The value's language tag or datatype, when a literal has one worth showing.
    note: str | None
    graph: str | None


@dataclass(slots=True)
class ResourceDiff:
    """What a changeset did to one resource (and its parts)."""

    iri: str
    label: str | None
    lines: list[DiffLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ChangesetDiff:
    summary: ChangesetSummary
    resources: list[ResourceDiff]
    added: int
    removed: int
    shown: int
    reverted_by: list[tuple[str, str]]
    #: Labels of the IRIs the diff shows (resources, values), for the page.
    labels: dict[str, str]


class ChangesetHistory:
    """The history's questions, over one store and one base IRI."""

    def __init__(self, store: Store, layout: Layout) -> None:
        self.store = store
        self.layout = layout

    def _rows(self, text: str, start: int = 0, stop: int | None = None, **bound: object) -> list:
        try:
            found = self.store.query(
                text,
                prefixes=PREFIXES,
                use_default_graph_as_union=True,
                substitutions={Variable(k): v for k, v in bound.items()},  # type: ignore[misc]
            )
            return list(islice(found, start, stop))  # type: ignore[arg-type]
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc

    def page(
        self, *, who: str | None = None, resource: str | None = None, offset: int = 0, limit: int = 50
    ) -> HistoryPage:
        """Changesets newest first, ``limit`` from ``offset``, of one account and/or about one resource."""
        limit = max(1, min(limit, MAX_PAGE))
        offset = max(0, offset)
        bound: dict[str, object] = {}
        if who:
            bound["who"] = Literal(who)
        text = LIST
        if resource:
            bound["resource"] = NamedNode(resource)
            text = LIST_ABOUT
        rows = self._rows(text, offset, offset + limit + 1, **bound)
        items = [self._summary(row) for row in rows[:limit]]
        return HistoryPage(items=items, offset=offset, limit=limit, more=len(rows) > limit)

    def summary(self, iri: str) -> ChangesetSummary | None:
        rows = self._rows(ONE, 0, 1, cs=NamedNode(iri))
        return self._summary(rows[0]) if rows else None

    def later_changes(self, quad: Quad, after: str) -> list[tuple[str, str, str]]:
        """``(changeset, when, who)`` of the changes after ``after`` that touched ``quad``'s triple."""
        if isinstance(quad.subject, BlankNode) or isinstance(quad.object, BlankNode):
            return []
        rows = self._rows(
            LATER_CHANGES, 0, 20, s=quad.subject, p=quad.predicate, o=quad.object,
            after=Literal(after, datatype=NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")),
        )  # fmt: skip
        return [(r["cs"].value, r["when"].value, r["who"].value) for r in rows]

    def diff(self, iri: str, languages: Iterable[str] = ()) -> ChangesetDiff | None:
        """One changeset: its head, and its statements grouped by resource (``None`` if unknown)."""
        summary = self.summary(iri)
        if summary is None:
            return None
        change = recorded(self.store, self.layout, iri)
        resources, labels, shown = self.grouped(change.added, change.removed, languages)
        reverted = [(r["by"].value, r["when"].value) for r in self._rows(REVERTED_BY, 0, 20, cs=NamedNode(iri))]
        return ChangesetDiff(
            summary=summary,
            resources=resources,
            added=len(change.added),
            removed=len(change.removed),
            shown=shown,
            reverted_by=reverted,
            labels=labels,
        )

    def grouped(
        self, added: Iterable[Quad], removed: Iterable[Quad], languages: Iterable[str] = ()
    ) -> tuple[list[ResourceDiff], dict[str, str], int]:
        """Statements added and removed, grouped by resource and labelled; how many are shown."""
        signed = [("+", q) for q in added] + [("-", q) for q in removed]
        signed.sort(key=lambda item: (str(item[1].subject), str(item[1].predicate), item[0], str(item[1].object)))
        shown = signed[:MAX_DIFF]
        nodes = [q.subject for _, q in shown] + [q.object for _, q in shown]
        labels = self.labels([n for n in nodes if isinstance(n, NamedNode)], languages)
        resources: dict[str, ResourceDiff] = {}
        for sign, quad in shown:
            subject = quad.subject.value if isinstance(quad.subject, NamedNode) else str(quad.subject)
            owner = self.layout.owner(subject)
            group = resources.setdefault(owner, ResourceDiff(owner, labels.get(owner)))
            group.lines.append(_line(sign, quad, subject, owner, labels))
        ordered = sorted(resources.values(), key=lambda r: ((r.label or r.iri).casefold(), r.iri))
        return ordered, labels, len(shown)

    def labels(self, nodes: list[NamedNode], languages: Iterable[str] = ()) -> dict[str, str]:
        """The label to show for each IRI that has one (at most ``MAX_LABELLED`` IRIs)."""
        named = list(dict.fromkeys(nodes))[:MAX_LABELLED]
        if not named:
            return {}
        text = LABELS.replace("VALUES ?node {}", f"VALUES ?node {{ {' '.join(map(str, named))} }}", 1)
        found: dict[str, list[Literal]] = {}
        for row in self._rows(text, 0, 20 * len(named)):
            if isinstance(row["label"], Literal):
                found.setdefault(row["node"].value, []).append(row["label"])
        wanted = list(languages)
        return {iri: best.value for iri, forms in found.items() if (best := best_label(forms, wanted))}

    def _summary(self, row: object) -> ChangesetSummary:
        def value(name: str) -> str | None:
            term = row[name]  # type: ignore[index]
            return None if term is None else term.value

        iri = row["cs"].value  # type: ignore[index]
        return ChangesetSummary(
            iri=iri,
            key=iri[len(self.layout.changesets) :],
            when=value("when") or "",
            who=value("who") or "",
            reason=value("why"),
            reverts=value("undoes"),
            approved_by=value("approver"),
        )


def _line(sign: str, quad: Quad, subject: str, owner: str, labels: dict[str, str]) -> DiffLine:
    obj = quad.object
    note = None
    if isinstance(obj, Literal):
        value, link = obj.value, None
        if obj.language:
            note = obj.language
        elif obj.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            note = obj.datatype.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    elif isinstance(obj, NamedNode):
        value, link = labels.get(obj.value, obj.value), obj.value
    else:
        value, link = str(obj), None
    part = subject.partition("#")[2] if subject != owner else None
    graph = quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else None
    return DiffLine(sign, part, quad.predicate.value, value, link, note, graph)
