"""Freshness of each city's data: fresh, stale or failed, for `egovsad status` and monitoring."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from apscheduler.triggers.cron import CronTrigger

from egovsad.config import Config

BERLIN = ZoneInfo("Europe/Berlin")


def cron_trigger(expression: str) -> CronTrigger:
    """A cron trigger in Europe/Berlin time: five fields, or six with seconds in front.

    Raises ValueError naming the expression when it is not valid cron.
    """
    fields = expression.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(expression, timezone=BERLIN)
    if len(fields) == 6:
        second, minute, hour, day, month, weekday = fields
        return CronTrigger(
            second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=BERLIN
        )
    raise ValueError(f"'{expression}' is not a cron expression of five (or six, with seconds) fields")


def schedule_interval(expression: str, now: datetime) -> timedelta:
    """The time between the next two runs of a schedule."""
    trigger = cron_trigger(expression)
    first = trigger.get_next_fire_time(None, now)
    assert first is not None
    second = trigger.get_next_fire_time(first, first + timedelta(microseconds=1))
    assert second is not None
    return second - first


def max_age(settings: Config, city: str, now: datetime) -> timedelta:
    """How old a city's last successful run may be: configured, or twice its schedule interval."""
    hours = float(settings.city(city, "max_age_hours"))
    if hours > 0:
        return timedelta(hours=hours)
    return 2 * schedule_interval(str(settings.city(city, "schedule")), now)


def assess(status: pl.DataFrame, settings: Config, now: datetime) -> pl.DataFrame:
    """Add ``max_age_hours`` and ``state`` (fresh, stale, failed) to the status rows.

    A city whose latest run failed is failed (its data may still look recent, but the
    feed is broken); one without a successful run within its maximum age is stale.
    """
    states = []
    ages = []
    for row in status.iter_rows(named=True):
        limit = max_age(settings, row["city"], now)
        ages.append(limit.total_seconds() / 3600)
        if row["last_status"] == "failed":
            states.append("failed")
        elif row["last_success"] is None or now - row["last_success"] > limit:
            states.append("stale")
        else:
            states.append("fresh")
    return status.with_columns(
        pl.Series("max_age_hours", ages, dtype=pl.Float64), pl.Series("state", states, dtype=pl.String)
    )
