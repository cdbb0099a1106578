"""Input files as the operating system hands them over: names are bytes, and not every file is regular.

Names. On Linux a file name is any bytes but ``/`` and NUL, so it need not be
UTF-8 (an export copied from an old Windows share keeps its Latin-1 ``é`` as
the byte 0xE9). Python carries such a byte as a lone surrogate
(``surrogateescape``), which pyoxigraph, SQLite and a UTF-8 report all
refuse: one such name used to end a whole ingest. ``file_label`` gives every
name one printable, valid-Unicode form that reports, messages, provenance
(``cg:sourceFile``) and the record index all use: a UTF-8 name as it is, a
byte that is not UTF-8 as ``\\xNN``, and a backslash as ``\\\\`` so that the
form is unambiguous and ``label_bytes`` gives the name's bytes back. Control
characters (a newline could forge a line of the summary, an escape sequence
could drive the terminal) and the bidirectional controls (which could make a
name read backwards) are written as the ``\\xNN`` of their UTF-8 bytes too.
The form depends on the name alone, so a rerun names a file as the first run
did and finds its records unchanged.

Kinds. ``catalograph ingest`` reads every file more than once (to tell its
format, then once per mapper), which only a regular file allows. A named pipe
(``mkfifo``, or ``<(zcat dump.mrc.gz)`` in bash) named on the command line is
copied to a temporary file first (``spool_pipe``), without waiting for a
writer that never comes; anything else that is not a regular file (a socket,
a device, a dangling symbolic link, a pipe met inside a folder) is named with
what it is (``not_a_file``) and not read.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

#: Characters written as the ``\xNN`` of their UTF-8 bytes: the backslash (the
#: escape itself, written ``\\``), control characters, the bidirectional
#: controls, and the surrogates ``surrogateescape`` gives bytes that are not UTF-8.
_ESCAPED = re.compile(
    "[\\\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\udc80-\udcff]"
)
_ESCAPE = re.compile(rb"\\(\\|x[0-9a-f]{2})")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    if "\udc80" <= char <= "\udcff":  # a byte that is not UTF-8 (``surrogateescape``)
        return f"\\x{ord(char) - 0xDC00:02x}"
    return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8"))


def file_label(path: str | bytes | os.PathLike) -> str:
    r"""How a file is named in reports, messages and provenance: printable, valid Unicode, reversible.

    >>> file_label(b"records/caf\xe9.mrc")  # Latin-1, not UTF-8
    'records/caf\\xe9.mrc'
    >>> file_label("records/café.mrc"), file_label("目録/2024.xml")
    ('records/café.mrc', '目録/2024.xml')
    >>> file_label("a\\b\nc.mrc")  # a backslash, a newline
    'a\\\\b\\x0ac.mrc'
    >>> file_label("oai\ud800.xml")  # a lone surrogate no file name holds: its bytes all the same
    'oai\\xed\\xa0\\x80.xml'
    """
    name = os.fspath(path)
    if isinstance(name, str):
        try:
            name = name.encode("utf-8", "surrogateescape")  # what os.fsencode does on Linux
        except UnicodeEncodeError:
            name = name.encode("utf-8", "surrogatepass")
    return _ESCAPED.sub(_escape, name.decode("utf-8", "surrogateescape"))


def label_bytes(label: str) -> bytes:
    r"""The name ``file_label`` gave ``label`` for, as bytes (``os.fsdecode`` makes it a path).

    >>> label_bytes(file_label(b"caf\xe9 \\x41\x1b.mrc"))
    b'caf\xe9 \\x41\x1b.mrc'
    """

    def unescape(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        return b"\\" if code == b"\\" else bytes([int(code[1:], 16)])

    return _ESCAPE.sub(unescape, label.encode("utf-8"))


_KINDS = (
    (stat.S_ISFIFO, "a named pipe, read only when named on the command line"),
    (stat.S_ISSOCK, "a socket, not a file"),
    (stat.S_ISCHR, "a character device, not a file"),
    (stat.S_ISBLK, "a block device, not a file"),
    # Folders are walked, not read; one reached through a link is not, so no loop is walked.
    (stat.S_ISDIR, "a symbolic link to a folder, not followed (name the folder itself)"),
)


def not_a_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file that can be read, in one phrase; ``None`` if it is one.

    Symbolic links are followed; one that leads nowhere is named with its
    target rather than passed over in silence.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return f"a symbolic link to {file_label(os.readlink(path))}, which does not exist"
        return "no longer exists"
    except OSError as exc:  # a loop of links, a name too long...
        return f"cannot be followed: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return None
    return next((kind for is_kind, kind in _KINDS if is_kind(mode)), "not a regular file")


def is_pipe(path: Path) -> bool:
    """Whether ``path`` is (or links to) a named pipe."""
    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except OSError:
        return False


def spool_pipe(path: Path, folder: Path) -> Path | None:
    """Copy what is written to the named pipe ``path`` into a new file in ``folder``.

    Returns the copy, or ``None`` if nothing was written (the pipe had no
    writer, or its writer wrote nothing). The pipe is opened without waiting
    for a writer: a plain ``open`` of a pipe nobody writes to blocks forever.
    Once open, reading waits for the writer to finish, as ``cat`` does.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(descriptor, True)  # only the open must not wait; reads wait for data
    with (
        os.fdopen(descriptor, "rb") as pipe,
        tempfile.NamedTemporaryFile(dir=folder, prefix="pipe-", delete=False) as copy,
    ):
        shutil.copyfileobj(pipe, copy)
        size = copy.tell()
    if size == 0:
        os.unlink(copy.name)
        return None
    return Path(copy.name)
