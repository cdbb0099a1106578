"""What the vocabulary editor's forms send, read into the rows its operations take.

The forms are Flask-WTF forms (each carries the session's CSRF token, which
``web.auth.requires`` checks before a view runs); their repeated rows (a
label's kind, text and language; a link's relation and target) are read
here from the request, bounded (``MAX_ROWS``), and handed to
``query.vocabulary_edits``, which says in words what is wrong with them.
A concept is named in a form by its IRI or by one of its labels
(``resolve_concept``): the picker fills in IRIs from ``/api/suggest``, and
a cataloger may type a label instead.

An uploaded SKOS file waits for the cataloger's confirmation in the data
directory (``vocabulary-imports/``), named by a random token and kept for
``PENDING_IMPORT_S``, never in the session cookie or the page.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path

from flask import request
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from pyoxigraph import Store
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

from graph.updates import InvalidChangeError
from ontology.errors import NotFoundError
from query.vocabulary import concepts_labelled
from query.vocabulary_edits import MAX_ROWS, strict_iri

#: How long an uploaded file waits for its import to be confirmed, in seconds.
PENDING_IMPORT_S = 3600
PENDING_DIR = "vocabulary-imports"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class EditForm(FlaskForm):
    """A form of the editor: its CSRF token, and why the change is made (recorded with it)."""

    reason = StringField(lazy_gettext("Why (kept with the change)"), validators=[Optional(), Length(max=500)])


class NewConceptForm(EditForm):
    scheme = StringField(lazy_gettext("Scheme"), validators=[Length(max=2000)])
    label_1 = StringField(lazy_gettext("Preferred label"), validators=[Length(max=1000)])
    lang_1 = StringField(lazy_gettext("Language tag"), default="en", validators=[Length(max=35)])
    label_2 = StringField(lazy_gettext("Preferred label"), validators=[Length(max=1000)])
    lang_2 = StringField(lazy_gettext("Language tag"), default="zh", validators=[Length(max=35)])
    broader = StringField(lazy_gettext("Broader concept (label or IRI)"), validators=[Length(max=2000)])


class MergeForm(EditForm):
    merged = StringField(lazy_gettext("Concept to merge (label or IRI)"), validators=[Length(max=2000)])
    survivor = StringField(lazy_gettext("Concept to keep (label or IRI)"), validators=[Length(max=2000)])


class ImportForm(EditForm):
    file = FileField(lazy_gettext("SKOS file (Turtle, RDF/XML, N-Triples)"))
    scheme = StringField(lazy_gettext("Into the scheme (IRI)"), validators=[Length(max=2000)])
    format = StringField(lazy_gettext("Format"), validators=[Length(max=10)])
    token = HiddenField()


def rows(*names: str) -> list[tuple[str, ...]]:
    """The form's repeated rows: the i-th value of each of ``names``; blank rows dropped."""
    columns = [request.form.getlist(name)[: MAX_ROWS + 1] for name in names]
    width = max((len(c) for c in columns), default=0)
    if width > MAX_ROWS:
        raise InvalidChangeError([f"at most {MAX_ROWS} rows at once"])
    found = []
    for i in range(width):
        row = tuple(c[i] if i < len(c) else "" for c in columns)
        if any(value.strip() for value in row[1:]):  # the first column is a choice with a default
            found.append(row)
    return found


def chosen(name: str) -> list[str]:
    """The values of a form's checked boxes named ``name`` (bounded)."""
    values = request.form.getlist(name)
    if len(values) > MAX_ROWS * 10:
        raise InvalidChangeError(["too many rows at once"])
    return values


def encode_row(*parts: str) -> str:
    """A checkbox's value that names one existing row exactly (JSON: any text survives)."""
    return json.dumps(parts, ensure_ascii=False)


def decode_row(value: str, width: int) -> tuple[str, ...]:
    try:
        parts = json.loads(value)
    except ValueError:
        parts = None
    if not isinstance(parts, list) or len(parts) != width or not all(isinstance(p, str) for p in parts):
        raise InvalidChangeError(["the form was changed or is out of date; reload the page"])
    return tuple(parts)


def resolve_concept(store: Store, text: str, role: str) -> str:
    """The concept a form names: an IRI (strictly checked), or the one concept with that label."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidChangeError([f"name {role}: its label or IRI"])
    if cleaned.startswith(("http://", "https://")):
        try:
            return strict_iri(cleaned).value
        except ValueError as error:
            raise InvalidChangeError([str(error)]) from None
    found = concepts_labelled(store, cleaned)
    if not found:
        raise InvalidChangeError([f'no concept is labelled "{cleaned[:100]}" ({role}); pick one from the list or give its IRI'])
    if len(found) > 1:
        shown = ", ".join(f"<{iri}>" for iri in found[:5])
        raise InvalidChangeError([f'several concepts are labelled "{cleaned[:100]}" ({role}): {shown}; give its IRI'])
    return found[0]


# ------------------------------------------------------------ uploads waiting for confirmation


def keep_upload(data_dir: Path, body: bytes, extension: str, who: str) -> str:
    """Keep an uploaded file until its import is confirmed; its token."""
    folder = data_dir / PENDING_DIR
    folder.mkdir(exist_ok=True)
    now = time.time()
    for old in folder.iterdir():  # what was never confirmed goes after an hour
        if now - old.stat().st_mtime > PENDING_IMPORT_S:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.json").write_text(json.dumps({"who": who, "extension": extension}), encoding="utf-8")
    (folder / f"{token}.data").write_bytes(body)
    return token


def take_upload(data_dir: Path, token: str, who: str, remove: bool = False) -> tuple[bytes, str]:
    """The file and extension kept under ``token`` for ``who`` (``NotFoundError`` if gone)."""
    folder = data_dir / PENDING_DIR
    if not _TOKEN.match(token or ""):
        raise NotFoundError("this import is not known: upload the file again")
    meta_path, data_path = folder / f"{token}.json", folder / f"{token}.data"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        body = data_path.read_bytes()
    except (OSError, ValueError):
        raise NotFoundError("this import is not known or has expired: upload the file again") from None
    if meta.get("who") != who or time.time() - meta_path.stat().st_mtime > PENDING_IMPORT_S:
        raise NotFoundError("this import is not known or has expired: upload the file again")
    if remove:
        meta_path.unlink(missing_ok=True)
        data_path.unlink(missing_ok=True)
    return body, str(meta.get("extension", "ttl"))
