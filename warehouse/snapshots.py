"""Read-only snapshots of the warehouse for readers.

A DuckDB file open for writing cannot be opened by another process at all, so
the writer publishes each committed state: checkpoint, copy the file to
``snapshots/<timestamp>.duckdb`` under a new name, then replace the pointer
file ``CURRENT`` atomically. Readers follow the pointer and reopen when it
moves. A file is never replaced in place: DuckDB keeps one database instance
per path inside a process, so a reader holding any connection would keep
seeing the old contents. Old snapshots are deleted beyond the configured
count; on Linux a reader that still has one open keeps reading it until it
closes (the file's blocks live until the last descriptor goes).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.db import connect_reader
from warehouse.errors import WarehouseMissing

log = logging.getLogger(__name__)

POINTER = "CURRENT"
SUFFIX = ".duckdb"


@dataclass(frozen=True)
class Published:
    path: Path
    seconds: float
    bytes: int


def publish(con: duckdb.DuckDBPyConnection, database: Path, folder: Path, *, keep: int) -> Published:
    """Publish the writer's committed state as a new snapshot and prune old ones.

    Must be called by the one writer with no transaction open: the checkpoint
    writes everything committed into the file, which is then copied as it is.
    """
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    con.execute("CHECKPOINT")
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}{SUFFIX}"
    partial = folder / f".{name}.partial"
    shutil.copyfile(database, partial)
    os.replace(partial, folder / name)
    pointer = folder / f".{POINTER}.partial"
    pointer.write_text(name, encoding="utf-8")
    os.replace(pointer, folder / POINTER)
    _prune(folder, keep=max(keep, 2), current=name)
    published = Published(folder / name, time.perf_counter() - started, (folder / name).stat().st_size)
    log.info("published snapshot %s (%.1f MB) in %.2f s", name, published.bytes / 1e6, published.seconds)
    return published


def _prune(folder: Path, *, keep: int, current: str) -> None:
    snapshots = sorted(path for path in folder.glob(f"*{SUFFIX}") if not path.name.startswith("."))
    for path in snapshots[:-keep]:
        if path.name != current:
            path.unlink(missing_ok=True)
    for stale in folder.glob(".*.partial"):
        if stale.stat().st_mtime < time.time() - 3600:
            stale.unlink(missing_ok=True)


def published_at(snapshot: Path) -> datetime:
    """When a snapshot was published (its name is the UTC time of publishing)."""
    return datetime.strptime(snapshot.name.removesuffix(SUFFIX), "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def current(folder: Path) -> Path:
    """The snapshot in service; WarehouseMissing before the first publish."""
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise WarehouseMissing("no data published yet: run 'egovsad ingest' (or the scheduler) first") from None
    return folder / name


def open_current(
    folder: Path, *, memory_limit: str = "1GB", threads: int = 2
) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """Open the snapshot in service read-only; retried once if it was pruned meanwhile."""
    for attempt in range(3):
        path = current(folder)
        try:
            return path, connect_reader(path, memory_limit=memory_limit, threads=threads)
        except WarehouseMissing:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class SnapshotReader:
    """A long-lived reader that follows the pointer: every call to :meth:`connection`
    checks it (one small file read) and moves to a newer snapshot when there is one."""

    def __init__(self, folder: Path, *, memory_limit: str = "1GB", threads: int = 2) -> None:
        self.folder = folder
        self.memory_limit = memory_limit
        self.threads = threads
        self.path: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the newest snapshot (one per caller, safe across threads)."""
        return self.cursor()[1]

    def cursor(self) -> tuple[Path, duckdb.DuckDBPyConnection]:
        """The newest snapshot's path and a cursor on it (the path keys caches of its results).

        The connection to an older snapshot is not closed when a newer one is taken up:
        closing it would break the cursors other callers still hold. Each cursor keeps
        its snapshot open; the snapshot is closed when its last cursor is gone.
        """
        with self._lock:
            if self._con is None or current(self.folder) != self.path:
                self.path, self._con = open_current(self.folder, memory_limit=self.memory_limit, threads=self.threads)
            assert self.path is not None
            return self.path, self._con.cursor()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
