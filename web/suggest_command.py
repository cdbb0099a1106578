"""``catalograph suggest``: subject suggestions for the records of a file, or for words given.

The composition root of suggestion on the command line: MARC records are
read and mapped by ``web.suggest_input``, the index is built from the newest
checkpoint (``query.subject_index``) and the suggestions printed as a table or
JSON. Nothing is written to the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from graph import open_latest_snapshot
from ingest.model import Rejected
from ontology.errors import UsageError
from query.subject_index import build_subject_index
from query.suggest import SubjectQuery, Suggestion, suggest
from query.suggest_record import instance_query
from web.config import Settings
from web.suggest_input import RecordQuery, read_record_queries


def run_suggest_command(
    settings: Settings,
    path: Path | None,
    title: str,
    summary: str,
    notes: tuple[str, ...],
    limit: int,
    scheme: str | None,
    format_name: str,
    iri: str | None = None,
) -> str:
    """The printed answer; a ``UsageError`` unless exactly one of words, a file or an IRI is given."""
    given = SubjectQuery(title=title, summary=summary, notes=tuple(notes))
    asked = sum((path is not None, bool(given.text.strip()), iri is not None))
    if asked == 0:
        raise UsageError(
            "give a MARC or MARCXML FILE, --iri of an instance, or the record's words with --title, --summary or --note"
        )
    if asked > 1:
        raise UsageError("give one of a FILE, --iri or --title/--summary/--note")
    store = open_latest_snapshot(settings.data_dir)
    index = build_subject_index(store, settings.base_iri, scheme)
    records: Iterable[RecordQuery | Rejected]
    if path is not None:
        records = read_record_queries(path, settings.base_iri)  # one record at a time
    elif iri is not None:
        records = [RecordQuery(1, "", instance_query(store, iri))]
    else:
        records = [RecordQuery(1, "", given)]
    answers = []
    for item in records:
        if isinstance(item, Rejected):
            answers.append({"record": item.position.number, "error": f"{item.rule}: {item.reason}"})
            continue
        found = suggest(index, item.query, limit)
        answers.append({
            "record": item.number,
            "control_number": item.control_number,
            "title": item.query.title,
            "suggestions": [_as_dict(s) for s in found],
        })
    if format_name == "json":
        return json.dumps(answers, ensure_ascii=False, indent=2) + "\n"
    return _table(answers, path is not None)


def _as_dict(s: Suggestion) -> dict:
    return {"iri": s.iri, "label": s.label, "score": s.score, "reason": s.reason, "evidence": s.evidence}


def _table(answers: list[dict], headed: bool) -> str:
    lines: list[str] = []
    for answer in answers:
        if headed:
            name = f" ({answer['control_number']})" if answer.get("control_number") else ""
            lines.append(f"record {answer['record']}{name}: {answer.get('title') or answer.get('error', '')}")
        if "suggestions" in answer and not answer["suggestions"]:
            lines.append("  (no suggestion: the store has no subject this record's words or links reach)")
        for s in answer.get("suggestions", []):
            lines.append(f"  {s['score']:.3f}  {s['label']}  <{s['iri']}>")
            lines.append(f"         {s['reason']}")
    return "\n".join(lines) + "\n"
