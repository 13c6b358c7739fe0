"""A run is committed whole or not at all, even when its process is killed mid-load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from egovsad import config as configuration
from pipelines.simulate.server import Fault, FeedServer
from tests.conftest import SAMPLES, ingest, query
from tests.pipelines.test_http_feeds import TOKEN, marburg_events


def _home(path: Path, feeds: FeedServer) -> configuration.Config:
    path.mkdir(parents=True)
    (path / "egovsad.toml").write_text(
        f'[cities.marburg]\nlocation = "{feeds.marburg_url}"\npage_size = 100\ntimeout_seconds = 60.0\n',
        encoding="utf-8",
    )
    return configuration.load(path, environ={"EGOVSAD_MARBURG_TOKEN": TOKEN})


def _events(settings: configuration.Config) -> list[tuple[object, ...]]:
    return query(settings, "SELECT * FROM events ORDER BY city, event_id").rows()


def test_kill_during_a_load_keeps_the_previous_snapshot_and_the_next_run_loads_once(tmp_path: Path) -> None:
    root = tmp_path / "feeds"
    (root / "marburg").mkdir(parents=True)
    marburg_events(500, start=datetime(2026, 1, 1, tzinfo=UTC)).write_parquet(root / "marburg" / "events.parquet")
    with FeedServer(root, token=TOKEN) as feeds:
        settings = _home(tmp_path / "home", feeds)
        ingest(settings, "giessen", SAMPLES / "giessen")
        before = _events(settings)

        feeds.inject(Fault.slow(0), Fault.slow(0), Fault.slow(30))  # the third page hangs
        env = {**os.environ, "EGOVSAD_HOME": str(settings.home), "EGOVSAD_MARBURG_TOKEN": TOKEN}
        writer = subprocess.Popen([sys.executable, "-m", "egovsad", "ingest", "--city", "marburg"], env=env)
        deadline = time.monotonic() + 60
        while len([r for r in feeds.requests if r.path.startswith("/marburg")]) < 2:
            assert time.monotonic() < deadline and writer.poll() is None
            time.sleep(0.05)
        time.sleep(0.5)  # two pages staged inside the run's transaction, the third on its way
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)

        # the previous snapshot keeps serving, with nothing of the killed run in it
        assert _events(settings) == before
        assert query(settings, "SELECT count(*) FROM pipeline_runs WHERE city = 'marburg'").item() == 0

        again = ingest(settings, "marburg")

        clean = _home(tmp_path / "clean", feeds)
        ingest(clean, "giessen", SAMPLES / "giessen")
        ingest(clean, "marburg")

    assert again.ok and again.totals.rows_loaded == 500
    assert _events(settings) == _events(clean)
    daily = "SELECT * FROM daily ORDER BY ALL"
    assert query(settings, daily).rows() == query(clean, daily).rows()
    statuses = query(settings, "SELECT status FROM pipeline_runs WHERE city = 'marburg' ORDER BY run_id")
    assert statuses["status"].to_list() == ["aborted", "succeeded"]
    assert len(_events(settings)) == len(before) + 500
