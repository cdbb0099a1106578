"""``/editor/vocabularies``: SKOS concept schemes edited in a browser.

The schemes with their sizes, a scheme's concepts (paged, searched by
label), one concept's page (preferred, alternate and hidden labels and notes
per language; broader, narrower and related concepts), a new concept, a
merge (with what will move shown first), a split, and a SKOS file imported
(with a report of what would change, confirmed before anything changes).

Every change is one ``query.vocabulary_edits`` operation turned into quads
and applied by ``web.changes.submit_change`` as one changeset, so it is
recorded, checked, kept across re-ingest and seen at once by pages, search
and SPARQL. Pages read the checkpoint served (``web.state.store``), which
the change just published. Every route names ``requires(EDIT)``; every form
is a Flask-WTF form with its CSRF token; every label goes through Jinja's
escaping. A refusal re-shows the form with its problems in words (HTTP 422).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext
from pyoxigraph import NamedNode, Store

from graph.updates import Edit, InvalidChangeError
from ingest.iri import IriMinter
from ontology.errors import NotFoundError, StoreError, UsageError
from ontology.layout import Layout
from query.skos_import import FORMATS, plan_import, read_skos
from query.vocabulary import (
    LABEL_KINDS,
    NOTE_KINDS,
    RELATIONS,
    concept,
    derived_references,
    label_of,
    references,
    scheme_concepts,
    schemes,
)
from query.vocabulary_edits import (
    VocabularyChange,
    edit_literals,
    edit_relations,
    new_concept,
    strict_iri,
)
from query.vocabulary_merge import merge, split
from web.auth import SIGN_IN_ERRORS, request_principal, requires
from web.browse import resource_href, scheme_name
from web.changes import submit_change
from web.i18n import reader_languages
from web.permissions import EDIT
from web.state import settings, store
from web.vocabulary_forms import (
    EditForm,
    ImportForm,
    MergeForm,
    NewConceptForm,
    chosen,
    decode_row,
    encode_row,
    keep_upload,
    resolve_concept,
    rows,
    take_upload,
)

blueprint = Blueprint("vocabulary_editor", __name__)
PAGE_SIZE = 50
#: References listed on a split page to choose from.
SPLIT_CHOICES = 200


def _html(template: str, status: int = 200, **context: object) -> Response:
    body = render_template(template, **context)
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _layout() -> Layout:
    return Layout(settings().base_iri)


def _served() -> Store | None:
    """The store served, or ``None`` before a first ingest (the page says so)."""
    try:
        return store()
    except StoreError:
        return None


def _submit(change: VocabularyChange, form: EditForm) -> Edit:
    why = (form.reason.data or "").strip()
    return submit_change(add=change.add, remove=change.remove,
                         reason=f"{change.reason}: {why}" if why else change.reason)  # fmt: skip


def _outcome(edit: Edit | None) -> dict[str, str]:
    """What the next page says of a submitted change: saved as a changeset, sent to a
    reviewer as a proposal (``review_changes``), or nothing to change."""
    if edit is not None and edit.changeset:
        return {"saved": edit.changeset}
    if edit is not None and edit.proposal:
        return {"proposed": str(edit.proposal)}
    return {"unchanged": "1"}


def _concept_page(iri: str, edit: Edit) -> Response:
    args = {"iri": iri, **_outcome(edit)}
    return redirect(f"{url_for('vocabulary_editor.concept_page')}?{urlencode(args)}", code=303)


@blueprint.before_request
def _uploads_for_editors() -> None:
    """An editor's import may be larger than the app's small request limit (before it is read)."""
    if request.endpoint != "vocabulary_editor.import_file" or request.method != "POST":
        return
    try:
        principal = request_principal()
    except SIGN_IN_ERRORS:
        return
    if principal is not None and principal.may(EDIT):
        request.max_content_length = settings().max_upload_bytes + 64 * 1024
        request.max_form_memory_size = 1024 * 1024


# ------------------------------------------------------------ schemes and their concepts


@blueprint.get("/editor/vocabularies")
@requires(EDIT)
def overview() -> Response:
    held = _served()
    languages = reader_languages()
    scheme = request.args.get("scheme", "")[:2000]
    needle = request.args.get("q", "")[:200]
    start = request.args.get("start", "0")
    start_at = int(start) if start.isdigit() and len(start) < 9 else 0
    context: dict = {"form": NewConceptForm(scheme=scheme), "scheme": scheme, "q": needle, "schemes": [],
                     "listing": None, "no_store": held is None}  # fmt: skip
    if held is not None:
        context["schemes"] = [(s, scheme_name(s.iri, held, languages)[0]) for s in schemes(held)]
        if scheme:
            context["scheme_label"] = scheme_name(scheme, held, languages)[0]
            context["listing"] = scheme_concepts(held, scheme, needle, start_at, PAGE_SIZE)
    return _html("vocabularies.html", **context)


@blueprint.post("/editor/vocabularies/concepts")
@requires(EDIT)
def add_concept() -> Response:
    form = NewConceptForm()
    held = _served()
    try:
        if held is None or not form.validate():
            raise InvalidChangeError([gettext("Fill in the form: a scheme and at least one label.")])
        labels = [(t, lang) for t, lang in ((form.label_1.data, form.lang_1.data), (form.label_2.data, form.lang_2.data))
                  if (t or "").strip()]  # fmt: skip
        scheme = (form.scheme.data or "").strip()
        if not labels:
            raise InvalidChangeError([gettext("A new concept needs a preferred label.")])
        key = f"{scheme}|{labels[0][0].strip()}"
        iri = IriMinter(_layout()).from_key("concept", key)
        broader = resolve_concept(held, form.broader.data, "broader") if (form.broader.data or "").strip() else None
        change = new_concept(held, _layout(), iri, scheme, labels, broader)
    except InvalidChangeError as refused:
        return _refused_overview(form, refused)
    try:
        edit = _submit(change, form)
    except InvalidChangeError as refused:
        return _refused_overview(form, refused)
    if edit.proposal:  # the concept does not exist until a reviewer approves it
        return redirect(f"{url_for('vocabulary_editor.overview')}?{urlencode({'proposed': edit.proposal})}", code=303)
    return _concept_page(change.concept, edit)


def _refused_overview(form: NewConceptForm, refused: InvalidChangeError) -> Response:
    held = _served()
    listed = [(s, scheme_name(s.iri, held, reader_languages())[0]) for s in schemes(held)] if held else []
    return _html("vocabularies.html", 422, form=form, scheme=form.scheme.data or "", q="", schemes=listed,
                 listing=None, problems=refused.problems, no_store=held is None)  # fmt: skip


# ------------------------------------------------------------ one concept


@blueprint.get("/editor/vocabularies/concept")
@requires(EDIT)
def concept_page() -> Response:
    return _concept_view(request.args.get("iri", ""))


def _concept_view(iri_text: str, problems: list[str] | None = None, status: int = 200) -> Response:
    held = _served()
    if not iri_text.strip() or held is None:
        return _html("vocabulary_concept.html", status, view=None, problems=problems, no_store=held is None,
                     form=EditForm())  # fmt: skip
    try:
        iri = strict_iri(iri_text).value
    except ValueError as error:
        raise UsageError(str(error)) from None
    view = concept(held, iri)
    languages = tuple(reader_languages()) or ("en",)
    literals = [(kind, text, lang, encode_row(kind, text, lang)) for kind, text, lang in sorted(view.literals)]
    relations = [(name, target, label_of(held, target, languages), encode_row(name, target))
                 for name, target in sorted(view.relations)]  # fmt: skip
    return _html(
        "vocabulary_concept.html", status, view=view, iri=iri, label=label_of(held, iri, languages),
        literals=literals, relations=relations, label_kinds=LABEL_KINDS, note_kinds=NOTE_KINDS,
        relation_names=list(RELATIONS), page_href=resource_href(iri), problems=problems,
        saved=request.args.get("saved"), unchanged=request.args.get("unchanged"),
        proposed=request.args.get("proposed"), form=EditForm(),
        replaced_label=label_of(held, view.replaced_by, languages) if view.replaced_by else None,
        replaced_edit=view.replaced_by,
    )  # fmt: skip


@blueprint.post("/editor/vocabularies/concept/labels")
@requires(EDIT)
def edit_labels() -> Response:
    iri, form = request.form.get("iri", ""), EditForm()
    try:
        held = _need_store()
        remove = [decode_row(value, 3) for value in chosen("remove")]
        add = [(kind, text, lang) for kind, text, lang in rows("kind", "text", "lang")]
        change = edit_literals(held, _layout(), strict_iri_or_refuse(iri), remove, add)
        return _concept_page(change.concept, _submit(change, form))
    except InvalidChangeError as refused:
        return _concept_view(iri, refused.problems, 422)


@blueprint.post("/editor/vocabularies/concept/relations")
@requires(EDIT)
def edit_links() -> Response:
    iri, form = request.form.get("iri", ""), EditForm()
    try:
        held = _need_store()
        remove = [decode_row(value, 2) for value in chosen("remove")]
        add = [(name, resolve_concept(held, target, name)) for name, target in rows("relation", "target")]
        change = edit_relations(held, _layout(), strict_iri_or_refuse(iri), remove, add)
        return _concept_page(change.concept, _submit(change, form))
    except InvalidChangeError as refused:
        return _concept_view(iri, refused.problems, 422)


def strict_iri_or_refuse(text: str) -> str:
    try:
        return strict_iri(text).value
    except ValueError as error:
        raise InvalidChangeError([str(error)]) from None


def _need_store() -> Store:
    held = _served()
    if held is None:
        raise InvalidChangeError([gettext("There is no store yet: ingest some records first.")])
    return held


# ------------------------------------------------------------ merge and split


@blueprint.route("/editor/vocabularies/merge", methods=["GET", "POST"])
@requires(EDIT)
def merge_page() -> Response:
    form = MergeForm(request.form if request.method == "POST" else request.args, meta={"csrf": False})
    plan, problems = None, None
    merged_text, survivor_text = form.merged.data or "", form.survivor.data or ""
    if (merged_text.strip() and survivor_text.strip()) or request.method == "POST":
        try:
            held = _need_store()
            merged = resolve_concept(held, merged_text, gettext("the concept to merge"))
            survivor = resolve_concept(held, survivor_text, gettext("the concept to keep"))
            plan = merge(held, _layout(), merged, survivor, derived_references(held, merged, _layout()))
            if request.method == "POST":
                return _concept_page(survivor, _submit(plan.change, form))
        except InvalidChangeError as refused:
            plan, problems = None, refused.problems
    held = _served()
    languages = tuple(reader_languages()) or ("en",)
    labels = {iri: label_of(held, iri, languages) for iri in ((plan.merged, plan.survivor) if plan else ())}
    return _html("vocabulary_merge.html", 422 if problems else 200, form=form, plan=plan, labels=labels,
                 problems=problems, post_form=EditForm())  # fmt: skip


@blueprint.route("/editor/vocabularies/split", methods=["GET", "POST"])
@requires(EDIT)
def split_page() -> Response:
    source = (request.form if request.method == "POST" else request.args).get("iri", "")
    held = _served()
    problems = None
    if request.method == "POST":
        form = EditForm()
        try:
            held = _need_store()
            labels = [(t, lang) for t, lang in rows("label", "lang") if t.strip()]
            first = labels[0][0].strip() if labels else ""
            iri = IriMinter(_layout()).from_key("concept", f"split|{strict_iri_or_refuse(source)}|{first}")
            moved = [decode_row(v, 3) for v in chosen("literal")]
            change = split(held, _layout(), source, iri, labels, moved, chosen("reference"))
            return _concept_page(change.concept, _submit(change, form))
        except InvalidChangeError as refused:
            problems = refused.problems
    if not source.strip() or held is None:
        return _html("vocabulary_split.html", 422 if problems else 200, view=None, problems=problems, form=EditForm())
    try:
        iri = resolve_concept(held, source, gettext("the concept to split"))
    except InvalidChangeError as refused:
        return _html("vocabulary_split.html", 422, view=None, problems=refused.problems, form=EditForm())
    view = concept(held, iri)
    languages = tuple(reader_languages()) or ("en",)
    subjects: dict[str, str] = {}
    for quad in references(held, iri, _layout()):
        if len(subjects) >= SPLIT_CHOICES:
            break
        subjects.setdefault(quad.subject.value, f"{label_of(held, quad.subject.value, languages)}")
    literals = [(kind, text, lang, encode_row(kind, text, lang)) for kind, text, lang in sorted(view.literals)]
    return _html("vocabulary_split.html", 422 if problems else 200, view=view, iri=iri,
                 label=label_of(held, iri, languages), literals=literals, subjects=sorted(subjects.items()),
                 problems=problems, form=EditForm())  # fmt: skip


# ------------------------------------------------------------ import


@blueprint.route("/editor/vocabularies/import", methods=["GET", "POST"])
@requires(EDIT)
def import_file() -> Response:
    form = ImportForm(meta={"csrf": False})
    held = _served()
    known = [s.iri for s in schemes(held)] if held is not None else []
    if request.method == "GET":
        return _html("vocabulary_import.html", form=form, plan=None, schemes=known, post_form=EditForm())
    principal = request_principal()
    data_dir = settings().data_dir
    try:
        held = _need_store()
        scheme = NamedNode(strict_iri_or_refuse(form.scheme.data or ""))
        if form.token.data:  # the report was read: apply it
            body, extension = take_upload(data_dir, form.token.data, principal.name)
        else:
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                raise InvalidChangeError([gettext("Choose a file to import.")])
            extension = form.format.data or PurePosixPath(upload.filename).suffix.lstrip(".").lower()
            if extension not in FORMATS:
                raise InvalidChangeError([gettext("Give a Turtle (.ttl), RDF/XML (.rdf) or N-Triples (.nt) file.")])
            body = upload.read(settings().max_upload_bytes + 1)
            if len(body) > settings().max_upload_bytes:
                raise InvalidChangeError([gettext("The file is larger than %(n)s bytes.",
                                                  n=f"{settings().max_upload_bytes:,}")])  # fmt: skip
        plan = plan_import(held, _layout(), read_skos(body, FORMATS[extension]), scheme)
        if form.token.data:
            edit = _submit(plan.change, form) if not plan.empty else None
            take_upload(data_dir, form.token.data, principal.name, remove=True)
            args = {"scheme": scheme.value, **_outcome(edit)}
            return redirect(f"{url_for('vocabulary_editor.overview')}?{urlencode(args)}", code=303)
        form.token.data = keep_upload(data_dir, body, extension, principal.name)
    except (InvalidChangeError, UsageError, NotFoundError) as refused:
        problems = getattr(refused, "problems", None) or [refused.message]
        return _html("vocabulary_import.html", 422, form=form, plan=None, schemes=known, problems=problems,
                     post_form=EditForm())  # fmt: skip
    return _html("vocabulary_import.html", form=form, plan=plan, schemes=known, post_form=EditForm())
