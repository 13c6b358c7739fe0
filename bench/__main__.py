"""`make bench`: run the benchmarks and print their tables (also written to bench/results/).

Usage: python -m bench [--only ingest,kpis,snapshots,dashboard] [--sizes ...] [--kpi-sizes ...]
                       [--dashboard-events N] [--dashboard-workers 2,4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bench import dashboard, ingest, kpis, snapshots
from bench.cities import six_city_home
from bench.dashboard_profile import profile_all
from bench.data import offenbach_parts

RESULTS = Path(__file__).parent / "results"


def warehouse(work: Path, events: int) -> Path:
    """A home whose warehouse holds ``events`` Offenbach events over three years (cached)."""
    home = work / f"kpi-home-{events}"
    if (home / "snapshots" / "CURRENT").exists():
        return home
    delivery = work / f"offenbach-3y-{events}"
    if not delivery.exists():
        # three years that end before today, so no event is in the future
        offenbach_parts(delivery, events, days=1095, start=date(2023, 6, 1))
    home.mkdir(parents=True, exist_ok=True)
    # one run of 50M events needs more than the default 512MB of DuckDB memory (the
    # aggregation of the cases' processing times); operators set it the same way
    (home / "egovsad.toml").write_text('[warehouse]\nmemory_limit = "3GB"\n', encoding="utf-8")
    env = {**os.environ, "EGOVSAD_HOME": str(home)}
    egovsad = str(Path(sys.executable).with_name("egovsad"))
    subprocess.run([egovsad, "ingest", "--city", "offenbach", "--source", str(delivery)], env=env, check=True)
    return home


def dashboard_section(work: Path, events: int, workers: tuple[int, ...]) -> str:
    """The dashboard's tables; what misses a goal is profiled into results/dashboard-profile.md."""
    home = six_city_home(work, events)
    results = dashboard.run(home, workers=workers)
    dashboard.save(results, RESULTS)
    section = "Dashboard (issue 5):\n\n" + dashboard.tables(results)
    (RESULTS / "dashboard.md").write_text(section + "\n", encoding="utf-8")
    parts = []
    if results["page_profiles"]:
        parts.append("Pages over 1.5 s, one more load under Chromium's profiler:\n\n")
        parts.append(dashboard.page_profile_table(results["page_profiles"]) + "\n\n")
    slow = dashboard.slowest(results)[:4]
    if slow:
        periods = results["profile_periods"]
        jobs: list[tuple[str, str, str, list[dict[str, Any]]]] = [
            (timing.label, results["owner"][callback.page], dashboard.PASSWORD,
             [dashboard.with_period(callback.body, period) for period in periods[4 * n : 4 * n + 4]])
            for n, (callback, timing) in enumerate(slow)
        ]  # fmt: skip
        # a process of its own: the app registers its pages and callbacks with Dash globally
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            reports = pool.submit(profile_all, home, jobs).result()
        parts.append("Callbacks over 100 ms (cold p95), profiled in process, each with periods new to it:\n\n")
        parts.append("\n\n".join(reports) + "\n")
    if parts:
        text = "".join(parts)
        (RESULTS / "dashboard-profile.md").write_text(text, encoding="utf-8")
        print(text, flush=True)
        section += "\n\nProfiles of what misses a goal: `bench/results/dashboard-profile.md`."
    return section


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default="ingest,kpis,snapshots,dashboard,export")
    parser.add_argument("--sizes", default="1000000,10000000", help="ingest: events per delivery")
    parser.add_argument("--kpi-sizes", default="10000000,50000000", help="kpis/snapshots: events in the warehouse")
    parser.add_argument("--dashboard-events", type=int, default=50_000_000, help="dashboard: events of six cities")
    parser.add_argument(
        "--dashboard-workers", default="2,4", help="dashboard: gunicorn workers (the first also for callbacks, pages)"
    )
    parser.add_argument("--work", default="/tmp/egovsad-bench", help="folder for generated data")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    sections = [f"Benchmarks of {datetime.now():%Y-%m-%d} (`make bench`, 2 cores)."]
    if "ingest" in only:
        results = ingest.run(work, [int(size) for size in args.sizes.split(",")])
        sections.append("Ingest, end to end against Polars' raw scan of the same files:\n\n" + ingest.table(results))
    kpi_rows: list[dict[str, object]] = []
    snapshot_lines = [
        "| events | publish | snapshot size | load | reader p50 idle / during load "
        "| reader p95 idle / during load | ratio (p50) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in (int(size) for size in args.kpi_sizes.split(",")) if only & {"kpis", "snapshots"} else ():
        home = warehouse(work, size)
        if "kpis" in only:
            con = kpis.open_warehouse(home)
            kpi_rows += kpis.run(con, size)
            con.close()
        if "snapshots" in only:
            cost = snapshots.publish_cost(home)
            delivery = ingest.deliveries(work, "giessen", 1_000_000)
            during = snapshots.reader_during_load(home, delivery)
            print(cost, during, flush=True)
            snapshot_lines.append(
                f"| {size:,} | {cost['publish_s']:.2f} s | {cost['snapshot_mb']:.0f} MB | {during['load_s']:.1f} s "
                f"| {during['idle_p50_ms']:.1f} / {during['busy_p50_ms']:.1f} ms "
                f"| {during['idle_p95_ms']:.1f} / {during['busy_p95_ms']:.1f} ms "
                f"| {during['busy_p50_ms'] / during['idle_p50_ms']:.2f}x |"
            )
    if kpi_rows:
        sections.append("KPIs by city and month (warm medians, server side):\n\n" + kpis.table(kpi_rows))
    if len(snapshot_lines) > 2:
        sections.append(
            "Snapshots: publish (checkpoint + copy + pointer) and a reader's KPI query while another process "
            "loads 1M events and publishes:\n\n" + "\n".join(snapshot_lines)
        )
    if "export" in only:
        from bench import export

        sections.append(
            "Export of 10M rows through `analyst.export()` beside DuckDB's own COPY of the same query:\n\n"
            + export.table(export.run(work / "export"))
        )
    if "dashboard" in only:
        workers = tuple(int(count) for count in args.dashboard_workers.split(","))
        sections.append(dashboard_section(work, args.dashboard_events, workers))
    text = "\n\n".join(sections) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
