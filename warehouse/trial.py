"""A throwaway warehouse in memory, for dry runs: a trial load whose result is read and dropped.

It has every migration and the seed data, so a trial rejects exactly what a real
run would; it never touches the warehouse file, so it needs no writer lock and can
run while the scheduler writes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.db import LOCAL_TZ, migrate


def scratch_warehouse(temp_dir: Path, *, memory_limit: str = "1GB", threads: int = 2) -> duckdb.DuckDBPyConnection:
    """An empty warehouse in memory (``temp_dir`` takes what does not fit)."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        ":memory:", config={"memory_limit": memory_limit, "threads": threads, "temp_directory": str(temp_dir)}
    )
    con.execute(f"SET TimeZone = '{LOCAL_TZ}'")
    migrate(con)
    return con
