"""Loading rules of contract section 6: idempotent, latest wins, nothing silently lost."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from egovsad.config import Config
from tests.conftest import ingest, query, write_wetzlar

GIESSEN_HEADER = "Vorgang;Zeitpunkt;Leistungsschluessel;Kanal;Status;Fall;Dauer_Min;eID;Bezahlung;Endgeraet;Bewertung"


def _write_giessen(path: Path, rows: list[str], header: str = GIESSEN_HEADER) -> None:
    path.write_bytes(("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode("utf-8"))


def _snapshot(settings: Config) -> tuple[object, ...]:
    return (
        query(settings, "SELECT * FROM events ORDER BY city, event_id").rows(),
        query(settings, "SELECT * FROM daily ORDER BY ALL").rows(),
        query(settings, "SELECT city, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY ALL").rows(),
    )


def test_running_twice_changes_nothing(settings: Config, samples: Path) -> None:
    for city in ("giessen", "fulda", "offenbach", "wetzlar"):
        ingest(settings, city, samples / city)
    before = _snapshot(settings)

    again = [ingest(settings, city, samples / city) for city in ("giessen", "fulda", "offenbach", "wetzlar")]

    assert _snapshot(settings) == before
    for result in again:
        assert result.ok and result.totals.rows_read == 0
        assert result.totals.units_skipped == result.totals.units_seen > 0


def test_a_corrected_file_under_the_same_name_replaces_its_rows(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    day = drop / "nutzung_2026-01-05.csv"
    _write_giessen(
        day,
        [
            "GI-1;05.01.2026 10:00:00;99115005104000;Online;begonnen;C1;;;;Desktop;",
            "GI-2;05.01.2026 10:05:00;99115005104000;Online;eingereicht;C1;5,0;ja;nein;Desktop;",
            "GI-3;05.01.2026 10:05:00;99115005104000;Fax;eingereicht;C1;5,0;ja;nein;Desktop;",
        ],
    )
    ingest(settings, "giessen", drop)
    _write_giessen(
        day,
        [
            "GI-1;05.01.2026 10:00:00;99115005104000;Online;begonnen;C1;;;;Desktop;",
            "GI-2;05.01.2026 10:05:00;99115005104000;Online;abgebrochen;C1;;;;Desktop;",
            "GI-3;05.01.2026 10:05:00;99115005104000;Post;eingereicht;C1;5,0;;;;",
        ],
    )

    result = ingest(settings, "giessen", drop)

    assert (result.totals.rows_read, result.totals.rows_loaded, result.totals.rows_duplicate) == (3, 2, 1)
    assert query(settings, "SELECT stage FROM events WHERE event_id = 'GI-2'").item() == "abandoned"
    assert query(settings, "SELECT count(*) FROM quarantine WHERE city = 'giessen'").item() == 0
    daily = query(
        settings, "SELECT channel, started, submitted, abandoned FROM daily WHERE city = 'giessen' ORDER BY channel"
    )
    assert daily.rows() == [("online", 1, 0, 1), ("post", 0, 1, 0)]


def test_a_rejected_row_delivered_again_is_counted_once(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    bad = "GI-9;05.01.2026 10:00:00;99115005104000;Fax;begonnen;C1;;;;;"
    _write_giessen(drop / "nutzung_2026-01-05.csv", [bad])
    _write_giessen(drop / "nutzung_2026-01-06.csv", [bad])

    result = ingest(settings, "giessen", drop)

    assert result.totals.quarantined == {"bad_value": 2}
    assert query(settings, "SELECT count(*) FROM quarantine").item() == 1


def test_extra_columns_are_dropped_and_named(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    _write_giessen(
        drop / "nutzung_2026-01-05.csv",
        ["GI-1;05.01.2026 10:00:00;99115005104000;Online;begonnen;C1;;;;Desktop;;max@example.org"],
        header=GIESSEN_HEADER + ";email",
    )

    result = ingest(settings, "giessen", drop)

    assert result.totals.dropped_columns == ["email"]
    assert result.totals.rows_loaded == 1
    dropped = query(settings, "SELECT dropped_columns FROM pipeline_runs").item()
    assert "email" in dropped
    stored = query(settings, "SELECT * FROM events").rows()
    assert "max@example.org" not in str(stored)


def test_an_unreadable_file_is_quarantined_and_the_others_load(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    _write_giessen(drop / "nutzung_2026-01-05.csv", ["GI-1;05.01.2026 10:00:00;99115005104000;Online;begonnen;C1;;;;;"])
    (drop / "nutzung_2026-01-06.csv").write_bytes(
        (GIESSEN_HEADER + "\r\nGI-2;06.01.2026 10:00:00;99115005104000;Bürgerbüro;begonnen;C2;;;;;\r\n").encode(
            "cp1252"
        )
    )

    result = ingest(settings, "giessen", drop)

    assert result.ok
    assert result.totals.quarantined == {"unreadable_file": 1}
    assert result.totals.rows_loaded == 1
    detail = query(settings, "SELECT source, detail FROM quarantine").row(0)
    assert detail[0] == "nutzung_2026-01-06.csv" and "utf-8" in detail[1].lower()


def test_a_malformed_record_is_quarantined_with_its_line(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    _write_giessen(
        drop / "nutzung_2026-01-05.csv",
        [
            "GI-1;05.01.2026 10:00:00;99115005104000;Online;begonnen;C1;;;;;",
            "GI-2;05.01.2026 10:00:00;99115005104000",
            "GI-3;05.01.2026 10:00:00;99115005104000;Online;begonnen;C3;;;;;",
        ],
    )

    result = ingest(settings, "giessen", drop)

    assert (result.totals.rows_read, result.totals.rows_loaded, result.totals.quarantined) == (3, 2, {"bad_value": 1})
    assert "3 fields" in query(settings, "SELECT detail FROM quarantine").item()


def test_wetzlar_month_delivered_again_replaces_that_month(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "wetzlar"
    drop.mkdir()
    key = "99115005104000"
    write_wetzlar(
        drop / "Wetzlar_Statistik_2026-01.xlsx",
        [(date(2026, 1, 5), key, "Online", 5, 4, 3, 0, 1), (date(2026, 1, 6), key, "Post", 2, 2, 0, 0, 0)],
    )
    write_wetzlar(drop / "Wetzlar_Statistik_2026-02.xlsx", [(date(2026, 2, 2), key, "Online", 1, 1, 1, 0, 0)])
    ingest(settings, "wetzlar", drop)
    write_wetzlar(
        drop / "Wetzlar_Statistik_2026-01.xlsx",
        [(date(2026, 1, 7), key, "Telefon", 9, 9, 9, 0, 0), (date(2026, 2, 1), key, "Online", 1, 1, 1, 0, 0)],
    )

    result = ingest(settings, "wetzlar", drop)

    assert result.totals.units_skipped == 1  # February is unchanged
    assert result.totals.quarantined == {"bad_value": 1}  # a February day inside the January file
    daily = query(settings, "SELECT day, channel, submitted FROM daily WHERE city = 'wetzlar' ORDER BY day")
    assert daily.rows() == [(date(2026, 1, 7), "phone", 9), (date(2026, 2, 2), "online", 1)]


def test_offenbach_new_parts_are_picked_up(settings: Config, samples: Path) -> None:
    ingest(settings, "offenbach", samples / "offenbach")
    part = pl.read_parquet(samples / "offenbach" / "month=2026-04" / "part-0.parquet")
    part = part.with_columns(pl.col("event_id").str.replace("OF-", "OF-NEW-"))
    part.write_parquet(samples / "offenbach" / "month=2026-04" / "part-1.parquet")

    result = ingest(settings, "offenbach", samples / "offenbach")

    assert (result.totals.units_seen, result.totals.units_skipped) == (3, 2)
    assert result.totals.rows_loaded == part.height
    assert query(settings, "SELECT count(*) FROM events WHERE city = 'offenbach'").item() == 17 + part.height


def test_every_run_balances(settings: Config, samples: Path) -> None:
    for city in ("giessen", "fulda", "offenbach", "wetzlar"):
        ingest(settings, city, samples / city)
    runs = query(settings, "SELECT rows_read, rows_loaded, rows_duplicate, rows_quarantined FROM pipeline_runs")
    for read, loaded, duplicates, quarantined in runs.iter_rows():
        assert loaded + duplicates + quarantined == read


def test_a_backfill_reprocesses_the_files_from_its_date(settings: Config, samples: Path) -> None:
    from egovsad.ingest import ingest_cities

    ingest(settings, "giessen", samples / "giessen")

    [again] = ingest_cities(settings, ["giessen"], location=str(samples / "giessen"), since=date(2026, 1, 1))

    assert again.ok
    assert again.totals.units == ["nutzung_2026-01-02.csv", "nutzung_2026-03-17.csv"]  # 7 Dec 2025 is left alone
    assert (again.totals.units_skipped, again.totals.rows_read, again.totals.rows_loaded) == (0, 17, 0)
    assert query(settings, "SELECT count(*) FROM quarantine").item() == 7  # nothing counted twice


def test_malformed_records_keep_their_place_and_none_is_lost(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    _write_giessen(
        drop / "nutzung_2026-01-05.csv",
        [
            "GI-1;05.01.2026 10:00:00;99115005104000",
            "GI-2;05.01.2026 10:00:00;99115005104000;Online;begonnen;C2;;;;;",
            "GI-3;05.01.2026 10:00:00;99115005104000;Fax;begonnen;C3;;;;;",
        ],
    )
    _write_giessen(drop / "nutzung_2026-01-06.csv", ["GI-4;06.01.2026 10:00:00;99115005104000"])

    result = ingest(settings, "giessen", drop)

    assert (result.totals.rows_read, result.totals.rows_loaded, result.totals.rows_quarantined) == (4, 1, 3)
    rejected = query(settings, "SELECT source, row_number, reason FROM quarantine ORDER BY source, row_number")
    assert rejected.rows() == [
        ("nutzung_2026-01-05.csv", 1, "bad_value"),
        ("nutzung_2026-01-05.csv", 3, "bad_value"),
        ("nutzung_2026-01-06.csv", 1, "bad_value"),
    ]


def test_each_unreadable_file_is_its_own_quarantine_row(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    (drop / "nutzung_2026-01-05.csv").write_bytes(b"")
    (drop / "nutzung_2026-01-06.csv").write_bytes(bytes(range(256)) * 4)

    result = ingest(settings, "giessen", drop)

    assert result.totals.quarantined == {"unreadable_file": 2}
    sources = query(settings, "SELECT source FROM quarantine ORDER BY source")["source"].to_list()
    assert sources == ["nutzung_2026-01-05.csv", "nutzung_2026-01-06.csv"]
