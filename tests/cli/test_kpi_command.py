"""`egovsad kpi` prints the registry's numbers in the formats operators and scripts read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli.test_commands import egovsad
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("kpi-cli") / "home"
    for city in ("giessen", "wetzlar"):
        egovsad(home, "ingest", "--city", city, "--source", str(SAMPLES / city))
    return home


def test_csv_has_one_column_per_dimension_then_value_numerator_denominator(loaded: Path) -> None:
    out = egovsad(
        loaded, "kpi", "transactions", "--by", "month,city", "--from", "2025-11-01", "--to", "2026-03-31",
        "--format", "csv",
    ).stdout  # fmt: skip

    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["month", "city", "value", "numerator", "denominator"]
    assert {(row["month"], row["city"]): row["value"] for row in rows} == {
        ("2025-11", "wetzlar"): "2", ("2025-12", "giessen"): "1", ("2026-01", "giessen"): "2",
        ("2026-03", "giessen"): "1",
    }  # fmt: skip
    assert all(row["numerator"] == "" and row["denominator"] == "" for row in rows)


def test_not_reported_is_empty_in_csv_and_null_in_json(loaded: Path) -> None:
    args = ["kpi", "satisfaction", "--by", "city", "--from", "2025-11-01", "--to", "2026-03-31"]
    rows = {row["city"]: row for row in csv.DictReader(io.StringIO(egovsad(loaded, *args, "--format", "csv").stdout))}
    as_json = {row["city"]: row for row in json.loads(egovsad(loaded, *args, "--format", "json").stdout)}

    assert rows["wetzlar"]["value"] == "" and as_json["wetzlar"]["value"] is None
    # ratings given: 5 (GI-0000025), 1 (GI-0000084, its later version), 3 (GI-0000072)
    assert float(rows["giessen"]["value"]) == pytest.approx(1 / 3)
    assert (rows["giessen"]["numerator"], rows["giessen"]["denominator"]) == ("1.0", "3.0")


def test_days_print_as_iso_dates_and_suppression_hides_small_counts(loaded: Path) -> None:
    out = egovsad(
        loaded, "kpi", "started", "--by", "day", "--city", "giessen", "--from", "2026-01-02", "--to", "2026-01-02",
        "--suppress", "--format", "csv",
    ).stdout  # fmt: skip

    assert out.splitlines() == ["day,value,numerator,denominator,suppressed", "2026-01-02,<5,,,true"]


def test_list_names_every_kpi_and_bad_requests_get_one_line(loaded: Path) -> None:
    listing = json.loads(egovsad(loaded, "kpi", "--list", "--format", "json").stdout)
    assert {"transactions", "savings_potential", "median_processing_days"} <= {row["id"] for row in listing}

    refused = egovsad(loaded, "kpi", "digital_takeup", "--by", "channel", check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "egovsad: digital_takeup cannot be grouped by channel; it allows city, day, month, service"
    )
