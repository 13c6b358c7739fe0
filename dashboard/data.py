"""The dashboard's one way to data: the KPI registry and read queries on the snapshot in service.

Results are cached per snapshot: a new snapshot (a new file name) starts a new
cache, so nothing is ever shown from an older snapshot once a newer one is
published, and repeated views of the same selection cost one dictionary lookup.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

from egovsad import config as configuration
from egovsad.config import Config, ConfigError
from egovsad.freshness import assess
from warehouse import views
from warehouse.kpis import Selection, compute, get
from warehouse.queries import city_status, quarantine_summary, runs, unmapped
from warehouse.snapshots import SnapshotReader
from warehouse.suppression import suppress

T = TypeVar("T")
CACHE_SIZE = 1024
log = logging.getLogger(__name__)


class DataAccess:
    """KPIs and read queries for the pages; follows new snapshots without a restart."""

    def __init__(self, settings: Config) -> None:
        self.settings = settings
        self.reader = SnapshotReader(settings.snapshot_dir, memory_limit=str(settings.values["readers.memory_limit"]))
        self.min_cell = int(settings.values["privacy.min_cell"])
        self._cache: OrderedDict[tuple[Path, Hashable], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._settings_for: Path | None = None

    def _follow(self, path: Path) -> None:
        """Read the configuration again for a new snapshot: a city added since the app started
        (registered and loaded by the writer, hence the new snapshot) brings its schedule and
        unit costs. A configuration that no longer reads keeps the one in force, and says so."""
        if path == self._settings_for:
            return
        self._settings_for = path
        try:
            self.settings = configuration.load(self.settings.home, self.settings.environ)
        except ConfigError as error:
            log.warning("configuration not reloaded for %s: %s", path.name, error)

    def _cached(self, key: Hashable, query: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        path, con = self.reader.cursor()
        self._follow(path)
        full_key = (path, key)
        with self._lock:
            if full_key in self._cache:
                self._cache.move_to_end(full_key)
                return self._cache[full_key]  # type: ignore[no-any-return]
        try:
            value = query(con)
        finally:
            con.close()
        with self._lock:
            self._cache[full_key] = value
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return value

    def kpi(self, kpi_id: str, selection: Selection, by: tuple[str, ...], *, suppressed: bool = False) -> pl.DataFrame:
        """The registry's result; with ``suppressed`` a ``suppressed`` column marks small cells."""
        kpi = get(kpi_id)
        # medians and yearly savings carry no count to judge a cell by
        hide = suppressed and (kpi.unit == "count" or kpi.is_rate)

        def query(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
            result = compute(con, kpi_id, selection, by, unit_costs=self.settings.unit_costs())
            if hide:
                return suppress(result, by, rate=kpi.is_rate, min_cell=self.min_cell)
            return result.with_columns(pl.lit(False).alias("suppressed"))

        return self._cached(("kpi", kpi_id, selection, by, hide), query)

    def cities(self) -> pl.DataFrame:
        """slug, name, population, has_events: every city of the cooperation."""
        return self._cached(("cities",), views.cities)

    def populations(self) -> pl.DataFrame:
        """city, reference_date, population: every population figure (per-1,000 values use the one
        valid for the period, ``warehouse.views.population_at``)."""
        return self._cached(("populations",), views.populations)

    def city_names(self) -> dict[str, str]:
        return dict(self.cities().select("slug", "name").iter_rows())

    def services(self) -> pl.DataFrame:
        """service_key, name_de, name_en: the catalogue."""
        return self._cached(("services",), views.services)

    def coverage(self) -> dict[str, tuple[date, date]]:
        """City -> (first day, last day) with data."""
        rows = self._cached(("coverage",), views.coverage).iter_rows()
        return {city: (first, last) for city, first, last in rows}

    def service_names(self, lang: str) -> dict[str, str]:
        """service key -> the service's name in ``lang`` (de, en)."""
        column = "name_en" if lang == "en" else "name_de"
        return dict(self.services().select("service_key", column).iter_rows())

    def months(self) -> list[str]:
        """The months (YYYY-MM) that hold data, first to last."""
        return self._cached(("months",), views.months)

    def freshness(self) -> pl.DataFrame:
        """Per city: state (fresh, stale, failed), last success, data up to (re-assessed each minute)."""
        now = datetime.now(UTC)
        status = self._cached(("status",), city_status)
        key = ("freshness", now.replace(second=0, microsecond=0))
        return self._cached(key, lambda _con: assess(status, self.settings, now))

    def stale_cities(self) -> set[str]:
        return set(self.freshness().filter(pl.col("state") != "fresh")["city"])

    def runs(self, limit: int = 50) -> pl.DataFrame:
        return self._cached(("runs", limit), lambda con: runs(con, limit=limit))

    def quarantine(self) -> pl.DataFrame:
        return self._cached(("quarantine",), quarantine_summary)

    def unmapped(self) -> pl.DataFrame:
        """Per city: service names no mapping knew and dropped columns, as the runs reported them."""
        return self._cached(("unmapped",), unmapped)

    def view(self, name: str, selection: Selection, **extra: Any) -> pl.DataFrame:
        """A chart query of ``warehouse.views`` over ``selection``."""
        query = getattr(views, name)
        key = ("view", name, selection, tuple(sorted(extra.items())))
        return self._cached(key, lambda con: query(con, selection, **extra))

    @staticmethod
    def today() -> date:
        return date.today()
