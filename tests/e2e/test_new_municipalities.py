"""Three municipalities join by configuration alone, end to end: each is described (a city file,
or the questions of `egovsad cities add`), tried in a dry run, added, loaded by the shared
pipeline, and then shows up in its KPIs, `status`, the scheduler and the dashboard.

- Oakridge: one row per case in a comma CSV with English headers, US timestamps (UTC) and
  the channel words Call / Web / Walk-in, from a drop folder;
- Lindenfels: one event per line of JSON over HTTP, with a bearer token and an ETag;
- Bad Nauheim: monthly xlsx sheets of daily counts with German headers and service names,
  added interactively.
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from click.testing import CliRunner
from playwright.sync_api import Browser, expect

from dashboard.app import user_store
from egovsad import config as configuration
from egovsad.cli import main
from egovsad.ingest import ingest_cities
from egovsad.schedule import CityJobs, build_scheduler
from tests.conftest import query
from tests.e2e.conftest import PASSWORD, Session, serving

TOKEN = "lindenfels-secret"
TOKEN_ENV = "EGOVSAD_LINDENFELS_TOKEN"
NEW = ("oakridge", "lindenfels", "bad-nauheim")
REGISTER, CERTIFICATE, MOVE = "99115005104000", "99115003012000", "99115005011000"
FEB, MAR = (date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 31))


# --- Oakridge: a ticket system's case export -------------------------------------------------

OAKRIDGE_FILE = """\
name = "Oakridge"
ags = "06440099"
district = "Wetteraukreis"
schedule = "15 3 * * *"

[population]
"2023-12-31" = 20000

[source]
transport = "folder"
location = "{folder}"
files = "tickets_*.csv"
file_date = "tickets_%Y-%m"
format = "csv"
shape = "cases"
delimiter = ","
encoding = "utf-8"
time_format = "%m/%d/%Y %I:%M %p"
time_zone = "UTC"

[source.columns]
case_id = "Ticket"
service_key = "Service"
channel = "Channel"
rating = "Rating"

[source.stages]
started = "Opened"
submitted = "Submitted"
completed = "Closed"

[source.values.channel]
Web = "online"
Call = "phone"
Walk-in = "in_person"
"""
OAKRIDGE_CHANNELS = ("Web", "Call", "Walk-in", "Web")


def _us(moment: datetime) -> str:
    return moment.strftime("%m/%d/%Y %I:%M %p")


@dataclass
class Case:
    ticket: str
    service: str
    channel: str
    opened: datetime
    submitted: datetime | None
    closed: datetime | None
    rating: int | None


def oakridge_cases() -> list[Case]:
    """40 cases from 2 February, one a day: every fifth is never submitted, every second submitted
    one is closed two days later, every third carries a rating."""
    cases = []
    for n in range(40):
        opened = datetime(2026, 2, 2, 9, 0) + timedelta(days=n, minutes=n)
        submitted = None if n % 5 == 4 else opened + timedelta(minutes=20)
        closed = submitted + timedelta(days=2) if submitted and n % 2 == 0 else None
        service = (REGISTER, CERTIFICATE, MOVE)[n % 3]
        cases.append(Case(f"OAK-{n:04d}", service, OAKRIDGE_CHANNELS[n % 4], opened, submitted, closed,
                          n % 5 + 1 if n % 3 == 0 else None))  # fmt: skip
    return cases


def write_oakridge(folder: Path) -> None:
    folder.mkdir(parents=True)
    by_month: dict[str, list[list[str]]] = {}
    for case in oakridge_cases():
        row = [case.ticket, case.service, case.channel, _us(case.opened),
               _us(case.submitted) if case.submitted else "", _us(case.closed) if case.closed else "",
               "" if case.rating is None else str(case.rating), "J. Smith"]  # fmt: skip
        by_month.setdefault(case.opened.strftime("%Y-%m"), []).append(row)
    by_month["2026-03"] += [
        ["OAK-F1", REGISTER, "Fax", "03/20/2026 10:00 AM", "03/20/2026 10:30 AM", "", "", "J. Smith"],
        ["OAK-F2", REGISTER, "Web", "", "", "", "", "J. Smith"],
        ["OAK-F3", REGISTER, "Web", "03/21/2026 10:00 AM", "13/45/2026 10:00 AM", "", "", "J. Smith"],
    ]
    for month, rows in by_month.items():
        with (folder / f"tickets_{month}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Ticket", "Service", "Channel", "Opened", "Submitted", "Closed", "Rating", "Agent"])
            writer.writerows(rows)


# --- Lindenfels: JSON lines over HTTP --------------------------------------------------------

LINDENFELS_FILE = """\
name = "Lindenfels"
ags = "06431014"
district = "Kreis Bergstraße"

[population]
"2024-12-31" = 5000

[source]
transport = "http"
location = "{url}"
token_env = "{token_env}"
format = "jsonl"
shape = "events"
time_format = "iso"
user_seconds_unit = "minutes"

[source.columns]
event_id = "id"
occurred_at = "at"
service_key = "leika"
channel = "via"
stage = "step"
case_id = "case"
user_seconds = "minutes"
rating = "stars"

[source.values.channel]
web = "online"
app = "app"
counter = "in_person"

[source.values.stage]
open = "started"
sent = "submitted"
done = "completed"
"""
LINDENFELS_VIA = ("web", "app", "counter")


def lindenfels_lines() -> list[str]:
    """30 events in March (every other one a submission), then a broken line and an unknown service."""
    lines = []
    for n in range(30):
        event = {
            "id": f"LF-{n:05d}", "at": f"2026-03-{n % 28 + 1:02d}T10:{n:02d}:00+01:00", "leika": REGISTER,
            "via": LINDENFELS_VIA[n % 3], "step": ("open", "sent")[n % 2], "case": f"LFC-{n // 2:04d}",
            "minutes": "4.5", "stars": 4 if n % 2 else None, "browser": "Firefox",
        }  # fmt: skip
        lines.append(json.dumps(event))
    lines.append('{"id": "LF-broken", "at": ')
    lines.append(json.dumps({"id": "LF-99999", "at": "2026-03-05T10:00:00+01:00", "leika": "99999999999999",
                             "via": "web", "step": "sent"}))  # fmt: skip
    return lines


@dataclass
class JsonLinesFeed:
    """An export of JSON lines on 127.0.0.1 that wants a bearer token and honours If-None-Match."""

    body: bytes
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def handler(self) -> type[BaseHTTPRequestHandler]:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                feed.requests.append(dict(self.headers.items()))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.send_response(401)
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == feed.etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", feed.etag)
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler


@pytest.fixture(scope="module")
def lindenfels_feed() -> Iterator[tuple[JsonLinesFeed, str]]:
    feed = JsonLinesFeed(("\n".join(lindenfels_lines()) + "\n").encode())
    server = ThreadingHTTPServer(("127.0.0.1", 0), feed.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield feed, f"http://127.0.0.1:{server.server_address[1]}/export/lindenfels.jsonl"
    server.shutdown()
    server.server_close()


# --- Bad Nauheim: monthly workbooks of daily counts, German headers --------------------------

NAUHEIM_WORDS = {"Internet": "online", "Rathaus": "in_person", "Telefon": "phone"}
NAUHEIM_NAMES = {"Wohnsitz anmelden": REGISTER, "Meldebescheinigung": CERTIFICATE}


def nauheim_rows(month: int) -> list[tuple[date, str, str, int, int, int, int, int]]:
    """Three days, two services, three channels: submitted = day + 2 online, day in person or by phone."""
    rows = []
    for day in (3, 10, 17):
        for name in NAUHEIM_NAMES:
            for channel in NAUHEIM_WORDS:
                submitted = day + (2 if channel == "Internet" else 0)
                rows.append((date(2026, month, day), name, channel, submitted + 1, submitted, submitted - 1, 0, 1))
    rows.append((date(2026, month, 20), "Hundesteuer", "Internet", 3, 2, 1, 0, 0))  # a name no one mapped
    return rows


def write_nauheim(folder: Path, month: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(folder / f"Monatsbericht_2026-{month:02d}.xlsx"))
    sheet = workbook.add_worksheet("Statistik")
    dates = workbook.add_format({"num_format": "dd.mm.yyyy"})
    sheet.write_row(0, 0, ["Datum", "Dienstleistung", "Zugang", "Begonnen", "Eingereicht", "Erledigt",
                           "Abgelehnt", "Abgebrochen", "Bearbeiter"])  # fmt: skip
    for number, row in enumerate(nauheim_rows(month), start=1):
        sheet.write_datetime(number, 0, datetime.combine(row[0], datetime.min.time()), dates)
        sheet.write_row(number, 1, [*row[1:], "Amt 3"])
    workbook.close()


def nauheim_answers(folder: Path) -> str:
    """What an administrator types for Bad Nauheim at `egovsad cities add`'s questions."""
    answers = [
        "bad-nauheim", "Bad Nauheim", "06440003", "Wetteraukreis", "32000", "2023-12-31", "",  # row, schedule
        "folder", str(folder), "xlsx", "Statistik", "Monatsbericht_*.xlsx", "Monatsbericht_%Y-%m",  # delivery
        "daily", "",  # shape, date format
        "Datum", "Dienstleistung", "Zugang", "Begonnen", "Eingereicht", "Erledigt", "Abgelehnt", "Abgebrochen",
        ", ".join(f"{word}={value}" for word, value in NAUHEIM_WORDS.items()),
        ", ".join(f"{name}={key}" for name, key in NAUHEIM_NAMES.items()),
        "y",
    ]  # fmt: skip
    return "\n".join(answers) + "\n"


# --- the home they join ----------------------------------------------------------------------


@dataclass
class Onboarded:
    settings: configuration.Config
    dry_runs: dict[str, str]
    before_first_run: bool  # the warehouse was still untouched after all three were added
    feed: JsonLinesFeed


def cli(home: Path, *args: str, answers: str | None = None) -> str:
    result = CliRunner().invoke(
        main, list(args), input=answers, env={"EGOVSAD_HOME": str(home), TOKEN_ENV: TOKEN}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory, lindenfels_feed: tuple[JsonLinesFeed, str]) -> Onboarded:
    feed, url = lindenfels_feed
    root = tmp_path_factory.mktemp("joining")
    home = root / "home"
    write_oakridge(root / "oakridge")
    for month in (2, 3):
        write_nauheim(root / "bad-nauheim", month)
    (root / "oakridge.toml").write_text(OAKRIDGE_FILE.format(folder=root / "oakridge"), encoding="utf-8")
    (root / "lindenfels.toml").write_text(LINDENFELS_FILE.format(url=url, token_env=TOKEN_ENV), encoding="utf-8")

    dry_runs = {
        "oakridge": cli(home, "cities", "add", "--file", str(root / "oakridge.toml"), "--yes"),
        "lindenfels": cli(home, "cities", "add", "--file", str(root / "lindenfels.toml"), "--yes"),
        "bad-nauheim": cli(home, "cities", "add", answers=nauheim_answers(root / "bad-nauheim")),
    }
    before_first_run = not (home / "warehouse").exists() and not (home / "snapshots").exists()
    settings = configuration.load(home, environ={TOKEN_ENV: TOKEN})
    results = ingest_cities(settings, list(NEW))
    assert all(result.ok for result in results), [result.error for result in results]
    store = user_store(settings)
    store.add("officer", "officer", "oakridge", PASSWORD)
    store.add("mayor", "mayor", "bad-nauheim", PASSWORD)
    return Onboarded(settings, dry_runs, before_first_run, feed)


def kpi(home: Path, kpi_id: str, period: tuple[date, date], by: str = "city") -> dict[str, dict[str, str]]:
    output = cli(home, "kpi", kpi_id, "--by", by, "--from", str(period[0]), "--to", str(period[1]), "--format", "csv")
    rows = list(csv.DictReader(output.splitlines()))
    return {"|".join(row[dim] for dim in by.split(",")): row for row in rows}


# --- the tests -------------------------------------------------------------------------------


def test_the_dry_run_shows_the_rows_as_mapped_the_quarantine_reasons_and_dropped_columns(
    onboarded: Onboarded,
) -> None:
    oakridge = onboarded.dry_runs["oakridge"]
    # 40 cases: 40 opened, 32 submitted, 16 closed; the three faulty rows give 2 + 1 + 2 rows, one of them fine
    assert "2 file(s), 93 rows read; a run would load 89, count 0 as duplicates and quarantine 4" in oakridge
    assert "(bad_value 3, missing_field 1)" in oakridge
    assert "First rows of tickets_2026-02.csv as they would be stored (times in Europe/Berlin)" in oakridge
    lines = oakridge.splitlines()
    # the first case was opened at 09:00 UTC, 10:00 in Berlin; its rating belongs to its submission
    [started] = [line.split() for line in lines if "OAK-0000-started" in line]
    [submitted] = [line.split() for line in lines if "OAK-0000-submitted" in line]
    assert started == ["1", "OAK-0000-started", "2026-02-02", "10:00:00", REGISTER, "online", "started", "OAK-0000"]
    assert submitted[2:4] == ["2026-02-02", "10:20:00"] and submitted[-1] == "1"
    assert "tickets_2026-03.csv row 14: channel 'Fax' is not one of online, app, in_person, phone" in oakridge
    assert "tickets_2026-03.csv row 15: occurred_at is missing" in oakridge
    assert "Dropped columns (not in the mapping, never stored): Agent" in oakridge

    lindenfels = onboarded.dry_runs["lindenfels"]
    assert "1 file(s), 32 rows read; a run would load 30" in lindenfels
    assert "bad_value" in lindenfels and "line 31 is not valid JSON" in lindenfels
    assert "service_key '99999999999999' is not in the service catalogue" in lindenfels
    assert "Dropped columns (not in the mapping, never stored): browser" in lindenfels

    nauheim = onboarded.dry_runs["bad-nauheim"]
    assert "Columns of the first file: Datum, Dienstleistung, Zugang" in nauheim
    assert "2 file(s), 38 rows read; a run would load 36" in nauheim
    assert "Unmapped service names (add them to [source.service_names]): 'Hundesteuer' x2" in nauheim
    assert "Dropped columns (not in the mapping, never stored): Bearbeiter" in nauheim
    assert "Bad Nauheim (bad-nauheim) added" in nauheim
    # nothing was loaded before the cities' first runs
    assert onboarded.before_first_run


def test_the_interactive_answers_become_a_reviewable_city_file(onboarded: Onboarded) -> None:
    text = (onboarded.settings.city_dir / "bad-nauheim.toml").read_text(encoding="utf-8")

    assert 'name = "Bad Nauheim"' in text and '"2023-12-31" = 32000' in text
    assert '[source.values.channel]\nInternet = "online"' in text
    assert '"Wohnsitz anmelden" = "99115005104000"' in text
    assert not (onboarded.settings.home / "tmp" / "city-drafts" / "bad-nauheim.toml").exists()


def test_each_new_city_reaches_its_kpis(onboarded: Onboarded) -> None:
    home = onboarded.settings.home
    cases = oakridge_cases()
    feb = [case for case in cases if case.submitted and case.submitted.month == 2]
    mar = [case for case in cases if case.submitted and case.submitted.month == 3]
    nauheim_submitted = sum(row[4] for row in nauheim_rows(3) if row[1] in NAUHEIM_NAMES)

    march = kpi(home, "transactions", MAR)
    assert {city: float(march[city]["value"]) for city in NEW} == {
        "oakridge": len(mar), "lindenfels": 15, "bad-nauheim": nauheim_submitted,
    }  # fmt: skip
    assert float(kpi(home, "transactions", FEB)["oakridge"]["value"]) == len(feb)
    takeup = kpi(home, "digital_takeup", MAR)
    web = sum(1 for case in mar if case.channel == "Web")
    assert float(takeup["oakridge"]["numerator"]) == web
    assert float(takeup["lindenfels"]["value"]) == pytest.approx(10 / 15)  # web and app of web, app, counter
    # a case's rating is counted once, with its submission
    rated = [case.rating for case in feb + mar if case.rating is not None]
    mean = kpi(home, "mean_rating", (FEB[0], MAR[1]))
    assert float(mean["oakridge"]["value"]) == pytest.approx(sum(rated) / len(rated))
    assert float(kpi(home, "median_user_minutes", MAR)["lindenfels"]["value"]) == 4.5
    # processing days from the cases' stages; counts only for Bad Nauheim
    assert float(kpi(home, "median_processing_days", MAR)["oakridge"]["value"]) == pytest.approx(2.0)
    assert kpi(home, "median_processing_days", MAR)["bad-nauheim"]["value"] == ""
    per_1000 = kpi(home, "transactions_per_1000", MAR)
    assert float(per_1000["bad-nauheim"]["denominator"]) == 32000
    assert float(per_1000["oakridge"]["value"]) == pytest.approx(len(mar) * 1000 / 20000)


def test_the_http_feed_is_asked_with_the_token_and_its_etag(onboarded: Onboarded) -> None:
    feed = onboarded.feed
    assert all(request["Authorization"] == f"Bearer {TOKEN}" for request in feed.requests)
    before = len(feed.requests)

    [result] = ingest_cities(onboarded.settings, ["lindenfels"])

    assert result.ok and (result.totals.units_seen, result.totals.units_skipped) == (1, 1)
    assert feed.requests[before]["If-None-Match"] == feed.etag


def test_status_list_and_scheduler_know_the_new_cities(onboarded: Onboarded) -> None:
    home = onboarded.settings.home
    status = json.loads(
        CliRunner().invoke(main, ["status", "--format", "json"], env={"EGOVSAD_HOME": str(home)}).output
    )
    assert {row["city"]: row["state"] for row in status if row["city"] in NEW} == dict.fromkeys(NEW, "fresh")
    listing = {row["city"]: row for row in json.loads(cli(home, "cities", "list", "--format", "json"))}
    assert listing["oakridge"]["source"] == "folder, csv, cases"
    assert listing["lindenfels"]["source"] == "http, jsonl, events"
    assert listing["bad-nauheim"]["defined"] == "bad-nauheim.toml"
    assert listing["bad-nauheim"]["state"] == "fresh" and listing["giessen"]["state"] == "stale"  # never ran here

    scheduler = build_scheduler(onboarded.settings, CityJobs(onboarded.settings))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(NEW) < set(jobs) and len(jobs) == 9
    fires = {cron.name: str(cron) for cron in jobs["oakridge"].trigger.fields}
    assert (fires["hour"], fires["minute"]) == ("3", "15")  # its file's schedule, 15 3 * * *


def test_a_new_population_figure_counts_from_its_reference_date(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_nauheim(tmp_path / "bad-nauheim", 2)
    write_nauheim(tmp_path / "bad-nauheim", 3)
    cli(home, "cities", "add", answers=nauheim_answers(tmp_path / "bad-nauheim"))
    settings = configuration.load(home, environ={})
    ingest_cities(settings, ["bad-nauheim"])
    before = kpi(home, "transactions_per_1000", (FEB[0], MAR[1]), by="city,month")

    city_file = settings.city_dir / "bad-nauheim.toml"
    city_file.write_text(
        city_file.read_text(encoding="utf-8").replace(
            '"2023-12-31" = 32000', '"2023-12-31" = 32000\n"2026-03-01" = 40000'
        ),
        encoding="utf-8",
    )
    ingest_cities(configuration.load(home, environ={}), ["bad-nauheim"])  # the writer registers the new figure
    after = kpi(home, "transactions_per_1000", (FEB[0], MAR[1]), by="city,month")

    assert float(before["bad-nauheim|2026-03"]["denominator"]) == 32000
    assert float(after["bad-nauheim|2026-02"]["denominator"]) == 32000  # February keeps the figure of its time
    assert float(after["bad-nauheim|2026-03"]["denominator"]) == 40000
    assert after["bad-nauheim|2026-03"]["numerator"] == before["bad-nauheim|2026-03"]["numerator"]
    cities = query(settings, "SELECT population, population_date FROM cities WHERE slug = 'bad-nauheim'")
    assert cities.row(0) == (40000, date(2026, 3, 1))


# --- the dashboard ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def joined_dashboard(onboarded: Onboarded) -> Iterator[str]:
    """The dashboard (gunicorn) over the home the three cities joined."""
    with serving(onboarded.settings.home, {TOKEN_ENV: TOKEN}, workers=1) as url:
        yield url


def test_the_new_cities_are_compared_on_the_vergleich_page(
    browser: Browser, joined_dashboard: str, onboarded: Onboarded
) -> None:
    session = Session(browser, joined_dashboard, "officer")
    try:
        page = session.open("/vergleich?kpi=transactions&from=2026-03&to=2026-03")
        rows = {cells[0].removesuffix(" ⚠"): cells[1] for cells in session.table("compare-ranking")[1:]}
        march = kpi(onboarded.settings.home, "transactions", MAR)
        for slug, name in (("oakridge", "Oakridge"), ("lindenfels", "Lindenfels"), ("bad-nauheim", "Bad Nauheim")):
            assert rows[name] == str(int(float(march[slug]["value"]))), rows
        assert len(rows) == 9  # the six built-in cities (nothing delivered here) and the three new ones
        legend = page.locator("#compare-trends .legendtext").all_text_contents()
        assert {"Oakridge", "Lindenfels", "Bad Nauheim", "Median aller Städte"} <= set(legend)

        overview = session.open("/?city=bad-nauheim&from=2026-02&to=2026-03")
        expect(overview.locator("#overview-subtitle")).to_contain_text("Bad Nauheim")
        expect(overview.locator("#overview-freshness tbody tr")).to_have_count(9)
        session.screenshot("new-municipalities-overview")
        assert session.errors == []
    finally:
        session.close()
