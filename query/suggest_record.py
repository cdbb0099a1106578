"""The subject query of a record already in the store: its Instance's words, Work, agents and series.

A cataloger looking at a stored record without subjects asks about it by
its Instance IRI; what a MARC file would have given (``web.suggest_input``)
is read from the store instead, with one query (``rq/suggest_instance.rq``)
whose only input is the IRI, bound as a term.
"""

from __future__ import annotations

from pyoxigraph import NamedNode, Store, Variable

from ontology.errors import NotFoundError, StoreError, UsageError
from ontology.namespaces import PREFIXES
from query.subject_index import CLASS_SCHEMES, sparql
from query.suggest import MAX_LINKS, MAX_QUERY_CHARS, SubjectQuery

#: Rows read, at most (a record's statements are few; this bounds a hostile one).
MAX_ROWS = 5_000


def instance_query(store: Store, iri: str) -> SubjectQuery:
    """The ``SubjectQuery`` of the Instance ``iri``; ``NotFoundError`` if the store has none."""
    try:
        node = NamedNode(iri)
    except ValueError as exc:
        raise UsageError(f"not an IRI: {iri!r} ({exc})") from None
    found: dict[str, list[str]] = {}
    classes: list[tuple[str, str]] = []
    try:
        rows = store.query(
            sparql("suggest_instance"), prefixes=PREFIXES, use_default_graph_as_union=True,
            substitutions={Variable("instance"): node},
        )  # fmt: skip
        for number, row in enumerate(rows):
            if number >= MAX_ROWS:
                break
            kind, value = row["kind"].value, row["value"].value
            if kind == "class":
                scheme = CLASS_SCHEMES.get(row["extra"].value.rsplit("/", 1)[-1])
                if scheme is not None:
                    classes.append((scheme, value))
            elif value not in found.setdefault(kind, []):
                found[kind].append(value)
    except OSError as exc:
        raise StoreError(f"the store could not be read: {exc}") from exc
    if not found.get("work"):
        raise NotFoundError(f"no instance {iri} in the store")
    return SubjectQuery(
        title=" ".join(found.get("title", []))[:MAX_QUERY_CHARS],
        summary=" ".join(found.get("summary", []))[:MAX_QUERY_CHARS],
        notes=tuple(found.get("note", [])),
        works=tuple(found["work"][:MAX_LINKS]),
        agents=tuple(found.get("agent", [])[:MAX_LINKS]),
        series=tuple(found.get("series", [])[:MAX_LINKS]),
        classes=tuple(classes[:MAX_LINKS]),
    )
