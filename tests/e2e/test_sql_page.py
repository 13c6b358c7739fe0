"""The SQL page as an analyst uses it: run, see the grid, export the full result, save and reuse."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Session


def _write_query(page: Page, text: str) -> None:
    editor = page.locator(".sql-main .CodeMirror")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def test_an_analyst_runs_sql_with_ctrl_enter_and_exports_the_full_result(login: Callable[[str], Session]) -> None:
    session = login("analyst")
    page = session.open("/sql")
    expect(page.locator(".sql-main .CodeMirror")).to_be_visible()  # the editor with SQL highlighting
    expect(page.locator(".schema-browser summary")).to_contain_text(["events", "daily", "cities", "services"])

    _write_query(page, "SELECT city, count(*) AS events FROM events GROUP BY city ORDER BY city")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#sql-status")).to_contain_text("5 Zeilen")
    expect(page.locator("#sql-status")).to_contain_text("Datenstand")
    expect(page.locator("#sql-grid .ag-row")).to_have_count(5)

    # more rows than the grid shows: the total is said, the export holds all of them
    _write_query(page, "SELECT i, 'x' || i AS label, '=1+1' AS formula FROM range(2500) r(i)")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#sql-status")).to_contain_text("2.500 Zeilen · 1.000 angezeigt")
    page.get_by_role("button", name="Gesamtes Ergebnis exportieren").click()
    link = page.get_by_role("link", name="Datei herunterladen")
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    content = download.value.path().read_bytes()
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert len(rows) == 2501 and rows[0] == ["i", "label", "formula"]
    assert rows[1] == ["0", "x0", "'=1+1"]  # a formula is neutralised, numbers stay numbers

    manifest_href = page.get_by_role("link", name="Manifest").get_attribute("href")
    cookies = {cookie["name"]: cookie["value"] for cookie in session.context.cookies()}
    manifest = json.loads(httpx.get(f"{session.url}{manifest_href}", cookies=cookies).text)
    assert manifest["rows"] == 2500 and manifest["user"] == "analyst" and manifest["complete"] is True
    assert manifest["sha256"] == hashlib.sha256(content).hexdigest()
    session.screenshot("sql-analyst")
    assert session.errors == []


def test_refusals_are_said_plainly_and_saved_queries_outlive_the_session(login: Callable[[str], Session]) -> None:
    session = login("analyst")
    page = session.open("/sql")
    _write_query(page, "SELECT * FROM read_csv('/etc/passwd')")
    page.get_by_role("button", name="Ausführen (Strg+Enter)").click()
    expect(page.locator("#sql-error")).to_contain_text("Abfrage nicht ausgeführt")
    expect(page.locator("#sql-grid .ag-row")).to_have_count(0)

    _write_query(page, "SELECT name, population FROM cities ORDER BY population DESC")
    page.get_by_role("button", name="Ausführen (Strg+Enter)").click()
    expect(page.locator("#sql-grid .ag-row")).to_have_count(6)
    page.get_by_label("Name der Abfrage").fill("Einwohner")
    page.get_by_label("mit allen Analyst/innen teilen").check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#sql-save-message")).to_have_text("Gespeichert: Einwohner")
    page.get_by_role("link", name="Abmelden").click()

    again = login("analyst").open("/sql")
    again.click("#sql-saved")
    again.get_by_role("option", name="Einwohner").click()
    expect(again.locator(".sql-main .CodeMirror")).to_contain_text("population DESC")
    again.click("#sql-history")
    expect(again.get_by_role("option")).to_contain_text(["read_csv"])


def test_an_officer_and_a_mayor_cannot_open_the_sql_page(login: Callable[[str], Session]) -> None:
    for username in ("officer", "mayor"):
        page = login(username).open("/sql")
        expect(page.locator("h1")).to_have_text("Kein Zugriff")
        expect(page.locator(".sql-main")).to_have_count(0)
        cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
        assert httpx.get(page.url.replace("/sql", "/exports/x.csv"), cookies=cookies).status_code == 403
