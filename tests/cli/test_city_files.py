"""City files (cities/<slug>.toml) and population figures as configuration."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from egovsad import config as configuration
from egovsad.cli import main
from tests.conftest import SAMPLES, ingest, query
from warehouse.kpis import Selection, compute
from warehouse.snapshots import open_current

CITY = """\
name = "Neustadt"
ags = "06400001"

[population]
"2024-12-31" = 12000

[source]
format = "csv"
files = "export_*.csv"

[source.columns]
event_id = "id"
occurred_at = "at"
service_key = "key"
channel = "via"
stage = "step"
"""


def _city(home: Path, text: str = CITY, slug: str = "neustadt") -> Path:
    (home / "cities").mkdir(parents=True, exist_ok=True)
    path = home / "cities" / f"{slug}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_city_file_adds_a_city_with_the_per_city_settings(home: Path) -> None:
    _city(home, CITY.replace('ags = "06400001"', 'ags = "06400001"\nschedule = "5 4 * * *"'))
    home.joinpath("egovsad.toml").write_text("[cities.neustadt]\nmax_age_hours = 30\n", encoding="utf-8")

    settings = configuration.load(home, environ={})

    assert settings.cities[-1] == "neustadt" and settings.cities[:6] == configuration.CITIES
    assert settings.city("neustadt", "schedule") == "5 4 * * *"  # from its file
    assert settings.city("neustadt", "max_age_hours") == 30.0  # the settings file overrides
    assert settings.city("neustadt", "location") == f"{home}/inbox/neustadt"
    assert settings.source_settings("neustadt").delivery is not None
    assert "neustadt" in settings.unit_costs()


@pytest.mark.parametrize(
    ("text", "slug", "message"),
    [
        (CITY.replace('ags = "06400001"', 'ags = "6400001"'), "neustadt", "'ags' must be the 8-digit"),
        (CITY.replace('"2024-12-31" = 12000', ""), "neustadt", "'[population]' needs at least one figure"),
        (CITY.replace('"2024-12-31"', '"31.12.2024"'), "neustadt", "'31.12.2024' is not a reference date"),
        (CITY.replace('format = "csv"', 'format = "csv"\nsheet_name = "x"'), "neustadt", "source.sheet_name"),
        ("schedule_x = 1\n" + CITY, "neustadt", "unknown setting 'cities.neustadt.schedule_x'"),
        (CITY, "Neustadt", "'Neustadt' cannot be a city's slug"),
        (CITY, "giessen", "'giessen' is a built-in city"),
    ],
)
def test_a_mistake_in_a_city_file_is_named_with_the_file(home: Path, text: str, slug: str, message: str) -> None:
    path = _city(home, text, slug)

    with pytest.raises(configuration.ConfigError, match=re.escape(message)) as raised:
        configuration.load(home, environ={})
    assert str(path) in str(raised.value)


def test_a_settings_block_for_a_city_without_a_file_is_unknown(home: Path) -> None:
    home.mkdir()
    home.joinpath("egovsad.toml").write_text('[cities.neustadt]\nschedule = "0 1 * * *"\n', encoding="utf-8")

    with pytest.raises(configuration.ConfigError, match="unknown setting 'cities.neustadt.schedule'"):
        configuration.load(home, environ={})


def test_a_built_in_city_gets_a_new_population_figure_by_configuration(home: Path) -> None:
    home.mkdir()
    home.joinpath("egovsad.toml").write_text(
        f'[cities.giessen]\nlocation = "{SAMPLES / "giessen"}"\n[cities.giessen.population]\n"2026-01-01" = 100000\n',
        encoding="utf-8",
    )
    settings = configuration.load(home, environ={})
    assert ingest(settings, "giessen").ok

    _path, con = open_current(settings.snapshot_dir)
    with con:
        december = compute(con, "transactions_per_1000", Selection(date(2025, 12, 1), date(2025, 12, 31)), ("city",))
        march = compute(con, "transactions_per_1000", Selection(date(2026, 3, 1), date(2026, 3, 31)), ("city",))
        whole = compute(con, "transactions_per_1000", Selection(date(2025, 12, 1), date(2026, 3, 31)), ("city",))
    assert december["denominator"].to_list() == [94996.0]  # the shipped figure of 2023-12-31
    assert march["denominator"].to_list() == [100000.0]
    assert whole["denominator"].to_list() == [100000.0]  # a period counts with the figure valid at its end
    assert query(settings, "SELECT population FROM cities WHERE slug = 'giessen'").item() == 100000


def test_a_bad_population_figure_is_named(home: Path) -> None:
    home.mkdir()
    home.joinpath("egovsad.toml").write_text('[cities.fulda.population]\n"2025-12-31" = -5\n', encoding="utf-8")

    with pytest.raises(configuration.ConfigError, match=re.escape("'cities.fulda.population': the population on")):
        configuration.load(home, environ={})


def test_cities_add_refuses_a_slug_that_is_taken_and_check_an_unknown_city(home: Path, tmp_path: Path) -> None:
    _city(home)
    env = {"EGOVSAD_HOME": str(home)}
    again = tmp_path / "neustadt.toml"
    again.write_text(CITY, encoding="utf-8")

    added = CliRunner().invoke(main, ["cities", "add", "--file", str(again), "--yes"], env=env)
    unknown = CliRunner().invoke(main, ["cities", "check", "altstadt"], env=env)

    assert added.exit_code == 1 and "a city 'neustadt' is already configured" in added.output
    assert unknown.exit_code == 2 and "no city 'altstadt' is configured" in unknown.output


def test_cities_check_of_a_missing_folder_says_why_and_exits_1(home: Path) -> None:
    _city(home)

    done = CliRunner().invoke(main, ["cities", "check", "neustadt"], env={"EGOVSAD_HOME": str(home)})

    assert done.exit_code == 1
    assert f"the trial failed: the drop folder {home}/inbox/neustadt does not exist" in done.output


def test_an_answer_that_does_not_fit_is_asked_again_and_a_failed_trial_adds_nothing(home: Path, tmp_path: Path) -> None:
    answers = [
        "neustadt", "Neustadt", "06400001", "", "12000", "2024-12-31", "",  # row, population, schedule
        "folder", str(tmp_path / "nowhere"), "csv", ";", "", "", "", "", "events", "", "",  # delivery
        "id", "at", "key", "via", "step", "", "", "", "", "", "",  # columns
        "Web=internet", "Web=online, Fax=post", "", "",  # channel words (asked twice), stage words, names
        "",  # the trial failed: add anyway? no
    ]  # fmt: skip

    done = CliRunner().invoke(main, ["cities", "add"], input="\n".join(answers) + "\n", env={"EGOVSAD_HOME": str(home)})

    assert done.exit_code == 0, done.output
    assert "'internet' is not a channel (online, app, in_person, phone, email, post)" in done.output
    assert f"the trial failed: the drop folder {tmp_path / 'nowhere'} does not exist" in done.output
    draft = home / "tmp" / "city-drafts" / "neustadt.toml"
    assert f"nothing added (your answers are in {draft})" in done.output
    assert not (home / "cities" / "neustadt.toml").exists()
    assert 'delimiter = ";"' in draft.read_text(encoding="utf-8")
    assert 'Fax = "post"' in draft.read_text(encoding="utf-8")
