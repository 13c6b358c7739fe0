"""The command line as operators use it: real processes, exit codes, formats."""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

EGOVSAD = [sys.executable, "-m", "egovsad"]


def egovsad(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EGOVSAD_HOME": str(home)}
    result = subprocess.run([*EGOVSAD, *args], env=env, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"egovsad {args} failed ({result.returncode}): {result.stderr}")
    return result


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warehouse of the four file-based samples, shared by the read-only tests."""
    home = tmp_path_factory.mktemp("loaded") / "home"
    for city in ("giessen", "fulda", "offenbach", "wetzlar"):
        egovsad(home, "ingest", "--city", city, "--source", str(SAMPLES / city))
    return home


def test_ingest_prints_counts_and_unmapped_names(home: Path, samples: Path) -> None:
    result = egovsad(home, "ingest", "--city", "fulda", "--source", str(samples / "fulda"))

    assert "fulda: read 15, loaded 10, duplicates 0, quarantined 5" in result.stdout
    assert "'Fischereischein beantragen' x3" in result.stdout


def test_ingest_of_a_missing_folder_fails_with_one_line(home: Path, tmp_path: Path) -> None:
    result = egovsad(home, "ingest", "--city", "giessen", "--source", str(tmp_path / "nowhere"), check=False)

    assert result.returncode == 1
    reason = f"egovsad: giessen failed: the drop folder {tmp_path / 'nowhere'} does not exist"
    assert result.stderr.strip().splitlines()[-1] == reason
    assert "Traceback" not in result.stderr


def test_quarantine_csv_counts_by_city_and_reason(loaded: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(egovsad(loaded, "quarantine", "--format", "csv").stdout)))

    assert list(rows[0]) == ["city", "reason", "rows"]
    counts = {(row["city"], row["reason"]): int(row["rows"]) for row in rows}
    assert counts[("fulda", "unmapped_service")] == 3
    assert counts[("wetzlar", "bad_value")] == 2
    assert sum(counts.values()) == 14


def test_runs_json_lists_every_run(loaded: Path) -> None:
    runs = json.loads(egovsad(loaded, "runs", "--format", "json").stdout)

    assert [run["city"] for run in runs] == ["wetzlar", "offenbach", "fulda", "giessen"]
    assert all(run["status"] == "succeeded" for run in runs)
    assert runs[-1]["rows_read"] == 21


def test_sql_answers_from_the_views_and_keeps_null_empty(loaded: Path) -> None:
    result = egovsad(
        loaded, "sql", "SELECT event_id, rating FROM events WHERE event_id IN ('GI-0000013', 'GI-0000025') ORDER BY 1",
        "--format", "csv",
    )  # fmt: skip

    assert result.stdout.splitlines() == ["event_id,rating", "GI-0000013,", "GI-0000025,5"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY events TO '/tmp/egovsad-escape.csv'",
        "ATTACH '/tmp/egovsad-escape.duckdb' AS x",
        "SET memory_limit = '100GB'",
        "PRAGMA database_list",
        "INSTALL httpfs",
        "SELECT 1; SELECT 2",
        "SELECT CAST(event_id AS INTEGER) FROM events",  # fails only while running
    ],
)
def test_sql_refuses_files_settings_and_second_statements(loaded: Path, query: str) -> None:
    result = egovsad(loaded, "sql", query, check=False)

    assert result.returncode == 1
    assert result.stderr.startswith("egovsad: ") and "Traceback" not in result.stderr


def test_sql_output_streams_the_full_result_to_a_file_with_its_manifest(loaded: Path, tmp_path: Path) -> None:
    target = tmp_path / "events.parquet"

    result = egovsad(loaded, "sql", "SELECT * FROM events", "--format", "parquet", "--output", str(target))

    import polars as pl

    assert pl.read_parquet(target).height == 39
    manifest = json.loads((tmp_path / "events.parquet.manifest.json").read_text(encoding="utf-8"))
    assert manifest["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert (manifest["rows"], manifest["format"], manifest["user"]) == (39, "parquet", getpass.getuser())
    assert manifest["snapshot"] == (loaded / "snapshots" / "CURRENT").read_text(encoding="utf-8").strip()
    assert f"39 rows written to {target} (sha256 {manifest['sha256']}" in result.stderr


def test_sql_output_for_german_excel(loaded: Path, tmp_path: Path) -> None:
    target = tmp_path / "cities.csv"

    egovsad(loaded, "sql", "SELECT name, population / 1000 AS thousands FROM cities WHERE slug = 'giessen'",
            "--format", "csv_excel", "--output", str(target))  # fmt: skip

    assert target.read_bytes().startswith(b"\xef\xbb\xbfname;thousands\n")
    assert re.fullmatch(r"Gießen;\d+,\d+", target.read_bytes()[3:].decode("utf-8").splitlines()[1])


def test_sql_prints_the_first_rows_and_says_how_many_there_are(loaded: Path) -> None:
    result = egovsad(loaded, "sql", "SELECT * FROM range(2500)", "--format", "csv", "--limit", "10")

    assert len(result.stdout.splitlines()) == 11
    assert "the first 10 of 2,500 rows" in result.stderr


def test_sql_stops_at_the_configured_time_limit(loaded: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(loaded, home)
    (home / "egovsad.toml").write_text("[sql]\ntimeout_seconds = 0.5\n", encoding="utf-8")

    result = egovsad(home, "sql", "SELECT count(*) FROM range(100000) a, range(100000) b WHERE a.range + b.range = 7",
                     check=False)  # fmt: skip

    assert result.returncode == 1
    assert result.stderr.strip() == "egovsad: stopped after 0.5 s (setting sql.timeout_seconds)"


def test_sql_output_to_a_missing_folder_is_refused_in_one_line(loaded: Path, tmp_path: Path) -> None:
    result = egovsad(loaded, "sql", "SELECT 1", "--output", str(tmp_path / "nowhere" / "x.csv"), check=False)

    assert result.returncode == 1
    assert result.stderr.strip().startswith("egovsad: cannot write") and "Traceback" not in result.stderr
