"""The hourly submissions rollup behind the weekday x hour heatmap: local hours, kept right by every run.

Gießen delivers local times (a corrected file replaces its rows), Offenbach UTC
instants in Parquet (the clock-change days), Wetzlar daily counts (no hours).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from egovsad import config as configuration
from egovsad.config import Config
from tests.conftest import ingest, query, write_wetzlar
from warehouse.db import connect_writer, migration_files
from warehouse.kpis import Selection
from warehouse.snapshots import open_current
from warehouse.sql_files import statements
from warehouse.views import weekday_hour

A, B = "99115005104000", "99108001001000"
GIESSEN_HEADER = "Vorgang;Zeitpunkt;Leistungsschluessel;Kanal;Status;Fall;Dauer_Min;eID;Bezahlung;Endgeraet;Bewertung"


def _write_giessen(path: Path, rows: list[str]) -> None:
    path.write_bytes(("\ufeff" + "\r\n".join([GIESSEN_HEADER, *rows]) + "\r\n").encode("utf-8"))


def _hours(settings: Config, city: str) -> list[tuple[object, ...]]:
    """(day, weekday, hour, service, channel, submitted) of a city, in order."""
    return query(
        settings,
        "SELECT day, weekday, hour, service_key, channel, submitted FROM hourly_submissions"
        " WHERE city = ? ORDER BY ALL",
        [city],
    ).rows()


def _row(event_id: str, local: str, stage: str = "eingereicht", channel: str = "Online", service: str = A) -> str:
    return f"{event_id};{local};{service};{channel};{stage};;;;;;"


def test_submissions_are_counted_per_local_weekday_and_hour(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    _write_giessen(
        drop / "nutzung_2026-01-05.csv",  # a Monday
        [
            _row("GI-1", "05.01.2026 09:05:00"),
            _row("GI-2", "05.01.2026 09:55:00"),
            _row("GI-3", "05.01.2026 09:30:00", channel="App"),
            _row("GI-4", "05.01.2026 23:59:59", service=B),
            _row("GI-5", "05.01.2026 09:10:00", stage="begonnen"),  # not a submission
        ],
    )
    _write_giessen(drop / "nutzung_2026-01-11.csv", [_row("GI-6", "11.01.2026 00:00:00")])  # a Sunday

    assert ingest(settings, "giessen", drop).ok

    monday, sunday = date(2026, 1, 5), date(2026, 1, 11)
    assert _hours(settings, "giessen") == [
        (monday, 1, 9, A, "app", 1),
        (monday, 1, 9, A, "online", 2),
        (monday, 1, 23, B, "online", 1),
        (sunday, 7, 0, A, "online", 1),
    ]
    # the rollup agrees with the daily counts every KPI reads
    daily = query(settings, "SELECT sum(submitted) FROM daily WHERE city = 'giessen'").item()
    assert query(settings, "SELECT sum(submitted) FROM hourly_submissions").item() == daily == 5


def test_a_corrected_file_moves_its_submissions_and_loading_it_again_changes_nothing(
    settings: Config, tmp_path: Path
) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    day = drop / "nutzung_2026-01-05.csv"
    _write_giessen(
        day,
        [
            _row("GI-1", "05.01.2026 09:05:00"),
            _row("GI-2", "05.01.2026 10:05:00"),
            _row("GI-3", "07.01.2026 11:05:00"),
        ],
    )
    ingest(settings, "giessen", drop)
    _write_giessen(
        day,
        [
            _row("GI-1", "05.01.2026 09:05:00"),  # unchanged
            _row("GI-2", "05.01.2026 14:45:00"),  # later in the day
            _row("GI-3", "08.01.2026 08:00:00"),  # to another day: its old day must lose it
            _row("GI-4", "05.01.2026 09:15:00", stage="abgebrochen"),
        ],
    )

    assert ingest(settings, "giessen", drop).ok
    expected = [
        (date(2026, 1, 5), 1, 9, A, "online", 1),
        (date(2026, 1, 5), 1, 14, A, "online", 1),
        (date(2026, 1, 8), 4, 8, A, "online", 1),
    ]
    assert _hours(settings, "giessen") == expected

    day.touch()  # the same content again
    assert ingest(settings, "giessen", drop).ok
    assert _hours(settings, "giessen") == expected


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _offenbach(folder: Path, instants: list[str]) -> None:
    """Offenbach's Parquet: one submission per UTC instant, all in one month's folder."""
    count = len(instants)
    events = pl.DataFrame(
        {
            "event_id": [f"OF-{number}" for number in range(count)],
            "occurred_at": [_utc(text) for text in instants],
            "service_key": [A] * count,
            "channel": ["online"] * count,
            "stage": ["submitted"] * count,
            "case_id": pl.Series([None] * count, dtype=pl.String),
            "user_seconds": pl.Series([None] * count, dtype=pl.Int32),
            "eid": pl.Series([None] * count, dtype=pl.Boolean),
            "epayment": pl.Series([None] * count, dtype=pl.Boolean),
            "device": pl.Series([None] * count, dtype=pl.String),
            "rating": pl.Series([None] * count, dtype=pl.Int8),
        }
    )
    for month in sorted({text[:7] for text in instants}):
        (folder / f"month={month}").mkdir(parents=True)
        events.filter(pl.col("occurred_at").dt.strftime("%Y-%m") == month).write_parquet(
            folder / f"month={month}" / "part-0.parquet"
        )


def test_the_clock_change_days_count_local_hours(settings: Config, tmp_path: Path) -> None:
    _offenbach(
        tmp_path / "offenbach",
        [
            "2025-03-30 00:30",  # 01:30 CET
            "2025-03-30 01:30",  # 03:30 CEST: 02:00-03:00 does not exist that night
            "2025-03-29 23:15",  # 00:15 CET on the 30th, a Sunday
            "2025-10-25 23:30",  # 01:30 CEST on the 26th
            "2025-10-26 00:30",  # 02:30 CEST
            "2025-10-26 01:30",  # 02:30 CET: the hour from 2 to 3 happens twice
            "2025-10-26 22:59",  # 23:59 CET, still the 26th
            "2025-10-26 23:00",  # 00:00 CET on Monday the 27th
        ],
    )

    assert ingest(settings, "offenbach", tmp_path / "offenbach").ok

    spring, autumn, monday = date(2025, 3, 30), date(2025, 10, 26), date(2025, 10, 27)
    assert _hours(settings, "offenbach") == [
        (spring, 7, 0, A, "online", 1),
        (spring, 7, 1, A, "online", 1),
        (spring, 7, 3, A, "online", 1),
        (autumn, 7, 1, A, "online", 1),
        (autumn, 7, 2, A, "online", 2),
        (autumn, 7, 23, A, "online", 1),
        (monday, 1, 0, A, "online", 1),
    ]


def test_the_view_filters_like_the_kpis_and_a_daily_count_city_has_no_hours(settings: Config, tmp_path: Path) -> None:
    drop = tmp_path / "giessen"
    drop.mkdir()
    _write_giessen(
        drop / "nutzung_2026-01-05.csv",
        [
            _row("GI-1", "05.01.2026 09:05:00"),
            _row("GI-2", "05.01.2026 09:45:00", channel="Telefon"),
            _row("GI-3", "05.01.2026 10:05:00", service=B),
        ],
    )
    _write_giessen(drop / "nutzung_2026-02-02.csv", [_row("GI-4", "02.02.2026 09:05:00")])
    wetzlar = tmp_path / "wetzlar"
    wetzlar.mkdir()
    write_wetzlar(wetzlar / "Wetzlar_Statistik_2026-01.xlsx", [(date(2026, 1, 5), A, "Online", 9, 9, 0, 0, 0)])
    ingest(settings, "giessen", drop)
    ingest(settings, "wetzlar", wetzlar)

    _path, con = open_current(settings.snapshot_dir)
    with con:
        january = Selection(date(2026, 1, 1), date(2026, 1, 31))
        everything = weekday_hour(con, january)
        one = weekday_hour(con, Selection(january.start, january.end, services=(A,), channels=("online",)))
        wetzlar_only = weekday_hour(con, Selection(january.start, january.end, cities=("wetzlar",)))

    assert everything.rows() == [("giessen", 1, 9, 2), ("giessen", 1, 10, 1)]
    assert one.rows() == [("giessen", 1, 9, 1)]
    assert wetzlar_only.height == 0


def test_an_older_warehouse_gets_the_rollup_filled_from_its_events(home: Path) -> None:
    settings = configuration.load(home, environ={})
    settings.warehouse_path.parent.mkdir(parents=True)
    older = [path for path in migration_files() if path.stem < "0003"]
    with duckdb.connect(str(settings.warehouse_path)) as old:
        old.execute("CREATE TABLE schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ)")
        for path in older:
            for statement in statements(f"schema/{path.stem}"):
                old.execute(statement)
            old.execute("INSERT INTO schema_migrations VALUES (?, now())", [path.stem])
        old.execute(
            "INSERT INTO event_store VALUES ('offenbach', 'OF-1', TIMESTAMPTZ '2026-03-10 23:10:00+00',"
            " DATE '2026-03-11', ?, 'online', 'submitted', NULL, NULL, NULL, NULL, NULL, NULL, 1, 1)",
            [A],
        )

    with connect_writer(settings.warehouse) as con:
        rows = con.execute("SELECT city, day, weekday, hour, submitted FROM hourly_submissions").fetchall()

    assert rows == [("offenbach", date(2026, 3, 11), 3, 0, 1)]  # 00:10 CET on Wednesday 11 March
