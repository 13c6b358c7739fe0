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


def populations(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """city, reference_date, population: every population figure, oldest first."""
    return frame(con, sql("views/populations"))


def population_at(figures: pl.DataFrame, periods: pl.DataFrame) -> pl.DataFrame:
    """``periods`` (``city``, ``period_end``) with the ``population`` valid then: the latest
    figure (of :func:`populations`) on or before the period's end, else the earliest."""
    figures = figures.sort("city", "reference_date")
    earliest = figures.group_by("city").agg(pl.col("population").first().alias("_earliest"))
    return (
        periods.with_columns(pl.col("period_end").cast(pl.Date))
        .sort("city", "period_end")
        .join_asof(
            figures,
            left_on="period_end",
            right_on="reference_date",
            by="city",
            strategy="backward",
            check_sortedness=False,  # sorted by city, then date: sorted within each city
        )
        .join(earliest, on="city", how="left")
        .with_columns(pl.coalesce("population", "_earliest").alias("population"))
        .drop("reference_date", "_earliest")
    )


def coverage(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """city, first_day, last_day: the days each city has data for."""
    return frame(con, sql("views/coverage"))
