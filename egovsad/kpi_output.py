"""Shaping KPI results for the command line: the list of KPIs and suppressed tables."""

from __future__ import annotations

import polars as pl

from warehouse.kpis import KPIS, Kpi
from warehouse.suppression import suppress

SUPPRESSED = "<5"


def kpi_list() -> pl.DataFrame:
    """Every KPI with its names, unit, whether it needs events and its groupings."""
    return pl.DataFrame(
        [
            {
                "id": kpi.id,
                "name_de": kpi.name_de,
                "name_en": kpi.name_en,
                "unit": kpi.unit,
                "events_only": kpi.events_only,
                "by": ",".join(dim for dim in ("city", "service", "channel", "month", "day") if dim in kpi.dims),
                "definition": kpi.description_en,
            }
            for kpi in KPIS.values()
        ]
    )


def kpi_table(kpi: Kpi, result: pl.DataFrame, by: tuple[str, ...], *, min_cell: int | None) -> pl.DataFrame:
    """The result for printing: dates as text; with ``min_cell``, small cells suppressed.

    A suppressed count reads ``<5``; a suppressed rate is left empty; neither keeps its
    numerator and denominator (they would give the value away). A ``suppressed``
    column says which cells were hidden, so an empty value is never mistaken for
    "not reported".
    """
    frame = result.with_columns(pl.col(dim).cast(pl.String) for dim in by if dim == "day")
    if kpi.unit == "count":
        frame = frame.with_columns(pl.col("value").cast(pl.Int64))
    if min_cell is None or not (kpi.unit == "count" or kpi.is_rate):
        return frame  # medians and yearly savings carry no count to judge a cell by
    marked = suppress(frame, by, rate=kpi.is_rate, min_cell=min_cell)
    hidden = pl.col("suppressed")
    return marked.with_columns(
        pl.when(hidden)
        .then(pl.lit(SUPPRESSED if kpi.unit == "count" else None))
        .otherwise(pl.col("value").cast(pl.String))
        .alias("value"),
        pl.when(hidden).then(None).otherwise(pl.col("numerator")).alias("numerator"),
        pl.when(hidden).then(None).otherwise(pl.col("denominator")).alias("denominator"),
    )
