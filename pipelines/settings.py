"""What a city's pipeline needs to know, as typed values (built by the configuration layer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines.delivery import Delivery
from pipelines.transport import RetryPolicy


@dataclass(frozen=True)
class SourceSettings:
    """One city's source: where it is, how to authenticate, how patiently to ask."""

    city: str
    location: str
    work_dir: Path
    token: str | None = None
    page_size: int = 1000
    lookback_hours: int = 48
    retry: RetryPolicy = RetryPolicy()
    service_names: dict[str, str] = field(default_factory=dict)
    delivery: Delivery | None = None  # a city described by configuration (None: built in)
