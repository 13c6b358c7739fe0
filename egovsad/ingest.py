"""Running pipelines as the one writer: lock, run each city, publish a snapshot after each."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from egovsad.cities import registry
from egovsad.config import Config
from pipelines.run import RunResult, run_city
from pipelines.sources import build_source
from pipelines.validate import Catalogue
from warehouse.db import connect_writer, service_keys
from warehouse.lock import writer_lock
from warehouse.registry import register_cities
from warehouse.snapshots import publish

log = logging.getLogger(__name__)


def ingest_cities(
    settings: Config,
    cities: list[str],
    *,
    location: str | None = None,
    since: date | None = None,
    wait: bool = True,
    on_wait: Callable[[], None] | None = None,
) -> list[RunResult]:
    """Register the configured cities and their population figures, then run each city once,
    in order, and publish after each run (failed ones too, so that readers see the failure);
    one failing city never stops the others.

    Raises WarehouseBusy when another writer holds the lock and ``wait`` is False.
    """
    results = []
    with writer_lock(settings.lock_path, wait=wait, on_wait=on_wait), connect_writer(settings.warehouse) as con:
        register_cities(con, *registry(settings))
        catalogue = Catalogue(service_keys(con))
        for city in cities:
            source = build_source(settings.source_settings(city, location))
            results.append(run_city(source, con, catalogue=catalogue, since=since, spill_dir=settings.spill_dir))
            publish(con, settings.warehouse_path, settings.snapshot_dir, keep=int(settings.values["snapshots.keep"]))
    return results
