"""Ingest benchmark: Gießen CSV and Offenbach Parquet end to end, beside Polars' raw scan.

The raw engine is Polars reading the same files into a frame without any
validation; eGovSAD's figure is `egovsad ingest` into a fresh warehouse, process
start included. Both run as separate processes, so peak memory is each one's own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.data import giessen_files, offenbach_parts

RAW_SCAN = {
    "giessen": (
        "import polars as pl, sys; pl.scan_csv(sys.argv[1] + '/*.csv', separator=';', infer_schema=False).collect()"
    ),
    "offenbach": "import polars as pl, sys; pl.scan_parquet(sys.argv[1] + '/month=*/*.parquet').collect()",
}


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: float


def measure(command: list[str], env: dict[str, str] | None = None) -> Measured:
    wrapper = [sys.executable, "-m", "bench.measure", *command]
    out = subprocess.run(wrapper, capture_output=True, text=True, check=True, env=env)
    result = json.loads(out.stdout)
    if result["code"] != 0:
        raise RuntimeError(f"{command} failed: {result['stderr']}")
    return Measured(result["seconds"], result["peak_mib"])


def deliveries(work: Path, city: str, rows: int) -> Path:
    folder = work / f"{city}-{rows}"
    if not folder.exists():
        target = folder.with_suffix(".partial")
        shutil.rmtree(target, ignore_errors=True)
        (giessen_files if city == "giessen" else offenbach_parts)(target, rows)
        target.rename(folder)
    return folder


def run(work: Path, sizes: list[int]) -> list[dict[str, Any]]:
    rows_out = []
    egovsad = str(Path(sys.executable).with_name("egovsad"))
    for rows in sizes:
        for city in ("giessen", "offenbach"):
            folder = deliveries(work, city, rows)
            raw = measure([sys.executable, "-c", RAW_SCAN[city], str(folder)])
            home = work / "home"
            shutil.rmtree(home, ignore_errors=True)
            env = {**os.environ, "EGOVSAD_HOME": str(home)}
            e2e = measure([egovsad, "ingest", "--city", city, "--source", str(folder)], env=env)
            rows_out.append(
                {
                    "delivery": f"{city} ({'CSV' if city == 'giessen' else 'Parquet'})",
                    "events": rows,
                    "raw_s": raw.seconds,
                    "ingest_s": e2e.seconds,
                    "raw_events_per_s": rows / raw.seconds,
                    "ingest_events_per_s": rows / e2e.seconds,
                    "ratio": e2e.seconds / raw.seconds,
                    "raw_peak_mib": raw.peak_mib,
                    "ingest_peak_mib": e2e.peak_mib,
                }
            )
            print(rows_out[-1], flush=True)
    return rows_out


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| delivery | events | raw scan | ingest end to end | ingest / raw (time) "
        "| peak memory raw | peak memory ingest |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['delivery']} | {r['events']:,} | {r['raw_s']:.2f} s ({r['raw_events_per_s'] / 1e6:.2f} M/s) "
            f"| {r['ingest_s']:.2f} s ({r['ingest_events_per_s'] / 1e6:.2f} M/s) | {r['ratio']:.1f}x "
            f"| {r['raw_peak_mib']:.0f} MiB | {r['ingest_peak_mib']:.0f} MiB |"
        )
    return "\n".join(lines)
