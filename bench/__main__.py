"""`make bench`: run the benchmarks and print their tables (also written to bench/results/).

Usage: python -m bench [--only ingest,kpis,snapshots] [--sizes ...] [--kpi-sizes ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from bench import ingest, kpis, snapshots
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default="ingest,kpis,snapshots,export")
    parser.add_argument("--sizes", default="1000000,10000000", help="ingest: events per delivery")
    parser.add_argument("--kpi-sizes", default="10000000,50000000", help="kpis/snapshots: events in the warehouse")
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
    text = "\n\n".join(sections) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
