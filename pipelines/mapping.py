"""Declarative description of how a delivery's columns and words map onto the contract.

A city adapter states its differences as data (a :class:`FieldMapping`); the
shared functions here apply it. Staging only renames and replaces words; every
check and type conversion happens afterwards in :mod:`pipelines.validate`, so a
word the mapping does not know survives unchanged and is reported as a bad value
instead of silently becoming NULL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl

from pipelines.contract import LOCAL_TZ

ROW = "_row"
UNIT = "_unit"
#: the record number in the file where one record becomes several rows (a case per row)
RECORD = "_record"
#: bookkeeping columns: never delivered data, never reported as dropped
INTERNAL = (ROW, UNIT, RECORD)
#: a case row's events carry these beside the case's own columns (pipelines.shapes)
CASE_EVENT = "_case_event"
CASE_STAGE = "_case_stage"
CASE_TIME = "_case_time"


class TimeKind(StrEnum):
    """How a delivery writes its timestamps."""

    NATIVE = "native"  # already a timestamp column (Parquet); naive values are UTC
    ISO = "iso"  # ISO 8601 text; with offset, or local Europe/Berlin time without one
    LOCAL = "local"  # text in `time_format`, local Europe/Berlin time without offset
    EPOCH_SECONDS = "epoch_seconds"  # Unix seconds, UTC


@dataclass(frozen=True)
class TimeSpec:
    """How timestamps are written; ``time_zone`` is the zone of local times without offset."""

    kind: TimeKind = TimeKind.ISO
    time_format: str | None = None
    time_zone: str = LOCAL_TZ


@dataclass(frozen=True)
class FieldMapping:
    """A delivery's own names for the canonical fields and its value words.

    ``columns`` maps canonical field -> source column. ``values`` maps a canonical
    field to {source word: canonical value}. ``service_names``, when set, means the
    service column holds the city's own service names, mapped here to LeiKa keys.
    ``user_seconds_scale`` converts the delivered unit to seconds (60 for minutes).
    ``consumed`` names source columns read before staging (a case's stage timestamps),
    which are therefore not reported as dropped.
    """

    columns: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    time: TimeSpec = TimeSpec()
    decimal_mark: str = "."
    user_seconds_scale: float = 1.0
    booleans: dict[str, bool] = field(default_factory=lambda: {"true": True, "false": False})
    service_names: dict[str, str] | None = None
    consumed: tuple[str, ...] = ()

    def columns_in_source(self) -> tuple[str, ...]:
        """The delivery's own names of the fields this mapping uses."""
        return tuple(self.columns.values())

    def fingerprint(self) -> str:
        """A stable digest of the mapping: a changed mapping re-processes unchanged files."""
        described: dict[str, object] = {
            "columns": self.columns,
            "values": self.values,
            "time": [self.time.kind.value, self.time.time_format],
            "decimal": self.decimal_mark,
            "scale": self.user_seconds_scale,
            "booleans": self.booleans,
            "services": self.service_names,
        }
        # named only when set, so that the fingerprints of existing mappings stay as they were
        if self.time.time_zone != LOCAL_TZ:
            described["time_zone"] = self.time.time_zone
        if self.consumed:
            described["consumed"] = list(self.consumed)
        text = json.dumps(described, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def identity_columns(fields: tuple[str, ...]) -> dict[str, str]:
    """A mapping for deliveries that already use the canonical names."""
    return {name: name for name in fields}


@dataclass(frozen=True)
class Staged:
    """A batch renamed onto canonical fields, with the source columns it did not use."""

    frame: pl.DataFrame
    dropped_columns: tuple[str, ...]


def stage(raw: pl.DataFrame, mapping: FieldMapping, fields: tuple[str, ...]) -> Staged:
    """Rename ``raw`` onto ``fields`` and replace known words; keep unknown words as they are.

    ``raw`` must carry the row number column ``_row``. Canonical fields the delivery
    lacks become NULL (never a default); source columns the mapping does not name
    are dropped here, before anything is stored, and returned so the run can name them.
    """
    known = set(mapping.columns.values()) | set(mapping.consumed) | set(INTERNAL)
    dropped = tuple(name for name in raw.columns if name not in known)
    exprs: list[pl.Expr] = [pl.col(name) for name in (UNIT, ROW) if name in raw.columns]
    for name in fields:
        source = mapping.columns.get(name)
        if source is None or source not in raw.columns:
            exprs.append(pl.lit(None, dtype=pl.String).alias(name))
            continue
        expr = pl.col(source)
        words = mapping.values.get(name)
        if words and raw.schema[source] == pl.String:
            expr = expr.str.strip_chars().replace(words)
        exprs.append(expr.alias(name))
    return Staged(raw.select(exprs), dropped)
