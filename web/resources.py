"""Resource pages: every IRI minted under the base dereferences here.

The request path is mapped to ``base + path`` whatever Host the request came
in on, so a copy served under another name still finds its resources. One
URL answers HTML to browsers and RDF to clients (the same negotiation as
/sparql), and ``.ttl`` / ``.nt`` / ``.jsonld`` twins name a format outright.
Pages show everything by label, in the reader's language where the record
has it, with the parallel script forms beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote, unquote

from flask import Blueprint, Response, render_template, request
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat

from ingest.iri import KINDS
from ingest.marc.vocab import language_name, relator_label
from ontology.errors import NotFoundError
from ontology.namespaces import BF, LANGUAGES, PREFIXES, RDF, RDFS, SKOS
from ontology.vocabulary import label_for, term_labels
from query.negotiation import HTML, RDF_FORMATS, content_type, media_type, negotiate
from query.resources import Description, Reference, Value, best_label
from web.state import resource_queries, settings

blueprint = Blueprint("resources", __name__)

#: The twins a page links to (Link header and HTML), by pyoxigraph's extension for each.
TWINS = (RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.JSON_LD, RdfFormat.RDF_XML)

#: Shown as the page's heading, so not repeated in its table.
_HEADING_PREDICATES = frozenset({RDFS.label, SKOS.prefLabel, RDF.type})


@blueprint.get("/<kind>/<path:rest>")
def resource(kind: str, rest: str) -> Response:
    if kind not in KINDS:
        raise NotFoundError(f"no such page: /{kind}/{rest}")
    queries = resource_queries()
    path = _raw_path()
    iri = _iri(path)
    fmt = None
    if not queries.exists(iri):
        stem, dot, extension = path.rpartition(".")
        twin = RdfFormat.from_extension(extension) if dot and "/" not in extension else None
        if twin is None or not queries.exists(_iri(stem)):
            raise NotFoundError(f"nothing is known about {iri.value}")
        path, iri, fmt = stem, _iri(stem), twin
    if fmt is None:
        fmt = negotiate(request.headers.get("Accept"), [*RDF_FORMATS, HTML])
    if fmt == HTML:
        description = queries.describe(iri)
        if description is None:  # deleted between the two questions
            raise NotFoundError(f"nothing is known about {iri.value}")
        view = Page.build(description, is_graph=queries.is_record_graph(iri))
        local = _local_root() + path
        twins = [(f.name, f"{local}.{f.file_extension}", media_type(f)) for f in TWINS]
        body = render_template("resource.html", page=view, twins=twins)
        response = Response(body, content_type=content_type(HTML))
    else:
        response = Response(queries.rdf(iri, fmt), content_type=content_type(fmt))
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Link"] = _link_header(path)
    return response


def _local_root() -> str:
    return request.script_root + "/"


def _raw_path() -> str:
    """The path below the app's root as the client wrote it (``%2F`` inside an id kept)."""
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
    if not raw:
        return quote(request.path.lstrip("/"), safe="/")
    raw = raw.split("?", 1)[0].split("#", 1)[0]
    if "://" in raw:  # an absolute-form request target
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    root = request.script_root
    if root and raw.startswith(root):
        raw = raw[len(root) :]
    return raw.lstrip("/")


def _iri(path: str) -> NamedNode:
    """``base + path``, each segment percent-encoded the way ingest encodes ids."""
    segments = [quote(unquote(segment), safe="") for segment in path.split("/")]
    try:
        return NamedNode(settings().base_iri + "/".join(segments))
    except ValueError:
        raise NotFoundError(f"not a resource path: /{path}") from None


def _link_header(path: str) -> str:
    local = _local_root() + path
    links = [f'<{local}>; rel="canonical"'] + [
        f'<{local}.{fmt.file_extension}>; rel="alternate"; type="{media_type(fmt)}"'
        for fmt in TWINS
    ]
    return ", ".join(links)


# ------------------------------------------------------------------ the page


@dataclass(slots=True)
class Shown:
    """One value as a reader sees it: its text, link, language and parallel forms."""

    text: str
    lang: str | None = None
    href: str | None = None
    external: bool = False
    parallel: list[tuple[str, str | None]] = field(default_factory=list)
    #: A subsidiary node (title, identifier...): its own rows, shown inline.
    rows: list[Row] = field(default_factory=list)
    #: A contribution: "Author: Austen, Jane".
    roles: list[Shown] = field(default_factory=list)
    agent: Shown | None = None
    #: What tells it from others of the same name (an instance's date, publisher, language).
    note: str = ""


@dataclass(slots=True)
class Row:
    label: str
    iri: str
    values: list[Shown]


@dataclass(slots=True)
class ReferenceGroup:
    label: str
    count: int
    items: list[Shown]


@dataclass(slots=True)
class Page:
    iri: str
    heading: Shown
    types: list[Shown]
    rows: list[Row]
    references: list[ReferenceGroup]
    reference_total: int
    provenance: list[dict[str, str | Shown | None]]
    members: list[Shown]
    is_graph: bool

    @classmethod
    def build(cls, description: Description, is_graph: bool) -> Page:
        languages = [lang for lang, _ in request.accept_languages]
        show = _Shower(settings().base_iri, _local_root(), languages)
        heading = show.labelled(description.iri, description.labels)
        rows = show.rows(
            [(p, v) for p, v in description.statements if p not in _HEADING_PREDICATES]
        )
        groups: dict[tuple[NamedNode, NamedNode | None], list[Shown]] = {}
        for ref in description.references:
            shown = show.value(ref.subject)
            shown.note = show.told_apart(ref)
            groups.setdefault((ref.predicate, ref.via), []).append(shown)
        for items in groups.values():
            _tell_apart_the_same(items)
        references = [
            ReferenceGroup(
                _reference_label(predicate, via),
                description.reference_counts.get((predicate, via), len(items)),
                items,
            )
            for (predicate, via), items in groups.items()
        ]
        provenance = [
            {
                "graph": show.value(Value(p.graph)),
                "file": p.source_file,
                "position": p.position,
                "generated": p.generated,
            }
            for p in description.graphs
        ]
        return cls(
            iri=description.iri.value,
            heading=heading,
            types=[show.value(v) for v in description.types],
            rows=rows,
            references=references,
            reference_total=description.reference_total,
            provenance=provenance,
            members=[show.value(v) for v in description.members],
            is_graph=is_graph,
        )


@cache
def _term_labels() -> dict[str, str]:
    return term_labels()


def _tell_apart_the_same(items: list[Shown]) -> None:
    """Items shown alike (same title, date and publisher) get the end of their IRI too,
    so a reader never meets two identical links (three fragments of one printing, say)."""
    seen: dict[tuple[str, str], int] = {}
    for item in items:
        seen[(item.text, item.note)] = seen.get((item.text, item.note), 0) + 1
    for item in items:
        if seen[(item.text, item.note)] > 1 and item.href:
            slug = item.href.rstrip("/").rsplit("/", 1)[-1]
            item.note = f"{item.note} · {slug}" if item.note else slug


def _reference_label(predicate: NamedNode, via: NamedNode | None) -> str:
    if via is None:
        return label_for(predicate.value)
    return f"{label_for(via.value)} › {label_for(predicate.value)}"


class _Shower:
    """Turns terms into ``Shown`` values for one request (its base and languages)."""

    def __init__(self, base: str, root: str, languages: list[str]) -> None:
        self.base, self.root, self.languages = base, root, languages

    def href(self, iri: str) -> tuple[str | None, bool]:
        if iri.startswith(self.base):
            return self.root + iri[len(self.base) :], False
        if iri.startswith(("http://", "https://")):
            return iri, True
        return None, False

    def labelled(self, term: NamedNode | BlankNode | Literal, labels: list[Literal]) -> Shown:
        best = best_label(labels, self.languages)
        if best is None:
            return Shown(self.name(term))
        parallel = [(lab.value, lab.language) for lab in labels if lab.value != best.value]
        return Shown(best.value, best.language, parallel=list(dict.fromkeys(parallel)))

    def name(self, term: NamedNode | BlankNode | Literal) -> str:
        """What to call a term the store gives no label."""
        if isinstance(term, BlankNode):
            return "(unnamed node)"
        if isinstance(term, Literal):
            return term.value
        iri = term.value
        if iri.startswith(LANGUAGES.iri):
            return language_name(iri[len(LANGUAGES.iri) :]) or iri
        role = relator_label(term)
        if role:
            return role
        if iri.startswith(self.base):
            return iri[len(self.base) :]
        if iri in _term_labels():
            return _term_labels()[iri]
        if any(iri.startswith(namespace) for namespace in PREFIXES.values()):
            return label_for(iri)  # a vocabulary term: its local name, spelled out
        return iri

    def told_apart(self, ref: Reference) -> str:
        """``1975 · Masson · French``: an instance's date, publisher and languages."""
        dates = [date.strip("[] ") for date in ref.dates[:1]]
        parts = [*dates, *ref.publishers[:2], *(self.name(lang) for lang in ref.languages)]
        return " · ".join(part for part in parts if part)

    def value(self, value: Value) -> Shown:
        term = value.term
        if isinstance(term, Literal):
            return Shown(term.value, term.language)
        shown = self.labelled(term, value.labels)
        if isinstance(term, NamedNode):
            shown.href, shown.external = self.href(term.value)
        if value.nested:
            types = {v.term for p, v in value.nested if p == RDF.type}
            agents = [v for p, v in value.nested if p == BF.agent]
            if BF.Contribution in types and len(agents) == 1:
                shown.agent = self.value(agents[0])
                shown.roles = [self.value(v) for p, v in value.nested if p == BF.role]
            shown.rows = self.rows(value.nested)
            shown.href = None  # a subsidiary node has no page of its own
        return shown

    def rows(self, statements: list[tuple[NamedNode, Value]]) -> list[Row]:
        grouped: dict[NamedNode, list[Shown]] = {}
        for predicate, value in statements:
            grouped.setdefault(predicate, []).append(self.value(value))
        return sorted(
            (Row(label_for(p.value), p.value, values) for p, values in grouped.items()),
            key=lambda row: (row.iri != RDF.type.value, row.label.casefold()),
        )
