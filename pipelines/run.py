"""One pipeline run of one city: units -> stage -> validate -> load, in one transaction.

This is the shared machinery every city goes through. It keeps the run's
counts so that, for every run, rows loaded + quarantined + duplicates = read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import polars as pl

from pipelines.contract import DAILY_FIELDS, EVENT_FIELDS, LOCAL_TZ, Reason
from pipelines.errors import PipelineError, UnreadableUnit
from pipelines.mapping import ROW, stage
from pipelines.personal_data import mask
from pipelines.readers import RawBatch
from pipelines.sources.base import Kind, Source, SourceContext, Unit
from pipelines.validate import Catalogue, Checked, check_daily, check_events, unmapped_names
from warehouse.load import RunTotals, RunWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    city: str
    run_id: int
    status: str
    totals: RunTotals
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


class _UnitTotals:
    """Counts of one unit, added to the run only once the unit was read to its end."""

    def __init__(self) -> None:
        self.read = 0
        self.quarantined: dict[str, int] = {}
        self.unmapped: dict[str, int] = {}
        self.dropped: set[str] = set()

    def reject(self, reasons: pl.Series) -> None:
        for reason, count in reasons.value_counts().iter_rows():
            self.quarantined[reason] = self.quarantined.get(reason, 0) + int(count)

    def add_to(self, totals: RunTotals) -> None:
        totals.rows_read += self.read
        for reason, count in self.quarantined.items():
            totals.quarantined[reason] = totals.quarantined.get(reason, 0) + count
        for name, count in self.unmapped.items():
            totals.unmapped_names[name] = totals.unmapped_names.get(name, 0) + count
        totals.dropped_columns.extend(sorted(self.dropped - set(totals.dropped_columns)))


def quarantine_rows(raw: pl.DataFrame, rejected: pl.DataFrame, source: str) -> pl.DataFrame:
    """Rejected rows with their delivered values as JSON, personal data masked."""
    values = [mask(pl.col(name).cast(pl.String)).alias(name) for name in raw.columns if name != ROW]
    return (
        raw.join(rejected, on=ROW)
        .select(
            pl.lit(source).alias("source"),
            pl.col(ROW).alias("row_number"),
            pl.col("reason"),
            mask(pl.col("detail")).alias("detail"),
            pl.struct(values).struct.json_encode().alias("raw"),
        )
        .sort("row_number")
    )


def _malformed_rows(malformed: pl.DataFrame, source: str) -> pl.DataFrame:
    return malformed.select(
        pl.lit(source).alias("source"),
        pl.col(ROW).alias("row_number"),
        pl.lit(Reason.BAD_VALUE.value).alias("reason"),
        mask(pl.col("detail")).alias("detail"),
        mask(pl.col("raw")).alias("raw"),
    )


class CityRun:
    """Carries one run of ``source`` through a :class:`RunWriter`."""

    def __init__(self, source: Source, con: duckdb.DuckDBPyConnection, *, catalogue: Catalogue, now: datetime) -> None:
        self.source = source
        self.writer = RunWriter(con, source.city)
        self.catalogue = catalogue
        self.now = now
        self.totals = RunTotals()

    def run(self, since: date | None = None) -> RunResult:
        run_id = self.writer.start(self.source.location)
        log.info("run %d of %s started (source %s)", run_id, self.source.city, self.source.location)
        try:
            context = SourceContext(
                state=self.writer.state, latest_event_time=self.writer.latest_event_time, since=since
            )
            states: dict[str, str] = {}
            for unit_no, unit in enumerate(self.source.units(context), start=1):
                self.totals.units_seen += 1
                states.update(unit.state)
                if unit.unchanged or self._seen_before(unit, since):
                    self.totals.units_skipped += 1
                    continue
                self._load_unit(unit_no, unit)
            merged = self.writer.merge_events() if self.source.kind is Kind.EVENTS else self.writer.merge_daily()
            self.totals.rows_loaded = merged.loaded
            self.totals.rows_duplicate = merged.duplicates
            self.totals.rows_conflicting = merged.conflicting
            for key, value in states.items():
                self.writer.set_state(key, value)
            self.writer.commit(self.totals)
        except (PipelineError, duckdb.Error, OSError) as error:
            message = f"{type(error).__name__}: {error}" if not isinstance(error, PipelineError) else str(error)
            self.writer.fail(self.totals, message)
            log.error("run %d of %s failed: %s", run_id, self.source.city, message)
            return RunResult(self.source.city, run_id, "failed", self.totals, message)
        log.info(
            "run %d of %s succeeded: read %d, loaded %d, duplicates %d, quarantined %d",
            run_id,
            self.source.city,
            self.totals.rows_read,
            self.totals.rows_loaded,
            self.totals.rows_duplicate,
            self.totals.rows_quarantined,
        )
        return RunResult(self.source.city, run_id, "succeeded", self.totals)

    def _seen_before(self, unit: Unit, since: date | None) -> bool:
        """An unchanged file is skipped, unless a backfill asks for it again."""
        if unit.fingerprint is None or since is not None:
            return False
        return self.writer.already_processed(unit.name, unit.fingerprint)

    def _load_unit(self, unit_no: int, unit: Unit) -> None:
        if unit.replaces_quarantine:
            self.writer.forget_quarantine(unit.name)
        counts = _UnitTotals()
        try:
            for batch in unit.read():
                self._load_batch(unit_no, unit, batch, counts)
        except UnreadableUnit as error:
            self.writer.discard_unit(unit_no, unit.name)
            counts = _UnitTotals()
            counts.read = 1
            counts.quarantined = {Reason.UNREADABLE_FILE.value: 1}
            detail = f"{unit.name}: {error}"
            self.writer.quarantine(
                pl.DataFrame(
                    {
                        "source": [unit.name],
                        "row_number": [None],
                        "reason": [Reason.UNREADABLE_FILE.value],
                        "detail": [detail],
                        "raw": [""],
                    },
                    schema={
                        "source": pl.String,
                        "row_number": pl.Int64,
                        "reason": pl.String,
                        "detail": pl.String,
                        "raw": pl.String,
                    },
                ).with_columns(mask(pl.col("detail")))
            )
            log.warning("%s: unreadable file %s", self.source.city, detail)
        else:
            if unit.month is not None:
                self.writer.replace_month(unit.month)
        if unit.fingerprint:
            self.writer.mark_processed(unit.name, unit.fingerprint)
        self.totals.units.append(unit.name)
        counts.add_to(self.totals)

    def _load_batch(self, unit_no: int, unit: Unit, batch: RawBatch, counts: _UnitTotals) -> None:
        mapping = self.source.mapping
        fields = EVENT_FIELDS if self.source.kind is Kind.EVENTS else DAILY_FIELDS
        staged = stage(batch.frame, mapping, fields)
        counts.dropped.update(staged.dropped_columns)
        counts.read += batch.frame.height
        checked: Checked
        if self.source.kind is Kind.EVENTS:
            checked = check_events(staged.frame, mapping, self.catalogue, now=self.now)
            valid = checked.valid.with_columns(
                pl.col("occurred_at").dt.convert_time_zone(LOCAL_TZ).dt.date().alias("local_date")
            )
            self.writer.stage_events(unit_no, valid)
            for name, count in unmapped_names(staged.frame, checked.rejected).items():
                counts.unmapped[name] = counts.unmapped.get(name, 0) + count
        else:
            checked = check_daily(staged.frame, self.catalogue, month=unit.month, today=self.now)
            self.writer.stage_daily(unit_no, checked.valid)
        if checked.rejected.height:
            counts.reject(checked.rejected["reason"])
            self.writer.quarantine(quarantine_rows(batch.frame, checked.rejected, unit.name))
        if batch.malformed is not None and batch.malformed.height:
            counts.read += batch.malformed.height
            counts.reject(pl.Series([Reason.BAD_VALUE.value] * batch.malformed.height))
            self.writer.quarantine(_malformed_rows(batch.malformed, unit.name))


def run_city(
    source: Source,
    con: duckdb.DuckDBPyConnection,
    *,
    catalogue: Catalogue,
    since: date | None = None,
    now: datetime | None = None,
) -> RunResult:
    """Run ``source`` once into the warehouse behind ``con``; never raises for source trouble."""
    return CityRun(source, con, catalogue=catalogue, now=now or datetime.now(UTC)).run(since)
