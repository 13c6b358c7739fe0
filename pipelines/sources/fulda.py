"""Fulda: daily CSV exports (Windows-1252, ``,``, Unix seconds) with Fulda's own service names.

The name table shipped beside this module is the starting point; the
configuration extends or overrides it, and unmapped names are reported.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path

import polars as pl

from pipelines.mapping import FieldMapping, TimeKind, TimeSpec
from pipelines.readers import csv_batches
from pipelines.settings import SourceSettings
from pipelines.sources.base import FolderSource, Kind
from pipelines.sources.naming import date_in_name

NAME_TABLE = Path(__file__).with_name("fulda_services.csv")


def shipped_names() -> dict[str, str]:
    """Fulda's starting name -> service key table."""
    table = pl.read_csv(NAME_TABLE, separator=";", schema={"name": pl.String, "service_key": pl.String})
    return dict(table.iter_rows())


def mapping(extra_names: dict[str, str]) -> FieldMapping:
    return FieldMapping(
        columns={
            "event_id": "id",
            "occurred_at": "ts_epoch",
            "service_key": "leistung",
            "channel": "kanal",
            "stage": "status",
            "case_id": "fall_id",
            "user_seconds": "sekunden",
            "rating": "bewertung",
        },
        values={
            "channel": {
                "WEB": "online",
                "APP": "app",
                "SCHALTER": "in_person",
                "TEL": "phone",
                "MAIL": "email",
                "BRIEF": "post",
            },
            "stage": {
                "START": "started",
                "EINGANG": "submitted",
                "ERLEDIGT": "completed",
                "ABGELEHNT": "rejected",
                "ABBRUCH": "abandoned",
            },
        },
        time=TimeSpec(TimeKind.EPOCH_SECONDS),
        service_names={**shipped_names(), **extra_names},
    )


def dated(name: str) -> date | None:
    return date_in_name(name, r"export_(\d{8})\.csv", "%Y%m%d")


def build(settings: SourceSettings) -> FolderSource:
    return FolderSource(
        city="fulda",
        kind=Kind.EVENTS,
        mapping=mapping(settings.service_names),
        location=settings.location,
        pattern="export_*.csv",
        reader=partial(csv_batches, delimiter=",", encoding="cp1252"),
        dated=dated,
    )
