"""Limburg: a gzipped NDJSON export over HTTP, replaced nightly, fetched with If-None-Match.

The export is streamed to a work file (it may be large) and read from there in
batches; a ``304 Not Modified`` means nothing new, and the run records the
export as seen and skipped.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.contract import EVENT_FIELDS
from pipelines.mapping import FieldMapping, TimeKind, TimeSpec, identity_columns
from pipelines.readers import RawBatch, ndjson_gzip_batches
from pipelines.settings import SourceSettings
from pipelines.sources.base import Kind, Source, SourceContext, Unit, file_digest
from pipelines.transport import HttpFetcher

MAPPING = FieldMapping(columns=identity_columns(EVENT_FIELDS), time=TimeSpec(TimeKind.ISO))
ETAG = "etag"
EXPORT = "export.ndjson.gz"


@dataclass
class LimburgSource(Source):
    settings: SourceSettings

    city = "limburg"
    kind = Kind.EVENTS
    mapping = MAPPING

    @property
    def location(self) -> str:  # type: ignore[override]
        return self.settings.location

    def units(self, context: SourceContext) -> Iterator[Unit]:
        known = None if context.since is not None else context.state(ETAG)
        headers = {"If-None-Match": known} if known else {}
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        fetcher = HttpFetcher(self.settings.retry, bearer_token=self.settings.token)
        with tempfile.TemporaryDirectory(dir=self.settings.work_dir) as folder:
            target = Path(folder) / "export.ndjson.gz"
            try:
                response = fetcher.download(self.settings.location, target, headers=headers)
            finally:
                fetcher.close()
            etag = response.headers.get("ETag", "")
            if response.status_code == 304:
                yield Unit(name=EXPORT, read=lambda: iter(()), unchanged=True)
                return
            yield Unit(
                name=EXPORT,
                read=lambda: self._read(target),
                fingerprint=f"{file_digest(target)}:{MAPPING.fingerprint()}",
                replaces_quarantine=False,
                state={ETAG: etag} if etag else {},
            )

    @staticmethod
    def _read(path: Path) -> Iterator[RawBatch]:
        return ndjson_gzip_batches(path, fields=EVENT_FIELDS)


def build(settings: SourceSettings) -> LimburgSource:
    return LimburgSource(settings)
