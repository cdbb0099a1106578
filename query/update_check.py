"""What a SPARQL Update may do, read from its text before it runs.

pyoxigraph parses and runs the update (``Store.update``); nothing here rewrites
it. This module only reads the text, in one linear pass that knows strings,
IRIs and comments, to

- refuse what must never reach the parser or the network: text beyond the size
  limit, nesting deeper than the parser survives, ``SERVICE`` (outbound HTTP
  from the server), ``LOAD`` from a URL the configuration does not allow;
- tell the writer which graphs the update may change, so that record graphs
  it edits are marked as edited in their provenance (see ``graph.updates``):
  every IRI the text names (a superset of the graphs it writes by name), and
  whether it can reach graphs it does not name (a ``GRAPH ?g`` in an
  ``INSERT``/``DELETE`` template, ``CLEAR``/``DROP`` ``NAMED``/``ALL``).

pyoxigraph reads ``\\u`` escapes only inside strings and IRIs (checked), so
keywords cannot hide behind escapes; an unterminated string is refused here
rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from ontology.errors import QueryError
from query.sparql import MAX_NESTING, QueryTooLargeError


class LoadRefusedError(QueryError):
    """``LOAD`` from a URL the configuration does not allow (HTTP 403)."""

    http_status = 403


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    """What the text of an update says about its reach."""

    #: Every absolute IRI the update names (subjects and predicates included).
    iris: frozenset[str]
    #: True when it may write graphs it does not name.
    all_graphs: bool
    #: The URLs its ``LOAD`` operations fetch.
    loads: tuple[str, ...]


_WORD = r"[^\W\d][\w-]*"
_LOCAL_ESC = r"\\[_~.\-!$&'()*+,;=/?#@%]"
_TOKENS = re.compile(
    rf"""
    (?P<skip>\s+|\#[^\n]*)
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*>)
  | (?P<var>[?$]\w+)
  | (?P<pname>(?:{_WORD}(?:\.+[\w-]+)*)?:(?:(?:[\w:%]|{_LOCAL_ESC})(?:[\w:%.-]|{_LOCAL_ESC})*)?)
  | (?P<word>{_WORD})
    """,
    re.VERBOSE,
)
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_OPEN, _CLOSE = "{([", "})]"
_TEMPLATE_AFTER = {"INSERT", "DELETE", "DATA"}


def _unescape_iri(body: str) -> str:
    return _UCHAR.sub(lambda m: chr(int(m[1] or m[2], 16)), body)


def _string_end(text: str, start: int) -> int:
    """Index just after the string literal opening at ``start``; refuse an unterminated one."""
    quote = text[start] * 3 if text.startswith(text[start] * 3, start) else text[start]
    i, n = start + len(quote), len(text)
    while i < n:
        if text.startswith(quote, i):
            return i + len(quote)
        char = text[i]
        if len(quote) == 1 and char in "\r\n":
            break
        i += 2 if char == "\\" else 1
    line = text.count("\n", 0, start) + 1
    raise QueryError(f"SPARQL Update syntax error: unterminated string starting on line {line}")


def _tokens(text: str):  # noqa: ANN202 - a private generator of (kind, value) pairs
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "'\"":
            i = _string_end(text, i)
            yield "string", ""
            continue
        found = _TOKENS.match(text, i)
        if found is None or found.end() == i:
            yield "punct", char
            i += 1
            continue
        kind = found.lastgroup or "skip"
        i = found.end()
        if kind != "skip":
            yield kind, found.group()


class _Reader:
    """The one pass over the tokens; its state is what the plan is built from."""

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.prefixes = dict(prefixes)
        self.base: str | None = None
        self.iris: set[str] = set()
        self.loads: list[str] = []
        self.all_graphs = False
        self.blocks: list[bool] = []  # per open "{": is it an update template?
        self.depth = 0
        self.deepest = 0
        self.recent: list[str] = ["", ""]  # the two previous significant tokens, upper-cased

    def resolve(self, kind: str, value: str) -> str | None:
        if kind == "iri":
            iri = _unescape_iri(value[1:-1])
            return urljoin(self.base, iri) if self.base and ":" not in iri else iri
        prefix, _, local = value.partition(":")
        namespace = self.prefixes.get(prefix)
        if namespace is None:
            return None  # the parser will say the prefix is undeclared
        return namespace + re.sub(r"\\(.)", r"\1", local)

    def feed(self, kind: str, value: str) -> None:
        previous, before = self.recent
        if kind in ("iri", "pname"):
            self._name(kind, value, previous, before)
        elif kind == "var":
            if previous == "GRAPH" and self.blocks and self.blocks[-1]:
                self.all_graphs = True
        elif kind == "word":
            word = value.upper()
            if word == "SERVICE":
                raise QueryError("SERVICE (federated query) is disabled on this endpoint")
            if word in ("ALL", "NAMED") and (
                previous in ("CLEAR", "DROP")
                or (previous == "SILENT" and before in ("CLEAR", "DROP"))
            ):
                self.all_graphs = True
        elif kind == "punct":
            self._punctuation(value, previous, before)
        self.recent = [value.upper() if kind in ("word", "punct") else kind.upper(), previous]
        if kind == "pname":
            self.recent[0] = "PNAME:" + value

    def _name(self, kind: str, value: str, previous: str, before: str) -> None:
        if kind == "iri" and previous.startswith("PNAME:") and before == "PREFIX":
            self.prefixes[previous[6:].rstrip(":")] = _unescape_iri(value[1:-1])
            return
        iri = self.resolve(kind, value)
        if kind == "iri" and previous == "BASE":
            self.base = iri
            return
        if iri is None:
            return
        self.iris.add(iri)
        if previous == "LOAD" or (previous == "SILENT" and before == "LOAD"):
            self.loads.append(iri)

    def _punctuation(self, char: str, previous: str, before: str) -> None:
        if char in _OPEN:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)
            if char == "{":
                inside = bool(self.blocks and self.blocks[-1])
                starts = previous in _TEMPLATE_AFTER or (previous == "WHERE" and before == "DELETE")
                self.blocks.append(inside or starts)
        elif char in _CLOSE:
            self.depth -= 1
            if char == "}" and self.blocks:
                self.blocks.pop()


def check_update(
    text: str,
    *,
    max_bytes: int,
    load_allow: Sequence[str] = (),
    prefixes: Mapping[str, str] | None = None,
) -> UpdatePlan:
    """Refuse what must not run; say what the update may reach.

    ``prefixes`` are those the update is run with (predefined ones).

    >>> plan = check_update(
    ...     "PREFIX ex: <http://example.org/> INSERT DATA { GRAPH ex:g { ex:s ex:p 'LOAD <x>' } }",
    ...     max_bytes=1000,
    ... )
    >>> sorted(plan.iris), plan.all_graphs, plan.loads
    (['http://example.org/g', 'http://example.org/p', 'http://example.org/s'], False, ())
    >>> check_update("DELETE WHERE { GRAPH ?g { ?s ?p 1 } }", max_bytes=100).all_graphs
    True
    >>> check_update("INSERT { ?s a 1 } WHERE { GRAPH ?g { ?s ?p 1 } }", max_bytes=100).all_graphs
    False
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise QueryTooLargeError(f"the update is {size} bytes long; the limit is {max_bytes}")
    reader = _Reader(prefixes or {})
    for kind, value in _tokens(text):
        reader.feed(kind, value)
        if reader.deepest > MAX_NESTING:
            raise QueryError(f"the update nests more than {MAX_NESTING} levels deep")
    for url in reader.loads:
        _check_load(url, load_allow)
    return UpdatePlan(frozenset(reader.iris), reader.all_graphs, tuple(reader.loads))


def _check_load(url: str, load_allow: Sequence[str]) -> None:
    if not url.startswith(("http://", "https://")):
        raise LoadRefusedError(f"LOAD <{url}> is refused: only http(s) URLs may be loaded")
    if not any(url.startswith(prefix) for prefix in load_allow):
        allowed = ", ".join(load_allow) if load_allow else "none (the load_allow setting is empty)"
        raise LoadRefusedError(
            f"LOAD <{url}> is refused: the server fetches only from allowed URL prefixes: {allowed}"
        )
