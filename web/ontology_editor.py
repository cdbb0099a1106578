"""``/editor/ontology``: catalogers browse and change the library ontology the store holds.

The pages read the ontology of the checkpoint served (``web.ontology_source``:
the store's ontology graph, ``graph.ontology_graph``), and every change is
made by ``ontology.editing`` as statements to add and remove, handed to
``web.changes.submit_change``: one changeset, through the single writer,
with a check that runs on the store as the change leaves it (no cycle of
superclasses or superproperties; nothing using a term being deleted).

- ``/editor/ontology``: the class and property hierarchies as trees, each
  term with how much the data uses it (``query.ontology_usage``, counted
  once per checkpoint and capped);
- ``/editor/ontology/new``: a class or property in the ``cg:`` namespace;
- ``/editor/ontology/term?iri=…``: labels and definitions per language,
  superclasses or superproperties, domain and range; deprecation (with an
  optional replacement) and its undoing;
- ``/editor/ontology/delete?iri=…``: where the term is used (counts and a
  sample); refused while anything uses it, and for the shipped terms.

Every route requires ``EDIT``; every form is a Flask-WTF form (its CSRF
token is checked by ``requires`` for a session, and again by the form).
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from pyoxigraph import NamedNode, Quad, Store, Triple

from graph.ontology_graph import ontology_graph_triples, stored_quad
from graph.updates import InvalidChangeError
from ontology.editing import (
    DATATYPES,
    KIND_TYPES,
    OntologyEditError,
    TermChange,
    declare,
    deprecate,
    draft_of,
    is_property,
    new_term_iri,
    removal,
    revise,
    shipped_terms,
    undeprecate,
)
from ontology.errors import NotFoundError
from ontology.layout import Layout
from ontology.namespaces import compact
from ontology.ontology_checks import hierarchy_problems, label_problems
from ontology.reference import OntologyReference
from query.ontology_usage import TREE_CAP, USAGE_CAP, term_usage, use_counts
from web.auth import requires
from web.changes import submit_change
from web.i18n import interface_language
from web.ontology_forms import (
    KIND_LABELS,
    DeleteForm,
    DeprecateForm,
    TermForm,
    csrf_failed,
    draft_from_form,
    fill_words,
    filled,
    form_problems,
)
from web.ontology_source import ServedOntology, served_ontology
from web.permissions import EDIT
from web.state import settings, store, store_holder

blueprint = Blueprint("ontology_editor", __name__)

_COUNTS = "catalograph.ontology_counts"
def _layout() -> Layout:
    return Layout(settings().base_iri)


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/html; charset=utf-8")


# ------------------------------------------------------------ browsing


@blueprint.get("/editor/ontology")
@requires(EDIT)
def hierarchy() -> Response:
    """The class and property trees, with each term's use in the data."""
    return _hierarchy_page()


def _hierarchy_page() -> Response:
    served = served_ontology()
    model = served.reference
    property_roots = [
        p for p in model.properties if not any(x in model.terms for x in model.terms[p].parents)
    ]
    return _html(
        render_template(
            "ontology_editor.html",
            model=model,
            class_roots=model.roots,
            property_roots=property_roots,
            counts=_counts(served),
            from_store=served.from_store,
            cap=TREE_CAP,
            saved=request.args.get("saved", ""),
            proposed=request.args.get("proposed", ""),
            language=interface_language(),
        )
    )


def _counts(served: ServedOntology) -> dict[str, int]:
    """Uses of every class and property, once per checkpoint (``query.ontology_usage``, capped)."""
    if served.key == "file":
        return {}  # no store to count in
    key = (str(store_holder().path), served.key)
    cache = current_app.extensions.setdefault(_COUNTS, {"lock": threading.Lock(), "key": None, "counts": {}})
    with cache["lock"]:
        if cache["key"] != key:
            model = served.reference
            cache["counts"] = use_counts(store(), [*model.classes, *model.properties], _layout())
            cache["key"] = key
        return cache["counts"]


# ------------------------------------------------------------ creating and editing


@blueprint.route("/editor/ontology/new", methods=["GET", "POST"])
@requires(EDIT)
def new_term() -> Response:
    served = served_ontology()
    form = TermForm()
    if request.method == "GET":
        form.kind.data = request.args.get("kind", "class") if request.args.get("kind") in KIND_TYPES else "class"
        parent = request.args.get("parent", "")
        form.parents.data = [parent] if parent in served.reference.terms else []
        fill_words(form, {}, {})
        return _term_page(form, served, None)
    problems = form_problems(form)
    kind = form.kind.data if form.kind.data in KIND_TYPES else "class"
    if not problems:
        try:
            iri = new_term_iri(form.local_name.data or "", kind)
            change = declare(served.reference, iri, kind, draft_from_form(form, kind), _layout().ontology_graph)
            if proposal := _submit(change, form.reason.data):
                return _proposed(proposal)
            return redirect(url_for(".edit_term", iri=iri, saved="created"), code=303)
        except (OntologyEditError, InvalidChangeError) as refused:
            problems = refused.problems
    return _term_page(form, served, None, problems, status=400 if csrf_failed(form) else 422)


@blueprint.route("/editor/ontology/term", methods=["GET", "POST"])
@requires(EDIT)
def edit_term() -> Response:
    served = served_ontology()
    iri = request.values.get("iri", "")
    if not iri and request.method == "GET":
        return _hierarchy_page()  # no term named: choose one
    term = served.reference.terms.get(iri)
    if term is None:
        raise NotFoundError(f"the ontology declares no term {iri[:200]!r}")
    form = TermForm()
    if request.method == "GET":
        draft = draft_of(served.reference, iri)
        form.parents.data, form.domains.data, form.ranges.data = draft.parents, draft.domains, draft.ranges
        fill_words(form, draft.labels, draft.definitions)
        return _term_page(form, served, iri, saved=request.args.get("saved", ""))
    problems = form_problems(form)
    if not problems:
        try:
            draft = draft_from_form(form, term.kind)
            change = revise(served.reference, served.triples, iri, draft, _layout().ontology_graph)
            if proposal := _submit(change, form.reason.data):
                return _proposed(proposal)
            return redirect(url_for(".edit_term", iri=iri, saved="saved"), code=303)
        except (OntologyEditError, InvalidChangeError) as refused:
            problems = refused.problems
    return _term_page(form, served, iri, problems, status=400 if csrf_failed(form) else 422)


@blueprint.post("/editor/ontology/deprecate")
@requires(EDIT)
def deprecate_term() -> Response:
    served = served_ontology()
    form = DeprecateForm()
    iri = form.iri.data or ""
    if iri not in served.reference.terms:
        raise NotFoundError(f"the ontology declares no term {iri[:200]!r}")
    if not form.validate_on_submit():
        return _term_page(filled(served.reference, iri), served, iri, [gettext("The form has expired; please try again.")], 400)
    graph = _layout().ontology_graph
    try:
        if form.undo.data:
            change = undeprecate(served.triples, iri, graph)
        else:
            replacement = form.replacement.data or None
            change = deprecate(served.reference, served.triples, iri, replacement, graph)
        proposal = _submit(change, None)
    except (OntologyEditError, InvalidChangeError) as refused:
        return _term_page(filled(served.reference, iri), served, iri, refused.problems, 422)
    if proposal:
        return _proposed(proposal)
    return redirect(url_for(".edit_term", iri=iri, saved="deprecated" if not form.undo.data else "saved"), code=303)


# ------------------------------------------------------------ deleting


@blueprint.route("/editor/ontology/delete", methods=["GET", "POST"])
@requires(EDIT)
def delete_term() -> Response:
    served = served_ontology()
    iri = request.values.get("iri", "")
    if not iri and request.method == "GET":
        return _hierarchy_page()  # no term named: choose one
    if iri not in served.reference.terms:
        raise NotFoundError(f"the ontology declares no term {iri[:200]!r}")
    layout = _layout()
    usage = term_usage(store(), iri, layout)
    form = DeleteForm(iri=iri)
    problems: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            problems = [gettext("The form has expired; please try again.")]
        else:
            try:
                change = removal(served.reference, served.triples, iri, usage.total, layout.ontology_graph)
                if proposal := _submit(change, None, still_unused=iri):
                    return _proposed(proposal)
                return redirect(url_for(".hierarchy", saved=compact(iri)), code=303)
            except (OntologyEditError, InvalidChangeError) as refused:
                problems = refused.problems
    body = render_template(
        "ontology_delete.html",
        model=served.reference,
        term=served.reference.terms[iri],
        usage=usage,
        sample=[_statement(q) for q in usage.sample],
        usage_cap=USAGE_CAP,
        shipped=iri in shipped_terms(),
        form=form,
        problems=problems,
        language=interface_language(),
    )
    return _html(body, 200 if not problems else (400 if csrf_failed(form) else 422))


# ------------------------------------------------------------ helpers


def _submit(change: TermChange, reason: str | None, still_unused: str | None = None) -> int | None:
    """Hand the change to the editor's one door, with the ontology's checks run inside the edit.

    The number of the proposal it became when a reviewer must approve it first
    (``review_changes``), else ``None`` (applied, or nothing to change).
    """
    if change.empty:
        return None
    layout = _layout()

    def check(live: Store, added: list[Quad], removed: list[Quad]) -> None:
        held = ontology_graph_triples(live, layout)
        problems = hierarchy_problems(held) + label_problems(held, added)
        if still_unused is not None:
            uses = term_usage(live, still_unused, layout, cap=1, sample=0).total
            if uses:
                problems.append(f"{compact(still_unused)} is in use now: it cannot be deleted")
        if problems:
            raise InvalidChangeError(problems)

    graph = layout.ontology_graph
    edit = submit_change(
        add=[stored_quad(Triple(q.subject, q.predicate, q.object), graph) for q in change.add],
        remove=[stored_quad(Triple(q.subject, q.predicate, q.object), graph) for q in change.remove],
        reason=(reason or "").strip() or change.reason,
        check=check,
    )
    return edit.proposal


def _proposed(number: int) -> Response:
    """After a change that waits for a reviewer: the hierarchy, saying so."""
    return redirect(url_for(".hierarchy", proposed=number), code=303)


def _statement(quad: Quad) -> tuple[str, str]:
    """A statement as a delete page shows it (compact IRIs, literals as N-Triples), and its graph."""

    def shown(term: Any) -> str:
        return compact(term.value) if isinstance(term, NamedNode) else str(term)

    graph = quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else ""
    return f"{shown(quad.subject)} {shown(quad.predicate)} {shown(quad.object)}", graph


def _choices(model: OntologyReference, language: str, kinds: set[str]) -> list[tuple[str, str]]:
    return [
        (iri, f"{model.terms[iri].label(language)} ({model.terms[iri].curie})")
        for iri in (*model.classes, *model.properties)
        if (model.terms[iri].kind in kinds)
    ]


def _term_page(
    form: TermForm,
    served: ServedOntology,
    iri: str | None,
    problems: list[str] | None = None,
    status: int = 200,
    saved: str = "",
) -> Response:
    model = served.reference
    language = interface_language()
    term = model.terms.get(iri) if iri else None
    kind = term.kind if term else (form.kind.data if form.kind.data in KIND_TYPES else "class")
    classes = _choices(model, language, {"class"})
    properties = _choices(model, language, {"object property", "datatype property", "annotation property", "property"})
    form.parents.choices = properties if is_property(kind) else classes
    form.domains.choices = classes
    form.ranges.choices = [*classes, *((d.value, compact(d.value)) for d in DATATYPES)]
    deprecation = DeprecateForm(formdata=None, iri=iri or "")
    if term is not None:
        same = properties if is_property(term.kind) else classes
        deprecation.replacement.choices = [("", "—"), *(c for c in same if c[0] != iri)]
        deprecation.replacement.data = term.replaced_by[0] if term.replaced_by else ""
    body = render_template(
        "ontology_term.html",
        form=form,
        term=term,
        kind=kind,
        kinds=KIND_LABELS,
        deprecation=deprecation,
        problems=problems or [],
        saved=saved,
        shipped=iri in shipped_terms() if iri else False,
        language=language,
    )
    return _html(body, status)

