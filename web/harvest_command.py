"""``catalograph harvest URL``: an OAI-PMH repository's records into the store, resumably.

The composition root of a harvest: ``ingest.sources.oai_harvest`` yields
pages, ``ingest.pipeline.map_stream`` maps their records (the mapper
``catalograph ingest`` uses for a saved response), and
``web.ingest_command.ingest_items`` writes them, with the same report,
summary and exit codes as ``ingest``. After each page a ``Checkpoint``
records in ``graph.harvest_state`` the token of the next page, once the
writer has committed the page's records; when the harvest ends, where the
next one starts (``--from`` for an incremental harvest).

Which request a run sends:

* ``--restart``: a fresh harvest (``--from`` if given, else the remembered start);
* a harvest of the same (URL, prefix, set) that stopped before its end, and
  no ``--from``/``--until``: resumed from its token (a repository that no
  longer knows it is asked again from that harvest's own ``from``);
* otherwise ``--from`` if given, else the remembered ``next_from``, else everything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TextIO

import click

from graph.harvest_state import HarvestKey, HarvestStates
from ingest.iri import IriMinter
from ingest.model import RecordGraph, Rejected
from ingest.pipeline import map_stream
from ingest.sources.oai_harvest import (
    Harvester,
    HarvestLimits,
    HarvestRequest,
    check_date,
    check_endpoint,
    to_granularity,
)
from ontology.errors import HarvestError, StoreError
from web.config import Settings
from web.ingest_command import Checkpoint, IngestReport, ingest_items, run_reported


def plan_request(
    states: HarvestStates, key: HarvestKey, from_date: str | None, until_date: str | None,
    restart: bool, limits: HarvestLimits,
) -> tuple[HarvestRequest, str | None, str]:
    """``(request, started, how)``: what to send, the first responseDate of a harvest being
    resumed, and a phrase saying which case it is (see the module docstring)."""
    state = states.load(key)
    request = HarvestRequest(key.endpoint, key.metadata_prefix, key.set_spec or None,
                             from_date, until_date, limits=limits)
    resumable = state is not None and state.token and from_date is None and until_date is None
    if resumable and not restart:
        request.resumption_token = state.token
        request.from_date, request.until_date = state.token_from, state.token_until
        return request, state.started, f"resuming after page {state.pages} (token {state.token[:40]!r})"
    if state is not None and state.token:
        states.forget_token(key)  # a new harvest: the unfinished one is not resumed
    if from_date is None and state is not None and state.next_from:
        request.from_date = state.next_from
        return request, None, f"incremental: changes from {state.next_from}"
    return request, None, f"from {from_date}" if from_date else "everything"


def harvest_items(
    request: HarvestRequest,
    states: HarvestStates,
    key: HarvestKey,
    minter: IriMinter,
    report: IngestReport,
    started: str | None,
    say: Callable[[str], None],
    default_source: str = "marc",
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[RecordGraph | Rejected | Checkpoint]:
    """The records of every page, mapped, each page followed by its ``Checkpoint``.

    A ``HarvestError`` ends the stream and is kept in ``report.failure``: what
    was committed stays, and the summary says why the harvest stopped.
    """
    harvester = Harvester(request, notice=say, sleep=sleep)
    pages = records = 0
    try:
        granularity = harvester.granularity()
        if request.resumption_token is None:
            if request.from_date:
                request.from_date = to_granularity(request.from_date, granularity)
            if request.until_date:
                request.until_date = to_granularity(request.until_date, granularity)
        try:
            for page in harvester.pages():
                pages += 1
                records += page.info.records
                report.origin = f"{pages} page(s) of {request.endpoint}"
                started = started or page.info.response_date
                yield from map_stream(page.items, minter, default_source)
                yield Checkpoint(partial(
                    states.page_committed, key, token=page.next_token, token_from=request.from_date,
                    token_until=request.until_date, started=started,
                    latest_datestamp=page.info.latest_datestamp, records=page.info.records,
                ))
                size = page.info.complete_list_size
                say(f"page {page.number}: {page.info.records} records"
                    + (f" ({records:,} of {size:,})" if size else ""))
        except HarvestError as exc:
            if request.resumption_token is None or pages or "badResumptionToken" not in exc.message:
                raise
            say(f"{exc.message}: harvesting again from {request.from_date or 'the start'}")
            states.forget_token(key)
            request.resumption_token = None
            yield from harvest_items(request, states, key, minter, report, None, say,
                                     default_source, sleep)
            return
        next_from = to_granularity(started, granularity) if started else None
        if request.until_date and next_from and request.until_date < next_from:
            next_from = request.until_date
        yield Checkpoint(partial(states.finished, key, next_from))
        if not pages:
            report.origin = f"{request.endpoint} (no records match)"
    except HarvestError as exc:
        report.failure = exc.message + (
            f"; {pages} page(s) were committed, and the same command resumes the harvest"
            if pages else "; nothing was harvested")
    finally:
        harvester.close()


def run_harvest_command(
    settings: Settings,
    url: str,
    *,
    metadata_prefix: str,
    set_spec: str | None,
    from_date: str | None,
    until_date: str | None,
    restart: bool,
    report_path: Path | None,
    quiet: bool,
    limits: HarvestLimits,
) -> int:
    """Harvest ``url`` into the store, print the summary on stderr, return the exit code."""
    endpoint = check_endpoint(url)
    if from_date:
        check_date(from_date, "--from")
    if until_date:
        check_date(until_date, "--until")
    key = HarvestKey(endpoint, metadata_prefix, set_spec or "")
    states = HarvestStates(settings.data_dir)
    request, started, how = plan_request(states, key, from_date, until_date, restart, limits)

    def say(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    say(f"harvesting {endpoint} (metadataPrefix={metadata_prefix}"
        + (f", set={set_spec}" if set_spec else "") + f"): {how}")

    def harvest(report_file: TextIO | None, on_stall: Callable[[StoreError], None]) -> IngestReport:
        report = IngestReport(origin=f"{endpoint} (nothing read)")
        items = harvest_items(request, states, key, IriMinter(settings.base_iri), report, started, say)
        return ingest_items(settings, items, report, report_file=report_file, on_stall=on_stall)

    return run_reported(settings, report_path, harvest)
