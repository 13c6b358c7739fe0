"""The ``egovsad`` command line: a thin layer over pipelines/ and warehouse/.

Configuration is read once here and passed down as typed objects; every error
of the layers below is turned into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any

import click
import duckdb

from dashboard.users import UserError
from egovsad import config as configuration
from egovsad.output import FORMATS, render
from pipelines.errors import PipelineError
from warehouse.errors import WarehouseError


class _City(click.ParamType):
    """A configured city's slug (the built-in ones and those added by configuration)."""

    name = "slug"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return configuration.load().check_city(str(value))
        except configuration.ConfigError as error:
            self.fail(str(error), param, ctx)


CITY = _City()
CHANNELS = ("online", "app", "in_person", "phone", "email", "post")


def _fail_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the layers' own errors into a one-line message and exit status 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (configuration.ConfigError, PipelineError, WarehouseError, UserError) as error:
            click.echo(f"egovsad: {error}", err=True)
            sys.exit(1)

    return wrapper


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as error:
        raise click.BadParameter(f"'{value}' is not a date in the form YYYY-MM-DD") from error


def _print(text: str) -> None:
    click.echo(text, nl=not text.endswith("\n"))


def _snapshot() -> duckdb.DuckDBPyConnection:
    """A read-only connection to the snapshot in service (readers never touch the writer's file)."""
    return _open_snapshot(configuration.load())[1]


def _open_snapshot(settings: configuration.Config) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """The snapshot in service: its file and a read-only connection to it."""
    from warehouse.snapshots import open_current

    return open_current(settings.snapshot_dir, memory_limit=str(settings.values["readers.memory_limit"]))


format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="output format"
)
city_option = click.option("--city", type=CITY, help="only this city (slug)")


@click.group()
@click.version_option(package_name="egovsad")
def main() -> None:
    """eGovSAD: usage analytics of the cooperating cities' digital services.

    Everything is kept under the home folder $EGOVSAD_HOME (default
    ~/.local/share/egovsad): settings in egovsad.toml, the warehouse, logs.
    """


@main.command()
@city_option
@click.option("--source", "location", help="a folder or URL to read this time instead of the configured one")
@click.option("--since", callback=_date, help="pull again (API) or reprocess files from this date, YYYY-MM-DD")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="when another writer (the scheduler) is busy: wait for it, or fail at once",
)
@_fail_cleanly
def ingest(city: str | None, location: str | None, since: date | None, wait: bool) -> None:
    """Run the pipeline of one city, or of all cities, once."""
    from egovsad.ingest import ingest_cities
    from egovsad.logs import configure

    if location and not city:
        raise click.UsageError("--source needs --city: a location belongs to one city")
    settings = configuration.load()
    configure(settings)
    results = ingest_cities(
        settings,
        [city] if city else list(settings.cities),
        location=location,
        since=since,
        wait=wait,
        on_wait=lambda: click.echo("egovsad: another writer is busy; waiting for it to finish ...", err=True),
    )
    failed = [result for result in results if not result.ok]
    for result in results:
        totals = result.totals
        if result.ok:
            reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(totals.quarantined.items()))
            click.echo(
                f"{result.city}: read {totals.rows_read}, loaded {totals.rows_loaded}, "
                f"duplicates {totals.rows_duplicate}, quarantined {totals.rows_quarantined}"
                + (f" ({reasons})" if reasons else "")
                + f"; {totals.units_seen} files/pages seen, {totals.units_skipped} skipped"
            )
            if totals.unmapped_names:
                names = ", ".join(f"'{name}' x{count}" for name, count in sorted(totals.unmapped_names.items()))
                click.echo(f"{result.city}: unmapped service names: {names}")
            if totals.dropped_columns:
                click.echo(f"{result.city}: dropped columns not in the contract: {', '.join(totals.dropped_columns)}")
    for result in failed:
        click.echo(f"egovsad: {result.city} failed: {result.error}", err=True)
    if failed:
        sys.exit(1)


@main.command()
@city_option
@format_option
@_fail_cleanly
def quarantine(city: str | None, fmt: str) -> None:
    """Rejected rows counted by city and reason."""
    from warehouse.queries import quarantine_summary

    with _snapshot() as con:
        _print(render(quarantine_summary(con, city=city), fmt))


@main.command()
@city_option
@format_option
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1), help="newest runs to show")
@_fail_cleanly
def runs(city: str | None, fmt: str, limit: int) -> None:
    """The run records of the pipelines, newest first."""
    from warehouse.queries import runs as run_records

    with _snapshot() as con:
        frame = run_records(con, city=city, limit=limit)
    if fmt == "table":
        frame = frame.select(
            "run_id", "city", "started_at", "status", "rows_read", "rows_loaded",
            "rows_duplicate", "rows_quarantined", "units_seen", "units_skipped", "error",
        )  # fmt: skip
    _print(render(frame, fmt))


SQL_FILE_FORMATS = ("csv_excel", "xlsx", "parquet")
SUFFIX_FORMATS = {".parquet": "parquet", ".xlsx": "xlsx", ".json": "json"}


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in this environment (e.g. a container without passwd entry)
        return "unknown"


@main.command()
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*FORMATS, *SQL_FILE_FORMATS]),
    default="table",
    show_default=True,
    help="table, csv or json print; every format but table writes with --output "
    "(csv_excel: German Excel, UTF-8 with BOM, ';' and decimal comma); with --output, table means: by the suffix",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write the full result to this file, with FILE.manifest.json beside it",
)
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(min=1), help="rows printed at most")
@_fail_cleanly
def sql(query: str, fmt: str, output: Path | None, limit: int) -> None:
    """Run one read-only SQL query over the analyst views, under the time limit (sql.timeout_seconds)."""
    from warehouse import analyst

    if fmt in SQL_FILE_FORMATS and output is None:
        raise click.UsageError(f"--format {fmt} writes a file: give --output FILE")
    settings = configuration.load()
    path, con = _open_snapshot(settings)
    with con:
        if output is not None:
            manifest = analyst.export(
                con,
                query,
                output,
                SUFFIX_FORMATS.get(output.suffix.lower(), "csv") if fmt == "table" else fmt,
                user=_os_user(),
                snapshot=path.name,
                timeout_seconds=float(settings.values["sql.export_timeout_seconds"]),
            )
            click.echo(
                f"{manifest.rows} rows written to {output} (sha256 {manifest.sha256}; "
                f"manifest {analyst.manifest_path(output)})",
                err=True,
            )
            return
        result = analyst.run_query(
            con, query, limit=limit, timeout_seconds=float(settings.values["sql.timeout_seconds"])
        )
    _print(render(result.frame, fmt))
    if result.truncated:
        click.echo(
            f"egovsad: the first {limit:,} of {result.total_rows:,} rows; --limit N prints more, "
            "--output FILE writes them all",
            err=True,
        )


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="folder for the deliveries")
@click.option("--months", default=3, show_default=True, help="months to simulate, ending yesterday")
@click.option("--seed", default=1, show_default=True, help="random seed (same seed, same data)")
@click.option("--scale", default=1.0, show_default=True, help="multiplies every city's volume")
@click.option("--fault-rate", default=0.002, show_default=True, help="share of rows with a contract fault")
@click.option("--serve", is_flag=True, help="serve Marburg's API and Limburg's export from --out on 127.0.0.1")
@click.option("--port", default=8701, show_default=True, help="port for --serve")
@click.option("--token", default="demo-token", show_default=True, help="bearer token the served API expects")
def simulate(
    out: Path | None, months: int, seed: int, scale: float, fault_rate: float, serve: bool, port: int, token: str
) -> None:
    """Write realistic deliveries of all six cities, or serve the HTTP feeds."""
    from pipelines.simulate import simulate as run_simulation

    if out is None:
        out = configuration.load().home / "inbox"
    if serve:
        from pipelines.simulate.server import serve_forever

        click.echo(f"serving {out} on http://127.0.0.1:{port} (Ctrl+C stops)", err=True)
        serve_forever(out, "127.0.0.1", port, token)
        return
    summary = run_simulation(out, months=months, seed=seed, scale=scale, fault_rate=fault_rate)
    for line in summary.lines():
        click.echo(line)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_fail_cleanly
def status(fmt: str) -> None:
    """Per city: last successful run, data up to, rows, quarantined, fresh / stale / failed.

    Exits 1 when any city is stale or failed, so monitoring can call it.
    """
    from datetime import UTC

    from egovsad.freshness import assess
    from warehouse.queries import city_status

    settings = configuration.load()
    with _snapshot() as con:
        frame = assess(city_status(con), settings, datetime.now(UTC))
    frame = frame.select("city", "state", "last_success", "data_until", "rows", "quarantined", "last_status",
                         "max_age_hours", "last_error")  # fmt: skip
    _print(render(frame, fmt))
    if frame.filter(frame["state"] != "fresh").height:
        sys.exit(1)


@main.command()
@_fail_cleanly
def schedule() -> None:
    """Run every city's pipeline on its schedule until SIGTERM or Ctrl+C."""
    from egovsad.logs import configure
    from egovsad.schedule import run_scheduler

    settings = configuration.load()
    configure(settings)
    run_scheduler(settings)


@main.command()
@click.argument("kpi_id", required=False)
@click.option("--list", "list_kpis", is_flag=True, help="list the KPIs with their definitions")
@click.option("--by", "dims", default="", help="comma list of city, service, channel, month, day")
@click.option("--from", "start", callback=_date, help="first local day, YYYY-MM-DD (default: 12 full months back)")
@click.option("--to", "end", callback=_date, help="last local day, YYYY-MM-DD (default: end of last month)")
@click.option("--city", "cities", multiple=True, type=CITY, help="only these cities (repeatable)")
@click.option("--service", "services", multiple=True, help="only these service keys (repeatable)")
@click.option("--channel", "channels", multiple=True, type=click.Choice(CHANNELS), help="only these channels")
@click.option("--suppress", is_flag=True, help="hide small cells as the dashboard does for mayors and officers")
@format_option
@_fail_cleanly
def kpi(
    kpi_id: str | None,
    list_kpis: bool,
    dims: str,
    start: date | None,
    end: date | None,
    cities: tuple[str, ...],
    services: tuple[str, ...],
    channels: tuple[str, ...],
    suppress: bool,
    fmt: str,
) -> None:
    """Compute one KPI, as the dashboard does (same registry, same numbers)."""
    from egovsad.kpi_output import kpi_list, kpi_table
    from warehouse.kpis import Selection, compute, get, last_full_months

    if list_kpis:
        _print(render(kpi_list(), fmt))
        return
    if not kpi_id:
        raise click.UsageError("name a KPI, or use --list")
    settings = configuration.load()
    default_start, default_end = last_full_months(date.today())
    selection = Selection(start or default_start, end or default_end, cities, services, channels)
    by = tuple(dim.strip() for dim in dims.split(",") if dim.strip())
    with _snapshot() as con:
        result = compute(con, kpi_id, selection, by, unit_costs=settings.unit_costs())
    min_cell = int(settings.values["privacy.min_cell"]) if suppress else None
    _print(render(kpi_table(get(kpi_id), result, by, min_cell=min_cell), fmt))


@main.group()
def users() -> None:
    """Dashboard users: add, list, remove, change passwords."""


def _password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.UsageError("no password on standard input")
    return password


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["mayor", "officer", "analyst", "admin"]), required=True)
@click.option("--city", type=CITY, help="the user's home city (all roles but admin)")
@click.option("--password-stdin", is_flag=True, required=True, help="read the password from standard input")
@_fail_cleanly
def users_add(username: str, role: str, city: str | None, password_stdin: bool) -> None:
    """Create a user."""
    from dashboard.app import user_store

    user = user_store(configuration.load()).add(username, role, city, _password_from_stdin())
    click.echo(f"user {user.username} ({user.role}, {user.city or 'no home city'}) created")


@users.command("list")
@format_option
@_fail_cleanly
def users_list(fmt: str) -> None:
    """List the users with their roles and home cities."""
    import polars as pl

    from dashboard.app import user_store

    rows = [(user.username, user.role, user.city) for user in user_store(configuration.load()).all()]
    frame = pl.DataFrame(rows, schema={"username": pl.String, "role": pl.String, "city": pl.String}, orient="row")
    _print(render(frame, fmt))


@users.command("remove")
@click.argument("username")
@_fail_cleanly
def users_remove(username: str) -> None:
    """Delete a user."""
    from dashboard.app import user_store

    user_store(configuration.load()).remove(username)
    click.echo(f"user {username} removed")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, required=True, help="read the new password from standard input")
@_fail_cleanly
def users_passwd(username: str, password_stdin: bool) -> None:
    """Set a user's password."""
    from dashboard.app import user_store

    user_store(configuration.load()).passwd(username, _password_from_stdin())
    click.echo(f"password of {username} changed")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the dashboard with gunicorn (each worker reads the published snapshots)."""
    import os

    settings = configuration.load()
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    os.execvp(
        sys.executable,
        [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
         "--control-socket", str(settings.home / "gunicorn.ctl"),
         "--access-logfile", str(settings.log_dir / "access.log"), "dashboard.wsgi:app"],
    )  # fmt: skip


@main.group()
def cities() -> None:
    """The cities of the cooperation: list them, add one by configuration, try a delivery."""


@cities.command("list")
@format_option
@_fail_cleanly
def cities_list(fmt: str) -> None:
    """Every city with its source, schedule and freshness."""
    from egovsad.onboarding import listing

    _print(render(listing(configuration.load()), fmt))


@cities.command("check")
@click.argument("slug", type=CITY)
@click.option("--since", callback=_date, help="only the files (or pulls) from this date, YYYY-MM-DD")
@click.option("--rows", default=10, show_default=True, type=click.IntRange(min=1), help="first rows shown")
@_fail_cleanly
def cities_check(slug: str, since: date | None, rows: int) -> None:
    """Dry run against the live source: first rows as stored, quarantine reasons; nothing is loaded.

    Exits 1 when the source cannot be read.
    """
    from egovsad.onboarding import describe, trial

    preview = trial(configuration.load(), slug, since=since, rows=rows)
    _print(describe(slug, preview))
    if not preview.result.ok:
        sys.exit(1)


@cities.command("add")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a city file (see README, 'Adding a municipality'); without it, questions guide you",
)
@click.option("--slug", help="the city's slug (default: the file's name without .toml)")
@click.option("--yes", is_flag=True, help="add without asking after the dry run")
@_fail_cleanly
def cities_add(path: Path | None, slug: str | None, yes: bool) -> None:
    """Add a municipality: describe it, see a dry run of its delivery, then keep its city file.

    Nothing is loaded: its pipeline runs on its schedule, or now with `egovsad ingest --city SLUG`.
    """
    from egovsad import onboarding

    settings = configuration.load()
    draft = None
    if path is None:
        slug, table = onboarding.ask_city(click.prompt, click.echo, settings.home)
        # the answers are kept as a file, so that a mistake is fixed there, not by answering again
        draft = path = settings.home / "tmp" / "city-drafts" / f"{slug}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(onboarding.city_text(table, slug), encoding="utf-8")
    try:
        city = onboarding.read_candidate(path, slug)
        candidate = configuration.with_city(settings, city)
    except configuration.ConfigError as error:
        hint = f"; your answers are in {draft}: correct it, then egovsad cities add --file {draft}" if draft else ""
        raise configuration.ConfigError(f"{error}{hint}") from error
    preview = onboarding.trial(candidate, city.slug)
    _print(onboarding.describe(city.slug, preview))
    text = path.read_text(encoding="utf-8")
    if not yes:
        click.echo(text)
        question = f"Add {city.name} ({city.slug})?" if preview.result.ok else "The trial failed. Add it anyway?"
        if not click.confirm(question, default=preview.result.ok):
            click.echo(f"nothing added{f' (your answers are in {draft})' if draft else ''}")
            return
    target = onboarding.add(settings, city, text)
    if draft:
        draft.unlink()
    click.echo(
        f"{city.name} ({city.slug}) added: {target}. It loads on its schedule "
        f"({candidate.city(city.slug, 'schedule')}) or now with: egovsad ingest --city {city.slug}"
    )
