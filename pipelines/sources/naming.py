"""Dates and months in delivery file names."""

from __future__ import annotations

import re
from datetime import date, datetime


def date_in_name(name: str, pattern: str, date_format: str) -> date | None:
    """The date a file name carries (group 1 of ``pattern``), or None if it carries none."""
    found = re.search(pattern, name)
    if found is None:
        return None
    try:
        return datetime.strptime(found.group(1), date_format).date()
    except ValueError:
        return None


def month_in_name(name: str, pattern: str) -> date | None:
    """The last day of the month (``YYYY-MM``, group 1) a file name carries.

    A backfill from a date reprocesses every month that reaches that date, so the
    month is dated by its end.
    """
    first = date_in_name(name, pattern, "%Y-%m")
    if first is None:
        return None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)
