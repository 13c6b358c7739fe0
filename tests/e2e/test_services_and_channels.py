"""Leistungen and Kanäle in the browser, as a digital officer (home city Wetzlar: daily counts only) uses them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PERIOD, Session

CITIES = ["Fulda", "Gießen", "Limburg a. d. Lahn", "Marburg", "Offenbach am Main", "Wetzlar"]
PARKING = "99108001001000"  # Bewohnerparkausweis beantragen, one of the busiest services
NOT_REPORTED = "nicht geliefert"
HIDDEN = "< 5 (Datenschutz)"


def _choose(page: Page, control: str, option: str) -> None:
    page.click(f"#{control}")
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def _settled(page: Page) -> None:
    """Wait until no callback is pending (Dash shows ._dash-loading-callback meanwhile)."""
    expect(page.locator("._dash-loading-callback")).to_have_count(0, timeout=15_000)


def _table(page: Page, chart: str) -> list[list[str]]:
    """The chart's table view, opened as a user would, heading row first."""
    toggle = page.locator(f"#{chart}-table-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    table = page.locator(f"#{chart}-table table")
    expect(table).to_be_visible()
    return table.evaluate(  # type: ignore[no-any-return]
        "table => [...table.tHead.rows, ...table.tBodies[0].rows].map(row => [...row.cells].map(c => c.innerText))"
    )


def _download(page: Page, chart: str) -> list[list[str]]:
    with page.expect_download() as download:
        page.locator(f"#{chart} button.download").click()
    return list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))


def _reads_as(value: str, shown: str) -> bool:
    """Whether a CSV value (machine format) is what the table shows (German format)."""
    if shown in (NOT_REPORTED, HIDDEN, ""):
        return value == ""
    if shown.endswith(" %"):  # shares: fractions in the CSV, per cent with one decimal on screen
        return round(float(value) * 100, 1) == float(shown.removesuffix(" %").replace(".", "").replace(",", "."))
    if shown.replace(".", "").isdigit():  # counts with German thousands marks
        return float(value) == float(shown.replace(".", ""))
    return value == shown


def _assert_download_is_table(page: Page, chart: str) -> None:
    shown = _table(page, chart)
    head, *rows = _download(page, chart)
    noted = head[-1] == "Hinweis"
    assert head[: len(head) - noted] == shown[0]
    assert len(rows) == len(shown) - 1
    for row, shown_row in zip(rows, shown[1:], strict=True):
        cells = row[: len(row) - noted]
        assert all(_reads_as(value, text) for value, text in zip(cells, shown_row, strict=True)), (row, shown_row)
        if HIDDEN in shown_row:  # the CSV says why a cell is empty
            assert row[-1] == HIDDEN
        elif NOT_REPORTED in shown_row:
            assert row[-1] == NOT_REPORTED


def test_an_officer_follows_one_service_downloads_it_and_shares_the_view_by_link(
    login: Callable[[str], Session],
) -> None:
    session = login("officer")
    page = session.open(f"/leistungen?service={PARKING}&{PERIOD}")

    expect(page.locator("h1")).to_have_text("Leistungen")
    expect(page.locator(".card .js-plotly-plot")).to_have_count(4)
    expect(page.locator("#services-filter-service")).to_contain_text("Bewohnerparkausweis beantragen")
    funnel = _table(page, "services-funnel")
    assert funnel[0] == ["Stadt", "begonnen", "eingereicht", "abgeschlossen"]
    assert [row[0] for row in funnel[1:]] == CITIES  # Wetzlar's counts are there: they need no events
    expect(page.locator("#services-funnel tr.home-city th")).to_have_text("Wetzlar")
    # Wetzlar delivers no cases: its processing time is said to be missing, not drawn as 0
    expect(page.locator("#services-processing .notes")).to_contain_text(
        "Wetzlar: liefert nur Tageszahlen, keine Fälle – Durchlaufzeit nicht geliefert"
    )
    legend = page.locator("#services-processing .legendtext").all_text_contents()
    assert legend == CITIES[:-1]
    assert _table(page, "services-processing")[-1] == ["Wetzlar", "", NOT_REPORTED, NOT_REPORTED]
    session.screenshot("services-officer")

    # a chart's CSV holds the rows of its table view, hidden small cells and Wetzlar's "not reported" included
    channels = _table(page, "services-channels")
    assert channels[0] == ["Stadt", "Kanal", "Vorgänge (eingereicht)", "Anteil"]
    assert any(HIDDEN in row for row in channels)
    _assert_download_is_table(page, "services-channels")
    _assert_download_is_table(page, "services-processing")

    _choose(page, "services-filter-service", "Personalausweis beantragen")
    expect(page).to_have_url(f"{session.url}/leistungen?service=99008001012000&{PERIOD}")
    expect(page.locator("#services-funnel tbody")).not_to_have_text(
        "".join("".join(row) for row in funnel[1:]), timeout=15_000
    )
    _settled(page)
    after = {chart: _table(page, chart) for chart in ("services-funnel", "services-channels", "services-trend")}
    assert after["services-funnel"] != funnel

    # the copied link, opened in another session, shows the same view
    other = login("officer")
    shared = other.open(page.url.removeprefix(session.url))
    expect(shared.locator("#services-filter-service")).to_contain_text("Personalausweis beantragen")
    assert {chart: _table(shared, chart) for chart in after} == after
    assert session.errors == [] and other.errors == []


def test_an_officer_sees_channels_hours_devices_and_eid(login: Callable[[str], Session]) -> None:
    session = login("officer")
    page = session.open(f"/kanaele?{PERIOD}")

    expect(page.locator("h1")).to_have_text("Kanäle")
    expect(page.locator(".card .js-plotly-plot")).to_have_count(4)
    expect(page.locator("#channels-hours .notes")).to_contain_text(
        "Wetzlar: liefert nur Tageszahlen – Uhrzeiten nicht geliefert, nicht enthalten"
    )
    hours = _table(page, "channels-hours")
    assert hours[0] == ["Wochentag", "Stunde (Ortszeit, ab)", "Einreichungen"]
    assert len(hours) == 1 + 7 * 24 and hours[1][:2] == ["Montag", "0"] and hours[-1][:2] == ["Sonntag", "23"]
    devices = {row[0]: row[1:] for row in _table(page, "channels-devices")[1:]}
    eid = {row[0]: row[1:] for row in _table(page, "channels-eid")[1:]}
    assert list(devices) == list(eid) == CITIES
    for city in ("Wetzlar", "Fulda"):  # daily counts only; Fulda's events carry no device, eID or payment
        assert devices[city] == [NOT_REPORTED] * 3 and eid[city] == [NOT_REPORTED] * 2
    assert devices["Gießen"][2].endswith(" %") and eid["Gießen"][0].endswith(" %")
    # where there are no bars the chart says why
    expect(page.locator("#channels-devices .annotation-text", has_text=NOT_REPORTED)).to_have_count(2)
    expect(page.locator("#channels-mix .legendtext").first).to_have_text("Online")
    session.screenshot("channels-officer")

    _choose(page, "channels-filter-cities", "Gießen")
    expect(page).to_have_url(f"{session.url}/kanaele?{PERIOD}&cities=giessen")
    expect(page.locator("#channels-devices tbody tr")).to_have_count(1, timeout=15_000)
    expect(page.locator("#channels-hours .notes")).not_to_contain_text("Wetzlar", timeout=15_000)
    _settled(page)
    _assert_download_is_table(page, "channels-devices")
    _assert_download_is_table(page, "channels-mix")
    assert session.errors == []


def test_a_mayor_has_no_access_to_services_and_channels(login: Callable[[str], Session]) -> None:
    session = login("mayor")
    for path in ("/kanaele", "/leistungen"):
        page = session.open(f"{path}?{PERIOD}")
        expect(page.locator("h1")).to_have_text("Kein Zugriff")
        expect(page.locator(".js-plotly-plot")).to_have_count(0)
    navigation = page.get_by_role("navigation").get_by_role("link").all_inner_texts()
    assert "Leistungen" not in navigation and "Kanäle" not in navigation
    session.screenshot("channels-mayor")

    # a forged request for the heatmap's data is refused on the server
    chart = "channels-hours"
    names = {"from": "2026-01", "to": "2026-03", "cities": [], "services": []}
    forged = page.request.post(
        f"{session.url}/_dash-update-component",
        headers={"Content-Type": "application/json"},
        data=json.dumps(
            {
                "output": f"..{chart}-graph.figure...{chart}-notes.children..",
                "outputs": [
                    {"id": f"{chart}-{part}", "property": prop}
                    for part, prop in (("graph", "figure"), ("notes", "children"))
                ],
                "inputs": [
                    {"id": f"channels-filter-{name}", "property": "value", "value": value}
                    for name, value in names.items()
                ],
                "changedPropIds": [],
                "state": [],
            }
        ),
    )
    assert forged.status == 403
    assert session.errors == []
