"""Deterministic IRI minting.

Same input, same IRI: a resource is named from the strongest identifier the
record offers (authority IRI from $0/$1, LCCN, ISBN, ISSN, DOI, control number
001 + 003), else from a normalised key. Re-ingest is therefore idempotent and
two records that share an identifier meet in one node.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from pyoxigraph import NamedNode

from ontology.layout import KINDS, Layout

__all__ = ["KINDS", "IriMinter", "Layout", "digest", "identifier_slug", "normalise"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """A matching key: case-, accent-, punctuation- and spacing-insensitive.

    Letters of every script are kept, so keys of non-Latin headings still differ.

    >>> normalise("  Pride and Prejudice / ")
    'pride and prejudice'
    >>> normalise("Austen, Jane, 1775-1817.") == normalise("AUSTEN JANE 1775 1817")
    True
    >>> normalise("Émile Zola")
    'emile zola'
    """
    if text.isascii():  # fast path, same result: ASCII is NFKD-stable and has no marks
        return _NON_WORD.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def digest(key: str, length: int = 20) -> str:
    """A short, stable, IRI-safe hash of ``key``.

    >>> digest("pride and prejudice")
    '17f9e344d1d92d410fef'
    """
    return hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:length]


def identifier_slug(scheme: str, value: str) -> str:
    """``scheme-value`` when the value is IRI-safe, else ``scheme-<hash>``.

    >>> identifier_slug("isbn", "9780140434262")
    'isbn-9780140434262'
    >>> identifier_slug("ctrl", "DLC 123 45/x")
    'ctrl-8e802a41b5e7a534c694'
    """
    value = value.strip()
    if _SAFE_ID.match(value):
        return f"{scheme}-{value}"
    return f"{scheme}-{digest(value)}"


class IriMinter:
    """Mints every resource and graph IRI of one deployment (``ontology.layout`` is the layout)."""

    def __init__(self, base: str | Layout) -> None:
        self.layout = base if isinstance(base, Layout) else Layout(base)
        self.base = self.layout.base

    def resource(self, kind: str, slug: str) -> NamedNode:
        """``{base}{kind}/{slug}``; ``slug`` must come from this module."""
        return self.layout.resource(kind, slug)

    def from_identifier(self, kind: str, scheme: str, value: str) -> NamedNode:
        return self.resource(kind, identifier_slug(scheme, value))

    def from_key(self, kind: str, key: str) -> NamedNode:
        """Mint from a normalised key (e.g. creator + title) when no identifier exists."""
        return self.resource(kind, "k" + digest(normalise(key)))

    def graph(self, source: str, record_id: str) -> NamedNode:
        """The named graph of one source record: ``{base}graph/{source}/{id}``."""
        return self.layout.record_graph(source, record_id)

    def metadata_graph(self) -> NamedNode:
        """The graph holding provenance of every record graph."""
        return self.layout.metadata_graph

    @staticmethod
    def part(owner: NamedNode, kind: str, key: str) -> NamedNode:
        """A part of a shared knowledge unit (a Work's contribution or title): ``{owner}#{kind}-{hash}``.

        Named from ``owner`` and a key of what the part says (an agent's IRI,
        a normalised title), so every record that states the same part of
        the same unit names the same node, and the unit's graph holds it once.

        >>> work = NamedNode("http://example.org/work/k1")
        >>> IriMinter.part(work, "contribution", "http://example.org/agent/a1").value
        'http://example.org/work/k1#contribution-fd2be36ab764'
        """
        return NamedNode(f"{owner.value}#{kind}-{digest(key, 12)}")

    @staticmethod
    def local(owner: NamedNode, kind: str, n: int | str) -> NamedNode:
        """A node that belongs to one record (a title, a contribution...).

        Named ``{owner}#{kind}-{n}`` after the record graph that states it, so
        it is deterministic and disappears with that graph.
        """
        return NamedNode(f"{owner.value}#{kind}-{n}")
