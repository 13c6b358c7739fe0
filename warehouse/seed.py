"""Seed data shipped with the project: the six cities and the service catalogue.

The files are copies of the cooperation's published lists; they are read here and
nowhere else, so the warehouse, the pipelines and the simulator agree on them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

SEED_DIR = Path(__file__).parent / "seed"


def read_cities() -> pl.DataFrame:
    """The cooperating cities: slug, name, ags, district, population, population_date."""
    return pl.read_csv(
        SEED_DIR / "cities.csv",
        schema_overrides={"ags": pl.String, "population": pl.Int64, "population_date": pl.Date},
    )


def read_services() -> pl.DataFrame:
    """The LeiKa service catalogue: service_key, name_de, name_en, ozg_theme, ozg_id."""
    return pl.read_csv(
        SEED_DIR / "services.csv",
        schema_overrides={"service_key": pl.String, "ozg_id": pl.String},
    )
