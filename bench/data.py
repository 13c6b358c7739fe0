"""Large synthetic deliveries for the benchmarks, written fast and vectorised.

The simulator aims at realism; the benchmarks need volume (10M events in under
a minute), so these files only have the right formats and plausible values.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from warehouse.seed import read_services

CHANNEL_WORDS = ["Online", "App", "Bürgerbüro", "Telefon", "E-Mail", "Post"]
STAGE_WORDS = ["begonnen", "eingereicht", "abgeschlossen", "abgelehnt", "abgebrochen"]
CHANNELS = ["online", "app", "in_person", "phone", "email", "post"]
STAGES = ["started", "submitted", "completed", "rejected", "abandoned"]
START = date(2025, 1, 1)


def _events(rows: int, days: int, seed: int) -> pl.DataFrame:
    """``rows`` events spread over ``days`` days (day offsets from the delivery's start)."""
    rng = np.random.default_rng(seed)
    keys = read_services()["service_key"].to_numpy()
    day = np.sort(rng.integers(0, days, rows))
    seconds = rng.integers(6 * 3600, 22 * 3600, rows)
    channel = rng.choice(6, rows, p=[0.3, 0.1, 0.35, 0.15, 0.05, 0.05])
    stage = rng.choice(5, rows, p=[0.4, 0.3, 0.2, 0.03, 0.07])
    digital = channel < 2
    return pl.DataFrame(
        {
            "n": np.arange(rows),
            "day": day,
            "seconds": seconds,
            "service": keys[rng.integers(0, len(keys), rows)],
            "channel": channel,
            "stage": stage,
            "minutes": np.where(stage == 1, np.round(rng.gamma(2.0, 6.0, rows), 1), np.nan),
            "eid": np.where(digital & (stage == 1), (rng.random(rows) < 0.25).astype(np.int8), -1),
            "device": np.where(digital, rng.integers(0, 3, rows), -1),
            "rating": np.where(rng.random(rows) < 0.1, rng.integers(1, 6, rows), 0),
        }
    )


def giessen_files(folder: Path, rows: int, *, days: int = 100, seed: int = 7) -> list[Path]:
    """Gießen's daily CSV files (BOM, ``;``, local times, decimal comma) holding ``rows`` events."""
    folder.mkdir(parents=True, exist_ok=True)
    events = _events(rows, days, seed)
    local = (
        pl.lit(START).cast(pl.Datetime("us")) + pl.duration(days=pl.col("day")) + pl.duration(seconds=pl.col("seconds"))
    )
    text = events.select(
        pl.col("day"),
        pl.format("GI-{}", pl.col("n")).alias("Vorgang"),
        local.dt.strftime("%d.%m.%Y %H:%M:%S").alias("Zeitpunkt"),
        pl.col("service").alias("Leistungsschluessel"),
        pl.col("channel").replace_strict(dict(enumerate(CHANNEL_WORDS))).alias("Kanal"),
        pl.col("stage").replace_strict(dict(enumerate(STAGE_WORDS))).alias("Status"),
        pl.format("GIC{}", pl.col("n") // 3).alias("Fall"),
        pl.col("minutes").fill_nan(None).cast(pl.String).str.replace(".", ",", literal=True).alias("Dauer_Min"),
        pl.col("eid").replace_strict({1: "ja", 0: "nein"}, default=None).alias("eID"),
        pl.lit(None, pl.String).alias("Bezahlung"),
        pl.col("device").replace_strict({0: "Desktop", 1: "Smartphone", 2: "Tablet"}, default=None).alias("Endgeraet"),
        pl.when(pl.col("rating") > 0).then(pl.col("rating").cast(pl.String)).alias("Bewertung"),
    )
    paths = []
    for (day,), part in text.group_by(["day"], maintain_order=True):
        path = folder / f"nutzung_{(START + timedelta(days=int(day))).isoformat()}.csv"  # type: ignore[arg-type]
        with path.open("wb") as handle:
            handle.write(b"\xef\xbb\xbf")
            part.drop("day").write_csv(handle, separator=";", line_terminator="\r\n", null_value="")
        paths.append(path)
    return paths


def offenbach_parts(folder: Path, rows: int, *, days: int = 100, seed: int = 11, start: date = START) -> list[Path]:
    """Offenbach's month partitions of Parquet parts holding ``rows`` events from ``start`` on."""
    events = _events(rows, days, seed)
    frame = events.select(
        pl.format("OF-{}", pl.col("n")).alias("event_id"),
        (
            pl.lit(start).cast(pl.Datetime("us", "UTC"))
            + pl.duration(days=pl.col("day"))
            + pl.duration(seconds=pl.col("seconds"))
        ).alias("occurred_at"),
        pl.col("service").alias("service_key"),
        pl.col("channel").replace_strict(dict(enumerate(CHANNELS))).alias("channel"),
        pl.col("stage").replace_strict(dict(enumerate(STAGES))).alias("stage"),
        pl.format("OFC{}", pl.col("n") // 3).alias("case_id"),
        (pl.col("minutes").fill_nan(None) * 60).round(0).cast(pl.Int32).alias("user_seconds"),
        pl.when(pl.col("eid") >= 0).then(pl.col("eid") == 1).alias("eid"),
        pl.lit(None, pl.Boolean).alias("epayment"),
        pl.col("device").replace_strict({0: "desktop", 1: "mobile", 2: "tablet"}, default=None).alias("device"),
        pl.when(pl.col("rating") > 0).then(pl.col("rating")).cast(pl.Int8).alias("rating"),
    ).with_columns(pl.col("occurred_at").dt.strftime("%Y-%m").alias("month"))
    paths = []
    for (month,), part in frame.group_by(["month"], maintain_order=True):
        target = folder / f"month={month}"
        target.mkdir(parents=True, exist_ok=True)
        path = target / "part-0.parquet"
        part.drop("month").write_parquet(path)
        paths.append(path)
    return paths
