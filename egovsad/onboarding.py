"""Adding a municipality by configuration: the questions, the dry run, the city file, the list.

The command line (``egovsad cities add|check|list``) is a thin layer over this
module. A new city is described (interactively or by a file), tried against its
live source in a throwaway warehouse, shown, and only then written to
``cities/<slug>.toml``; nothing is loaded until its pipeline runs.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click
import polars as pl

from egovsad.cities import CityFile, CityFileError, check_slug, parse_city, toml_text
from egovsad.config import ADDED_CITY_SCHEDULE, CITIES, Config, ConfigError
from egovsad.freshness import assess
from egovsad.output import to_table
from pipelines.contract import CHANNELS, DAILY_FIELDS, DEVICES, EVENT_FIELDS, EVENT_REQUIRED, LOCAL_TZ, STAGES
from pipelines.delivery import CASE_FIELDS, DEFAULT_FILES, Delivery, Format, Shape, Transport, shipped
from pipelines.errors import PipelineError
from pipelines.preview import Preview, dry_run
from pipelines.readers import csv_batches, ndjson_batches, parquet_batches, xlsx_frame
from pipelines.sources import SPECIAL, build_source
from warehouse.errors import WarehouseError
from warehouse.queries import city_status
from warehouse.seed import read_cities
from warehouse.snapshots import open_current

Ask = Callable[..., Any]
T = TypeVar("T")


def read_candidate(path: Path, slug: str | None = None) -> CityFile:
    """A city file not yet added (its slug: ``slug`` or the file's name)."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path} is not a readable TOML file: {error}") from error
    try:
        return parse_city(table, slug=slug or path.stem, path=path)
    except CityFileError as error:
        raise ConfigError(f"{path}: {error}") from error


def trial(settings: Config, slug: str, *, since: date | None = None, rows: int = 10) -> Preview:
    """The dry run of ``slug``'s configured source (live), nothing loaded."""
    source = build_source(settings.source_settings(slug))
    return dry_run(source, work_dir=settings.home / "tmp" / "trials", since=since, rows=rows)


def describe(slug: str, preview: Preview) -> str:
    """The dry run in words and tables, as an administrator reads it."""
    result, totals = preview.result, preview.result.totals
    if not result.ok:
        return f"Dry run of {slug}: the trial failed: {result.error}\n"
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(totals.quarantined.items()))
    lines = [
        f"Dry run of {slug} (nothing is loaded): {totals.units_seen} file(s), {totals.rows_read} rows read; "
        f"a run would load {totals.rows_loaded}, count {totals.rows_duplicate} as duplicates and quarantine "
        f"{totals.rows_quarantined}" + (f" ({reasons})" if reasons else ""),
        "",
    ]
    if preview.first_rows.height:
        lines += [f"First rows of {preview.first_source} as they would be stored (times in {LOCAL_TZ}):"]
        shown = preview.first_rows.with_columns(
            pl.col(name).dt.convert_time_zone(LOCAL_TZ).dt.strftime("%Y-%m-%d %H:%M:%S")
            for name, dtype in preview.first_rows.schema.items()
            if isinstance(dtype, pl.Datetime)
        )
        lines += [to_table(shown), ""]
    elif totals.rows_read:
        lines += [f"None of the first rows of {preview.first_source} would be stored.", ""]
    if preview.examples.height:
        lines.append("Quarantine reasons (rows; the first of each):")
        for reason, source, row_number, detail in preview.examples.iter_rows():
            where = source if row_number is None else f"{source} row {row_number}"
            lines.append(f"  {reason:<22} {totals.quarantined.get(reason, 0):>7}  {where}: {detail}")
        lines.append("")
    if totals.dropped_columns:
        lines.append(f"Dropped columns (not in the mapping, never stored): {', '.join(totals.dropped_columns)}")
    if totals.unmapped_names:
        names = ", ".join(f"'{name}' x{count}" for name, count in sorted(totals.unmapped_names.items()))
        lines.append(f"Unmapped service names (add them to [source.service_names]): {names}")
    return "\n".join(lines).rstrip() + "\n"


def add(settings: Config, city: CityFile, text: str) -> Path:
    """Write ``city``'s file (``text``) to the home's city folder, with its service name table if
    it names one; return the file."""
    folder = settings.city_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{city.slug}.toml"
    if target.exists():
        raise ConfigError(f"{target} exists already")
    table = tomllib.loads(text).get("source", {})
    names = table.get("service_names_file")
    if names and (city.path.parent / names).resolve() != (folder / names).resolve():
        shutil.copyfile(city.path.parent / names, folder / names)
    # written aside and renamed, so a reader never sees half a city file
    pending = target.with_suffix(".toml.partial")
    pending.write_text(text, encoding="utf-8")
    pending.replace(target)
    return target


def _delivery(settings: Config, slug: str) -> tuple[str, Delivery | None]:
    if slug in settings.definitions:
        return settings.definitions[slug].path.name, settings.definitions[slug].delivery
    if slug in SPECIAL:
        return "built in (own module)", None
    return "built in", shipped(slug)


def listing(settings: Config, now: datetime | None = None) -> pl.DataFrame:
    """Every configured city with its source and freshness (from the snapshot in service)."""
    names = dict(read_cities().select("slug", "name").iter_rows())
    names |= {slug: city.name for slug, city in settings.definitions.items()}
    try:
        _path, con = open_current(settings.snapshot_dir, memory_limit=str(settings.values["readers.memory_limit"]))
        with con:
            status = assess(city_status(con), settings, now or datetime.now(UTC))
    except WarehouseError:
        status = pl.DataFrame(schema={"city": pl.String, "state": pl.String, "data_until": pl.Datetime("us", "UTC")})
    freshness = {row["city"]: row for row in status.iter_rows(named=True)}
    rows = []
    for slug in settings.cities:
        origin, delivery = _delivery(settings, slug)
        row = freshness.get(slug, {})
        rows.append(
            {
                "city": slug,
                "name": names.get(slug, slug),
                "defined": origin,
                "source": "http, JSON API"
                if delivery is None
                else f"{delivery.transport}, {delivery.format}, {delivery.shape}",
                "location": str(settings.city(slug, "location")),
                "schedule": str(settings.city(slug, "schedule")),
                "state": row.get("state") or "no data yet",
                "data_until": row.get("data_until"),
            }
        )
    return pl.DataFrame(rows, schema={"city": pl.String, "name": pl.String, "defined": pl.String, "source": pl.String,
                                      "location": pl.String, "schedule": pl.String, "state": pl.String,
                                      "data_until": pl.Datetime("us", "UTC")})  # fmt: skip


def _words(answer: str, allowed: tuple[str, ...] | None, what: str) -> dict[str, str]:
    """``Web=online, Call=phone`` as a table; CityFileError naming a pair that is not valid."""
    words: dict[str, str] = {}
    for part in filter(None, (item.strip() for item in answer.split(","))):
        word, equals, value = part.partition("=")
        if not equals or not word.strip() or not value.strip():
            raise CityFileError(f"'{part}' is not word=value")
        if allowed is not None and value.strip() not in allowed:
            raise CityFileError(f"'{value.strip()}' is not a {what} ({', '.join(allowed)})")
        words[word.strip()] = value.strip()
    return words


def _until_valid(ask: Ask, say: Callable[[str], None], parse: Callable[[str], T], text: str, **options: Any) -> T:
    """Ask until ``parse`` takes the answer, saying what was wrong with each one it did not."""
    while True:
        answer = ask(text, **options)
        try:
            return parse(answer)
        except CityFileError as error:
            say(f"  {error}")


def _columns_found(delivery: dict[str, Any], location: str) -> list[str]:
    """The columns of the first file of a folder delivery (best effort: empty when unreadable)."""
    fmt = Format(delivery["format"])
    folder = Path(location).expanduser()
    files = sorted(folder.glob(delivery.get("files", DEFAULT_FILES[fmt]))) if folder.is_dir() else []
    if not files:
        return []
    try:
        if fmt is Format.CSV:
            batch = next(csv_batches(files[0], delimiter=delivery["delimiter"], encoding=delivery["encoding"]))
        elif fmt is Format.XLSX:
            batch = xlsx_frame(files[0], sheet=delivery.get("sheet"))
        elif fmt is Format.JSONL:
            batch = next(ndjson_batches(files[0], fields=(), gzipped=delivery.get("compression") == "gzip"))
        else:
            batch = next(parquet_batches(files[0]))
    except (PipelineError, OSError, StopIteration, pl.exceptions.PolarsError):
        return []  # a hint only: the dry run says what is wrong with the file
    return [name for name in batch.frame.columns if not name.startswith("_")]


def ask_city(ask: Ask, say: Callable[[str], None], home: Path) -> tuple[str, dict[str, Any]]:
    """Ask an administrator for a new city, step by step; return its slug and city file table.

    ``ask(text, default=..., type=...)`` is click.prompt; ``say`` tells what was found
    (the columns of the first file in a drop folder under ``home``).
    """
    slug = _until_valid(ask, say, _new_slug, "Slug (lower-case, used in URLs and commands)")
    table: dict[str, Any] = {
        "name": ask("Name of the municipality"),
        "ags": ask("Official municipality key (AGS, 8 digits)"),
    }
    district = ask("District (Landkreis), empty for none", default="", show_default=False)
    if district:
        table["district"] = district
    inhabitants = ask("Population", type=int)
    reference = ask("Reference date of the population (YYYY-MM-DD)")
    table["schedule"] = ask("When to load (cron, Europe/Berlin)", default=ADDED_CITY_SCHEDULE)
    table["population"] = {reference: inhabitants}
    source: dict[str, Any] = {}
    source["transport"] = ask("Transport (folder or http)", default="folder", type=_choice(Transport))
    if source["transport"] == Transport.HTTP:
        source["location"] = ask("URL of the export")
        token_env = ask("Environment variable with the bearer token, empty for none", default="", show_default=False)
        if token_env:
            source["token_env"] = token_env
    else:
        source["location"] = ask("Drop folder", default=f"{{home}}/inbox/{slug}")
    source["format"] = ask("Format (csv, xlsx, jsonl, parquet)", type=_choice(Format))
    if source["format"] == Format.CSV:
        source["delimiter"] = ask("Delimiter", default=",")
        source["encoding"] = ask("Encoding (utf-8, cp1252, ...)", default="utf-8")
        source["decimal_mark"] = ask("Decimal mark", default=".")
    elif source["format"] == Format.XLSX:
        sheet = ask("Sheet, empty for the first", default="", show_default=False)
        if sheet:
            source["sheet"] = sheet
    elif source["format"] == Format.JSONL:
        source["compression"] = ask("Compression (none or gzip)", default="none")
    if source["transport"] == Transport.FOLDER:
        source["files"] = ask("Which files (a pattern)", default=DEFAULT_FILES[Format(source["format"])])
        file_date = ask("Date in the file names, e.g. export_%Y-%m-%d (empty: none)", default="", show_default=False)
        if file_date:
            source["file_date"] = file_date
    source["shape"] = shape = Shape(
        ask("Shape: events (a row per event), cases (a row per case) or daily (counts)", type=_choice(Shape))
    )
    found = _columns_found(source, str(source["location"]).replace("{home}", str(home)))
    if found:
        say(f"Columns of the first file: {', '.join(found)}")
    if shape is Shape.DAILY:
        time_format = ask("Date format, e.g. %d.%m.%Y (empty: 2026-03-01 or 01.03.2026)", default="",
                          show_default=False)  # fmt: skip
    else:
        time_format = ask('Time format: iso, epoch_seconds, native or a pattern such as "%m/%d/%Y %I:%M %p"',
                          default="iso")  # fmt: skip
        source["time_zone"] = ask("Time zone of local times", default=LOCAL_TZ)
    if time_format:
        source["time_format"] = time_format
    source["columns"] = columns = _ask_columns(ask, shape)
    if shape is Shape.CASES:
        source["stages"] = {
            stage: column
            for stage in STAGES
            if (column := ask(f"Timestamp column of stage '{stage}' (empty: none)", default="", show_default=False))
        }
    values: dict[str, dict[str, str]] = {}
    for name, allowed in (("channel", CHANNELS), ("stage", STAGES), ("device", DEVICES)):
        if name in columns:
            words = _until_valid(
                ask, say, partial(_words, allowed=allowed, what=name),
                f"Words for {name} as word={'|'.join(allowed)}, comma-separated (empty: as they are)",
                default="", show_default=False,
            )  # fmt: skip
            if words:
                values[name] = words
    if values:
        source["values"] = values
    names = _until_valid(
        ask, say, partial(_words, allowed=None, what="service key"),
        "Service names as name=LeiKa key, comma-separated (empty: the column holds LeiKa keys)",
        default="", show_default=False,
    )  # fmt: skip
    if names:
        source["service_names"] = names
    if "eid" in columns or "epayment" in columns:
        pairs = _until_valid(
            ask, say, partial(_words, allowed=("true", "false"), what="yes/no"),
            "Yes/no words as word=true|false, comma-separated", default="true=true, false=false",
        )  # fmt: skip
        source["booleans"] = {word: value == "true" for word, value in pairs.items()}
    if "user_seconds" in columns:
        source["user_seconds_unit"] = ask("Unit of the citizen's time (seconds or minutes)", default="seconds")
    table["source"] = source
    return slug, table


def _new_slug(answer: str) -> str:
    if answer in CITIES:
        raise CityFileError(f"'{answer}' is a built-in city")
    return check_slug(answer)


def _ask_columns(ask: Ask, shape: Shape) -> dict[str, str]:
    fields = {Shape.DAILY: DAILY_FIELDS, Shape.CASES: CASE_FIELDS, Shape.EVENTS: EVENT_FIELDS}[shape]
    required = {Shape.DAILY: DAILY_FIELDS, Shape.CASES: ("case_id", "service_key", "channel")}.get(
        shape, EVENT_REQUIRED
    )
    columns: dict[str, str] = {}
    for name in fields:
        if name in required:
            columns[name] = ask(f"Column of {name}")
        elif column := ask(f"Column of {name} (empty: not delivered)", default="", show_default=False):
            columns[name] = column
    return columns


def _choice(options: type[Any]) -> click.Choice:
    return click.Choice([str(option) for option in options])


def city_text(table: dict[str, Any], slug: str) -> str:
    """The city file for ``table``, with a header saying what it is."""
    return f"# {table.get('name', slug)} in eGovSAD (egovsad cities add); see README, 'Adding a municipality'.\n" + (
        toml_text(table)
    )
