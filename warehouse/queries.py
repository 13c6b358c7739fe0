"""Read-side questions about the pipelines' bookkeeping: run records, quarantine, status."""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.db import frame
from warehouse.sql_files import sql


def runs(con: duckdb.DuckDBPyConnection, *, city: str | None = None, limit: int = 100) -> pl.DataFrame:
    """The newest run records first."""
    return frame(con, sql("runs/list"), {"city": city, "limit": limit})


def quarantine_summary(con: duckdb.DuckDBPyConnection, *, city: str | None = None) -> pl.DataFrame:
    """Rejected rows counted by city and reason; a row delivered again counts once."""
    return frame(con, sql("runs/quarantine_summary"), {"city": city})


def unmapped(con: duckdb.DuckDBPyConnection, *, city: str | None = None) -> pl.DataFrame:
    """Service names no mapping knew and columns outside the contract, as the runs reported them."""
    return frame(con, sql("runs/unmapped"), {"city": city})


def city_status(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per city: latest run and its status, latest success, data reach, rows, quarantined."""
    return frame(con, sql("runs/status"))


def city_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """City slug -> official name, for showing cities as people know them."""
    return dict(frame(con, "SELECT slug, name FROM cities").iter_rows())


def quarantine_examples(con: duckdb.DuckDBPyConnection, *, city: str) -> pl.DataFrame:
    """Per reason, the first rejected row of ``city``: reason, source, row_number, detail."""
    return frame(con, sql("runs/quarantine_examples"), {"city": city})
