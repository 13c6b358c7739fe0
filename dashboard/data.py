"""The dashboard's one way to data: the KPI registry on the snapshot in service."""

from __future__ import annotations

from datetime import date

import polars as pl

from egovsad.config import Config
from warehouse.kpis import Selection, compute, last_full_months
from warehouse.queries import city_names
from warehouse.snapshots import SnapshotReader


class DataAccess:
    """KPIs for the pages; follows new snapshots without a restart."""

    def __init__(self, settings: Config) -> None:
        self.settings = settings
        self.reader = SnapshotReader(settings.snapshot_dir, memory_limit=str(settings.values["readers.memory_limit"]))

    def default_period(self) -> tuple[date, date]:
        return last_full_months(date.today())

    def city_names(self) -> dict[str, str]:
        con = self.reader.connection()
        try:
            return city_names(con)
        finally:
            con.close()

    def kpi(self, kpi_id: str, selection: Selection, by: tuple[str, ...]) -> pl.DataFrame:
        con = self.reader.connection()
        try:
            return compute(con, kpi_id, selection, by, unit_costs=self.settings.unit_costs())
        finally:
            con.close()
