"""Logging in and looking at the overview, as a mayor would, in a real browser."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, PASSWORD


def _login(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/")
    expect(page).to_have_url(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_a_mayor_logs_in_sees_the_overview_in_german_and_logs_out(dashboard: str, browser: Browser) -> None:
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    _login(page, dashboard, "mayor")

    table = page.locator("#overview-cities-table")
    expect(table).to_be_visible(timeout=15_000)
    expect(table.locator("tr.home-city th")).to_have_text("Gießen")
    rows = {
        row.locator("th").inner_text(): row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()
    }
    assert rows["Gießen"] == ["4", "25,0 %"]  # 4 transactions in the period, 1 of them online
    assert rows["Wetzlar"] == ["2", "0,0 %"]  # no digital transaction: 0 %, not "not reported"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-mayor.png"), full_page=True)
    assert errors == []

    page.click("text=Abmelden")
    expect(page).to_have_url(f"{dashboard}/login")
    page.goto(f"{dashboard}/")
    expect(page).to_have_url(f"{dashboard}/login")
    context.close()


def test_a_wrong_password_is_said_in_german(dashboard: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"{dashboard}/login")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "falsch-falsch-falsch")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Benutzername oder Passwort falsch.")
    page.close()
