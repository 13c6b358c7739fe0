"""A delivery described as data: transport, format, shape and mapping, for cities that need no code.

A city's ``[source]`` table is read here into a typed :class:`Delivery`, from a
city file under the home folder or from the files shipped beside the built-in
cities' modules (``pipelines/sources/<slug>.toml``). Every mistake raises
:class:`DeliveryError` naming the key and what it expects, so an administrator
can fix the file without reading code. The delivery only *describes*; the
sources in :mod:`pipelines.sources.generic` fetch, and the shared machinery
stages, validates and loads.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from pipelines.contract import (
    CHANNELS,
    DAILY_FIELDS,
    DEVICES,
    EVENT_FIELDS,
    EVENT_REQUIRED,
    LOCAL_TZ,
    STAGES,
)
from pipelines.errors import PipelineError
from pipelines.mapping import CASE_EVENT, CASE_STAGE, CASE_TIME, FieldMapping, TimeKind, TimeSpec


class DeliveryError(PipelineError):
    """A delivery description is not valid; the message names the key and what it expects."""


class Transport(StrEnum):
    FOLDER = "folder"
    HTTP = "http"


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"
    PARQUET = "parquet"


class Shape(StrEnum):
    EVENTS = "events"  # one row per event
    CASES = "cases"  # one row per case, a timestamp column per stage
    DAILY = "daily"  # counts per day, service and channel


#: the files a folder delivery reads when ``files`` is not given
DEFAULT_FILES = {Format.CSV: "*.csv", Format.XLSX: "*.xlsx", Format.JSONL: "*.jsonl*", Format.PARQUET: "*.parquet"}
#: fields a case row maps itself; event id, time and stage come from its stage columns
CASE_FIELDS = tuple(name for name in EVENT_FIELDS if name not in ("event_id", "occurred_at", "stage"))
CASE_DETAILS = ("user_seconds", "eid", "epayment", "device", "rating")
#: the words each closed field may be mapped onto
VOCABULARY = {"channel": CHANNELS, "stage": STAGES, "device": DEVICES}
SECONDS_PER_UNIT = {"seconds": 1.0, "minutes": 60.0}
KEYS = (
    "transport", "location", "token_env", "files", "file_date", "format", "shape", "delimiter", "encoding",
    "sheet", "compression", "decimal_mark", "time_format", "time_zone", "user_seconds_unit", "details_stage",
    "columns", "stages", "values", "service_names", "service_names_file", "booleans",
)  # fmt: skip
_DATE_PARTS = {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}"}


@dataclass(frozen=True)
class Delivery:
    """How one city delivers: what :mod:`pipelines.sources.generic` needs to read it."""

    transport: Transport
    format: Format
    shape: Shape
    mapping: FieldMapping
    files: str
    file_date: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    sheet: str | None = None
    gzipped: bool = False
    stages: dict[str, str] = field(default_factory=dict)
    details_stage: str = "submitted"
    location: str | None = None  # where a city file says the delivery is (a setting may override it)
    token_env: str | None = None

    @property
    def daily(self) -> bool:
        return self.shape is Shape.DAILY

    def dated(self, name: str) -> date | None:
        """The delivery date in a file's name (a month is dated by its last day), for backfills."""
        found = self._date_in_name(name)
        if found is None:
            return None
        if "%d" in (self.file_date or ""):
            return found
        following = date(found.year + found.month // 12, found.month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)

    def month(self, name: str) -> str | None:
        """The month a daily-count file is named for (``YYYY-MM``): the file replaces that month."""
        if not self.daily or "%d" in (self.file_date or ""):
            return None
        found = self._date_in_name(name)
        return None if found is None else found.strftime("%Y-%m")

    def _date_in_name(self, name: str) -> date | None:
        if not self.file_date:
            return None
        pattern = "".join(
            _DATE_PARTS.get(part, re.escape(part)) for part in re.split(r"(%[Ymd])", self.file_date) if part
        )
        found = re.search(pattern, name)
        if found is None:
            return None
        try:
            return datetime.strptime(found.group(0), self.file_date).date()
        except ValueError:
            return None

    def digest(self) -> str:
        """A stable digest of how files are read: a changed description reads unchanged files again."""
        text = json.dumps(
            [self.format, self.shape, self.delimiter, self.encoding, self.sheet, self.gzipped, self.stages,
             self.details_stage, self.file_date],
            sort_keys=True,
        )  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class _Table:
    """Reads the keys of one TOML table, remembering its place for messages."""

    def __init__(self, values: Any, where: str) -> None:
        if not isinstance(values, dict):
            raise DeliveryError(f"'{where}' must be a table")
        self.values: dict[str, Any] = values
        self.where = where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}"

    def text(self, key: str, default: str | None = None, *, choices: tuple[str, ...] = ()) -> str | None:
        value = self.values.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise DeliveryError(f"'{self.name(key)}' must be a non-empty text, not {value!r}")
        if choices and value not in choices:
            raise DeliveryError(f"'{self.name(key)}' must be one of {', '.join(choices)}, not {value!r}")
        return value

    def table(self, key: str) -> _Table:
        return _Table(self.values.get(key, {}), self.name(key))

    def words(self, key: str) -> dict[str, str]:
        """A table of text -> text."""
        table = self.table(key)
        for word, value in table.values.items():
            if not isinstance(value, str):
                raise DeliveryError(f"'{table.name(word)}' must be a text, not {value!r}")
        return dict(table.values)


def parse(table: dict[str, Any], *, where: str = "source", base_dir: Path | None = None) -> Delivery:
    """The delivery a ``[source]`` table describes; raises DeliveryError naming the key at fault.

    ``base_dir`` is where a ``service_names_file`` is looked for (the folder of the file
    the table came from).
    """
    source = _Table(table, where)
    unknown = sorted(set(source.values) - set(KEYS))
    if unknown:
        raise DeliveryError(f"unknown key '{source.name(unknown[0])}'; the keys are: {', '.join(KEYS)}")
    fmt = Format(source.text("format", choices=tuple(Format)) or _missing(source, "format"))
    shape = Shape(source.text("shape", choices=tuple(Shape)) or Shape.EVENTS)
    location = source.text("location")
    guessed = Transport.HTTP if location and re.match(r"https?://", location) else Transport.FOLDER
    transport = Transport(source.text("transport", choices=tuple(Transport)) or guessed)
    encoding = source.text("encoding", "utf-8") or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DeliveryError(f"'{source.name('encoding')}' {encoding!r} is not an encoding Python knows") from None
    delimiter = source.text("delimiter", ",") or ","
    if len(delimiter) != 1:
        raise DeliveryError(f"'{source.name('delimiter')}' must be one character, not {delimiter!r}")
    stages = _stages(source, shape)
    details_stage = source.text("details_stage", "submitted", choices=STAGES) or "submitted"
    return Delivery(
        transport=transport,
        format=fmt,
        shape=shape,
        mapping=_mapping(source, shape, stages, base_dir),
        files=source.text("files", DEFAULT_FILES[fmt]) or DEFAULT_FILES[fmt],
        file_date=_file_date(source),
        delimiter=delimiter,
        encoding=encoding,
        sheet=source.text("sheet"),
        gzipped=source.text("compression", "none", choices=("none", "gzip")) == "gzip",
        stages=stages,
        details_stage=details_stage,
        location=location,
        token_env=source.text("token_env"),
    )


def _missing(source: _Table, key: str) -> str:
    raise DeliveryError(f"'{source.name(key)}' is missing")


def _file_date(source: _Table) -> str | None:
    value = source.text("file_date")
    if value is not None and not ("%Y" in value and "%m" in value):
        raise DeliveryError(f"'{source.name('file_date')}' must contain %Y and %m (and %d for a day), not {value!r}")
    return value


def _stages(source: _Table, shape: Shape) -> dict[str, str]:
    stages = source.words("stages")
    if shape is not Shape.CASES:
        if stages:
            raise DeliveryError(f"'{source.name('stages')}' is only for shape = \"cases\"")
        return {}
    if not stages:
        raise DeliveryError(f"shape \"cases\" needs '{source.name('stages')}': stage = timestamp column")
    for stage in stages:
        if stage not in STAGES:
            raise DeliveryError(f"'{source.name('stages')}.{stage}' is not a stage; stages are {', '.join(STAGES)}")
    return stages


def _fields(shape: Shape) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fields a shape's columns may map, and those it must."""
    if shape is Shape.DAILY:
        return DAILY_FIELDS, DAILY_FIELDS
    if shape is Shape.CASES:
        return CASE_FIELDS, ("case_id", "service_key", "channel")
    return EVENT_FIELDS, EVENT_REQUIRED


def _mapping(source: _Table, shape: Shape, stages: dict[str, str], base_dir: Path | None) -> FieldMapping:
    allowed, required = _fields(shape)
    columns = source.words("columns")
    for name in columns:
        if name not in allowed:
            raise DeliveryError(
                f"'{source.name('columns')}.{name}' is not a field of shape \"{shape}\"; "
                f"the fields are {', '.join(allowed)}"
            )
    missing = [name for name in required if name not in columns]
    if missing:
        raise DeliveryError(f"'{source.name('columns')}' must name the column of {', '.join(missing)}")
    if shape is Shape.CASES:
        columns = {"event_id": CASE_EVENT, "occurred_at": CASE_TIME, "stage": CASE_STAGE, **columns}
    values = source.table("values")
    words: dict[str, dict[str, str]] = {}
    for name in values.values:
        if name not in (*VOCABULARY, "service_key"):
            raise DeliveryError(
                f"'{values.name(name)}' cannot be mapped; values are mapped for channel, stage, device, service_key"
            )
        words[name] = values.words(name)
        for word, value in words[name].items():
            if name in VOCABULARY and value not in VOCABULARY[name]:
                raise DeliveryError(
                    f"'{values.name(name)}.{word}' = {value!r} is not one of {', '.join(VOCABULARY[name])}"
                )
    unit = source.text("user_seconds_unit", "seconds", choices=tuple(SECONDS_PER_UNIT)) or "seconds"
    decimal = source.text("decimal_mark", ".", choices=(".", ",")) or "."
    return FieldMapping(
        columns=columns,
        values=words,
        time=_time(source),
        decimal_mark=decimal,
        user_seconds_scale=SECONDS_PER_UNIT[unit],
        booleans=_booleans(source),
        service_names=_service_names(source, base_dir),
        consumed=tuple(stages.values()),
    )


def _time(source: _Table) -> TimeSpec:
    text = source.text("time_format")
    zone = source.text("time_zone", LOCAL_TZ) or LOCAL_TZ
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DeliveryError(f"'{source.name('time_zone')}' {zone!r} is not a time zone (e.g. Europe/Berlin)") from None
    if text is None:
        # events: ISO 8601; counts: a day in any of the usual forms (2026-03-01, 01.03.2026)
        return TimeSpec(TimeKind.ISO, None, zone)
    if text in (TimeKind.ISO, TimeKind.EPOCH_SECONDS, TimeKind.NATIVE):
        return TimeSpec(TimeKind(text), None, zone)
    if "%" not in text:
        raise DeliveryError(
            f"'{source.name('time_format')}' must be iso, epoch_seconds, native or a pattern such as "
            f'"%d.%m.%Y %H:%M", not {text!r}'
        )
    return TimeSpec(TimeKind.LOCAL, text, zone)


def _booleans(source: _Table) -> dict[str, bool]:
    table = source.table("booleans")
    if not table.values:
        return {"true": True, "false": False}
    for word, value in table.values.items():
        if not isinstance(value, bool):
            raise DeliveryError(f"'{table.name(word)}' must be true or false, not {value!r}")
    return dict(table.values)


def _service_names(source: _Table, base_dir: Path | None) -> dict[str, str] | None:
    names = source.words("service_names")
    file_name = source.text("service_names_file")
    if file_name is None:
        return names or None
    path = Path(file_name) if base_dir is None else base_dir / file_name
    try:
        table = pl.read_csv(path, separator=";", schema={"name": pl.String, "service_key": pl.String})
    except (OSError, pl.exceptions.PolarsError) as error:
        raise DeliveryError(
            f"'{source.name('service_names_file')}': {path} is not a readable table name;service_key ({error})"
        ) from error
    return {**dict(table.iter_rows()), **names}


#: the shipped descriptions of the built-in cities that need no code of their own
SHIPPED_DIR = Path(__file__).resolve().parent / "sources"


def shipped(city: str) -> Delivery:
    """The shipped delivery of a built-in city (``pipelines/sources/<city>.toml``)."""
    path = SHIPPED_DIR / f"{city}.toml"
    with path.open("rb") as handle:
        table = tomllib.load(handle)
    return parse(table["source"], base_dir=path.parent)
