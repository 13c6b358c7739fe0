"""A warehouse of all six cities at benchmark volume, built by the simulator (cached).

The pages compare six cities, so the dashboard benchmark needs all six: each with its
own service mix, seasons, funnels and processing times (``pipelines.simulate``), two
years up to yesterday. The simulator holds a whole period in memory, so it runs here
in chunks of three months, on every core. Gießen, Fulda, Offenbach and Wetzlar are
written in their own formats and loaded through their own sources; Marburg's API and
Limburg's HTTP export are written as canonical Parquet parts and loaded through a
folder source of that city (paging millions of events through the feed server would
time the simulator's HTTP server, not the dashboard).
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from egovsad import config as configuration
from pipelines.readers import parquet_batches
from pipelines.run import run_city
from pipelines.simulate import faults, writers
from pipelines.simulate.cases import Period
from pipelines.simulate.events import city_events, daily_counts
from pipelines.simulate.model import build_city_models
from pipelines.sources import build_source, offenbach
from pipelines.sources.base import FolderSource, Kind, Source
from pipelines.validate import Catalogue
from warehouse.db import connect_writer, service_keys
from warehouse.lock import writer_lock
from warehouse.snapshots import publish

SEED = 17
MONTHS = 24
CHUNK_MONTHS = 3
FAULT_RATE = 0.0005
#: events per day of the five event cities together at scale 1 (measured: two years of the simulator)
EVENTS_PER_DAY_AT_SCALE_1 = 5_040
#: cities whose HTTP feeds are replaced by canonical Parquet parts
PARQUET_INSTEAD = ("marburg", "limburg")


def six_city_home(work: Path, events: int) -> Path:
    """A home whose warehouse holds about ``events`` events of six cities over two years."""
    home = work / f"six-cities-{events}"
    if (home / "snapshots" / "CURRENT").exists():
        return home
    delivery = work / f"six-cities-{events}-deliveries"
    end = datetime.now(UTC).date() - timedelta(days=1)
    start = _month_start(end, MONTHS - 1)
    scale = events / (EVENTS_PER_DAY_AT_SCALE_1 * (end - start).days)
    started = time.perf_counter()
    chunks = _chunks(start, end)
    tasks = [(slug, first, last, scale, delivery) for slug in configuration.CITIES for first, last in chunks]
    # spawn: polars and DuckDB hold threads that a forked child must not inherit
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=multiprocessing.cpu_count(), mp_context=context) as pool:
        written = list(pool.map(_write_chunk, tasks))
    print(f"simulated {sum(written):,} rows of six cities in {time.perf_counter() - started:.0f} s", flush=True)
    home.mkdir(parents=True, exist_ok=True)
    locations = "\n".join(
        f'[cities.{slug}]\nlocation = "{delivery / slug}"'
        for slug in configuration.CITIES
        if slug not in PARQUET_INSTEAD
    )
    # as in bench.__main__.warehouse(): large runs need more than the default 512MB to load
    (home / "egovsad.toml").write_text(f'[warehouse]\nmemory_limit = "3GB"\n\n{locations}\n', encoding="utf-8")
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        loaded = pool.submit(_load, home, delivery).result()
    print(f"loaded {loaded:,} events in {time.perf_counter() - started:.0f} s", flush=True)
    return home


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _chunks(start: date, end: date) -> list[tuple[date, date]]:
    """[first, last] day of each chunk of CHUNK_MONTHS months from ``start`` to ``end``."""
    chunks = []
    first = start
    while first <= end:
        after = _month_start(first, -CHUNK_MONTHS)
        chunks.append((first, min(end, after - timedelta(days=1))))
        first = after
    return chunks


def _write_chunk(task: tuple[str, date, date, float, Path]) -> int:
    """Simulate one city over one chunk and write its delivery files; returns the rows written.

    Cases that start in an earlier chunk are drawn again here (the simulator's warm-up),
    so every event of a day comes out whichever chunk it falls in.
    """
    slug, first, last, scale, delivery = task
    city = build_city_models(SEED)[slug]
    period = Period(start=first, end=last)
    events = city_events(city, period, seed=SEED, scale=scale)
    folder = delivery / slug
    if slug == "wetzlar":
        counts, _ = faults.inject_count_faults(daily_counts(events), seed=SEED, stream=city.stream, rate=FAULT_RATE)
        writers.write_wetzlar(counts, folder, period)
        return 0
    if slug in PARQUET_INSTEAD:
        writers.write_offenbach(events, folder, period)
        return events.height
    spoiled, _ = faults.inject_event_faults(events, slug, seed=SEED, stream=city.stream, rate=FAULT_RATE)
    writers.WRITERS[slug](spoiled, folder, period)
    return spoiled.height


def _source(settings: configuration.Config, slug: str, delivery: Path) -> Source:
    if slug not in PARQUET_INSTEAD:
        return build_source(settings.source_settings(slug))
    return FolderSource(
        city=slug,
        kind=Kind.EVENTS,
        mapping=offenbach.MAPPING,
        location=str(delivery / slug),
        pattern="month=*/part-*.parquet",
        reader=parquet_batches,
        dated=offenbach.dated,
    )


def _load(home: Path, delivery: Path) -> int:
    """Run every city once into the home's warehouse, then publish one snapshot."""
    settings = configuration.load(home, environ={})
    loaded = 0
    with writer_lock(settings.lock_path, wait=True), connect_writer(settings.warehouse) as con:
        catalogue = Catalogue(service_keys(con))
        for slug in configuration.CITIES:
            result = run_city(_source(settings, slug, delivery), con, catalogue=catalogue, spill_dir=settings.spill_dir)
            if not result.ok:
                raise RuntimeError(f"loading {slug} failed: {result.error}")
            loaded += result.totals.rows_loaded if slug != "wetzlar" else 0
            print(f"  {slug}: {result.totals.rows_loaded:,} rows loaded", flush=True)
        publish(con, settings.warehouse_path, settings.snapshot_dir, keep=int(settings.values["snapshots.keep"]))
    return loaded
