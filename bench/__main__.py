"""`make bench`: run the benchmarks and print their tables (also written to bench/results/)."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from bench import ingest

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--sizes", default="1000000,10000000", help="events per delivery, comma separated")
    parser.add_argument("--work", default="/tmp/egovsad-bench", help="folder for generated deliveries")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results = ingest.run(Path(args.work), sizes)
    text = f"Ingest ({datetime.now():%Y-%m-%d}, `make bench`):\n\n{ingest.table(results)}\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
