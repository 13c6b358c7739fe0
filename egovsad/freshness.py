"""Freshness of each city's data: fresh, stale or failed, for `egovsad status` and monitoring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from apscheduler.triggers.cron import CronTrigger

from egovsad.config import CONFIG_NAME, Config, ConfigError

BERLIN = ZoneInfo("Europe/Berlin")


#: crontab's weekday numbers: 0 and 7 are Sunday (APScheduler 3 counts 0 as Monday)
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    raise ValueError(f"'{text}' is not a weekday (0-7 or sun-sat)")


def _crontab_weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler 3 reads it: the days, by name.

    crontab counts 0 (and 7) as Sunday and APScheduler 3 counts 0 as Monday; names
    mean the same to both, so every list, range and step is expanded to names.
    """
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        base, slash, step_text = part.partition("/")
        if slash and (not step_text.isdigit() or int(step_text) == 0):
            raise ValueError(f"'{part}' has no valid step")
        step = int(step_text) if slash else 1
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, _, high = base.partition("-")
            first, last = _weekday(low), _weekday(high)
        else:
            first = _weekday(base)
            last = 7 if slash else first
        if first > last:
            raise ValueError(f"'{part}' runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def cron_trigger(expression: str) -> CronTrigger:
    """A cron trigger in Europe/Berlin time: five fields, or six with seconds in front.

    Weekdays count as in crontab (0 or 7 is Sunday). Raises ValueError naming the
    expression when it is not valid cron.
    """
    fields = expression.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    elif len(fields) != 6:
        raise ValueError(f"'{expression}' is not a cron expression of five (or six, with seconds) fields")
    second, minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(weekday),
            timezone=BERLIN,
        )
    except ValueError as error:
        raise ValueError(f"'{expression}' is not a valid cron expression: {error}") from None


def city_trigger(settings: Config, city: str) -> CronTrigger:
    """The trigger of a city's ``schedule`` setting; ConfigError naming the setting if invalid."""
    expression = str(settings.city(city, "schedule"))
    try:
        return cron_trigger(expression)
    except ValueError as error:
        raise ConfigError(f"{settings.home / CONFIG_NAME}: 'cities.{city}.schedule': {error}") from None


def schedule_interval(trigger: CronTrigger, now: datetime, fires: int = 15) -> timedelta:
    """The longest gap between the next ``fires`` runs of a schedule.

    The longest, not the next: a weekday-only schedule has a weekend gap, and on the
    autumn clock change a 02:00 schedule runs twice within an hour.
    """
    times: list[datetime] = []
    previous = None
    moment = now
    for _ in range(fires):
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        instant = fire.astimezone(UTC)  # in UTC: aware times of one zone subtract as wall-clock times
        if times and instant <= times[-1]:
            break  # APScheduler 3 repeats the fall-back hour's fire time; the gaps so far suffice
        times.append(instant)
        previous, moment = fire, instant + timedelta(seconds=1)
    assert len(times) >= 2, "a schedule that never runs again"
    return max(later - earlier for earlier, later in zip(times, times[1:], strict=False))


def max_age(settings: Config, city: str, now: datetime) -> timedelta:
    """How old a city's last successful run may be: configured, or twice its schedule interval."""
    hours = float(settings.city(city, "max_age_hours"))
    if hours > 0:
        return timedelta(hours=hours)
    return 2 * schedule_interval(city_trigger(settings, city), now)


def assess(status: pl.DataFrame, settings: Config, now: datetime) -> pl.DataFrame:
    """Add ``max_age_hours`` and ``state`` (fresh, stale, failed) to the status rows.

    A city whose latest run failed is failed (its data may still look recent, but the
    feed is broken); one without a successful run within its maximum age is stale. A
    configured city the warehouse does not know yet (added, never run) is stale; a city
    no longer configured is not monitored.
    """
    known = set(status["city"])
    missing = [city for city in settings.cities if city not in known]
    if missing:
        status = pl.concat(
            [status, pl.DataFrame({"city": missing, "rows": [0] * len(missing), "quarantined": [0] * len(missing)})],
            how="diagonal_relaxed",
        )
    status = status.filter(pl.col("city").is_in(list(settings.cities)))
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
