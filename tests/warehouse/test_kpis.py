"""Every KPI on a small hand-built warehouse whose values are worked out by hand here.

Offenbach delivers events (Parquet), Wetzlar daily counts (xlsx); both go through
the real pipelines, so the rollups the KPIs read are the ones the runs maintain.

Offenbach's cases (UTC; local = UTC+1 before 29 March, UTC+2 after):
  1  A online   started 10.03 09:00, submitted 09:10 (600 s, eID yes, paid no, mobile, rating 5),
                completed 12.03 09:10 (2 days)
  2  A online   started 10.03 10:00, abandoned 10:30 (desktop)
  3  A in person started 11.03 08:00, submitted 08:20 (1200 s, rating 3), completed 15.03 08:20 (4 days)
  4  B app      started 31.03 21:30 (23:30 local, March), submitted 31.03 22:30 (00:30 local: April 1!)
                (300 s, eID no, paid yes, tablet, rating 4), completed 02.04 22:30 (3 April local, 2 days)
  5  B online   submitted 29.03 00:30 (01:30 local on the spring-forward day; 900 s, desktop)
Wetzlar's counts: 10.03 A in person started 3 submitted 3 completed 2; 10.03 A online started 2
submitted 1; 01.04 B online started 4 submitted 4.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from egovsad import config as configuration
from egovsad.ingest import ingest_cities
from tests.conftest import write_wetzlar
from warehouse.kpis import KPIS, KpiError, Selection, compute
from warehouse.snapshots import open_current

A, B = "99115005104000", "99108001001000"
MARCH = Selection(date(2026, 3, 1), date(2026, 3, 31))
COSTS = {city: dict(configuration.UNIT_COSTS) for city in configuration.CITIES}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


EVENTS = [
    # event_id, occurred_at (UTC), service, channel, stage, case, seconds, eid, epayment, device, rating
    ("OF-1", "2026-03-10 09:00", A, "online", "started", "C1", None, None, None, "mobile", None),
    ("OF-2", "2026-03-10 09:10", A, "online", "submitted", "C1", 600, True, False, "mobile", 5),
    ("OF-3", "2026-03-12 09:10", A, "online", "completed", "C1", None, None, None, None, None),
    ("OF-4", "2026-03-10 10:00", A, "online", "started", "C2", None, None, None, "desktop", None),
    ("OF-5", "2026-03-10 10:30", A, "online", "abandoned", "C2", None, None, None, "desktop", None),
    ("OF-6", "2026-03-11 08:00", A, "in_person", "started", "C3", None, None, None, None, None),
    ("OF-7", "2026-03-11 08:20", A, "in_person", "submitted", "C3", 1200, None, None, None, 3),
    ("OF-8", "2026-03-15 08:20", A, "in_person", "completed", "C3", None, None, None, None, None),
    ("OF-9", "2026-03-31 21:30", B, "app", "started", "C4", None, None, None, "tablet", None),
    ("OF-10", "2026-03-31 22:30", B, "app", "submitted", "C4", 300, False, True, "tablet", 4),
    ("OF-11", "2026-04-02 22:30", B, "app", "completed", "C4", None, None, None, None, None),
    ("OF-12", "2026-03-29 00:30", B, "online", "submitted", "C5", 900, None, None, "desktop", None),
]
COUNTS = [
    (date(2026, 3, 10), A, "Bürgerbüro", 3, 3, 2, 0, 0),
    (date(2026, 3, 10), A, "Online", 2, 1, 0, 0, 0),
    (date(2026, 4, 1), B, "Online", 4, 4, 0, 0, 0),
]


def _offenbach(folder: Path) -> None:
    columns = list(zip(*EVENTS, strict=True))
    frame = pl.DataFrame(
        {
            "event_id": columns[0],
            "occurred_at": [_utc(text) for text in columns[1]],
            "service_key": columns[2],
            "channel": columns[3],
            "stage": columns[4],
            "case_id": columns[5],
            "user_seconds": pl.Series(columns[6], dtype=pl.Int32),
            "eid": pl.Series(columns[7], dtype=pl.Boolean),
            "epayment": pl.Series(columns[8], dtype=pl.Boolean),
            "device": pl.Series(columns[9], dtype=pl.String),
            "rating": pl.Series(columns[10], dtype=pl.Int8),
        }
    )
    for month in ("2026-03", "2026-04"):
        (folder / f"month={month}").mkdir(parents=True)
    march = frame.filter(pl.col("occurred_at") < _utc("2026-04-01 00:00"))
    march.write_parquet(folder / "month=2026-03" / "part-0.parquet")
    frame.join(march, on="event_id", how="anti").write_parquet(folder / "month=2026-04" / "part-0.parquet")


def _wetzlar(folder: Path) -> None:
    folder.mkdir(parents=True)
    for month in ("2026-03", "2026-04"):
        rows = [row for row in COUNTS if row[0].strftime("%Y-%m") == month]
        write_wetzlar(folder / f"Wetzlar_Statistik_{month}.xlsx", rows)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("kpi")
    _offenbach(root / "offenbach")
    _wetzlar(root / "wetzlar")
    home = root / "home"
    home.mkdir()
    (home / "egovsad.toml").write_text(
        f'[cities.offenbach]\nlocation = "{root / "offenbach"}"\n[cities.wetzlar]\nlocation = "{root / "wetzlar"}"\n',
        encoding="utf-8",
    )
    settings = configuration.load(home, environ={})
    results = ingest_cities(settings, ["offenbach", "wetzlar"])
    assert all(result.ok and result.totals.rows_quarantined == 0 for result in results)
    _path, connection = open_current(settings.snapshot_dir)
    yield connection
    connection.close()


def value(
    con: duckdb.DuckDBPyConnection, kpi: str, selection: Selection = MARCH, by: tuple[str, ...] = ("city",)
) -> dict:
    """The KPI's rows as {group: (value, numerator, denominator)}; one dimension is the key itself."""
    result = compute(con, kpi, selection, by, unit_costs=COSTS)
    return {(row[0] if len(by) == 1 else row[: len(by)]): row[len(by) :] for row in result.rows()}


def test_counts_per_stage(con: duckdb.DuckDBPyConnection) -> None:
    assert value(con, "transactions") == {"offenbach": (3, None, None), "wetzlar": (4, None, None)}
    assert value(con, "started")["offenbach"][0] == 4  # case 4 started at 23:30 local on 31 March
    assert value(con, "completed")["offenbach"][0] == 2
    assert value(con, "abandoned")["offenbach"][0] == 1
    assert value(con, "rejected")["offenbach"][0] == 0  # the group has data: 0, not "not reported"


def test_a_step_after_midnight_local_belongs_to_the_next_month(con: duckdb.DuckDBPyConnection) -> None:
    spring = Selection(date(2026, 3, 1), date(2026, 4, 30), cities=("offenbach",))
    by_month = value(con, "transactions", spring, ("city", "month"))
    assert by_month == {("offenbach", "2026-03"): (3, None, None), ("offenbach", "2026-04"): (1, None, None)}


def test_the_spring_forward_day_keeps_its_events(con: duckdb.DuckDBPyConnection) -> None:
    dst_day = Selection(date(2026, 3, 29), date(2026, 3, 29))
    assert value(con, "transactions", dst_day, ("city", "day")) == {("offenbach", date(2026, 3, 29)): (1, None, None)}


def test_a_period_that_cuts_a_month_covers_only_its_days(con: duckdb.DuckDBPyConnection) -> None:
    cut = Selection(date(2026, 3, 11), date(2026, 4, 1), cities=("offenbach",))
    assert value(con, "transactions", cut, ("month",)) == {"2026-03": (2, None, None), "2026-04": (1, None, None)}


def test_rates_carry_numerator_and_denominator(con: duckdb.DuckDBPyConnection) -> None:
    assert value(con, "digital_takeup")["offenbach"] == pytest.approx((2 / 3, 2, 3))
    assert value(con, "digital_takeup")["wetzlar"] == pytest.approx((1 / 4, 1, 4))
    assert value(con, "completion_rate")["offenbach"] == pytest.approx((2 / 3, 2, 3))


def test_a_share_without_digital_transactions_is_zero_not_missing(con: duckdb.DuckDBPyConnection) -> None:
    in_person_day = Selection(date(2026, 3, 11), date(2026, 3, 11), cities=("offenbach",))
    assert value(con, "digital_takeup", in_person_day) == {"offenbach": (0.0, 0, 1)}


def test_digital_takeup_ignores_a_channel_filter(con: duckdb.DuckDBPyConnection) -> None:
    online_only = Selection(MARCH.start, MARCH.end, channels=("online",))
    assert value(con, "digital_takeup", online_only)["offenbach"] == pytest.approx((2 / 3, 2, 3))
    assert value(con, "transactions", online_only)["offenbach"][0] == 2


def test_transactions_per_1000_use_the_group_population(con: duckdb.DuckDBPyConnection) -> None:
    assert value(con, "transactions_per_1000")["offenbach"] == pytest.approx((3 / 135490 * 1000, 3, 135490))
    everyone = 94996 + 69968 + 36506 + 77845 + 135490 + 54629  # all six cities are selected
    assert value(con, "transactions_per_1000", by=())[()] == pytest.approx((7 / everyone * 1000, 7, everyone))
    two = Selection(MARCH.start, MARCH.end, cities=("offenbach", "wetzlar"))
    # by service: B had no transactions in Wetzlar in March, yet Wetzlar's people count
    assert value(con, "transactions_per_1000", two, ("service",))[B] == pytest.approx((1 / 190119 * 1000, 1, 190119))


def test_event_kpis(con: duckdb.DuckDBPyConnection) -> None:
    offenbach = {kpi: value(con, kpi)["offenbach"] for kpi in KPIS if KPIS[kpi].events_only}
    assert offenbach["satisfaction"] == pytest.approx((0.5, 1, 2))
    assert offenbach["mean_rating"] == pytest.approx((4.0, 8, 2))
    assert offenbach["eid_share"] == pytest.approx((1.0, 1, 1))  # case 5 reports no eID
    assert offenbach["epayment_share"] == pytest.approx((0.0, 0, 1))
    assert offenbach["mobile_share"] == pytest.approx((0.5, 1, 2))
    assert offenbach["median_user_minutes"][0] == pytest.approx(15.0)  # 600, 900, 1200 s
    assert offenbach["median_processing_days"][0] == pytest.approx(3.0)  # 2 and 4 days


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(con: duckdb.DuckDBPyConnection) -> None:
    march_a = Selection(MARCH.start, MARCH.end, services=(A,))
    assert value(con, "median_user_minutes", march_a)["offenbach"][0] == pytest.approx(15.0)  # 600 and 1200 s


def test_processing_time_belongs_to_the_day_of_completion(con: duckdb.DuckDBPyConnection) -> None:
    april = Selection(date(2026, 4, 1), date(2026, 4, 30), cities=("offenbach",))
    assert value(con, "median_processing_days", april)["offenbach"][0] == pytest.approx(2.0)
    april_2 = Selection(date(2026, 4, 2), date(2026, 4, 2), cities=("offenbach",))
    assert value(con, "median_processing_days", april_2) == {}  # completed 3 April local


def test_a_city_without_events_is_not_reported_for_every_events_only_kpi(con: duckdb.DuckDBPyConnection) -> None:
    for kpi in (kpi for kpi in KPIS if KPIS[kpi].events_only):
        assert value(con, kpi)["wetzlar"][0] is None, kpi


def test_null_is_not_zero(con: duckdb.DuckDBPyConnection) -> None:
    april_b = Selection(date(2026, 4, 1), date(2026, 4, 30), cities=("wetzlar",))
    assert value(con, "completion_rate", april_b)["wetzlar"] == pytest.approx((1.0, 4, 4))
    march_in_person = Selection(MARCH.start, MARCH.end, channels=("in_person",), cities=("offenbach",))
    assert value(con, "completion_rate", march_in_person)["offenbach"] == (None, 0, 0)


def test_cost_per_transaction_weights_unit_costs(con: duckdb.DuckDBPyConnection) -> None:
    expected = 2 * 0.25 + 1 * 14.0
    assert value(con, "cost_per_transaction")["offenbach"] == pytest.approx((expected / 3, expected, 3))


def test_services_online(con: duckdb.DuckDBPyConnection) -> None:
    assert value(con, "services_online") == {"offenbach": (2, None, None), "wetzlar": (1, None, None)}


def test_savings_potential(con: duckdb.DuckDBPyConnection) -> None:
    # service A: Offenbach is best (1/2); Wetzlar 1/4 with 4 transactions, offline in person 14.00,
    # digital online 0.25; B: Wetzlar has no March transactions
    expected = (0.5 - 0.25) * 4 * (14.0 - 0.25) * 365 / 31
    assert value(con, "savings_potential") == {
        "offenbach": (0.0, None, None),
        "wetzlar": pytest.approx((expected, None, None)),
    }


def test_groupings_are_checked(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(KpiError, match="cannot be grouped by channel"):
        compute(con, "digital_takeup", MARCH, ("channel",))
    with pytest.raises(KpiError, match="unknown KPI"):
        compute(con, "happiness", MARCH)
