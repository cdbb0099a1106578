"""``catalograph ingest``: run the pipeline into the store and report what happened."""

from __future__ import annotations

import csv
import multiprocessing
import os
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import click

from graph.compaction import INGEST_COMPACTION_NICE
from graph.writer import BatchResult, Writer
from ingest import PIPELINE_VERSION
from ingest.files import file_label, is_pipe
from ingest.iri import IriMinter
from ingest.model import Position, RecordGraph, Rejected
from ingest.pipeline import default_workers, input_files, mapped_items
from ontology.errors import StoreError, UsageError
from web.association_build import AssociationRefresh, refresh_associations
from web.candidates_command import CandidatesRefresh, mark_owed
from web.candidates_command import refresh_after_ingest as refresh_candidates_after_ingest
from web.config import Settings
from web.mentions_command import MentionRefresh, mark_stale, refresh_after_ingest

#: Rejections printed in the summary; ``--report`` has them all.
SHOWN_REJECTIONS = 20


@dataclass
class IngestReport:
    """What an ingest did, for the summary the CLI prints and the exit code."""

    files: int = 0
    read: int = 0
    written: int = 0
    unchanged: int = 0
    superseded: int = 0
    deleted: int = 0
    #: Of ``deleted``: graphs that were in the store (the rest were deletions of absent records).
    deleted_present: int = 0
    rejected: int = 0
    quads: int = 0
    #: Statements about shared units the written records make, and how many entered or left
    #: the store (a unit statement is stored once, however many records make it).
    unit_statements: int = 0
    unit_statements_added: int = 0
    unit_statements_removed: int = 0
    warnings: int = 0
    rejected_by_rule: Counter[str] = field(default_factory=Counter)
    warned_by_rule: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejected] = field(default_factory=list)
    collisions: list[str] = field(default_factory=list)
    collision_count: int = 0
    skipped_files: list[str] = field(default_factory=list)
    #: The writer compacted the store before publishing its checkpoint (``Writer.compacts``).
    compacted: bool = False
    #: Why the writer did not compact the store although it would have (too little free space).
    compaction_skipped: str | None = None
    seconds: float = 0.0
    #: What keeping the associations in step did (``web.association_build``), for the summary.
    associations: AssociationRefresh | None = None
    #: The match candidates refreshed at the end (``web.candidates_command``), when data changed.
    candidates: CandidatesRefresh | None = None
    #: What keeping the mentions in step did (``web.mentions_command``); ``None``: nothing changed.
    mentions: MentionRefresh | None = None
    #: Where the records came from when not from files (``3 pages of https://...``), for the summary.
    origin: str | None = None
    #: Why a stream ended before its end (a harvest's repository failed), for the summary.
    failure: str | None = None

    @property
    def store_changed(self) -> bool:
        """Some batch wrote or deleted a record graph (a deletion of an absent record changes nothing)."""
        return bool(self.written or self.deleted_present)

    @property
    def changed_data(self) -> bool:
        """Whether the run wrote or deleted anything (else derived graphs have nothing new to see)."""
        return bool(
            self.written or self.deleted_present
            or self.unit_statements_added or self.unit_statements_removed
        )  # fmt: skip

    @property
    def accounted(self) -> bool:
        """Records read = written + unchanged + replaced + deleted + rejected (the ingest invariant)."""
        return (
            self.read
            == self.written + self.unchanged + self.superseded + self.deleted + self.rejected
        )


@dataclass(frozen=True)
class Checkpoint:
    """A mark in a stream of records: ``committed`` runs once everything before it is in the store.

    A harvest puts one after each page, to remember where to resume only when
    the page's records are committed (``web.harvest_command``). It rides on the
    next batch written rather than cutting one short: a batch per page of 150
    records cost a harvest most of its time. The records after it that share
    its batch are committed too, which only means that a resumed harvest may
    fetch them again. A mark older than ``CHECKPOINT_SECONDS`` is written with
    whatever batch there is, so a slow repository's pages are not held back.
    """

    committed: Callable[[], None]


#: The longest a ``Checkpoint`` waits for its batch to fill before it is written anyway.
CHECKPOINT_SECONDS = 30.0

#: The prefix of the temporary folder that named pipes given to an ingest are copied into.
SPOOL_PREFIX = "catalograph-pipes-"


def run_ingest(
    settings: Settings,
    paths: list[Path],
    *,
    format_name: str | None = None,
    default_source: str = "marc",
    workers: int | None = None,
    batch_size: int = 1000,
    report_file: TextIO | None = None,
    progress: bool = False,
    on_stall: Callable[[StoreError], None] | None = None,
    associations: bool = True,
) -> IngestReport:
    """Ingest ``paths`` into the store of ``settings``; the library function behind the command.

    ``associations``: bring the associations up to date at the end (``web.association_build``);
    off only for a benchmark that times that step on its own.

    Named pipes among ``paths`` are copied to a temporary folder first
    (``ingest.files``), which is removed at the end; the folder is made only
    when a pipe is given, so that an ingest killed with ``kill -9`` (which
    removes nothing) leaves no empty folder behind. ``on_stall``: see
    ``graph.store.StoreSession`` (the command ends its process).
    """
    with ExitStack() as cleanup:
        spool = None
        if any(is_pipe(Path(path)) for path in paths):
            spool = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix=SPOOL_PREFIX)))
        return _run_ingest(
            settings,
            paths,
            spool=spool,
            format_name=format_name,
            default_source=default_source,
            workers=workers,
            batch_size=batch_size,
            report_file=report_file,
            progress=progress,
            on_stall=on_stall,
            associations=associations,
        )


def _run_ingest(
    settings: Settings,
    paths: list[Path],
    *,
    spool: Path | None,
    format_name: str | None,
    default_source: str,
    workers: int | None,
    batch_size: int,
    report_file: TextIO | None,
    progress: bool,
    on_stall: Callable[[StoreError], None] | None,
    associations: bool,
) -> IngestReport:
    started = time.perf_counter()
    files, skipped = input_files(paths, format_name, spool)
    report = IngestReport(files=len(files), skipped_files=skipped)
    workers = workers or default_workers()
    items = (item for _file, item in mapped_items(files, settings.base_iri, default_source, workers))
    return ingest_items(
        settings,
        items,
        report,
        batch_size=batch_size,
        report_file=report_file,
        progress=progress,
        on_stall=on_stall,
        associations=associations,
        started=started,
    )


def ingest_items(
    settings: Settings,
    items: Iterable[RecordGraph | Rejected | Checkpoint],
    report: IngestReport,
    *,
    batch_size: int = 1000,
    report_file: TextIO | None = None,
    progress: bool = False,
    on_stall: Callable[[StoreError], None] | None = None,
    associations: bool = True,
    started: float | None = None,
) -> IngestReport:
    """Write mapped records into the store of ``settings``, counting them in ``report``.

    The one loop behind ``catalograph ingest`` (records of files) and
    ``catalograph harvest`` (records of pages, with a ``Checkpoint`` after each).
    """
    started = time.perf_counter() if started is None else started
    report_writer = (
        csv.writer(report_file, delimiter="\t", lineterminator="\n") if report_file else None
    )
    if report_writer:
        report_writer.writerow(["file", "record", "byte", "line", "kind", "rule", "message"])
    minter = IriMinter(settings.base_iri)
    batch: list[RecordGraph] = []
    marks: list[Callable[[], None]] = []  # checkpoints that ride on the next batch
    marked_at = 0.0
    rejecting = threading.Lock()  # the reader's rejections and the writer thread's meet here

    def after_batch() -> Callable[[], None] | None:
        """The checkpoints waiting for the batch about to be submitted, run in order after it."""
        if not marks:
            return None
        ready = tuple(marks)
        marks.clear()

        def run_marks() -> None:
            for committed in ready:
                committed()

        return run_marks

    def reject(item: Rejected) -> None:
        with rejecting:
            report.rejected += 1
            report.rejected_by_rule[item.rule] += 1
            if len(report.rejections) < SHOWN_REJECTIONS:
                report.rejections.append(item)
            if report_writer:
                _report_row(report_writer, item.position, "rejected", item.rule, item.reason)

    with (
        Writer(
            settings.data_dir,
            minter.layout,
            PIPELINE_VERSION,
            compaction_nice=INGEST_COMPACTION_NICE,
            on_stall=on_stall,
            ontology=True,  # the store's copy of the ontology, seeded or brought up to date
        ) as writer,
        _progress(progress) as bar,
    ):
        if writer.recovered:
            click.echo(
                f"recovered from an interrupted ingest: rolled back {len(writer.recovered)} "
                "unfinished record graph(s); they are written again if they are in this input",
                err=True,
            )

        def count(batch_size: int, result: BatchResult) -> None:
            report.written += result.written
            report.unchanged += result.unchanged
            report.superseded += result.superseded
            report.deleted += result.deleted + result.deleted_absent
            report.deleted_present += result.deleted
            report.quads += result.quads
            report.unit_statements += result.unit_statements
            report.unit_statements_added += result.unit_statements_added
            report.unit_statements_removed += result.unit_statements_removed
            room = SHOWN_REJECTIONS - len(report.collisions)
            report.collisions.extend(str(c) for c in result.collisions[: max(room, 0)])
            report.collision_count += result.collision_count
            for item in result.rejected:  # records the store could not take
                reject(item)
            if bar is not None:
                bar.update(batch_size)

        mentions_lag = mark_stale(settings.data_dir)  # before any write: a kill leaves the mark
        candidates_lag = mark_owed(settings.data_dir)  # the same for the match candidates
        background = BackgroundWriter(writer, count)
        try:
            for item in items:
                if isinstance(item, Checkpoint):
                    if not marks:
                        marked_at = time.monotonic()
                    marks.append(item.committed)
                    if time.monotonic() - marked_at > CHECKPOINT_SECONDS:
                        background.submit(batch, after=after_batch())
                        batch = []
                    continue
                report.read += 1
                if isinstance(item, Rejected):
                    reject(item)
                    if bar is not None:
                        bar.update(1)
                    continue
                if item.warnings:
                    report.warnings += len(item.warnings)
                    for warning in item.warnings:
                        report.warned_by_rule[warning.rule] += 1
                        if report_writer:
                            with rejecting:
                                _report_row(
                                    report_writer,
                                    item.position,
                                    "warning",
                                    warning.rule,
                                    warning.message,
                                )
                batch.append(item)
                if len(batch) >= batch_size:
                    background.submit(batch, after=after_batch())
                    batch = []
            if batch or marks:
                background.submit(batch, after=after_batch())
        finally:
            background.close()  # waits for the batch being written: the store stays consistent
        writer.release_memory_past_budget()  # what the batches left, before the store is read at length
        writer.settle_search()  # the search documents the batches left stale, where memory is lowest
        if associations:
            report.associations = refresh_associations(writer, minter.layout, settings.data_dir)
        if report.changed_data or candidates_lag:  # the review queue sees what this run brought in
            writer.release_memory_past_budget()  # each refresh starts from what the ingest needs, not its reads
        report.candidates = refresh_candidates_after_ingest(
            writer, minter.layout, settings.data_dir, report.changed_data or candidates_lag
        )
        if report.store_changed or mentions_lag:
            writer.release_memory_past_budget()
        report.mentions = refresh_after_ingest(
            writer, minter.layout, settings.data_dir, report.store_changed or mentions_lag
        )
        if report.mentions is not None:
            writer.release_memory_past_budget()  # the checkpoint starts from what the session needs
        if bar is not None and writer.compacts():
            bar.close()
            click.echo("compacting the store for readers (this ingest wrote much of it)...", err=True)
    report.compacted = writer.compacted
    report.compaction_skipped = writer.session.compaction_skipped
    report.seconds = time.perf_counter() - started
    return report


class BackgroundWriter:
    """Writes batches in a thread while the caller merges and maps the next one.

    pyoxigraph releases the GIL while it bulk-loads, so writing one batch and
    preparing the next overlap; at most one batch waits, so memory holds two
    batches at most. An error in the thread is raised in the caller at its
    next ``submit`` or at ``close``.
    """

    def __init__(self, writer: Writer, on_result: Callable[[int, BatchResult], None]) -> None:
        self._writer = writer
        self._on_result = on_result
        self._queue: queue.Queue[tuple[list[RecordGraph], Callable[[], None] | None] | None] = (
            queue.Queue(maxsize=1)
        )
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="catalograph-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (task := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain after a failure; the caller raises it
            batch, after = task
            try:
                if batch:
                    self._on_result(len(batch), self._writer.write(batch))
                if after is not None:  # every batch before it is committed: batches go in order
                    after()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                self._error = exc

    def submit(self, batch: list[RecordGraph], after: Callable[[], None] | None = None) -> None:
        """Write ``batch`` (it may be empty), then call ``after`` if everything went in."""
        self._raise_error()
        self._queue.put((batch, after))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def _report_row(writer, position: Position, kind: str, rule: str, message: str) -> None:  # noqa: ANN001
    writer.writerow(
        [
            position.source,
            position.number,
            _blank(position.offset),
            _blank(position.line),
            kind,
            rule,
            message,
        ]
    )


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


@contextmanager
def _progress(enabled: bool) -> Iterator[object | None]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(unit=" records", file=sys.stderr, dynamic_ncols=True, mininterval=0.5) as bar:
        yield bar


def summary(report: IngestReport) -> str:
    """The lines printed at the end of an ingest."""
    rate = report.read / report.seconds if report.seconds else 0.0
    origin = report.origin or f"{report.files} file(s)"
    lines = [
        f"read {report.read} records from {origin} in {report.seconds:.1f} s "
        f"({rate:,.0f} records/s)",
        f"  written    {report.written:>8}  ({report.quads:,} quads in their own graphs, "
        f"{report.unit_statements:,} statements about shared units: "
        f"{report.unit_statements_added:,} new to the store, "
        f"{report.unit_statements_removed:,} no longer made by any record)",
        f"  unchanged  {report.unchanged:>8}",
        f"  replaced   {report.superseded:>8}  (a later record in the input has the same graph)",
        f"  deleted    {report.deleted:>8}",
        f"  rejected   {report.rejected:>8}",
    ]
    for rule, count in report.rejected_by_rule.most_common():
        lines.append(f"    {rule:<26} {count:>6}")
    if report.warnings:
        lines.append(f"  warnings   {report.warnings:>8}  (records stored; see --report for each)")
    for rule, count in report.warned_by_rule.most_common():
        lines.append(f"    {rule:<26} {count:>6}")
    if report.compacted:
        lines.append("  the store was compacted: queries read one table per index")
    if report.compaction_skipped:
        lines.append(f"  {report.compaction_skipped}")
    if report.associations:
        lines.append(f"  {report.associations.summary()}")
    if report.candidates:
        lines.append(f"  {report.candidates.summary()}")
    if report.mentions:
        lines.append(f"  {report.mentions.summary()}")
    if report.rejections:
        lines.append("rejected records:")
        lines.extend(f"  {rejection}" for rejection in report.rejections)
        if report.rejected > len(report.rejections):
            lines.append(
                f"  ... and {report.rejected - len(report.rejections)} more (use --report FILE)"
            )
    if report.collisions:
        lines.append(
            f"records naming the same graph as an earlier one ({report.collision_count}; "
            "the later one is kept):"
        )
        lines.extend(f"  {line}" for line in report.collisions)
        if report.collision_count > len(report.collisions):
            lines.append(f"  ... and {report.collision_count - len(report.collisions)} more")
    if report.skipped_files:
        lines.append("files not read:")
        lines.extend(f"  {line}" for line in report.skipped_files)
    if report.failure:
        lines.append(f"stopped: {report.failure}")
    if not report.accounted:
        lines.append(
            "WARNING: records read != written + unchanged + deleted + rejected; please report this"
        )
    return "\n".join(lines)


def _lower_priority(by: int) -> int | None:
    """Lower this thread's CPU priority by ``by`` (nice); the priority it had, or ``None``.

    An ingest is a batch job: a server on the same machine should keep
    answering while it runs (in one soak-test run each, readers' p95 was
    307 ms with it, 377 ms without); alone, it is as fast. On Linux the priority is per thread,
    and the writer thread and the mapping workers started from this thread
    inherit it. The priority is a courtesy: the ingest goes on without it.
    """
    try:
        before = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, min(19, before + by))
    except OSError:
        return None
    return before


def _restore_priority(before: int | None) -> None:
    """Give the calling thread its priority back (a library caller's thread goes on after
    the ingest); an unprivileged process may not raise it, and then keeps the lower one."""
    if before is not None:
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, before)


def _open_report(path: Path) -> TextIO:
    """The ``--report`` file, opened before any work: a place it cannot go is bad usage (exit 2).

    Text that is not Unicode (a record's bytes quoted in a reason) is written
    backslash-escaped rather than ending the ingest.
    """
    try:
        return path.open("w", encoding="utf-8", errors="backslashreplace", newline="")
    except OSError as exc:
        raise UsageError(
            f"cannot write the report {file_label(path)}: {exc.strerror or exc}"
        ) from None


def run_ingest_command(
    settings: Settings,
    paths: list[Path],
    *,
    format_name: str | None,
    default_source: str,
    workers: int | None,
    batch_size: int,
    report_path: Path | None,
    progress: bool,
) -> int:
    """Run, print the summary on stderr, and return the exit code (1 if anything was rejected)."""

    def ingest(report_file: TextIO | None, on_stall: Callable[[StoreError], None]) -> IngestReport:
        return run_ingest(
            settings,
            paths,
            format_name=format_name,
            default_source=default_source,
            workers=workers,
            batch_size=batch_size,
            report_file=report_file,
            progress=progress,
            on_stall=on_stall,
        )

    return run_reported(settings, report_path, ingest)


def run_reported(
    settings: Settings,
    report_path: Path | None,
    run: Callable[[TextIO | None, Callable[[StoreError], None]], IngestReport],
) -> int:
    """What every command that writes records does around ``run``: its ``--report`` file, a
    lower priority, an end on a full disk, the summary on stderr; returns the exit code."""
    report_file = _open_report(report_path) if report_path else None
    priority = _lower_priority(settings.ingest_nice)

    def end_on_stall(error: StoreError) -> None:
        """The store waits on a full disk in a call nothing can interrupt: say so and end.

        Ending loses nothing (the journal rolls back an unfinished batch at
        the next open, as after a kill), where waiting would hang for ever.
        The mapping workers go too: with no parent to read their queues they
        would wait for ever.
        """
        for worker in multiprocessing.active_children():
            worker.kill()
        if report_file:
            with suppress(OSError, ValueError):
                report_file.flush()
        click.echo(f"Error: {error.message}", err=True)
        with suppress(OSError, ValueError):
            sys.stderr.flush()
        os._exit(error.exit_code)

    try:
        report = run(report_file, end_on_stall)
    finally:
        if report_file:
            report_file.close()
        _restore_priority(priority)
    click.echo(summary(report), err=True)
    return exit_code(report)


def exit_code(report: IngestReport) -> int:
    """0 if every record went in; 1 if any was rejected, a file was not read, or the input failed."""
    failed = report.rejected or report.skipped_files or report.failure or not report.accounted
    return 1 if failed else 0
