"""The limits of resource pages and their RDF twins (and of any page or API to come).

A heavily used resource once made a page of a megabyte in seconds of a
server thread, and a dozen such requests held every thread, so that even
``/-/health`` went unanswered for minutes. Now a page request passes, in
order: the client's own count (at most ``max_client_queries`` pages in
progress per address, counted apart from its SPARQL queries; one more: 429),
a slot among ``max_page_requests``, waiting in line for one (at most
``page_queue`` requests wait, each until its ``page_timeout_s``; a freed
slot goes to the client with the least recent page time; the
``max_page_requests + page_queue`` threads this can hold are fewer than the
server's, so pages never hold them all; beyond the line, or past the
deadline, 503 with ``Retry-After``), then its
store questions run in a query worker (``web.limits.run_in_worker``) that is
killed at ``page_timeout_s`` (503, saying so). What it gathers is bounded by
``query.listings.Paging`` (``page_list_size`` items per list), and the twin
by ``max_rows`` triples and ``max_response_bytes`` bytes, as SPARQL answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, current_app

from ontology.errors import QueryError
from query.execution import Answer, QueryTimeoutError
from query.listings import Paging
from query.resource_job import Candidate, ResourceAnswer, ResourceJob
from query.worker import WorkerJob
from web.limits import ClientLimiter, client_address, run_in_worker
from web.state import app_state, store_holder

log = logging.getLogger(__name__)
_EXTENSION = "catalograph.pages"
_CREATING = threading.Lock()


class PagesBusyError(QueryError):
    """Every page slot is taken (HTTP 503 with Retry-After)."""

    http_status = 503
    retry_after = 1


class PageTimeoutError(QueryError):
    """A page or twin was not ready by its deadline, and its worker was stopped (HTTP 503)."""

    http_status = 503


class PageTooLargeError(QueryError):
    """A page came out larger than an answer may be, despite its bounded lists (HTTP 503).

    Lists are cut to ``page_list_size`` and texts to ``query.resources.MAX_TEXT``, so
    only very long labels or IRIs in many places can get here.
    """

    http_status = 503


#: How fast a client's recent page time is forgotten (half-life, seconds).
COST_HALF_LIFE_S = 10.0
#: Clients whose recent page time is remembered; the least recently seen are forgotten first.
MAX_REMEMBERED_CLIENTS = 10_000


class RecentCost:
    """Each client's recent page time: seconds spent on its pages, halving every ``half_life_s``.

    Bounded: at most ``limit`` clients, the least recently seen forgotten first
    (a forgotten client simply starts again at zero).
    """

    def __init__(self, half_life_s: float = COST_HALF_LIFE_S, limit: int = MAX_REMEMBERED_CLIENTS):
        self.half_life_s = half_life_s
        self.limit = limit
        self._costs: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client: (cost, when)

    def of(self, client: str, now: float) -> float:
        cost, when = self._costs.get(client, (0.0, now))
        return cost * 0.5 ** ((now - when) / self.half_life_s)

    def add(self, client: str, seconds: float, now: float) -> None:
        self._costs[client] = (self.of(client, now) + seconds, now)
        self._costs.move_to_end(client)
        while len(self._costs) > self.limit:
            self._costs.popitem(last=False)


class _Waiting:
    """One request in the line: its client, and when it came (ties go to the earliest)."""

    __slots__ = ("client", "came")

    def __init__(self, client: str, came: float) -> None:
        self.client = client
        self.came = came


class PageLimits:
    """How many pages are being prepared, in all (``slots``) and per client (``per_client``),
    and how many may wait for a slot (``queue``, each at most ``wait_s``).

    Why a line and not a refusal when the slots are taken: pages are bounded
    (tenths of a second), so a slot frees soon; refusing at once made a
    reader's small page fail whenever three clients were paging heavy works.

    Why the line is not first come, first served: a client that asks for
    heavy page after heavy page, as fast as they come, would be in the line
    at every moment and take most slots, and a reader's small page would wait
    behind its pages. A freed slot goes to the waiting client that has spent
    the least page time recently (``RecentCost``), then to the earliest: a
    reader who asks now and then goes first, a crawler takes what is left.
    """

    def __init__(self, slots: int, per_client: int, queue: int = 0, wait_s: float = 0.0) -> None:
        self.slots = slots
        self.queue = queue
        self.wait_s = wait_s
        self._taken = 0
        self._line: list[_Waiting] = []
        self._freed = threading.Condition()
        self.costs = RecentCost()
        self.clients = ClientLimiter(per_client)

    @classmethod
    def of(cls, app: Flask) -> PageLimits:
        """The limits of ``app``, made on its first page."""
        found = app.extensions.get(_EXTENSION)
        if found is None:
            with _CREATING:
                found = app.extensions.get(_EXTENSION)
                if found is None:
                    settings = app_state(app).settings
                    held = settings.max_page_requests + settings.page_queue
                    if held >= settings.threads:
                        log.warning(
                            "max_page_requests + page_queue (%d) >= threads (%d): pages may "
                            "hold every thread, and /-/health wait for them",
                            held,
                            settings.threads,
                        )
                    found = cls(
                        settings.max_page_requests,
                        settings.max_client_queries,
                        queue=settings.page_queue,
                        wait_s=settings.page_timeout_s,
                    )
                    app.extensions[_EXTENSION] = found
        return found

    def in_progress(self) -> int:
        with self._freed:
            return self._taken

    def waiting(self) -> int:
        with self._freed:
            return len(self._line)

    @contextmanager
    def slot(self, client: str) -> Iterator[None]:
        """Hold one of ``client``'s page slots and one of the server's while the block runs."""
        with self.clients.slot(client):
            self._take(client)
            began = time.monotonic()
            try:
                yield
            finally:
                with self._freed:
                    now = time.monotonic()
                    self.costs.add(client, now - began, now)
                    self._taken -= 1
                    self._freed.notify_all()

    def _next(self, now: float) -> _Waiting:
        """Who gets the next free slot: the least recent page time, then the earliest."""
        return min(self._line, key=lambda w: (self.costs.of(w.client, now), w.came))

    def _take(self, client: str) -> None:
        """A server slot now, or after waiting in line; ``PagesBusyError`` when neither."""
        with self._freed:
            if self._taken < self.slots and not self._line:
                self._taken += 1
                return
            if len(self._line) >= self.queue:
                raise PagesBusyError(
                    f"the server is preparing {self._taken} pages and {len(self._line)} "
                    "wait, the most it takes at once; try again in a moment"
                )
            me = _Waiting(client, time.monotonic())
            self._line.append(me)
            deadline = me.came + self.wait_s
            try:
                while not (self._taken < self.slots and self._next(time.monotonic()) is me):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise PagesBusyError(
                            f"no page slot freed within {self.wait_s:g} s (the server is "
                            "busy); try again in a moment"
                        )
                    self._freed.wait(left)
                self._taken += 1
            finally:
                self._line.remove(me)
                self._freed.notify_all()  # another in line may now be next


def answer_resource(
    base: str, candidates: list[Candidate], paging: Paging
) -> ResourceAnswer | None:
    """Gather a page or twin for the first of ``candidates`` the store knows, under the limits."""
    settings = app_state().settings
    return answer_job(
        lambda store_path: ResourceJob(
            store_path,
            base,
            tuple(candidates),
            paging,
            max_triples=settings.max_rows,
            max_bytes=settings.max_response_bytes,
        ),
        what="this page",
        hint="ask /sparql for what you need",
    )


def answer_job(make_job: Callable[[str], WorkerJob[Answer]], what: str, hint: str = "") -> Answer:
    """Answer a job that reads the store (a page, a twin, a reconciliation batch) under the
    page limits, in a query worker.

    One deadline, ``page_timeout_s``, counts from the request's arrival: the
    wait in line for a slot, then for a worker, then the work.
    """
    settings = app_state().settings
    arrived = time.monotonic()
    limits = PageLimits.of(current_app._get_current_object())  # the app, not its proxy
    with limits.slot(client_address()):
        left = settings.page_timeout_s - (time.monotonic() - arrived)
        try:
            if left <= 0:
                raise QueryTimeoutError("no time left after the wait for a page slot")
            outcome = run_in_worker(store_holder(), make_job, left)
        except QueryTimeoutError:
            raise PageTimeoutError(
                f"{what} was not ready within its {settings.page_timeout_s:g} s deadline "
                "and was stopped (the server may be busy); try again in a moment"
                + (f", or {hint}" if hint else "")
            ) from None
    return outcome.result
