"""All six cities end to end on simulated deliveries, the HTTP ones through a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from egovsad import config as configuration
from egovsad.ingest import ingest_cities
from pipelines.run import RunResult
from pipelines.simulate import FeedServer, SimulationSummary, simulate
from tests.conftest import query

CITIES = list(configuration.CITIES)


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationSummary]:
    out = tmp_path_factory.mktemp("simulated")
    summary = simulate(out, months=2, seed=3, scale=0.05, end=date(2026, 4, 10), fault_rate=0.01)
    return out, summary


@pytest.fixture
def feeds(deliveries: tuple[Path, SimulationSummary]) -> Iterator[FeedServer]:
    with FeedServer(deliveries[0], token="sim") as server:
        yield server


def _settings(home: Path, out: Path, feeds: FeedServer) -> configuration.Config:
    home.mkdir()
    blocks = [f'[cities.{city}]\nlocation = "{out / city}"' for city in ("giessen", "fulda", "offenbach", "wetzlar")]
    blocks.append(f'[cities.marburg]\nlocation = "{feeds.marburg_url}"\npage_size = 2000')
    blocks.append(f'[cities.limburg]\nlocation = "{feeds.limburg_url}"')
    (home / "egovsad.toml").write_text("\n".join(blocks) + "\n", encoding="utf-8")
    return configuration.load(home, environ={"EGOVSAD_MARBURG_TOKEN": "sim"})


@pytest.fixture
def loaded(
    home: Path, deliveries: tuple[Path, SimulationSummary], feeds: FeedServer
) -> tuple[configuration.Config, list[RunResult], SimulationSummary]:
    settings = _settings(home, deliveries[0], feeds)
    return settings, ingest_cities(settings, CITIES), deliveries[1]


def test_every_city_loads_and_every_row_is_accounted_for(
    loaded: tuple[configuration.Config, list[RunResult], SimulationSummary],
) -> None:
    settings, results, summary = loaded

    for result in results:
        totals = result.totals
        assert result.ok, (result.city, result.error)
        assert totals.rows_loaded + totals.rows_quarantined + totals.rows_duplicate == totals.rows_read
        assert totals.rows_read == summary.cities[result.city].rows, result.city
        assert totals.rows_quarantined > 0, result.city  # the simulator's faults are caught
    per_city = dict(query(settings, "SELECT city, sum(submitted) FROM daily GROUP BY city").iter_rows())
    assert set(per_city) == set(CITIES) and all(count > 0 for count in per_city.values())


def test_the_faults_land_in_quarantine_with_their_reasons(
    loaded: tuple[configuration.Config, list[RunResult], SimulationSummary],
) -> None:
    settings, _, _ = loaded

    reasons = set(query(settings, "SELECT DISTINCT reason FROM quarantine")["reason"])

    assert {"bad_value", "unknown_service", "missing_field", "personal_data", "implausible_time"} <= reasons
    assert "unmapped_service" in reasons  # Fulda's unknown names
    raw = " ".join(query(settings, "SELECT raw FROM quarantine WHERE reason = 'personal_data'")["raw"])
    assert "@" not in raw


def test_a_second_run_on_the_same_deliveries_changes_nothing(
    loaded: tuple[configuration.Config, list[RunResult], SimulationSummary],
) -> None:
    settings, _, _ = loaded
    before = query(settings, "SELECT * FROM daily ORDER BY ALL").rows()

    again = ingest_cities(settings, CITIES)

    assert all(result.ok and result.totals.rows_loaded == 0 for result in again)
    assert query(settings, "SELECT * FROM daily ORDER BY ALL").rows() == before
