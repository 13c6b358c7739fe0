"""Running the pipelines of several cities against the one writer connection."""

from __future__ import annotations

from datetime import date

from egovsad.config import Config
from pipelines.run import RunResult, run_city
from pipelines.sources import build_source
from pipelines.validate import Catalogue
from warehouse.db import connect_writer, service_keys


def ingest_cities(
    settings: Config, cities: list[str], *, location: str | None = None, since: date | None = None
) -> list[RunResult]:
    """Run each city once, in order; one failing city never stops the others."""
    with connect_writer(settings.warehouse) as con:
        catalogue = Catalogue(service_keys(con))
        return [
            run_city(
                build_source(settings.source_settings(city, location)),
                con,
                catalogue=catalogue,
                since=since,
                spill_dir=settings.home / "tmp" / "spill",
            )
            for city in cities
        ]
