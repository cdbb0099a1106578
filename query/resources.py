"""What the store says about one resource, gathered in bounded slices for its page and twin.

A resource may be referenced thousands of times (the instances of a much
edited work, the works of a prolific author), so nothing here reads a list
whole. Every list a page shows (a property's values, what points at the
resource through one property, its source records, a record graph's members)
is a ``query.listings.Listing``: its full count, counted in SPARQL, and one
slice of its items, read in the store's order only as far as the slice's end.
``Paging`` says which slices: on a resource's own page every list shows at
most ``size`` items and all lists together at most ``items`` (when they hold
more, the longer lists get an equal share of what is left, ``shares``); a
list's page (``focus``, the list's ``key``) shows one slice of that list
alone. Texts longer than ``MAX_TEXT`` characters are cut, and the subsidiary
nodes shown inline (titles, contributions) have at most ``MAX_NESTED`` rows
each and ``NESTED_PER_ITEM * items`` in all. So what a page costs depends on
``Paging``, not on how heavily its resource is used. The RDF twin
(``rdf``) is cut at a number of triples and of bytes, as SPARQL answers are.

The SPARQL lives in ``query/rq/*.rq``; the resource, properties and prefixes
are passed as bound variables (``substitutions=``), never pasted into the text.
"""

from __future__ import annotations

from functools import cache
from itertools import islice
from pathlib import Path

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Variable,
)

from ontology.errors import NotFoundError, StoreError
from ontology.namespaces import BF, MADS, PREFIXES, RDF, RDFS, SKOS
from query.listings import (
    MEMBERS,
    PROPERTY,
    RECORDS,
    REFERENCE,
    Description,
    Listing,
    Node,
    Paging,
    Provenance,
    Reference,
    Term,
    Value,
    list_key,
    shares,
)
from query.sparql import SparqlResult, write_triples

_RQ = Path(__file__).resolve().parent / "rq"

#: Longest text shown, in characters; the rest is in the RDF twin.
MAX_TEXT = 2000
#: Most statements shown of one subsidiary node (a title, a contribution).
MAX_NESTED = 50
#: Statements of subsidiary nodes a page may show, per item it may show.
NESTED_PER_ITEM = 4
#: Most rows read for the labels and details of one value.
MAX_LABEL_ROWS = 50
#: Most lists of each kind (properties, references) a page shows; more are not listed.
MAX_LISTS = 200
#: A page whose property lists hold at most this many values in all reads them, their
#: labels and their subsidiary nodes in three queries instead of three per list (an
#: Instance's page at 100,000 records: 13 lists, 40 queries, most of its 27 ms).
PREFETCH_VALUES = 2000

_LABEL_PREDICATES = frozenset({RDFS.label, SKOS.prefLabel, MADS.authoritativeLabel})
#: What a page's heading shows: listed on a list's page too.
_HEADING_PREDICATES = _LABEL_PREDICATES | {RDF.type, BF.title}


@cache
def sparql(name: str) -> str:
    """The text of ``query/rq/{name}.rq``."""
    return (_RQ / f"{name}.rq").read_text(encoding="utf-8")


class ResourceQueries:
    """The questions a resource page asks, over one store and one base IRI."""

    def __init__(self, store: Store, base: str) -> None:
        self.store = store
        self.base = base if base.endswith("/") else base + "/"
        #: Nodes under the base with a fragment are subsidiary: a record's own
        #: (``{graph}#title-1``) or a shared unit's part (``{work}#contribution-…``).
        self.base_literal = Literal(self.base)
        self.graphs_prefix = self.base + "graph/"
        self.meta = NamedNode(self.base + "graph/meta")
        #: Statements of subsidiary nodes the page being described may still show.
        self._nested_left = 0

    def _run(self, name: str, **bound: Term) -> QueryBoolean | QuerySolutions | QueryTriples:
        """Run ``rq/{name}.rq`` with ``bound`` values; its rows are read lazily by the caller."""
        substitutions = {Variable(key): value for key, value in bound.items()}
        try:
            return self.store.query(
                sparql(name),
                prefixes=PREFIXES,
                use_default_graph_as_union=True,
                substitutions=substitutions,
            )
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc

    def _rows(self, name: str, start: int = 0, stop: int | None = None, **bound: Term) -> list:
        """Rows ``start`` to ``stop`` of ``rq/{name}.rq``; read errors are store errors too."""
        try:
            return list(islice(self._run(name, **bound), start, stop))  # type: ignore[arg-type]
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc

    def is_record_graph(self, iri: NamedNode) -> bool:
        return iri.value.startswith(self.graphs_prefix) and "#" not in iri.value

    def is_subsidiary(self, term: Term) -> bool:
        """A blank node, or a node under the base with a fragment: shown inline, no page."""
        return isinstance(term, BlankNode) or (
            isinstance(term, NamedNode) and term.value.startswith(self.base) and "#" in term.value
        )

    def exists(self, iri: NamedNode) -> bool:
        """Whether any statement mentions ``iri`` (as subject or object)."""
        return bool(self._run("exists", iri=iri))

    # ------------------------------------------------------------ the page

    def describe(self, iri: NamedNode, paging: Paging | None = None) -> Description | None:
        """The lists a page shows about ``iri``, sliced by ``paging``; ``None`` if it is unknown.

        A ``paging.focus`` no list has, or a page past a list's end, is a ``NotFoundError``.
        """
        paging = paging or Paging()
        if not self.exists(iri):
            return None
        d = self._lists(iri)
        everything = [*d.properties, *d.references, d.records, d.members]
        heading = [ls for ls in d.properties if ls.predicate in _HEADING_PREDICATES]
        if paging.focus is None:
            wanted = [min(ls.count, paging.size) for ls in everything]
            takes = dict(zip(map(id, everything), shares(wanted, paging.items), strict=True))
        else:
            d.focus = next((ls for ls in everything if ls.key == paging.focus), None)
            if d.focus is None or d.focus.count == 0:
                raise NotFoundError(f"{iri.value} has no list {paging.focus[:200]!r}")
            d.focus.start = (paging.page - 1) * paging.size
            if d.focus.start >= d.focus.count:
                raise NotFoundError(f"the list {paging.focus} has no page {paging.page}")
            takes = {id(ls): min(ls.count, paging.size) for ls in [*heading, d.focus]}
        self._nested_left = NESTED_PER_ITEM * paging.items
        filled = self._fill_properties(iri, d.properties, takes) if paging.focus is None else set()
        for listing in everything:
            if id(listing) not in filled:
                self._fill(iri, listing, takes.get(id(listing), 0))
        d.labels = [
            v.term
            for ls in heading
            if ls.predicate in _LABEL_PREDICATES
            for v in ls.items
            if isinstance(v.term, Literal)
        ] or _titles(d.statements)
        return d

    def _lists(self, iri: NamedNode) -> Description:
        """Every list of ``iri``'s page with its count, and no items yet."""
        counts = self._rows("property_counts", 0, MAX_LISTS + 1, iri=iri)
        refs = self._rows("reference_counts", 0, MAX_LISTS + 1, iri=iri, base=self.base_literal)
        properties = [
            Listing(list_key(row["p"]), PROPERTY, int(row["n"].value), predicate=row["p"])
            for row in counts[:MAX_LISTS]
        ]
        references = [
            Listing(
                list_key(row["p"], row["via"], inverse=True),
                REFERENCE,
                int(row["n"].value),
                predicate=row["p"],
                via=row["via"],
            )
            for row in refs[:MAX_LISTS]
        ]
        records = self._rows("record_graph_count", iri=iri, meta=self.meta)
        members = []
        if self.is_record_graph(iri):
            members = self._rows("graph_member_count", iri=iri, base=self.base_literal)
        return Description(
            iri=iri,
            labels=[],
            properties=properties,
            references=references,
            records=Listing(RECORDS, RECORDS, int(records[0]["n"].value) if records else 0),
            members=Listing(MEMBERS, MEMBERS, int(members[0]["n"].value) if members else 0),
            lists_cut=len(counts) > MAX_LISTS or len(refs) > MAX_LISTS,
        )

    def _fill_properties(self, iri: NamedNode, properties: list[Listing], takes: dict[int, int]) -> set[int]:
        """Fill the first slice of every property list at once, when they are small together.

        The same items, labels and nested statements as ``_fill`` list by list,
        and in the same order (so the nested statements' budget is spent
        alike), from three queries. Which lists it filled (their ``id``); none
        when the lists together hold more than ``PREFETCH_VALUES`` values.
        """
        wanted = [ls for ls in properties if takes.get(id(ls), 0) > 0]
        if not wanted or sum(ls.count for ls in wanted) > PREFETCH_VALUES:
            return set()
        values: dict[Term, list[Term]] = {ls.predicate: [] for ls in wanted if ls.predicate is not None}
        for row in self._rows("property_values_all", 0, PREFETCH_VALUES + 1, iri=iri):
            mine = values.get(row["p"])
            if mine is not None:
                mine.append(row["o"])
        shown = {id(ls): values.get(ls.predicate, [])[: takes[id(ls)]] for ls in wanted}
        objects = [o for ls in wanted for o in shown[id(ls)]]
        found = self._many("labels_many", "node", objects)
        inner = self._many(
            "node_statements_many", "node",
            [o for o in objects if self.is_subsidiary(o)], per_node=MAX_NESTED + 1,
        )  # fmt: skip
        for ls in wanted:
            ls.items = [self._value(o, found.get(o), inner.get(o)) for o in shown[id(ls)]]
        return {id(ls) for ls in wanted}

    def _fill(self, iri: NamedNode, listing: Listing, take: int) -> None:
        """Read ``take`` items of ``listing`` from its ``start``."""
        if take <= 0:
            return
        span = (listing.start, listing.start + take)
        if listing.kind == RECORDS:
            listing.items = self._provenance(iri, *span)
        elif listing.kind == MEMBERS:
            rows = self._rows("graph_members", *span, iri=iri, base=self.base_literal)
            found = self._many("labels_many", "node", [row["s"] for row in rows])
            listing.items = [self._value(row["s"], found.get(row["s"])) for row in rows]
        elif listing.kind == REFERENCE:
            name, bound = "reference_subjects", {"iri": iri, "p": listing.predicate}
            if listing.via is not None:
                name, bound["via"] = "reference_subjects_via", listing.via
            rows = self._rows(name, *span, base=self.base_literal, **bound)
            found = self._many("reference_details_many", "s", [row["s"] for row in rows])
            listing.items = [self._reference(row["s"], listing, found.get(row["s"])) for row in rows]
        else:
            rows = self._rows("property_values", *span, iri=iri, p=listing.predicate)
            objects = [row["o"] for row in rows]
            found = self._many("labels_many", "node", objects)
            inner = self._many(
                "node_statements_many", "node",
                [o for o in objects if self.is_subsidiary(o)], per_node=MAX_NESTED + 1,
            )  # fmt: skip
            listing.items = [self._value(o, found.get(o), inner.get(o)) for o in objects]

    def _many(
        self, name: str, variable: str, terms: list[Term], per_node: int = MAX_LABEL_ROWS
    ) -> dict[Term, list]:
        """The rows of ``rq/{name}.rq`` for each IRI of ``terms`` (at most ``per_node`` each),
        in one query instead of one per item: a list of a hundred values cost a hundred
        parses and plans (a work's page at 100,000 records: 109 queries, 80 ms). At most
        ``per_node`` rows per IRI are read in all; when that is reached, one item may have
        had more than its share, and the result is empty: each item then asks alone.

        The IRIs go in the query's ``VALUES`` block as pyoxigraph writes them (a
        ``NamedNode`` cannot hold ``>``, a space or a brace), and they come from the
        store, never from the request; blank nodes cannot be written there and keep
        their own query (``_value``, ``_reference``).
        """
        named = [t for t in dict.fromkeys(terms) if isinstance(t, NamedNode)]
        found: dict[Term, list] = {t: [] for t in named}
        if not named:
            return found
        text = sparql(name).replace(
            f"VALUES ?{variable} {{}}", f"VALUES ?{variable} {{ {' '.join(map(str, named))} }}", 1
        )
        cap = per_node * len(named)
        try:
            rows = self.store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
            read = 0
            for row in islice(rows, cap):  # type: ignore[arg-type]
                read += 1
                mine = found.get(row[variable])
                if mine is not None and len(mine) < per_node:
                    mine.append(row)
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc
        if read >= cap:  # one item may have taken the others' share: each asks alone
            return {}
        return found

    def _value(
        self, term: Term, labels: list | None = None, statements: list | None = None
    ) -> Value:
        """A value with its labels and, for a subsidiary node, its own statements.

        ``labels``, ``statements``: its rows of ``labels.rq`` and ``node_statements.rq``
        when they were read with its list's (``_many``).
        """
        if isinstance(term, Literal):
            return Value(_short(term))
        value = Value(term)
        if labels is None:
            labels = self._rows("labels", 0, MAX_LABEL_ROWS, node=term)
        for row in labels:
            _add_label(value.labels, row["label"])
            _add_label(value.titles, row["title"])
        if self.is_subsidiary(term):
            room = min(MAX_NESTED, self._nested_left)
            if statements is None:
                rows = self._rows("node_statements", 0, room + 1, node=term)
            else:
                rows = statements[: room + 1]
            value.more = len(rows) > room
            nested: dict[tuple[NamedNode, Term], Value] = {}
            for row in rows[:room]:
                inner = nested.setdefault((row["p"], row["o"]), Value(_short(row["o"])))
                _add_label(inner.labels, row["label"])
            value.nested = [(p, v) for (p, _), v in nested.items()]
            self._nested_left -= min(len(rows), room)
        return value.settle()

    def _reference(self, subject: Node, listing: Listing, details: list | None = None) -> Reference:
        assert listing.predicate is not None
        ref = Reference(Value(subject), listing.predicate, listing.via)
        if details is None:
            details = self._rows("reference_details", 0, MAX_LABEL_ROWS, s=subject)
        for row in details:
            _add_label(ref.subject.labels, row["label"])
            _add_label(ref.subject.titles, row["title"])
            for values, term in (
                (ref.dates, row["date"]),
                (ref.publishers, row["publisher"]),
                (ref.languages, row["language"]),
            ):
                value = term if isinstance(term, NamedNode) else _text(term)
                if value is not None and value not in values:
                    values.append(value)
        ref.subject.settle()
        return ref

    def _provenance(self, iri: NamedNode, start: int, stop: int) -> list[Provenance]:
        """Record graphs ``start`` to ``stop`` (a graph may have several rows: one is kept)."""
        found: dict[NamedNode, Provenance] = {}
        try:
            for row in self._run("record_graphs", iri=iri, meta=self.meta):  # type: ignore[union-attr]
                if row["g"] not in found and len(found) == stop:
                    break
                found.setdefault(
                    row["g"],
                    Provenance(
                        row["g"], _text(row["file"]), _text(row["position"]), _text(row["time"])
                    ),
                )
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc
        return list(found.values())[start:stop]

    # ------------------------------------------------------------ the twin

    def rdf(self, iri: NamedNode, fmt: RdfFormat, max_triples: int, max_bytes: int) -> SparqlResult:
        """The RDF twin of a page: the resource and its subsidiary nodes (or a record graph).

        At most ``max_triples`` triples and ``max_bytes`` bytes; a cut answer says so.
        """
        if self.is_record_graph(iri):
            triples = self._run("describe_graph", iri=iri, meta=self.meta)
        else:
            triples = self._run("describe", iri=iri, base=self.base_literal)
        try:
            return write_triples(triples, fmt, max_rows=max_triples, max_bytes=max_bytes)  # type: ignore[arg-type]
        except OSError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc


_MAIN_TITLE = BF.mainTitle


def _titles(statements: list[tuple[NamedNode, Value]]) -> list[Literal]:
    """The main titles of a work or instance, its label when it has no ``rdfs:label``."""
    return [
        nested.term
        for predicate, value in statements
        if predicate == BF.title
        for inner, nested in value.nested
        if inner == _MAIN_TITLE and isinstance(nested.term, Literal)
    ]


def _short(term: Term) -> Term:
    """``term``, its text cut at ``MAX_TEXT`` characters if it is a longer literal.

    >>> _short(Literal("x" * 5000, language="en")).value[-3:], len(_short(Literal("x" * 5000)).value)
    ('xx…', 2001)
    """
    if not isinstance(term, Literal) or len(term.value) <= MAX_TEXT:
        return term
    text = term.value[:MAX_TEXT] + "…"
    if term.language:
        return Literal(text, language=term.language)
    return Literal(text, datatype=term.datatype)


def _add_label(labels: list[Literal], label: Term | None) -> None:
    if isinstance(label, Literal):
        label = _short(label)
        if label not in labels:
            labels.append(label)


def _text(term: Term | None) -> str | None:
    return None if term is None else _short(term).value
