"""The six cities' sources: each module holds only what is special about its city."""

from __future__ import annotations

from collections.abc import Callable

from pipelines.settings import SourceSettings
from pipelines.sources import fulda, giessen, limburg, marburg, offenbach, wetzlar
from pipelines.sources.base import Source

BUILDERS: dict[str, Callable[[SourceSettings], Source]] = {
    "giessen": giessen.build,
    "fulda": fulda.build,
    "limburg": limburg.build,
    "marburg": marburg.build,
    "offenbach": offenbach.build,
    "wetzlar": wetzlar.build,
}


def build_source(settings: SourceSettings) -> Source:
    """The source of ``settings.city``; raises KeyError for a city without a source module."""
    return BUILDERS[settings.city](settings)
