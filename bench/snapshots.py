"""Snapshot benchmark: publish time and size, and reader latency while a load runs.

The reader asks the KPI registry (transactions by city and month) through a
SnapshotReader, as a dashboard worker does, once idle and once while another
process loads a delivery and publishes; the ratio is during / idle.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from egovsad import config as configuration
from warehouse.db import connect_writer
from warehouse.kpis import Selection, compute
from warehouse.snapshots import SnapshotReader, publish


def publish_cost(home: Path) -> dict[str, float]:
    settings = configuration.load(home, environ={})
    times, size = [], 0
    with connect_writer(settings.warehouse) as con:
        for _ in range(3):
            published = publish(con, settings.warehouse_path, settings.snapshot_dir, keep=3)
            times.append(published.seconds)
            size = published.bytes
    return {"publish_s": statistics.median(times), "snapshot_mb": size / 1e6}


def _latencies(reader: SnapshotReader, seconds: float, stop: subprocess.Popen[bytes] | None = None) -> list[float]:
    selection = Selection(date(2020, 1, 1), date(2030, 12, 31))
    found: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (stop is None or stop.poll() is None):
        started = time.perf_counter()
        con = reader.connection()
        compute(con, "transactions", selection, ("city", "month"))
        con.close()
        found.append((time.perf_counter() - started) * 1000)
        time.sleep(0.02)
    return found


def reader_during_load(home: Path, delivery: Path) -> dict[str, Any]:
    settings = configuration.load(home, environ={})
    reader = SnapshotReader(settings.snapshot_dir)
    idle = _latencies(reader, 5.0)
    env = {**os.environ, "EGOVSAD_HOME": str(home)}
    egovsad = str(Path(sys.executable).with_name("egovsad"))
    load = subprocess.Popen(
        [egovsad, "ingest", "--city", "giessen", "--source", str(delivery), "--since", "2020-01-01"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.monotonic()
    busy = _latencies(reader, 600.0, stop=load)
    load.wait()
    reader.close()

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 2 else max(values)

    return {
        "load_s": time.monotonic() - started,
        "idle_p50_ms": statistics.median(idle),
        "busy_p50_ms": statistics.median(busy),
        "idle_p95_ms": p(idle, 95),
        "busy_p95_ms": p(busy, 95),
        "queries_during_load": len(busy),
    }
