"""Input files as users and attackers hand them over: odd names, files that fail, things that are not files.

Through the real ``catalograph`` command, against a real store on disk. File
names are bytes (Linux takes any but ``/`` and NUL), so the fixtures are made
here, in the test's own folder.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyoxigraph import Store

from ingest.files import file_label, label_bytes
from ontology.namespaces import CG
from tests.conftest import ROOT, test_path
from tests.test_cli_ingest import catalograph, sorted_dump

#: 8 records: 3 rejected, 3 stored with a warning (test_cli_ingest.py), 4 naming one graph.
BAD_RECORDS = test_path("broken/pymarc/bad_records.mrc")
GEORGE_ELIOT = test_path("marc/traject/george_eliot.marc")
NATURE = test_path("marc/traject/nature.marc")
#: A run that hangs fails after this long. An ingest of these few records takes
#: about 2 s, so the bound is generous even on a loaded 2-core machine.
HANG = 90


def source_files(data_dir: Path) -> set[str]:
    """Every ``cg:sourceFile`` of the latest checkpoint."""
    from graph.snapshots import latest_snapshot

    store = Store.read_only(str(latest_snapshot(data_dir)))
    answer = store.query(f"SELECT DISTINCT ?f WHERE {{ GRAPH ?m {{ ?g {CG.sourceFile} ?f }} }}")
    return {row["f"].value for row in answer}


def summary_lines(stderr: str, heading: str) -> list[str]:
    return stderr.split(f"{heading}\n", 1)[1].rstrip().splitlines()


def test_a_file_name_that_is_not_utf8_is_carried_everywhere_and_loses_nothing(
    tmp_path: Path,
) -> None:
    """0xE9 and 0xFF are not UTF-8: the name reaches provenance, report and summary as ``\\xNN``.

    Before, the provenance literal of such a name ended the ingest with an
    internal error and the batch, with the other file's record, was rolled back.
    """
    folder = tmp_path / "export"
    folder.mkdir()
    odd = folder / os.fsdecode(b"caf\xe9 \xff.mrc")
    shutil.copy(BAD_RECORDS, odd)
    label = file_label(odd)
    assert label == f"{folder}/caf\\xe9 \\xff.mrc"
    assert label_bytes(label) == os.fsencode(odd)  # the label names exactly this file

    data = tmp_path / "data"
    report = tmp_path / "report.tsv"
    args = ("--report", str(report), str(folder), str(GEORGE_ELIOT))
    done = catalograph(data, "ingest", "--workers", "2", *args)
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr  # bad_records.mrc has rejected records
    assert "read 9 records from 2 file(s)" in done.stderr, done.stderr
    assert "WARNING: records read !=" not in done.stderr
    assert f"  {label}: record 4 at byte 381: directory:" in done.stderr
    assert source_files(data) == {label, str(GEORGE_ELIOT)}

    with report.open(encoding="utf-8") as handle:  # strict UTF-8: it must decode
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [(row["file"], row["record"], row["kind"]) for row in rows] == [
        (label, "2", "warning"),
        (label, "3", "warning"),
        (label, "4", "rejected"),
        (label, "5", "rejected"),
        (label, "6", "warning"),
        (label, "7", "rejected"),
    ]

    first = sorted_dump(data)
    again = catalograph(data, "ingest", "--workers", "1", *args)
    assert again.returncode == 1, again.stderr
    assert "written           0" in again.stderr, again.stderr  # the same file, recognised
    assert sorted_dump(data) == first  # provenance times included: nothing was rewritten


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_that_fails_to_read_costs_only_what_it_did_not_read(
    tmp_path: Path, workers: int
) -> None:
    """An I/O error is one rejection naming the file; the files around it are stored.

    ``/proc/self/mem`` is a regular file whose first byte no process can read
    (EIO from the kernel): a real I/O error, with no stand-in. Before, it
    ended the ingest with an internal error and the records already read were lost.
    """
    if not Path("/proc/self/mem").is_file():
        pytest.skip("needs Linux's /proc/self/mem to produce a real I/O error")
    failing = tmp_path / "failing.mrc"
    failing.symlink_to("/proc/self/mem")
    data = tmp_path / "data"
    done = catalograph(
        data, "ingest", "--format", "marc", "--workers", str(workers),
        str(GEORGE_ELIOT), str(failing), str(NATURE),
    )  # fmt: skip
    assert "internal error" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    assert "read 3 records from 3 file(s)" in done.stderr, done.stderr
    assert "written           2" in done.stderr and "rejected          1" in done.stderr
    assert (
        f"  {failing}: record 1: unreadable: cannot read the file: Input/output error; "
        "the rest of the file is not read"
    ) in done.stderr
    assert source_files(data) == {str(GEORGE_ELIOT), str(NATURE)}


def run_with_deadline(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """``catalograph`` that fails the test if it hangs (``HANG``)."""
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=HANG,
    )  # fmt: skip


def test_a_named_pipe_is_read_as_a_stream_and_one_nobody_writes_to_does_not_hang(
    tmp_path: Path,
) -> None:
    """``mkfifo`` pipes on the command line: one fed while it is read, one with no writer.

    Before, opening the pipe nobody writes to blocked forever.
    """
    fed = tmp_path / "fed.mrc"
    silent = tmp_path / "silent.mrc"
    os.mkfifo(fed)
    os.mkfifo(silent)
    # Held open for writing before the ingest starts, so the pipe has a writer
    # whenever it is opened; the records are larger than a pipe's buffer.
    records = b"".join(path.read_bytes() for path in (GEORGE_ELIOT, NATURE)) * 40
    assert len(records) > 64 * 1024
    writer_end = os.open(fed, os.O_RDWR)

    def feed() -> None:
        with os.fdopen(writer_end, "wb") as pipe:
            pipe.write(records)

    feeding = threading.Thread(target=feed, daemon=True)
    feeding.start()
    done = run_with_deadline(tmp_path / "data", "ingest", str(fed), str(silent), str(NATURE))
    feeding.join(timeout=HANG)
    assert done.returncode == 1, done.stderr  # a file was not read
    assert "read 81 records from 2 file(s)" in done.stderr, done.stderr
    assert "rejected          0" in done.stderr
    assert summary_lines(done.stderr, "files not read:") == [
        f"  {silent}: a named pipe nothing was written to (start its writer first)"
    ]
    assert source_files(tmp_path / "data") == {str(fed), str(NATURE)}


def test_a_stream_from_process_substitution_is_read(tmp_path: Path) -> None:
    """``catalograph ingest <(zcat dump.mrc.gz)``: bash hands over a pipe as ``/dev/fd/N``."""
    if shutil.which("bash") is None or shutil.which("gzip") is None:
        pytest.skip("needs bash and gzip")
    command = (
        f"exec {sys.executable} -m web.cli --data-dir {tmp_path / 'data'} ingest "
        f"<(gzip -c {GEORGE_ELIOT})"
    )
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=HANG
    )
    assert done.returncode == 0, done.stderr
    assert "written           1" in done.stderr, done.stderr
    (name,) = source_files(tmp_path / "data")
    assert name.startswith("/dev/fd/")


def test_what_a_folder_holds_that_is_not_a_file_is_named(tmp_path: Path) -> None:
    """Before, a dangling link, a pipe, a socket and a linked folder were passed over in silence."""
    folder = tmp_path / "export"
    (folder / ".hidden").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(NATURE, elsewhere / "nature.mrc")
    shutil.copy(GEORGE_ELIOT, folder / "george_eliot.mrc")
    (folder / "dangling.mrc").symlink_to(tmp_path / "removed.mrc")
    (folder / "linked").symlink_to(elsewhere)
    os.mkfifo(folder / "pipe.mrc")  # nobody writes to it: reading it would block
    (folder / ".hidden" / "dangling.mrc").symlink_to(tmp_path / "removed.mrc")  # hidden: silent
    listening = socket.socket(socket.AF_UNIX)
    try:
        listening.bind(str(folder / "socket"))
        done = run_with_deadline(tmp_path / "data", "ingest", str(folder))
    finally:
        listening.close()
    assert done.returncode == 1, done.stderr
    assert "read 1 records from 1 file(s)" in done.stderr, done.stderr
    assert summary_lines(done.stderr, "files not read:") == [
        f"  {folder / 'dangling.mrc'}: a symbolic link to {tmp_path / 'removed.mrc'}, "
        "which does not exist",
        f"  {folder / 'linked'}: a symbolic link to a folder, not followed (name the folder itself)",
        f"  {folder / 'pipe.mrc'}: a named pipe, read only when named on the command line",
        f"  {folder / 'socket'}: a socket, not a file",
    ]


@pytest.mark.parametrize("where", ["missing/report.tsv", "a-file/report.tsv"])
def test_a_report_that_cannot_be_written_is_bad_usage(tmp_path: Path, where: str) -> None:
    """Before, ``--report`` into a missing folder was an "internal error" (exit 1)."""
    (tmp_path / "a-file").write_text("not a folder\n")
    report = tmp_path / where
    done = catalograph(tmp_path / "data", "ingest", "--report", str(report), str(NATURE))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"Error: cannot write the report {report}: "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@given(st.binary(max_size=40).filter(lambda name: b"\x00" not in name))
def test_every_name_has_one_printable_label_that_gives_its_bytes_back(name: bytes) -> None:
    """Any bytes a Linux name may hold: a label the store and a UTF-8 report take, and no other name's."""
    label = file_label(name)
    label.encode("utf-8")  # strict: no lone surrogate reaches pyoxigraph, SQLite or the report
    assert not any(unicodedata.category(char) == "Cc" for char in label)  # no control character
    assert label_bytes(label) == name
    assert file_label(os.fsdecode(name)) == label  # the same name as bytes or as Python's str


class _SpoolWatch(io.StringIO):
    """A report file that notes, each time the ingest writes to it, the pipe folders that exist."""

    def __init__(self, folder: Path, prefix: str) -> None:
        super().__init__()
        self.folder = folder
        self.prefix = prefix
        self.seen: set[str] = set()

    def write(self, text: str) -> int:
        self.seen |= {path.name for path in self.folder.glob(f"{self.prefix}*")}
        return super().write(text)


@pytest.mark.parametrize("through_a_pipe", [False, True], ids=["a file", "a pipe"])
def test_a_folder_for_pipes_is_made_only_for_a_pipe_and_removed_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, through_a_pipe: bool
) -> None:
    """Before, every ingest made an empty temporary folder, and one killed with ``kill -9``
    (which removes nothing) left it behind: 29 of them in /tmp after a day of tests."""
    from web.config import load_settings
    from web.ingest_command import SPOOL_PREFIX, run_ingest

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    # 3 records rejected (written to the report during the run), then more than a
    # pipe's buffer, so that the writer below is still writing when the ingest opens it
    records = BAD_RECORDS.read_bytes() + (GEORGE_ELIOT.read_bytes() + NATURE.read_bytes()) * 40
    assert len(records) > 64 * 1024
    given = tmp_path / "records.mrc"
    if not through_a_pipe:
        given.write_bytes(records)
    else:
        os.mkfifo(given)
        writer_end = os.open(given, os.O_RDWR)  # a writer before the ingest opens the pipe

        def feed() -> None:
            with os.fdopen(writer_end, "wb") as pipe:
                pipe.write(records)

        threading.Thread(target=feed, daemon=True).start()
    watch = _SpoolWatch(temporary, SPOOL_PREFIX)
    report = run_ingest(
        load_settings(env={}, data_dir=tmp_path / "data"),
        [given],
        workers=1,
        report_file=watch,
        associations=False,
    )
    assert report.rejected == 3 and watch.getvalue(), watch.getvalue()  # written during the run
    assert bool(watch.seen) is through_a_pipe, watch.seen
    assert list(temporary.iterdir()) == []
