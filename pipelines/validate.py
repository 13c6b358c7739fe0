"""Validation of staged batches: typed canonical rows, or a quarantine reason per row.

Pure functions from frame to frame. Each check is an expression that is true
where the row fails, paired with its reason and a message naming the field and
the value; the first failing check decides the row's reason, in the order of
``_event_checks`` (personal data first, so it is never reported as anything else).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from pipelines.contract import (
    CHANNELS,
    COUNT_FIELDS,
    DAILY_SCHEMA,
    DEVICES,
    DIGITAL_CHANNELS,
    EVENT_SCHEMA,
    ID_MAX_LENGTH,
    LOCAL_TZ,
    RATING_RANGE,
    STAGES,
    USER_SECONDS_MAX,
    Reason,
)
from pipelines.mapping import ROW, UNIT, FieldMapping, TimeKind
from pipelines.personal_data import looks_personal

EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(hours=1)
SERVICE_KEY_PATTERN = r"^\d{14}$"
#: free text fields, checked for personal data on every row
FREE_TEXT = ("event_id", "case_id")
#: fields with a closed vocabulary: a valid value cannot be personal data, so they are
#: checked only on rows that fail anyway (a few), which is much cheaper than every row
CLOSED_TEXT = ("service_key", "channel", "stage", "device")
PERSONAL = "a text field looks like personal data"


@dataclass(frozen=True)
class Checked:
    """A batch split into rows to load and rows to quarantine (``_row``, reason, detail)."""

    valid: pl.DataFrame
    rejected: pl.DataFrame


@dataclass(frozen=True)
class Catalogue:
    """What validation checks service keys against."""

    service_keys: frozenset[str]


def _normalised(frame: pl.DataFrame) -> pl.DataFrame:
    """Text columns trimmed, with empty strings as NULL (done once, every check reads it)."""
    stripped = [(name, pl.col(name).str.strip_chars()) for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(pl.when(text.str.len_bytes() > 0).then(text).alias(name) for name, text in stripped)


def _text(name: str) -> pl.Expr:
    """A (normalised) column as text."""
    return pl.col(name).cast(pl.String)


def _integer(name: str, schema: pl.Schema, scale: float = 1.0, decimal: str = ".") -> pl.Expr:
    """Parse an integer field; a scaled field (minutes) is rounded to whole units."""
    dtype = schema[name]
    if dtype.is_integer() and scale == 1.0:
        return pl.col(name).cast(pl.Int64)
    if dtype.is_numeric():
        number = pl.col(name).cast(pl.Float64)
    else:
        text = _text(name)
        if decimal != ".":
            text = text.str.replace_all(".", "", literal=True).str.replace(decimal, ".")
        number = text.cast(pl.Float64, strict=False)
    number = number * scale
    if scale == 1.0:
        # an unscaled integer field must hold a whole number, not 3.5
        number = pl.when(number == number.round(0)).then(number)
    return number.round(0).cast(pl.Int64, strict=False)


def _boolean(name: str, schema: pl.Schema, words: dict[str, bool]) -> pl.Expr:
    if schema[name] == pl.Boolean:
        return pl.col(name)
    lowered = {word.lower(): value for word, value in words.items()}
    return _text(name).str.to_lowercase().replace_strict(lowered, default=None, return_dtype=pl.Boolean)


def _timestamp(schema: pl.Schema, mapping: FieldMapping) -> tuple[pl.Expr, pl.Expr]:
    """Parse occurred_at to UTC; return (instant, local_time_without_instant).

    The second expression is true where a local time parsed but does not exist in
    Europe/Berlin (the spring-forward gap); ambiguous autumn times take the earlier
    instant, as the contract says.
    """
    dtype = schema["occurred_at"]
    spec = mapping.time
    never = pl.lit(False)
    if isinstance(dtype, pl.Datetime):
        column = pl.col("occurred_at")
        if dtype.time_zone is None:
            return column.dt.replace_time_zone("UTC"), never
        return column.dt.convert_time_zone("UTC"), never
    text = _text("occurred_at")
    if spec.kind is TimeKind.EPOCH_SECONDS or (spec.kind is TimeKind.NATIVE and dtype.is_numeric()):
        seconds = text.cast(pl.Float64, strict=False)
        seconds = pl.when(seconds == seconds.round(0)).then(seconds).cast(pl.Int64, strict=False)
        return pl.from_epoch(seconds, time_unit="s").dt.replace_time_zone("UTC"), never
    if spec.kind is TimeKind.LOCAL:
        naive = text.str.to_datetime(spec.time_format, strict=False, time_unit="us")
        return _from_local(naive, spec.time_zone)

    with_offset = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_zone="UTC", time_unit="us")
    naive = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    local, gap = _from_local(naive, spec.time_zone)
    return pl.coalesce(with_offset, local), with_offset.is_null() & gap


def _from_local(naive: pl.Expr, zone: str = LOCAL_TZ) -> tuple[pl.Expr, pl.Expr]:
    local = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone("UTC"), naive.is_not_null() & local.is_null()


def _local_day(schema: pl.Schema, mapping: FieldMapping) -> pl.Expr:
    """The local calendar day of each event. A delivery in Berlin time already says it
    (no time-zone conversion, which costs as much as all the other checks together)."""
    spec = mapping.time
    if spec.kind is TimeKind.LOCAL and spec.time_zone == LOCAL_TZ and schema["occurred_at"] == pl.String:
        return _text("occurred_at").str.to_datetime(mapping.time.time_format, strict=False, time_unit="us").dt.date()
    return pl.col("_occurred").dt.convert_time_zone(LOCAL_TZ).dt.date()


def _service(mapping: FieldMapping | None) -> dict[str, pl.Expr]:
    """``_service`` (the service key) and ``_unmapped`` (a name the mapping does not know)."""
    if mapping is None or mapping.service_names is None:
        return {"_service": _text("service_key"), "_unmapped": pl.lit(False)}
    name = _text("service_key")
    key = name.replace_strict(mapping.service_names, default=None, return_dtype=pl.String)
    return {"_service": key, "_unmapped": name.is_not_null() & key.is_null()}


def _service_checks(catalogue: Catalogue) -> list[tuple[pl.Expr, Reason, pl.Expr]]:
    """A name the mapping does not know, then a key that is not 14 digits, then one not in the catalogue."""
    return [
        (
            pl.col("_unmapped"),
            Reason.UNMAPPED_SERVICE,
            pl.format("service name '{}' has no service key in the mapping", _text("service_key")),
        ),
        (
            ~pl.col("_service").str.contains(SERVICE_KEY_PATTERN),
            Reason.BAD_VALUE,
            pl.format("service_key '{}' is not 14 digits", pl.col("_service")),
        ),
        (
            ~pl.col("_service").is_in(list(catalogue.service_keys)),
            Reason.UNKNOWN_SERVICE,
            pl.format("service_key '{}' is not in the service catalogue", pl.col("_service")),
        ),
    ]


def _first_failure(checks: list[tuple[pl.Expr, Reason, pl.Expr]]) -> tuple[pl.Expr, pl.Expr]:
    """The reason and message of the first failing check per row (NULL where none fails)."""
    reason = pl.coalesce([pl.when(failed).then(pl.lit(why.value)) for failed, why, _ in checks])
    detail = pl.coalesce([pl.when(failed).then(message) for failed, _, message in checks])
    return reason, detail


def _not_one_of(name: str, allowed: tuple[str, ...]) -> tuple[pl.Expr, pl.Expr]:
    value = _text(name)
    failed = value.is_not_null() & ~value.is_in(list(allowed))
    message = pl.format(f"{name} '{{}}' is not one of {', '.join(allowed)}", value)
    return failed, message


def _split(
    frame: pl.DataFrame, checks: list[tuple[pl.Expr, Reason, pl.Expr]], typed: list[pl.Expr], closed: tuple[str, ...]
) -> Checked:
    """Valid rows typed; rejected rows with reason and message. Personal data in a
    closed-vocabulary field (``closed``) wins over the reason found first."""
    reason, detail = _first_failure(checks)
    keys = [pl.col(name) for name in (UNIT, ROW) if name in frame.columns]
    marked = frame.with_columns(reason.alias("_reason"))
    personal = pl.any_horizontal(*(looks_personal(name) for name in closed))
    # messages are built for the few rejected rows only, not for every row
    rejected = (
        marked.filter(pl.col("_reason").is_not_null())
        .rechunk()  # polars 2.1 can panic formatting messages over unevenly chunked columns
        .with_columns(detail.alias("_detail"))
        .with_columns(
            pl.when(personal).then(pl.lit(Reason.PERSONAL_DATA.value)).otherwise(pl.col("_reason")).alias("_reason"),
            pl.when(personal).then(pl.lit(PERSONAL)).otherwise(pl.col("_detail")).alias("_detail"),
        )
        .select(*keys, pl.col("_reason").alias("reason"), pl.col("_detail").alias("detail"))
    )
    valid = marked.filter(pl.col("_reason").is_null()).select(*keys, *typed)
    return Checked(valid, rejected)


def check_events(staged: pl.DataFrame, mapping: FieldMapping, catalogue: Catalogue, *, now: datetime) -> Checked:
    """Split a staged event batch into typed canonical events (with their ``local_date``)
    and rejected rows."""
    staged = _normalised(staged)
    schema = staged.schema
    occurred, gap = _timestamp(schema, mapping)
    user_seconds = _integer("user_seconds", schema, mapping.user_seconds_scale, mapping.decimal_mark)
    rating = _integer("rating", schema)
    eid = _boolean("eid", schema, mapping.booleans)
    epayment = _boolean("epayment", schema, mapping.booleans)
    frame = staged.with_columns(
        occurred.alias("_occurred"),
        gap.alias("_gap"),
        user_seconds.alias("_user_seconds"),
        rating.alias("_rating"),
        eid.alias("_eid"),
        epayment.alias("_epayment"),
    )
    frame = frame.with_columns(**_service(mapping))

    checks: list[tuple[pl.Expr, Reason, pl.Expr]] = []
    personal = pl.any_horizontal(*(looks_personal(f) for f in FREE_TEXT))
    checks.append((personal, Reason.PERSONAL_DATA, pl.lit(PERSONAL)))
    for field in ("event_id", "occurred_at", "service_key", "channel", "stage"):
        checks.append((_text(field).is_null(), Reason.MISSING_FIELD, pl.lit(f"{field} is missing")))
    for field in ("event_id", "case_id"):
        checks.append(
            (
                _text(field).str.len_chars() > ID_MAX_LENGTH,
                Reason.BAD_VALUE,
                pl.lit(f"{field} is longer than {ID_MAX_LENGTH} characters"),
            )
        )
    checks.append(
        (
            pl.col("_occurred").is_null() & ~pl.col("_gap"),
            Reason.BAD_VALUE,
            pl.format("occurred_at '{}' is not a valid timestamp", _text("occurred_at")),
        )
    )
    for field, allowed in (("channel", CHANNELS), ("stage", STAGES), ("device", DEVICES)):
        failed, message = _not_one_of(field, allowed)
        checks.append((failed, Reason.BAD_VALUE, message))
    checks.append(
        (
            _text("device").is_not_null() & ~_text("channel").is_in(list(DIGITAL_CHANNELS)),
            Reason.BAD_VALUE,
            pl.format(
                "device '{}' is given for channel '{}' (only online/app)",
                _text("device"),
                _text("channel"),
            ),
        )
    )
    for field, parsed, low, high in (
        ("user_seconds", "_user_seconds", 0, USER_SECONDS_MAX),
        ("rating", "_rating", *RATING_RANGE),
    ):
        raw_present = _text(field).is_not_null()
        value = pl.col(parsed)
        checks.append(
            (
                raw_present & (value.is_null() | (value < low) | (value > high)),
                Reason.BAD_VALUE,
                pl.format(f"{field} '{{}}' is not a whole number in {low}..{high}", _text(field)),
            )
        )
    for field in ("eid", "epayment"):
        checks.append(
            (
                _text(field).is_not_null() & pl.col(f"_{field}").is_null(),
                Reason.BAD_VALUE,
                pl.format(f"{field} '{{}}' is not a yes/no value", _text(field)),
            )
        )
    checks += _service_checks(catalogue)
    checks.append(
        (
            pl.col("_gap"),
            Reason.NONEXISTENT_LOCAL_TIME,
            pl.format(
                f"local time '{{}}' does not exist in {mapping.time.time_zone} (clock change)",
                _text("occurred_at"),
            ),
        )
    )
    checks.append(
        (
            (pl.col("_occurred") < EARLIEST) | (pl.col("_occurred") > now + FUTURE_TOLERANCE),
            Reason.IMPLAUSIBLE_TIME,
            pl.format("occurred_at {} is before 2020 or in the future", pl.col("_occurred")),
        )
    )
    typed = [
        _text("event_id").alias("event_id"),
        pl.col("_occurred").cast(EVENT_SCHEMA["occurred_at"]).alias("occurred_at"),
        _local_day(schema, mapping).alias("local_date"),
        pl.col("_service").alias("service_key"),
        _text("channel").alias("channel"),
        _text("stage").alias("stage"),
        _text("case_id").alias("case_id"),
        pl.col("_user_seconds").cast(pl.Int32).alias("user_seconds"),
        pl.col("_eid").alias("eid"),
        pl.col("_epayment").alias("epayment"),
        _text("device").alias("device"),
        pl.col("_rating").cast(pl.Int8).alias("rating"),
    ]
    return _split(frame, _fill_false(checks), typed, CLOSED_TEXT)


def _fill_false(
    checks: list[tuple[pl.Expr, Reason, pl.Expr]],
) -> list[tuple[pl.Expr, Reason, pl.Expr]]:
    """NULL in a check means 'not failed' (the field was simply not delivered)."""
    return [(failed.fill_null(False), why, message) for failed, why, message in checks]


def _date(schema: pl.Schema, day_format: str | None = None) -> pl.Expr:
    dtype = schema["day"]
    if dtype == pl.Date:
        return pl.col("day")
    if isinstance(dtype, pl.Datetime):
        return pl.col("day").dt.date()
    text = _text("day")
    if day_format:
        return text.str.to_datetime(day_format, strict=False, time_unit="us").dt.date()
    return pl.coalesce(
        text.str.to_date("%Y-%m-%d", strict=False),
        text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).dt.date(),
        text.str.to_date("%d.%m.%Y", strict=False),
    )


MONTH = "_month"


def check_daily(
    staged: pl.DataFrame, catalogue: Catalogue, *, today: datetime, mapping: FieldMapping | None = None
) -> Checked:
    """Split a staged daily-count batch into typed rows and rejected rows.

    A ``_month`` column (``YYYY-MM``, the month a file delivers) rejects days outside
    it: the month is replaced as a whole, so a stray day would otherwise be lost later.
    ``mapping`` may name the format of the days (a local time format) and a service
    name table.
    """
    staged = _normalised(staged)
    schema = staged.schema
    day_format = mapping.time.time_format if mapping and mapping.time.kind is TimeKind.LOCAL else None
    frame = staged.with_columns(
        _date(schema, day_format).alias("_day"),
        *(_integer(name, schema).alias(f"_{name}") for name in COUNT_FIELDS),
        **_service(mapping),
    )
    checks: list[tuple[pl.Expr, Reason, pl.Expr]] = []
    for field in DAILY_SCHEMA:
        checks.append((_text(field).is_null(), Reason.MISSING_FIELD, pl.lit(f"{field} is missing")))
    checks.append(
        (
            pl.col("_day").is_null(),
            Reason.BAD_VALUE,
            pl.format("day '{}' is not a date", _text("day")),
        )
    )
    failed, message = _not_one_of("channel", CHANNELS)
    checks.append((failed, Reason.BAD_VALUE, message))
    for name in COUNT_FIELDS:
        value = pl.col(f"_{name}")
        checks.append(
            (
                value.is_null() | (value < 0),
                Reason.BAD_VALUE,
                pl.format(f"{name} '{{}}' is not a non-negative whole number", _text(name)),
            )
        )
    checks += _service_checks(catalogue)
    if MONTH in staged.columns:
        checks.append(
            (
                pl.col(MONTH).is_not_null() & (pl.col("_day").dt.strftime("%Y-%m") != pl.col(MONTH)),
                Reason.BAD_VALUE,
                pl.format("day {} is outside the delivered month {}", pl.col("_day"), pl.col(MONTH)),
            )
        )
    checks.append(
        (
            (pl.col("_day") < EARLIEST.date()) | (pl.col("_day") > (today + FUTURE_TOLERANCE).date()),
            Reason.IMPLAUSIBLE_TIME,
            pl.format("day {} is before 2020 or in the future", pl.col("_day")),
        )
    )
    typed = [
        pl.col("_day").alias("day"),
        pl.col("_service").alias("service_key"),
        _text("channel").alias("channel"),
        *(pl.col(f"_{name}").alias(name) for name in COUNT_FIELDS),
    ]
    return _split(frame, _fill_false(checks), typed, ("service_key", "channel"))


def unmapped_names(staged: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """The service names rejected as unmapped, counted per unit (``_unit``, name, count)."""
    return (
        rejected.filter(pl.col("reason") == Reason.UNMAPPED_SERVICE.value)
        .join(staged.select(UNIT, ROW, "service_key"), on=[UNIT, ROW])
        .group_by(UNIT, "service_key")
        .len()
    )
