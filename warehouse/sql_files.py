"""Access to the SQL files under ``sql/``: the only place SQL text lives."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def sql(name: str) -> str:
    """The text of ``sql/<name>.sql`` (``name`` may contain a subfolder, e.g. ``load/merge``)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of a multi-statement SQL file, in order.

    Statements are separated by a line holding only ``;`` or ending in ``;`` outside
    comments; our files keep one statement per paragraph, so splitting on ``;`` at a
    line end is enough and keeps the files plain SQL.
    """
    parts: list[str] = []
    current: list[str] = []
    for line in sql(name).splitlines():
        current.append(line)
        if line.rstrip().endswith(";") and not line.lstrip().startswith("--"):
            text = "\n".join(current).strip()
            if _has_code(text):
                parts.append(text)
            current = []
    tail = "\n".join(current).strip()
    if _has_code(tail):
        parts.append(tail)
    return parts


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())
