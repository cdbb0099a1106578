"""The "related" panel of a resource page: the associative retrieval's works, and why.

The same computation as ``/api/related`` (``query.related.Association``, over
the projection of the checkpoint served, loaded once per checkpoint): two
sparse products and a few label seeks, a few milliseconds. Each result's
reason is told in the interface language from its units (the shared subject,
the shared contributor with the roles, the same work...), each unit a link to
its page: the English sentence of ``query.related.because`` would leave a
Chinese reader with English prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext, lazy_gettext, ngettext

from ontology.errors import CatalographError
from query.related import Labels, Related, Unit, role_names
from web.browse import resource_href
from web.related import association_cache
from web.state import settings, store_holder

#: Results the panel shows.
SHOWN = 8

_RELATION_NAMES = {
    "subject": lazy_gettext("subject"),
    "genre": lazy_gettext("genre or form"),
    "contributor": lazy_gettext("contributor"),
    "series": lazy_gettext("series"),
    "related work": lazy_gettext("related work"),
    "work": lazy_gettext("work"),
}
_VIA_NAMES = {
    "broader": lazy_gettext("broader than"),
    "narrower": lazy_gettext("narrower than"),
    "component": lazy_gettext("part of the heading"),
    "whole": lazy_gettext("a heading that contains"),
}


@dataclass(slots=True)
class Reason:
    """One shared unit: how it is shared ("subject", "Author"), and the unit."""

    relation: str
    label: str
    href: str
    via: str = ""
    via_label: str = ""


@dataclass(slots=True)
class RelatedItem:
    href: str
    label: str
    score: float
    lead: str
    reasons: list[Reason] = field(default_factory=list)


def related_panel(iri: str, languages: list[str]) -> list[RelatedItem]:
    """What is related to ``iri``, for its page; empty when the checkpoint has no associations
    or the resource is none the associations know (a record graph, an unused unit)."""
    try:
        association = association_cache(current_app).get(store_holder().get(), settings())
        labels = Labels(association.store, languages, role_names(languages))
        results = association.related(iri, SHOWN, labels=labels)
    except (CatalographError, KeyError, IndexError, ValueError):
        return []
    return [_item(result, iri) for result in results]


def _item(result: Related, seed: str) -> RelatedItem:
    return RelatedItem(
        href=resource_href(result.iri),
        label=result.label,
        score=round(result.score, 3),
        lead=_lead(result),
        # the seed itself (an agent's page: "has the contributor <the agent>") goes without saying
        reasons=[_reason(u) for u in result.units if u.relation != "work" and u.iri != seed],
    )


def _lead(result: Related) -> str:
    others = result.editions - 2 if result.same_work else result.editions - 1
    if result.same_work:
        if others > 0:
            return ngettext(
                "Another edition of the same work (and %(n)s other edition)",
                "Another edition of the same work (and %(n)s other editions)",
                others,
                n=f"{others:,}",
            )
        return gettext("Another edition of the same work")
    if others > 0:
        return ngettext("%(n)s edition", "%(n)s editions", result.editions, n=f"{result.editions:,}")
    return ""


def _reason(unit: Unit) -> Reason:
    relation = ", ".join(unit.roles) if unit.relation == "contributor" and unit.roles else str(
        _RELATION_NAMES.get(unit.relation, unit.relation)
    )
    reason = Reason(relation, unit.label, resource_href(unit.iri))
    if unit.via:
        reason.via = str(_VIA_NAMES.get(unit.via["relation"], unit.via["relation"]))
        reason.via_label = unit.via["label"]
    return reason
