"""A reader process for the tests: asks the snapshot in service every ~50 ms through one
long-lived SnapshotReader and writes each answer (or error) as a JSON line.

    python -m tests.scheduler.reader SNAPSHOT_DIR OUTPUT STOP_FILE [MAX_SECONDS]

It stops when STOP_FILE exists, or after MAX_SECONDS (default 60).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from warehouse.snapshots import SnapshotReader

QUERY = "SELECT count(*) FROM events"


def main(folder: Path, output: Path, stop: Path, max_seconds: float) -> None:
    reader = SnapshotReader(folder, memory_limit="256MB", threads=1)
    deadline = time.monotonic() + max_seconds
    with output.open("w", encoding="utf-8") as out:
        while not stop.exists() and time.monotonic() < deadline:
            asked = time.time()
            answer: dict[str, object] = {"t": asked, "pid": os.getpid()}
            try:
                cursor = reader.connection()
                row = cursor.execute(QUERY).fetchone()
                cursor.close()
                answer |= {"count": row[0] if row else None, "snapshot": reader.path.name if reader.path else None}
            except Exception as error:  # every error is what the test looks for
                answer["error"] = f"{type(error).__name__}: {error}"
            answer["seconds"] = time.time() - asked
            out.write(json.dumps(answer) + "\n")
            out.flush()
            time.sleep(0.05)
    reader.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 60.0)
