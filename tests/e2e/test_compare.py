"""Vergleich in the browser: filters change charts and URL, links reproduce views, CSV = table."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PERIOD, Session


def _choose(page: Page, control: str, option: str) -> None:
    page.click(f"#{control}")
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def _german_number(text: str) -> float:
    return float(text.replace(" %", "").replace(".", "").replace(",", "."))


def test_an_officer_compares_cities_and_shares_the_view_by_link(login: Callable[[str], Session]) -> None:
    session = login("officer")
    page = session.open(f"/vergleich?{PERIOD}")
    expect(page.locator(".card .js-plotly-plot")).to_have_count(4)
    before = session.table("compare-ranking")
    assert before[0] == ["Stadt", "Digitalquote"]
    assert len(before) == 7  # heading and six cities
    assert all(row[1].endswith(" %") for row in before[1:])

    _choose(page, "compare-filter-kpi", "Vorgänge (eingereicht)")
    page.get_by_label("je 1.000 Einwohner").check()
    expect(page).to_have_url(f"{session.url}/vergleich?kpi=transactions&measure=per_1000&{PERIOD}")
    expect(page.locator("#compare-ranking-table th").nth(1)).to_have_text("Vorgänge (eingereicht) je 1.000 Einwohner")
    after = session.table("compare-ranking")
    assert after != before and not any(row[1].endswith(" %") for row in after[1:])
    session.screenshot("compare-officer")

    # the copied link, opened in another session, shows the same view
    other = login("mayor")
    shared = other.open(page.url.removeprefix(session.url))
    expect(shared.locator("#compare-filter-kpi")).to_have_text("Vorgänge (eingereicht)")
    assert other.table("compare-ranking") == after

    # the CSV download holds exactly the rows of the table view
    with page.expect_download() as download:
        page.locator("#compare-ranking button.download").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert rows[0] == after[0]
    assert [row[0] for row in rows[1:]] == [row[0].removesuffix(" ⚠") for row in after[1:]]
    for (_, value), (_, shown) in zip(rows[1:], after[1:], strict=True):
        assert round(float(value), 1) == _german_number(shown)
    assert session.errors == [] and other.errors == []


def test_the_trend_shows_every_city_with_the_median_of_all(login: Callable[[str], Session]) -> None:
    session = login("mayor")
    page = session.open(f"/vergleich?kpi=digital_takeup&{PERIOD}")
    legend = page.locator("#compare-trends .legendtext").all_text_contents()
    assert "Median aller Städte" in legend
    assert "Gießen" in legend and len(legend) == 7
    notes = page.locator("#compare-online .notes .badge").all_inner_texts()
    assert any(note.endswith("in allen Städten online") for note in notes)
    expect(page.locator("#compare-heatmap .js-plotly-plot")).to_be_visible()
    # a mayor sees charts and tables, but downloads are for officers
    expect(page.locator("button.download")).to_have_count(0)
    assert session.errors == []
