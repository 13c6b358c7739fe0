"""The writer lock: only one process writes the warehouse at a time.

The scheduler and ``egovsad ingest`` both take it for the duration of a run;
the second one waits (saying so) or gives up with a clear message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from warehouse.errors import WarehouseBusy

NOTICE_AFTER_SECONDS = 0.5


@contextmanager
def writer_lock(path: Path, *, wait: bool, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the writer lock at ``path``; raise WarehouseBusy at once when ``wait`` is False."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), thread_local=False)
    try:
        lock.acquire(timeout=NOTICE_AFTER_SECONDS if wait else 0)
    except Timeout:
        if not wait:
            raise WarehouseBusy(
                f"another writer (the scheduler or an ingest) holds {path}; try again later or use --wait"
            ) from None
        if on_wait is not None:
            on_wait()
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
