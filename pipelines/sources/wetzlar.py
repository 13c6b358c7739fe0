"""Wetzlar: monthly Excel statistics of daily counts; a re-delivered month replaces it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from pipelines.contract import GERMAN_CHANNEL_WORDS
from pipelines.mapping import FieldMapping
from pipelines.readers import RawBatch, xlsx_frame
from pipelines.settings import SourceSettings
from pipelines.sources.base import FolderSource, Kind
from pipelines.sources.naming import month_in_name

NAME = r"Wetzlar_Statistik_(\d{4}-\d{2})\.xlsx"

MAPPING = FieldMapping(
    columns={
        "day": "Datum",
        "service_key": "Leistungsschlüssel",
        "channel": "Kanal",
        "started": "Begonnen",
        "submitted": "Eingereicht",
        "completed": "Abgeschlossen",
        "rejected": "Abgelehnt",
        "abandoned": "Abgebrochen",
    },
    values={"channel": GERMAN_CHANNEL_WORDS},
)


def month(name: str) -> str | None:
    found = re.search(NAME, name)
    return None if found is None else found.group(1)


def dated(name: str) -> date | None:
    return month_in_name(name, NAME)


def read(path: Path) -> Iterator[RawBatch]:
    yield xlsx_frame(path, sheet="Tageswerte")


def build(settings: SourceSettings) -> FolderSource:
    return FolderSource(
        city="wetzlar",
        kind=Kind.DAILY,
        mapping=MAPPING,
        location=settings.location,
        pattern="Wetzlar_Statistik_*.xlsx",
        reader=read,
        dated=dated,
        monthly=month,
    )
