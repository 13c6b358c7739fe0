"""Writing one pipeline run into the warehouse, all or nothing.

A :class:`RunWriter` owns the writer connection for one city's run: it records
the run as running (committed at once, so a killed run is visible later), then
opens one transaction in which every batch is staged, quarantined rows are kept,
and the merge replaces changed events and refreshes the daily rollup. Nothing of
the batch is visible to anyone until :meth:`RunWriter.commit`.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from warehouse.sql_files import sql, statements

_PARAM = re.compile(r"\$([a-z_]+)")


def _params(statement: str, values: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``values`` a statement names (DuckDB refuses unused named parameters)."""
    code = "\n".join(line.split("--", 1)[0] for line in statement.splitlines())
    return {name: values[name] for name in set(_PARAM.findall(code))}


def _one(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> tuple[Any, ...] | None:
    """The first row of a query, with the result drained (DuckDB 2 refuses new work on a
    connection whose last result was not read to its end)."""
    rows = con.execute(query, params).fetchall()
    return rows[0] if rows else None


def run_script(con: duckdb.DuckDBPyConnection, name: str, values: dict[str, Any]) -> None:
    for statement in statements(name):
        con.execute(statement, _params(statement, values))


@dataclass(frozen=True)
class MergeCounts:
    staged: int
    loaded: int
    duplicates: int
    conflicting: int


@dataclass
class RunTotals:
    """What the run record says; kept by the pipeline, written here."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_conflicting: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    units_seen: int = 0
    units_skipped: int = 0
    units: list[str] = field(default_factory=list)
    unmapped_names: dict[str, int] = field(default_factory=dict)
    dropped_columns: list[str] = field(default_factory=list)

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined.values())


class RunWriter:
    """One city's run against the writer connection.

    Validated rows are spilled to Parquet files in ``spill_dir`` and merged in single
    statements at the end: DuckDB holds every small append of an open transaction in
    memory, while one INSERT ... SELECT streams with bounded memory.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, city: str, spill_dir: Path) -> None:
        self.con = con
        self.city = city
        self.run_id = 0
        self.spill_root = spill_dir
        self.spill_dir = spill_dir
        self.spilled: list[Path] = []
        self.rejected: list[Path] = []
        self.discarded: list[int] = []
        self.months: list[str] = []

    def start(self, source: str) -> int:
        """Record the run as running, then open the run's transaction."""
        values = {"city": self.city, "source": source}
        self.con.execute(sql("runs/abort_stale"), _params(sql("runs/abort_stale"), values))
        row = _one(self.con, sql("runs/start"), values)
        assert row is not None
        self.run_id = int(row[0])
        # spill files of runs that died are of no use to anyone: only one writer exists
        shutil.rmtree(self.spill_root, ignore_errors=True)
        self.spill_dir = self.spill_root / f"run-{self.run_id}"
        self.spill_dir.mkdir(parents=True)
        self.con.execute("BEGIN TRANSACTION")
        return self.run_id

    def state(self, key: str) -> str | None:
        row = _one(self.con, "SELECT value FROM source_state WHERE city = ? AND key = ?", [self.city, key])
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO source_state VALUES (?, ?, ?)", [self.city, key, value])

    def latest_event_time(self) -> Any:
        row = _one(self.con, "SELECT max(occurred_at) FROM event_store WHERE city = ?", [self.city])
        return None if row is None else row[0]

    def already_processed(self, unit: str, fingerprint: str) -> bool:
        row = _one(self.con, "SELECT fingerprint FROM processed_unit WHERE city = ? AND unit = ?", [self.city, unit])
        return row is not None and row[0] == fingerprint

    def mark_processed(self, unit: str, fingerprint: str) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO processed_unit VALUES (?, ?, ?, ?)",
            [self.city, unit, fingerprint, self.run_id],
        )

    def forget_quarantine(self, unit: str) -> None:
        """A re-delivered file's earlier rejections are replaced by this run's."""
        self.con.execute("DELETE FROM quarantine_store WHERE city = ? AND source = ?", [self.city, unit])

    def stage(self, batch: pl.DataFrame) -> None:
        """Spill validated rows (canonical columns, ``_unit``, ``_row``) for the merge."""
        path = self.spill_dir / f"stage-{len(self.spilled):06d}.parquet"
        batch.write_parquet(path, compression="lz4", statistics=False)
        self.spilled.append(path)

    def replace_month(self, month: str) -> None:
        self.months.append(month)

    def discard_unit(self, unit_no: int) -> None:
        """Drop what a unit staged and rejected in this run before it turned out unreadable."""
        self.discarded.append(unit_no)

    def quarantine(self, rows: pl.DataFrame, unit_no: int) -> None:
        """Spill rejected rows (source, row_number, reason, detail, raw, personal data masked)
        for the commit; ``unit_no`` 0 marks rows that a later discard must not drop."""
        if rows.height:
            path = self.spill_dir / f"rejected-{len(self.rejected):06d}.parquet"
            rows.with_columns(pl.lit(unit_no, pl.Int32).alias("_unit")).write_parquet(path, compression="lz4")
            self.rejected.append(path)

    def merge_events(self, empty: pl.DataFrame) -> MergeCounts:
        """Merge the spilled events; ``empty`` gives the columns when nothing was staged."""
        values = self._merge_values(empty)
        run_script(self.con, "load/merge_events", values)
        return self._counts("load/event_counts", values)

    def merge_daily(self, empty: pl.DataFrame) -> MergeCounts:
        """Replace the delivered months with the spilled counts."""
        values = self._merge_values(empty)
        run_script(self.con, "load/merge_daily", values)
        return self._counts("load/daily_counts", values)

    def _merge_values(self, empty: pl.DataFrame) -> dict[str, Any]:
        if not self.spilled:
            self.stage(empty)
        return {
            "city": self.city,
            "run_id": self.run_id,
            "stage": [str(path) for path in self.spilled],
            "discarded": self.discarded,
            "months": self.months,
        }

    def close(self) -> None:
        """Remove the run's spill files (after commit or failure)."""
        shutil.rmtree(self.spill_dir, ignore_errors=True)

    def commit(self, totals: RunTotals) -> None:
        """Keep the rejected rows, record the run as succeeded and commit the whole batch."""
        if self.rejected:
            run_script(
                self.con,
                "load/quarantine",
                {
                    "city": self.city,
                    "run_id": self.run_id,
                    "rejected": [str(path) for path in self.rejected],
                    "discarded": self.discarded,
                },
            )
        self._finish("succeeded", totals, None)
        self.con.execute("COMMIT")

    def fail(self, totals: RunTotals, error: str) -> None:
        """Roll the batch back and record the failure (in its own transaction)."""
        # the transaction may already be gone after an engine error
        with contextlib.suppress(duckdb.Error):
            self.con.execute("ROLLBACK")
        self._finish("failed", totals, error)

    def _finish(self, status: str, totals: RunTotals, error: str | None) -> None:
        self.con.execute(
            sql("runs/finish"),
            {
                "run_id": self.run_id,
                # now() would be the start of the run's transaction: take the clock here
                "ended_at": datetime.now(UTC),
                "status": status,
                "rows_read": totals.rows_read,
                "rows_loaded": totals.rows_loaded,
                "rows_duplicate": totals.rows_duplicate,
                "rows_conflicting": totals.rows_conflicting,
                "rows_quarantined": totals.rows_quarantined,
                "quarantined_by_reason": json.dumps(totals.quarantined, sort_keys=True),
                "units_seen": totals.units_seen,
                "units_skipped": totals.units_skipped,
                "units": json.dumps(totals.units),
                "unmapped_names": json.dumps(totals.unmapped_names, sort_keys=True, ensure_ascii=False),
                "dropped_columns": json.dumps(sorted(set(totals.dropped_columns))),
                "error": error,
            },
        )

    def _counts(self, script: str, values: dict[str, Any]) -> MergeCounts:
        row = _one(self.con, sql(script), _params(sql(script), values))
        assert row is not None
        staged, loaded, conflicting = (int(value) for value in row)
        return MergeCounts(staged=staged, loaded=loaded, duplicates=staged - loaded, conflicting=conflicting)
