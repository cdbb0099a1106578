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

Both commands work on **the ontology the store holds** when the data
directory has one (its latest checkpoint's ontology graph, as catalogers
edited it: ``graph.ontology_graph``), and on the shipped ``catalograph.ttl``
otherwise (``--source auto``, the default); ``--source store`` insists on
the store's, ``--source file`` on the file's. The report's first line says
which it read.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Triple

from ontology.document import export_format, ontology_document, serialize_ontology
from ontology.errors import CatalographError, UsageError
from ontology.integrity import check_ontology
from ontology.layout import Layout
from ontology.validation import ValidationTally, validate
from web.config import Settings


class ValidationFailed(CatalographError):
    """The ontology or the data does not pass its checks (exit 1): the report says where."""

    code = "validation-failed"


@dataclass(frozen=True, slots=True)
class ValidateOutcome:
    text: str
    ok: bool


#: ``--source``: where the ontology is read from.
SOURCES = ("auto", "store", "file")


@dataclass(frozen=True, slots=True)
class OntologySource:
    """The ontology a command works on: its statements (``None``: the shipped file) and their origin."""

    triples: tuple[Triple, ...] | None
    origin: str


def ontology_source(settings: Settings, source: str = "auto") -> OntologySource:
    """The store's ontology (its latest checkpoint's ontology graph), else the file (see above)."""
    shipped = OntologySource(None, "the shipped catalograph.ttl")
    if source == "file":
        return shipped
    from graph import latest_snapshot, open_latest_snapshot
    from graph.ontology_graph import ontology_graph_triples

    snapshot = latest_snapshot(settings.data_dir)
    triples: list[Triple] = []
    if snapshot is not None:
        store = open_latest_snapshot(settings.data_dir)
        triples = ontology_graph_triples(store, Layout(settings.base_iri))
        del store
    if triples and snapshot is not None:
        return OntologySource(tuple(triples), f"the store at {settings.data_dir} (checkpoint {snapshot.name})")
    if source == "store":
        raise UsageError(
            f"the store at {settings.data_dir} holds no ontology (ingest into it first, or use --source file)"
        )
    return shipped


def run_validate(
    settings: Settings,
    *,
    data: bool,
    limit: int,
    chunk: int,
    reason: bool,
    shown: int = 50,
    source: str = "auto",
) -> ValidateOutcome:
    """The report of ``catalograph ontology validate`` and whether everything passed."""
    ontology = ontology_source(settings, source)
    check = check_ontology(triples=ontology.triples)
    parts = [f"ontology read from {ontology.origin}", check.text(limit=shown)]
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


def run_export(format_name: str, settings: Settings | None = None, source: str = "file") -> bytes:
    """The ontology in the format named (``ttl``, ``jsonld``, ``owl`` or a media type)."""
    fmt = export_format(format_name)
    ontology = ontology_source(settings, source) if settings is not None else None
    if ontology is None or ontology.triples is None:
        return ontology_document(fmt)
    return serialize_ontology(ontology.triples, fmt)
