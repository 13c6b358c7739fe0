"""The six delivery formats, written exactly as the data contract (section 5) and its samples.

Each writer takes canonical events (or Wetzlar's daily counts) with the helper columns of
`events.py` and `faults.py`, maps them to the city's own words and layout, and returns the
files it wrote. Files are written to a hidden temporary name and renamed into place, so a
pipeline polling the folder never reads half a file. Unknown values (injected faults) pass
through the word mappings unchanged.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import xlsxwriter

from pipelines.contract import STAGES

from . import faults
from .cases import Period
from .events import DAY, EVENT_SCHEMA, TZ
from .model import fulda_names

GIESSEN_CHANNELS = {
    "online": "Online", "app": "App", "in_person": "Bürgerbüro", "phone": "Telefon",
    "email": "E-Mail", "post": "Post",
}  # fmt: skip
GIESSEN_STAGES = {
    "started": "begonnen", "submitted": "eingereicht", "completed": "abgeschlossen",
    "rejected": "abgelehnt", "abandoned": "abgebrochen",
}  # fmt: skip
GIESSEN_DEVICES = {"desktop": "Desktop", "mobile": "Smartphone", "tablet": "Tablet"}
FULDA_CHANNELS = {
    "online": "WEB", "app": "APP", "in_person": "SCHALTER", "phone": "TEL", "email": "MAIL",
    "post": "BRIEF",
}  # fmt: skip
FULDA_STAGES = {
    "started": "START", "submitted": "EINGANG", "completed": "ERLEDIGT", "rejected": "ABGELEHNT",
    "abandoned": "ABBRUCH",
}  # fmt: skip
WETZLAR_HEADER = (
    "Datum", "Leistungsschlüssel", "Kanal",
    "Begonnen", "Eingereicht", "Abgeschlossen", "Abgelehnt", "Abgebrochen",
)  # fmt: skip
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_CANONICAL = list(EVENT_SCHEMA)

Writer = Callable[[pl.DataFrame, Path, Period], list[Path]]


def write_giessen(events: pl.DataFrame, folder: Path, period: Period) -> list[Path]:
    """`nutzung_YYYY-MM-DD.csv` per local day: UTF-8 with BOM, `;`, CRLF, German words, local
    time without offset, minutes with a decimal comma. Every day of the period gets a file."""
    local = pl.col("occurred_at").dt.convert_time_zone(TZ).dt.strftime("%d.%m.%Y %H:%M:%S")
    tenths = (pl.col("user_seconds") / 6).round(0).cast(pl.Int64)
    rows = events.select(
        DAY,
        Vorgang="event_id",
        Zeitpunkt=faults.giessen_local_time(local, faults.nonexistent_day(period.end)),
        Leistungsschluessel="service_key",
        Kanal=pl.col("channel").replace(GIESSEN_CHANNELS),
        Status=pl.col("stage").replace(GIESSEN_STAGES),
        Fall="case_id",
        Dauer_Min=pl.format("{},{}", tenths // 10, tenths % 10),
        eID=_ja_nein("eid"),
        Bezahlung=_ja_nein("epayment"),
        Endgeraet=pl.col("device").replace(GIESSEN_DEVICES),
        Bewertung=pl.col("rating").cast(pl.String),
    )
    written = []
    for day, rows_of_day in _by_day(rows, period):
        path = folder / f"nutzung_{day:%Y-%m-%d}.csv"
        with _replacing(path) as tmp:
            rows_of_day.write_csv(
                tmp,
                include_bom=True,
                separator=";",
                line_terminator="\r\n",
                null_value="",
            )
        written.append(path)
    return written


def write_fulda(events: pl.DataFrame, folder: Path, period: Period) -> list[Path]:
    """`export_YYYYMMDD.csv` per local day: Windows-1252, `,`, CRLF, Unix seconds, Fulda's own
    service names and words; no eid, epayment or device."""
    rows = events.select(
        DAY,
        id="event_id",
        ts_epoch=pl.col("occurred_at").dt.epoch("s"),
        leistung=faults.fulda_service_name(pl.col("service_key").replace(fulda_names())),
        kanal=pl.col("channel").replace(FULDA_CHANNELS),
        status=pl.col("stage").replace(FULDA_STAGES),
        fall_id="case_id",
        sekunden="user_seconds",
        bewertung="rating",
    )
    written = []
    for day, rows_of_day in _by_day(rows, period):
        text = rows_of_day.write_csv(separator=",", line_terminator="\r\n", null_value="")
        path = folder / f"export_{day:%Y%m%d}.csv"
        with _replacing(path) as tmp:
            tmp.write_bytes(text.encode("cp1252"))
        written.append(path)
    return written


def write_offenbach(events: pl.DataFrame, folder: Path, period: Period) -> list[Path]:
    """`month=YYYY-MM/part-N.parquet`, canonical columns; the parts of a month hold days 1-10,
    11-20 and 21-31, the way new immutable parts appear over a month."""
    chunk = ((pl.col(DAY).dt.day() - 1) // 10).clip(upper_bound=2)
    parts = events.with_columns(_month=pl.col(DAY).dt.strftime("%Y-%m"), _part=chunk)
    written = []
    for (month, part), rows in sorted(parts.partition_by("_month", "_part", as_dict=True).items()):
        path = folder / f"month={month}" / f"part-{part}.parquet"
        with _replacing(path) as tmp:
            rows.select(_CANONICAL).write_parquet(tmp)
        written.append(path)
    return written


def write_marburg(events: pl.DataFrame, folder: Path, period: Period) -> list[Path]:
    """`events.parquet` with Marburg's canonical events, the store behind the feed server's
    paginated JSON API (`server.py`)."""
    path = folder / "events.parquet"
    with _replacing(path) as tmp:
        events.select(_CANONICAL).write_parquet(tmp)
    return [path]


def write_limburg(events: pl.DataFrame, folder: Path, period: Period) -> list[Path]:
    """`export.ndjson.gz`: one canonical snake_case JSON event per line, times in UTC with `Z`.

    In production the export covers the last 35 days and is replaced nightly; the simulator's
    export covers the whole simulated period, so its first export doubles as the history
    backfill. The gzip header carries no timestamp, so equal content gives an equal ETag."""
    utc_text = pl.col("occurred_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = events.select(_CANONICAL).with_columns(utc_text)
    lines = rows.select(pl.struct(pl.all()).struct.json_encode().alias("line"))["line"]
    # Polars writes compact JSON; the export puts a space after each separator, like
    # Python's json.dumps. Keys are known, and `,"key":` cannot occur inside a JSON string.
    keys = "|".join(_CANONICAL)
    lines = lines.str.replace(r'^\{"event_id":', '{"event_id": ')
    lines = lines.str.replace_all(f',"({keys})":', ', "${1}": ')
    text = lines.str.join("\n").item() + "\n" if len(lines) else ""
    path = folder / "export.ndjson.gz"
    with _replacing(path) as tmp:
        tmp.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))
    return [path]


def write_wetzlar(counts: pl.DataFrame, folder: Path, period: Period) -> list[Path]:
    """`Wetzlar_Statistik_YYYY-MM.xlsx` per month, sheet `Tageswerte`: real Excel dates, the
    service key as text, Gießen's channel words, the five stage counts. The month of a row is
    taken from the helper day column, which survives a fault that blanks the date."""
    rows = counts.select(
        pl.col(DAY).dt.month_start().alias("_month"),
        (pl.col("date") - pl.lit(_EXCEL_EPOCH)).dt.total_days().alias("serial"),
        "service_key",
        pl.col("channel").replace(GIESSEN_CHANNELS),
        *STAGES,
    )
    parts = rows.partition_by("_month", as_dict=True, include_key=False)
    empty = rows.drop("_month").clear()
    written = []
    for month in _months(period):
        path = folder / f"Wetzlar_Statistik_{month:%Y-%m}.xlsx"
        with _replacing(path) as tmp:
            _write_workbook(tmp, parts.get((month,), empty), month)
        written.append(path)
    return written


def _write_workbook(path: Path, rows: pl.DataFrame, month: dt.date) -> None:
    """One xlsx with sheet `Tageswerte`; empty cells where a (spoilt) value is missing."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    # A fixed creation date keeps the file byte-identical for identical content.
    workbook.set_properties({"created": dt.datetime(month.year, month.month, 1)})
    sheet = workbook.add_worksheet("Tageswerte")
    date_format = workbook.add_format({"num_format": "DD.MM.YYYY"})
    sheet.set_column(0, 0, 11)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, 2, 12)
    sheet.set_column(3, 7, 13)
    sheet.write_row(0, 0, WETZLAR_HEADER)
    for r, (serial, key, channel, *stage_counts) in enumerate(rows.iter_rows(), start=1):
        if serial is not None:
            sheet.write_number(r, 0, serial, date_format)
        if key is not None:
            sheet.write_string(r, 1, key)
        if channel is not None:
            sheet.write_string(r, 2, channel)
        for c, count in enumerate(stage_counts, start=3):
            sheet.write_number(r, c, count)
    workbook.close()


def _by_day(rows: pl.DataFrame, period: Period) -> Iterator[tuple[dt.date, pl.DataFrame]]:
    """Each day of the period with its rows (possibly none), without the day column."""
    parts = rows.partition_by(DAY, as_dict=True, include_key=False)
    empty = rows.drop(DAY).clear()
    day = period.start
    while day <= period.end:
        yield day, parts.get((day,), empty)
        day += dt.timedelta(days=1)


def _months(period: Period) -> list[dt.date]:
    months, month = [], period.start.replace(day=1)
    while month <= period.end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _ja_nein(column: str) -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("ja")).when(~pl.col(column)).then(pl.lit("nein"))


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """Yield a hidden temporary path next to `path`; rename it into place when done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


WRITERS: dict[str, Writer] = {
    "giessen": write_giessen,
    "fulda": write_fulda,
    "offenbach": write_offenbach,
    "marburg": write_marburg,
    "limburg": write_limburg,
}
