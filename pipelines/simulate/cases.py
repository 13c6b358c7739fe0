"""Drawing one city's cases: how many per day, service and channel, and how each one goes.

Counts are Poisson draws from the model's intensity; everything else about a case comes from
a block of uniform and normal numbers drawn with it. Random numbers are drawn per local day
from a generator keyed by (seed, city, day), so a day's cases do not depend on the period
asked for. That is the only loop, over days; all per-case work is vectorised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from pipelines.contract import CHANNELS

from . import model, rhythms
from .model import DIGITAL, CityModel

ONLINE = CHANNELS.index("online")
APP = CHANNELS.index("app")
IN_PERSON = CHANNELS.index("in_person")
EMAIL = CHANNELS.index("email")
POST = CHANNELS.index("post")
DAY_S = 86_400


class U(IntEnum):
    """Rows of the uniform draws per case, one per decision."""

    MINUTE = 0
    SECOND = 1
    AMBIGUOUS = 2
    ABANDON = 3
    WAIT = 4
    LOST = 5
    REJECT = 6
    DEVICE = 7
    EID = 8
    PAY = 9
    RATED = 10
    RATING = 11
    DECIDED_AT = 12


class Z(IntEnum):
    """Rows of the standard normal draws per case."""

    DURATION = 0
    OUTCOME = 1


@dataclass(frozen=True)
class Period:
    """The simulated local calendar days [start, end]; cases start WARMUP_DAYS earlier."""

    start: dt.date
    end: dt.date

    def case_days(self) -> np.ndarray:
        """Days on which simulated cases start, warm-up included."""
        first = np.datetime64(self.start, "D") - np.timedelta64(model.WARMUP_DAYS, "D")
        return np.arange(first, np.datetime64(self.end, "D") + 1, dtype="datetime64[D]")


@dataclass(frozen=True)
class Cases:
    """One row per case, sorted by start time. Times are seconds since 1970 on the local wall
    clock (Europe/Berlin), to be localised by `events.py`."""

    day: np.ndarray  # datetime64[D], local day the case started
    rank: np.ndarray  # position of the case within its day
    service: np.ndarray  # index into CityModel.service_keys
    channel: np.ndarray  # index into CHANNELS
    start_local: np.ndarray  # int64
    latest: np.ndarray  # bool: in the repeated autumn hour, take the second (winter) instant
    abandoned: np.ndarray  # bool, else submitted
    step_seconds: np.ndarray  # int64, from start to submitted/abandoned
    has_outcome: np.ndarray  # bool
    rejected: np.ndarray  # bool, else completed
    instant: np.ndarray  # bool: decided right after submission (elapsed seconds below)
    outcome_seconds: np.ndarray  # int64, from submitted, where instant
    outcome_local: np.ndarray  # int64 local wall clock of the decision, where not instant
    device: np.ndarray  # int, index into DEVICES, -1 for none
    eid: np.ndarray  # bool, meaningful for digital submissions
    epayment: np.ndarray  # bool, same
    rating: np.ndarray  # int 1..5, 0 for none

    def __len__(self) -> int:
        return len(self.day)


def intensities(city: CityModel, days: np.ndarray, scale: float) -> np.ndarray:
    """(D, S, C) expected cases per day, service and channel."""
    base = city.daily_cases * scale * rhythms.season(days)
    weights = np.repeat(city.service_weights[None, :], len(days), axis=0)
    keys = city.service_keys
    for key in model.DAY_CARE_KEYS:
        if key in keys:
            weights[:, keys.index(key)] *= rhythms.day_care_factor(days)
    if model.POSTAL_VOTE_KEY in keys:
        weights[:, keys.index(model.POSTAL_VOTE_KEY)] += rhythms.postal_vote_extra(days)
    channel_days = rhythms.channel_day_factors(days)
    per_service = weights[:, :, None] * city.channel_probs[None, :, :]
    return base[:, None, None] * per_service * channel_days[:, None, :]


def draw_cases(city: CityModel, period: Period, *, seed: int, scale: float) -> Cases:
    """All cases of `city` starting in the period or its warm-up, with their whole course."""
    days = period.case_days()
    lam = intensities(city, days, scale)
    counts = np.empty(lam.shape, dtype=np.int64)
    uniforms, normals = [], []
    for d, ordinal in enumerate(days.astype(np.int64)):
        rng = np.random.default_rng([seed, city.stream, int(ordinal)])
        counts[d] = rng.poisson(lam[d])
        n = int(counts[d].sum())
        uniforms.append(rng.random((len(U), n)))
        normals.append(rng.standard_normal((len(Z), n)))
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    day_idx, service, channel = np.unravel_index(cell, counts.shape)
    u = np.concatenate(uniforms, axis=1)
    z = np.concatenate(normals, axis=1)

    weekdays = rhythms.weekday(days)[day_idx]
    minute = np.empty(len(cell), dtype=np.int64)
    for c, name in enumerate(CHANNELS):
        mask = channel == c
        cdfs = rhythms.minute_cdfs(name)
        minute[mask] = rhythms.draw_minutes(cdfs, weekdays[mask], u[U.MINUTE, mask])
    seconds = minute * 60 + (u[U.SECOND] * 60).astype(np.int64)
    start = days[day_idx].astype(np.int64) * DAY_S + seconds

    order = np.argsort(start, kind="stable")
    day_idx, service, channel, start = day_idx[order], service[order], channel[order], start[order]
    u, z = u[:, order], z[:, order]
    first_of_day = np.searchsorted(day_idx, day_idx, side="left")
    return _course(city, period, days, day_idx, service, channel, start, u, z, first_of_day)


def _course(
    city: CityModel,
    period: Period,
    days: np.ndarray,
    day_idx: np.ndarray,
    service: np.ndarray,
    channel: np.ndarray,
    start: np.ndarray,
    u: np.ndarray,
    z: np.ndarray,
    first_of_day: np.ndarray,
) -> Cases:
    """Decide abandonment, durations, outcome and attributes of the sorted cases."""
    profiles = city.profiles
    eid_p = np.array([p.eid for p in profiles])[service] * model.EID_SCALE
    digital = DIGITAL[channel]
    in_person = channel == IN_PERSON

    abandoned = u[U.ABANDON] < model.ABANDON_BASE[channel] + digital * model.ABANDON_PER_EID * eid_p
    minutes = np.array([p.minutes for p in profiles])[service]
    working = _work_seconds(channel, minutes, u, z)
    step = np.where(abandoned, _abandon_seconds(channel, u, z), working)
    # A written case is given up by the office: closed for want of documents after some
    # working days, during office hours.
    horizon = np.datetime64(period.end, "D") + np.timedelta64(2 * model.WARMUP_DAYS, "D")
    workdays = rhythms.workdays_between(days[0], horizon).astype(np.int64)
    written = abandoned & ((channel == EMAIL) | (channel == POST))
    closing_days = np.full(len(channel), model.WRITTEN_CLOSE_WORKDAYS)
    step = np.where(written, _decision_times(workdays, start, closing_days, u, z) - start, step)

    submitted = ~abandoned
    has_outcome = submitted & (u[U.LOST] >= model.NO_OUTCOME_SHARE)
    rejected = u[U.REJECT] < np.array([p.reject for p in profiles])[service]
    median_days = np.where(
        in_person,
        np.array([p.counter_days for p in profiles])[service],
        np.array([p.remote_days for p in profiles])[service],
    )
    instant = (median_days == 0) & (digital | in_person)
    instant_spread = np.exp(0.6 * z[Z.OUTCOME])
    outcome_seconds = (model.INSTANT_DECISION_S[channel] * instant_spread).astype(np.int64) + 5
    outcome_local = _decision_times(workdays, start + step, median_days, u, z)

    online_device = _categorical(model.ONLINE_DEVICE_PROBS, u[U.DEVICE])
    app_device = _categorical(model.APP_DEVICE_PROBS, u[U.DEVICE])
    device = np.where(channel == ONLINE, online_device, np.where(channel == APP, app_device, -1))
    fee = np.array([p.fee for p in profiles])[service]
    rated = submitted & (u[U.RATED] < model.RATED_SHARE)
    stars = 1 + _categorical(model.RATING_PROBS, u[U.RATING])
    return Cases(
        day=days[day_idx],
        rank=np.arange(len(day_idx)) - first_of_day,
        service=service,
        channel=channel,
        start_local=start,
        latest=u[U.AMBIGUOUS] < 0.5,
        abandoned=abandoned,
        step_seconds=step,
        has_outcome=has_outcome,
        rejected=rejected,
        instant=instant,
        outcome_seconds=outcome_seconds,
        outcome_local=outcome_local,
        device=device,
        eid=u[U.EID] < eid_p,
        epayment=fee & (u[U.PAY] < model.EPAYMENT_SHARE),
        rating=np.where(rated, stars, 0),
    )


def _work_seconds(
    channel: np.ndarray,
    minutes: np.ndarray,
    u: np.ndarray,
    z: np.ndarray,
) -> np.ndarray:
    """Time from start to submission: the form online, waiting plus counter time in person."""
    spread = np.exp(z[Z.DURATION] * model.WORK_SPREAD[channel])
    median = model.WORK_PER_MINUTE_S[channel] * minutes + model.WORK_FIXED_S[channel]
    wait = np.where(channel == IN_PERSON, -model.COUNTER_WAIT_MEAN_S * np.log1p(-u[U.WAIT]), 0.0)
    return np.clip(median * spread + wait, 30, 4 * 3600).astype(np.int64)


def _abandon_seconds(channel: np.ndarray, u: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Time from start to `abandoned`: the portal's session timeout online, leaving the queue in
    person, hanging up the phone. (Written channels are decided in office hours, see caller.)"""
    online = model.SESSION_TIMEOUT_S + model.ONLINE_ACTIVITY_S * np.exp(0.8 * z[Z.DURATION])
    queue = 300.0 - model.QUEUE_LEAVE_MEAN_S * np.log1p(-u[U.WAIT])
    phone = model.PHONE_HANGUP_S * np.exp(0.6 * z[Z.DURATION])
    by_channel = np.stack([online, online, queue, phone, phone, phone])
    return by_channel[channel, np.arange(len(channel))].astype(np.int64)


def _categorical(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from `probs` for each uniform number (clipped: float sums may end below 1)."""
    return np.minimum(np.searchsorted(np.cumsum(probs), u, side="right"), len(probs) - 1)


def _decision_times(
    workdays: np.ndarray,
    submitted_local: np.ndarray,
    median_days: np.ndarray,
    u: np.ndarray,
    z: np.ndarray,
) -> np.ndarray:
    """Local wall-clock time of a back-office decision: some of the office days `workdays`
    (day numbers since 1970) after submission, during office hours."""
    needed = np.rint(np.maximum(median_days, 1.0) * np.exp(0.5 * z[Z.OUTCOME]))
    needed = np.clip(needed, 1, model.MAX_PROCESSING_WORKDAYS).astype(np.int64)
    first_after = np.searchsorted(workdays, submitted_local // DAY_S, side="right")
    decision_day = workdays[np.minimum(first_after + needed - 1, len(workdays) - 1)]
    opens, closes = rhythms.BACK_OFFICE_HOURS
    time_of_day = (opens + (closes - opens) * u[U.DECIDED_AT]) * 3600
    return decision_day * DAY_S + time_of_day.astype(np.int64)
