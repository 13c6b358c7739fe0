"""From cases to canonical usage events: timestamps in UTC, stages, ids and optional fields.

Start times are drawn on the local wall clock and localised to Europe/Berlin, so the
daylight-saving days come out as they do in real logs: no starts in the skipped spring hour
(a citizen at the keyboard at "02:30" is really at 03:30), and both instants of the repeated
autumn hour occur. Later steps are elapsed time after the start, back-office decisions are
local office hours. Optional fields are NULL where a channel or stage cannot have them.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.contract import CHANNELS, DEVICES, EVENT_SCHEMA, LOCAL_TZ, STAGES

from . import ids
from .cases import Cases, Period, draw_cases
from .model import DIGITAL, CityModel

TZ = LOCAL_TZ

# Helper columns the writers use and drop: the local day decides the delivery file, the
# event number keys the choice of faults.
DAY = "_day"
NUMBER = "_number"


def city_events(city: CityModel, period: Period, *, seed: int, scale: float) -> pl.DataFrame:
    """The canonical events of `city` whose local day lies in `period`, sorted by time.

    Columns: EVENT_SCHEMA plus DAY (pl.Date) and NUMBER (pl.Int64)."""
    cases = draw_cases(city, period, seed=seed, scale=scale)
    frame = _case_frame(city, cases, seed=seed)
    started_at = _localise(pl.from_epoch("start_local", time_unit="s"), pl.col("ambiguous"))
    frame = frame.with_columns(started_at=started_at).with_columns(
        step_at=pl.col("started_at") + pl.duration(seconds=pl.col("step_seconds")),
    )
    frame = frame.with_columns(
        outcome_at=pl.when(pl.col("instant"))
        .then(pl.col("step_at") + pl.duration(seconds=pl.col("outcome_seconds")))
        .otherwise(_localise(pl.from_epoch("outcome_local", time_unit="s"), pl.lit("earliest")))
    )
    digital_submitted = pl.col("digital") & ~pl.col("abandoned")
    started = frame.select(
        _number(0), pl.col("started_at").alias("occurred_at"), "service_key", "channel",
        stage=pl.lit("started"), case_id="case_id", user_seconds=pl.lit(None, pl.Int32),
        eid=pl.lit(None, pl.Boolean), epayment=pl.lit(None, pl.Boolean), device="device",
        rating=pl.lit(None, pl.Int8),
    )  # fmt: skip
    step = frame.select(
        _number(1), pl.col("step_at").alias("occurred_at"), "service_key", "channel",
        stage=pl.when("abandoned").then(pl.lit("abandoned")).otherwise(pl.lit("submitted")),
        case_id="case_id",
        user_seconds=pl.when(~pl.col("abandoned")).then(pl.col("step_seconds").cast(pl.Int32)),
        eid=pl.when(digital_submitted).then("eid"),
        epayment=pl.when(digital_submitted).then("epayment"),
        device="device",
        rating=pl.when(~pl.col("abandoned") & (pl.col("rating") > 0)).then(pl.col("rating")),
    )  # fmt: skip
    outcome = frame.filter("has_outcome").select(
        _number(2), pl.col("outcome_at").alias("occurred_at"), "service_key", "channel",
        stage=pl.when("rejected").then(pl.lit("rejected")).otherwise(pl.lit("completed")),
        case_id="case_id", user_seconds=pl.lit(None, pl.Int32), eid=pl.lit(None, pl.Boolean),
        epayment=pl.lit(None, pl.Boolean), device=pl.lit(None, pl.String),
        rating=pl.lit(None, pl.Int8),
    )  # fmt: skip
    events = pl.concat([started, step, outcome], how="vertical_relaxed")
    events = events.with_columns(
        pl.col("occurred_at").dt.convert_time_zone("UTC"),
        pl.col("occurred_at").dt.convert_time_zone(TZ).dt.date().alias(DAY),
    ).filter(pl.col(DAY).is_between(period.start, period.end))
    prefix = city.profile.prefix + "-"
    events = events.with_columns(
        event_id=pl.lit(prefix) + pl.col(NUMBER).cast(pl.String),
    ).sort("occurred_at", NUMBER)
    return events.select(*EVENT_SCHEMA, DAY, NUMBER).cast(pl.Schema(EVENT_SCHEMA))


def _case_frame(city: CityModel, cases: Cases, *, seed: int) -> pl.DataFrame:
    """One row per case with what the events need, ids included."""
    ordinals = cases.day.astype(np.int64)
    case_hex = ids.hex40(ids.case_numbers(seed, city.stream, ordinals, cases.rank))
    per_case = 2 + cases.has_outcome.astype(np.int64)
    before = np.cumsum(per_case) - per_case  # events of earlier cases, all days
    first_of_day = np.searchsorted(cases.day, cases.day, side="left")
    seq = before - before[first_of_day] + 1
    number = ids.event_numbers(_yyyymmdd(cases.day), seq)
    keys = np.array(city.service_keys)
    devices = np.array([*DEVICES, ""])
    return pl.DataFrame(
        {
            "number": number,
            "service_key": keys[cases.service],
            "channel": np.array(CHANNELS)[cases.channel],
            "case_id": np.char.add(city.profile.prefix + "C", case_hex),
            "start_local": cases.start_local,
            "ambiguous": np.where(cases.latest, "latest", "earliest"),
            "step_seconds": cases.step_seconds,
            "abandoned": cases.abandoned,
            "has_outcome": cases.has_outcome,
            "rejected": cases.rejected,
            "instant": cases.instant,
            "outcome_seconds": cases.outcome_seconds,
            "outcome_local": cases.outcome_local,
            "digital": DIGITAL[cases.channel],
            "device": devices[cases.device],
            "eid": cases.eid,
            "epayment": cases.epayment,
            "rating": cases.rating.astype(np.int8),
        }
    ).with_columns(pl.col("device").replace("", None))


def _localise(naive: pl.Expr, ambiguous: pl.Expr) -> pl.Expr:
    """Read a naive wall-clock time as Europe/Berlin; a time in the spring gap is moved an hour
    on, as the clock on the wall would have shown."""
    local = naive.dt.replace_time_zone(TZ, ambiguous=ambiguous, non_existent="null")
    later = naive + pl.duration(hours=1)
    shifted = later.dt.replace_time_zone(TZ, ambiguous="earliest", non_existent="null")
    return local.fill_null(shifted)


def _number(step: int) -> pl.Expr:
    return (pl.col("number") + step).alias(NUMBER)


def _yyyymmdd(days: np.ndarray) -> np.ndarray:
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    return years * 10_000 + months * 100 + dom


def daily_counts(events: pl.DataFrame) -> pl.DataFrame:
    """Roll events up to the contract's daily aggregate (section 3): one row per local day,
    service and channel with the count of each stage, as Wetzlar's statistics report them.
    `date` is a field that faults may blank; the DAY helper keeps the row's day."""
    return (
        events.group_by(DAY, "service_key", "channel")
        .agg((pl.col("stage") == stage).sum().cast(pl.Int64).alias(stage) for stage in STAGES)
        .with_columns(pl.col(DAY).alias("date"))
        .sort("date", "service_key", "channel")
        .select(DAY, "date", "service_key", "channel", *STAGES)
    )
