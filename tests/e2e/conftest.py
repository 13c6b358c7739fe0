"""A real dashboard (gunicorn on 127.0.0.1) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bench.dashboard_browser import CHROMIUM, FLAGS  # the one place Chromium's flags are kept
from dashboard.app import user_store
from egovsad import config as configuration
from egovsad.ingest import ingest_cities
from pipelines.simulate import FeedServer, simulate

PASSWORD = "correct-horse-battery"
TOKEN = "e2e-token"
FOLDER_CITIES = ("giessen", "fulda", "offenbach", "wetzlar")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: the simulated period: January to 10 April 2026; tests open pages with explicit periods
END = date(2026, 4, 10)
PERIOD = "from=2026-01&to=2026-03"
USERS = (("mayor", "giessen"), ("officer", "wetzlar"), ("analyst", "fulda"), ("admin", None))


@pytest.fixture(scope="session")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedServer]:
    """Simulated deliveries of all six cities (small), the HTTP ones served on 127.0.0.1."""
    out = tmp_path_factory.mktemp("deliveries")
    simulate(out, months=4, seed=5, scale=0.03, end=END, fault_rate=0.005)
    with FeedServer(out, token=TOKEN) as server:
        yield server


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory, feeds: FeedServer) -> configuration.Config:
    """A home with all six cities loaded and one user per role (password PASSWORD)."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    home.mkdir()
    blocks = [f'[cities.{city}]\nlocation = "{feeds.root / city}"' for city in FOLDER_CITIES]
    blocks.append(f'[cities.marburg]\nlocation = "{feeds.marburg_url}"\npage_size = 5000')
    blocks.append(f'[cities.limburg]\nlocation = "{feeds.limburg_url}"')
    (home / "egovsad.toml").write_text("\n".join(blocks) + "\n", encoding="utf-8")
    settings = configuration.load(home, environ={"EGOVSAD_MARBURG_TOKEN": TOKEN})
    results = ingest_cities(settings, list(configuration.CITIES))
    assert all(result.ok for result in results), [result.error for result in results]
    store = user_store(settings)
    for role, city in USERS:
        store.add(role, role, city, PASSWORD)
    return settings


@contextmanager
def serving(home: Path, environ: dict[str, str], *, workers: int) -> Iterator[str]:
    """``egovsad serve`` (gunicorn) over ``home`` on a free port; yields its base URL once it answers."""
    port = _free_port()
    env = {**os.environ, "EGOVSAD_HOME": str(home), **environ}
    server = subprocess.Popen(
        [sys.executable, "-m", "egovsad", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=(home / "gunicorn.err").open("w"),
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
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="session")
def dashboard(home: configuration.Config) -> Iterator[str]:
    """The base URL of the dashboard (gunicorn, two workers) over the simulated home."""
    with serving(home.home, {"EGOVSAD_MARBURG_TOKEN": TOKEN}, workers=2) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"Chromium missing at {CHROMIUM}: 'make test' installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


class Session:
    """A logged-in browser tab that records console errors (every test asserts there are none)."""

    def __init__(self, browser: Browser, url: str, username: str, *, locale: str = "de-DE") -> None:
        self.url = url
        self.context = browser.new_context(
            locale=locale, accept_downloads=True, viewport={"width": 1400, "height": 1000}
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(f"{url}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{url}/**")

    def open(self, path: str) -> Page:
        """Open a page and wait until every chart on it is drawn."""
        self.page.goto(f"{self.url}{path}")
        self.page.wait_for_load_state("networkidle")
        for graph in self.page.locator(".card .js-plotly-plot").all():
            graph.locator(".main-svg").first.wait_for()
        return self.page

    def table(self, chart: str) -> list[list[str]]:
        """The table view of chart ``chart`` (its card id), opened as a user would; heading row first."""
        card = self.page.locator(f"#{chart}")
        toggle = card.locator(f"#{chart}-table-toggle")
        if toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
        table = card.locator(".table-view table")
        table.wait_for()
        return table.evaluate(  # type: ignore[no-any-return]
            "table => [...table.tHead.rows, ...table.tBodies[0].rows].map(row => [...row.cells].map(c => c.innerText))"
        )

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def login(browser: Browser, dashboard: str) -> Iterator[Callable[[str], Session]]:
    """``login(username)``: a fresh logged-in tab; closed after the test."""
    sessions: list[Session] = []

    def open_session(username: str, locale: str = "de-DE") -> Session:
        session = Session(browser, dashboard, username, locale=locale)
        sessions.append(session)
        return session

    yield open_session
    for session in sessions:
        session.close()
