"""The forms of the ontology editor (``web.ontology_editor``), and what they say as a ``TermDraft``.

Flask-WTF forms, so each carries its CSRF token; the per-language rows are a
``FieldList`` of plain subforms. The values are checked by
``ontology.editing`` against the declared terms, with readable reasons, so
the select fields do not check their choices themselves.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from ontology.editing import (
    KIND_TYPES,
    MAX_DEFINITION,
    MAX_LABEL,
    MAX_VALUES,
    TermDraft,
    clean_words,
    draft_of,
    is_property,
)
from ontology.reference import OntologyReference
from web.auth import CSRF_FIELD

#: Languages every term form offers a row for, before the term's others and one free row.
FORM_LANGUAGES = ("en", "zh")
KIND_LABELS = {
    "class": lazy_gettext("class"),
    "object property": lazy_gettext("object property"),
    "datatype property": lazy_gettext("datatype property"),
    "annotation property": lazy_gettext("annotation property"),
}


class WordsForm(Form):
    """One language's label and definition (a subform: the outer form carries the CSRF token)."""

    language = StringField(lazy_gettext("Language"), validators=[Optional(), Length(max=3)])
    label = StringField(lazy_gettext("Label"), validators=[Optional(), Length(max=MAX_LABEL)])
    definition = TextAreaField(lazy_gettext("Definition"), validators=[Optional(), Length(max=MAX_DEFINITION)])


class TermForm(FlaskForm):
    local_name = StringField(lazy_gettext("Name"), validators=[Optional(), Length(max=64)])
    kind = SelectField(lazy_gettext("Kind"), choices=list(KIND_TYPES), validate_choice=False)
    words = FieldList(FormField(WordsForm), min_entries=1, max_entries=MAX_VALUES + 1)
    # choices are checked by ontology.editing against the declared terms, with readable reasons
    parents = SelectMultipleField(lazy_gettext("Superclasses or superproperties"), validate_choice=False)
    domains = SelectMultipleField(lazy_gettext("Domain"), validate_choice=False)
    ranges = SelectMultipleField(lazy_gettext("Range"), validate_choice=False)
    reason = StringField(lazy_gettext("Why (kept with the change)"), validators=[Optional(), Length(max=500)])


class DeprecateForm(FlaskForm):
    iri = HiddenField()
    replacement = SelectField(lazy_gettext("Replaced by"), validate_choice=False)
    undo = HiddenField()


class DeleteForm(FlaskForm):
    iri = HiddenField()


def draft_from_form(form: TermForm, kind: str) -> TermDraft:
    labels: dict[str, str] = {}
    definitions: dict[str, str] = {}
    for entry in form.words.entries:
        tag = (entry.form.language.data or "").strip().lower()
        labels.update(clean_words({tag: entry.form.label.data or ""}))
        definitions.update(clean_words({tag: entry.form.definition.data or ""}))
    property_kind = is_property(kind)
    return TermDraft(
        labels=labels,
        definitions=definitions,
        parents=[p for p in form.parents.data or [] if p],
        domains=[d for d in form.domains.data or [] if d] if property_kind else [],
        ranges=[r for r in form.ranges.data or [] if r] if property_kind else [],
    )


def form_problems(form: TermForm) -> list[str]:
    if form.validate_on_submit():
        return []
    if csrf_failed(form):
        return [gettext("The form has expired; please try again.")]
    return [f"{name}: {'; '.join(map(str, errors))}" for name, errors in flat_errors(form.errors).items()]


def flat_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(flat_errors(value, f"{prefix}{key} "))
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str):
        for n, value in enumerate(errors):
            flat.update(flat_errors(value, f"{prefix}{n + 1} "))
    elif errors:
        flat[prefix.strip()] = [str(e) for e in errors]
    return flat


def csrf_failed(form: FlaskForm) -> bool:
    return CSRF_FIELD in form.errors


def fill_words(form: TermForm, labels: dict[str, str], definitions: dict[str, str]) -> None:
    """One row per language: English, Chinese, the term's others, and one free row for a new language."""
    while form.words.entries:
        form.words.pop_entry()
    languages = [*FORM_LANGUAGES, *sorted((labels.keys() | definitions.keys()) - set(FORM_LANGUAGES)), ""]
    for tag in languages[: MAX_VALUES + 1]:
        form.words.append_entry({"language": tag, "label": labels.get(tag, ""), "definition": definitions.get(tag, "")})


def filled(model: OntologyReference, iri: str) -> TermForm:
    """The form of an existing term as it stands (shown again beside a refused deprecation)."""
    form = TermForm(formdata=None)
    draft = draft_of(model, iri)
    form.parents.data, form.domains.data, form.ranges.data = draft.parents, draft.domains, draft.ranges
    fill_words(form, draft.labels, draft.definitions)
    return form
