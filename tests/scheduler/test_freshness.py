"""Retries of a failing city, then fresh / stale / failed in `egovsad status`, and the cron
expressions the schedules and the default maximum ages are read from."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from egovsad.freshness import BERLIN, cron_trigger
from pipelines.simulate.server import FeedServer
from tests.conftest import SAMPLES
from tests.pipelines.test_http_feeds import marburg_events
from tests.scheduler.conftest import (
    TOKEN,
    Running,
    closed_port_url,
    egovsad,
    make_home,
    published_runs,
    run_records,
    wait_until,
)

FILE_CITIES = ("giessen", "fulda", "offenbach", "wetzlar")


@pytest.mark.timeout(90)
def test_a_city_whose_source_is_down_is_retried_then_failed_a_late_one_stale_the_others_fresh(
    tmp_path: Path, spawn: Callable[..., Running]
) -> None:
    feeds_root = tmp_path / "feeds"
    (feeds_root / "limburg").mkdir(parents=True)
    shutil.copy(SAMPLES / "limburg" / "export.ndjson.gz", feeds_root / "limburg" / "export.ndjson.gz")
    # once a minute, at the second five seconds from now: exactly one trigger during the test
    once = f"{(int(time.time()) + 5) % 60} * * * * *"
    with FeedServer(feeds_root, token=TOKEN) as feeds:
        cities: dict[str, dict[str, object]] = {city: {"location": str(SAMPLES / city)} for city in FILE_CITIES}
        cities["limburg"] = {"location": feeds.limburg_url}
        cities["marburg"] = {  # down: nothing listens there
            "location": closed_port_url("/marburg/events"),
            "max_retries": 0,
            "timeout_seconds": 2.0,
            "retries": 2,
            "retry_backoff_seconds": 0.2,
        }
        cities["giessen"]["max_age_hours"] = 0.0003  # about a second
        for values in cities.values():
            values["schedule"] = once
        home = make_home(tmp_path / "home", cities)

        scheduler = spawn(home, "schedule")
        wait_until(
            lambda: "marburg: failed after 3 attempts" in scheduler.stderr,
            timeout=30,
            what="Marburg's last attempt",
        )
        wait_until(
            lambda: all(published_runs(home, city).height for city in (*FILE_CITIES, "limburg")),
            timeout=20,
            what="a run of every other city",
        )
        assert scheduler.stop(timeout=20) == 0, scheduler.stderr[-3000:]

    # Marburg: the run and its two retries, each after the doubled back-off, all failed
    marburg = run_records(home, "marburg")
    assert [run["status"] for run in marburg] == ["failed"] * 3
    assert all(run["error"] for run in marburg)
    # (a failed run's end time is right: it is recorded after the rollback)
    pairs = zip(marburg, marburg[1:], strict=False)
    waits = [(later["started_at"] - earlier["ended_at"]).total_seconds() for earlier, later in pairs]
    assert waits[0] >= 0.2 and waits[1] >= 0.4, waits
    assert all(wait < 10 for wait in waits), waits

    # Gießen's run succeeded, but is older than its maximum age by the time anyone asks
    [giessen] = run_records(home, "giessen")
    assert giessen["status"] == "succeeded"
    late = giessen["started_at"] + timedelta(hours=0.0003, seconds=0.5)
    time.sleep(max(0.0, (late - datetime.now(UTC)).total_seconds()))

    status = egovsad(home, "status", "--format", "json")
    assert status.returncode == 1, status.stderr
    rows = {row["city"]: row for row in json.loads(status.stdout)}
    assert {city: row["state"] for city, row in rows.items()} == {
        "marburg": "failed",
        "giessen": "stale",
        "fulda": "fresh",
        "limburg": "fresh",
        "offenbach": "fresh",
        "wetzlar": "fresh",
    }
    assert rows["marburg"]["last_error"] and rows["marburg"]["last_success"] is None
    assert rows["giessen"]["rows"] == 12 and rows["giessen"]["last_status"] == "succeeded"
    for city in ("fulda", "limburg", "offenbach", "wetzlar"):
        assert rows[city]["rows"] > 0 and rows[city]["last_status"] == "succeeded"
        assert [run["status"] for run in run_records(home, city)] == ["succeeded"]


@pytest.mark.timeout(60)
def test_status_exits_0_when_every_city_is_fresh(tmp_path: Path) -> None:
    feeds_root = tmp_path / "feeds"
    (feeds_root / "limburg").mkdir(parents=True)
    shutil.copy(SAMPLES / "limburg" / "export.ndjson.gz", feeds_root / "limburg" / "export.ndjson.gz")
    (feeds_root / "marburg").mkdir()
    marburg_events(5, start=datetime(2026, 3, 1, tzinfo=UTC)).write_parquet(feeds_root / "marburg" / "events.parquet")
    with FeedServer(feeds_root, token=TOKEN) as feeds:
        cities: dict[str, dict[str, object]] = {city: {"location": str(SAMPLES / city)} for city in FILE_CITIES}
        cities["limburg"] = {"location": feeds.limburg_url}
        cities["marburg"] = {"location": feeds.marburg_url}
        home = make_home(tmp_path / "home", cities)
        done = egovsad(home, "ingest")
    assert done.returncode == 0, done.stderr

    status = egovsad(home, "status", "--format", "json")

    assert status.returncode == 0, status.stdout + status.stderr
    assert {row["state"] for row in json.loads(status.stdout)} == {"fresh"}


WEDNESDAY = datetime(2026, 4, 1, 12, 0, tzinfo=BERLIN)


def _weekdays(expression: str) -> set[str]:
    """The weekdays on which ``expression`` fires in the fortnight after a Wednesday."""
    trigger = cron_trigger(expression)
    days, fire = set(), trigger.get_next_fire_time(None, WEDNESDAY)
    while fire is not None and fire < WEDNESDAY + timedelta(days=14):
        days.add(fire.strftime("%a"))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return days


@pytest.mark.parametrize(
    ("expression", "days"),
    [
        ("0 2 * * 0", {"Sun"}),
        ("0 2 * * 7", {"Sun"}),
        ("0 2 * * 1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("0 2 * * 6,0", {"Sat", "Sun"}),
        ("0 2 * * */2", {"Sun", "Tue", "Thu", "Sat"}),
        ("0 2 * * mon-fri", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("0 2 * * sun", {"Sun"}),
        ("0 0 2 * * 1", {"Mon"}),  # six fields, seconds first
        ("0 2 * * *", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
    ],
)
def test_cron_weekdays_count_as_in_crontab(expression: str, days: set[str]) -> None:
    """crontab counts 0 (and 7) as Sunday; APScheduler 3 counts 0 as Monday."""
    assert _weekdays(expression) == days


@pytest.mark.parametrize("expression", ["61 * * * *", "0 2 * *", "0 2 * * 8", "0 2 * * fri-mon", "0 2 * * 1/x"])
def test_a_bad_cron_expression_is_refused_naming_it(expression: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"'{expression}'")):
        cron_trigger(expression)


@pytest.mark.timeout(60)
def test_a_bad_schedule_stops_schedule_and_status_with_a_one_line_message(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", {"giessen": {"location": str(SAMPLES / "giessen"), "schedule": "61 * * * *"}})
    assert egovsad(home, "ingest", "--city", "giessen").returncode == 0  # ingest needs no schedule

    for command in ("schedule", "status"):
        done = egovsad(home, command, timeout=20)
        assert done.returncode == 1
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("egovsad: ") and "cities.giessen.schedule" in line and "61 * * * *" in line


def test_the_autumn_clock_change_does_not_make_nightly_cities_stale(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from egovsad import config as configuration
    from egovsad.freshness import max_age

    settings = configuration.load(tmp_path / "home", environ={})

    # the day before the last Sunday of October 2026, when 02:00 comes twice within an hour:
    # the longest gap counts, not the hour between the two
    assert max_age(settings, "giessen", datetime(2026, 10, 24, 12, tzinfo=UTC)) == timedelta(hours=48)
    assert max_age(settings, "marburg", datetime(2026, 10, 24, 12, tzinfo=UTC)) == timedelta(hours=2)
