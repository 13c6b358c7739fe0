"""Printing result frames on the command line as a table, CSV or JSON.

NULL stays visible as NULL: an empty CSV field, JSON null, and an empty cell in
the table, never 0.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import polars as pl

FORMATS = ("table", "csv", "json")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json(frame: pl.DataFrame) -> str:
    rows = [{key: _plain(value) for key, value in row.items()} for row in frame.iter_rows(named=True)]
    return json.dumps(rows, ensure_ascii=False, indent=2)


def to_csv(frame: pl.DataFrame) -> str:
    text = frame.with_columns(
        pl.col(name).cast(pl.String) for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)
    )
    return text.write_csv(null_value="")


def to_table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "(no rows)"
    cells = [[("" if value is None else str(_plain(value))) for value in row] for row in frame.iter_rows()]
    widths = [max(len(name), *(len(row[i]) for row in cells)) for i, name in enumerate(frame.columns)]
    numeric = [dtype.is_numeric() for dtype in frame.dtypes]

    def line(values: list[str]) -> str:
        return "  ".join(
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    header = line(list(frame.columns))
    rule = "  ".join("-" * width for width in widths)
    return "\n".join([header, rule, *(line(row) for row in cells)])


def render(frame: pl.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "json":
        return to_json(frame)
    return to_table(frame)
