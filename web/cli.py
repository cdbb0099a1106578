"""The ``catalograph`` command line: a thin shell over library functions.

Every error a user can cause is a ``CatalographError`` (a ``ClickException``),
printed by Click as one line with its exit code; anything else is a bug, still
shown as one line (set ``CATALOGRAPH_DEBUG=1`` for the traceback).
Exit codes: 0 success, 1 failure or rejected records, 2 bad usage, 3 the store
is busy (another process is writing it; ``ontology.errors.StoreBusyError``), 4
the disk is full (``ontology.errors.DiskFullError``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ingest import PIPELINE_VERSION
from ingest.sources import formats
from web.config import Settings, load_settings
from web.permissions import ROLES

FORMAT_HELP = "table (default), json, csv, tsv, xml; for CONSTRUCT/DESCRIBE turtle, ntriples, nquads, rdfxml, jsonld; or a media type"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file (default: $CATALOGRAPH_CONFIG).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the store (default: ./catalograph-data, or $CATALOGRAPH_DATA_DIR).",
)
@click.option("--base-iri", help="Base under which resource IRIs are minted and served.")
@click.version_option(PIPELINE_VERSION, prog_name="catalograph")
@click.pass_context
def cli(
    ctx: click.Context, config: Path | None, data_dir: Path | None, base_iri: str | None
) -> None:
    """Catalograph: library records in, a knowledge graph out."""
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if base_iri is not None:
        overrides["base_iri"] = base_iri
    ctx.obj = load_settings(config, **overrides)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "format_name",
    type=click.Choice(formats()),
    help="Read every file as this format instead of detecting it from the content.",
)
@click.option(
    "--source",
    default="marc",
    show_default=True,
    help="Source name for records that carry no 003 (organisation code): graph IRIs are {base}graph/{source}/{001}.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Mappers: this process and N-1 worker processes (default: one per core but one).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Records per store write.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every rejection and warning to this file (TSV: file, record, byte, line, kind, rule, message).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_obj
def ingest(
    settings: Settings,
    paths: tuple[Path, ...],
    format_name: str | None,
    source: str,
    workers: int | None,
    batch_size: int,
    report: Path | None,
    quiet: bool,
) -> None:
    """Read MARC21 / MARCXML / OAI-PMH response files or folders into the store.

    A named pipe, such as <(curl -s URL), is read as a stream. Bad records
    are reported (file, record number, byte offset, rule) and skipped; the
    rest goes in. Exit 1 if any record was rejected, 2 for bad usage, 3 if
    another process is writing the store, 4 if the disk is full (free space
    and run it again: what was committed is kept).
    """
    from web.ingest_command import run_ingest_command

    code = run_ingest_command(
        settings,
        list(paths),
        format_name=format_name,
        default_source=source,
        workers=workers,
        batch_size=batch_size,
        report_path=report,
        progress=not quiet
        and (sys.stderr.isatty() or os.environ.get("CATALOGRAPH_PROGRESS") == "1"),
    )
    sys.exit(code)


@cli.command()
@click.argument("url")
@click.option(
    "--metadata-prefix",
    default="oai_dc",
    show_default=True,
    help="Metadata format to ask for: oai_dc, marc21, marcxml, arXiv, arXivRaw (the mappers catalograph has).",
)
@click.option("--set", "set_spec", help="Harvest only this set (setSpec).")
@click.option("--from", "from_date", help="Only records changed on or after this UTC date (YYYY-MM-DD[Thh:mm:ssZ]); default: where the last harvest of URL, prefix and set ended.")
@click.option("--until", "until_date", help="Only records changed on or before this UTC date.")
@click.option("--restart", is_flag=True, help="Do not resume an unfinished harvest: start it again.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True, help="Seconds to wait for the repository's next bytes.")
@click.option("--retries", type=click.IntRange(0, 20), default=5, show_default=True, help="Tries after the first for one page (HTTP 503/429, timeouts, a page cut short).")
@click.option("--max-pages", type=click.IntRange(1), default=100_000, show_default=True, help="Stop after this many pages.")
@click.option("--max-response-mb", type=click.IntRange(1, 4096), default=64, show_default=True, help="Refuse a response larger than this, decompressed.")
@click.option("--max-seconds", type=click.FloatRange(1), help="Stop the harvest after this long (the next run resumes).")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every rejection and warning to this file (TSV, as ingest's).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@click.pass_obj
def harvest(
    settings: Settings,
    url: str,
    metadata_prefix: str,
    set_spec: str | None,
    from_date: str | None,
    until_date: str | None,
    restart: bool,
    timeout: float,
    retries: int,
    max_pages: int,
    max_response_mb: int,
    max_seconds: float | None,
    report: Path | None,
    quiet: bool,
) -> None:
    """Harvest an OAI-PMH repository (its base URL) into the store.

    Resumption tokens are followed to the end; deleted records drop their
    graphs. After each page the next token is remembered once the page is
    committed, so a harvest that stops is resumed by the same command; a
    finished one is followed by an incremental harvest of what changed since.
    Exit 0 success (noRecordsMatch included), 1 rejected records or a
    harvest that stopped (OAI error, no answer), 2 bad usage, 3 store busy,
    4 disk full, as ingest.
    """
    from ingest.sources.oai_harvest import HarvestLimits
    from web.harvest_command import run_harvest_command

    code = run_harvest_command(
        settings,
        url,
        metadata_prefix=metadata_prefix,
        set_spec=set_spec,
        from_date=from_date,
        until_date=until_date,
        restart=restart,
        report_path=report,
        quiet=quiet,
        limits=HarvestLimits(
            timeout=timeout,
            retries=retries,
            max_pages=max_pages,
            max_response_bytes=max_response_mb * 1024 * 1024,
            max_seconds=max_seconds,
        ),
    )
    sys.exit(code)


@cli.command()
@click.argument("sparql")
@click.option("--format", "-f", "format_name", default="table", show_default=True, help=FORMAT_HELP)
@click.option(
    "--max-rows",
    type=click.IntRange(1),
    help="Most rows or triples to print (default: the max_rows setting).",
)
@click.pass_obj
def query(settings: Settings, sparql: str, format_name: str, max_rows: int | None) -> None:
    """Run a SPARQL query against the store ('-' reads the query from stdin)."""
    from web.query_command import run_query_command

    text = sys.stdin.read() if sparql == "-" else sparql
    click.echo(run_query_command(settings, text, format_name, max_rows), nl=False)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def stats(settings: Settings, as_json: bool) -> None:
    """Figures about the store: quads, record graphs, works, instances, agents, concepts..."""
    from web.query_command import run_stats_command

    click.echo(run_stats_command(settings, as_json))


@cli.command()
@click.argument("text")
@click.option("--kind", help="Only resources of this kind: work, instance, agent, concept, place, event.")
@click.option("--lang", "language", help="Only resources in this language (a MARC code: eng, chi, jpn...).")
@click.option("--year-from", type=int, help="Only resources of this year or later.")
@click.option("--year-to", type=int, help="Only resources of this year or earlier.")
@click.option("--limit", type=int, default=10, show_default=True, help="Hits to print (at most 100).")
@click.option("--offset", type=int, default=0, show_default=True, help="Hits to skip (at most 1000).")
@click.option("--prefix", is_flag=True, help="Take the last word as a prefix (as TEXT ending in '*').")
@click.option(
    "--format", "format_name", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.pass_obj
def search(
    settings: Settings,
    text: str,
    kind: str | None,
    language: str | None,
    year_from: int | None,
    year_to: int | None,
    limit: int,
    offset: int,
    prefix: bool,
    format_name: str,
) -> None:
    """Ranked full-text search over titles, labels, names, abstracts and notes.

    Case and diacritics are folded (dvorak finds Dvořák), CJK text is found by
    its words, a title hit ranks above a note hit; 'moza*' completes a prefix.
    """
    from query.search import SearchQuery
    from web.search_command import run_search_command

    query = SearchQuery.build(
        text,
        kind=kind,
        language=language,
        year_from=year_from,
        year_to=year_to,
        limit=limit,
        offset=offset,
        prefix=prefix,
    )
    click.echo(run_search_command(settings, query, format_name), nl=False)


@cli.command()
@click.argument("iri", required=False)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Most results.")
@click.option(
    "--format", "-f", "format_name", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--refresh",
    is_flag=True,
    help="First bring the associations up to date with the store (after writers' edits); "
    "with --full, rebuild them whole.",
)
@click.option("--full", is_flag=True, help="With --refresh: rebuild instead of updating.")
@click.option(
    "--text", help="Start from these words instead of one resource: the seed search's best hits."
)
@click.pass_obj
def related(
    settings: Settings,
    iri: str | None,
    limit: int,
    format_name: str,
    refresh: bool,
    full: bool,
    text: str | None,
) -> None:
    """What is related to a resource (instance, work, agent, concept, place), or to some
    words, and why."""
    from web.related_command import run_refresh_command, run_related_command

    if iri and text is not None:
        raise click.UsageError("give a resource IRI or --text, not both")
    if refresh:
        click.echo(run_refresh_command(settings, full=full), err=True)
    if iri or text is not None:
        click.echo(run_related_command(settings, iri, limit, format_name, text), nl=False)
    elif not refresh:
        raise click.UsageError("give a resource IRI, or --text WORDS (or --refresh)")


@cli.command()
@click.option("--refresh", is_flag=True, required=True, help="Bring the derived graph of mentions up to date.")
@click.option("--full", is_flag=True, help="Match every work again instead of those whose texts changed.")
@click.pass_obj
def mentions(settings: Settings, refresh: bool, full: bool) -> None:
    """Link works to the concepts, agents and places their abstracts and contents notes
    mention (the graph {base}graph/derived/mentions)."""
    from web.mentions_command import run_mentions_command

    click.echo(run_mentions_command(settings, full=full), err=True)


@cli.command()
@click.option("--refresh", is_flag=True, help="First bring the candidates up to date with the store.")
@click.option("--full", is_flag=True, help="With --refresh: compare every block again, not those changes touched.")
@click.option("--json", "as_json", is_flag=True, help="Print the candidates as JSON.")
@click.option("--limit", type=click.IntRange(1, None), help="Print at most this many (strongest first).")
@click.pass_obj
def candidates(settings: Settings, refresh: bool, full: bool, as_json: bool, limit: int | None) -> None:
    """Match candidates: agents and works that names and titles alone bring together, with a
    score and reasons, for catalogers to accept or reject (never merged silently)."""
    from web.candidates_command import run_list_command, run_refresh_command

    if full and not refresh:
        raise click.UsageError("--full goes with --refresh")
    if refresh:
        click.echo(run_refresh_command(settings, full=full).summary(), err=True)
    click.echo(run_list_command(settings, as_json, limit), nl=False)


@cli.command()
@click.option("--host", help="Interface to listen on (default: the host setting, 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Port (default: the port setting, 5000)."
)
@click.option(
    "--threads", type=click.IntRange(1, 256), help="Request threads (default: the threads setting)."
)
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, threads: int | None) -> None:
    """Serve the SPARQL endpoint and the resource pages (production WSGI server)."""
    from dataclasses import replace

    from web.server import serve as run_server

    changes = {
        k: v for k, v in {"host": host, "port": port, "threads": threads}.items() if v is not None
    }
    run_server(replace(settings, **changes) if changes else settings)


@cli.command()
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", default="", help="Title of the record.")
@click.option("--summary", default="", help="Summary or abstract.")
@click.option("--note", "notes", multiple=True, help="A note (repeatable).")
@click.option("--iri", help="The IRI of an Instance already in the store (its words, Work, agents and series are read there).")
@click.option("--limit", "-n", type=click.IntRange(1, 100), default=10, show_default=True, help="Suggestions per record.")
@click.option("--scheme", help="Suggest only concepts of this scheme (an IRI, e.g. http://id.loc.gov/authorities/subjects).")
@click.option("--format", "-f", "format_name", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def suggest(
    settings: Settings,
    path: Path | None,
    title: str,
    summary: str,
    notes: tuple[str, ...],
    iri: str | None,
    limit: int,
    scheme: str | None,
    format_name: str,
) -> None:
    """Suggest subject concepts for a record without subjects, from the graph.

    Give the record's words (--title, --summary, --note), a MARC / MARCXML
    FILE of records, or --iri of an Instance in the store: then its Work,
    agents, series and class numbers count too (a file's 6XX fields are
    ignored). Each suggestion has a score and a reason.
    """
    from web.suggest_command import run_suggest_command

    click.echo(
        run_suggest_command(settings, path, title, summary, notes, limit, scheme, format_name, iri),
        nl=False,
    )


@cli.group()
def ontology() -> None:
    """The library ontology: check it (and the data against its shapes), or export it."""


_ONTOLOGY_SOURCES = ("auto", "store", "file")
_SOURCE_HELP = (
    "Where the ontology is read: the store's copy in --data-dir, as catalogers edited it (store), "
    "the shipped catalograph.ttl (file), or the store's when it has one (auto)."
)


@ontology.command("validate")
@click.option("--data", is_flag=True, help="Also check the store's latest checkpoint against the SHACL shapes.")
@click.option("--limit", type=click.IntRange(0), default=200, show_default=True, help="With --data: focus nodes per class (0: all, still checked a chunk at a time).")
@click.option("--chunk", type=click.IntRange(1, 5000), default=100, show_default=True, help="With --data: focus nodes checked together (bounds memory).")
@click.option("--reason", is_flag=True, help="Also run the HermiT reasoner (needs owlready2 and Java).")
@click.option("--source", type=click.Choice(_ONTOLOGY_SOURCES), default="auto", show_default=True, help=_SOURCE_HELP)
@click.pass_obj
def ontology_validate(
    settings: Settings, data: bool, limit: int, chunk: int, reason: bool, source: str
) -> None:
    """Check the ontology is well formed and, with --data, the data against the shapes; exit 1 on a violation."""
    from web.ontology_command import ValidationFailed, run_validate

    outcome = run_validate(settings, data=data, limit=limit, chunk=chunk, reason=reason, source=source)
    click.echo(outcome.text, nl=False)
    if not outcome.ok:
        raise ValidationFailed("the ontology or the data does not pass its checks (see the report above)")


@ontology.command("export")
@click.option("--format", "-f", "format_name", default="ttl", show_default=True, help="ttl, jsonld or owl (RDF/XML), or a media type.")
@click.option("--output", "-o", type=click.File("wb"), default="-", show_default=True, help="File to write ('-': stdout).")
@click.option("--source", type=click.Choice(_ONTOLOGY_SOURCES), default="auto", show_default=True, help=_SOURCE_HELP)
@click.pass_obj
def ontology_export(settings: Settings, format_name: str, output: click.utils.LazyFile, source: str) -> None:
    """Write the ontology (the store's, as catalogers edited it, else catalograph.ttl) as Turtle, JSON-LD or OWL (RDF/XML)."""
    from web.ontology_command import run_export

    output.write(run_export(format_name, settings, source))


@cli.group()
def user() -> None:
    """Accounts of catalogers, reviewers and admins, in DATA_DIR/accounts.sqlite (readers need none)."""


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


_ROLE_HELP = (
    "cataloger: edits (editor, SPARQL Update, Graph Store writes); reviewer: also settles "
    "the review queue; admin: also manages accounts."
)
_FROM_STDIN_HELP = "Read the password from the first line of stdin instead of prompting."


@user.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(ROLES), default="cataloger", show_default=True, help=_ROLE_HELP
)
@click.option("--password-stdin", is_flag=True, help=_FROM_STDIN_HELP)
@click.option("--replace", is_flag=True, help="Set a new password and role for an existing user.")
@click.pass_obj
def user_add(settings: Settings, name: str, role: str, password_stdin: bool, replace: bool) -> None:
    """Create an account; the password is stored as an argon2id hash, never in clear."""
    from web.accounts import accounts_path, add_user

    existed = add_user(settings.data_dir, name, _new_password(password_stdin), role, replace=replace)
    verb = "updated" if existed else "added"
    click.echo(f"{verb} {name} ({role}) in {accounts_path(settings.data_dir)}")


@user.command("list")
@click.pass_obj
def user_list(settings: Settings) -> None:
    """Names, roles and when each account last changed."""
    from web.accounts import list_users

    for name, role, changed in list_users(settings.data_dir):
        click.echo(f"{name}\t{role}\t{changed}")


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_obj
def user_set_role(settings: Settings, name: str, role: str) -> None:
    """Give an account another role (its open sessions take it at once)."""
    from web.accounts import set_role

    set_role(settings.data_dir, name, role)
    click.echo(f"{name} is now {role}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=_FROM_STDIN_HELP)
@click.pass_obj
def user_passwd(settings: Settings, name: str, password_stdin: bool) -> None:
    """Set a new password; the account's browser sessions end."""
    from web.accounts import set_password

    set_password(settings.data_dir, name, _new_password(password_stdin))
    click.echo(f"new password for {name}; its sessions are ended")


@user.command("remove")
@click.argument("name")
@click.pass_obj
def user_remove(settings: Settings, name: str) -> None:
    """Delete an account and its sessions (a running server notices at once)."""
    from web.accounts import remove_user

    remove_user(settings.data_dir, name)
    click.echo(f"removed {name}")


def main() -> None:
    """Entry point of the console script: one line per error, never a traceback."""
    try:
        code = cli.main(standalone_mode=False)
    except click.ClickException as exc:  # CatalographError included: one line, its exit code
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo(
            "interrupted: the store is consistent; run the same command again to finish", err=True
        )
        sys.exit(130)
    except Exception as exc:  # a bug: still one line for the user
        if os.environ.get("CATALOGRAPH_DEBUG"):
            raise
        click.echo(
            f"Error: internal error: {type(exc).__name__}: {exc} "
            "(set CATALOGRAPH_DEBUG=1 to see the traceback, and please report it)",
            err=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
