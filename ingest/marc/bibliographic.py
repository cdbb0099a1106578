"""MARC 21 bibliographic record -> BIBFRAME 2 Work + Instance in the record's graph.

The record is read once: its Instance is named from the strongest identifier
(:mod:`identifiers`), its Work from the work-clustering key (:mod:`works`),
then every field is handed to the mapper its tag names, in record order, with
its 880 partner (:mod:`parallel`) so that parallel script literals land on the
same nodes. Unlinked 880s are mapped as the field their ``$6`` names; an 880
whose ``$6`` cannot be read, or names a field no mapper takes, is kept as a
note. Every node is an IRI: resources from :class:`IriMinter`, and the
record's own parts (titles, contributions, notes...) ``{graph}#{kind}-{n}``.
"""

from __future__ import annotations

from collections.abc import Callable

from pymarc import Field, Record
from pymarc.field import RawField
from pyoxigraph import NamedNode

from ingest.iri import IriMinter
from ingest.marc import (
    contributions,
    description,
    identifiers,
    notes,
    provision,
    subjects,
    titles,
    works,
)
from ingest.marc.bibcontext import BibContext, Version, joined
from ingest.marc.parallel import language_tag, pair_880s
from ingest.quads import GraphBuilder
from ontology.namespaces import OWL

Handler = Callable[[BibContext, list[Version]], None]

HANDLERS: dict[str, Handler] = {
    **identifiers.HANDLERS,
    **works.HANDLERS,
    **titles.HANDLERS,
    **contributions.HANDLERS,
    **subjects.HANDLERS,
    **provision.HANDLERS,
    **description.HANDLERS,
    **notes.HANDLERS,
}

_TEXT = frozenset("abcdefghijklmnopqrstuvwxyz")


def map_bibliographic(
    record: Record, builder: GraphBuilder, minter: IriMinter, record_name: NamedNode | None = None
) -> None:
    """State the Work, Instance and everything they relate to in ``builder``'s graph.

    ``record_name``: the graph the record's 003 + 001 name, when ``builder`` states it in another
    (an OAI-PMH harvest's); an Instance without LCCN, ISBN or ISSN is named after it.
    """
    ctx = BibContext(record, builder, minter)
    if record_name is not None:
        ctx.record_name = record_name
    works.record_language(ctx)
    unlinked, unreadable = pair_880s(ctx)
    ctx.instance = identifiers.instance_iri(ctx)
    for alias in identifiers.instance_aliases(ctx):
        builder.add(ctx.instance, OWL.sameAs, alias)
    works.describe_work(ctx)
    identifiers.map_control_number(ctx)
    handlers = HANDLERS
    for field in record.fields:
        tag = field.tag
        if tag == "880" or type(field) is RawField:
            continue
        handler = handlers.get(tag)
        if handler is not None:
            handler(ctx, ctx.versions(field))
    for version in unlinked:
        handler = handlers.get(version.field.tag)
        if handler is not None:
            handler(ctx, [version])
        else:
            _kept_as_note(ctx, version.field, version.lang)
    for field in unreadable:
        _kept_as_note(ctx, field, language_tag(ctx, field))
    titles.ensure_instance_title(ctx)
    provision.map_008_date(ctx)


def _kept_as_note(ctx: BibContext, field: Field, lang: str | None) -> None:
    notes.note(ctx, ctx.instance, [(joined(field, _TEXT), lang)], "unlinked 880")
