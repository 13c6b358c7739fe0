"""Read queries behind the dashboard's charts that are not KPIs (sql/views/).

Each takes a connection (and, for the charts, a KPI :class:`Selection`) and
returns a Polars frame; the dashboard caches them per snapshot.
"""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.db import frame
from warehouse.kpis import Selection
from warehouse.sql_files import sql


def _selection(selection: Selection) -> dict[str, object]:
    return {
        "date_from": selection.start,
        "date_to": selection.end,
        "cities": list(selection.cities) or None,
        "services": list(selection.services) or None,
        "channels": list(selection.channels) or None,
    }


def cities(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return frame(con, sql("views/cities"))


def services(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return frame(con, sql("views/services"))


def months(con: duckdb.DuckDBPyConnection) -> list[str]:
    return list(frame(con, sql("views/months"))["month"])


def processing_histogram(con: duckdb.DuckDBPyConnection, selection: Selection) -> pl.DataFrame:
    """city, band (lower bound in days), cases."""
    return frame(con, sql("views/processing_histogram"), _selection(selection))


def weekday_hour(con: duckdb.DuckDBPyConnection, selection: Selection) -> pl.DataFrame:
    """city, weekday (ISO, 1 = Monday), hour (local, 0-23), submitted; event cities only."""
    return frame(con, sql("views/weekday_hour"), _selection(selection))


def coverage(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """city, first_day, last_day: the days each city has data for."""
    return frame(con, sql("views/coverage"))
