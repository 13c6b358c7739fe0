"""HTTP fetching with retries, for the API and export feeds.

Only this module talks HTTP. 429 (honouring Retry-After), 5xx, timeouts and
connection errors are retried with exponential back-off; 401/403 are not, since
only new credentials can help; other 4xx are errors of the request itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from pipelines.errors import SourceError, SourceRefused, SourceUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    timeout_seconds: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry ``attempt`` (1-based); a server's Retry-After wins."""
        if retry_after is not None:
            return min(retry_after, self.max_backoff_seconds)
        return min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


class HttpFetcher:
    """GET requests with the retry policy; ``sleep`` is injectable so tests need not wait."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        bearer_token: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.sleep = sleep
        headers = {"User-Agent": "egovsad"}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        self.client = httpx.Client(headers=headers, timeout=policy.timeout_seconds, follow_redirects=True)

    def close(self) -> None:
        self.client.close()

    def get(
        self, url: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """GET ``url``; return the response (2xx or 304) with its body read."""
        with self._attempts(url, params, headers, stream=False) as response:
            return response

    def download(self, url: str, target: Path, *, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """GET ``url`` streaming the body into ``target`` (bounded memory for large exports)."""
        with self._attempts(url, None, headers, stream=True) as response:
            if response.status_code != 304:
                with target.open("wb") as handle:
                    for chunk in response.iter_bytes(1 << 20):
                        handle.write(chunk)
            return response

    @contextmanager
    def _attempts(
        self, url: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None, *, stream: bool
    ) -> Iterator[httpx.Response]:
        attempt = 0
        while True:
            attempt += 1
            problem: str
            retry_after: float | None = None
            try:
                request = self.client.build_request("GET", url, params=params, headers=headers)
                response = self.client.send(request, stream=stream)
            except (httpx.TimeoutException, httpx.TransportError) as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                status = response.status_code
                if status < 300 or status == 304:
                    try:
                        yield response
                    finally:
                        response.close()
                    return
                response.close()
                if status in (401, 403):
                    raise SourceRefused(f"{url} refused access (HTTP {status}); check the token")
                if status not in RETRY_STATUSES:
                    raise SourceError(f"{url} answered HTTP {status}")
                problem = f"HTTP {status}"
                retry_after = _retry_after(response)
            if attempt > self.policy.max_retries:
                raise SourceUnavailable(f"{url} unavailable after {attempt} attempts ({problem})")
            delay = self.policy.delay(attempt, retry_after)
            log.warning("%s: %s, retry %d in %.1f s", url, problem, attempt, delay)
            self.sleep(delay)
