"""The cities' sources: one generic adapter for deliveries described as data, and a module
for a city whose delivery needs code of its own (Marburg's paginated API)."""

from __future__ import annotations

from collections.abc import Callable

from pipelines.settings import SourceSettings
from pipelines.sources import generic, marburg
from pipelines.sources.base import Source

#: cities whose delivery cannot be described as data
SPECIAL: dict[str, Callable[[SourceSettings], Source]] = {"marburg": marburg.build}


def build_source(settings: SourceSettings) -> Source:
    """The source of ``settings.city``: its own module, its configured delivery, or its shipped one.

    Raises FileNotFoundError for a city that is neither configured nor built in.
    """
    special = SPECIAL.get(settings.city)
    return special(settings) if special else generic.build(settings)
