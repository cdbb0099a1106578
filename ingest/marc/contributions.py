"""Contributions: 1XX/7XX names -> bf:Contribution with agent and roles; 7XX $t -> related Works.

Agents are named by :mod:`headings` (authority IRI from $0/$1, else a key of
the name), so a name in a bibliographic record meets its authority record.
Roles come from $4 codes and $e terms ($j for meetings); a term no list
knows becomes a bf:Role node labelled with the term. A main entry without a
role gets none: the role is not invented.

Where a contribution goes follows what the role is about. The Work gathers
every record of its cluster (editions, translations), so it carries only
what is true of all of them: its creators, once per agent. A role in one
manifestation or one copy (publisher, printer, bookseller, binder, former
owner...), or in one edition's text (translator, editor), goes on the
record's Instance instead; ``relators.tsv`` marks these roles ``instance``.
A name carrying $5 (the field applies to one institution's copy) goes on
the Instance whatever its roles. A name with both kinds of role gets one
contribution of each kind; a name with no role stays on the Work.

Every record of a cluster must name the Work's parts alike, so a Work's
contribution is ``{work}#contribution-{hash of the agent IRI}``
(:meth:`IriMinter.part`): the roles of all records accumulate on one node,
typed bf:PrimaryContribution when it is a 1XX main entry. An Instance's
contributions, and the contributions of 720 names (uncontrolled, so their
agents are local to the record and never merged), are the record's own.
"""

from __future__ import annotations

from pymarc import Field
from pyoxigraph import NamedNode

from ingest.iri import IriMinter, normalise
from ingest.marc import headings, vocab
from ingest.marc.bibcontext import BibContext, Version, heading_lang, indicator, joined, trim
from ingest.marc.terms import BF
from ingest.marc.titles import is_collective
from ingest.marc.works import name_title_key
from ingest.quads import clean_text
from ontology.namespaces import RELATORS
from ontology.term_labels import relators

_TITLE_PORTION = frozenset("tfkmnoprs")
_NAME_A = frozenset("a")
_UNCONTROLLED_CLASSES = {"1": BF.Person, "2": BF.Organization}


def _instance_roles() -> frozenset[str]:
    """IRIs of the relators ``ontology/vocabularies/relators.tsv`` marks ``instance``."""
    return frozenset(RELATORS[code].value for code, row in relators().items() if row.instance)


#: Roles in one manifestation, one copy or one edition's text: stated on the Instance.
INSTANCE_ROLES: frozenset[str] = _instance_roles()


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


class _Roles:
    """The roles of one name heading, sorted by where they belong."""

    __slots__ = ("work", "instance", "unknown", "copy_specific")

    def __init__(self, field: Field) -> None:
        #: Relator IRIs of roles in the work (author, composer, illustrator...).
        self.work: list[NamedNode] = []
        #: Relator IRIs of roles in one manifestation, copy or edition.
        self.instance: list[NamedNode] = []
        #: Terms no relator list knows (kept as labelled bf:Role nodes).
        self.unknown: list[str] = []
        #: $5: the field applies to one institution's copy.
        self.copy_specific = False
        term_code = "j" if field.tag[1:] == "11" else "e"
        for code, value in field.subfields:
            if not value:
                continue
            if code == "4":
                role = vocab.relator_iri(value)
                if role is not None:
                    self._add(role)
                else:
                    self._unknown(value)
            elif code == term_code:
                roles = vocab.relators_from_term(value)
                for role in roles:
                    self._add(role)
                if not roles:
                    self._unknown(value)
            elif code == "5":
                self.copy_specific = True
        if self.copy_specific:
            self.instance.extend(self.work)
            self.work.clear()

    def _add(self, role: NamedNode) -> None:
        (self.instance if role.value in INSTANCE_ROLES else self.work).append(role)

    def _unknown(self, term: str) -> None:
        term = trim(term)
        if term:
            self.unknown.append(term)

    def on_instance(self) -> bool:
        """Whether the name has a role in the Instance (or its field is about one copy)."""
        return bool(self.instance) or self.copy_specific

    def on_work(self) -> bool:
        """Whether the name is a contributor to the Work: it has a work role, or no
        known role at all (a name without a role stays on the Work). Its unknown
        terms go with it; a name whose known roles are all the Instance's takes
        them there (the term most likely restates one of those roles)."""
        return not self.copy_specific and (bool(self.work) or not self.instance)


def _state_roles(
    ctx: BibContext, contribution: NamedNode, roles: list[NamedNode], unknown: list[str],
    owner: NamedNode | None,
) -> None:
    """``roles`` and a labelled bf:Role per unknown term on ``contribution``.

    An unknown term's node is a part of ``owner`` keyed by the term when the
    contribution is a shared unit's (one node per term, whichever record says
    it), else local to the record.
    """
    b = ctx.b
    for role in roles:
        b.add(contribution, BF.role, role)
    for term in unknown:
        if owner is not None:
            node = IriMinter.part(owner, "role", normalise(term) or term)
        else:
            node = ctx.local("role")
        b.add(contribution, BF.role, node)
        b.type(node, BF.Role)
        b.label(node, term)


def _contribution(ctx: BibContext, owner: NamedNode, node: NamedNode, primary: bool) -> NamedNode:
    ctx.b.add(owner, BF.contribution, node)
    ctx.b.type(node, BF.Contribution)
    if primary:
        ctx.b.type(node, BF.PrimaryContribution)
    return node


def _contribute(
    ctx: BibContext, agent: NamedNode, field: Field, primary: bool, shared: bool
) -> None:
    """State ``agent``'s contributions to the Work and to the Instance, as its roles say.

    ``shared``: the agent is a shared unit, so the Work's contribution is a
    part of the Work named after it; otherwise (720) it is local to the record.
    """
    roles = _Roles(field)
    on_work = roles.on_work()
    if on_work or primary:
        if shared:
            node = IriMinter.part(ctx.work, "contribution", agent.value)
        else:
            node = ctx.local("contribution")
        _contribution(ctx, ctx.work, node, primary)
        ctx.b.add(node, BF.agent, agent)
        unknown = roles.unknown if on_work else []
        _state_roles(ctx, node, roles.work, unknown, ctx.work if shared else None)
    if roles.on_instance():
        node = _contribution(ctx, ctx.instance, ctx.local("contribution"), False)
        ctx.b.add(node, BF.agent, agent)
        _state_roles(ctx, node, roles.instance, [] if on_work else roles.unknown, None)


def map_name(ctx: BibContext, versions: list[Version]) -> None:
    """1XX/7XX: contributions to the Work and the Instance, or for a name/title (7XX $t)
    a related Work."""
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
    _contribute(ctx, agent, field, primary, shared=True)


def related_work(ctx: BibContext, versions: list[Version]) -> NamedNode | None:
    """The Work a name/title heading names, keyed as work clustering keys it.

    A collective title ("Works", "Poems. Selections") names no single work,
    so such a Work is local to the record, as is a Work without a title key.
    ``None`` when the title portion is empty (the heading is then only a name).
    """
    b = ctx.b
    labels = [(clean_text(_title_portion(field)), lang) for field, lang in versions]
    if not labels[0][0]:
        return None
    field = versions[0].field
    key = name_title_key(field)
    if key is not None and is_collective(field, "t"):
        key = None
    work = ctx.minter.from_key("work", key) if key else ctx.local("work")
    b.type(work, BF.Work)
    for index, (label, lang) in enumerate(labels):
        b.label(work, label, lang if index else heading_lang(lang))
    agent = describe_agent(ctx, versions)
    if agent is not None:
        contribution = (
            IriMinter.part(work, "contribution", agent.value) if key else ctx.local("contribution")
        )
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
    """720 -> contributions whose agent is local to the record (no authority, no merging)."""
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
    _contribute(ctx, agent, field, False, shared=False)


HANDLERS = {
    tag: map_name for tag in ("100", "110", "111", "700", "710", "711")
} | {"720": map_uncontrolled_name}
