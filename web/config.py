"""Settings of the web app and the server, and where they come from.

Later sources win: defaults (that work with no file) -> one TOML file (path from
``--config`` or ``CATALOGRAPH_CONFIG``) -> environment variables
(``CATALOGRAPH_<NAME>``) -> explicit overrides (tests, the CLI's own options).
A key nobody knows, or a value of the wrong type, is a ``ConfigurationError``
that names it: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_origin, get_type_hints

from ontology.errors import ConfigurationError

ENV_PREFIX = "CATALOGRAPH_"
#: Shortest bearer token accepted in ``update_tokens``.
MIN_TOKEN_LENGTH = 16
CONFIG_ENV = "CATALOGRAPH_CONFIG"
DEFAULT_DATA_DIR = "catalograph-data"
#: Largest ``page_list_size``: a page's lists share ten times it (``query.listings.Paging``).
MAX_PAGE_LIST_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, with its default. docs/web.md documents each one."""

    #: Folder holding the store (and its snapshots and side indexes).
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    #: Base under which resource IRIs were minted and are dereferenced.
    base_iri: str = "http://127.0.0.1:5000/"
    host: str = "127.0.0.1"
    port: int = 5000
    #: waitress worker threads (concurrent requests being answered); more than
    #: query_workers + query_queue + max_page_requests + page_queue, so that every
    #: admitted query and page has a thread and some are left for the rest (/-/health,
    #: static files, sign-ins).
    threads: int = 32
    #: Longest a SPARQL query may run, in seconds; a client may ask for less (``timeout``).
    query_timeout_s: float = 10.0
    #: Worker processes that run SPARQL queries (killed at the deadline, then replaced).
    #: More than the cores: a worker idles while its answer crosses the pipe and
    #: the HTTP side; on 2 cores, 16 clients got ~580 answers/s from 4 workers,
    #: ~690/s from 8 (docs/web.md). Each costs about 55 MB on a 1.5 M-quad store.
    query_workers: int = 8
    #: Queries (and pages, which run in the same workers) that may wait for a free
    #: worker; more get 503 with Retry-After.
    query_queue: int = 8
    #: SPARQL queries one client (its address; an IPv6 one's /64) may have running or
    #: waiting at once; more: 429.
    max_client_queries: int = 2
    #: Memory (heap, RLIMIT_DATA) a query worker may use, in MiB (0: no limit).
    query_memory_mb: int = 2048
    #: Largest SPARQL answer, in bytes; rows are cut from its end to fit, and the answer says so.
    max_response_bytes: int = 10_000_000
    #: Endpoint IRI prefixes that SPARQL ``SERVICE`` may call; empty: no federated queries.
    service_allow: tuple[str, ...] = ()
    #: Address of a reverse proxy whose X-Forwarded-For names the client ("*": any); empty: none.
    trusted_proxy: str = ""
    #: Most result rows (or triples) a SPARQL answer holds; more are cut, and the answer says so.
    max_rows: int = 10_000
    #: Longest query text accepted, in bytes (UTF-8).
    max_query_bytes: int = 100_000
    #: Largest SPARQL Update text or Graph Store Protocol body accepted from a writer, in bytes.
    max_upload_bytes: int = 10_000_000
    #: Bearer tokens that may write (SPARQL Update, Graph Store Protocol); secrets: set them
    #: in the environment (comma-separated), never in a file under version control.
    update_tokens: tuple[str, ...] = field(default=(), repr=False)
    #: URL prefixes (http or https) that SPARQL Update ``LOAD`` may fetch from; empty: no LOAD.
    load_allow: tuple[str, ...] = ()
    #: Longest a resource page or RDF twin may take to gather, in seconds (its worker is
    #: then killed and the client gets 503).
    page_timeout_s: float = 10.0
    #: Resource pages and twins prepared at once; more wait in line (``page_queue``).
    max_page_requests: int = 4
    #: Page requests that may wait for a slot, each until its ``page_timeout_s``; more get
    #: 503 with Retry-After. Keep ``max_page_requests + page_queue`` below ``threads``
    #: minus the SPARQL endpoint's share, so that pages never hold every thread.
    page_queue: int = 8
    #: Items a page shows of each list (a property's values, what points at the resource,
    #: its records); the rest on the list's own pages.
    page_list_size: int = 100
    #: How much ``catalograph ingest`` lowers its own CPU priority (nice, 0-19): an ingest
    #: is a batch job, and a server on the same machine should keep answering while it
    #: runs (alone, the ingest is as fast; in one soak-test run each, readers' p95 was
    #: 307 ms with it against 377 ms without, before pages got cheaper).
    ingest_nice: int = 10
    #: Host names a request may name in ``Host`` besides the base IRI's (".example.org":
    #: it and its subdomains; "*": any); other hosts get 400.
    trusted_hosts: tuple[str, ...] = ()
    #: A cataloger's change from the editor waits for a reviewer's approval (``/editor/proposals``)
    #: instead of applying at once; reviewers' and admins' own changes apply at once.
    review_changes: bool = False

    def __post_init__(self) -> None:
        _validate(self)


_TYPES: dict[str, type] = {
    name: hint
    for name, hint in get_type_hints(Settings).items()
    if name in {f.name for f in fields(Settings)}
}
#: How a switch may be written in the environment (TOML has its own true and false).
_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_HOST = re.compile(r"^\.?[A-Za-z0-9._-]+$")
_ENDPOINT_PREFIX = re.compile(r"^https?://[^/?#\s<>\"{}|\\^`]+/[^\s<>\"{}|\\^`]*$")


def setting_names() -> list[str]:
    return [f.name for f in fields(Settings)]


def _validate(settings: Settings) -> None:
    if not _IRI.match(settings.base_iri):
        raise ConfigurationError(
            f"base_iri must be an absolute http(s) IRI, got {settings.base_iri!r}"
        )
    if not settings.base_iri.endswith("/"):
        object.__setattr__(settings, "base_iri", settings.base_iri + "/")
    if not 0 <= settings.port <= 65535:
        raise ConfigurationError(f"port must be between 0 and 65535, got {settings.port}")
    for name in (
        "threads",
        "max_rows",
        "max_query_bytes",
        "max_upload_bytes",
        "query_workers",
        "max_client_queries",
        "max_response_bytes",
        "max_page_requests",
        "page_list_size",
    ):
        if getattr(settings, name) < 1:
            raise ConfigurationError(f"{name} must be at least 1, got {getattr(settings, name)}")
    for name in ("query_timeout_s", "page_timeout_s"):
        if not getattr(settings, name) > 0:
            raise ConfigurationError(f"{name} must be positive, got {getattr(settings, name)}")
    if settings.page_list_size > MAX_PAGE_LIST_SIZE:
        raise ConfigurationError(
            f"page_list_size must be at most {MAX_PAGE_LIST_SIZE}, got {settings.page_list_size}"
        )
    for host in settings.trusted_hosts:
        if host != "*" and not _HOST.match(host):
            raise ConfigurationError(
                f"trusted_hosts: {host!r} is not a host name (or '.name' for its subdomains)"
            )
    for token in settings.update_tokens:
        if len(token) < MIN_TOKEN_LENGTH or any(ch.isspace() for ch in token):
            raise ConfigurationError(  # never print the token: it is a secret
                f"update_tokens: every token must be at least {MIN_TOKEN_LENGTH} characters "
                "without spaces (generate one with: python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))')"
            )
    for prefix in settings.load_allow:
        if not prefix.startswith(("http://", "https://")):
            raise ConfigurationError(f"load_allow: {prefix!r} is not an http(s) URL prefix")
    if not 0 <= settings.ingest_nice <= 19:
        raise ConfigurationError(f"ingest_nice must be between 0 and 19, got {settings.ingest_nice}")
    for name in ("query_queue", "page_queue", "query_memory_mb"):
        if getattr(settings, name) < 0:
            raise ConfigurationError(f"{name} must be 0 or more, got {getattr(settings, name)}")
    if 0 < settings.query_memory_mb < 1024:
        raise ConfigurationError(
            f"query_memory_mb must be 0 (no limit) or at least 1024, got {settings.query_memory_mb}"
        )
    for prefix in settings.service_allow:
        if not _ENDPOINT_PREFIX.match(prefix):  # the host must be whole: no prefix of a host name
            raise ConfigurationError(
                f"service_allow: {prefix!r} must be an http(s) IRI with a path, "
                "like https://query.wikidata.org/"
            )


def _coerce(name: str, value: Any, where: str) -> Any:
    """``value`` as the type of setting ``name``; strings (from the environment) are parsed."""
    wanted = _TYPES[name]
    if wanted is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
            return _BOOLEANS[value.strip().lower()]
        raise ConfigurationError(f"{where}: {name} must be true or false, got {value!r}")
    if isinstance(value, bool):
        raise ConfigurationError(f"{where}: {name} must be {wanted.__name__}, got a boolean")
    if get_origin(wanted) is tuple:  # a list of strings: a TOML array, or comma-separated text
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list | tuple) and all(isinstance(i, str) for i in items):
            return tuple(i.strip() for i in items if i.strip())
        raise ConfigurationError(f"{where}: {name} must be a list of strings")
    if wanted is Path:
        if isinstance(value, str | Path) and str(value):
            return Path(value)
    elif wanted is str:
        if isinstance(value, str):
            return value
    elif isinstance(value, str):
        try:
            return wanted(value.strip())
        except ValueError:
            pass
    elif wanted is float and isinstance(value, int | float):
        return float(value)
    elif wanted is int and isinstance(value, int):
        return value
    raise ConfigurationError(f"{where}: {name} must be {wanted.__name__}, got {value!r}")


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigurationError(f"cannot read the configuration file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from exc
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _TYPES:
            raise ConfigurationError(
                f"{path}: unknown setting {key!r}; known: {', '.join(setting_names())}"
            )
        values[key] = _coerce(key, value, str(path))
    if "data_dir" in values and not values["data_dir"].is_absolute():
        values["data_dir"] = (path.parent / values["data_dir"]).resolve()
    return values


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _TYPES:
        key = ENV_PREFIX + name.upper()
        if key in env and env[key] != "":
            values[name] = _coerce(name, env[key], f"environment variable {key}")
    return values


def load_settings(
    config: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from defaults, the TOML file, the environment, then ``overrides``.

    ``config`` defaults to ``$CATALOGRAPH_CONFIG``; ``env`` to ``os.environ``.
    A relative ``data_dir`` in the file is read relative to the file.

    >>> load_settings(env={"CATALOGRAPH_PORT": "8080"}, max_rows=5).port
    8080
    >>> load_settings(env={}, colour="red")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ontology.errors.ConfigurationError: unknown setting 'colour'; known: data_dir, base_iri, ...
    """
    env = os.environ if env is None else env
    path = config if config is not None else env.get(CONFIG_ENV) or None
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_from_file(Path(path)))
    values.update(_from_env(env))
    for key, value in overrides.items():
        if key not in _TYPES:
            raise ConfigurationError(
                f"unknown setting {key!r}; known: {', '.join(setting_names())}"
            )
        values[key] = _coerce(key, value, "override")
    if "data_dir" not in values:
        values["data_dir"] = Path.cwd() / DEFAULT_DATA_DIR
    return replace(Settings(), **values) if values else Settings()
