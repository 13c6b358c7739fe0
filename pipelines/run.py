"""One pipeline run of one city: units -> stage -> validate -> load, in one transaction.

This is the shared machinery every city goes through. Batches of several units
are validated together in chunks (many small daily files cost little more than
one large one), each row keeping its unit and record number, so that every
rejection still names its file and row. For every run,
rows loaded + quarantined + duplicates = rows read.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.contract import DAILY_FIELDS, DAILY_SCHEMA, EVENT_FIELDS, EVENT_SCHEMA, Reason
from pipelines.errors import PipelineError, UnreadableUnit
from pipelines.mapping import INTERNAL, RECORD, ROW, UNIT, stage
from pipelines.personal_data import mask
from pipelines.readers import RawBatch
from pipelines.sources.base import Kind, Source, SourceContext, Unit
from pipelines.validate import MONTH, Catalogue, Checked, check_daily, check_events, unmapped_names
from warehouse.load import RunTotals, RunWriter

log = logging.getLogger(__name__)

#: rows validated and staged together; bounds memory while amortising per-batch costs
CHUNK_ROWS = 200_000

#: the columns of validated rows as they are spilled for the merge
STAGED_EVENT: dict[str, pl.DataType] = {UNIT: pl.Int32(), ROW: pl.Int64(), **EVENT_SCHEMA, "local_date": pl.Date()}
STAGED_DAILY: dict[str, pl.DataType] = {UNIT: pl.Int32(), ROW: pl.Int64(), **DAILY_SCHEMA}

QUARANTINE_SCHEMA = {
    "source": pl.String,
    "row_number": pl.Int64,
    "reason": pl.String,
    "detail": pl.String,
    "raw": pl.String,
}


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


@dataclass
class _UnitTotals:
    """Counts of one unit; they join the run's totals when the run is merged."""

    read: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    unmapped: dict[str, int] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)

    def reject(self, reason: str, count: int) -> None:
        self.quarantined[reason] = self.quarantined.get(reason, 0) + count

    def add_to(self, totals: RunTotals) -> None:
        totals.rows_read += self.read
        for reason, count in self.quarantined.items():
            totals.quarantined[reason] = totals.quarantined.get(reason, 0) + count
        for name, count in self.unmapped.items():
            totals.unmapped_names[name] = totals.unmapped_names.get(name, 0) + count
        totals.dropped_columns.extend(sorted(self.dropped - set(totals.dropped_columns)))


@dataclass(frozen=True)
class _Pending:
    """A batch read and staged but not yet validated."""

    unit_no: int
    source: str
    raw: pl.DataFrame
    staged: pl.DataFrame


def quarantine_rows(raw: pl.DataFrame, rejected: pl.DataFrame, source: str) -> pl.DataFrame:
    """Rejected rows with their delivered values as JSON, personal data masked.

    The row number is the record's place in the file (``_record`` where one record
    became several rows, such as a case with a timestamp per stage).
    """
    values = [mask(pl.col(name).cast(pl.String)).alias(name) for name in raw.columns if name not in INTERNAL]
    record = RECORD if RECORD in raw.columns else ROW
    return (
        raw.join(rejected.select(ROW, "reason", "detail"), on=ROW)
        .select(
            pl.lit(source).alias("source"),
            pl.col(record).alias("row_number"),
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


def _unreadable_row(source: str, error: UnreadableUnit) -> pl.DataFrame:
    row = {
        "source": source,
        "row_number": None,
        "reason": Reason.UNREADABLE_FILE.value,
        "detail": f"{source}: {error}",
        "raw": json.dumps({"file": source}),
    }
    return pl.DataFrame([row], schema=QUARANTINE_SCHEMA).with_columns(mask(pl.col("detail")))


class CityRun:
    """Carries one run of ``source`` through a :class:`RunWriter`."""

    def __init__(
        self, source: Source, con: duckdb.DuckDBPyConnection, *, catalogue: Catalogue, now: datetime, spill_dir: Path
    ) -> None:
        self.source = source
        self.writer = RunWriter(con, source.city, spill_dir)
        self.catalogue = catalogue
        self.now = now
        self.totals = RunTotals()
        self.fields = EVENT_FIELDS if source.kind is Kind.EVENTS else DAILY_FIELDS
        self.unit_totals: dict[int, _UnitTotals] = {}
        self.pending: list[_Pending] = []

    def run(self, since: date | None = None) -> RunResult:
        run_id = self.writer.start(self.source.location)
        log.info("run %d of %s started (source %s)", run_id, self.source.city, self.source.location)
        try:
            self._load(since)
        # a polars panic is a BaseException; it must fail this city's run, not the process
        except (PipelineError, duckdb.Error, OSError, pl.exceptions.PolarsError, pl.exceptions.PanicException) as error:
            message = str(error) if isinstance(error, PipelineError) else f"{type(error).__name__}: {error}"
            self.writer.fail(self.totals, message)
            log.error("run %d of %s failed: %s", run_id, self.source.city, message)
            return RunResult(self.source.city, run_id, "failed", self.totals, message)
        finally:
            self.writer.close()
        totals = self.totals
        log.info(
            "run %d of %s succeeded: read %d, loaded %d, duplicates %d, quarantined %d, units %d (%d skipped)",
            run_id, self.source.city, totals.rows_read, totals.rows_loaded, totals.rows_duplicate,
            totals.rows_quarantined, totals.units_seen, totals.units_skipped,
        )  # fmt: skip
        return RunResult(self.source.city, run_id, "succeeded", totals)

    def _load(self, since: date | None) -> None:
        context = SourceContext(state=self.writer.state, latest_event_time=self.writer.latest_event_time, since=since)
        states: dict[str, str] = {}
        for unit_no, unit in enumerate(self.source.units(context), start=1):
            self.totals.units_seen += 1
            states.update(unit.state)
            if unit.unchanged or self._seen_before(unit, since):
                self.totals.units_skipped += 1
                continue
            self._load_unit(unit_no, unit)
        self._flush()
        for counts in self.unit_totals.values():
            counts.add_to(self.totals)
        if self.source.kind is Kind.EVENTS:
            merged = self.writer.merge_events(pl.DataFrame(schema=STAGED_EVENT))
        else:
            merged = self.writer.merge_daily(pl.DataFrame(schema=STAGED_DAILY))
        self.totals.rows_loaded = merged.loaded
        self.totals.rows_duplicate = merged.duplicates
        self.totals.rows_conflicting = merged.conflicting
        for key, value in states.items():
            self.writer.set_state(key, value)
        self.writer.commit(self.totals)

    def _seen_before(self, unit: Unit, since: date | None) -> bool:
        """An unchanged file is skipped, unless a backfill asks for it again."""
        if unit.fingerprint is None or since is not None:
            return False
        return self.writer.already_processed(unit.name, unit.fingerprint)

    def _load_unit(self, unit_no: int, unit: Unit) -> None:
        if unit.replaces_quarantine:
            self.writer.forget_quarantine(unit.name)
        counts = self.unit_totals[unit_no] = _UnitTotals()
        try:
            for batch in unit.read():
                self._add_batch(unit_no, unit, batch, counts)
        except UnreadableUnit as error:
            self.pending = [pending for pending in self.pending if pending.unit_no != unit_no]
            self.writer.discard_unit(unit_no)
            self.unit_totals[unit_no] = _UnitTotals(read=1, quarantined={Reason.UNREADABLE_FILE.value: 1})
            self.writer.quarantine(_unreadable_row(unit.name, error), 0)
            log.warning("%s: unreadable file %s: %s", self.source.city, unit.name, error)
        else:
            if unit.month is not None:
                self.writer.replace_month(unit.month)
        if unit.fingerprint:
            self.writer.mark_processed(unit.name, unit.fingerprint)
        self.totals.units.append(unit.name)

    def _add_batch(self, unit_no: int, unit: Unit, batch: RawBatch, counts: _UnitTotals) -> None:
        counts.read += batch.frame.height
        if batch.malformed is not None and batch.malformed.height:
            counts.read += batch.malformed.height
            counts.reject(Reason.BAD_VALUE.value, batch.malformed.height)
            self.writer.quarantine(_malformed_rows(batch.malformed, unit.name), unit_no)
        if batch.frame.height == 0:
            return
        raw = batch.frame.with_columns(pl.lit(unit_no, pl.Int32).alias(UNIT))
        staged = stage(raw, self.source.mapping, self.fields)
        counts.dropped.update(staged.dropped_columns)
        frame = staged.frame
        if self.source.kind is Kind.DAILY:
            frame = frame.with_columns(pl.lit(unit.month, pl.String).alias(MONTH))
        if self.pending and self.pending[0].staged.schema != frame.schema:
            self._flush()  # a unit with other column types is validated on its own
        self.pending.append(_Pending(unit_no, unit.name, raw, frame))
        if sum(pending.staged.height for pending in self.pending) >= CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        """Validate and stage the pending batches together."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        staged = pl.concat([item.staged for item in pending], how="vertical_relaxed")
        checked: Checked
        if self.source.kind is Kind.EVENTS:
            checked = check_events(staged, self.source.mapping, self.catalogue, now=self.now)
        else:
            checked = check_daily(staged, self.catalogue, today=self.now, mapping=self.source.mapping)
        self.writer.stage(checked.valid)
        for unit_no, name, count in unmapped_names(staged, checked.rejected).iter_rows():
            unmapped = self.unit_totals[unit_no].unmapped
            unmapped[name] = unmapped.get(name, 0) + int(count)
        if checked.rejected.height == 0:
            return
        for unit_no, reason, count in checked.rejected.group_by(UNIT, "reason").len().iter_rows():
            self.unit_totals[unit_no].reject(reason, int(count))
        rejected_units = set(checked.rejected[UNIT].unique().to_list())
        for item in pending:
            if item.unit_no in rejected_units:
                rejected = checked.rejected.filter(pl.col(UNIT) == item.unit_no)
                self.writer.quarantine(quarantine_rows(item.raw, rejected, item.source), item.unit_no)


def run_city(
    source: Source,
    con: duckdb.DuckDBPyConnection,
    *,
    catalogue: Catalogue,
    spill_dir: Path,
    since: date | None = None,
    now: datetime | None = None,
) -> RunResult:
    """Run ``source`` once into the warehouse behind ``con``; never raises for source trouble.

    ``spill_dir`` holds the run's validated rows until the merge (removed afterwards).
    """
    run = CityRun(source, con, catalogue=catalogue, now=now or datetime.now(UTC), spill_dir=spill_dir)
    return run.run(since)
