"""Deliberate faults in the deliveries, so the pipelines' validation and quarantine get work.

A fraction `rate` of the rows is spoiled, each in one of the ways the data contract names
(section 6 and 7) that the city's format can express. Which rows and how is decided by hashing
the row's event number with the seed, so a day's faults do not depend on the simulated period.
Most faults are made on the canonical frame and reach every format unchanged (an unknown
channel word passes through the writers' word mappings as it is); two need the written form
and are only marked here, in the FAULT column: Gießen's nonexistent local time (a canonical
UTC timestamp cannot hold one) and Fulda's unmapped service name.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from enum import StrEnum

import numpy as np
import polars as pl

from pipelines.contract import CHANNELS, STAGES

from . import ids, rhythms
from .events import DAY, NUMBER

FAULT = "_fault"
_FAULT_STREAM = 0xFA017


class FaultKind(StrEnum):
    """The kinds of injected fault; the value is what the summary reports."""

    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_SERVICE = "unknown_service"
    MISSING_FIELD = "missing_field"
    BAD_RATING = "bad_rating"
    PERSONAL_DATA = "personal_data"
    EXACT_DUPLICATE = "exact_duplicate"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    IMPLAUSIBLE_TIME = "implausible_time"
    NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"
    UNMAPPED_SERVICE = "unmapped_service"
    NEGATIVE_COUNT = "negative_count"


K = FaultKind
_EVENT_KINDS = (
    K.UNKNOWN_CHANNEL, K.UNKNOWN_SERVICE, K.MISSING_FIELD, K.BAD_RATING, K.PERSONAL_DATA,
    K.EXACT_DUPLICATE, K.CONFLICTING_DUPLICATE, K.IMPLAUSIBLE_TIME,
)  # fmt: skip
CITY_KINDS: dict[str, tuple[FaultKind, ...]] = {
    "giessen": (*_EVENT_KINDS, K.NONEXISTENT_LOCAL_TIME),
    "fulda": tuple(K.UNMAPPED_SERVICE if k is K.UNKNOWN_SERVICE else k for k in _EVENT_KINDS),
    "offenbach": _EVENT_KINDS,
    "marburg": _EVENT_KINDS,
    "limburg": _EVENT_KINDS,
    "wetzlar": (K.UNKNOWN_CHANNEL, K.UNKNOWN_SERVICE, K.MISSING_FIELD, K.NEGATIVE_COUNT),
}
_REQUIRED = ("event_id", "occurred_at", "service_key", "channel", "stage")
# Marburg's API selects by time, so an event without a time could never be served.
MISSING_FIELDS: dict[str, tuple[str, ...]] = {
    "marburg": tuple(f for f in _REQUIRED if f != "occurred_at"),
    "wetzlar": ("date", "service_key", "channel"),
}

UNKNOWN_CHANNEL_WORD = "Fax"
UNKNOWN_SERVICE_KEY = "99000000000000"  # 14 digits, not in the catalogue
UNMAPPED_FULDA_NAMES = ("Fischereischein beantragen", "Beglaubigung von Dokumenten")
PERSONAL_VALUES = (
    "anna.schmidt@example.org",
    "k.mueller@mail.example",
    "DE89370400440532013000",
    "DE02 1203 0000 0000 2020 51",
    "+49 641 306-1234",
    "0151 23456789",
)
BAD_RATINGS = (0, 6, 9, -1)
IMPLAUSIBLE_YEAR = 2031


def inject_event_faults(
    events: pl.DataFrame, city: str, *, seed: int, stream: int, rate: float
) -> tuple[pl.DataFrame, Counter[str]]:
    """Spoil a fraction `rate` of the event rows; return the rows (duplicates appended at the
    end, so they come later in the delivery) and the count per kind. The FAULT column names
    each spoilt row's kind, for the writers' own faults."""
    kinds = CITY_KINDS[city]
    picked, variant = _pick(events[NUMBER].to_numpy(), seed, stream, rate)
    kind = _kinds(picked, variant, kinds)
    events = events.with_columns(kind, pl.Series("_variant", variant // len(kinds)))
    fault, v = pl.col(FAULT), pl.col("_variant")
    spoiled = events.with_columns(
        _spoil(fault, "channel", K.UNKNOWN_CHANNEL, pl.lit(UNKNOWN_CHANNEL_WORD)),
        _spoil(fault, "service_key", K.UNKNOWN_SERVICE, pl.lit(UNKNOWN_SERVICE_KEY)),
        _spoil(fault, "case_id", K.PERSONAL_DATA, _choice(v, PERSONAL_VALUES)),
        _spoil(fault, "rating", K.BAD_RATING, _choice(v, BAD_RATINGS).cast(pl.Int8)),
        _spoil(fault, "occurred_at", K.IMPLAUSIBLE_TIME, _year(IMPLAUSIBLE_YEAR)),
    ).with_columns(_blank(fault, v, MISSING_FIELDS.get(city, _REQUIRED)))
    exact = spoiled.filter(fault == K.EXACT_DUPLICATE)
    conflicting = spoiled.filter(fault == K.CONFLICTING_DUPLICATE).with_columns(
        user_seconds=(pl.col("user_seconds").fill_null(0) + 60 + v % 600).cast(pl.Int32)
    )
    result = pl.concat([spoiled, exact, conflicting]).drop("_variant")
    return result, _tally(kind)


def inject_count_faults(
    counts: pl.DataFrame, *, seed: int, stream: int, rate: float
) -> tuple[pl.DataFrame, Counter[str]]:
    """Spoil a fraction `rate` of Wetzlar's daily rows (see `events.daily_counts`); the row's
    day, service and channel key the choice."""
    kinds = CITY_KINDS["wetzlar"]
    numbers = range(len(CHANNELS))
    channel_no = counts["channel"].replace_strict(CHANNELS, numbers, return_dtype=pl.UInt64)
    service_no = counts["service_key"].cast(pl.UInt64).to_numpy()
    day_no = counts[DAY].cast(pl.Int64).to_numpy()
    key = ids.splitmix64(day_no) ^ (service_no << np.uint64(3)) ^ channel_no.to_numpy()
    picked, variant = _pick(key, seed, stream, rate)
    kind = _kinds(picked, variant, kinds)
    counts = counts.with_columns(kind, pl.Series("_variant", variant // len(kinds)))
    fault, v = pl.col(FAULT), pl.col("_variant")
    spoiled = counts.with_columns(
        _spoil(fault, "channel", K.UNKNOWN_CHANNEL, pl.lit(UNKNOWN_CHANNEL_WORD)),
        _spoil(fault, "service_key", K.UNKNOWN_SERVICE, pl.lit(UNKNOWN_SERVICE_KEY)),
        *(
            pl.when((fault == K.NEGATIVE_COUNT) & (v % len(STAGES) == i))
            .then(-1 - (v % 5) - pl.col(name))
            .otherwise(pl.col(name))
            .alias(name)
            for i, name in enumerate(STAGES)
        ),
    ).with_columns(_blank(fault, v, MISSING_FIELDS["wetzlar"]))
    return spoiled.drop("_variant"), _tally(kind)


def nonexistent_day(end: dt.date) -> dt.date:
    """The spring-forward day used for Gießen's nonexistent local times: the last one on or
    before the end of the period (in the period whenever it holds one)."""
    day = rhythms.spring_forward_day(end.year)
    return day if day <= end else rhythms.spring_forward_day(end.year - 1)


def giessen_local_time(text: pl.Expr, day: dt.date) -> pl.Expr:
    """Gießen's `Zeitpunkt`, with marked rows moved into the skipped hour 02:00-03:00 of the
    spring-forward `day`, keeping their minutes and seconds."""
    gap = pl.lit(day.strftime("%d.%m.%Y 02:")) + text.str.slice(14, 5)
    return pl.when(pl.col(FAULT) == K.NONEXISTENT_LOCAL_TIME).then(gap).otherwise(text)


def fulda_service_name(name: pl.Expr) -> pl.Expr:
    """Fulda's `leistung`, with marked rows carrying a name the mapping table does not know."""
    unmapped = _choice(pl.col(NUMBER), UNMAPPED_FULDA_NAMES)
    return pl.when(pl.col(FAULT) == K.UNMAPPED_SERVICE).then(unmapped).otherwise(name)


def _pick(keys: np.ndarray, seed: int, stream: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Which rows get a fault (hash below `rate`) and a number to choose kind and variant."""
    hashes = ids.keyed_hash(seed, stream ^ _FAULT_STREAM, keys)
    picked = ids.unit_interval(hashes) < rate
    variant = (ids.splitmix64(hashes) % np.uint64(1 << 30)).astype(np.int64)
    return picked, variant


def _kinds(picked: np.ndarray, variant: np.ndarray, kinds: tuple[FaultKind, ...]) -> pl.Series:
    """The FAULT column: per row the name of its fault kind, null where the row stays clean."""
    names = pl.Series(FAULT, [str(k) for k in kinds], dtype=pl.String)
    return names.gather(variant % len(kinds)).scatter(np.flatnonzero(~picked), None)


def _tally(kinds: pl.Series) -> Counter[str]:
    return Counter(kinds.drop_nulls().to_list())


def _blank(fault: pl.Expr, v: pl.Expr, fields: tuple[str, ...]) -> list[pl.Expr]:
    """Missing-field faults: one of `fields`, chosen by the variant, becomes null."""
    return [
        pl.when((fault == K.MISSING_FIELD) & (v % len(fields) == i))
        .then(pl.lit(None))
        .otherwise(pl.col(name))
        .alias(name)
        for i, name in enumerate(fields)
    ]


def _spoil(fault: pl.Expr, column: str, kind: FaultKind, value: pl.Expr) -> pl.Expr:
    return pl.when(fault == kind).then(value).otherwise(pl.col(column)).alias(column)


def _choice(v: pl.Expr, values: tuple[str, ...] | tuple[int, ...]) -> pl.Expr:
    """One of `values`, chosen by the row's variant number."""
    return pl.lit(pl.Series(values)).gather(v % len(values))


def _year(year: int) -> pl.Expr:
    at = pl.col("occurred_at")
    return at.dt.offset_by(pl.format("{}y", year - at.dt.year()))
