"""An OAI-PMH harvest as a stream of pages of records, built on oaipmh-scythe.

oaipmh-scythe (the maintained successor of sickle) builds the requests and
follows the resumption tokens (``Scythe.list_records`` and its iterator's
``_next_response``); it maps OAI error codes to exceptions. Around it, what a
harvest of a repository nobody vouches for needs:

* **Responses bounded and parsed safely.** Every response passes through
  ``ingest.sources.oai_transport.GuardedTransport``: bounded in bytes
  (decompressed too) and in time, retried with back-off. The library
  parses with lxml (``resolve_entities=False``, no DTD loaded, no network) but
  ``recover=True``, which would take a page cut short for a whole one with no
  resumption token and end the harvest early, silently; so each page is read
  again by ``ingest.sources.oai_pmh``'s defusedxml reader, which refuses a
  DOCTYPE, an entity or an external entity, and a page that is not
  well-formed is fetched again (``retries`` times) and then ends the harvest
  with an error.
* **No loops**: a resumption token given twice, or more than ``max_pages``
  pages, or more than ``max_seconds``, ends the harvest with an error.
* **OAI errors in words**: ``noRecordsMatch`` is a harvest of no records;
  the others (``badArgument``, ``badResumptionToken``,
  ``cannotDisseminateFormat``, ``idDoesNotExist``, ``noSetHierarchy``,
  ``noMetadataFormats``, ``badVerb``, any other) end it with a message that
  says what to do.

Pure like the rest of ``ingest``: it yields pages; ``web.harvest_command``
stores them and remembers where to resume.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx2
from oaipmh_scythe import Scythe, exceptions
from oaipmh_scythe.iterator import OAIItemIterator, OAIResponseIterator
from oaipmh_scythe.models import ResumptionToken

from ingest import PIPELINE_VERSION
from ingest.model import Rejected, SourceRecord
from ingest.sources.oai_pmh import PageInfo, read_response
from ingest.sources.oai_transport import GuardedTransport, HarvestLimits
from ontology.errors import HarvestError, UsageError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}Z)?$")


@dataclass
class Page:
    """One page of a harvest: its records (mapped later) and what it says besides."""

    number: int
    items: list[SourceRecord | Rejected]
    info: PageInfo
    #: The token that asks for the next page (``None`` on the last page).
    next_token: str | None = None


@dataclass
class HarvestRequest:
    """What to harvest: the repository, the format, the selection, or where to resume."""

    endpoint: str
    metadata_prefix: str = "oai_dc"
    set_spec: str | None = None
    from_date: str | None = None
    until_date: str | None = None
    resumption_token: str | None = None
    limits: HarvestLimits = field(default_factory=HarvestLimits)


def check_endpoint(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host and no fragment, else a ``UsageError``.

    >>> check_endpoint("https://export.arxiv.org/oai2")
    'https://export.arxiv.org/oai2'
    >>> check_endpoint("file:///etc/passwd")
    Traceback (most recent call last):
    ...
    ontology.errors.UsageError: not an http(s) URL: 'file:///etc/passwd'
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL: {url!r}")
    if parts.fragment or any(ch.isspace() or ord(ch) < 32 for ch in url.strip()):
        raise UsageError(f"not a usable OAI-PMH base URL: {url!r}")
    return url.strip()


def check_date(value: str, option: str) -> str:
    """An OAI-PMH UTC datestamp (``YYYY-MM-DD`` or ``YYYY-MM-DDThh:mm:ssZ``), else a ``UsageError``."""
    if not _DATE.match(value):
        raise UsageError(f"{option} {value!r}: give YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)")
    return value


def to_granularity(datestamp: str, granularity: str | None) -> str:
    """``datestamp`` as precise as the repository takes (``YYYY-MM-DD`` if it says so).

    >>> to_granularity("2013-02-27T09:10:56Z", "YYYY-MM-DD")
    '2013-02-27'
    >>> to_granularity("2013-02-27", "YYYY-MM-DDThh:mm:ssZ")
    '2013-02-27'
    """
    if granularity == "YYYY-MM-DD":
        return datestamp[:10]
    return datestamp


class _CutShort(Exception):
    """A page that is not well-formed XML: fetched again while tries remain."""


class _CheckedPages(OAIResponseIterator):
    """The library's paging, each page read again by our reader and checked for loops."""

    scythe: _Scythe

    def __init__(self, scythe: _Scythe, query: dict[str, str], ignore_deleted: bool = False) -> None:
        self.page: Page | None = None
        self.pages = 0
        self.records = 0
        self.tokens: set[str] = set()
        self.empty = 0  # pages in a row without a record
        self.started = time.monotonic()
        super().__init__(scythe, query, ignore_deleted)

    def _next_response(self) -> None:
        limits = self.scythe.limits
        if self.pages >= limits.max_pages:
            raise HarvestError(f"more than {limits.max_pages:,} pages: stopped (is the repository "
                               "handing out tokens for ever?)")
        if limits.max_seconds is not None and time.monotonic() - self.started > limits.max_seconds:
            raise HarvestError(f"the harvest took more than {limits.max_seconds:g} s: stopped; "
                               "the next run resumes where it stopped")
        for attempt in range(limits.retries + 1):
            try:
                super()._next_response()
                return
            except _CutShort as cut:
                if attempt == limits.retries:
                    raise HarvestError(f"page {self.pages + 1}: {cut} ({limits.retries + 1} tries)") from None
                self.scythe.notice(f"page {self.pages + 1}: {cut}; fetching it again")
                self.scythe.sleep(min(limits.backoff * 2**attempt, limits.max_retry_after))

    def _get_resumption_token(self) -> ResumptionToken | None:
        response = self.oai_response
        info = PageInfo()
        items = list(read_response(io.BytesIO(response.http_response.content), self.scythe.endpoint,
                                   info, self.records + 1))
        if info.failure is not None:
            rule, reason = info.failure
            if rule == "xml-forbidden":
                raise HarvestError(f"page {self.pages + 1}: {reason}")
            raise _CutShort(reason)
        self.pages += 1
        self.records += info.records
        token = info.token or None
        self.empty = 0 if info.records else self.empty + 1
        if token is not None and self.empty >= self.scythe.limits.max_empty_pages:
            raise HarvestError(f"page {self.pages}: {self.empty} pages in a row without a record, "
                               "each with a new token: the harvest is stuck; stopped")
        if token is not None:
            if token in self.tokens:
                raise HarvestError(
                    f"page {self.pages}: the repository gave the resumption token {token[:80]!r} "
                    "again; stopped rather than loop (what was harvested is kept)")
            self.tokens.add(token)
        self.page = Page(self.pages, items, info, token)
        if token is None:
            return None
        return ResumptionToken(token=token, cursor=info.cursor, complete_list_size=info.complete_list_size)

    def __iter__(self) -> Iterator[Page]:  # type: ignore[override]
        while True:
            yield self.page
            if self.resumption_token and self.resumption_token.token:
                self._next_response()
            else:
                return


class _Scythe(Scythe):
    """A ``Scythe`` whose HTTP client goes through ``GuardedTransport``."""

    def __init__(self, endpoint: str, limits: HarvestLimits, notice: Callable[[str], None],
                 sleep: Callable[[float], None]) -> None:
        super().__init__(endpoint, iterator=_CheckedPages)
        self.limits = limits
        self.notice = notice
        self.sleep = sleep
        self._transport = GuardedTransport(limits, notice, sleep)

    @property
    def client(self) -> httpx2.Client:
        if self._client is None or self._client.is_closed:
            self._client = httpx2.Client(
                headers={"Accept": "text/xml, application/xml", "Accept-Encoding": "gzip, deflate",
                         "User-Agent": f"catalograph/{PIPELINE_VERSION} (OAI-PMH harvester)"},
                timeout=self.limits.timeout, transport=self._transport, follow_redirects=True,
                trust_env=False,
            )
        return self._client


class Harvester:
    """One harvest of one repository: ``granularity()`` and ``pages()``."""

    def __init__(self, request: HarvestRequest, notice: Callable[[str], None] = lambda _m: None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.request = request
        self._scythe = _Scythe(check_endpoint(request.endpoint), request.limits, notice, sleep)
        #: The ``responseDate`` of the first page: where the next incremental harvest starts.
        self.first_response_date: str | None = None

    def close(self) -> None:
        self._scythe.close()

    def granularity(self) -> str | None:
        """The datestamp granularity Identify gives (``YYYY-MM-DD`` or ``YYYY-MM-DDThh:mm:ssZ``)."""
        try:
            identify = self._call(self._scythe.identify)
        except HarvestError:
            raise
        except Exception as exc:  # noqa: BLE001 - a repository's Identify is not worth the harvest
            self._scythe.notice(f"Identify gave no granularity ({type(exc).__name__}: {exc}); "
                                "dates are sent as given")
            return None
        return getattr(identify, "granularity", None)

    def pages(self) -> Iterator[Page]:
        """Every page to the last; no page at all when nothing matches (``noRecordsMatch``)."""
        r = self.request
        query = (  # a token stands alone in its request (OAI-PMH 2.0, 3.5)
            {"resumption_token": r.resumption_token, "metadata_prefix": None} if r.resumption_token
            else {"from_": r.from_date, "until": r.until_date, "set_": r.set_spec,
                  "metadata_prefix": r.metadata_prefix}
        )
        try:
            iterator = self._call(self._scythe.list_records, **query)
            pages = iter(self._call(iter, iterator))
            while True:
                page = self._call(next, pages, None)
                if page is None:
                    return
                if self.first_response_date is None:
                    self.first_response_date = page.info.response_date
                yield page
        except exceptions.NoRecordsMatch:
            return

    def _call(self, function, *args, **kwargs):  # noqa: ANN001, ANN202
        """``function(...)`` with the library's errors said in words (``noRecordsMatch`` passes)."""
        r = self.request
        try:
            return function(*args, **kwargs)
        except exceptions.NoRecordsMatch:
            raise
        except exceptions.OAIPMHException as exc:
            raise HarvestError(self._oai_message(exc)) from None
        except httpx2.HTTPStatusError as exc:
            raise HarvestError(f"{r.endpoint} answered HTTP {exc.response.status_code}") from None
        except httpx2.HTTPError as exc:
            raise HarvestError(f"{r.endpoint}: {type(exc).__name__}: {exc}") from None
        except StopIteration:
            return None

    def _oai_message(self, exc: exceptions.OAIPMHException) -> str:
        r = self.request
        said = f" ({' '.join(str(exc).split())})" if str(exc).strip() else ""
        name = type(exc).__name__
        if isinstance(exc, exceptions.CannotDisseminateFormat):
            offered = self._formats()
            return (f"cannotDisseminateFormat: the repository does not offer metadataPrefix="
                    f"{r.metadata_prefix!r}{said}" + (f"; it offers {offered}" if offered else ""))
        if isinstance(exc, exceptions.BadResumptionToken):
            return (f"badResumptionToken: the repository no longer knows the resumption token{said}; "
                    "harvest again with --restart (or --from)")
        if isinstance(exc, exceptions.BadArgument):
            return (f"badArgument: the repository refused the request{said}; check --from, --until "
                    "(its granularity) and --set")
        if isinstance(exc, exceptions.NoSetHierarchy):
            return f"noSetHierarchy: the repository has no sets, so --set {r.set_spec!r} cannot be used{said}"
        if isinstance(exc, exceptions.IdDoesNotExist):
            return f"idDoesNotExist: the repository knows no such identifier{said}"
        if isinstance(exc, exceptions.NoMetadataFormats):
            return f"noMetadataFormats: the repository offers no metadata format for this item{said}"
        if isinstance(exc, exceptions.BadVerb):
            return f"badVerb: {r.endpoint} does not take OAI-PMH requests as sent{said}; is it an OAI-PMH base URL?"
        return f"the repository answered an OAI-PMH error ({name}){said}"

    def _formats(self) -> str:
        try:
            listing = OAIItemIterator(self._scythe, {"verb": "ListMetadataFormats"})
            prefixes = [fmt.metadataPrefix for fmt in listing]
        except Exception:  # noqa: BLE001 - only to enrich a message
            return ""
        return ", ".join(sorted(p for p in prefixes if p))
