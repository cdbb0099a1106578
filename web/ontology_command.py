"""``catalograph ontology validate`` and ``catalograph ontology export``: the composition of the checks.

``validate`` checks the ontology itself (``ontology.integrity``; HermiT's
consistency with ``--reason``, where Java is), then, with ``--data``, the
store's latest checkpoint against the shapes, slice by slice
(``graph.shape_sample``): at most ``--limit`` focus nodes of each class the
shapes target, ``--chunk`` at a time, so memory stays bounded whatever the
size of the store (``--limit 0`` checks every node, still chunk by chunk).
The report gives totals, counts per shape and per class, and the first
results (focus node, path, message); the exit code is 1 when anything is
violated (warnings do not count).
"""

from __future__ import annotations

from dataclasses import dataclass

from ontology.document import export_format, ontology_document
from ontology.errors import CatalographError
from ontology.integrity import check_ontology
from ontology.validation import ValidationTally, validate
from web.config import Settings


class ValidationFailed(CatalographError):
    """The ontology or the data does not pass its checks (exit 1): the report says where."""

    code = "validation-failed"


@dataclass(frozen=True, slots=True)
class ValidateOutcome:
    text: str
    ok: bool


def run_validate(
    settings: Settings, *, data: bool, limit: int, chunk: int, reason: bool, shown: int = 50
) -> ValidateOutcome:
    """The report of ``catalograph ontology validate`` and whether everything passed."""
    check = check_ontology()
    parts = [check.text(limit=shown)]
    ok = check.ok
    if reason:
        from ontology.owl_model import check_consistency

        consistency = check_consistency()
        parts.append(
            f"reasoner ({consistency.reasoner}): "
            + ("consistent" if consistency.consistent else "INCONSISTENT")
            + (f"; unsatisfiable: {', '.join(consistency.unsatisfiable)}" if consistency.unsatisfiable else "")
            + (f"; {consistency.message}" if consistency.message else "")
        )
        ok = ok and consistency.consistent
    if data:
        tally = validate_store(settings, limit=limit, chunk=chunk, shown=shown)
        parts.append(
            f"data (latest checkpoint of {settings.data_dir}; "
            + ("every focus node" if limit == 0 else f"at most {limit} focus nodes")
            + f" of each class, {chunk} at a time):"
        )
        parts.append(tally.text())
        ok = ok and tally.conforms
    return ValidateOutcome("\n".join(parts) + "\n", ok)


def validate_store(settings: Settings, *, limit: int, chunk: int, shown: int = 50) -> ValidationTally:
    """The shapes' results over the latest checkpoint, a bounded slice at a time."""
    from graph import open_latest_snapshot
    from graph.shape_sample import shape_slices

    store = open_latest_snapshot(settings.data_dir)
    tally = ValidationTally(keep=shown)
    for piece in shape_slices(store, limit=limit, chunk=chunk):
        report = validate(piece.ntriples)
        tally.add(piece.target.value, len(piece.focus), report, piece.complete, piece.skipped)
    return tally


def run_export(format_name: str) -> bytes:
    """The ontology in the format named (``ttl``, ``jsonld``, ``owl`` or a media type)."""
    return ontology_document(export_format(format_name))
