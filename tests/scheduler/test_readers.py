"""Readers work on published snapshots: they keep answering during a long load, without a
single lock error, and pick up the new data after the publish without a restart."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.data import giessen_files
from egovsad import config as configuration
from tests.conftest import SAMPLES, ingest
from tests.scheduler.conftest import Running, egovsad, make_home, wait_until
from warehouse.snapshots import SnapshotReader

BIG = 1_500_000
FULDA_EVENTS = 10  # what the Fulda samples load


def _answers(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.endswith("}")]


@pytest.mark.timeout(90)
def test_a_reader_keeps_answering_during_a_long_load_and_then_sees_the_new_data(
    tmp_path: Path, spawn: Callable[..., Running]
) -> None:
    home = make_home(tmp_path / "home", {})
    first = egovsad(home, "ingest", "--city", "fulda", "--source", str(SAMPLES / "fulda"))
    assert first.returncode == 0, first.stderr
    giessen_files(tmp_path / "big", BIG)
    output, stop = tmp_path / "answers.jsonl", tmp_path / "stop-reader"
    reader = spawn(home, str(home / "snapshots"), str(output), str(stop), "80", module="tests.scheduler.reader")
    wait_until(lambda: len(_answers(output)) >= 3, timeout=20, what="the reader's first answers")

    load_started = time.time()
    load = spawn(home, "ingest", "--city", "giessen", "--source", str(tmp_path / "big"))
    assert load.wait(timeout=60) == 0, load.stderr[-3000:]
    load_ended = time.time()
    wait_until(
        lambda: sum(answer.get("count") == FULDA_EVENTS + BIG for answer in _answers(output)) >= 3,
        timeout=10,
        what="the reader to see the published load",
    )
    stop.touch()
    assert reader.wait(timeout=15) == 0, reader.stderr[-3000:]

    answers = _answers(output)
    assert [answer["error"] for answer in answers if "error" in answer] == []
    assert len({answer["pid"] for answer in answers}) == 1  # one reader process, never restarted
    counts = [answer["count"] for answer in answers]
    assert set(counts) == {FULDA_EVENTS, FULDA_EVENTS + BIG}  # never half a batch
    switch = counts.index(FULDA_EVENTS + BIG)
    assert set(counts[switch:]) == {FULDA_EVENTS + BIG}  # and never back to the old data
    assert answers[switch]["snapshot"] != answers[switch - 1]["snapshot"]
    during = [answer for answer in answers if load_started <= answer["t"] <= load_ended]
    assert load_ended - load_started > 3  # the load was long enough to mean something
    assert len(during) >= 20, len(during)  # kept answering all along ...
    assert sum(answer["count"] == FULDA_EVENTS for answer in during) >= 10  # ... from the previous snapshot
    times = [answer["t"] for answer in answers]
    assert max(later - earlier for earlier, later in zip(times, times[1:], strict=False)) < 2.0


def test_a_cursor_handed_out_keeps_working_when_the_reader_moves_to_a_newer_snapshot(
    settings: configuration.Config,
) -> None:
    """The dashboard's threads share one SnapshotReader: one thread's cursor must survive
    another thread moving the reader to a snapshot published meanwhile."""
    ingest(settings, "fulda", SAMPLES / "fulda")
    reader = SnapshotReader(settings.snapshot_dir)
    try:
        held = reader.connection()  # one thread's cursor
        ingest(settings, "giessen", SAMPLES / "giessen")  # a new snapshot is published
        fresh = reader.connection()  # another thread's call moves the reader on

        assert fresh.execute("SELECT count(*) FROM events").fetchone() == (22,)
        assert held.execute("SELECT count(*) FROM events").fetchone() == (10,)  # its snapshot, still answering
    finally:
        reader.close()
