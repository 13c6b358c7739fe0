"""Shared fixtures: a fresh home folder per test, the shipped samples, and small helpers."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from egovsad import config as configuration
from egovsad.ingest import ingest_cities
from pipelines.run import RunResult
from warehouse.db import frame
from warehouse.snapshots import open_current

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path) -> configuration.Config:
    return configuration.load(home, environ={"EGOVSAD_MARBURG_TOKEN": "test-token"})


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A private copy of the sample deliveries, so a test may change its files."""
    target = tmp_path / "samples"
    shutil.copytree(SAMPLES, target)
    return target


def ingest(settings: configuration.Config, city: str, location: Path | str | None = None) -> RunResult:
    [result] = ingest_cities(settings, [city], location=None if location is None else str(location))
    return result


def query(settings: configuration.Config, sql: str, params: object = None) -> pl.DataFrame:
    """Ask the published snapshot, as every reader does."""
    _path, con = open_current(settings.snapshot_dir)
    with con:
        return frame(con, sql, params)


WetzlarRow = tuple[date, str, str, int, int, int, int, int]


def write_wetzlar(path: Path, rows: list[WetzlarRow]) -> None:
    """A Wetzlar statistics workbook: sheet Tageswerte, a real Excel date per row."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Tageswerte")
    dates = workbook.add_format({"num_format": "dd.mm.yyyy"})
    sheet.write_row(0, 0, ["Datum", "Leistungsschlüssel", "Kanal", "Begonnen", "Eingereicht", "Abgeschlossen",
                           "Abgelehnt", "Abgebrochen"])  # fmt: skip
    for number, row in enumerate(rows, start=1):
        sheet.write_datetime(number, 0, datetime.combine(row[0], datetime.min.time()), dates)
        sheet.write_row(number, 1, row[1:])
    workbook.close()
