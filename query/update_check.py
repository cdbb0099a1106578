"""What a SPARQL Update may do, read from its text before it runs.

pyoxigraph parses and runs the update (``Store.update``); nothing here rewrites
it. This module reads the text with the query guard's lexer (``query.guard``:
the SPARQL grammar's terminals, linear on any input) to

- refuse what must never reach the parser or the network: text beyond the size
  limit, nesting deeper than the parser survives, ``SERVICE`` to an endpoint
  the configuration does not allow (as for queries), ``LOAD`` from a URL the
  configuration does not allow;
- tell the writer which graphs the update may change, so that record graphs
  it edits are marked as edited in their provenance (see ``graph.updates``):
  every IRI the text names (a superset of the graphs it writes by name), and
  whether it can reach graphs it does not name (a ``GRAPH ?g`` in an
  ``INSERT``/``DELETE`` template, ``CLEAR``/``DROP`` ``NAMED``/``ALL``).

Oxigraph reads keywords with no space between them (``DROPALL``,
``LOADSILENT<...>``), so keywords are looked for in the run of words since the
last other token, joined; any word containing ``load`` must be followed by the
IRI to load. pyoxigraph reads ``\\u`` escapes only inside strings and IRIs
(checked), so keywords cannot hide behind escapes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from ontology.errors import QueryError
from query.guard import (
    MAX_NESTING,
    QueryTooLargeError,
    ServiceRefusedError,
    service_targets,
    tokens,
)


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


_OPEN, _CLOSE = "{([", "})]"
#: Words that open an update template with the next ``{``.
_TEMPLATE_END = ("INSERT", "DELETE", "DATA", "DELETEWHERE")
_ALL_GRAPHS = re.compile(r"(?:CLEAR|DROP)(?:SILENT)?(?:ALL|NAMED)$")
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")


class _Reader:
    """One pass over the significant tokens; its state is what the plan is built from."""

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.prefixes = dict(prefixes)
        self.base: str | None = None
        self.iris: set[str] = set()
        self.loads: list[str] = []
        self.all_graphs = False
        self.blocks: list[bool] = []  # per open "{": is it an update template?
        self.depth = 0
        self.deepest = 0
        self.words = ""  # the run of words since the last other token, upper-cased
        self.declaring: str | None = None  # the prefix name after PREFIX, until its IRI
        self.load_pending = False

    def resolve(self, kind: str, value: str) -> str | None:
        if kind == "iri":
            iri = _UCHAR.sub(lambda m: chr(min(int(m[1] or m[2], 16), 0x10FFFF)), value[1:-1])
            return urljoin(self.base, iri) if self.base and ":" not in iri else iri
        prefix, _, local = value.partition(":")
        namespace = self.prefixes.get(prefix)
        return None if namespace is None else namespace + _LOCAL_ESCAPE.sub(r"\1", local)

    def feed(self, kind: str, value: str) -> None:
        if kind == "word":
            self.words += value.upper()
            self.load_pending = self.load_pending or "LOAD" in value.upper()
            self.all_graphs = self.all_graphs or bool(_ALL_GRAPHS.search(self.words))
            return
        if kind == "pname" and self.words.endswith("PREFIX"):
            self.declaring = value[:-1]
        elif kind == "iri" and self.declaring is not None:
            self.prefixes[self.declaring] = self.resolve(kind, value) or ""
            self.declaring = None
        elif kind == "iri" and self.words.endswith("BASE"):
            self.base = self.resolve(kind, value)
        elif kind in ("iri", "pname"):
            self._name(kind, value)
        elif self.load_pending:
            raise LoadRefusedError("LOAD is refused: it must name the IRI to load")
        if kind == "var" and self.words.endswith("GRAPH") and self.blocks and self.blocks[-1]:
            self.all_graphs = True
        if kind == "other":
            self._bracket(value)
        self.words = ""

    def _name(self, kind: str, value: str) -> None:
        iri = self.resolve(kind, value)
        if self.load_pending:
            self.load_pending = False
            if iri is None or ":" not in iri:
                raise LoadRefusedError(f"LOAD {value} is refused: not an absolute IRI")
            self.loads.append(iri)
        if iri is not None:
            self.iris.add(iri)

    def _bracket(self, char: str) -> None:
        if char in _OPEN:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)
            if char == "{":
                inside = bool(self.blocks and self.blocks[-1])
                self.blocks.append(inside or self.words.endswith(_TEMPLATE_END))
        elif char in _CLOSE:
            self.depth -= 1
            if char == "}" and self.blocks:
                self.blocks.pop()


def check_update(
    text: str,
    *,
    max_bytes: int,
    load_allow: Sequence[str] = (),
    service_allow: Sequence[str] = (),
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
    >>> check_update("DROPSILENTALL", max_bytes=100).all_graphs
    True
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise QueryTooLargeError(f"the update is {size} bytes long; the limit is {max_bytes}")
    found = [(k, v) for k, v in tokens(text) if k not in ("ws", "comment")]
    reader = _Reader(prefixes or {})
    for kind, value in found:
        reader.feed(kind, value)
        if reader.deepest > MAX_NESTING:
            raise QueryError(f"the update nests more than {MAX_NESTING} levels deep")
    if reader.load_pending:
        raise LoadRefusedError("LOAD is refused: it must name the IRI to load")
    _check_services(service_targets(found, prefixes or {}), service_allow)
    for url in reader.loads:
        _check_load(url, load_allow)
    return UpdatePlan(frozenset(reader.iris), reader.all_graphs, tuple(reader.loads))


def _check_services(targets: list[str | None], service_allow: Sequence[str]) -> None:
    for target in targets:
        if target is None or not any(target.startswith(p) for p in service_allow):
            shown = "SERVICE" if target is None else f"SERVICE <{target}>"
            raise ServiceRefusedError(
                f"{shown} (federated query) is not allowed on this endpoint"
                + (
                    f"; allowed endpoints start with: {', '.join(service_allow)}"
                    if service_allow
                    else ""
                )
            )


def _check_load(url: str, load_allow: Sequence[str]) -> None:
    if not url.startswith(("http://", "https://")):
        raise LoadRefusedError(f"LOAD <{url}> is refused: only http(s) URLs may be loaded")
    if not any(url.startswith(prefix) for prefix in load_allow):
        allowed = ", ".join(load_allow) if load_allow else "none (the load_allow setting is empty)"
        raise LoadRefusedError(
            f"LOAD <{url}> is refused: the server fetches only from allowed URL prefixes: {allowed}"
        )
