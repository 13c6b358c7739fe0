"""The interface between a city's source module and the shared run machinery.

A source yields *units* (a file, an API page, an export): each unit knows its
name for the run record, how to read itself as raw batches, and optionally a
fingerprint (unchanged units are skipped), the month it replaces (daily
counts) and source state to save once the run commits (an ETag).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path

from pipelines.errors import SourceUnavailable
from pipelines.mapping import FieldMapping
from pipelines.readers import RawBatch


class Kind(StrEnum):
    EVENTS = "events"
    DAILY = "daily"


@dataclass(frozen=True)
class Unit:
    name: str
    read: Callable[[], Iterator[RawBatch]]
    fingerprint: str | None = None
    month: str | None = None
    replaces_quarantine: bool = True
    state: dict[str, str] = field(default_factory=dict)
    unchanged: bool = False  # the source said so itself (HTTP 304): seen, skipped


@dataclass(frozen=True)
class SourceContext:
    """What a source may ask of the warehouse while listing its units."""

    state: Callable[[str], str | None]
    latest_event_time: Callable[[], datetime | None]
    since: date | None = None


class Source(ABC):
    """One city's delivery: its transport, format and mapping."""

    city: str
    kind: Kind
    mapping: FieldMapping
    location: str

    @abstractmethod
    def units(self, context: SourceContext) -> Iterator[Unit]:
        """The units available now, in delivery order (later units win on conflicts)."""


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class FolderSource(Source):
    """A drop folder of files matching ``pattern``; a changed file is loaded again.

    ``dated`` extracts the delivery date from a file's relative name, so that a
    backfill (``since``) can reprocess the files from that date on. ``options``
    describes how files are read (a delivery's digest): with the mapping, it is part
    of each file's fingerprint, so a corrected description reads the files again.
    """

    city: str
    kind: Kind
    mapping: FieldMapping
    location: str
    pattern: str
    reader: Callable[[Path], Iterator[RawBatch]]
    dated: Callable[[str], date | None]
    monthly: Callable[[str], str | None] = lambda name: None
    options: str = ""

    def units(self, context: SourceContext) -> Iterator[Unit]:
        folder = Path(self.location).expanduser()
        if not folder.is_dir():
            raise SourceUnavailable(f"the drop folder {folder} does not exist")
        for path in sorted(folder.glob(self.pattern)):
            name = path.relative_to(folder).as_posix()
            delivered = self.dated(name)
            if context.since is not None and delivered is not None and delivered < context.since:
                continue
            yield Unit(
                name=name,
                read=partial(self.reader, path),
                fingerprint=":".join(
                    part for part in (file_digest(path), self.mapping.fingerprint(), self.options) if part
                ),
                month=self.monthly(name),
            )
