"""A real HTTP server for the two feeds the pipelines pull over HTTP: Marburg and Limburg.

It serves what `simulate()` wrote under a root folder, the way the cities' vendors do (data
contract, section 5):

- `GET /marburg/events?from=ISO-8601&page_size=N&page_token=T` with `Authorization: Bearer`,
  events with `occurredAt >= from` ordered by time and id, in camelCase with the local offset;
- `GET /limburg/export.ndjson.gz` with an `ETag`, answering `304` to a matching
  `If-None-Match`.

Files are read per request (Marburg's is cached until the file changes), so a test can
replace them to simulate new data. `inject()` queues faults (error statuses, `Retry-After`,
slow answers) for the next requests, to exercise the pipelines' retries and timeouts. The
server uses only the standard library and logs at DEBUG level, never per request to stderr.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
import signal
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, urlsplit

import polars as pl

log = logging.getLogger(__name__)

MARBURG_PATH = "/marburg/events"
LIMBURG_PATH = "/limburg/export.ndjson.gz"
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 10_000
_CAMEL = {
    "event_id": "eventId", "occurred_at": "occurredAt", "service_key": "serviceKey",
    "channel": "channel", "stage": "stage", "case_id": "caseId", "user_seconds": "userSeconds",
    "eid": "eid", "epayment": "epayment", "device": "device", "rating": "rating",
}  # fmt: skip


@dataclass(frozen=True)
class Fault:
    """One misbehaviour of the server for one request: an error status (with `Retry-After`
    seconds if given) instead of the answer, or a delay before the normal answer."""

    kind: Literal["status", "slow"]
    code: int = 200
    retry_after: int | None = None
    seconds: float = 0.0

    @classmethod
    def http(cls, code: int, *, retry_after: int | None = None) -> Fault:
        """Answer with status `code` (e.g. 500, 503), optionally with a Retry-After header."""
        return cls("status", code=code, retry_after=retry_after)

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        """`429 Too Many Requests` with `Retry-After: retry_after`."""
        return cls.http(429, retry_after=retry_after)

    @classmethod
    def unauthorized(cls) -> Fault:
        """`401 Unauthorized` even with the right token (a revoked or rotated token)."""
        return cls.http(401)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait `seconds` before answering normally, so a client with a shorter timeout gives up."""
        return cls("slow", seconds=seconds)


class ServedRequest(NamedTuple):
    """A request and the status it was answered with (recorded as the answer is sent, so a
    slow answer appears after quicker ones). Header names are in Title-Case."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int


class FeedServer:
    """The Marburg and Limburg feeds over `root` on a background thread.

    The socket is bound on construction, so `url` is known before `start()`; `port=0` picks a
    free port. Use as a context manager or call `start()` and `stop()`."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "demo-token",
    ) -> None:
        self.root = Path(root)
        self.token = token
        self.requests: list[ServedRequest] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._marburg = _EventStore(self.root / "marburg" / "events.parquet")
        self._httpd = _HTTPServer((host, port), _Handler, feed=self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:PORT`."""
        address, port = self._httpd.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def marburg_url(self) -> str:
        return self.url + MARBURG_PATH

    @property
    def limburg_url(self) -> str:
        return self.url + LIMBURG_PATH

    def start(self) -> FeedServer:
        """Serve on a daemon thread; returns self for chaining."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"feed-server-{self.url}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; slow answers in progress are cut short."""
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each following feed request takes the next one, in order."""
        with self._lock:
            self._faults.extend(faults)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _record(self, request: ServedRequest) -> None:
        with self._lock:
            self.requests.append(request)


def serve_forever(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8701,
    token: str = "demo-token",
    *,
    announce: Callable[[FeedServer], None] | None = None,
) -> None:
    """Serve the feeds until SIGINT or SIGTERM (for `egovsad simulate --serve`).

    `announce` is called with the running server, e.g. to print its URLs. Must run in the
    main thread, where Python delivers signals."""
    stop = threading.Event()

    def handle(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with FeedServer(root, host=host, port=port, token=token) as server:
            if announce is not None:
                announce(server)
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *,
                 feed: FeedServer) -> None:  # fmt: skip
        self.feed = feed
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error while serving %s", client_address, exc_info=True)


class _EventStore:
    """Marburg's events sorted for paging, re-read whenever the file is replaced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._events = pl.DataFrame()

    def sorted_events(self) -> pl.DataFrame:
        """All events, ordered by occurred_at then event_id; a later duplicate stays later."""
        stat = self.path.stat()
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if stamp != self._stamp:
                events = pl.read_parquet(self.path)
                self._events = events.filter(pl.col("occurred_at").is_not_null()).sort(
                    "occurred_at", "event_id", maintain_order=True, nulls_last=True
                )
                self._stamp = stamp
            return self._events


class _BadRequest(Exception):
    """A query parameter the API cannot use; the message is sent to the client."""


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "eGovSAD-FeedServer/1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        headers = {_title_case(name): value for name, value in self.headers.items()}
        self._served = ServedRequest(url.path, query, headers, 0)
        try:
            self._route(self.server.feed, url.path, query)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("client went away before the answer to %s", self.path)

    def _route(self, feed: FeedServer, path: str, query: dict[str, str]) -> int:
        if path not in (MARBURG_PATH, LIMBURG_PATH):
            return self._json(HTTPStatus.NOT_FOUND, {"error": f"no feed at {path}"})
        fault = feed._next_fault()
        if fault is not None and fault.kind == "slow":
            feed._stopping.wait(fault.seconds)
        elif fault is not None:
            extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return self._json(fault.code, {"error": f"injected fault {fault.code}"}, extra)
        if path == MARBURG_PATH:
            return self._marburg(feed, query)
        return self._limburg(feed)

    def _marburg(self, feed: FeedServer, query: dict[str, str]) -> int:
        expected = f"Bearer {feed.token}".encode()
        given = self.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            refusal = {"error": "missing or wrong bearer token"}
            return self._json(HTTPStatus.UNAUTHORIZED, refusal, {"WWW-Authenticate": "Bearer"})
        try:
            since, size, offset = _page_request(query)
            events = feed._marburg.sorted_events()
        except _BadRequest as exc:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except FileNotFoundError:
            return self._json(HTTPStatus.NOT_FOUND, {"error": "no Marburg events; run simulate"})
        if since is not None:
            events = events.slice(events["occurred_at"].search_sorted(since, side="left"))
        page = events.slice(offset, size)
        more = offset + size < events.height
        body: dict[str, object] = {
            "events": _camel_case(page),
            "next_page_token": _encode_token(offset + size) if more else None,
        }
        return self._json(HTTPStatus.OK, body)

    def _limburg(self, feed: FeedServer) -> int:
        try:
            content = (feed.root / "limburg" / "export.ndjson.gz").read_bytes()
        except FileNotFoundError:
            return self._json(HTTPStatus.NOT_FOUND, {"error": "no Limburg export; run simulate"})
        etag = f'"{hashlib.sha256(content).hexdigest()}"'
        given = self.headers.get("If-None-Match", "")
        wanted = {t.strip().removeprefix("W/") for t in given.split(",")}
        if etag in wanted or "*" in wanted:
            return self._send(HTTPStatus.NOT_MODIFIED, b"", {"ETag": etag}, body_allowed=False)
        headers = {"Content-Type": "application/gzip", "ETag": etag}
        return self._send(HTTPStatus.OK, content, headers)

    def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> int:
        data = json.dumps(body, indent=1).encode()
        return self._send(status, data, {"Content-Type": "application/json", **(headers or {})})

    def _send(self, status: int, body: bytes, headers: dict[str, str], *,
              body_allowed: bool = True) -> int:  # fmt: skip
        """Send the answer; the request is recorded first, so a client that has its answer
        finds the request in `FeedServer.requests`."""
        self.server.feed._record(self._served._replace(status=int(status)))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if body_allowed:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if body_allowed:
            self.wfile.write(body)
        return int(status)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def _title_case(name: str) -> str:
    """`if-none-match` -> `If-None-Match`: one spelling, whatever the client sent."""
    return "-".join(part.capitalize() for part in name.split("-"))


def _page_request(query: dict[str, str]) -> tuple[dt.datetime | None, int, int]:
    """(from, page_size, offset) from the query string."""
    since = None
    if query.get("from"):
        # An unencoded `+` in the offset arrives as a space; read it as the `+` it was.
        text = query["from"].replace(" ", "+")
        try:
            since = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise _BadRequest(f"`from` is not an ISO 8601 time: {text!r}") from exc
        since = since.replace(tzinfo=dt.UTC) if since.tzinfo is None else since.astimezone(dt.UTC)
    try:
        size = int(query.get("page_size") or DEFAULT_PAGE_SIZE)
    except ValueError as exc:
        raise _BadRequest("`page_size` must be a whole number") from exc
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _BadRequest(f"`page_size` must be between 1 and {MAX_PAGE_SIZE}")
    offset = _decode_token(query["page_token"]) if query.get("page_token") else 0
    return since, size, offset


def _encode_token(offset: int) -> str:
    """An opaque page token; it holds the offset into the ordered result."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "o" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _BadRequest("`page_token` is not a token this server issued") from exc


def _camel_case(page: pl.DataFrame) -> list[dict[str, object]]:
    """Events as the Marburg API sends them: camelCase keys, local time with its offset."""
    local = pl.col("occurred_at").dt.convert_time_zone("Europe/Berlin")
    page = page.with_columns(local.dt.strftime("%Y-%m-%dT%H:%M:%S%:z"))
    return page.select(pl.col(name).alias(camel) for name, camel in _CAMEL.items()).to_dicts()
