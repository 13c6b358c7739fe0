"""The feed server on 127.0.0.1: Marburg's paginated API, Limburg's export, injected faults."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from pipelines.simulate import Fault, FeedServer, simulate
from tests.conftest import SAMPLES

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UTC = dt.UTC


def marburg_frame(times: list[tuple[str, dt.datetime]]) -> pl.DataFrame:
    """Canonical events with the given ids and times, written in this order."""
    n = len(times)
    return pl.DataFrame(
        {
            "event_id": [event_id for event_id, _ in times],
            "occurred_at": [at for _, at in times],
            "service_key": ["99115005104000"] * n,
            "channel": ["online"] * n,
            "stage": ["started"] * n,
            "case_id": ["MAC00000000ab"] * n,
            "user_seconds": pl.Series([None] * n, dtype=pl.Int32),
            "eid": pl.Series([None] * n, dtype=pl.Boolean),
            "epayment": pl.Series([None] * n, dtype=pl.Boolean),
            "device": ["mobile"] * n,
            "rating": pl.Series([None] * n, dtype=pl.Int8),
        },
        schema_overrides={"occurred_at": pl.Datetime("us", "UTC")},
    )


WINTER = dt.datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 local, the night of the switch
SUMMER = dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 local, after the clocks jumped
EVENTS = [
    ("MA-5", SUMMER + dt.timedelta(hours=1)),
    ("MA-3", SUMMER),
    ("MA-2", WINTER),
    ("MA-1", WINTER),  # same time as MA-2: ordered by id
    ("MA-4", SUMMER),
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "marburg").mkdir()
    (tmp_path / "limburg").mkdir()
    marburg_frame(EVENTS).write_parquet(tmp_path / "marburg" / "events.parquet")
    export = (SAMPLES / "limburg" / "export.ndjson.gz").read_bytes()
    (tmp_path / "limburg" / "export.ndjson.gz").write_bytes(export)
    return tmp_path


@pytest.fixture
def feeds(root: Path) -> Iterator[FeedServer]:
    with FeedServer(root, token=TOKEN) as server:
        yield server


def all_pages(feeds: FeedServer, **params: str | int) -> list[dict[str, Any]]:
    pages, token = [], None
    while True:
        query = {**params, **({"page_token": token} if token else {})}
        response = httpx.get(feeds.marburg_url, params=query, headers=AUTH)
        assert response.status_code == 200
        pages.append(response.json())
        token = response.json()["next_page_token"]
        if token is None:
            return pages


def test_marburg_refuses_a_missing_or_wrong_token(feeds: FeedServer) -> None:
    missing = httpx.get(feeds.marburg_url)
    wrong = httpx.get(feeds.marburg_url, headers={"Authorization": "Bearer nope"})

    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert [r.status for r in feeds.requests] == [401, 401]
    assert feeds.requests[1].headers["Authorization"] == "Bearer nope"


def test_marburg_pages_in_time_then_id_order_with_the_local_offset(feeds: FeedServer) -> None:
    pages = all_pages(feeds, page_size=2)
    events = [event for page in pages for event in page["events"]]
    sample = json.loads((SAMPLES / "marburg" / "page-1.json").read_text())["events"][0]

    assert len(pages) == 3
    assert [e["eventId"] for e in events] == ["MA-1", "MA-2", "MA-3", "MA-4", "MA-5"]
    assert [e["occurredAt"] for e in events[1:3]] == [
        "2026-03-29T00:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
    ]
    assert list(events[0]) == list(sample)
    assert [r.query.get("page_size") for r in feeds.requests] == ["2", "2", "2"]


def test_marburg_selects_events_from_a_time(feeds: FeedServer) -> None:
    local = "2026-03-29T03:30:00+02:00"  # SUMMER, as Marburg's own clock shows it
    [page] = all_pages(feeds, **{"from": local})
    [later] = all_pages(feeds, **{"from": "2026-03-29T02:00:00Z"})

    assert [e["eventId"] for e in page["events"]] == ["MA-3", "MA-4", "MA-5"]
    assert [e["eventId"] for e in later["events"]] == ["MA-5"]


UNUSABLE = [{"page_token": "garbage!"}, {"page_size": "0"}, {"from": "yesterday"}]


@pytest.mark.parametrize("query", UNUSABLE)
def test_marburg_answers_400_to_unusable_parameters(feeds: FeedServer, query: dict) -> None:
    response = httpx.get(feeds.marburg_url, params=query, headers=AUTH)

    assert response.status_code == 400 and "error" in response.json()


def test_marburg_serves_a_replaced_file_at_once(feeds: FeedServer, root: Path) -> None:
    first = all_pages(feeds)
    newer = marburg_frame([*EVENTS, ("MA-6", SUMMER + dt.timedelta(days=1))])
    newer.write_parquet(root / "marburg" / "events.parquet")

    assert len(first[0]["events"]) == 5
    assert len(all_pages(feeds)[0]["events"]) == 6


def test_limburg_sends_an_etag_and_304_when_it_matches(feeds: FeedServer, root: Path) -> None:
    export = root / "limburg" / "export.ndjson.gz"
    first = httpx.get(feeds.limburg_url)
    etag = first.headers["ETag"]
    same = httpx.get(feeds.limburg_url, headers={"If-None-Match": etag})
    weak = httpx.get(feeds.limburg_url, headers={"If-None-Match": f'"x", W/{etag}'})
    export.write_bytes(export.read_bytes() + b"")  # rewritten, same content
    unchanged = httpx.get(feeds.limburg_url, headers={"If-None-Match": etag})
    export.write_bytes(export.read_bytes() + b"\n")
    changed = httpx.get(feeds.limburg_url, headers={"If-None-Match": etag})

    assert first.status_code == 200
    assert first.content == (SAMPLES / "limburg" / "export.ndjson.gz").read_bytes()
    assert etag == f'"{hashlib.sha256(first.content).hexdigest()}"'
    assert (same.status_code, same.content, same.headers["ETag"]) == (304, b"", etag)
    assert weak.status_code == unchanged.status_code == 304
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_injected_faults_answer_the_next_requests_in_order(feeds: FeedServer) -> None:
    feeds.inject(Fault.rate_limited(retry_after=3), Fault.http(500))
    feeds.inject(Fault.http(503, retry_after=1), Fault.unauthorized())

    answers = [httpx.get(feeds.marburg_url, headers=AUTH) for _ in range(4)]
    answers.append(httpx.get(feeds.limburg_url))

    assert [a.status_code for a in answers] == [429, 500, 503, 401, 200]
    assert [a.headers.get("Retry-After") for a in answers[:3]] == ["3", None, "1"]
    assert [r.status for r in feeds.requests] == [429, 500, 503, 401, 200]


def test_a_slow_answer_makes_the_client_time_out(feeds: FeedServer) -> None:
    feeds.inject(Fault.slow(5.0))
    started = time.monotonic()

    with pytest.raises(httpx.TimeoutException):
        httpx.get(feeds.limburg_url, timeout=0.2)
    assert httpx.get(feeds.limburg_url).status_code == 200
    feeds.stop()  # does not wait for the slow answer
    assert time.monotonic() - started < 2.0


def test_unknown_paths_are_404_and_leave_the_faults_queued(feeds: FeedServer) -> None:
    feeds.inject(Fault.http(500))

    assert httpx.get(feeds.url + "/marburg").status_code == 404
    assert httpx.get(feeds.limburg_url).status_code == 500


def test_the_url_is_known_before_the_server_starts(root: Path) -> None:
    server = FeedServer(root, port=0)
    try:
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith(":0")
        assert server.limburg_url == server.url + "/limburg/export.ndjson.gz"
        with server:
            assert httpx.get(server.limburg_url).status_code == 200
    finally:
        server.stop()


def test_simulated_deliveries_are_served_whole(tmp_path: Path) -> None:
    simulate(tmp_path, months=1, end=dt.date(2026, 3, 31), seed=3, scale=0.02, fault_rate=0.0)
    stored = pl.read_parquet(tmp_path / "marburg" / "events.parquet")

    with FeedServer(tmp_path, token=TOKEN) as feeds:
        pages = all_pages(feeds, page_size=1000, **{"from": "2026-03-01T00:00:00+01:00"})
        export = httpx.get(feeds.limburg_url).content

    served = [e["eventId"] for page in pages for e in page["events"]]
    assert sorted(served) == sorted(stored["event_id"])
    assert export == (tmp_path / "limburg" / "export.ndjson.gz").read_bytes()


def test_serve_forever_stops_cleanly_on_sigterm(root: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from pipelines.simulate import serve_forever; "
        "serve_forever(Path(sys.argv[1]), '127.0.0.1', 0, 'tok', "
        "announce=lambda s: print(s.url, flush=True))"
    )
    command = [sys.executable, "-c", script, str(root)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert httpx.get(url + "/limburg/export.ndjson.gz").status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        process.kill()
