"""Contributions: 1XX/7XX names -> bf:Contribution with agent and roles; 7XX $t -> related Works.

Agents are named by :mod:`headings` (authority IRI from $0/$1, else a key of
the name), so a name in a bibliographic record meets its authority record.
Roles come from $4 codes and $e terms ($j for meetings); a term no list
knows becomes a local bf:Role node labelled with the term. A main entry
without a role gets none: the role is not invented. 720 names are
uncontrolled, so their agents are local to the record and never merged.
"""

from __future__ import annotations

from pymarc import Field
from pyoxigraph import NamedNode

from ingest.marc import headings, vocab
from ingest.marc.bibcontext import BibContext, Version, heading_lang, indicator, joined, trim
from ingest.marc.terms import BF
from ingest.marc.works import name_title_key
from ingest.quads import clean_text

_TITLE_PORTION = frozenset("tfkmnoprs")
_NAME_A = frozenset("a")
_UNCONTROLLED_CLASSES = {"1": BF.Person, "2": BF.Organization}


def describe_agent(ctx: BibContext, versions: list[Version]) -> NamedNode | None:
    """The agent of a name heading, typed and labelled (880 partners add parallel labels).

    ``None`` when the heading has no name to show (every agent has a label).
    """
    b = ctx.b
    field = versions[0].field
    name = headings.agent_label(field)
    if not name:
        return None
    agent = headings.agent_iri(field, ctx.minter, name)
    b.type(agent, BF.Agent, headings.agent_class(field.tag, indicator(field, 0)))
    b.label(agent, name, heading_lang(versions[0].lang))
    for other, lang in versions[1:]:
        b.label(agent, headings.agent_label(other), lang)
    return agent


def _roles(ctx: BibContext, contribution: NamedNode, versions: list[Version]) -> None:
    b = ctx.b
    field = versions[0].field
    term_code = "j" if field.tag[1:] == "11" else "e"
    for code, value in field.subfields:
        if not value:
            continue
        if code == "4":
            role = vocab.relator_iri(value)
            if role is not None:
                b.add(contribution, BF.role, role)
            else:
                _unknown_role(ctx, contribution, value)
        elif code == term_code:
            roles = vocab.relators_from_term(value)
            for role in roles:
                b.add(contribution, BF.role, role)
            if not roles:
                _unknown_role(ctx, contribution, value)


def _unknown_role(ctx: BibContext, contribution: NamedNode, term: str) -> None:
    term = trim(term)
    if not term:
        return
    role = ctx.local("role")
    ctx.b.add(contribution, BF.role, role)
    ctx.b.type(role, BF.Role)
    ctx.b.label(role, term)


def _contribution(ctx: BibContext, owner: NamedNode, primary: bool) -> NamedNode:
    node = ctx.local("contribution")
    ctx.b.add(owner, BF.contribution, node)
    ctx.b.type(node, BF.Contribution)
    if primary:
        ctx.b.type(node, BF.PrimaryContribution)
    return node


def map_name(ctx: BibContext, versions: list[Version]) -> None:
    """1XX/7XX: a contribution to the Work, or for a name/title (7XX $t) a related Work."""
    field = versions[0].field
    primary = field.tag[0] == "1"
    if not primary and any(code == "t" for code, _ in field.subfields):
        work = related_work(ctx, versions)
        if work is not None:
            relation = BF.hasPart if indicator(field, 1) == "2" else BF.relatedTo
            ctx.b.add(ctx.work, relation, work)
            return
    agent = describe_agent(ctx, versions)
    if agent is None:
        return
    contribution = _contribution(ctx, ctx.work, primary)
    ctx.b.add(contribution, BF.agent, agent)
    _roles(ctx, contribution, versions)


def related_work(ctx: BibContext, versions: list[Version]) -> NamedNode | None:
    """The Work a name/title heading names, keyed as work clustering keys it.

    ``None`` when the title portion is empty (the heading is then only a name).
    """
    b = ctx.b
    labels = [(clean_text(_title_portion(field)), lang) for field, lang in versions]
    if not labels[0][0]:
        return None
    key = name_title_key(versions[0].field)
    work = ctx.minter.from_key("work", key) if key else ctx.local("work")
    b.type(work, BF.Work)
    for index, (label, lang) in enumerate(labels):
        b.label(work, label, lang if index else heading_lang(lang))
    agent = describe_agent(ctx, versions)
    if agent is not None:
        contribution = ctx.local("contribution")
        b.add(work, BF.contribution, contribution)
        b.type(contribution, BF.Contribution, BF.PrimaryContribution)
        b.add(contribution, BF.agent, agent)
    return work


def _title_portion(field: Field) -> str:
    parts = []
    in_title = False
    for code, value in field.subfields:
        if code == "t":
            in_title = True
        if in_title and code in _TITLE_PORTION and value:
            parts.append(trim(value))
    return " ".join(parts)


def map_uncontrolled_name(ctx: BibContext, versions: list[Version]) -> None:
    """720 -> a contribution whose agent is local to the record (no authority, no merging)."""
    b = ctx.b
    field = versions[0].field
    names = [(clean_text(joined(other, _NAME_A)), lang) for other, lang in versions]
    if not names[0][0]:
        return
    agent = ctx.local("agent")
    b.type(agent, BF.Agent)
    cls = _UNCONTROLLED_CLASSES.get(indicator(field, 0))
    if cls is not None:
        b.type(agent, cls)
    for name, lang in names:
        b.label(agent, name, lang)
    contribution = _contribution(ctx, ctx.work, False)
    b.add(contribution, BF.agent, agent)
    _roles(ctx, contribution, versions)


HANDLERS = {
    tag: map_name for tag in ("100", "110", "111", "700", "710", "711")
} | {"720": map_uncontrolled_name}
