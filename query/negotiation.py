"""The one content-negotiation function, for every endpoint and the CLI.

Formats come from pyoxigraph's own tables (``RdfFormat`` and
``QueryResultsFormat``: their media types, aliases and file extensions), so a
format pyoxigraph learns is offered without editing a list here. The only media
type written by hand is HTML, which pyoxigraph does not know; callers offer it
as a plain string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat

from ontology.errors import QueryError, UsageError

Format = RdfFormat | QueryResultsFormat | str

HTML = "text/html"


class NotAcceptableError(QueryError):
    """None of the formats a resource is offered in is acceptable to the client (HTTP 406)."""

    code = "not-acceptable"
    http_status = 406


def _members(cls: type) -> tuple:
    return tuple(getattr(cls, name) for name in dir(cls) if name.isupper())


#: Every RDF format pyoxigraph serialises, in order of preference for ties.
RDF_FORMATS: tuple[RdfFormat, ...] = tuple(
    sorted(
        (f for f in _members(RdfFormat) if f != RdfFormat.STREAMING_JSON_LD),
        key=lambda f: (f != RdfFormat.TURTLE, f != RdfFormat.N_TRIPLES, f.name),
    )
)

#: Every SPARQL results format, JSON first (what most clients expect by default).
RESULTS_FORMATS: tuple[QueryResultsFormat, ...] = tuple(
    sorted(_members(QueryResultsFormat), key=lambda f: (f != QueryResultsFormat.JSON, f.name))
)


def media_type(fmt: Format) -> str:
    """The bare media type (no parameters) of a format."""
    raw = fmt if isinstance(fmt, str) else fmt.media_type
    return raw.split(";", 1)[0].strip().lower()


def content_type(fmt: Format) -> str:
    """The Content-Type header value.

    Every format pyoxigraph writes, and our HTML, is UTF-8 text, so all say so.
    """
    return f"{media_type(fmt)}; charset=utf-8"


@dataclass(frozen=True, slots=True)
class _Range:
    type: str
    subtype: str
    full: str
    q: float
    index: int


def _parse_accept(header: str) -> list[_Range]:
    ranges: list[_Range] = []
    for index, part in enumerate(header.split(",")[:64]):
        pieces = [p.strip() for p in part.split(";")]
        full = pieces[0].lower()
        if "/" not in full:
            continue
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        type_, _, subtype = full.partition("/")
        ranges.append(_Range(type_, subtype, full, q, index))
    return ranges


def _same_kind(a: Format, b: Format) -> bool:
    return type(a) is type(b) and a == b


def _known(media: str, like: Format) -> Format | None:
    """What pyoxigraph calls ``media`` (resolving its aliases), in the family of ``like``."""
    if isinstance(like, str):
        return like if media == like else None
    return type(like).from_media_type(media)


def _specificity(rng: _Range, fmt: Format) -> int:
    """How closely a range names a format: 3 exact or alias, 2 ``type/*``, 1 ``*/*``, 0 no match."""
    bare = media_type(fmt)
    if rng.full == bare:
        return 3
    if rng.subtype != "*" and rng.type != "*":
        return 3 if _same_kind(_known(rng.full, fmt) or "", fmt) else 0
    if rng.type == "*":
        return 1
    return 2 if bare.split("/", 1)[0] == rng.type else 0


def _quality(ranges: list[_Range], fmt: Format) -> tuple[float, int]:
    best: tuple[int, float, int] = (0, 0.0, 0)
    for rng in ranges:
        spec = _specificity(rng, fmt)
        if spec > best[0]:
            best = (spec, rng.q, rng.index)
    return best[1], best[0]


def parse_format(name: str, offered: Sequence[Format]) -> Format | None:
    """A format named by the user (short name, extension or media type) among ``offered``.

    Raises ``UsageError`` for a name no family knows at all; returns ``None`` for a
    known format that is not offered here (the caller answers 406).

    >>> parse_format("ttl", RDF_FORMATS).name
    'Turtle'
    >>> parse_format("application/sparql-results+json", RESULTS_FORMATS).name
    'SPARQL Results in JSON'
    >>> parse_format("csv", RDF_FORMATS) is None
    True
    """
    wanted = name.strip().lower()
    candidates: list[Format] = []
    for fmt in offered:
        if isinstance(fmt, str):
            if wanted in (fmt, fmt.rsplit("/", 1)[-1]):
                candidates.append(fmt)
            continue
        family = type(fmt)
        if "/" in wanted:
            found = family.from_media_type(wanted)
        else:
            found = family.from_extension(wanted)
            if found is None:
                found = next(
                    (m for m in _members(family) if _short(m.name) == _short(wanted)), None
                )
        if found is not None and _same_kind(found, fmt):
            candidates.append(fmt)
    if candidates:
        return candidates[0]
    known = any(
        (f.from_media_type(wanted) if "/" in wanted else f.from_extension(wanted)) is not None
        for f in (RdfFormat, QueryResultsFormat)
    ) or any(_short(m.name) == _short(wanted) for m in RDF_FORMATS + RESULTS_FORMATS)
    if not known and wanted != HTML:
        raise UsageError(
            f"unknown format {name!r}; use a media type or a short name like ttl, json, csv"
        )
    return None


def _short(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum()).removeprefix("sparqlresultsin")


def negotiate(
    accept: str | None, offered: Sequence[Format], format_param: str | None = None
) -> Format:
    """Choose one of ``offered`` for a request.

    An explicit ``format_param`` (``?format=`` or ``--format``; a comma-separated
    list is read as alternatives, first offered wins) beats the Accept header.
    Accept is read with q-values (``q=0`` means "not this"); among equal
    qualities the first offered format wins, so ``offered`` is the server's
    preference order. No Accept header means the first offered format.
    Raises ``NotAcceptableError`` when nothing offered is acceptable.

    >>> negotiate("text/html,application/xml;q=0.9,*/*;q=0.8", [HTML, *RDF_FORMATS])
    'text/html'
    >>> negotiate("application/n-triples, text/turtle;q=0.5", RDF_FORMATS).name
    'N-Triples'
    >>> negotiate("application/json", RESULTS_FORMATS).name
    'SPARQL Results in JSON'
    """
    if format_param:
        return _named(format_param, offered)
    if not accept or not accept.strip():
        return offered[0]
    ranges = _parse_accept(accept)
    best: Format | None = None
    best_q = 0.0
    for fmt in offered:
        q, spec = _quality(ranges, fmt)
        if spec and q > best_q:
            best, best_q = fmt, q
    if best is None:
        raise NotAcceptableError(
            f"nothing offered is acceptable ({accept[:200]!r}); offered: {_names(offered)}"
        )
    return best


def _named(format_param: str, offered: Sequence[Format]) -> Format:
    """The first format named in a comma-separated list that is offered here.

    Clients repeat the parameter or list alternatives (SPARQLWrapper sends
    ``json-ld`` and ``application/ld+json,application/x-json+ld``); names no
    family knows are skipped as long as one is known.
    """
    known = False
    for name in (part.strip() for part in format_param.split(",")):
        if not name:
            continue
        try:
            chosen = parse_format(name, offered)
        except UsageError:
            continue
        known = True
        if chosen is not None:
            return chosen
    if not known:
        raise UsageError(
            f"unknown format {format_param!r}; use a media type or a short name like ttl, json, csv"
        )
    raise NotAcceptableError(
        f"format {format_param!r} is not available here; offered: {_names(offered)}"
    )


def _names(offered: Sequence[Format]) -> str:
    return ", ".join(media_type(f) for f in offered)
