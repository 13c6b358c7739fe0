"""Offenbach: immutable Parquet parts in month partitions; new parts are picked up."""

from __future__ import annotations

from datetime import date

from pipelines.contract import EVENT_FIELDS
from pipelines.mapping import FieldMapping, TimeKind, TimeSpec, identity_columns
from pipelines.readers import parquet_batches
from pipelines.settings import SourceSettings
from pipelines.sources.base import FolderSource, Kind
from pipelines.sources.naming import month_in_name

MAPPING = FieldMapping(columns=identity_columns(EVENT_FIELDS), time=TimeSpec(TimeKind.NATIVE))


def dated(name: str) -> date | None:
    return month_in_name(name, r"month=(\d{4}-\d{2})/")


def build(settings: SourceSettings) -> FolderSource:
    return FolderSource(
        city="offenbach",
        kind=Kind.EVENTS,
        mapping=MAPPING,
        location=settings.location,
        pattern="month=*/part-*.parquet",
        reader=parquet_batches,
        dated=dated,
    )
