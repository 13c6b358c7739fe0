"""Marburg: a paginated JSON API with a bearer token and a 48-hour lookback.

Each run asks for events from the latest loaded ``occurred_at`` minus the
lookback, so late events are caught; the overlap is removed by event_id when
the run merges (unchanged events count as duplicates).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import partial

from pipelines.contract import EVENT_FIELDS, LOCAL_ZONE
from pipelines.errors import SourceError
from pipelines.mapping import FieldMapping, TimeKind, TimeSpec
from pipelines.readers import RawBatch, json_records_frame
from pipelines.settings import SourceSettings
from pipelines.sources.base import Kind, Source, SourceContext, Unit
from pipelines.transport import HttpFetcher

FIRST_FROM = datetime(2020, 1, 1, tzinfo=UTC)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


MAPPING = FieldMapping(
    columns={name: _camel(name) for name in EVENT_FIELDS},
    time=TimeSpec(TimeKind.ISO),
)


@dataclass
class MarburgSource(Source):
    settings: SourceSettings

    city = "marburg"
    kind = Kind.EVENTS
    mapping = MAPPING

    @property
    def location(self) -> str:  # type: ignore[override]
        return self.settings.location

    def start_time(self, context: SourceContext) -> datetime:
        if context.since is not None:
            # a day is a local calendar day (contract section 4)
            return datetime.combine(context.since, time(), tzinfo=LOCAL_ZONE).astimezone(UTC)
        latest = context.latest_event_time()
        if latest is None:
            return FIRST_FROM
        return latest.astimezone(UTC) - timedelta(hours=self.settings.lookback_hours)

    def units(self, context: SourceContext) -> Iterator[Unit]:
        start = self.start_time(context).strftime("%Y-%m-%dT%H:%M:%SZ")
        fetcher = HttpFetcher(self.settings.retry, bearer_token=self.settings.token)
        try:
            token: str | None = None
            page = 0
            while True:
                page += 1
                params = {"from": start, "page_size": str(self.settings.page_size)}
                if token:
                    params["page_token"] = token
                response = fetcher.get(self.settings.location, params=params)
                try:
                    body = response.json()
                    records = body["events"]
                    token = body.get("next_page_token")
                    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
                        raise TypeError("'events' is not a list of objects")
                except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
                    raise SourceError(f"page {page} from {start} is not an events page: {error}") from error
                frame = json_records_frame(records, MAPPING.columns_in_source())
                yield Unit(
                    name=f"page {page} (from {start})",
                    read=partial(iter, [RawBatch(frame)]),
                    replaces_quarantine=False,
                )
                if not token:
                    break
        finally:
            fetcher.close()


def build(settings: SourceSettings) -> MarburgSource:
    return MarburgSource(settings)
