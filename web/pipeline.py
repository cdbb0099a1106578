"""The ingest pipeline: input files -> readers -> mappers -> the store writer.

This is composition, so it lives in ``web`` (the one layer that may use both
``ingest`` and ``graph``). Reading and mapping are pure CPU work in Python, so
they run in worker processes: every file is split between the workers by
record number (worker k maps records k+1, k+1+n, ... while only *framing* the
others, which costs little), and the parent merges their outputs back into file
order before the single writer stores them in batches. File order matters: when
two records name the same graph the later one wins, as in a serial run, so the
store is the same whatever the number of workers.

Queues between workers and parent are bounded, so memory stays flat whatever
the size of the input.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import RecordGraph, Rejected, SourceRecord
from ingest.sources import detect_format, get_source
from ontology.errors import InputError

#: Items a worker sends to the parent in one message.
CHUNK = 64
#: Messages a worker may have in flight before it waits for the parent.
QUEUE_DEPTH = 8


@dataclass
class IngestReport:
    """What an ingest did, for the summary the CLI prints and the exit code."""

    files: int = 0
    read: int = 0
    written: int = 0
    unchanged: int = 0
    superseded: int = 0
    deleted: int = 0
    rejected: int = 0
    quads: int = 0
    warnings: int = 0
    rejected_by_rule: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejected] = field(default_factory=list)
    collisions: list[str] = field(default_factory=list)
    collision_count: int = 0
    skipped_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accounted(self) -> bool:
        """Records read = written + unchanged + replaced + deleted + rejected (the ingest invariant)."""
        return (
            self.read
            == self.written + self.unchanged + self.superseded + self.deleted + self.rejected
        )


@dataclass(frozen=True)
class InputFile:
    path: Path
    name: str
    format: str


def input_files(
    paths: Iterable[Path | str], format_name: str | None = None
) -> tuple[list[InputFile], list[str]]:
    """Expand folders (recursively, sorted, hidden files skipped) and detect each file's format.

    Returns the files to read and, for files no reader claims, one line each
    saying why they were skipped. A path that does not exist is an error.
    """
    files: list[InputFile] = []
    skipped: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"no such file or folder: {path}")
        candidates = (
            sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
            if path.is_dir()
            else [path]
        )
        for candidate in candidates:
            try:
                detected = format_name or detect_format(candidate)
            except OSError as exc:
                skipped.append(f"{candidate}: cannot read: {exc.strerror or exc}")
                continue
            if detected is None:
                if path.is_dir() and candidate.suffix.lower() in {".md", ".txt"}:
                    continue  # a README beside the records is not an input
                skipped.append(f"{candidate}: not a format catalograph reads (MARC21, MARCXML)")
                continue
            files.append(InputFile(candidate, str(candidate), detected))
    return files, skipped


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _shard(k: int, n: int) -> Callable[[int], bool]:
    return lambda number: (number - 1) % n == k


def map_file(
    item: InputFile,
    minter: IriMinter,
    default_source: str,
    select: Callable[[int], bool] | None = None,
) -> Iterator[RecordGraph | Rejected]:
    """Read and map one file (or one worker's share of it), in record order."""
    source = get_source(item.format)
    for record in source.read(item.path, item.name, select=select):
        if isinstance(record, SourceRecord):
            yield map_record(record, minter, default_source)
        else:
            yield record


def _worker_main(
    worker: int, workers: int, tasks: mp.Queue, results: mp.Queue, base: str, default_source: str
) -> None:
    minter = IriMinter(base)
    select = _shard(worker, workers)
    while (task := tasks.get()) is not None:
        try:
            chunk: list[RecordGraph | Rejected] = []
            for mapped in map_file(task, minter, default_source, select):
                chunk.append(mapped)
                if len(chunk) >= CHUNK:
                    results.put(chunk)
                    chunk = []
            results.put(chunk)
            results.put(("done", None))
        except BaseException:  # noqa: BLE001 - reported to the parent, which stops the ingest
            results.put(("error", traceback.format_exc()))


class WorkerPool:
    """``n`` processes that map every file together, each its own share of the records."""

    def __init__(self, workers: int, base: str, default_source: str) -> None:
        context = mp.get_context("spawn")  # never fork a process that may hold a store handle
        self.tasks = [context.Queue() for _ in range(workers)]
        self.results = [context.Queue(QUEUE_DEPTH) for _ in range(workers)]
        self.processes = [
            context.Process(
                target=_worker_main,
                args=(k, workers, self.tasks[k], self.results[k], base, default_source),
                daemon=True,
                name=f"catalograph-map-{k}",
            )
            for k in range(workers)
        ]
        for process in self.processes:
            process.start()

    def map_file(self, item: InputFile) -> Iterator[RecordGraph | Rejected]:
        """Items of ``item`` from all workers, merged back into record order.

        Worker k holds records k+1, k+1+n, ...: taking one item from each in
        turn restores file order, and the first worker with nothing left marks
        the end of the file.
        """
        for queue in self.tasks:
            queue.put(item)
        buffers: list[deque[RecordGraph | Rejected]] = [deque() for _ in self.results]
        done = [False] * len(self.results)
        k = 0
        while self._fill(k, buffers, done):
            yield buffers[k].popleft()
            k = (k + 1) % len(buffers)
        for j in range(len(buffers)):
            while self._fill(j, buffers, done) or not done[j]:
                raise RuntimeError(f"ingest workers disagree on the records of {item.name}")

    def _fill(self, k: int, buffers: list[deque], done: list[bool]) -> bool:
        """Make sure worker k's buffer has an item unless it is done; True if it has one."""
        while not buffers[k] and not done[k]:
            message = self._receive(k)
            if isinstance(message, tuple):
                if message[0] == "error":
                    raise RuntimeError(f"ingest worker {k} failed:\n{message[1]}")
                done[k] = True
            else:
                buffers[k].extend(message)
        return bool(buffers[k])

    def _receive(self, k: int) -> object:
        while True:
            try:
                return self.results[k].get(timeout=5)
            except Exception:  # queue.Empty: check the worker is still alive
                if not self.processes[k].is_alive():
                    raise RuntimeError(
                        f"ingest worker {k} died (exit code {self.processes[k].exitcode})"
                    ) from None

    def close(self) -> None:
        for queue in self.tasks:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()


def default_workers() -> int:
    """Worker processes: one per core.

    The writer thread waits on the disk for part of each bulk load, so the
    workers share every core with it (see docs/benchmarks.md for the rates).
    """
    return max(1, (os.cpu_count() or 1))


def mapped_items(
    files: list[InputFile], base: str, default_source: str, workers: int
) -> Iterator[tuple[InputFile, RecordGraph | Rejected]]:
    """Every record of every file, mapped, in file and record order."""
    if workers <= 1:
        minter = IriMinter(base)
        for item in files:
            for mapped in map_file(item, minter, default_source):
                yield item, mapped
        return
    pool = WorkerPool(workers, base, default_source)
    try:
        for item in files:
            for mapped in pool.map_file(item):
                yield item, mapped
    finally:
        pool.close()
