"""A real dashboard (gunicorn on 127.0.0.1) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from dashboard.app import user_store
from egovsad import config as configuration
from tests.conftest import SAMPLES, ingest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "correct-horse-battery"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a dashboard over the Gießen and Wetzlar samples, with one user per role."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    settings = configuration.load(home, environ={})
    for city in ("giessen", "wetzlar"):
        ingest(settings, city, SAMPLES / city)
    store = user_store(settings)
    for role, city in (("mayor", "giessen"), ("officer", "wetzlar"), ("analyst", "fulda"), ("admin", None)):
        store.add(role, role, city, PASSWORD)
    port = _free_port()
    env = {**os.environ, "EGOVSAD_HOME": str(home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "egovsad", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/login", timeout=1)
            break
        except httpx.TransportError:
            assert server.poll() is None and time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"Chromium missing at {CHROMIUM}: 'make test' installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()
