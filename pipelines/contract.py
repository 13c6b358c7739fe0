"""The canonical event and daily aggregate of the data contract, in one place.

Every city adapter maps its delivery onto these names and values; validation,
loading and the warehouse schema follow them. Changing the contract means
changing this module (and the migration that mirrors it), nothing else.
"""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo

import polars as pl

LOCAL_TZ = "Europe/Berlin"
LOCAL_ZONE = ZoneInfo(LOCAL_TZ)

CHANNELS = ("online", "app", "in_person", "phone", "email", "post")
DIGITAL_CHANNELS = ("online", "app")
STAGES = ("started", "submitted", "completed", "rejected", "abandoned")
DEVICES = ("desktop", "mobile", "tablet")

ID_MAX_LENGTH = 64
USER_SECONDS_MAX = 86_400
RATING_RANGE = (1, 5)

#: The canonical event: field name -> Polars type as stored.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "occurred_at": pl.Datetime("us", "UTC"),
    "service_key": pl.String(),
    "channel": pl.String(),
    "stage": pl.String(),
    "case_id": pl.String(),
    "user_seconds": pl.Int32(),
    "eid": pl.Boolean(),
    "epayment": pl.Boolean(),
    "device": pl.String(),
    "rating": pl.Int8(),
}
EVENT_FIELDS = tuple(EVENT_SCHEMA)
EVENT_REQUIRED = ("event_id", "occurred_at", "service_key", "channel", "stage")

#: The canonical daily aggregate (Wetzlar's counts).
COUNT_FIELDS = STAGES
DAILY_SCHEMA: dict[str, pl.DataType] = {
    "day": pl.Date(),
    "service_key": pl.String(),
    "channel": pl.String(),
    **{stage: pl.Int64() for stage in COUNT_FIELDS},
}
DAILY_FIELDS = tuple(DAILY_SCHEMA)
DAILY_REQUIRED = DAILY_FIELDS


class Reason(StrEnum):
    """Why a row went to quarantine (contract section 6)."""

    MISSING_FIELD = "missing_field"
    BAD_VALUE = "bad_value"
    UNKNOWN_SERVICE = "unknown_service"
    UNMAPPED_SERVICE = "unmapped_service"
    NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"
    IMPLAUSIBLE_TIME = "implausible_time"
    PERSONAL_DATA = "personal_data"
    UNREADABLE_FILE = "unreadable_file"
