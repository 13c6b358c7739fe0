"""`egovsad schedule` as a real process: seconds-level cron, one run per city at a time,
and a clean stop on SIGTERM or SIGINT that never leaves half a batch behind."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.simulate.server import Fault, FeedServer
from tests.conftest import SAMPLES
from tests.pipelines.test_http_feeds import marburg_events
from tests.scheduler.conftest import (
    EVERY_SECOND,
    TOKEN,
    Running,
    egovsad,
    make_home,
    published,
    published_item,
    published_runs,
    run_records,
    wait_until,
)
from warehouse.db import connect_reader, frame

SKIPPED = "skipped: maximum number of running instances reached"


def _feeds(root: Path, events: int) -> Path:
    (root / "marburg").mkdir(parents=True)
    marburg_events(events, start=datetime(2026, 1, 1, tzinfo=UTC)).write_parquet(root / "marburg" / "events.parquet")
    return root


def _marburg_requests(feeds: FeedServer) -> int:
    return len([request for request in feeds.requests if request.path.startswith("/marburg")])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_seconds_cron_runs_the_city_every_second_and_a_signal_stops_it_cleanly(
    tmp_path: Path, spawn: Callable[..., Running], signum: signal.Signals
) -> None:
    home = make_home(tmp_path / "home", {"giessen": {"location": str(SAMPLES / "giessen"), "schedule": EVERY_SECOND}})
    launched = time.monotonic()
    scheduler = spawn(home, "schedule")

    wait_until(lambda: published_runs(home, "giessen").height >= 1, timeout=15, what="the first scheduled run")
    first_after = time.monotonic() - launched
    wait_until(lambda: published_runs(home, "giessen").height >= 3, timeout=15, what="three scheduled runs")
    status = scheduler.stop(signum, timeout=20)

    assert status == 0, scheduler.stderr[-3000:]
    assert f"received {signum.name}" in scheduler.stderr
    assert "scheduler stopped" in scheduler.stderr
    assert first_after < 8  # process start-up, then the next whole second
    runs = run_records(home, "giessen")
    assert len(runs) >= 3
    assert [run["status"] for run in runs] == ["succeeded"] * len(runs)
    assert runs[0]["rows_loaded"] == 12  # the first run loads the samples ...
    assert all(run["units_skipped"] == 3 for run in runs[1:])  # ... the later ones find nothing new
    starts = [run["started_at"] for run in runs]
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(starts, starts[1:], strict=False)]
    assert all(0.5 < gap < 2.5 for gap in gaps[:2]), gaps  # one run per tick of the seconds cron
    # the other cities' schedules did not fire, and the snapshot shows nothing unfinished
    everything = published(home, "SELECT city, status FROM pipeline_runs")
    assert everything is not None
    assert set(everything["city"]) == {"giessen"}
    assert "running" not in set(everything["status"])


@pytest.mark.timeout(60)
def test_a_run_longer_than_its_interval_is_never_started_twice(tmp_path: Path, spawn: Callable[..., Running]) -> None:
    with FeedServer(_feeds(tmp_path / "feeds", 30), token=TOKEN) as feeds:
        feeds.inject(*[Fault.slow(1.5)] * 100)  # every answer takes 1.5 s: each run outlasts its 1 s interval
        marburg = {
            "location": feeds.marburg_url,
            "schedule": EVERY_SECOND,
            "page_size": 1000,
            "timeout_seconds": 10.0,
            "max_retries": 0,
        }
        home = make_home(tmp_path / "home", {"marburg": marburg})
        scheduler = spawn(home, "schedule")
        wait_until(lambda: published_runs(home, "marburg").height >= 3, timeout=30, what="three runs of Marburg")
        assert scheduler.stop(timeout=20) == 0, scheduler.stderr[-3000:]
        requests = _marburg_requests(feeds)

    runs = run_records(home, "marburg")
    log = (home / "logs" / "egovsad.log").read_text(encoding="utf-8")
    assert len(runs) >= 3
    assert [run["status"] for run in runs] == ["succeeded"] * len(runs)
    # each run waited 1.5 s for its page, so it ended at least 1.5 s after it started; the
    # next one started only after that (the recorded end times cannot tell: they are the
    # time the run's transaction began, see test_run_records.py)
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert (later["started_at"] - earlier["started_at"]).total_seconds() >= 1.5, (earlier, later)
    # the ticks that came while a run was going were skipped, not queued behind it:
    # about every second trigger made no run
    skipped = log.count(SKIPPED)
    assert skipped >= len(runs) - 1, log[-3000:]
    assert "marburg: waiting for the writer lock" not in log  # no second instance ever queued for the lock
    assert requests == len(runs)  # one page per run, and no other run asked the feed


@pytest.mark.timeout(60)
def test_sigterm_during_a_load_finishes_the_run_and_publishes_it_whole(
    tmp_path: Path, spawn: Callable[..., Running]
) -> None:
    with FeedServer(_feeds(tmp_path / "feeds", 500), token=TOKEN) as feeds:
        marburg = {
            "location": feeds.marburg_url,
            "schedule": EVERY_SECOND,
            "page_size": 100,  # five pages
            "timeout_seconds": 30.0,
            "max_retries": 0,
        }
        giessen = {"location": str(SAMPLES / "giessen"), "schedule": EVERY_SECOND}
        home = make_home(tmp_path / "home", {"marburg": marburg, "giessen": giessen})
        before = egovsad(home, "ingest", "--city", "giessen")
        assert before.returncode == 0, before.stderr
        feeds.inject(Fault.slow(0), Fault.slow(0), Fault.slow(4.0))  # the third page takes 4 s
        scheduler = spawn(home, "schedule")
        wait_until(lambda: _marburg_requests(feeds) >= 2, timeout=20, what="two pages of Marburg's first run")
        # meanwhile Gießen's job comes due again and waits for the writer

        # the scheduler is the writer now: a second one is refused, readers get the previous snapshot
        refused = egovsad(home, "ingest", "--city", "giessen", "--no-wait")
        during = egovsad(home, "sql", "SELECT count(*) AS n FROM events", "--format", "json")
        assert scheduler.running(), scheduler.stderr[-3000:]
        assert _marburg_requests(feeds) == 2  # the third page is still on its way: mid-load
        status = scheduler.stop(signal.SIGTERM, timeout=30)
        requests = _marburg_requests(feeds)

    assert status == 0, scheduler.stderr[-3000:]
    assert "received SIGTERM" in scheduler.stderr and "scheduler stopped" in scheduler.stderr
    assert refused.returncode == 1 and "another writer" in refused.stderr
    assert during.returncode == 0 and '"n": 12' in during.stdout

    runs = published(home, "SELECT * FROM pipeline_runs WHERE city = 'marburg' ORDER BY run_id")
    events = published(home, "SELECT count(*) FROM events WHERE city = 'marburg'")
    assert runs is not None and events is not None
    assert "running" not in runs["status"].to_list()
    if runs.height:  # finished whole: every event of the run is there
        assert runs["status"].to_list() == ["succeeded"]
        assert runs["rows_loaded"].item() == 500 and events.item() == 500
        assert requests == 5  # it went on after the signal to its last page, and no new run started
        # nor did Gießen's run, which was waiting for the writer when the signal came
        assert published_item(home, "SELECT max(run_id) FROM pipeline_runs") == runs["run_id"].item()
    else:  # or rolled back whole
        assert events.item() == 0
    assert published_item(home, "SELECT count(*) FROM events WHERE city = 'giessen'") == 12

    # what was published is the writer's last committed state
    with connect_reader(home / "warehouse" / "egovsad.duckdb") as con:
        written = frame(con, "SELECT * FROM pipeline_runs ORDER BY run_id")
    assert "running" not in written["status"].to_list()
    in_service = published(home, "SELECT * FROM pipeline_runs ORDER BY run_id")
    assert in_service is not None and written.equals(in_service)
