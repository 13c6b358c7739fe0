"""Readers for the delivery formats, streaming in bounded batches.

Each reader yields :class:`RawBatch` frames with the source's own column names
and a 1-based record number ``_row``; text columns stay text, so that nothing is
coerced (and silently lost) before validation. A file that cannot be read at all
raises :class:`UnreadableUnit` with the reason in words.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.errors import UnreadableUnit
from pipelines.mapping import ROW

BATCH_BYTES = 16 << 20
BATCH_ROWS = 200_000


@dataclass(frozen=True)
class RawBatch:
    """Rows as delivered, plus malformed records that could not be split into columns."""

    frame: pl.DataFrame
    malformed: pl.DataFrame | None = None  # columns _row, raw, detail


def _numbered(frame: pl.DataFrame, first: int) -> pl.DataFrame:
    return frame.with_row_index(ROW, offset=first).with_columns(pl.col(ROW).cast(pl.Int64))


def _csv_header(path: Path, *, delimiter: str, encoding: str) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        text = first.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnreadableUnit(f"the header is not valid {encoding}: {error}") from error
    text = text.lstrip(codecs.BOM_UTF8.decode()).rstrip("\r\n")
    if not text:
        raise UnreadableUnit("the file is empty")
    return next(csv.reader([text], delimiter=delimiter))


def csv_batches(path: Path, *, delimiter: str, encoding: str) -> Iterator[RawBatch]:
    """Stream a CSV file with a header line as all-text batches."""
    names = _csv_header(path, delimiter=delimiter, encoding=encoding)
    if len(set(names)) != len(names):
        raise UnreadableUnit(f"the header repeats a column name: {names}")
    malformed: list[dict[str, object]] = []

    def keep_malformed(row: pacsv.InvalidRow) -> str:
        malformed.append(
            {
                ROW: (row.number - 1) if row.number is not None else None,
                "raw": row.text,
                "detail": f"record has {row.actual_columns} fields, the header has {row.expected_columns}",
            }
        )
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=BATCH_BYTES, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=False, invalid_row_handler=keep_malformed
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        skipped: list[int] = []  # record numbers of malformed records so far, ascending
        good = 0
        for record_batch in reader:
            frame = pl.from_arrow(pa.Table.from_batches([record_batch]))
            assert isinstance(frame, pl.DataFrame)
            bad = _take_malformed(malformed, skipped)
            numbers = _record_numbers(good, frame.height, skipped)
            good += frame.height
            yield RawBatch(frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64)), bad)
        leftover = _take_malformed(malformed, skipped)
        if leftover is not None:  # a file whose last records (or all of them) are malformed
            empty = pl.DataFrame(schema={name: pl.String for name in names})
            yield RawBatch(empty.with_columns(pl.Series(ROW, [], dtype=pl.Int64)), leftover)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise UnreadableUnit(f"not a readable {encoding} CSV file: {error}") from error


def _take_malformed(malformed: list[dict[str, object]], skipped: list[int]) -> pl.DataFrame | None:
    """The malformed records collected so far, as a frame; remembers their numbers."""
    if not malformed:
        return None
    bad = pl.DataFrame(malformed, schema={ROW: pl.Int64, "raw": pl.String, "detail": pl.String})
    malformed.clear()
    skipped.extend(number for number in bad[ROW].to_list() if number is not None)
    skipped.sort()
    return bad


def _record_numbers(before: int, count: int, skipped: list[int]) -> np.ndarray:
    """Record numbers of ``count`` good records after ``before`` good ones, counting the
    malformed records in between, so a rejected row names its real place in the file."""
    numbers = np.arange(before + 1, before + count + 1, dtype=np.int64)
    for number in skipped:
        numbers[numbers >= number] += 1
    return numbers


def parquet_batches(path: Path) -> Iterator[RawBatch]:
    """Stream a Parquet file in row batches."""
    try:
        parquet = pq.ParquetFile(path)
        first = 1
        for record_batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            frame = pl.from_arrow(pa.Table.from_batches([record_batch]))
            assert isinstance(frame, pl.DataFrame)
            yield RawBatch(_numbered(frame, first))
            first += frame.height
    except (pa.ArrowInvalid, OSError) as error:
        raise UnreadableUnit(f"not a readable Parquet file: {error}") from error


def ndjson_batches(path: Path, *, fields: tuple[str, ...], gzipped: bool = False) -> Iterator[RawBatch]:
    """Stream an NDJSON (JSON lines) file, gzipped or not, in chunks of lines, every value as text."""
    try:
        with gzip.open(path, "rb") if gzipped else path.open("rb") as handle:
            first = 1
            while True:
                chunk = handle.readlines(BATCH_BYTES)
                if not chunk:
                    break
                yield _ndjson_batch(chunk, fields, first)
                first += len(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise UnreadableUnit(f"not a readable {'gzip' if gzipped else 'JSON lines'} file: {error}") from error


def _ndjson_frame(data: bytes, fields: tuple[str, ...]) -> pl.DataFrame:
    """Parse NDJSON lines; keys outside ``fields`` are kept (as text) so they can be reported."""
    try:
        keys = pl.read_ndjson(io.BytesIO(data), infer_schema_length=1000).columns
    except pl.exceptions.ComputeError:
        keys = list(fields)
    schema = {key: pl.String for key in dict.fromkeys([*fields, *keys])}
    try:
        return pl.read_ndjson(io.BytesIO(data), schema=schema)
    except pl.exceptions.ComputeError as error:
        raise UnreadableUnit(f"not valid JSON lines: {error}") from error


def _ndjson_batch(lines: list[bytes], fields: tuple[str, ...], first: int) -> RawBatch:
    """A chunk of NDJSON lines; if the chunk does not parse as a whole, line by line, so
    that one broken line is one rejected record and not the loss of the whole export."""
    try:
        return RawBatch(_numbered(_ndjson_frame(b"".join(lines), fields), first))
    except UnreadableUnit:
        pass
    records: list[dict[str, object]] = []
    numbers: list[int] = []
    malformed: list[dict[str, object]] = []
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("the line is not a JSON object")
        except ValueError as error:
            text = line.decode("utf-8", "replace").strip()[:2000]
            malformed.append({ROW: number, "raw": text, "detail": f"line {number} is not valid JSON: {error}"})
            continue
        records.append(record)
        numbers.append(number)
    frame = json_records_frame(records, fields).with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    bad = pl.DataFrame(malformed, schema={ROW: pl.Int64, "raw": pl.String, "detail": pl.String})
    return RawBatch(frame, bad if bad.height else None)


def json_records_frame(records: list[dict[str, object]], fields: tuple[str, ...]) -> pl.DataFrame:
    """A frame of JSON objects (one API page), every value as text, extra keys kept."""
    keys = dict.fromkeys([*fields, *(key for record in records for key in record)])
    columns = {
        key: [None if (value := record.get(key)) is None else _json_text(value) for record in records] for key in keys
    }
    return _numbered(pl.DataFrame(columns, schema={key: pl.String for key in keys}), 1)


def _json_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def xlsx_frame(path: Path, *, sheet: str | None) -> RawBatch:
    """Read one sheet of a workbook (the first when ``sheet`` is None), every cell as text
    (monthly files are small)."""
    try:
        if sheet is None:
            frame = pl.read_excel(path, sheet_id=1, infer_schema_length=0)
        else:
            frame = pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)
    except (fastexcel.FastExcelError, ValueError, OSError, pl.exceptions.PolarsError) as error:
        which = "any sheet" if sheet is None else f"a sheet '{sheet}'"
        raise UnreadableUnit(f"not a workbook with {which}: {error}") from error
    return RawBatch(_numbered(frame, 1))
