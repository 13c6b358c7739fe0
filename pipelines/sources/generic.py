"""The one adapter for every city whose delivery is described as data (:mod:`pipelines.delivery`).

A folder delivery is a drop folder of files; an HTTP delivery is one export
fetched with an optional bearer token and ``If-None-Match`` (a ``304`` means
nothing new). Either way each file is one unit, read by the delivery's format
and shape, and everything after that is the shared machinery.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.delivery import CASE_DETAILS, Delivery, Format, Shape, Transport, shipped
from pipelines.mapping import CASE_EVENT, CASE_STAGE, CASE_TIME, FieldMapping
from pipelines.readers import RawBatch, csv_batches, ndjson_batches, parquet_batches, xlsx_frame
from pipelines.settings import SourceSettings
from pipelines.shapes import cases_to_events
from pipelines.sources.base import FolderSource, Kind, Source, SourceContext, Unit, file_digest
from pipelines.transport import HttpFetcher

ETAG = "etag"


def read(delivery: Delivery, path: Path) -> Iterator[RawBatch]:
    """A delivered file's rows as delivered (a case row already turned into its events)."""
    batches = _batches(delivery, path)
    if delivery.shape is not Shape.CASES:
        yield from batches
        return
    columns = delivery.mapping.columns
    details = tuple(columns[name] for name in CASE_DETAILS if name in columns)
    for batch in batches:
        yield cases_to_events(
            batch, case_id=columns["case_id"], stages=delivery.stages, details=details,
            details_stage=delivery.details_stage,
        )  # fmt: skip


def _batches(delivery: Delivery, path: Path) -> Iterator[RawBatch]:
    if delivery.format is Format.CSV:
        return csv_batches(path, delimiter=delivery.delimiter, encoding=delivery.encoding)
    if delivery.format is Format.XLSX:
        return iter([xlsx_frame(path, sheet=delivery.sheet)])
    if delivery.format is Format.JSONL:
        named = (*delivery.mapping.columns_in_source(), *delivery.mapping.consumed)
        fields = tuple(dict.fromkeys(name for name in named if name not in (CASE_EVENT, CASE_STAGE, CASE_TIME)))
        return ndjson_batches(path, fields=fields, gzipped=delivery.gzipped)
    return parquet_batches(path)


def _kind(delivery: Delivery) -> Kind:
    return Kind.DAILY if delivery.daily else Kind.EVENTS


@dataclass
class HttpExportSource(Source):
    """One export over HTTP, downloaded to a work file (it may be large) and read from there."""

    city: str
    kind: Kind
    mapping: FieldMapping
    delivery: Delivery
    settings: SourceSettings

    @property
    def location(self) -> str:  # type: ignore[override]
        return self.settings.location

    @property
    def name(self) -> str:
        """The export's name in run records: the last part of the URL's path."""
        return Path(urlsplit(self.settings.location).path).name or "export"

    def units(self, context: SourceContext) -> Iterator[Unit]:
        known = None if context.since is not None else context.state(ETAG)
        headers = {"If-None-Match": known} if known else {}
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        fetcher = HttpFetcher(self.settings.retry, bearer_token=self.settings.token)
        with tempfile.TemporaryDirectory(dir=self.settings.work_dir) as folder:
            target = Path(folder) / self.name
            try:
                response = fetcher.download(self.settings.location, target, headers=headers)
            finally:
                fetcher.close()
            if response.status_code == 304:
                yield Unit(name=self.name, read=lambda: iter(()), unchanged=True)
                return
            etag = response.headers.get("ETag", "")
            yield Unit(
                name=self.name,
                read=partial(read, self.delivery, target),
                fingerprint=f"{file_digest(target)}:{self.mapping.fingerprint()}:{self.delivery.digest()}",
                month=self.delivery.month(self.name),
                # an export has no file of its own: its rejections are kept by content
                replaces_quarantine=False,
                state={ETAG: etag} if etag else {},
            )


def build(settings: SourceSettings) -> Source:
    """The source of ``settings.city``: its configured delivery, else the shipped one.

    Service names from the settings (``cities.<slug>.service_names``) extend the
    delivery's own name table.
    """
    delivery = settings.delivery or shipped(settings.city)
    mapping = delivery.mapping
    if settings.service_names:
        mapping = replace(mapping, service_names={**(mapping.service_names or {}), **settings.service_names})
    if delivery.transport is Transport.HTTP:
        return HttpExportSource(settings.city, _kind(delivery), mapping, delivery, settings)
    return FolderSource(
        city=settings.city,
        kind=_kind(delivery),
        mapping=mapping,
        location=settings.location,
        pattern=delivery.files,
        reader=partial(read, delivery),
        dated=delivery.dated,
        monthly=delivery.month,
        options=delivery.digest(),
    )
