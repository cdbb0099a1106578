"""The ingest pipeline: input files -> readers -> mappers -> record graphs, in input order.

Pure, like the rest of ``ingest``: it yields record graphs and rejections;
``web.ingest_command`` (the composition root) hands them to ``graph``'s
writer. Reading and mapping are pure CPU work in Python, so they run in
worker processes: every file is split between the workers by
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
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.files import file_label, is_pipe, not_a_file, spool_pipe
from ingest.iri import IriMinter
from ingest.mapping import map_record
from ingest.model import Position, RecordGraph, Rejected, SourceRecord
from ingest.sources import detect_format, get_source, refusal
from ontology.errors import InputError

#: Items a worker sends to the parent in one message.
CHUNK = 64
#: Messages a worker may have in flight before it waits for the parent.
QUEUE_DEPTH = 8


@dataclass(frozen=True)
class InputFile:
    """A file to read: where its bytes are, how it is named (``ingest.files.file_label``), its format."""

    path: Path
    name: str
    format: str


def input_files(
    paths: Iterable[Path | str], format_name: str | None = None, spool: Path | None = None
) -> tuple[list[InputFile], list[str]]:
    """Expand folders (recursively, sorted, hidden files skipped) and detect each file's format.

    Returns the files to read and, for each file not read, one line naming it
    and saying why (no reader claims it, it cannot be read, it is not a
    regular file). A named pipe given in ``paths`` is copied into the folder
    ``spool`` and read from there (without ``spool`` it is not read); one met
    inside a folder is named, not read. A path that does not exist is an error.
    """
    files: list[InputFile] = []
    skipped: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            problem = not_a_file(path) if path.is_symlink() else "no such file or folder"
            raise InputError(f"{file_label(path)}: {problem}")
        if path.is_dir():
            candidates = _folder_files(path, skipped)
        else:
            readable, problem = _given_file(path, spool)
            if readable is None:
                skipped.append(f"{file_label(path)}: {problem}")
                continue
            candidates = [(readable, file_label(path))]
        for candidate, name in candidates:
            try:
                detected = format_name or detect_format(candidate)
            except OSError as exc:
                skipped.append(f"{name}: cannot read: {exc.strerror or exc}")
                continue
            if detected is None:
                if path.is_dir() and candidate.suffix.lower() in {".md", ".txt"}:
                    continue  # a README beside the records is not an input
                skipped.append(f"{name}: {refusal(candidate)}")
                continue
            files.append(InputFile(candidate, name, detected))
    return files, skipped


def _given_file(path: Path, spool: Path | None) -> tuple[Path | None, str | None]:
    """What to read for a file named in the input: itself, or a named pipe's copy; else why not."""
    if is_pipe(path):
        if spool is None:
            return None, "a named pipe, and no folder to copy it to was given"
        try:
            copied = spool_pipe(path, spool)
        except OSError as exc:
            return None, f"a named pipe that could not be copied: {exc.strerror or exc}"
        if copied is None:
            return None, "a named pipe nothing was written to (start its writer first)"
        return copied, None
    problem = not_a_file(path)
    return (None, problem) if problem is not None else (path, None)


def _folder_files(folder: Path, skipped: list[str]) -> list[tuple[Path, str]]:
    """The regular files under ``folder`` with their names, sorted; the rest named in ``skipped``.

    Hidden files and folders are passed over; anything else that is not a
    regular file (a dangling symbolic link, a named pipe, a socket, a link
    to a folder, which is not followed) is named with what it is.
    """
    found: list[tuple[Path, str]] = []
    for entry in sorted(folder.rglob("*")):
        if _hidden(entry, folder) or (entry.is_dir() and not entry.is_symlink()):
            continue  # a folder's files come on their own
        problem = not_a_file(entry)
        if problem is not None:
            skipped.append(f"{file_label(entry)}: {problem}")
        else:
            found.append((entry, file_label(entry)))
    return found


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _shard(residues: tuple[int, ...], modulus: int) -> Callable[[int], bool]:
    """Records whose number - 1 leaves one of ``residues`` modulo ``modulus``."""
    if len(residues) == 1:
        only = residues[0]
        return lambda number: (number - 1) % modulus == only
    chosen = frozenset(residues)
    return lambda number: (number - 1) % modulus in chosen


def map_file(
    item: InputFile,
    minter: IriMinter,
    default_source: str,
    select: Callable[[int], bool] | None = None,
) -> Iterator[RecordGraph | Rejected]:
    """Read and map one file (or one worker's share of it), in record order.

    A file that fails to read (an I/O error, a file removed since it was
    listed) costs only what was not read yet: one rejection (rule
    ``unreadable``) stands for the rest of it, as for a damaged compressed
    stream, and the ingest goes on with the next file. Every mapper frames
    every record, so all agree on where it failed and its owner reports it.
    """
    source = get_source(item.format)
    framed = 0  # the last record number the reader reached

    def counted(number: int) -> bool:
        nonlocal framed
        framed = max(framed, number)
        return select is None or select(number)

    try:
        yield from map_stream(
            source.read(item.path, item.name, select=counted), minter, default_source
        )
    except OSError as exc:
        failed = framed + 1
        if select is None or select(failed):
            reason = (
                f"cannot read the file: {exc.strerror or exc}; the rest of the file is not read"
            )
            yield Rejected(Position(item.name, failed), "unreadable", reason)


def map_stream(
    items: Iterable[SourceRecord | Rejected], minter: IriMinter, default_source: str
) -> Iterator[RecordGraph | Rejected]:
    """Map the records of a stream that is not a file (a harvest, a JSON API's pages), in order."""
    for record in items:
        yield map_record(record, minter, default_source) if isinstance(record, SourceRecord) else record


def _worker_main(
    residues: tuple[int, ...],
    modulus: int,
    tasks: mp.Queue,
    results: mp.Queue,
    base: str,
    default_source: str,
) -> None:
    minter = IriMinter(base)
    select = _shard(residues, modulus)
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
    """Every file mapped by the parent and ``processes`` worker processes, merged in order.

    Records are dealt out by number: of every ``1 + 2 * processes`` records
    the parent maps one and each worker two. Mapping a share in the parent
    saves a process (each holds ~60 MB of interpreter, pymarc and
    pyoxigraph); its share is the smaller one because the parent also merges
    the workers' output and feeds the writer thread.
    """

    #: Records of every cycle mapped by each worker process (the parent maps one).
    PER_WORKER = 2

    def __init__(self, processes: int, base: str, default_source: str) -> None:
        context = mp.get_context("spawn")  # never fork a process that may hold a store handle
        self.modulus = 1 + self.PER_WORKER * processes
        #: residue -> who maps it: 0 the parent, k >= 1 worker process k
        self.owners = [0] + [1 + (r - 1) // self.PER_WORKER for r in range(1, self.modulus)]
        self.minter = IriMinter(base)
        self.default_source = default_source
        self.tasks = [context.Queue() for _ in range(processes)]
        self.results = [context.Queue(QUEUE_DEPTH) for _ in range(processes)]
        self.processes = []
        for k in range(1, processes + 1):
            residues = tuple(r for r, owner in enumerate(self.owners) if owner == k)
            self.processes.append(
                context.Process(
                    target=_worker_main,
                    args=(
                        residues,
                        self.modulus,
                        self.tasks[k - 1],
                        self.results[k - 1],
                        base,
                        default_source,
                    ),
                    daemon=True,
                    name=f"catalograph-map-{k}",
                )
            )
        for process in self.processes:
            process.start()

    def map_file(self, item: InputFile) -> Iterator[RecordGraph | Rejected]:
        """Items of ``item`` from the parent and the workers, merged back into record order.

        Each mapper yields its records in file order, so taking the next item
        from the owner of each residue in turn restores the order, and the
        first owner with nothing left marks the end of the file.
        """
        for queue in self.tasks:
            queue.put(item)
        local = map_file(item, self.minter, self.default_source, _shard((0,), self.modulus))
        owners = len(self.processes) + 1
        buffers: list[deque[RecordGraph | Rejected]] = [deque() for _ in range(owners)]
        done = [False] * owners
        r = 0
        while self._fill(self.owners[r], buffers, done, local):
            yield buffers[self.owners[r]].popleft()
            r = (r + 1) % self.modulus
        for k in range(owners):
            while self._fill(k, buffers, done, local) or not done[k]:
                raise RuntimeError(f"ingest workers disagree on the records of {item.name}")

    def _fill(
        self,
        k: int,
        buffers: list[deque],
        done: list[bool],
        local: Iterator[RecordGraph | Rejected],
    ) -> bool:
        """Make sure mapper k's buffer has an item unless it is done; True if it has one."""
        while not buffers[k] and not done[k]:
            if k == 0:
                mapped = next(local, None)
                if mapped is None:
                    done[0] = True
                else:
                    buffers[0].append(mapped)
                continue
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
                return self.results[k - 1].get(timeout=5)
            except Exception:  # queue.Empty: check the worker is still alive
                process = self.processes[k - 1]
                if not process.is_alive():
                    raise RuntimeError(
                        f"ingest worker {k} died (exit code {process.exitcode})"
                    ) from None

    def close(self) -> None:
        for queue in self.tasks:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()


def default_workers() -> int:
    """Mappers: one per core but one, the parent being one of them (``WorkerPool``).

    The writer thread's bulk loads and RocksDB's compactions need about a
    core of their own: on 2 cores, one mapper (the parent, no worker
    process) ingested as fast as two and with 60-80 MB less memory
    (docs/benchmarks.md).
    """
    return max(1, (os.cpu_count() or 1) - 1)


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
    pool = WorkerPool(workers - 1, base, default_source)
    try:
        for item in files:
            for mapped in pool.map_file(item):
                yield item, mapped
    finally:
        pool.close()
