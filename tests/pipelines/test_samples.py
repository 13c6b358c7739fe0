"""Each city's sample delivery, loaded end to end into a real warehouse file."""

from __future__ import annotations

from pathlib import Path

from egovsad.config import Config
from tests.conftest import ingest, query


def _reasons(settings: Config, city: str) -> dict[str, int]:
    rows = query(settings, "SELECT reason, count(*) FROM quarantine WHERE city = ? GROUP BY reason", [city])
    return dict(rows.iter_rows())


def test_giessen_sample_loads_local_times_and_quarantines_each_bad_row(settings: Config, samples: Path) -> None:
    result = ingest(settings, "giessen", samples / "giessen")

    totals = result.totals
    assert result.ok
    assert (totals.rows_read, totals.rows_loaded, totals.rows_duplicate) == (21, 12, 2)
    assert totals.rows_conflicting == 1
    assert totals.rows_loaded + totals.rows_quarantined + totals.rows_duplicate == totals.rows_read
    assert _reasons(settings, "giessen") == {
        "personal_data": 1,
        "bad_value": 2,
        "unknown_service": 1,
        "missing_field": 1,
        "nonexistent_local_time": 1,
        "implausible_time": 1,
    }
    event = query(
        settings,
        "SELECT occurred_at AT TIME ZONE 'UTC' AS utc, user_seconds, eid, epayment, device, rating "
        "FROM events WHERE event_id = 'GI-0000013'",
    ).row(0, named=True)
    # 07.12.2025 19:27:33 local (CET, UTC+1); 12,4 minutes; ja/ja; Desktop
    assert str(event["utc"]) == "2025-12-07 18:27:33"
    assert (event["user_seconds"], event["eid"], event["epayment"], event["device"]) == (744, True, True, "desktop")
    assert event["rating"] is None  # not delivered stays NULL, never a default


def test_giessen_conflicting_duplicate_takes_the_later_row(settings: Config, samples: Path) -> None:
    ingest(settings, "giessen", samples / "giessen")

    rating = query(settings, "SELECT rating FROM events WHERE event_id = 'GI-0000084'").item()
    assert rating == 1


def test_giessen_personal_data_is_kept_masked(settings: Config, samples: Path) -> None:
    ingest(settings, "giessen", samples / "giessen")

    raw = query(settings, "SELECT raw, source, row_number FROM quarantine WHERE reason = 'personal_data'").row(0)
    assert "mustermann" not in raw[0] and "[email masked]" in raw[0]
    assert raw[1] == "nutzung_2026-01-02.csv" and raw[2] == 5


def test_fulda_sample_maps_names_and_reports_unmapped_ones(settings: Config, samples: Path) -> None:
    result = ingest(settings, "fulda", samples / "fulda")

    assert result.ok
    assert result.totals.unmapped_names == {"Fischereischein beantragen": 3}
    assert _reasons(settings, "fulda") == {"unmapped_service": 3, "bad_value": 2}
    event = query(
        settings, "SELECT service_key, channel, stage, user_seconds FROM events WHERE event_id = 'FU-0000002'"
    )
    assert event.row(0) == ("99115005104000", "in_person", "submitted", 912)


def test_fulda_mapping_extended_in_configuration_loads_the_rows_on_rerun(home: Path, samples: Path) -> None:
    from egovsad import config as configuration

    settings = configuration.load(home, environ={})
    ingest(settings, "fulda", samples / "fulda")
    (home / "egovsad.toml").write_text(
        '[cities.fulda.service_names]\n"Fischereischein beantragen" = "99089017152000"\n', encoding="utf-8"
    )
    extended = configuration.load(home, environ={})

    result = ingest(extended, "fulda", samples / "fulda")

    assert result.totals.unmapped_names == {}
    assert query(extended, "SELECT count(*) FROM events WHERE event_id LIKE 'FU-BAD%'").item() == 3
    assert _reasons(extended, "fulda") == {"bad_value": 2}


def test_offenbach_sample_loads_parquet_partitions(settings: Config, samples: Path) -> None:
    result = ingest(settings, "offenbach", samples / "offenbach")

    assert result.ok and result.totals.units_seen == 2
    assert result.totals.rows_loaded + result.totals.rows_quarantined == result.totals.rows_read == 17


def test_wetzlar_sample_loads_daily_counts(settings: Config, samples: Path) -> None:
    result = ingest(settings, "wetzlar", samples / "wetzlar")

    assert result.ok
    assert (result.totals.rows_read, result.totals.rows_loaded, result.totals.rows_quarantined) == (6, 4, 2)
    details = query(settings, "SELECT detail FROM quarantine WHERE city = 'wetzlar' ORDER BY row_number")["detail"]
    assert "Fax" in details[0] and "-3" in details[1]
    assert query(settings, "SELECT sum(submitted) FROM daily WHERE city = 'wetzlar'").item() == 2
    assert query(settings, "SELECT count(*) FROM events WHERE city = 'wetzlar'").item() == 0
