"""Analyst SQL over the warehouse's views: one statement, read-only, streamed exports.

The connection comes from :func:`warehouse.db.connect_reader` (read-only, no file
access, configuration locked); this module adds the one-statement rule and
writes full results to files batch by batch, never holding them whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import xlsxwriter

from warehouse.errors import QueryRefused

EXPORT_FORMATS = ("csv", "json", "parquet", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # the sheet's limit, less the header row
BATCH_ROWS = 100_000


def single_statement(query: str) -> str:
    """The query if it is exactly one statement; QueryRefused otherwise."""
    try:
        found = duckdb.extract_statements(query)
    except duckdb.Error as error:
        raise QueryRefused(f"the query is not valid SQL: {error}") from error
    if len(found) != 1:
        raise QueryRefused(f"one statement per run, this query has {len(found)}")
    return query


@contextmanager
def _refusals() -> Iterator[None]:
    """DuckDB's errors, raised while planning or while running, as one clear message."""
    try:
        yield
    except duckdb.PermissionException as error:
        raise QueryRefused(f"refused: files, extensions and settings are out of reach ({error})") from error
    except duckdb.Error as error:
        raise QueryRefused(str(error).splitlines()[0]) from error


def query_frame(con: duckdb.DuckDBPyConnection, query: str) -> pl.DataFrame:
    """The whole result as a frame (for printing small results)."""
    with _refusals():
        result = pl.from_arrow(con.sql(single_statement(query)).to_arrow_table())
    assert isinstance(result, pl.DataFrame)
    return result


def export(con: duckdb.DuckDBPyConnection, query: str, path: Path, fmt: str) -> int:
    """Write the full result of ``query`` to ``path`` in ``fmt``; return the row count.

    A refused or failed export leaves no partial file behind.
    """
    writers = {"csv": _write_csv, "parquet": _write_parquet, "json": _write_json, "xlsx": _write_xlsx}
    if fmt not in writers:
        raise QueryRefused(f"unknown export format '{fmt}', use one of {', '.join(EXPORT_FORMATS)}")
    if not path.parent.is_dir():
        raise QueryRefused(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        with _refusals():
            reader = con.sql(single_statement(query)).to_arrow_reader(BATCH_ROWS)
            return writers[fmt](reader.schema, iter(reader), path)
    except (QueryRefused, OSError) as error:
        path.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise QueryRefused(f"cannot write {path}: {error.strerror or error}") from error
        raise


def _write_csv(schema: pa.Schema, batches: Iterator[pa.RecordBatch], path: Path) -> int:
    rows = 0
    with pacsv.CSVWriter(path, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def _write_parquet(schema: pa.Schema, batches: Iterator[pa.RecordBatch], path: Path) -> int:
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def _write_json(_schema: pa.Schema, batches: Iterator[pa.RecordBatch], path: Path) -> int:
    rows = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for batch in batches:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            for row in frame.iter_rows(named=True):
                handle.write(",\n" if rows else "\n")
                handle.write(json.dumps(row, default=str, ensure_ascii=False))
                rows += 1
        handle.write("\n]\n")
    return rows


def _write_xlsx(schema: pa.Schema, batches: Iterator[pa.RecordBatch], path: Path) -> int:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "remove_timezone": True})
    sheet = workbook.add_worksheet("Ergebnis")
    sheet.write_row(0, 0, schema.names)
    rows = 0
    try:
        for batch in batches:
            if rows + batch.num_rows > XLSX_MAX_ROWS:
                raise QueryRefused(
                    f"the result has more than {XLSX_MAX_ROWS:,} rows, the limit of an Excel sheet; "
                    "export it as CSV or Parquet instead"
                )
            for row in batch.to_pylist():
                rows += 1
                sheet.write_row(rows, 0, list(row.values()))
    finally:
        workbook.close()
    return rows
