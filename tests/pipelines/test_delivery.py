"""Deliveries described as data: what a description may say, and how a case row becomes events."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from egovsad import config as configuration
from pipelines.contract import EVENT_FIELDS
from pipelines.delivery import DeliveryError, Shape, parse, shipped
from pipelines.mapping import RECORD, ROW, stage
from pipelines.readers import RawBatch
from pipelines.shapes import cases_to_events
from pipelines.sources import build_source
from pipelines.sources.generic import HttpExportSource
from pipelines.sources.marburg import MarburgSource
from pipelines.validate import Catalogue, check_events

EVENTS = {
    "format": "csv",
    "columns": {"event_id": "id", "occurred_at": "at", "service_key": "key", "channel": "via", "stage": "step"},
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**EVENTS, **changes}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (_with(fromat="csv"), "unknown key 'source.fromat'"),
        (_with(format="xls"), "'source.format' must be one of csv, xlsx, jsonl, parquet"),
        ({"columns": EVENTS["columns"]}, "'source.format' is missing"),
        (_with(columns={"event_id": "id"}), "'source.columns' must name the column of occurred_at, service_key"),
        (_with(columns={**EVENTS["columns"], "when": "x"}), "'source.columns.when' is not a field of shape"),
        (_with(values={"channel": {"Web": "internet"}}), "'source.values.channel.Web' = 'internet' is not one of"),
        (_with(values={"rating": {"gut": "5"}}), "'source.values.rating' cannot be mapped"),
        (_with(shape="cases", stages={"started": "at"}), "'source.columns.event_id' is not a field of shape \"cases\""),
        (
            {"format": "csv", "shape": "cases", "columns": {"case_id": "c", "service_key": "k", "channel": "v"}},
            "shape \"cases\" needs 'source.stages'",
        ),
        (_with(stages={"opened": "Opened"}), "'source.stages' is only for shape = \"cases\""),
        (_with(time_zone="Europe/Wetzlar"), "'source.time_zone' 'Europe/Wetzlar' is not a time zone"),
        (_with(time_format="dd.mm.yyyy"), "'source.time_format' must be iso, epoch_seconds, native or a pattern"),
        (_with(encoding="latin-99"), "'source.encoding' 'latin-99' is not an encoding"),
        (_with(delimiter=";;"), "'source.delimiter' must be one character"),
        (_with(booleans={"ja": "yes"}), "'source.booleans.ja' must be true or false"),
        (_with(file_date="%d.%m."), "'source.file_date' must contain %Y and %m"),
        (_with(service_names_file="nowhere.csv"), "'source.service_names_file'"),
    ],
)
def test_a_mistake_in_a_description_names_its_key(table: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match=re.escape(message)):
        parse(table, base_dir=tmp_path)


def test_the_built_in_cities_but_marburg_are_shipped_descriptions(tmp_path: Path) -> None:
    settings = configuration.load(tmp_path / "home", environ={})
    sources = {city: build_source(settings.source_settings(city)) for city in configuration.CITIES}

    assert isinstance(sources["marburg"], MarburgSource)
    assert isinstance(sources["limburg"], HttpExportSource) and sources["limburg"].name == "export.ndjson.gz"
    assert shipped("wetzlar").shape is Shape.DAILY and shipped("wetzlar").month("Wetzlar_Statistik_2025-11.xlsx")
    assert shipped("giessen").dated("nutzung_2026-01-02.csv") == datetime(2026, 1, 2).date()
    assert shipped("offenbach").dated("month=2026-02/part-0.parquet") == datetime(2026, 2, 28).date()
    # Fulda's shipped name table, extended by the setting
    fulda = configuration.load(tmp_path / "home", environ={}).source_settings("fulda")
    names = build_source(fulda).mapping.service_names
    assert names is not None and len(names) > 10


def test_a_case_row_becomes_one_event_per_filled_stage_timestamp() -> None:
    raw = pl.DataFrame(
        {
            "Ticket": ["T-1", "T-2", "T-3"],
            "Opened": ["2026-03-02T09:00:00", "2026-03-02T10:00:00", None],
            "Closed": ["2026-03-04T12:00:00", "  ", None],
            "Stars": ["5", "4", None],
        }
    ).with_columns(pl.Series(ROW, [1, 2, 3], dtype=pl.Int64))

    events = cases_to_events(
        RawBatch(raw),
        case_id="Ticket",
        stages={"started": "Opened", "completed": "Closed"},
        details=("Stars",),
        details_stage="completed",
    ).frame

    assert events["_case_event"].to_list() == ["T-1-started", "T-1-completed", "T-2-started", "T-3"]
    assert events[RECORD].to_list() == [1, 1, 2, 3]  # each event names its record
    assert events[ROW].n_unique() == 4  # but is a row of its own, in delivery order
    assert events["Stars"].to_list() == [None, "5", None, None]  # the rating belongs to one stage
    assert events["Closed"].to_list()[:2] == [None, "2026-03-04T12:00:00"]  # its own timestamp only


def test_local_times_of_another_zone_and_its_clock_change() -> None:
    delivery = parse(_with(time_format="%d.%m.%Y %H:%M", time_zone="America/New_York"))
    raw = pl.DataFrame(
        {
            "id": ["a", "b"],
            "at": ["02.03.2026 09:00", "08.03.2026 02:30"],
            "key": ["99115005104000"] * 2,
            "via": ["online"] * 2,
            "step": ["submitted"] * 2,
        }  # fmt: skip
    ).with_columns(pl.Series(ROW, [1, 2], dtype=pl.Int64))
    staged = stage(raw, delivery.mapping, EVENT_FIELDS).frame

    checked = check_events(staged, delivery.mapping, Catalogue(frozenset({"99115005104000"})), now=datetime.now(UTC))

    assert checked.valid["occurred_at"].to_list() == [datetime(2026, 3, 2, 14, 0, tzinfo=UTC)]
    assert checked.rejected["detail"].to_list() == [
        "local time '08.03.2026 02:30' does not exist in America/New_York (clock change)"
    ]
