"""Export benchmark: 10M rows to CSV and Parquet through ``analyst.export()``, beside DuckDB's own COPY.

Both engines run the same generated query (event-like columns from ``range()``:
ids, local timestamps, service keys, channels, a double, a boolean, NULLs), each
in its own process, so the peak memory reported by the kernel is each one's own.
``export()`` runs on a read-only reader connection as the SQL page does, with the
manifest and its SHA-256; COPY runs on a writable in-memory connection (a reader
may not write files) with the same threads, memory limit and time zone. Each
figure is the best of a few runs: the machine is shared.

Run alone: ``python -m bench --only export``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

QUERY = """
SELECT i AS id,
       TIMESTAMPTZ '2026-01-01 00:00:00+01' + to_seconds(i * 3) AS occurred_at,
       '99115' || lpad((i % 500)::VARCHAR, 9, '0') AS service_key,
       ['online', 'app', 'in_person', 'phone', 'email', 'post'][i % 6 + 1] AS channel,
       (i % 1000) / 7.0 AS score,
       i % 5 = 0 AS eid,
       CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 3600)::INTEGER END AS user_seconds
FROM range({rows}) r(i)
"""
FORMATS = ("csv", "parquet")
THREADS = 2
MEMORY_LIMIT = "1GB"  # the readers' default (readers.memory_limit)


def _child(engine: str, fmt: str, rows: int, work: Path) -> dict[str, Any]:
    """One export in this process; returns its own timing (the parent measures peak memory)."""
    import duckdb

    query = QUERY.format(rows=rows)
    target = work / f"out-{engine}.{fmt}"
    started = time.perf_counter()
    if engine == "copy":
        con = duckdb.connect(config={"threads": THREADS, "memory_limit": MEMORY_LIMIT})
        con.execute("SET TimeZone = 'Europe/Berlin'")
        options = "(HEADER)" if fmt == "csv" else "(FORMAT parquet)"
        con.execute(f"COPY ({query}) TO '{target}' {options}")
        con.close()
    else:
        from warehouse import analyst
        from warehouse.db import WarehouseSettings, connect_reader, connect_writer

        database = work / "bench-reader.duckdb"
        if not database.exists():
            connect_writer(WarehouseSettings(path=database, temp_dir=work / "tmp")).close()
        started = time.perf_counter()
        with connect_reader(database, memory_limit=MEMORY_LIMIT, threads=THREADS) as con:
            analyst.export(con, query, target, fmt, user="bench", snapshot=database.name, timeout_seconds=3600)
    seconds = time.perf_counter() - started
    size = target.stat().st_size
    target.unlink()
    Path(f"{target}.manifest.json").unlink(missing_ok=True)
    return {"seconds": seconds, "bytes": size}


def _measure(engine: str, fmt: str, rows: int, work: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.export", engine, fmt, str(rows), str(work)]
    wrapper = [sys.executable, "-m", "bench.measure", *command]
    out = subprocess.run(wrapper, capture_output=True, text=True, check=True)
    measured = json.loads(out.stdout)
    if measured["code"] != 0:
        raise RuntimeError(f"export {engine} {fmt} failed: {measured['stderr']}")
    return {**json.loads(measured["stdout"]), "peak_mib": measured["peak_mib"]}


def run(work: Path, rows: int = 10_000_000, repeats: int = 3) -> list[dict[str, Any]]:
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for fmt in FORMATS:
        runs: dict[str, list[dict[str, Any]]] = {"copy": [], "export": []}
        for _ in range(repeats):  # interleaved, so that a busy moment hits both engines alike
            for engine in runs:
                runs[engine].append(_measure(engine, fmt, rows, work))
        copy = min(runs["copy"], key=lambda r: r["seconds"])
        export = min(runs["export"], key=lambda r: r["seconds"])
        results.append(
            {
                "format": fmt,
                "rows": rows,
                "copy_s": copy["seconds"],
                "export_s": export["seconds"],
                "ratio": export["seconds"] / copy["seconds"],
                "copy_peak_mib": max(r["peak_mib"] for r in runs["copy"]),
                "export_peak_mib": max(r["peak_mib"] for r in runs["export"]),
                "copy_mb": copy["bytes"] / 1e6,
                "export_mb": export["bytes"] / 1e6,
            }
        )
        print(results[-1], flush=True)
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| format | rows | DuckDB COPY | export() with manifest | export / COPY (time) "
        "| peak memory COPY | peak memory export | file COPY / export |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['format']} | {r['rows']:,} | {r['copy_s']:.2f} s ({r['rows'] / r['copy_s'] / 1e6:.2f} M/s) "
            f"| {r['export_s']:.2f} s ({r['rows'] / r['export_s'] / 1e6:.2f} M/s) | {r['ratio']:.2f}x "
            f"| {r['copy_peak_mib']:.0f} MiB | {r['export_peak_mib']:.0f} MiB "
            f"| {r['copy_mb']:.0f} / {r['export_mb']:.0f} MB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    engine, fmt, rows, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    print(json.dumps(_child(engine, fmt, rows, work)))
    # the parent reads peak memory from the kernel; also said here for a run by hand
    print(f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", file=sys.stderr)
