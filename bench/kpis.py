"""KPI benchmark: each KPI by city and month through the registry, beside the same
aggregation written by hand on the raw event table (sql/bench/raw_kpis.sql).

Warm medians over repeated calls, server side (no printing). Goals at 50M events:
count-based KPIs under 50 ms, events-only KPIs under 250 ms.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from egovsad import config as configuration
from warehouse.kpis import KPIS, Selection, compute
from warehouse.sql_files import sql

REPEATS = 7


def raw_queries() -> dict[str, str]:
    queries: dict[str, str] = {}
    for block in sql("bench/raw_kpis").split("-- kpi: ")[1:]:
        kpi_id, _, text = block.partition("\n")
        queries[kpi_id.strip()] = text.strip().rstrip(";")
    return queries


def median_ms(call: Callable[[], Any]) -> float:
    call()  # warm up
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _fetch(con: duckdb.DuckDBPyConnection, query: str) -> None:
    con.sql(query).fetchall()


def run(con: duckdb.DuckDBPyConnection, events: int) -> list[dict[str, Any]]:
    costs = {city: dict(configuration.UNIT_COSTS) for city in configuration.CITIES}
    selection = Selection(date(2020, 1, 1), date(2030, 12, 31))
    raw = raw_queries()
    rows = []
    for kpi_id, kpi in KPIS.items():
        by = ("city", "month") if {"city", "month"} <= kpi.dims else ("city",)
        registry = median_ms(partial(compute, con, kpi_id, selection, by, unit_costs=costs))
        hand = median_ms(partial(_fetch, con, raw[kpi_id])) if kpi_id in raw else None
        rows.append({"kpi": kpi_id, "events": events, "events_only": kpi.events_only, "by": ",".join(by),
                     "registry_ms": registry, "raw_ms": hand})  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| KPI | by | events | registry (median) | raw events SQL (median) | raw / registry |",
             "|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for r in results:
        raw = f"{r['raw_ms']:.1f} ms" if r["raw_ms"] is not None else "–"
        ratio = f"{r['raw_ms'] / r['registry_ms']:.0f}x" if r["raw_ms"] is not None else "–"
        lines.append(f"| {r['kpi']} | {r['by']} | {r['events']:,} | {r['registry_ms']:.1f} ms | {raw} | {ratio} |")
    return "\n".join(lines)


def open_warehouse(home: Path) -> duckdb.DuckDBPyConnection:
    from warehouse.snapshots import open_current

    _path, con = open_current(home / "snapshots", memory_limit="2GB")
    return con
