"""Analyst SQL over the warehouse's views: one query per run, read-only, time-limited; streamed exports.

User SQL is guarded in layers, each catching what the one before lets through:

1. the connection (:func:`warehouse.db.connect_reader`): a read-only snapshot, no
   file or network access, no extensions, configuration locked, a memory limit;
2. the statement: exactly one, and a query (SELECT, WITH, FROM, VALUES, TABLE,
   DESCRIBE, SHOW, SUMMARIZE, PIVOT, EXPLAIN), never SET, PRAGMA, COPY, ATTACH, ...;
3. a time limit: each run has its own cursor, which a watchdog thread interrupts
   when the time is up (DuckDB has no statement timeout, and interrupting the
   parent connection would not stop a query running on a cursor);
4. the result: :func:`run_query` keeps the first rows and counts the rest,
   :func:`export` streams the full result to a file batch by batch.

Every refusal, timeout and failure is raised as :class:`QueryRefused` with a
one-line message naming the rule or the setting to change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from warehouse import exports
from warehouse.analyst_views import ANALYST_VIEWS, COLUMN_DESCRIPTIONS
from warehouse.db import frame as query_catalogue
from warehouse.errors import QueryRefused
from warehouse.sql_files import sql

EXPORT_FORMATS = ("csv", "csv_excel", "xlsx", "json", "parquet")
XLSX_MAX_ROWS = exports.XLSX_MAX_ROWS
BATCH_ROWS = 100_000
XLSX_BATCH_ROWS = 10_000
TIMEOUT_SETTING = "sql.timeout_seconds"
EXPORT_TIMEOUT_SETTING = "sql.export_timeout_seconds"
MEMORY_SETTING = "readers.memory_limit"
# PIVOT without a list of values is several statements inside DuckDB (it reads the values first);
# it is let through, as whatever such a statement does is still bounded by the connection's guards
QUERY_TYPES = frozenset({"SELECT", "EXPLAIN", "MULTI"})


@dataclass(frozen=True)
class QueryResult:
    frame: pl.DataFrame  # the first `limit` rows
    total_rows: int  # rows of the full result
    elapsed_seconds: float
    truncated: bool  # total_rows > limit


@dataclass(frozen=True)
class Manifest:
    """What an export holds and where it came from.

    Written beside every export as ``<file>.manifest.json``, with the file's SHA-256;
    also inside the file where the format has room (Parquet key-value metadata
    ``egovsad_manifest``, XLSX sheet "Manifest"). The copy inside the file has no
    checksum: a file cannot hold its own SHA-256, so there ``sha256`` is null (Parquet)
    or points to the sidecar (XLSX). ``complete`` is true in every manifest written:
    a refused or failed export leaves no file and no manifest behind.
    """

    query: str
    rows: int
    snapshot: str
    user: str
    created_at: str  # ISO 8601, UTC
    format: str
    file: str
    sha256: str
    complete: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def manifest_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.manifest.json")


def single_statement(query: str) -> str:
    """The query if it is exactly one statement and a query; QueryRefused otherwise."""
    try:
        found = duckdb.extract_statements(query)
    except duckdb.Error as error:
        raise QueryRefused(f"the query is not valid SQL: {_first_line(error)}") from error
    if len(found) != 1:
        raise QueryRefused(f"one statement per run, this query has {len(found)}")
    try:
        kind = found[0].type.name
    except ValueError:  # a statement type DuckDB parses but its Python API has no name for
        kind = "UNKNOWN"
    if kind not in QUERY_TYPES:
        raise QueryRefused(
            "refused: only queries run here (SELECT, WITH, DESCRIBE, PIVOT, EXPLAIN, ...), "
            f"not {_keyword(found[0].query, kind)} statements"
        )
    return query


def _keyword(statement: str, kind: str) -> str:
    """The statement's first word as written (PRAGMA, INSTALL), else DuckDB's name for its type."""
    words = re.sub(r"--[^\n]*|/\*.*?\*/", " ", statement, flags=re.DOTALL).split()
    word = words[0].upper() if words else ""
    return word if word.isalpha() else kind


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class _Watchdog:
    """Interrupts a cursor once its time is up, then again every 0.1 s until stopped.

    The repeat matters: DuckDB clears the interrupt flag when a query starts, so
    one interrupt that lands between two steps of a run would be lost.
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, seconds: float) -> None:
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(cursor, seconds), name="sql-watchdog", daemon=True)
        self._thread.start()

    def _watch(self, cursor: duckdb.DuckDBPyConnection, seconds: float) -> None:
        if self._stop.wait(seconds):
            return
        self.fired = True
        while True:
            cursor.interrupt()
            if self._stop.wait(0.1):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class _Run:
    """One query running on its own cursor under a time limit."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seconds: float, setting: str) -> None:
        self.con = con
        self.seconds = seconds
        self.setting = setting
        self.deadline = time.monotonic() + seconds
        self.cursor = con.cursor()
        self.watchdog = _Watchdog(self.cursor, seconds)

    def refusal(self, error: BaseException) -> QueryRefused:
        """The one-line message for an error raised while the query was planned or ran."""
        if self.watchdog.fired or time.monotonic() >= self.deadline:
            return QueryRefused(f"stopped after {self.seconds:g} s (setting {self.setting})")
        text = _first_line(error)
        if isinstance(error, duckdb.OutOfMemoryException) or "Out of Memory Error" in text:
            return QueryRefused(f"memory limit of {self._memory_limit()} reached (setting {MEMORY_SETTING})")
        if isinstance(error, duckdb.PermissionException) or "Permission Error" in text:
            return QueryRefused(f"refused: files, extensions and settings are out of reach ({text})")
        return QueryRefused(text)

    def _memory_limit(self) -> str:
        with self.con.cursor() as cursor:
            [(limit,)] = cursor.sql("SELECT current_setting('memory_limit')").fetchall()
        return str(limit)

    def check_time(self) -> None:
        if time.monotonic() >= self.deadline:
            raise QueryRefused(f"stopped after {self.seconds:g} s (setting {self.setting})")

    def relation(self, query: str) -> duckdb.DuckDBPyRelation:
        relation = self.cursor.sql(query)
        if relation is None:  # only a query returns rows; the statement check lets nothing else through
            raise QueryRefused("refused: the statement returns no rows")
        return relation

    def count_up_to(self, relation: duckdb.DuckDBPyRelation, rows: int) -> int:
        """The result's row count, counting no further than ``rows``."""
        [(count,)] = relation.limit(rows).aggregate("count(*)").fetchall()
        return int(count)

    def batches(
        self, relation: duckdb.DuckDBPyRelation, rows: int = BATCH_ROWS
    ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """The result's schema and its batches of ``rows`` rows, as any writer can take them (see
        :func:`_portable`). The time limit is checked before each batch."""
        reader = relation.to_arrow_reader(rows)
        names = _unique_names(reader.schema.names)
        schema = _portable_schema(reader.schema, names)

        def read() -> Iterator[pa.RecordBatch]:
            while True:
                self.check_time()
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (duckdb.Error, pa.ArrowException, OSError) as error:
                    # DuckDB's errors while streaming come through Arrow's reader as ArrowException/OSError
                    raise self.refusal(error) from error
                yield _portable(batch, schema)

        return schema, read()

    def close(self) -> None:
        self.watchdog.stop()
        with suppress(duckdb.Error):
            self.cursor.close()


@contextmanager
def _running(con: duckdb.DuckDBPyConnection, query: str, seconds: float, setting: str) -> Iterator[_Run]:
    """A run of ``query`` (checked first); DuckDB's errors while planning become one-line refusals."""
    single_statement(query)
    try:
        run = _Run(con, seconds, setting)
    except duckdb.Error as error:
        raise QueryRefused(_first_line(error)) from error
    try:
        yield run
    except duckdb.Error as error:
        raise run.refusal(error) from error
    finally:
        run.close()


def _unique_names(names: list[str]) -> list[str]:
    """Result column names made unique (a join's ``SELECT *`` repeats ``city``): the second becomes city_1."""
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        candidate, number = name, 0
        while candidate in seen:
            number += 1
            candidate = f"{name}_{number}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


def _portable_schema(schema: pa.Schema, names: list[str]) -> pa.Schema:
    for name, field in zip(names, schema, strict=True):
        if pa.types.is_union(field.type):
            raise QueryRefused(
                f"column '{name}' is a UNION, which neither the grid nor any export takes; "
                f'cast it in the query, e.g. CAST("{name}" AS VARCHAR)'
            )
    return pa.schema(pa.field(name, _portable_type(field.type)) for name, field in zip(names, schema, strict=True))


def _portable_type(dtype: pa.DataType) -> pa.DataType:
    if isinstance(dtype, pa.BaseExtensionType):  # DuckDB's BIT, VARINT, ...: their bytes
        return _portable_type(dtype.storage_type)
    return pa.string() if pa.types.is_interval(dtype) else dtype


def _portable(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch with unique column names, extension types as their storage and INTERVALs as ISO 8601
    durations (neither Polars nor Parquet takes Arrow's month-day-nano intervals)."""
    if batch.schema.equals(schema):
        return batch
    columns = []
    for column in batch.columns:
        if isinstance(column.type, pa.BaseExtensionType):
            column = column.storage
        columns.append(_interval_text(column) if pa.types.is_interval(column.type) else column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _interval_text(column: pa.Array) -> pa.Array:
    def text(value: Any) -> str | None:
        if value is None:
            return None
        seconds = value.nanoseconds / 1e9
        return f"P{value.months}M{value.days}DT{seconds:g}S"

    return pa.array([text(value) for value in column.to_pylist()], type=pa.string())


def run_query(
    con: duckdb.DuckDBPyConnection, query: str, *, limit: int = 1000, timeout_seconds: float = 30.0
) -> QueryResult:
    """Run one query; keep its first ``limit`` rows and count the rest.

    The result is read batch by batch, so a large result costs time, not memory.
    Raises QueryRefused for a refused statement, an error, the time limit
    (setting ``sql.timeout_seconds``) or the memory limit (``readers.memory_limit``).
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    started = time.perf_counter()
    with _running(con, query, timeout_seconds, TIMEOUT_SETTING) as run:
        schema, batches = run.batches(run.relation(query))
        kept: list[pa.RecordBatch] = []
        total = 0
        for batch in batches:
            if total < limit:
                kept.append(batch.slice(0, limit - total))
            total += batch.num_rows
    table = pa.Table.from_batches(kept, schema=schema)
    try:
        frame = pl.from_arrow(table)
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, pa.ArrowException) as error:
        raise QueryRefused(f"the result cannot be shown: {_first_line(error)}; cast the column in the query") from error
    assert isinstance(frame, pl.DataFrame)
    return QueryResult(frame, total, time.perf_counter() - started, total > limit)


def query_frame(con: duckdb.DuckDBPyConnection, query: str, *, timeout_seconds: float = 30.0) -> pl.DataFrame:
    """The whole result as a frame (for small results, e.g. in tests)."""
    return run_query(con, query, limit=2**62, timeout_seconds=timeout_seconds).frame


def export(
    con: duckdb.DuckDBPyConnection,
    query: str,
    path: Path,
    fmt: str,
    *,
    user: str,
    snapshot: str,
    timeout_seconds: float = 30.0 * 20,
) -> Manifest:
    """Write the full result of ``query`` to ``path`` in ``fmt``, with a manifest; return the manifest.

    The result streams to the file batch by batch, never whole in memory. The file is
    written under a temporary name and renamed when complete, then the sidecar
    ``<file>.manifest.json`` beside it: a refused or failed export leaves neither
    behind (an older file of the same name stays as it was). Raises QueryRefused for an
    unknown format, a folder that does not exist, a refused or failing query, the time
    limit (setting ``sql.export_timeout_seconds``), an XLSX over the sheet's row limit, or
    a file that cannot be written.
    """
    if fmt not in EXPORT_FORMATS:
        raise QueryRefused(f"unknown export format '{fmt}', use one of {', '.join(EXPORT_FORMATS)}")
    if not path.parent.is_dir():
        raise QueryRefused(f"cannot write {path}: the folder {path.parent} does not exist")
    sidecar = manifest_path(path)
    partial = path.with_name(f".{path.name}.partial")
    partial_sidecar = sidecar.with_name(f".{sidecar.name}.partial")
    drafts: list[Manifest] = []

    def draft(rows: int) -> Manifest:
        """The manifest but its checksum, made once, when the last row is written."""
        if not drafts:
            created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            drafts.append(Manifest(query, rows, snapshot, user, created, fmt, path.name, "", complete=True))
        return drafts[0]

    def stamp(rows: int) -> dict[str, Any]:
        in_file = draft(rows).to_dict()
        in_file["sha256"] = None if fmt == "parquet" else f"in {sidecar.name} (a file cannot hold its own checksum)"
        return in_file

    try:
        with _running(con, query, timeout_seconds, EXPORT_TIMEOUT_SETTING) as run:
            relation = run.relation(query)
            if fmt == "xlsx" and (rows := run.count_up_to(relation, XLSX_MAX_ROWS + 1)) > XLSX_MAX_ROWS:
                raise exports.xlsx_refusal(rows)
            # XLSX is written cell by cell (~20k rows/s): smaller batches let the time limit
            # be checked every half second or so
            schema, batches = run.batches(relation, XLSX_BATCH_ROWS if fmt == "xlsx" else BATCH_ROWS)
            rows = exports.WRITERS[fmt](schema, batches, partial, stamp)
        manifest = replace(draft(rows), sha256=_sha256(partial))
        partial_sidecar.write_text(json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2) + "\n", "utf-8")
        os.replace(partial, path)
        os.replace(partial_sidecar, sidecar)
        return manifest
    except OSError as error:
        raise QueryRefused(f"cannot write {path}: {error.strerror or error}") from error
    except (pa.ArrowException, pl.exceptions.PolarsError, pl.exceptions.PanicException, TypeError) as error:
        # a type this format cannot hold (the writers turn the usual ones into text first)
        raise QueryRefused(f"cannot write {fmt}: {_first_line(error)}; cast the column in the query") from error
    finally:
        partial.unlink(missing_ok=True)
        partial_sidecar.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def schema(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The analyst views' columns for the schema browser: view, column, type, description.

    Only the views of the analyst schema are listed, in their documented order; the
    tables behind them are internal.
    """
    columns = query_catalogue(con, sql("views/analyst_schema"), {"views": list(ANALYST_VIEWS)})
    descriptions = [
        COLUMN_DESCRIPTIONS.get(view, {}).get(column, "")
        for view, column in zip(columns["view"], columns["column"], strict=True)
    ]
    return columns.with_columns(pl.Series("description", descriptions, dtype=pl.String))
