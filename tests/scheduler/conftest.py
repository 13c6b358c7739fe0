"""Real processes for the scheduler tests: a home folder with a settings file, the
``egovsad`` command run as a subprocess, and bounded waiting (nothing here waits forever)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pytest

from egovsad.config import CITIES
from warehouse.db import frame
from warehouse.errors import WarehouseMissing
from warehouse.snapshots import open_current

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token"
EVERY_SECOND = "*/1 * * * * *"
NEVER = "0 0 1 1 *"  # midnight on New Year's Day: never during a test
T = TypeVar("T")


def _toml(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def make_home(path: Path, cities: dict[str, dict[str, Any]], **tables: dict[str, Any]) -> Path:
    """A home folder whose egovsad.toml gives every city ``NEVER`` as its schedule unless
    ``cities`` says otherwise, plus the given settings."""
    path.mkdir(parents=True)
    lines: list[str] = []
    for table, values in tables.items():
        lines += [f"[{table}]", *(f"{key} = {_toml(value)}" for key, value in values.items()), ""]
    for city in CITIES:
        values = {"schedule": NEVER, **cities.get(city, {})}
        lines += [f"[cities.{city}]", *(f"{key} = {_toml(value)}" for key, value in values.items()), ""]
    (path / "egovsad.toml").write_text("\n".join(lines), encoding="utf-8")
    return path


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "EGOVSAD_HOME": str(home), "EGOVSAD_MARBURG_TOKEN": TOKEN}


def egovsad(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m egovsad ARGS`` to its end (at most ``timeout`` seconds)."""
    return subprocess.run(
        [sys.executable, "-m", "egovsad", *args],
        env=environment(home),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def egovsad_json(home: Path, *args: str) -> list[dict[str, Any]]:
    """A listing command's ``--format json`` output (exit status 0 required)."""
    done = egovsad(home, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def run_records(home: Path, city: str) -> list[dict[str, Any]]:
    """``egovsad runs --city CITY --format json``, oldest first, with times parsed."""
    rows = egovsad_json(home, "runs", "--city", city, "--limit", "1000")
    for row in rows:
        for key in ("started_at", "ended_at"):
            row[key] = None if row[key] is None else datetime.fromisoformat(row[key])
    return sorted(rows, key=lambda row: row["run_id"])


@dataclass
class Running:
    """A process started in the background, its output going to files."""

    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``signum`` and wait for the exit status."""
        self.process.send_signal(signum)
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"process did not end within {timeout} s; stderr:\n{self.stderr[-3000:]}")


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """Start ``python -m egovsad ARGS`` (or, with ``module=``, another module) in the
    background; whatever is still running at the end of the test is killed."""
    started: list[Running] = []

    def start(home: Path, *args: str, module: str = "egovsad") -> Running:
        command = args[0] if args and args[0].isalpha() else ""
        name = f"{len(started):02d}-{module.rpartition('.')[2]}-{command}"
        out, err = tmp_path / f"{name}.stdout", tmp_path / f"{name}.stderr"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", module, *args], env=environment(home), cwd=ROOT, stdout=stdout, stderr=stderr
            )
        running = Running(process, out, err)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=10)


def wait_until(condition: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.1) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def published(home: Path, query: str) -> pl.DataFrame | None:
    """Ask the snapshot in service, as every reader does; None before the first publish."""
    try:
        _path, con = open_current(home / "snapshots", memory_limit="256MB", threads=1)
    except WarehouseMissing:
        return None
    with con:
        return frame(con, query)


def published_item(home: Path, query: str) -> Any:
    """The one value a query over the snapshot in service returns."""
    result = published(home, query)
    assert result is not None, "nothing published yet"
    return result.item()


def published_runs(home: Path, city: str, *, finished: bool = True) -> pl.DataFrame:
    """The published run records of ``city``, oldest first (only finished ones by default)."""
    condition = "AND status <> 'running'" if finished else ""
    runs = published(home, f"SELECT * FROM pipeline_runs WHERE city = '{city}' {condition} ORDER BY run_id")
    return pl.DataFrame() if runs is None else runs


def closed_port_url(path: str) -> str:
    """A URL on 127.0.0.1 where nothing listens: every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
