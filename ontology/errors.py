"""The one exception family.

Subclassing Click's exception lets the CLI print any of these as one clean line
and exit with its code, with no try/except in the commands; the web layer maps
the same classes to HTTP statuses in one place (``web.errors``).

Each class carries a stable ``code``: an error that crosses a process
boundary (a query worker's answer, ``query.worker``) travels as its code and
message and is rebuilt from an explicit table of codes, never from a class
name that a refactoring may change. A subclass without a code of its own
travels as its parent.
"""

from __future__ import annotations

import click


class CatalographError(click.ClickException):
    """Base of every error a user may see. Exit code 1, HTTP 500 unless refined."""

    code = "error"
    exit_code = 1
    http_status = 500


class UsageError(CatalographError):
    """The request or command line itself is wrong (exit 2, HTTP 400)."""

    code = "usage"
    exit_code = 2
    http_status = 400


class ConfigurationError(CatalographError):
    """The configuration file or environment holds an invalid value."""

    code = "configuration"


class InputError(CatalographError):
    """An input file cannot be read at all (missing, unknown format, unreadable)."""

    code = "input"


class StoreError(CatalographError):
    """The store cannot be opened or written (locked by another writer, disk full...)."""

    code = "store"
    http_status = 503


class StoreBusyError(StoreError):
    """Another process is writing the store (exit 3): try again later, nothing is wrong.

    An exit code of its own lets a script or a scheduler tell "wait and retry"
    from a failure that needs a person.
    """

    exit_code = 3


class DiskFullError(StoreError):
    """The disk holding the store is full, or a file size limit was reached (exit 4, HTTP 507).

    Nothing committed is lost: the user frees space and runs the command
    again. An exit code of its own lets a script tell "make room, then rerun"
    from a failure that needs a person. Raised however the full disk shows:
    ENOSPC from a write, SQLite's SQLITE_FULL, a check of free space before a
    phase, or RocksDB retrying a background job on a full disk
    (``graph.disk_space``).
    """

    exit_code = 4
    http_status = 507


class QueryError(CatalographError):
    """A SPARQL query is malformed or refused (HTTP 400)."""

    code = "query"
    http_status = 400


class NotFoundError(CatalographError):
    """A resource or graph the user asked for does not exist (HTTP 404)."""

    code = "not-found"
    http_status = 404


class HarvestError(CatalographError):
    """An OAI-PMH repository could not be harvested: it answered an error, or not at all (HTTP 502).

    What was committed before stays, and the next harvest resumes from it.
    """

    code = "harvest"
    http_status = 502
