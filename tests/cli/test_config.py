"""Settings: one declaration each, a commented default file, and a README that matches."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from egovsad import config as configuration

README = Path(__file__).resolve().parents[2] / "README.md"


def test_first_use_writes_every_default_commented_out(home: Path) -> None:
    settings = configuration.load(home, environ={})

    text = (home / "egovsad.toml").read_text(encoding="utf-8")
    assert configuration._flatten(tomllib.loads(text)) == {}  # all commented out: it changes nothing
    for setting in configuration.SETTINGS:
        assert f"# {setting.key.rpartition('.')[2]} = " in text
    assert settings.city("giessen", "location") == f"{home}/inbox/giessen"
    assert settings.warehouse_path.is_relative_to(home)


def test_uncommented_values_override_defaults(home: Path) -> None:
    home.mkdir()
    (home / "egovsad.toml").write_text("[cities.marburg]\npage_size = 50\nmax_retries = 1\n", encoding="utf-8")

    source = configuration.load(home, environ={"EGOVSAD_MARBURG_TOKEN": "secret"}).source_settings("marburg")

    assert (source.page_size, source.retry.max_retries, source.token) == (50, 1, "secret")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cities.marburg]\npage_sise = 50\n", "unknown setting 'cities.marburg.page_sise'"),
        ("[cities.marburg]\npage_size = 'many'\n", "'cities.marburg.page_size' must be a int"),
        ("[cities\n", "not valid TOML"),
        ('[warehouse]\nmemory_limit = "lots"\n', "'warehouse.memory_limit' must be a size"),
        ("[warehouse]\nthreads = 0\n", "'warehouse.threads' must be at least 1"),
        ("[privacy]\nmin_cell = true\n", "'privacy.min_cell' must be a int"),
    ],
)
def test_a_bad_settings_file_is_named_with_the_key(home: Path, text: str, message: str) -> None:
    home.mkdir()
    (home / "egovsad.toml").write_text(text, encoding="utf-8")

    with pytest.raises(configuration.ConfigError, match=re.escape(message)):
        configuration.load(home, environ={})


def test_home_comes_from_the_environment(tmp_path: Path) -> None:
    assert configuration.home_folder({"EGOVSAD_HOME": str(tmp_path)}) == tmp_path.resolve()


def test_readme_documents_every_setting_with_its_default() -> None:
    readme = README.read_text(encoding="utf-8")
    for setting in configuration.SETTINGS:
        default = configuration._toml_value(setting.default)
        assert f"| `{setting.key}` | `{default}` |" in readme, setting.key
