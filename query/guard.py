"""What a query must pass before it reaches pyoxigraph's parser or the network.

pyoxigraph's recursive parser crashes the whole process on a few thousand
nested brackets, and ``SERVICE`` makes real outbound HTTP calls (server-side
request forgery). So the text is read here first, with a small lexer that
follows the SPARQL 1.1 grammar's terminals (IRIs, strings, comments,
variables, prefixed names, blank node labels, language tags) and is linear on
any input. Everything that is none of those is *syntax*: brackets are counted
there, and ``SERVICE`` is looked for there.

Oxigraph needs no space between tokens (``?o.SERVICE<...>`` and even
``trueSERVICE<...>`` are read as a SERVICE call), so any run of letters of the
syntax that contains ``service`` counts as the keyword; its target must then be
an absolute IRI (or a prefixed name that resolves to one) under an allowed
prefix. A variable target (``SERVICE ?x``) or a relative IRI is always refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from ontology.errors import QueryError

#: Deepest nesting of ``{`` / ``(`` / ``[`` accepted: pyoxigraph's recursive
#: parser crashes the process that runs it on a few thousand levels.
MAX_NESTING = 200


class QueryTooLargeError(QueryError):
    """The query text is longer than the configured limit (HTTP 413)."""

    code = "query-too-large"
    http_status = 413


class UpdateRefusedError(QueryError):
    """A SPARQL Update reached a read-only endpoint (HTTP 403)."""

    code = "update-refused"
    http_status = 403


class ServiceRefusedError(QueryError):
    """A federated query (``SERVICE``) to an endpoint that is not allowed (HTTP 400)."""

    code = "service-refused"


# The SPARQL 1.1 grammar's character classes (section 19.8), exactly.
_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_U = _BASE + "_"
_CHARS = _U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PREFIX = f"[{_BASE}](?:[{_CHARS}.]*[{_CHARS}])?"
_LOCAL = f"(?:[{_U}:0-9]|{_PLX})(?:(?:[{_CHARS}.:]|{_PLX})*(?:[{_CHARS}:]|{_PLX}))?"
_ECHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"

_TOKENS = re.compile(
    rf"""
    (?P<ws>[\x20\t\r\n]+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_ECHAR})*>)
  | (?P<quote>'''|\"\"\"|'|\")
  | (?P<var>[?$][{_U}0-9][{_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)
  | (?P<bnode>_:[{_U}0-9](?:[{_CHARS}.]*[{_CHARS}])?)
  | (?P<pname>:(?:{_LOCAL})?)
  | (?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
#: Letters, digits, dots...: a prefixed name if a ':' follows, else words and dots.
_RUN = re.compile(f"[{_BASE}][{_CHARS}.]*")
_PNAME = re.compile(f"(?:{_PREFIX}):(?:{_LOCAL})?")
_WORD_START = re.compile(f"[{_BASE}]")
_PIECES = re.compile(f"[{_BASE}][{_CHARS}]*|.", re.DOTALL)
_PROLOGUE = re.compile(r"^\s*(?:(?:PREFIX\s+[^\s:]*:\s*|BASE\s*)<>\s*)*", re.IGNORECASE)
_UPDATE_START = re.compile(
    r"(?:INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.IGNORECASE
)
_SERVICE_WORD = re.compile(r"^.*?service(silent)?$", re.IGNORECASE | re.DOTALL)
_UNICODE_ESCAPE = re.compile(_ECHAR)
_LOCAL_ESCAPE = re.compile(r"\\(.)")


def tokens(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` for every token; the texts joined give ``text`` back.

    Strings are scanned by hand (escapes, long quotes); an unterminated one
    runs to the end of its line (short) or of the text (long): the parser
    refuses such a query anyway, and the scan stays linear.

    >>> [k for k, _ in tokens("?o.SERVICE<http://x/>")]
    ['var', 'other', 'word', 'iri']
    """
    i, n = 0, len(text)
    while i < n:
        run = _RUN.match(text, i)
        if run is not None:
            name = _PNAME.match(text, i) if text.startswith(":", run.end()) else None
            if name is not None:
                yield "pname", name.group()
                i = name.end()
                continue
            for piece in _PIECES.findall(run.group()):
                yield ("word" if _WORD_START.match(piece) else "other"), piece
            i = run.end()
            continue
        match = _TOKENS.match(text, i)
        assert match is not None  # 'other' matches any character
        kind = match.lastgroup or "other"
        if kind == "quote":
            quote = match.group()
            k = match.end()
            while k < n and not text.startswith(quote, k):
                if len(quote) == 1 and text[k] in "\r\n":
                    break
                k += 2 if text[k] == "\\" else 1
            end = min(n, k + len(quote)) if text.startswith(quote, k) else k
            yield "string", text[i:end]
            i = end
            continue
        yield kind, match.group()
        i = match.end()


def _skeleton(text: str) -> str:
    """The query with strings and IRIs emptied and comments removed: only its syntax.

    >>> _skeleton("SELECT * { ?s <http://x#y> '}' } # {")
    "SELECT * { ?s <> '' }  "
    """
    parts = []
    for kind, value in tokens(text):
        if kind == "iri":
            parts.append("<>")
        elif kind == "string":
            quote = value[:3] if value[:3] in ("'''", '"""') else value[0]
            parts.append(quote * 2)
        elif kind == "comment":
            parts.append(" ")
        else:
            parts.append(value)
    return "".join(parts)


def check_query(
    text: str,
    max_bytes: int,
    *,
    service_allow: Sequence[str] = (),
    prefixes: Mapping[str, str] | None = None,
) -> None:
    """Refuse, before parsing, what must never reach the parser or the network.

    ``service_allow`` lists IRI prefixes of endpoints ``SERVICE`` may call;
    ``prefixes`` are the predefined prefixes the query is parsed with.

    >>> check_query("SELECT * WHERE { ?s ?p '{{{' }", 1000)
    >>> check_query("INSERT DATA { <a> <b> <c> }", 1000)
    Traceback (most recent call last):
    ...
    query.guard.UpdateRefusedError: SPARQL Update is not accepted here: this endpoint is read-only
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise QueryTooLargeError(f"the query is {size} bytes long; the limit is {max_bytes}")
    found = list(tokens(text))
    skeleton = _skeleton(text)
    if _UPDATE_START.match(_PROLOGUE.sub("", skeleton)):
        raise UpdateRefusedError("SPARQL Update is not accepted here: this endpoint is read-only")
    depth = deepest = 0
    for kind, value in found:
        if kind == "other":
            if value in "{([":
                depth += 1
                deepest = max(deepest, depth)
            elif value in "})]":
                depth -= 1
    if deepest > MAX_NESTING:
        raise QueryError(f"the query nests {deepest} levels deep; the limit is {MAX_NESTING}")
    for target in service_targets(found, prefixes or {}):
        if not service_allow:
            raise ServiceRefusedError(
                "SERVICE (federated query) is disabled on this endpoint: it would make the "
                "server call other addresses"
            )
        if target is None or not any(target.startswith(prefix) for prefix in service_allow):
            shown = "a variable or relative IRI" if target is None else f"<{target}>"
            raise ServiceRefusedError(
                f"SERVICE {shown} is not allowed on this endpoint; allowed endpoints start with: "
                + ", ".join(service_allow)
            )


def service_targets(found: list[tuple[str, str]], prefixes: Mapping[str, str]) -> list[str | None]:
    """The absolute IRI each ``SERVICE`` calls, ``None`` where it cannot be known before running.

    >>> service_targets(list(tokens("PREFIX e: <http://a/> SELECT * { SERVICE e:b {} }")), {})
    ['http://a/b']
    >>> service_targets(list(tokens("SELECT * { ?s ?p trueSERVICE ?x {} }")), {})
    [None]
    """
    declared = dict(prefixes)
    significant = [(k, v) for k, v in found if k not in ("ws", "comment")]
    for at, (kind, value) in enumerate(significant[:-2]):
        if kind == "word" and value.upper() == "PREFIX" and significant[at + 1][0] == "pname":
            name, iri = significant[at + 1][1], significant[at + 2]
            if name.endswith(":") and iri[0] == "iri":
                declared[name[:-1]] = _unescape(iri[1][1:-1])
    targets: list[str | None] = []
    for at, (kind, value) in enumerate(significant):
        if kind not in ("word", "langtag") or "service" not in value.lower():
            continue
        shape = _SERVICE_WORD.match(value)
        if shape is None:
            targets.append(None)
            continue
        rest = significant[at + 1 : at + 3]
        if not shape.group(1) and rest and rest[0][0] == "word" and rest[0][1].upper() == "SILENT":
            rest = rest[1:]
        targets.append(_absolute(rest[0], declared) if rest else None)
    return targets


def _absolute(token: tuple[str, str], declared: Mapping[str, str]) -> str | None:
    kind, value = token
    if kind == "iri":
        iri = _unescape(value[1:-1])
    elif kind == "pname":
        prefix, _, local = value.partition(":")
        if prefix not in declared:
            return None
        iri = declared[prefix] + _LOCAL_ESCAPE.sub(r"\1", local)
    else:
        return None
    return iri if re.match(r"^https?://", iri) else None


def _unescape(iri: str) -> str:
    def char(match: re.Match[str]) -> str:
        code = int(match.group()[2:], 16)
        return chr(code) if code <= 0x10FFFF else "\ufffd"

    return _UNICODE_ESCAPE.sub(char, iri)
