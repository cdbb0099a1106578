"""Compressed inputs (gzip, bzip2, xz), read as the stream they hold.

Library data dumps usually come compressed (``records.mrc.gz``, ``dump.xml.bz2``).
The compression is told from the first bytes, as the format is, never from the
name, and the file is decompressed as it is read, so memory stays flat however
large it is. Byte offsets in reports then count bytes of the decompressed
stream.

A damaged or truncated compressed stream must not cost the records before the
damage: :class:`InputStream` turns the decompressor's error into an end of
file and keeps the reason in ``damage``, and the readers report it as one
rejection (rule ``compressed-stream``) standing for everything after that
point, like a syntax error in XML.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from pathlib import Path
from typing import Any, BinaryIO

#: (magic bytes, name, opener) of the compressions read transparently.
_COMPRESSIONS = (
    (b"\x1f\x8b", "gzip", gzip.open),
    (b"BZh", "bzip2", bz2.open),
    (b"\xfd7zXZ\x00", "xz", lzma.open),
)
_MAGIC_BYTES = max(len(magic) for magic, _name, _opener in _COMPRESSIONS)
#: What the decompressors raise on a damaged or truncated stream.
_DAMAGE = (EOFError, OSError, lzma.LZMAError, zlib.error)


def compression(head: bytes) -> str | None:
    """The compression whose magic bytes start ``head``, or ``None``."""
    for magic, name, _opener in _COMPRESSIONS:
        if head.startswith(magic):
            return name
    return None


class InputStream:
    """A binary file opened for reading, decompressed if it is compressed.

    Only ``read`` is offered: the readers stream forward and never seek.
    """

    def __init__(self, path: Path) -> None:
        self._raw: BinaryIO = path.open("rb")
        head = b""
        while len(head) < _MAGIC_BYTES:  # a pipe may hand out fewer bytes per read
            more = self._raw.read(_MAGIC_BYTES - len(head))
            if not more:
                break
            head += more
        self.compression = compression(head)
        self._handle: Any = _Replay(head, self._raw)  # never seeks back: pipes work too
        if self.compression is not None:
            opener = next(o for _m, name, o in _COMPRESSIONS if name == self.compression)
            self._handle = opener(self._handle, "rb")
        #: Why the compressed stream could not be read to its end, if it could not.
        self.damage: str | None = None
        #: Bytes of (decompressed) data handed out so far.
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        if self.damage is not None:
            return b""
        if self.compression is None:
            data = self._handle.read(size)  # an I/O error of a plain file is not damage: it raises
        else:
            try:
                # read1: at most one decompression step per call, so what was
                # decompressed before a damaged or missing end is handed out
                # (read(size) would drop it when the error comes in the same call).
                data = self._handle.read1(size)
            except _DAMAGE as exc:
                self.damage = (
                    f"the {self.compression} stream is damaged after {self.position} bytes "
                    f"of data ({exc or type(exc).__name__})"
                )
                return b""
        self.position += len(data)
        return data

    def close(self) -> None:
        try:
            if self.compression is not None:
                self._handle.close()
        finally:
            self._raw.close()

    def __enter__(self) -> InputStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Replay:
    """The bytes already looked at, then the rest of the file (a minimal ``read``-only file)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        if len(data) < size:  # the rest of this read from the file: no short first read
            data += self._rest.read(size - len(data))
        return data


def open_input(path: Path) -> InputStream:
    """``path`` opened for a reader: plain, or decompressed as it is read."""
    return InputStream(path)


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of what ``path`` holds (decompressed), for sniffing.

    A compressed file too damaged to give even its first bytes raises
    ``OSError`` with the reason, which the caller reports as unreadable.
    """
    with open_input(path) as stream:
        head = b""
        while len(head) < size:  # reads may come short (a pipe, a decompression step)
            more = stream.read(size - len(head))
            if not more:
                break
            head += more
        if not head and stream.damage is not None:
            raise OSError(stream.damage)
        return head
