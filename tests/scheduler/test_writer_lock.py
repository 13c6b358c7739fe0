"""One writer at a time: `egovsad ingest` waits for the writer lock (saying so), or with
``--no-wait`` gives up at once with a clear one-line message."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.scheduler.conftest import Running, egovsad, make_home, published, published_item, wait_until
from warehouse.lock import writer_lock


@pytest.mark.timeout(60)
def test_ingest_without_wait_fails_at_once_and_with_wait_waits_then_loads(
    tmp_path: Path, spawn: Callable[..., Running]
) -> None:
    home = make_home(tmp_path / "home", {"giessen": {"location": str(SAMPLES / "giessen")}})
    lock = home / "writer.lock"

    with writer_lock(lock, wait=False):  # another writer (as the scheduler would be)
        started = time.monotonic()
        refused = egovsad(home, "ingest", "--city", "giessen", "--no-wait", timeout=30)
        refused_after = time.monotonic() - started

        waiting = spawn(home, "ingest", "--city", "giessen")
        wait_until(lambda: "waiting" in waiting.stderr, timeout=20, what="the waiting message")
        time.sleep(1.0)
        assert waiting.running()  # still waiting: the lock is held
        assert published(home, "SELECT 1") is None  # and nothing was written meanwhile

    assert refused.returncode == 1
    assert refused_after < 15  # process start-up only: no waiting for the lock
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("egovsad: another writer") and str(lock) in line
    assert refused.stdout == ""

    assert waiting.wait(timeout=30) == 0, waiting.stderr[-3000:]
    [notice] = [line for line in waiting.stderr.splitlines() if "waiting" in line]
    assert notice == "egovsad: another writer is busy; waiting for it to finish ..."
    assert "giessen: read 21, loaded 12" in waiting.stdout
    assert published_item(home, "SELECT count(*) FROM events WHERE city = 'giessen'") == 12
