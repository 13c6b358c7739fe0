"""Cities added by configuration: one file per city, ``cities/<slug>.toml`` in the home folder.

A city file holds the city's row (name, official key, district), its population
figures by reference date, its delivery (``[source]``, see
:mod:`pipelines.delivery`) and, optionally, any of the per-city settings
(``schedule``, ``max_age_hours``, ...), which ``egovsad.toml`` may still
override like those of the built-in cities. One file per city, so that adding,
reviewing or removing a municipality is one file in a review, and the settings
file stays the installation's own.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from pipelines.delivery import Delivery, DeliveryError, parse
from warehouse.seed import read_cities

if TYPE_CHECKING:
    from egovsad.config import Config

FOLDER = "cities"
SLUG = re.compile(r"[a-z][a-z0-9-]{1,39}")
AGS = re.compile(r"\d{8}")
ROW_KEYS = ("name", "ags", "district", "source")


class CityFileError(ValueError):
    """A city file is not valid; the message names the key and what it expects."""


@dataclass(frozen=True)
class CityFile:
    """A city added by configuration."""

    slug: str
    name: str
    ags: str
    district: str | None
    delivery: Delivery
    settings: dict[str, Any]  # per-city settings given in the file (population, schedule, ...)
    path: Path


def check_slug(slug: str) -> str:
    """``slug`` if it can name a city (lower-case letters, digits and '-', 2-40 characters)."""
    if not SLUG.fullmatch(slug):
        raise CityFileError(
            f"'{slug}' cannot be a city's slug: lower-case letters, digits and '-', starting with a letter, 2-40 long"
        )
    return slug


def parse_city(table: dict[str, Any], *, slug: str, path: Path) -> CityFile:
    """The city a city file's table describes; raises CityFileError naming the key at fault."""
    check_slug(slug)

    def text(key: str, *, required: bool = True) -> str | None:
        value = table.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise CityFileError(f"'{key}' must be a non-empty text, not {value!r}")
        return value.strip()

    name = text("name")
    ags = text("ags")
    assert name is not None and ags is not None
    if not AGS.fullmatch(ags):
        raise CityFileError(f"'ags' must be the 8-digit official municipality key, not {ags!r}")
    if not isinstance(table.get("source"), dict):
        raise CityFileError("'[source]' is missing: the city's delivery (transport, format, shape, columns)")
    try:
        delivery = parse(table["source"], base_dir=path.parent)
    except DeliveryError as error:
        raise CityFileError(str(error)) from error
    settings = {key: value for key, value in table.items() if key not in ROW_KEYS}
    if not settings.get("population"):
        raise CityFileError("'[population]' needs at least one figure: \"YYYY-MM-DD\" = inhabitants")
    return CityFile(slug, name, ags, text("district", required=False), delivery, settings, path)


def read_city_file(path: Path) -> CityFile:
    """One city file (its name gives the slug); raises CityFileError with the file's name."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        return parse_city(table, slug=path.stem, path=path)
    except tomllib.TOMLDecodeError as error:
        raise CityFileError(f"{path} is not valid TOML: {error}") from error
    except UnicodeDecodeError as error:
        raise CityFileError(f"{path} is not UTF-8 text: save it as UTF-8 ({error})") from error
    except CityFileError as error:
        raise CityFileError(f"{path}: {error}") from error


def read_city_files(folder: Path) -> dict[str, CityFile]:
    """Every city file in ``folder`` (``<slug>.toml``), by slug."""
    if not folder.is_dir():
        return {}
    return {path.stem: read_city_file(path) for path in sorted(folder.glob("*.toml"))}


def populations(value: Any) -> dict[date, int]:
    """A population setting (``{"YYYY-MM-DD" = inhabitants}``) as dates and numbers.

    Raises CityFileError naming a figure that is not a date and a positive whole number.
    """
    figures: dict[date, int] = {}
    for day, inhabitants in dict(value).items():
        try:
            reference = date.fromisoformat(str(day))
        except ValueError:
            raise CityFileError(f"'{day}' is not a reference date YYYY-MM-DD") from None
        if isinstance(inhabitants, bool) or not isinstance(inhabitants, int) or inhabitants <= 0:
            raise CityFileError(f"the population on {day} must be a whole number above 0, not {inhabitants!r}")
        figures[reference] = inhabitants
    return figures


def registry(settings: Config) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the warehouse registers for the configured cities: their rows (slug, name, ags,
    district) and population figures (city, reference_date, population): the shipped figure
    of a built-in city, and every configured one (a configured date replaces a shipped one)."""
    shipped = read_cities()
    rows = shipped.select("slug", "name", "ags", "district").to_dicts()
    figures = {(row["slug"], row["population_date"]): row["population"] for row in shipped.to_dicts()}
    for city in settings.definitions.values():
        rows.append({"slug": city.slug, "name": city.name, "ags": city.ags, "district": city.district})
    for slug in settings.cities:
        for day, inhabitants in populations(settings.city(slug, "population")).items():
            figures[(slug, day)] = inhabitants
    cities = pl.DataFrame(rows, schema={"slug": pl.String, "name": pl.String, "ags": pl.String, "district": pl.String})
    population = pl.DataFrame(
        [(city, day, inhabitants) for (city, day), inhabitants in figures.items()],
        schema={"city": pl.String, "reference_date": pl.Date, "population": pl.Int64},
        orient="row",
    )
    return cities, population


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE.fullmatch(key) and not key[0].isdigit() else _string(key)


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int | float | date):
        return str(value) if not isinstance(value, date) else value.isoformat()
    raise TypeError(f"cannot write {value!r} to a city file")


def toml_text(table: dict[str, Any], header: str = "") -> str:
    """``table`` as TOML: its plain values, then each sub-table under its own header."""
    lines = [f"{_key(key)} = {_value(value)}" for key, value in table.items() if not isinstance(value, dict)]
    text = (f"[{header}]\n" if header and (lines or not table) else "") + "".join(f"{line}\n" for line in lines)
    for key, value in table.items():
        if isinstance(value, dict):
            name = f"{header}.{_key(key)}" if header else _key(key)
            text += ("\n" if text else "") + toml_text(value, name)
    return text
