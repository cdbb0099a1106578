"""Checks on the ontology's statements as a whole, run inside an edit on the store as it leaves it.

``ontology.editing`` checks a form against the ontology it read; these run
again on the store's ontology graph after the change (``web.ontology_editor``
hands them to ``web.changes.submit_change`` as its ``check``), so an edit
that raced another is refused too: no cycle of superclasses or
superproperties, no term with two labels in one language where the edit put
one. ``terms_of`` groups statements by the term they describe (seeding and
deletion use it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from ontology.namespaces import RDFS, compact


def hierarchy_problems(triples: Iterable[Triple]) -> list[str]:
    """Cycles of ``rdfs:subClassOf`` or ``rdfs:subPropertyOf`` between named terms, one line each.

    >>> from pyoxigraph import NamedNode, Triple
    >>> a, b = NamedNode("http://example.org/A"), NamedNode("http://example.org/B")
    >>> hierarchy_problems([Triple(a, RDFS.subClassOf, b), Triple(b, RDFS.subClassOf, a)])
    ['http://example.org/A is below itself (rdfs:subClassOf)']
    """
    problems = []
    statements = list(triples)
    for link in (RDFS.subClassOf, RDFS.subPropertyOf):
        up: defaultdict[str, set[str]] = defaultdict(set)
        for t in statements:
            if t.predicate == link and isinstance(t.subject, NamedNode) and isinstance(t.object, NamedNode):
                up[t.subject.value].add(t.object.value)
        reported: set[str] = set()
        for start in sorted(up):
            if start in reported:
                continue
            seen: set[str] = set()
            todo = list(up[start])
            while todo:
                node = todo.pop()
                if node == start:
                    problems.append(f"{compact(start)} is below itself ({compact(link.value)})")
                    reported |= seen | {start}  # the rest of this cycle is the same problem
                    break
                if node not in seen:
                    seen.add(node)
                    todo.extend(up.get(node, ()))
    return problems


def label_problems(triples: Iterable[Triple], added: Iterable[Quad]) -> list[str]:
    """Two labels of a term in one language where ``added`` put one (an edit raced another).

    >>> from pyoxigraph import Literal, NamedNode, Quad, Triple
    >>> a = NamedNode("http://example.org/A")
    >>> one, two = Literal("One", language="en"), Literal("Two", language="en")
    >>> label_problems([Triple(a, RDFS.label, one), Triple(a, RDFS.label, two)], [Quad(a, RDFS.label, two)])
    ['http://example.org/A has 2 labels in en: change one at a time']
    """
    wanted = {
        (q.subject, _primary(q.object.language))
        for q in added
        if q.predicate == RDFS.label and isinstance(q.object, Literal)
    }
    counts: defaultdict[tuple[object, str], int] = defaultdict(int)
    for t in triples:
        if t.predicate == RDFS.label and isinstance(t.object, Literal):
            key = (t.subject, _primary(t.object.language))
            if key in wanted:
                counts[key] += 1
    return [
        f"{compact(subject.value)} has {n} labels in {tag}: change one at a time"
        for (subject, tag), n in sorted(counts.items(), key=str)
        if n > 1
    ]


def terms_of(triples: Iterable[Triple]) -> dict[str, set[Triple]]:
    """Statements grouped by the named term they describe (blank nodes go with the term naming them).

    >>> a, p, b = NamedNode("http://example.org/a"), NamedNode("http://example.org/p"), BlankNode("x")
    >>> {k: len(v) for k, v in terms_of([Triple(a, p, b), Triple(b, p, a)]).items()}
    {'http://example.org/a': 2}
    """
    triples = list(triples)
    links: defaultdict[object, list[BlankNode]] = defaultdict(list)
    for t in triples:
        if isinstance(t.object, BlankNode):
            links[t.subject].append(t.object)
    owner: dict[BlankNode, str] = {}
    for t in triples:
        if isinstance(t.subject, NamedNode):
            todo = list(links.get(t.subject, ()))
            while todo:
                node = todo.pop()
                if node not in owner:
                    owner[node] = t.subject.value
                    todo.extend(links.get(node, ()))
    groups: defaultdict[str, set[Triple]] = defaultdict(set)
    for t in triples:
        subject = t.subject
        key = subject.value if isinstance(subject, NamedNode) else owner.get(subject, str(subject))
        groups[key].add(t)
    return dict(groups)


def _primary(language: str | None) -> str:
    return (language or "en").split("-")[0].lower()
