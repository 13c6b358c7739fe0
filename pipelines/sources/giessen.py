"""Gießen: daily CSV files in a drop folder (UTF-8 with BOM, ``;``, local times, minutes)."""

from __future__ import annotations

from datetime import date
from functools import partial

from pipelines.contract import GERMAN_CHANNEL_WORDS
from pipelines.mapping import FieldMapping, TimeKind, TimeSpec
from pipelines.readers import csv_batches
from pipelines.settings import SourceSettings
from pipelines.sources.base import FolderSource, Kind
from pipelines.sources.naming import date_in_name

MAPPING = FieldMapping(
    columns={
        "event_id": "Vorgang",
        "occurred_at": "Zeitpunkt",
        "service_key": "Leistungsschluessel",
        "channel": "Kanal",
        "stage": "Status",
        "case_id": "Fall",
        "user_seconds": "Dauer_Min",
        "eid": "eID",
        "epayment": "Bezahlung",
        "device": "Endgeraet",
        "rating": "Bewertung",
    },
    values={
        "channel": GERMAN_CHANNEL_WORDS,
        "stage": {
            "begonnen": "started",
            "eingereicht": "submitted",
            "abgeschlossen": "completed",
            "abgelehnt": "rejected",
            "abgebrochen": "abandoned",
        },
        "device": {"Desktop": "desktop", "Smartphone": "mobile", "Tablet": "tablet"},
    },
    time=TimeSpec(TimeKind.LOCAL, "%d.%m.%Y %H:%M:%S"),
    decimal_mark=",",
    user_seconds_scale=60.0,
    booleans={"ja": True, "nein": False},
)


def dated(name: str) -> date | None:
    return date_in_name(name, r"nutzung_(\d{4}-\d{2}-\d{2})\.csv", "%Y-%m-%d")


def build(settings: SourceSettings) -> FolderSource:
    return FolderSource(
        city="giessen",
        kind=Kind.EVENTS,
        mapping=MAPPING,
        location=settings.location,
        pattern="nutzung_*.csv",
        reader=partial(csv_batches, delimiter=";", encoding="utf-8"),
        dated=dated,
    )
