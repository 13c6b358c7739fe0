"""A dry run of a city's delivery: what a run would load and reject, with nothing loaded.

The trial is a real run of the shared machinery (fetch, read, stage, validate,
merge) into a throwaway warehouse in memory, so its counts and quarantine reasons
are exactly those a real run would produce against the same source; the first
rows of the first file are shown as they would be stored. The warehouse file is
never opened.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import polars as pl

from pipelines.contract import DAILY_FIELDS, EVENT_FIELDS
from pipelines.mapping import RECORD, ROW, UNIT, stage
from pipelines.readers import RawBatch
from pipelines.run import RunResult, run_city
from pipelines.sources.base import Kind, Source, SourceContext, Unit
from pipelines.validate import Catalogue, check_daily, check_events
from warehouse.db import service_keys
from warehouse.queries import quarantine_examples
from warehouse.trial import scratch_warehouse

FIRST_ROWS = 10


@dataclass(frozen=True)
class Preview:
    """The outcome of a dry run."""

    result: RunResult
    first_rows: pl.DataFrame  # the first rows of the first file as stored: ``row``, then the canonical fields
    first_source: str | None  # the file (or page) they come from
    examples: pl.DataFrame  # per reason the first rejected row: reason, source, row_number, detail


class _Sampling(Source):
    """``inner`` unchanged, keeping the first rows of the first unit that has any."""

    def __init__(self, inner: Source, rows: int) -> None:
        self.inner = inner
        self.city = inner.city
        self.kind = inner.kind
        self.mapping = inner.mapping
        self.location = inner.location
        self.rows = rows
        self.sample: tuple[str, pl.DataFrame] | None = None

    def units(self, context: SourceContext) -> Iterator[Unit]:
        for unit in self.inner.units(context):
            yield replace(unit, read=partial(self._read, unit))

    def _read(self, unit: Unit) -> Iterator[RawBatch]:
        for batch in unit.read():
            if self.sample is None and batch.frame.height:
                self.sample = (unit.name, batch.frame.head(self.rows))
            yield batch


def _as_stored(source: Source, raw: pl.DataFrame, catalogue: Catalogue, now: datetime) -> pl.DataFrame:
    """The valid rows of ``raw`` typed as they would be stored, with their record number ``row``."""
    fields = EVENT_FIELDS if source.kind is Kind.EVENTS else DAILY_FIELDS
    staged = stage(raw.with_columns(pl.lit(1, pl.Int32).alias(UNIT)), source.mapping, fields).frame
    if source.kind is Kind.EVENTS:
        valid = check_events(staged, source.mapping, catalogue, now=now).valid.drop("local_date")
    else:
        valid = check_daily(staged, catalogue, today=now, mapping=source.mapping).valid
    record = RECORD if RECORD in raw.columns else ROW
    rows = raw.select(ROW, pl.col(record).alias("row"))
    return valid.join(rows, on=ROW).drop(ROW, UNIT).select("row", pl.exclude("row")).sort("row")


def dry_run(
    source: Source,
    *,
    work_dir: Path,
    since: date | None = None,
    rows: int = FIRST_ROWS,
    now: datetime | None = None,
) -> Preview:
    """Run ``source`` into a throwaway warehouse and report; never raises for source trouble
    (a failed trial says why in ``result.error``)."""
    now = now or datetime.now(UTC)
    sampling = _Sampling(source, rows)
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir) as folder, scratch_warehouse(Path(folder) / "duckdb") as con:
        catalogue = Catalogue(service_keys(con))
        result = run_city(sampling, con, catalogue=catalogue, spill_dir=Path(folder) / "spill", since=since, now=now)
        examples = quarantine_examples(con, city=source.city)
    first_rows = pl.DataFrame()
    first_source = None
    if sampling.sample is not None:
        first_source, raw = sampling.sample
        first_rows = _as_stored(source, raw, catalogue, now)
    return Preview(result, first_rows, first_source, examples)
