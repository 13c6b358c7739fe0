"""The simulator's entry point: generate all six cities and write their deliveries."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from . import faults, writers
from .cases import Period
from .events import city_events, daily_counts
from .model import build_city_models

CITY_ORDER = ("giessen", "fulda", "limburg", "marburg", "offenbach", "wetzlar")
MAX_FAULT_RATE = 0.5
EARLIEST_START = dt.date(2000, 1, 1)


class SimulationError(ValueError):
    """The simulator was asked for something it cannot do; the message says what to change."""


@dataclass(frozen=True)
class CityOutput:
    """What was written for one city: rows (events, or daily rows for Wetzlar) and files."""

    rows: int
    files: int
    unit: str
    faults: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SimulationSummary:
    """The result of `simulate`: the period, and per city what was written and spoilt."""

    out: Path
    start: dt.date
    end: dt.date
    seed: int
    scale: float
    fault_rate: float
    cities: dict[str, CityOutput]

    @property
    def faults(self) -> dict[str, int]:
        """Injected faults per kind, all cities together (duplicates count the extra rows)."""
        total: Counter[str] = Counter()
        for output in self.cities.values():
            total.update(output.faults)
        return dict(sorted(total.items()))

    def lines(self) -> list[str]:
        """Human-readable report, one line per city and one for the faults."""
        head = (
            f"Simulated {self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d} "
            f"(seed {self.seed}, scale {self.scale:g}) into {self.out}"
        )
        lines = [head]
        for slug, o in self.cities.items():
            lines.append(f"  {slug:<10} {o.rows:>10,} {o.unit:<10} in {o.files:>4} files")
        lines.append(f"  faults at rate {self.fault_rate:g}: {sum(self.faults.values()):,} rows")
        lines += [f"    {kind:<24} {n:>6,}" for kind, n in self.faults.items()]
        return lines


def simulate(
    out: Path,
    *,
    months: int = 3,
    seed: int = 1,
    scale: float = 1.0,
    end: dt.date | None = None,
    fault_rate: float = 0.002,
) -> SimulationSummary:
    """Write plausible deliveries of all six cities under `out/<slug>/`, deterministically.

    The period runs from the first day of the month `months - 1` months before `end` to `end`
    (default: yesterday in Europe/Berlin). A day's events, ids and faults depend only on
    `seed`, `scale` and the day, so a later run with a later `end` into the same folder extends
    the deliveries consistently (files of the same name are replaced). A fraction `fault_rate`
    of rows is spoilt the ways the data contract names; 0 gives clean data.

    Raises SimulationError for arguments out of range.
    """
    end = end or dt.datetime.now(ZoneInfo("Europe/Berlin")).date() - dt.timedelta(days=1)
    _check(months=months, seed=seed, scale=scale, fault_rate=fault_rate)
    period = Period(start=_months_back(end, months - 1), end=end)
    if period.start < EARLIEST_START:
        raise SimulationError(f"the period must start on or after {EARLIEST_START}; move `end`")
    models = build_city_models(seed)
    outputs: dict[str, CityOutput] = {}
    for slug in CITY_ORDER:
        city = models[slug]
        events = city_events(city, period, seed=seed, scale=scale)
        folder = out / slug
        if slug == "wetzlar":
            counts, injected = faults.inject_count_faults(
                daily_counts(events), seed=seed, stream=city.stream, rate=fault_rate
            )
            files = writers.write_wetzlar(counts, folder, period)
            outputs[slug] = CityOutput(counts.height, len(files), "daily rows", dict(injected))
        else:
            events, injected = faults.inject_event_faults(
                events,
                slug,
                seed=seed,
                stream=city.stream,
                rate=fault_rate,
            )
            files = writers.WRITERS[slug](events, folder, period)
            outputs[slug] = CityOutput(events.height, len(files), "events", dict(injected))
    return SimulationSummary(
        out=out,
        start=period.start,
        end=period.end,
        seed=seed,
        scale=scale,
        fault_rate=fault_rate,
        cities=outputs,
    )


def _check(*, months: int, seed: int, scale: float, fault_rate: float) -> None:
    if months < 1:
        raise SimulationError(f"months must be at least 1, not {months}")
    if not 0 <= seed < 2**32:
        raise SimulationError(f"seed must be between 0 and {2**32 - 1}, not {seed}")
    if not scale > 0:
        raise SimulationError(f"scale must be positive (1.0 = real volume), not {scale}")
    if not 0 <= fault_rate <= MAX_FAULT_RATE:
        raise SimulationError(f"fault_rate must lie in [0, {MAX_FAULT_RATE}], not {fault_rate}")


def _months_back(day: dt.date, months: int) -> dt.date:
    """First day of the month `months` months before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)
