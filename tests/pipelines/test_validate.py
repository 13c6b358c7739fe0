"""Validation rules of the contract, on small hand-made batches."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from pipelines.delivery import shipped
from pipelines.mapping import ROW, stage
from pipelines.validate import Catalogue, check_events

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GIESSEN = shipped("giessen").mapping
CATALOGUE = Catalogue(frozenset({"99115005104000"}))


def _giessen(**overrides: str | None) -> pl.DataFrame:
    row = {
        "Vorgang": "GI-1",
        "Zeitpunkt": "02.01.2026 10:00:00",
        "Leistungsschluessel": "99115005104000",
        "Kanal": "Online",
        "Status": "eingereicht",
        "Fall": "GIC1",
        "Dauer_Min": "3,5",
        "eID": "nein",
        "Bezahlung": None,
        "Endgeraet": "Smartphone",
        "Bewertung": "5",
    }
    row.update(overrides)
    return pl.DataFrame([row], schema={key: pl.String for key in row}).with_columns(pl.lit(1).alias(ROW))


def _check(raw: pl.DataFrame, mapping=GIESSEN):  # type: ignore[no-untyped-def]
    from pipelines.contract import EVENT_FIELDS

    return check_events(stage(raw, mapping, EVENT_FIELDS).frame, mapping, CATALOGUE, now=NOW)


def _reason(raw: pl.DataFrame) -> str | None:
    checked = _check(raw)
    return checked.rejected["reason"][0] if checked.rejected.height else None


def test_a_good_row_is_typed_onto_the_contract() -> None:
    row = _check(_giessen()).valid.row(0, named=True)
    assert row["occurred_at"] == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    assert (row["channel"], row["stage"], row["device"]) == ("online", "submitted", "mobile")
    assert (row["user_seconds"], row["eid"], row["epayment"], row["rating"]) == (210, False, None, 5)


def test_ambiguous_autumn_time_takes_the_earlier_instant() -> None:
    row = _check(_giessen(Zeitpunkt="26.10.2025 02:30:00")).valid.row(0, named=True)
    assert row["occurred_at"] == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_local_day_follows_berlin_not_utc() -> None:
    row = _check(_giessen(Zeitpunkt="01.03.2026 00:30:00")).valid.row(0, named=True)
    assert row["occurred_at"] == datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert row["local_date"] == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"Zeitpunkt": "29.03.2026 02:30:00"}, "nonexistent_local_time"),
        ({"Zeitpunkt": "01.01.2019 10:00:00"}, "implausible_time"),
        ({"Zeitpunkt": "25.11.2026 14:30:00"}, "implausible_time"),  # 13:30 UTC: 1.5 h ahead
        ({"Zeitpunkt": "31.02.2026 10:00:00"}, "bad_value"),
        ({"Zeitpunkt": None}, "missing_field"),
        ({"Vorgang": ""}, "missing_field"),
        ({"Vorgang": "x" * 65}, "bad_value"),
        ({"Kanal": "Fax"}, "bad_value"),
        ({"Status": "eingereich"}, "bad_value"),
        ({"Endgeraet": "Fernseher"}, "bad_value"),
        ({"Dauer_Min": "drei"}, "bad_value"),
        ({"Dauer_Min": "1441"}, "bad_value"),
        ({"Bewertung": "0"}, "bad_value"),
        ({"Bewertung": "4,5"}, "bad_value"),
        ({"eID": "vielleicht"}, "bad_value"),
        ({"Leistungsschluessel": "9911500510400"}, "bad_value"),
        ({"Leistungsschluessel": "99999999999999"}, "unknown_service"),
        ({"Fall": "anna.schmidt@example.de"}, "personal_data"),
        ({"Fall": "DE89 3704 0044 0532 0130 00"}, "personal_data"),
        ({"Fall": "+49 641 1234567"}, "personal_data"),
        ({"Fall": "10.0.0.1"}, "personal_data"),
        ({"Fall": "2001:db8::8a2e:370:7334"}, "personal_data"),
        ({"Kanal": "max.mustermann@example.org"}, "personal_data"),  # a closed field, checked on failure
        ({"Leistungsschluessel": "+49 6421 123456"}, "personal_data"),
    ],
)
def test_each_rule_names_its_reason(overrides: dict[str, str | None], reason: str) -> None:
    assert _reason(_giessen(**overrides)) == reason


def test_device_on_an_offline_channel_is_a_bad_value() -> None:
    assert _reason(_giessen(Kanal="Bürgerbüro", Endgeraet="Desktop")) == "bad_value"


def test_personal_data_wins_over_other_faults() -> None:
    assert _reason(_giessen(Fall="a@b.de", Kanal="Fax")) == "personal_data"


def test_pseudonymous_ids_are_not_mistaken_for_personal_data() -> None:
    assert _reason(_giessen(Vorgang="GI-0123456", Fall="GIC00000ABCDEF12")) is None


def test_iso_times_with_offset_z_and_without_offset() -> None:
    raw = pl.DataFrame(
        {
            "event_id": ["a", "b", "c"],
            "occurred_at": ["2026-02-01T14:11:06Z", "2026-02-01T15:11:06+01:00", "2026-02-01T15:11:06"],
            "service_key": ["99115005104000"] * 3,
            "channel": ["online"] * 3,
            "stage": ["started"] * 3,
        }
    ).with_row_index(ROW)
    valid = _check(raw, shipped("limburg").mapping).valid
    assert valid["occurred_at"].to_list() == [datetime(2026, 2, 1, 14, 11, 6, tzinfo=UTC)] * 3
    assert valid["local_date"].to_list() == [date(2026, 2, 1)] * 3
