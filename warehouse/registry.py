"""The cities of the cooperation as the configuration names them, kept in the warehouse.

Each time the writer opens, the configured cities (the six built-in ones and every
city added by configuration) and their population figures by reference date are
registered, so a new city reaches every KPI, view and page without a migration, and a
new population figure applies from its reference date on.
"""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.db import transaction_with
from warehouse.sql_files import statements

CITY_COLUMNS = {"slug": pl.String, "name": pl.String, "ags": pl.String, "district": pl.String}
POPULATION_COLUMNS = {"city": pl.String, "reference_date": pl.Date, "population": pl.Int64}


def register_cities(con: duckdb.DuckDBPyConnection, cities: pl.DataFrame, populations: pl.DataFrame) -> None:
    """Upsert ``cities`` (slug, name, ags, district) and replace their population figures by
    ``populations`` (city, reference_date, population), in one transaction.

    Every city needs at least one figure (the registry keeps the latest); raises
    ValueError naming a city without one.
    """
    cities = cities.select([pl.col(name).cast(dtype) for name, dtype in CITY_COLUMNS.items()])
    populations = populations.select([pl.col(name).cast(dtype) for name, dtype in POPULATION_COLUMNS.items()])
    without = sorted(set(cities["slug"]) - set(populations["city"]))
    if without:
        raise ValueError(f"no population figure for {', '.join(without)}")
    with transaction_with(con, configured_cities=cities, configured_populations=populations):
        for statement in statements("load/register_cities"):
            con.execute(statement)
