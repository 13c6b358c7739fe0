"""What a run leaves for the people watching it: its record's times and its log lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.simulate.server import Fault, FeedServer
from tests.conftest import SAMPLES
from tests.scheduler.conftest import TOKEN, egovsad, make_home, run_records
from tests.scheduler.test_schedule import _feeds


@pytest.mark.timeout(60)
def test_a_run_record_ends_when_the_run_ended(tmp_path: Path) -> None:
    with FeedServer(_feeds(tmp_path / "feeds", 30), token=TOKEN) as feeds:
        feeds.inject(Fault.slow(1.5))
        home = make_home(tmp_path / "home", {"marburg": {"location": feeds.marburg_url, "page_size": 1000}})
        done = egovsad(home, "ingest", "--city", "marburg")
    assert done.returncode == 0, done.stderr

    [run] = run_records(home, "marburg")
    assert run["status"] == "succeeded"
    assert (run["ended_at"] - run["started_at"]).total_seconds() >= 1.5


@pytest.mark.timeout(60)
def test_one_log_line_per_run_start_and_end_on_stderr_and_in_the_log_file(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", {})
    done = egovsad(home, "ingest", "--city", "giessen", "--source", str(SAMPLES / "giessen"))
    assert done.returncode == 0, done.stderr

    logged = (home / "logs" / "egovsad.log").read_text(encoding="utf-8")
    for text in (logged, done.stderr):
        assert len(re.findall(r"run \d+ of giessen started", text)) == 1, text
        assert len(re.findall(r"run \d+ of giessen succeeded: read 21, loaded 12", text)) == 1, text
