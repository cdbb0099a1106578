"""The vocabulary editor's operations, each turned into one change: quads to add and remove.

Every operation reads the store as it is and returns a ``VocabularyChange``
that ``web.changes.submit_change`` applies as one changeset; nothing here
writes, so each is tested on a real store without HTTP. Each statement goes
to the graph the layout gives it (``Layout.home_graph``: a concept's labels,
notes and links in the concept's own unit graph), so an edit is a writer's
edit of unit graphs, kept in the ledger across re-ingest (docs/storage.md).

What is checked here is what a form must say in words before anything is
sent: a well-formed language tag (BCP 47), a strict IRI, a label that is
text, one preferred label per language, a link to a concept that exists,
no ``skos:broader`` loop through the concept edited. The store-wide rules
(SHACL, integrity) are ``submit_change``'s. A refusal is one
``InvalidChangeError`` listing every problem found.

A link is written both ways (``A skos:broader B`` with ``B skos:narrower A``,
``skos:related`` in both directions): each end's graph then says it, and a
query that follows either property finds it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pyoxigraph import Literal, NamedNode, Quad, Store

from graph.updates import InvalidChangeError
from ontology.layout import Layout
from ontology.namespaces import RDF, SKOS, XSD
from query.vocabulary import (
    LABEL_KINDS,
    LITERAL_PROPERTIES,
    RELATIONS,
    ConceptView,
    concept,
    is_editable_graph,
    narrower_closure,
)

#: Longest label and note accepted, in characters.
MAX_LABEL = 1_000
MAX_NOTE = 10_000
#: Most rows one form may send.
MAX_ROWS = 200

_LANGUAGE_TAG = re.compile(
    r"^(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}"  # language, extlang
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
    r"|x(?:-[a-z0-9]{1,8})+)$",
    re.IGNORECASE,
)
_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = Literal("true", datatype=XSD.boolean)
T = TypeVar("T")


@dataclass(slots=True)
class VocabularyChange:
    """One operation's change, and the concept whose page shows it afterwards."""

    add: list[Quad] = field(default_factory=list)
    remove: list[Quad] = field(default_factory=list)
    reason: str = ""
    concept: str = ""


def language_tag(tag: str) -> str:
    """A well-formed BCP 47 tag, lower-cased as RDF compares them; ``ValueError`` otherwise.

    RFC 5646's grammar, stricter in one place: a primary language subtag of
    4 to 8 letters is well formed but none is registered, and "english" or
    "chinese" in that field is a cataloger's slip, so it is refused.

    >>> language_tag("zh-Hans-CN"), language_tag("en"), language_tag("de-CH-1996")
    ('zh-hans-cn', 'en', 'de-ch-1996')
    >>> language_tag("english")
    Traceback (most recent call last):
    ...
    ValueError: "english" is not a language tag (BCP 47: en, zh, zh-Hans, pt-BR...)
    """
    cleaned = tag.strip()
    if not _LANGUAGE_TAG.match(cleaned) or len(cleaned) > 35:
        raise ValueError(f'"{cleaned[:40]}" is not a language tag (BCP 47: en, zh, zh-Hans, pt-BR...)')
    return cleaned.lower()


def strict_iri(text: str) -> NamedNode:
    """An absolute http(s) IRI with none of the characters an IRI may not hold; ``ValueError`` otherwise.

    >>> strict_iri(" http://id.loc.gov/authorities/subjects/sh85076502 ").value
    'http://id.loc.gov/authorities/subjects/sh85076502'
    >>> strict_iri("http://x.org/a> <b")
    Traceback (most recent call last):
    ...
    ValueError: "http://x.org/a> <b" is not an http(s) IRI
    """
    cleaned = text.strip()
    if len(cleaned) > 2_000 or not _IRI.match(cleaned):
        raise ValueError(f'"{cleaned[:80]}" is not an http(s) IRI')
    try:
        return NamedNode(cleaned)
    except ValueError:
        raise ValueError(f'"{cleaned[:80]}" is not an http(s) IRI') from None


def text_value(text: str, limit: int, what: str) -> str:
    """``text`` stripped: not empty, not longer than ``limit``, no control characters."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(f"a {what} needs some text")
    if len(cleaned) > limit:
        raise ValueError(f"a {what} may have at most {limit:,} characters")
    if _CONTROL.search(cleaned) or (what == "label" and "\n" in cleaned):
        raise ValueError(f"a {what} may not contain control characters")
    return cleaned


def literal(kind: str, text: str, language: str) -> tuple[NamedNode, Literal]:
    """The predicate and literal of one label or note row of a form (``ValueError`` if wrong)."""
    predicate = LITERAL_PROPERTIES.get(kind)
    if predicate is None:
        raise ValueError(f"unknown kind of label or note: {kind[:30]!r}")
    is_label = kind in LABEL_KINDS
    value = text_value(text, MAX_LABEL if is_label else MAX_NOTE, "label" if is_label else "note")
    return predicate, Literal(value, language=language_tag(language))


class Problems(list):
    """The problems a form has, gathered to be said all at once (``InvalidChangeError``)."""

    def check(self, action: Callable[..., T], *args: object) -> T | None:
        """``action(*args)``, or ``None`` with its ``ValueError`` kept as a problem."""
        try:
            return action(*args)
        except ValueError as error:
            self.append(str(error))
            return None

    def raise_any(self) -> None:
        if self:
            raise InvalidChangeError(list(dict.fromkeys(self)))


def placed(layout: Layout, subject: NamedNode, predicate: NamedNode, obj: NamedNode | Literal) -> Quad:
    """The statement in the graph the layout keeps it in."""
    home = layout.home_graph(subject.value, obj.value if isinstance(obj, NamedNode) else None)
    return Quad(subject, predicate, obj, NamedNode(home))


def stated(store: Store, layout: Layout, subject: NamedNode, predicate: NamedNode, obj: NamedNode | Literal) -> list[Quad]:
    """The statement as the store holds it, in whichever unit or record graph (to remove it)."""
    found = [q for q in store.quads_for_pattern(subject, predicate, obj, None) if is_editable_graph(layout, q.graph_name)]
    return found or [placed(layout, subject, predicate, obj)]


def existing_concept(store: Store, iri: str, problems: Problems, role: str) -> ConceptView | None:
    view = concept(store, iri)
    if not view.is_concept:
        problems.append(f"<{iri}> ({role}) is not a concept of this graph")
        return None
    return view


def one_preferred_label_per_language(iri: str, literals: list[tuple[str, str, str]], problems: Problems) -> None:
    counts = Counter(lang for kind, _text, lang in literals if kind == "prefLabel")
    for lang, n in sorted(counts.items()):
        if n > 1:
            problems.append(
                f"<{iri}> would have {n} preferred labels in the language \"{lang or '-'}\": "
                "one per language (make the others alternate labels)"
            )


# ------------------------------------------------------------ labels, notes, links


def edit_literals(
    store: Store, layout: Layout, iri: str,
    remove: list[tuple[str, str, str]], add: list[tuple[str, str, str]],
) -> VocabularyChange:  # fmt: skip
    """Remove and add labels and notes (``(kind, text, language)`` rows) of one concept."""
    problems = Problems()
    view = existing_concept(store, iri, problems, "the concept edited")
    problems.raise_any()
    if len(remove) + len(add) > MAX_ROWS:
        raise InvalidChangeError([f"at most {MAX_ROWS} rows at once"])
    node = NamedNode(iri)
    change = VocabularyChange(reason=f"labels and notes of <{iri}>", concept=iri)
    held = set(view.literals)
    for kind, text, lang in remove:
        if (kind, text, lang) not in held:
            problems.append(f'"{text[:80]}" ({kind}, {lang or "-"}) is not on this concept (reload the page)')
            continue
        predicate = LITERAL_PROPERTIES[kind]
        change.remove += stated(store, layout, node, predicate, Literal(text, language=lang or None))
    after = [row for row in view.literals if row not in set(remove)]
    for kind, text, lang in add:
        found = problems.check(literal, kind, text, lang)
        if found is not None:
            predicate, value = found
            change.add.append(placed(layout, node, predicate, value))
            after.append((kind, value.value, value.language or ""))
    one_preferred_label_per_language(iri, after, problems)
    if not view.headings and not any(kind == "prefLabel" for kind, _t, _l in after):
        problems.append("a concept needs a preferred label: keep one, or add another first")
    problems.raise_any()
    return change


def edit_relations(
    store: Store, layout: Layout, iri: str,
    remove: list[tuple[str, str]], add: list[tuple[str, str]],
) -> VocabularyChange:  # fmt: skip
    """Remove and add ``(relation, target IRI)`` links of one concept, each with its inverse."""
    problems = Problems()
    view = existing_concept(store, iri, problems, "the concept edited")
    problems.raise_any()
    node = NamedNode(iri)
    change = VocabularyChange(reason=f"broader, narrower and related concepts of <{iri}>", concept=iri)
    held = set(view.relations)
    for name, target in remove:
        if (name, target) not in held or name not in RELATIONS:
            problems.append(f"<{target}> is not {name} of this concept (reload the page)")
            continue
        predicate, inverse = RELATIONS[name]
        change.remove += stated(store, layout, node, predicate, NamedNode(target))
        change.remove += stated(store, layout, NamedNode(target), inverse, node)
    below = None
    for name, target_text in add:
        if name not in RELATIONS:
            problems.append(f"unknown relation {name[:30]!r}: broader, narrower or related")
            continue
        target = problems.check(strict_iri, target_text)
        if target is None:
            continue
        if target == node:
            problems.append("a concept cannot be broader, narrower or related to itself")
            continue
        other = existing_concept(store, target.value, problems, f"the {name} concept")
        if other is None:
            continue
        if other.deprecated:
            problems.append(f"<{target.value}> is deprecated (merged into <{other.replaced_by}>): link to that one")
            continue
        if name == "broader":
            below = narrower_closure(store, iri) if below is None else below
            if target.value in below:
                problems.append(f"<{target.value}> is under this concept already: broader would make a loop")
                continue
        if name == "narrower" and iri in narrower_closure(store, target.value):
            problems.append(f"this concept is under <{target.value}> already: narrower would make a loop")
            continue
        change.add += link_both_ways(layout, node, name, target)
    problems.raise_any()
    return change


def link_both_ways(layout: Layout, node: NamedNode, name: str, target: NamedNode) -> list[Quad]:
    predicate, inverse = RELATIONS[name]
    return [placed(layout, node, predicate, target), placed(layout, target, inverse, node)]


# ------------------------------------------------------------ a new concept


def new_concept(
    store: Store, layout: Layout, iri: NamedNode, scheme: str,
    labels: list[tuple[str, str]], broader: str | None = None,
) -> VocabularyChange:  # fmt: skip
    """A concept ``iri`` (minted by the caller) in ``scheme``, with ``(text, language)``
    preferred labels (one per language) and optionally a broader concept."""
    problems = Problems()
    scheme_node = problems.check(strict_iri, scheme)
    if concept(store, iri.value).exists:
        problems.append(f"<{iri.value}> exists already: edit it instead")
    values = [v for v in (problems.check(literal, "prefLabel", t, lang) for t, lang in labels) if v is not None]
    if not values and not problems:
        problems.append("a new concept needs a preferred label")
    one_preferred_label_per_language(iri.value, [("prefLabel", v.value, v.language or "") for _, v in values],
                                      problems)  # fmt: skip
    problems.raise_any()
    change = VocabularyChange(reason=f"new concept <{iri.value}>", concept=iri.value)
    change.add = [placed(layout, iri, RDF.type, SKOS.Concept), placed(layout, iri, SKOS.inScheme, scheme_node)]
    change.add += [placed(layout, iri, predicate, value) for predicate, value in values]
    if broader:
        target = problems.check(strict_iri, broader)
        if target is not None and existing_concept(store, target.value, problems, "the broader concept"):
            change.add += link_both_ways(layout, iri, "broader", target)
        problems.raise_any()
    return change
