"""Delivery shapes other than one event per row, turned into events before staging.

Ticket systems export one row per case with a timestamp column per stage
(created, submitted, closed, ...). Each filled timestamp is one event of the
contract; the row keeps its place in the file (``_record``) so that a rejected
event still names the record it came from.
"""

from __future__ import annotations

import polars as pl

from pipelines.mapping import CASE_EVENT, CASE_STAGE, CASE_TIME, RECORD, ROW
from pipelines.readers import RawBatch

#: row numbers per record: one per stage and one for a record without any timestamp
SLOTS = 8


def _filled(column: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return (pl.col(column).str.strip_chars().str.len_bytes() > 0).fill_null(False)
    return pl.col(column).is_not_null()


def cases_to_events(
    batch: RawBatch,
    *,
    case_id: str,
    stages: dict[str, str],
    details: tuple[str, ...] = (),
    details_stage: str = "submitted",
) -> RawBatch:
    """One row per filled stage timestamp of each case row, in delivery order.

    ``stages`` maps a canonical stage to the column holding its timestamp. Each event
    keeps the case's columns with only its own stage's timestamp filled (so a rejected
    event's delivered values show which stage it is), the event id ``<case id>-<stage>``
    and the record number. The case's ``details`` columns (citizen time, eID, payment,
    device, rating) belong to the ``details_stage`` event only, so a rating is counted
    once per case. A case row without any timestamp stays one row: it is rejected as
    missing its time, never silently lost.
    """
    frame = batch.frame
    schema = frame.schema
    case = pl.col(case_id).cast(pl.String).str.strip_chars()
    columns = list(stages.values())
    parts: list[pl.DataFrame] = []
    for index, (stage, column) in enumerate(stages.items()):
        others = [name for name in columns if name != column]
        hidden = [] if stage == details_stage else [name for name in details if name in schema]
        parts.append(
            frame.filter(_filled(column, schema[column])).with_columns(
                pl.col(column).alias(CASE_TIME),
                pl.lit(stage).alias(CASE_STAGE),
                pl.concat_str(case, pl.lit(f"-{stage}")).alias(CASE_EVENT),
                *(pl.lit(None, schema[name]).alias(name) for name in [*others, *hidden]),
                pl.col(ROW).alias(RECORD),
                (pl.col(ROW) * SLOTS + index).alias(ROW),
            )
        )
    empty = ~pl.any_horizontal(*(_filled(column, schema[column]) for column in columns))
    parts.append(
        frame.filter(empty).with_columns(
            pl.lit(None, pl.String).alias(CASE_TIME),
            pl.lit(None, pl.String).alias(CASE_STAGE),
            case.alias(CASE_EVENT),
            pl.col(ROW).alias(RECORD),
            (pl.col(ROW) * SLOTS + SLOTS - 1).alias(ROW),
        )
    )
    events = pl.concat(parts, how="vertical_relaxed").sort(ROW)
    return RawBatch(events, batch.malformed)
