"""Analysts' saved queries (private or shared with all analysts) and each user's query history.

SQLite under the home folder, next to the user store: small, transactional, and
shared by every dashboard worker.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HISTORY_KEPT = 200  # per user; older entries are pruned

SCHEMA = """
CREATE TABLE IF NOT EXISTS saved_queries (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    shared INTEGER NOT NULL,
    saved_at TEXT NOT NULL,
    UNIQUE (owner, name)
);
CREATE TABLE IF NOT EXISTS query_history (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    query TEXT NOT NULL,
    ran_at TEXT NOT NULL,
    rows INTEGER,
    seconds REAL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS query_history_user ON query_history (username, id);
"""


@dataclass(frozen=True)
class SavedQuery:
    id: int
    owner: str
    name: str
    query: str
    shared: bool


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    query: str
    ran_at: str
    rows: int | None
    seconds: float | None
    error: str | None


class QueryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=10)
        try:
            with con:
                yield con
        finally:
            con.close()

    def save(self, owner: str, name: str, query: str, *, shared: bool) -> SavedQuery:
        """Save (or overwrite) ``owner``'s query called ``name``."""
        name = name.strip()
        if not name:
            raise ValueError("a saved query needs a name")
        with self._connect() as con:
            con.execute(
                "INSERT INTO saved_queries (owner, name, query, shared, saved_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (owner, name) DO UPDATE SET query = excluded.query, shared = excluded.shared, "
                "saved_at = excluded.saved_at",
                (owner, name, query, int(shared), _now()),
            )
            row = con.execute("SELECT id FROM saved_queries WHERE owner = ? AND name = ?", (owner, name)).fetchone()
        return SavedQuery(int(row[0]), owner, name, query, shared)

    def visible(self, username: str) -> list[SavedQuery]:
        """The user's own queries and those others shared, by name."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, owner, name, query, shared FROM saved_queries WHERE owner = ? OR shared = 1 "
                "ORDER BY owner <> ?, lower(name)",
                (username, username),
            ).fetchall()
        return [SavedQuery(int(i), owner, name, query, bool(shared)) for i, owner, name, query, shared in rows]

    def get(self, username: str, query_id: int) -> SavedQuery | None:
        """A saved query the user may see (own or shared), else None."""
        return next((saved for saved in self.visible(username) if saved.id == query_id), None)

    def record(self, username: str, query: str, *, rows: int | None, seconds: float | None, error: str | None) -> None:
        with self._connect() as con:
            con.execute(
                "INSERT INTO query_history (username, query, ran_at, rows, seconds, error) VALUES (?, ?, ?, ?, ?, ?)",
                (username, query, _now(), rows, seconds, error),
            )
            con.execute(
                "DELETE FROM query_history WHERE username = ? AND id NOT IN "
                "(SELECT id FROM query_history WHERE username = ? ORDER BY id DESC LIMIT ?)",
                (username, username, HISTORY_KEPT),
            )

    def history(self, username: str, limit: int = 30) -> list[HistoryEntry]:
        """The user's latest queries, newest first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, query, ran_at, rows, seconds, error FROM query_history WHERE username = ? "
                "ORDER BY id DESC LIMIT ?",
                (username, limit),
            ).fetchall()
        return [HistoryEntry(*row) for row in rows]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
