"""Writing a query's result to a file batch by batch: CSV, German-Excel CSV, XLSX, JSON, Parquet.

Each writer takes the result's Arrow schema, an iterator of record batches and
the target path, writes as the batches come (never the whole result in memory)
and returns the number of rows. ``stamp(rows)`` gives the manifest to embed
where the format has room for one (Parquet key-value metadata, an XLSX sheet);
it is called once, after the last row.

In CSV and XLSX a text cell that a spreadsheet would run as a formula (leading
``=``, ``+``, ``-``, ``@``, tab or carriage return) is neutralised, following
OWASP's advice on CSV injection; numeric columns are written as numbers and
never touched.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from warehouse.errors import QueryRefused

XLSX_MAX_ROWS = 1_048_575  # the sheet's limit, less the header row
XLSX_MAX_TEXT = 32_767  # characters in one Excel cell
PARQUET_MANIFEST_KEY = "egovsad_manifest"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^[=+\-@\t\r]"
_NESTED = (pl.List, pl.Array, pl.Struct, pl.Map)

Stamp = Callable[[int], dict[str, Any]]
Writer = Callable[[pa.Schema, Iterator[pa.RecordBatch], Path, Stamp], int]


def neutralised(text: str) -> str:
    """``text`` as a spreadsheet shows it without running it: a leading apostrophe if it could start a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _frames(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Iterator[pl.DataFrame]:
    """The batches as Polars frames; an empty result is one empty frame, so that a header is still written."""
    empty = True
    for batch in batches:
        empty = False
        yield _frame(batch)
    if empty:
        yield _frame(schema.empty_table())


def _frame(data: pa.RecordBatch | pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(data)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _as_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns a spreadsheet cell cannot hold as they are, as text: nested values as JSON, bytes as hex,
    categories and durations as their text."""
    columns: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, _NESTED):
            # wrapped in a struct, any nested value encodes as JSON: {"v":<value>} -> <value>
            encoded = pl.struct(pl.col(name).alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")
            columns.append(pl.when(pl.col(name).is_null()).then(None).otherwise(encoded).alias(name))
        elif dtype == pl.Binary:
            columns.append(pl.col(name).bin.encode("hex"))
        elif isinstance(dtype, pl.Categorical | pl.Enum | pl.Duration | pl.Null):
            columns.append(pl.col(name).cast(pl.String))
    return frame.with_columns(columns) if columns else frame


def _csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    frame = _as_cells(frame)
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if texts:
        # finding a risky cell is ~10x cheaper than rewriting a column, and most columns have none
        risky = frame.select(pl.col(texts).str.contains(_FORMULA_PATTERN).any()).row(0, named=True)
        frame = frame.with_columns(
            pl.when(pl.col(name).str.contains(_FORMULA_PATTERN))
            .then(pl.concat_str(pl.lit("'"), pl.col(name)))
            .otherwise(pl.col(name))
            .alias(name)
            for name in texts
            if risky[name]
        )
    return frame.rename({name: neutralised(name) for name in frame.columns if neutralised(name) != name})


@dataclass(frozen=True)
class CsvDialect:
    separator: str
    decimal_comma: bool
    bom: bool
    date_format: str
    datetime_format: str  # a timestamp without time zone
    zoned_format: str  # a timestamp with time zone, shown in the session's (Europe/Berlin)
    time_format: str


# ISO 8601 / RFC 3339; fractions of a second only where there are any
CSV = CsvDialect(
    ",",
    decimal_comma=False,
    bom=False,
    date_format="%Y-%m-%d",
    datetime_format="%Y-%m-%dT%H:%M:%S%.f",
    zoned_format="%Y-%m-%dT%H:%M:%S%.f%:z",
    time_format="%H:%M:%S%.f",
)
# what German Excel writes and reads: UTF-8 with BOM, ';' between fields, ',' before decimals, German dates
CSV_EXCEL = CsvDialect(
    ";",
    decimal_comma=True,
    bom=True,
    date_format="%d.%m.%Y",
    datetime_format="%d.%m.%Y %H:%M:%S",
    zoned_format="%d.%m.%Y %H:%M:%S",
    time_format="%H:%M:%S",
)


def _temporal_text(frame: pl.DataFrame, dialect: CsvDialect) -> pl.DataFrame:
    columns: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            columns.append(pl.col(name).dt.to_string(dialect.date_format))
        elif isinstance(dtype, pl.Datetime):
            zoned = dtype.time_zone is not None
            columns.append(pl.col(name).dt.to_string(dialect.zoned_format if zoned else dialect.datetime_format))
        elif dtype == pl.Time:
            columns.append(pl.col(name).dt.to_string(dialect.time_format))
    return frame.with_columns(columns) if columns else frame


def _write_csv(dialect: CsvDialect, schema: pa.Schema, batches: Iterator[pa.RecordBatch], path: Path, _: Stamp) -> int:
    rows = 0
    with path.open("wb") as handle:
        if dialect.bom:
            handle.write(codecs.BOM_UTF8)
        for number, frame in enumerate(_frames(schema, batches)):
            _temporal_text(_csv_safe(frame), dialect).write_csv(
                handle, include_header=number == 0, separator=dialect.separator, decimal_comma=dialect.decimal_comma
            )
            rows += frame.height
    return rows


def _write_parquet(schema: pa.Schema, batches: Iterator[pa.RecordBatch], path: Path, stamp: Stamp) -> int:
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
        writer.add_key_value_metadata({PARQUET_MANIFEST_KEY: json.dumps(stamp(rows), ensure_ascii=False)})
    return rows


def _write_json(schema: pa.Schema, batches: Iterator[pa.RecordBatch], path: Path, _: Stamp) -> int:
    """A JSON array of one object per row. Decimals that fit a double are numbers, larger ones text."""
    rows = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for frame in _frames(schema, batches):
            if frame.is_empty():
                continue
            frame = frame.with_columns(
                pl.col(name).cast(pl.Float64)
                for name, dtype in frame.schema.items()
                if isinstance(dtype, pl.Decimal) and (dtype.precision or 38) <= 15
            ).with_columns(pl.col(pl.Binary).bin.encode("hex"))
            # NDJSON escapes newlines inside values, so each line is one row
            handle.write(",\n" if rows else "\n")
            handle.write(frame.write_ndjson().rstrip("\n").replace("\n", ",\n"))
            rows += frame.height
        handle.write("\n]\n")
    return rows


CellWriter = Callable[[int, int, Any], object]


def _cell_writers(sheet: Worksheet, frame: pl.DataFrame, formats: dict[str, Format]) -> list[CellWriter]:
    """One writer per column, chosen once by the column's type: numbers stay numbers, dates are dates."""
    writers: list[CellWriter] = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Boolean:
            writers.append(sheet.write_boolean)
        elif dtype.is_numeric():
            writers.append(sheet.write_number)
        elif dtype == pl.Date:
            writers.append(partial(_write_temporal, sheet, formats["date"]))
        elif isinstance(dtype, pl.Datetime):
            writers.append(partial(_write_temporal, sheet, formats["datetime"]))
        elif dtype == pl.Time:
            writers.append(partial(_write_temporal, sheet, formats["time"]))
        else:
            writers.append(partial(_write_text, sheet, formats["text"], name))
    return writers


def _write_temporal(sheet: Worksheet, cell_format: Format, row: int, col: int, value: Any) -> None:
    sheet.write_datetime(row, col, value, cell_format)


def _write_text(sheet: Worksheet, quoted: Format, column: str, row: int, col: int, value: str) -> None:
    if len(value) > XLSX_MAX_TEXT:
        raise QueryRefused(
            f"a text in column '{column}' has {len(value):,} characters, more than the {XLSX_MAX_TEXT:,} "
            "of an Excel cell; export it as CSV or Parquet instead"
        )
    # Excel's own leading apostrophe (quotePrefix): the cell is text, shows the value unchanged and is
    # not turned into a formula when edited; the stored string cell never is a formula anyway
    if value.startswith(FORMULA_START):
        sheet.write_string(row, col, value, quoted)
    else:
        sheet.write_string(row, col, value)


def xlsx_refusal(rows: int) -> QueryRefused:
    return QueryRefused(
        f"the result has {rows:,} rows or more, over the {XLSX_MAX_ROWS:,} of an Excel sheet; "
        "export it as CSV or Parquet instead"
    )


def _write_xlsx(schema: pa.Schema, batches: Iterator[pa.RecordBatch], path: Path, stamp: Stamp) -> int:
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,  # rows go to a temporary file as they are written
            "remove_timezone": True,  # times are shown as the session's local time (Europe/Berlin)
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    formats = {
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "time": workbook.add_format({"num_format": "hh:mm:ss"}),
        "text": workbook.add_format({"quote_prefix": True}),
    }
    sheet = workbook.add_worksheet("Ergebnis")
    for col, name in enumerate(schema.names):
        _write_text(sheet, formats["text"], name, 0, col, name)
    rows = 0
    try:
        for frame in _frames(schema, batches):
            if rows + frame.height > XLSX_MAX_ROWS:
                raise xlsx_refusal(XLSX_MAX_ROWS + 1)
            frame = _as_cells(frame).with_columns(pl.col(pl.Decimal).cast(pl.Float64))
            writers = _cell_writers(sheet, frame, formats)
            for values in frame.iter_rows():
                rows += 1
                for col, (write, value) in enumerate(zip(writers, values, strict=True)):
                    if value is not None:
                        write(rows, col, value)
        manifest = workbook.add_worksheet("Manifest")
        for number, (key, value) in enumerate(stamp(rows).items()):
            manifest.write_string(number, 0, key)
            if isinstance(value, str):  # a query longer than a cell is cut here; the sidecar holds it whole
                manifest.write_string(number, 1, value, formats["text"] if value.startswith(FORMULA_START) else None)
            else:
                manifest.write(number, 1, value)
    finally:
        workbook.close()
    return rows


WRITERS: dict[str, Writer] = {
    "csv": partial(_write_csv, CSV),
    "csv_excel": partial(_write_csv, CSV_EXCEL),
    "xlsx": _write_xlsx,
    "json": _write_json,
    "parquet": _write_parquet,
}
