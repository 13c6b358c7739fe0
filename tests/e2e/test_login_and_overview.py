"""Logging in and looking at the Übersicht, as a mayor would, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import ARTIFACTS, PERIOD, Session


def test_a_mayor_sees_her_city_ranked_with_tiles_charts_and_freshness(login: Callable[[str], Session]) -> None:
    session = login("mayor")
    page = session.open(f"/?{PERIOD}")

    expect(page.locator("h1")).to_have_text("Übersicht")
    expect(page.locator("#tile-transactions .tile-rank")).to_have_text(re.compile(r"^[1-6] / 6$"), timeout=15_000)
    expect(page.locator("#tile-digital_takeup .tile-value")).to_have_text(re.compile(r"^\d+,\d %$"))
    # the simulated data starts in January: no growth against a quarter nobody delivered
    expect(page.locator("#tile-transactions .tile-change")).to_have_text("nicht vollständig geliefert")
    expect(page.locator(".card .js-plotly-plot")).to_have_count(3)
    expect(page.locator("#overview-freshness tbody tr")).to_have_count(6)
    # a mayor gets no chart downloads, and no SQL or pipelines in the navigation
    expect(page.locator("button.download")).to_have_count(0)
    expect(page.get_by_role("navigation").get_by_role("link")).to_have_text(["Übersicht", "Vergleich"])
    session.screenshot("overview-mayor")
    assert session.errors == []

    page.get_by_role("link", name="Abmelden").click()
    expect(page).to_have_url(f"{session.url}/login")
    page.goto(f"{session.url}/")
    expect(page).to_have_url(f"{session.url}/login")


def test_a_wrong_password_is_said_in_german(dashboard: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"{dashboard}/login")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "falsch-falsch-falsch")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Benutzername oder Passwort falsch.")
    page.close()


def test_the_overview_speaks_english_on_request_and_keeps_the_view(login: Callable[[str], Session]) -> None:
    session = login("officer")
    page = session.open(f"/?city=offenbach&{PERIOD}")
    expect(page.locator("#tile-transactions .tile-value")).to_have_text(re.compile(r"^\d{1,3}(\.\d{3})*$"))

    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page).to_have_url(f"{session.url}/?city=offenbach&{PERIOD}")
    expect(page.get_by_role("navigation").get_by_role("link")).to_have_text(
        ["Overview", "Compare", "Services", "Channels"]
    )
    expect(page.locator("#tile-transactions .tile-value")).to_have_text(re.compile(r"^\d{1,3}(,\d{3})*$"))
    expect(page.locator("#tile-digital_takeup h2")).to_have_text("digital take-up")
    page.get_by_role("link", name="Deutsch").click()
    expect(page.locator("h1")).to_have_text("Übersicht")
    assert session.errors == []


def test_the_overview_prints_on_one_a4_landscape_page(login: Callable[[str], Session]) -> None:
    session = login("mayor")
    page = session.open(f"/?{PERIOD}")
    expect(page.locator("#tile-cost_per_transaction .tile-rank")).not_to_be_empty()
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    (ARTIFACTS / "overview-print.pdf").write_bytes(pdf)
