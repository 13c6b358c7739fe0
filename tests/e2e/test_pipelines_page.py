"""The Pipelines page, as an administrator uses it: status of the six cities, runs, quarantine, run now."""

from __future__ import annotations

import json
from collections.abc import Callable

from playwright.sync_api import expect

from egovsad import config as configuration
from tests.e2e.conftest import Session


def _run_id(text: str) -> int:
    return int(text.replace(".", ""))


def test_an_admin_sees_every_city_and_a_run_started_now_lands_in_the_list(
    login: Callable[[str], Session], home: configuration.Config
) -> None:
    session = login("admin")
    page = session.open("/pipelines")

    expect(page.locator("h1")).to_have_text("Pipelines")
    status = page.locator("#pipelines-status-table tbody tr")
    expect(status).to_have_count(6)
    for city in ("Gießen", "Fulda", "Limburg a. d. Lahn", "Marburg", "Offenbach am Main", "Wetzlar"):
        expect(status.filter(has_text=city).locator(".badge")).to_have_count(1)
    expect(page.locator("#pipelines-quarantine .js-plotly-plot .main-svg").first).to_be_visible()
    runs = page.locator("#pipelines-runs-table tbody tr")
    expect(runs.first).to_be_visible()
    newest = _run_id(runs.first.locator("th").inner_text())
    session.screenshot("pipelines-admin")

    page.locator("#pipelines-run-city").click()
    page.get_by_role("option", name="Gießen").click()
    page.get_by_role("button", name="Jetzt ausführen").click()

    message = page.locator("#pipelines-run-message")
    expect(message).to_contain_text("Gießen: Lauf gestartet")
    expect(page.get_by_role("button", name="Jetzt ausführen")).to_be_disabled()
    expect(message).to_contain_text("Gießen: Lauf beendet.", timeout=60_000)
    expect(page.get_by_role("button", name="Jetzt ausführen")).to_be_enabled()
    expect(runs.first.locator("th")).not_to_have_text(str(newest), timeout=15_000)
    assert _run_id(runs.first.locator("th").inner_text()) > newest
    expect(runs.first).to_contain_text("Gießen")
    expect(runs.first.locator(".badge")).to_have_text("erfolgreich")
    audit = [json.loads(line) for line in (home.log_dir / "audit.log").read_text(encoding="utf-8").splitlines()]
    assert [(e["user"], e["city"], e["outcome"]) for e in audit if e["event"] == "run_now"] == [
        ("admin", "giessen", "started")
    ]
    assert session.errors == []


def test_an_analyst_gets_no_access_to_the_pipelines(login: Callable[[str], Session]) -> None:
    session = login("analyst")
    page = session.open("/pipelines")

    expect(page.locator("h1")).to_have_text("Kein Zugriff")
    expect(page.locator("#pipelines-run-button")).to_have_count(0)
    expect(page.get_by_role("navigation").get_by_role("link", name="Pipelines")).to_have_count(0)
    assert session.errors == []
