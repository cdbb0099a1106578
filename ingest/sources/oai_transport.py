"""The HTTP side of a harvest: every response bounded, retried with back-off, decoded safely.

An httpx transport (httpx's own extension point, so the harvesting library
keeps its client code): each response is read whole, at most
``max_response_bytes`` once decompressed (gzip and deflate are decoded here a
chunk at a time, so a compression bomb stops at the limit; any other
encoding is refused), within ``timeout`` between bytes and
``response_seconds`` in all (a server that drips a byte at a time is cut
off). A 503 or 429 is retried after its ``Retry-After`` (seconds or an HTTP
date, as RFC 9110 allows; capped at ``max_retry_after``), a connection error,
a dropped connection or a timeout after a back-off that doubles;
``retries`` times, then a ``HarvestError`` that says so. (oaipmh-scythe's own
retry reads ``Retry-After`` with ``int()``, which an HTTP date fails, and
waits as long as it says.) A response with a DOCTYPE in its first 64 kB is
refused here, before any parser sees it: the library parses Identify and
ListMetadataFormats answers with lxml (entities not resolved, no DTD loaded),
and the pages are parsed again by defusedxml, which refuses DOCTYPEs anyway.
"""

from __future__ import annotations

import email.utils
import io
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx2

from ontology.errors import HarvestError

_DECODED = frozenset({"gzip", "x-gzip", "deflate"})
#: A DOCTYPE in any of the encodings XML is sent in; it can only stand before the root element.
_DOCTYPES = tuple("<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be"))
#: Bytes at the start of a response searched for a DOCTYPE.
_PROLOG_BYTES = 64 * 1024


@dataclass(frozen=True)
class HarvestLimits:
    """How much one harvest may take; the defaults suit a large repository, tests set small ones."""

    #: Seconds to wait for a connection or for the next bytes of a response.
    timeout: float = 60.0
    #: Seconds one response may take to arrive whole.
    response_seconds: float = 600.0
    #: Bytes of one response, decompressed.
    max_response_bytes: int = 64 * 1024 * 1024
    #: Tries after the first of one request (503/429, a connection error, a page cut short).
    retries: int = 5
    #: The first back-off, doubled at each try, in seconds.
    backoff: float = 2.0
    #: The longest ``Retry-After`` honoured, in seconds (a longer one is waited this long).
    max_retry_after: float = 300.0
    max_pages: int = 100_000
    #: Pages in a row with no record that end the harvest as stuck.
    max_empty_pages: int = 100
    #: Seconds the whole harvest may take (``None``: no limit).
    max_seconds: float | None = None


def retry_after(value: str | None, default: float, cap: float, now: float | None = None) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), within ``[0, cap]``.

    >>> retry_after("7", 2.0, 60.0), retry_after("86400", 2.0, 60.0), retry_after(None, 2.0, 60.0)
    (7.0, 60.0, 2.0)
    >>> retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 2.0, 60.0, now=1445412470.0)
    10.0
    >>> retry_after("soon", 2.0, 60.0)
    2.0
    """
    wait = default
    if value is not None:
        text = value.strip()
        if text.isdigit():
            wait = float(text)
        else:
            try:
                when = email.utils.parsedate_to_datetime(text).timestamp()
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                wait = when - (time.time() if now is None else now)
    return min(max(wait, 0.0), cap)


class GuardedTransport(httpx2.BaseTransport):
    """Retries with back-off, and responses bounded in size and time (see the module docstring)."""

    def __init__(self, limits: HarvestLimits, notice: Callable[[str], None], sleep: Callable[[float], None]) -> None:
        self._inner = httpx2.HTTPTransport(retries=0, trust_env=False)
        self._limits = limits
        self._notice = notice
        self._sleep = sleep

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        limits = self._limits
        attempt = 0
        while True:
            wait = min(limits.backoff * 2**attempt, limits.max_retry_after)
            try:
                response = self._inner.handle_request(request)
                if response.status_code in (429, 503) and attempt < limits.retries:
                    wait = retry_after(response.headers.get("retry-after"), wait, limits.max_retry_after)
                    response.close()
                    self._notice(f"{request.url.host} answered {response.status_code}; "
                                 f"trying again in {wait:.0f} s ({attempt + 1} of {limits.retries})")
                    self._sleep(wait)
                    attempt += 1
                    continue
                if response.status_code in (429, 503):
                    response.close()
                    raise HarvestError(f"{request.url.host} answered {response.status_code} "
                                       f"{limits.retries + 1} times; try again later (what was "
                                       "harvested is kept, and the next run resumes)")
                body = self._body(response, request)
            except httpx2.TransportError as exc:
                if attempt >= limits.retries:
                    raise HarvestError(f"{request.url.host} did not answer: {_what(exc)} "
                                       f"({limits.retries + 1} tries)") from None
                self._notice(f"{request.url.host}: {_what(exc)}; trying again in {wait:.0f} s "
                             f"({attempt + 1} of {limits.retries})")
                self._sleep(wait)
                attempt += 1
                continue
            if any(doctype in body[:_PROLOG_BYTES] for doctype in _DOCTYPES):
                raise HarvestError(
                    f"{request.url.host} sent XML with a DOCTYPE: DOCTYPEs, entity declarations "
                    "and external entities are not allowed (no response reaches a parser with one)")
            headers = [(name, value) for name, value in response.headers.raw
                       if name.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")]
            return httpx2.Response(response.status_code, headers=headers, content=body, request=request)

    def _body(self, response: httpx2.Response, request: httpx2.Request) -> bytes:
        """The whole body, decoded, or an error past the size or time limit."""
        limits = self._limits
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding and encoding != "identity" and encoding not in _DECODED:
            response.close()
            raise HarvestError(f"{request.url.host} sent a body in an encoding not asked for: {encoding}")
        declared = response.headers.get("content-length", "")
        if not encoding and declared.isdigit() and int(declared) > limits.max_response_bytes:
            response.close()
            raise HarvestError(_too_large(request, limits))
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding in _DECODED else None
        body = io.BytesIO()
        deadline = time.monotonic() + limits.response_seconds
        try:
            for chunk in response.stream:
                if decoder is not None:
                    room = limits.max_response_bytes - body.tell()
                    chunk = decoder.decompress(chunk, room + 1)
                    if decoder.unconsumed_tail:
                        raise HarvestError(_too_large(request, limits))
                body.write(chunk)
                if body.tell() > limits.max_response_bytes:
                    raise HarvestError(_too_large(request, limits))
                if time.monotonic() > deadline:
                    raise httpx2.ReadTimeout(f"the response took more than {limits.response_seconds:g} s",
                                             request=request)
        except zlib.error as exc:
            raise HarvestError(f"{request.url.host} sent a damaged {encoding} body: {exc}") from None
        finally:
            response.close()
        return body.getvalue()


def _too_large(request: httpx2.Request, limits: HarvestLimits) -> str:
    return (f"{request.url.host} sent a response of more than {limits.max_response_bytes:,} bytes; "
            "not read")


def _what(exc: httpx2.TransportError) -> str:
    if isinstance(exc, httpx2.TimeoutException):
        return f"no answer in time ({type(exc).__name__}: {exc})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
