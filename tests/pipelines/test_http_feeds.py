"""Marburg's API and Limburg's export against a real feed server on 127.0.0.1."""

from __future__ import annotations

import gzip
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from egovsad import config as configuration
from pipelines.simulate.server import Fault, FeedServer
from tests.conftest import SAMPLES, ingest, query

TOKEN = "test-token"
SETTINGS = """
[cities.marburg]
page_size = 10
timeout_seconds = 0.5
max_retries = 3
backoff_seconds = 0.01

[cities.limburg]
timeout_seconds = 0.5
max_retries = 3
backoff_seconds = 0.01
"""


def marburg_events(count: int, *, start: datetime, prefix: str = "MA-") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": [f"{prefix}{n:07d}" for n in range(count)],
            "occurred_at": [start + timedelta(hours=n) for n in range(count)],
            "service_key": ["99115005104000"] * count,
            "channel": ["online"] * count,
            "stage": ["started"] * count,
            "case_id": [f"MAC{n:010x}" for n in range(count)],
            "user_seconds": pl.Series([None] * count, dtype=pl.Int32),
            "eid": pl.Series([None] * count, dtype=pl.Boolean),
            "epayment": pl.Series([None] * count, dtype=pl.Boolean),
            "device": ["mobile"] * count,
            "rating": pl.Series([None] * count, dtype=pl.Int8),
        },
        schema_overrides={"occurred_at": pl.Datetime("us", "UTC")},
    )


@pytest.fixture
def feeds(tmp_path: Path) -> Iterator[FeedServer]:
    root = tmp_path / "feeds"
    (root / "marburg").mkdir(parents=True)
    (root / "limburg").mkdir()
    marburg_events(25, start=datetime(2026, 3, 1, tzinfo=UTC)).write_parquet(root / "marburg" / "events.parquet")
    shutil.copy(SAMPLES / "limburg" / "export.ndjson.gz", root / "limburg" / "export.ndjson.gz")
    with FeedServer(root, token=TOKEN) as server:
        yield server


@pytest.fixture
def settings(home: Path, feeds: FeedServer) -> configuration.Config:
    home.mkdir()
    text = SETTINGS.replace("[cities.marburg]", f'[cities.marburg]\nlocation = "{feeds.marburg_url}"')
    text = text.replace("[cities.limburg]", f'[cities.limburg]\nlocation = "{feeds.limburg_url}"')
    (home / "egovsad.toml").write_text(text, encoding="utf-8")
    return configuration.load(home, environ={"EGOVSAD_MARBURG_TOKEN": TOKEN})


def marburg_requests(feeds: FeedServer) -> list:  # type: ignore[type-arg]
    return [request for request in feeds.requests if request.path.startswith("/marburg")]


def test_marburg_pages_through_with_the_bearer_token(settings: configuration.Config, feeds: FeedServer) -> None:
    result = ingest(settings, "marburg")

    assert result.ok
    assert (result.totals.units_seen, result.totals.rows_read, result.totals.rows_loaded) == (3, 25, 25)
    requests = marburg_requests(feeds)
    assert all(request.headers.get("Authorization") == f"Bearer {TOKEN}" for request in requests)
    assert requests[0].query["from"] == "2020-01-01T00:00:00Z"
    assert [bool(request.query.get("page_token")) for request in requests] == [False, True, True]


def test_marburg_asks_again_from_48_hours_before_the_latest_event(
    settings: configuration.Config, feeds: FeedServer
) -> None:
    ingest(settings, "marburg")
    latest = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=24)
    events = pl.concat([marburg_events(25, start=datetime(2026, 3, 1, tzinfo=UTC)),
                        marburg_events(3, start=latest + timedelta(minutes=30), prefix="MA-NEW-")])  # fmt: skip
    events.write_parquet(feeds.root / "marburg" / "events.parquet")
    feeds.requests.clear()

    result = ingest(settings, "marburg")

    # the latest event is at 2 March 00:00 UTC; 48 hours before it
    assert marburg_requests(feeds)[0].query["from"] == "2026-02-28T00:00:00Z"
    assert (result.totals.rows_read, result.totals.rows_loaded, result.totals.rows_duplicate) == (28, 3, 25)
    assert query(settings, "SELECT count(*) FROM events WHERE city = 'marburg'").item() == 28


def test_marburg_honours_retry_after_on_429(settings: configuration.Config, feeds: FeedServer) -> None:
    feeds.inject(Fault.rate_limited(retry_after=1))
    started = time.monotonic()

    result = ingest(settings, "marburg")

    assert result.ok and result.totals.rows_loaded == 25
    assert time.monotonic() - started >= 1.0  # waited as told, not the 0.01 s back-off
    assert [request.status for request in marburg_requests(feeds)][:2] == [429, 200]


def test_marburg_retries_server_errors_and_timeouts(settings: configuration.Config, feeds: FeedServer) -> None:
    feeds.inject(Fault.http(500), Fault.http(503), Fault.slow(2.0))

    result = ingest(settings, "marburg")

    assert result.ok and result.totals.rows_loaded == 25
    statuses = [request.status for request in marburg_requests(feeds)]
    assert statuses[:2] == [500, 503] and statuses.count(200) >= 3


def test_marburg_does_not_retry_a_refusal(settings: configuration.Config, feeds: FeedServer) -> None:
    feeds.inject(Fault.unauthorized())

    result = ingest(settings, "marburg")

    assert not result.ok and "401" in (result.error or "")
    assert len(marburg_requests(feeds)) == 1
    assert query(settings, "SELECT count(*) FROM events").item() == 0
    assert query(settings, "SELECT status, error FROM pipeline_runs").row(0)[0] == "failed"


def test_a_feed_down_after_its_retries_fails_alone(
    settings: configuration.Config, feeds: FeedServer, samples: Path
) -> None:
    from egovsad.ingest import ingest_cities

    feeds.inject(*[Fault.http(500)] * 4)
    gi = settings.values | {"cities.giessen.location": str(samples / "giessen")}
    both = configuration.Config(home=settings.home, values=gi, environ=settings.environ)

    marburg, giessen = ingest_cities(both, ["marburg", "giessen"])

    assert not marburg.ok and "unavailable after 4 attempts" in (marburg.error or "")
    assert giessen.ok and giessen.totals.rows_loaded == 12


def test_a_run_that_fails_on_a_later_page_commits_nothing(settings: configuration.Config, feeds: FeedServer) -> None:
    no_retries = configuration.Config(
        home=settings.home, values=settings.values | {"cities.marburg.max_retries": 0}, environ=settings.environ
    )
    feeds.inject(Fault.slow(0.0), Fault.http(500))  # page 1 is answered, page 2 fails

    result = ingest(no_retries, "marburg")

    assert not result.ok
    assert [request.status for request in marburg_requests(feeds)] == [200, 500]
    assert query(settings, "SELECT count(*) FROM events").item() == 0


def test_limburg_sends_if_none_match_and_skips_on_304(settings: configuration.Config, feeds: FeedServer) -> None:
    first = ingest(settings, "limburg")
    second = ingest(settings, "limburg")

    assert first.ok and first.totals.rows_read == 13 and first.totals.rows_loaded == 10
    assert first.totals.quarantined == {"personal_data": 1, "bad_value": 1, "missing_field": 1}
    assert second.ok and (second.totals.units_seen, second.totals.units_skipped, second.totals.rows_read) == (1, 1, 0)
    limburg = [request for request in feeds.requests if request.path.startswith("/limburg")]
    assert "If-None-Match" not in limburg[0].headers
    assert limburg[1].headers["If-None-Match"] and limburg[1].status == 304


def test_limburg_broken_gzip_is_an_unreadable_file(settings: configuration.Config, feeds: FeedServer) -> None:
    export = feeds.root / "limburg" / "export.ndjson.gz"
    export.write_bytes(gzip.compress(b'{"event_id": "LI-1"}\n')[:-12])

    result = ingest(settings, "limburg")

    assert result.ok and result.totals.quarantined == {"unreadable_file": 1}
    assert query(settings, "SELECT count(*) FROM events").item() == 0


def test_a_backfill_asks_marburg_again_from_its_date(settings: configuration.Config, feeds: FeedServer) -> None:
    from datetime import date

    from egovsad.ingest import ingest_cities

    ingest(settings, "marburg")
    feeds.requests.clear()

    [again] = ingest_cities(settings, ["marburg"], since=date(2026, 3, 1))

    assert again.ok and (again.totals.rows_read, again.totals.rows_duplicate) == (25, 25)
    assert marburg_requests(feeds)[0].query["from"] == "2026-02-28T23:00:00Z"  # local midnight (CET)


def test_a_backfill_fetches_limburg_without_if_none_match(settings: configuration.Config, feeds: FeedServer) -> None:
    from datetime import date

    from egovsad.ingest import ingest_cities

    ingest(settings, "limburg")

    [again] = ingest_cities(settings, ["limburg"], since=date(2026, 1, 1))

    limburg = [request for request in feeds.requests if request.path.startswith("/limburg")]
    assert "If-None-Match" not in limburg[-1].headers and limburg[-1].status == 200
    assert again.ok and again.totals.rows_read == 13 and again.totals.rows_loaded == 0


def test_limburg_one_broken_line_is_one_rejected_record(settings: configuration.Config, feeds: FeedServer) -> None:
    export = feeds.root / "limburg" / "export.ndjson.gz"
    lines = gzip.decompress(export.read_bytes()).splitlines()
    export.write_bytes(gzip.compress(b"\n".join([*lines[:3], b'{"event_id": "LI-X", "occurred_at": ', *lines[3:]])))

    result = ingest(settings, "limburg")

    assert result.ok and result.totals.rows_read == 14
    assert result.totals.rows_loaded == 10 and result.totals.quarantined["bad_value"] == 2
    broken = query(settings, "SELECT row_number, detail FROM quarantine WHERE detail LIKE 'line%'").row(0)
    assert broken[0] == 4 and "not valid JSON" in broken[1]
