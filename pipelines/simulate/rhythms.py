"""When citizens come: public holidays, seasons, elections and the hours of each channel.

Offices are open on weekdays (mornings, some afternoons) and closed on Hessian public holidays,
so in-person, phone and post cases only happen then. Online use peaks in the evening and on
Sundays. Demand dips in the summer holidays and over Christmas; postal-vote applications rise
in the weeks before an election and day-care applications at the start of the school year.
All functions take arrays of days (numpy datetime64[D]) and return arrays, for vectorised use.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipelines.contract import CHANNELS

# Elections with postal voting in Hesse. Add new dates here when they are set.
ELECTION_DAYS: tuple[dt.date, ...] = (
    dt.date(2021, 3, 14),  # municipal elections
    dt.date(2021, 9, 26),  # Bundestag
    dt.date(2023, 10, 8),  # Landtag
    dt.date(2024, 6, 9),  # European Parliament
    dt.date(2025, 2, 23),  # Bundestag
    dt.date(2026, 3, 15),  # municipal elections
)
POSTAL_VOTE_PEAK = 0.35  # extra postal-vote cases at the peak, as a share of a normal day

# Relative volume per weekday (Mon..Sun) for each channel, before normalising to a mean of 1.
_WEEKDAY_VOLUME: dict[str, tuple[float, ...]] = {
    "online": (1.05, 1.0, 1.0, 0.95, 0.85, 0.85, 1.30),
    "app": (1.05, 1.0, 1.0, 0.95, 0.85, 0.85, 1.30),
    "in_person": (1.0, 1.25, 0.75, 1.25, 0.75, 0.0, 0.0),
    "phone": (1.3, 1.0, 1.0, 1.0, 0.7, 0.0, 0.0),
    "email": (1.2, 1.0, 1.0, 1.0, 0.9, 0.5, 0.6),
    "post": (1.2, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0),
}
_OFFICE_CHANNELS = ("in_person", "phone", "post")

# Hours of day as (from, to, weight) in local wall-clock hours, per weekday Mon..Sun.
_Hours = tuple[tuple[float, float, float], ...]
_MORNING: _Hours = ((7.5, 8.0, 0.8), (8.0, 11.0, 1.5), (11.0, 12.0, 1.0), (12.0, 12.5, 0.5))
_COUNTER: tuple[_Hours, ...] = (
    _MORNING + ((13.5, 15.5, 0.8),),
    _MORNING + ((14.0, 18.0, 0.9),),
    _MORNING,
    _MORNING + ((14.0, 18.0, 0.9),),
    _MORNING,
    (),
    (),
)
_PHONE_DAY: _Hours = ((8.0, 9.0, 1.0), (9.0, 11.0, 1.5), (11.0, 16.0, 1.0))
_PHONE: tuple[_Hours, ...] = (_PHONE_DAY,) * 4 + (((8.0, 9.0, 1.0), (9.0, 13.0, 1.3)), (), ())
_POST: tuple[_Hours, ...] = (((8.0, 12.0, 1.0), (13.0, 15.0, 0.5)),) * 5 + ((), ())
_EMAIL_DAY: _Hours = (
    (0.0, 6.0, 0.05), (6.0, 8.0, 0.4), (8.0, 12.0, 1.2), (12.0, 14.0, 0.8),
    (14.0, 17.0, 1.0), (17.0, 19.0, 0.8), (19.0, 22.0, 1.1), (22.0, 24.0, 0.4),
)  # fmt: skip
_ONLINE_WORKDAY: _Hours = (
    (0.0, 1.0, 0.25), (1.0, 5.0, 0.06), (5.0, 7.0, 0.2), (7.0, 9.0, 0.6), (9.0, 17.0, 0.9),
    (17.0, 19.0, 1.1), (19.0, 22.0, 1.6), (22.0, 23.0, 0.9), (23.0, 24.0, 0.5),
)  # fmt: skip
_ONLINE_WEEKEND: _Hours = (
    (0.0, 1.0, 0.35), (1.0, 6.0, 0.08), (6.0, 9.0, 0.3), (9.0, 17.0, 1.2),
    (17.0, 19.0, 1.2), (19.0, 22.0, 1.6), (22.0, 23.0, 1.0), (23.0, 24.0, 0.5),
)  # fmt: skip
_ONLINE: tuple[_Hours, ...] = (_ONLINE_WORKDAY,) * 5 + (_ONLINE_WEEKEND,) * 2
_HOURS: dict[str, tuple[_Hours, ...]] = {
    "online": _ONLINE,
    "app": _ONLINE,
    "in_person": _COUNTER,
    "phone": _PHONE,
    "email": (_EMAIL_DAY,) * 7,
    "post": _POST,
}
BACK_OFFICE_HOURS = (8.0, 16.0)  # when decisions on non-instant cases are recorded


def easter(year: int) -> dt.date:
    """Easter Sunday (anonymous Gregorian algorithm), for the movable holidays."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def closed_days(year: int) -> list[dt.date]:
    """Days on which Hessian offices are closed besides weekends: public holidays of Hesse plus
    Christmas Eve and New Year's Eve."""
    e = easter(year)
    fixed = [(1, 1), (5, 1), (10, 3), (12, 24), (12, 25), (12, 26), (12, 31)]
    movable = [-2, 1, 39, 50, 60]  # Good Friday, Easter Monday, Ascension, Whit Monday, Corpus C.
    return [dt.date(year, m, d) for m, d in fixed] + [e + dt.timedelta(days=o) for o in movable]


def spring_forward_day(year: int) -> dt.date:
    """Last Sunday of March: clocks jump from 02:00 to 03:00 in Europe/Berlin."""
    last = dt.date(year, 3, 31)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 .. Sunday = 6 (1970-01-01 was a Thursday)."""
    return (days.astype("int64") + 3) % 7


def is_closed(days: np.ndarray) -> np.ndarray:
    """True where offices are closed: weekends, public holidays, 24 and 31 December."""
    years = range(int(days.min().astype(object).year), int(days.max().astype(object).year) + 1)
    holidays = np.array([d for y in years for d in closed_days(y)], dtype="datetime64[D]")
    return (weekday(days) >= 5) | np.isin(days, holidays)


def workdays_between(first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """All office days in [first, last], as datetime64[D], for scheduling decisions."""
    days = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    return days[~is_closed(days)]


def season(days: np.ndarray) -> np.ndarray:
    """Overall demand factor: summer-holiday and Christmas dips."""
    doy = _day_of_year(days)
    summer = 1.0 - 0.18 * _plateau(doy, 183, 226, 10)  # early July to mid August
    christmas = 1.0 - 0.40 * np.maximum(_plateau(doy, 355, 372, 4), _plateau(doy, -10, 6, 4))
    return summer * christmas


def day_care_factor(days: np.ndarray) -> np.ndarray:
    """Day-care applications triple around the start of the school year (August/September)."""
    return 1.0 + 2.0 * _plateau(_day_of_year(days), 213, 258, 14)


def postal_vote_extra(days: np.ndarray) -> np.ndarray:
    """Extra postal-vote cases as a share of a normal day's cases: rising over the six weeks
    before an election, peaking ten days before, closed two days before."""
    extra = np.zeros(days.shape)
    for election in ELECTION_DAYS:
        before = (np.datetime64(election, "D") - days).astype("int64")
        rising = np.clip((42 - before) / 32.0, 0.0, 1.0)
        falling = np.clip((before - 2) / 8.0, 0.0, 1.0)
        extra += POSTAL_VOTE_PEAK * np.minimum(rising, falling)
    return extra


def channel_day_factors(days: np.ndarray) -> np.ndarray:
    """(D, C) volume factor of each channel on each day; a week averages 1 per channel.

    Office channels are zero when offices are closed; online channels treat holidays like
    Sundays."""
    wd = weekday(days)
    closed = is_closed(days)
    holiday = closed & (wd < 5)
    factors = np.empty((len(days), len(CHANNELS)))
    for c, channel in enumerate(CHANNELS):
        volume = np.array(_WEEKDAY_VOLUME[channel])
        volume = volume / volume.mean()
        factors[:, c] = volume[wd]
        if channel in _OFFICE_CHANNELS:
            factors[closed, c] = 0.0
        else:
            factors[holiday, c] = volume[6]
    return factors


def minute_cdfs(channel: str) -> np.ndarray:
    """(7, 1440) cumulative distribution of the minute of day at which cases of `channel` start,
    per weekday. A day without hours gets a uniform row (it never receives cases)."""
    weights = np.zeros((7, 1440))
    for wd, spans in enumerate(_HOURS[channel]):
        for start, end, weight in spans:
            weights[wd, int(start * 60) : int(end * 60)] = weight
    weights[weights.sum(axis=1) == 0] = 1.0
    cdf = np.cumsum(weights, axis=1)
    return cdf / cdf[:, -1:]


def draw_minutes(cdfs: np.ndarray, weekdays: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Minute of day for each case from its weekday's distribution, with one searchsorted:
    the weekday rows are laid end to end, offset by the weekday number."""
    flat = (cdfs + np.arange(7)[:, None]).ravel()
    index = np.searchsorted(flat, weekdays + u, side="right")
    return np.minimum(index - weekdays * 1440, 1439)


def _day_of_year(days: np.ndarray) -> np.ndarray:
    years = days.astype("datetime64[Y]")
    return (days - years.astype("datetime64[D]")).astype("int64")


def _plateau(x: np.ndarray, start: float, end: float, ramp: float) -> np.ndarray:
    """1 between start and end, linear ramps of `ramp` days on either side, 0 elsewhere."""
    up = np.clip((x - start + ramp) / ramp, 0.0, 1.0)
    down = np.clip((end + ramp - x) / ramp, 0.0, 1.0)
    return np.minimum(up, down)
