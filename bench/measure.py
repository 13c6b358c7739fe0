"""Run one command as a child and print its wall time and peak memory as JSON.

Each measurement gets its own wrapper process, so the peak resident set size
reported by the kernel belongs to exactly that one child.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    command = sys.argv[1:]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "peak_mib": peak_kib / 1024,
                "code": done.returncode,
                "stderr": done.stderr[-2000:],
                "stdout": done.stdout[-2000:],
            }
        )
    )


if __name__ == "__main__":
    main()
