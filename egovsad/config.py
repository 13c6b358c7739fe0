"""Configuration: the home folder, the settings file and the typed objects built from it.

Every setting is declared once here, as data (key, default, help). The file
``egovsad.toml`` is written on first use with every default shown commented
out, the README's settings table is checked against these declarations, and
the rest of the system receives typed objects, never the raw file. A city added
by configuration (a file ``cities/<slug>.toml``, see :mod:`egovsad.cities`) gets
the same per-city settings as a built-in one, with the defaults its file gives.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from egovsad.cities import FOLDER, CityFile, CityFileError, populations, read_city_files
from pipelines.delivery import Transport
from pipelines.settings import SourceSettings
from pipelines.transport import RetryPolicy
from warehouse.db import WarehouseSettings

HOME_ENV = "EGOVSAD_HOME"
DEFAULT_HOME = Path("~/.local/share/egovsad")
CONFIG_NAME = "egovsad.toml"
FEED_BASE = "http://127.0.0.1:8701"
#: the six built-in cities; ``Config.cities`` names every configured city
CITIES = ("giessen", "fulda", "limburg", "marburg", "offenbach", "wetzlar")
#: when an added city's pipeline runs unless its file or the settings say otherwise
ADDED_CITY_SCHEDULE = "0 3 * * *"


class ConfigError(Exception):
    """The settings file is not valid; the message names the key and what is expected."""


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    help: str


def _city(slug: str, location: str, where: str, schedule: str, **extra: Any) -> list[Setting]:
    http = location.startswith("http")
    settings = [
        Setting(f"cities.{slug}.location", location, f"{where}; `--source` overrides it for one run"),
        Setting(
            f"cities.{slug}.schedule",
            schedule,
            "cron in Europe/Berlin time (minute hour day month weekday; a sixth field in front adds seconds)",
        ),
        Setting(f"cities.{slug}.max_age_hours", 0.0, "data older than this is stale (0: twice the schedule interval)"),
        Setting(f"cities.{slug}.retries", 3, "scheduled runs: new attempts after a failed run"),
        Setting(
            f"cities.{slug}.retry_backoff_seconds",
            60.0,
            "scheduled runs: wait before the first new attempt, doubled after each",
        ),
        Setting(f"cities.{slug}.unit_costs", {}, "this city's own unit costs in EUR per channel, e.g. { phone = 3.9 }"),
        Setting(
            f"cities.{slug}.population",
            extra.pop("population", {}),
            'population figures by reference date, e.g. { "2024-12-31" = 95612 }; per-1,000 values use the one '
            "valid for the period (the shipped figure stays)",
        ),
    ]
    if http:
        settings += [
            Setting(
                f"cities.{slug}.token_env",
                extra.pop("token_env", ""),
                "environment variable holding the bearer token (empty: none)",
            ),
            Setting(f"cities.{slug}.timeout_seconds", 30.0, "seconds before a request counts as timed out"),
            Setting(f"cities.{slug}.max_retries", 5, "retries after 429, 5xx and timeouts (never after 401/403)"),
            Setting(
                f"cities.{slug}.backoff_seconds",
                1.0,
                "first back-off delay, doubled per retry (a Retry-After header wins)",
            ),
        ]
    settings += [Setting(f"cities.{slug}.{key}", value, text) for key, (value, text) in extra.items()]
    return settings


#: default unit costs per channel in EUR (estimates; source in the README)
UNIT_COSTS = {"online": 0.25, "app": 0.25, "phone": 4.60, "email": 4.60, "post": 8.40, "in_person": 14.00}

SETTINGS: list[Setting] = [
    Setting("warehouse.memory_limit", "512MB", "memory DuckDB may use when loading (larger batches spill to disk)"),
    Setting("warehouse.threads", 2, "threads DuckDB may use"),
    Setting("snapshots.keep", 3, "published snapshots kept for readers (at least 2)"),
    Setting("readers.memory_limit", "1GB", "memory a reader (CLI, dashboard worker) may use per snapshot"),
    Setting("sql.timeout_seconds", 30.0, "analyst SQL (SQL page, `egovsad sql`): a query is stopped after this long"),
    Setting(
        "sql.export_timeout_seconds",
        600.0,
        "analyst SQL: an export of a full result (SQL page, `egovsad sql --output`) is stopped after this long",
    ),
    Setting("logs.max_bytes", 10_000_000, "size at which logs/egovsad.log is rotated"),
    Setting("logs.backups", 5, "rotated log files kept"),
    Setting("dashboard.idle_minutes", 30, "a dashboard session without a request for this long ends"),
    Setting("dashboard.https", False, "the dashboard is served behind HTTPS: session cookies are sent only over it"),
    Setting("privacy.min_cell", 5, "views for mayors and officers (and `--suppress`) hide counts below this"),
    *(
        Setting(f"unit_costs.{channel}", eur, f"estimated cost in EUR of one transaction {label}")
        for channel, eur, label in [
            ("online", UNIT_COSTS["online"], "online"),
            ("app", UNIT_COSTS["app"], "in the app"),
            ("phone", UNIT_COSTS["phone"], "by phone"),
            ("email", UNIT_COSTS["email"], "by e-mail"),
            ("post", UNIT_COSTS["post"], "by post"),
            ("in_person", UNIT_COSTS["in_person"], "in person"),
        ]
    ),
    *_city("giessen", "{home}/inbox/giessen", "drop folder of nutzung_YYYY-MM-DD.csv files", "0 2 * * *"),
    *_city(
        "fulda",
        "{home}/inbox/fulda",
        "drop folder of export_YYYYMMDD.csv files",
        "10 2 * * *",
        service_names=({}, "extra Fulda service names -> service keys, added to the shipped table"),
    ),
    *_city(
        "limburg",
        f"{FEED_BASE}/limburg/export.ndjson.gz",
        "URL of the nightly export.ndjson.gz",
        "30 4 * * *",  # Limburg replaces its export around 03:00
    ),
    *_city(
        "marburg",
        f"{FEED_BASE}/marburg/events",
        "URL of the events API",
        "5 * * * *",
        token_env="EGOVSAD_MARBURG_TOKEN",
        page_size=(1000, "events per page"),
        lookback_hours=(48, "hours before the latest loaded event that each run asks for again"),
    ),
    *_city("offenbach", "{home}/inbox/offenbach", "folder of month=YYYY-MM/part-*.parquet partitions", "20 2 * * *"),
    *_city("wetzlar", "{home}/inbox/wetzlar", "drop folder of Wetzlar_Statistik_YYYY-MM.xlsx files", "40 2 * * *"),
]
DEFAULTS = {setting.key: setting for setting in SETTINGS}


def home_folder(environ: dict[str, str] | None = None) -> Path:
    """The home folder: ``$EGOVSAD_HOME``, else ``~/.local/share/egovsad``."""
    env = os.environ if environ is None else environ
    return Path(env.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return str(value)


def default_file_text(home: Path) -> str:
    """The settings file written on first use: every default, commented out, with its help."""
    lines = [
        "# eGovSAD settings. Every line below shows a default, commented out;",
        "# remove the '#' and change the value to override it.",
    ]
    section = None
    for setting in SETTINGS:
        table, _, name = setting.key.rpartition(".")
        if table != section:
            lines += ["", f"[{table}]"]
            section = table
        default = setting.default
        if isinstance(default, str):
            default = default.replace("{home}", str(home))
        lines.append(f"# {setting.help}")
        lines.append(f"# {name} = {_toml_value(default)}")
    return "\n".join(lines) + "\n"


def _flatten(table: dict[str, Any], prefix: str = "", declared: dict[str, Setting] = DEFAULTS) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and full not in declared:
            flat.update(_flatten(value, f"{full}.", declared))
        else:
            flat[full] = value
    return flat


def added_city_settings(home: Path, city: CityFile) -> list[Setting]:
    """The per-city settings of a city added by configuration, with its file's delivery as defaults."""
    delivery = city.delivery
    http = {"token_env": delivery.token_env or ""} if delivery.transport is Transport.HTTP else {}
    location = delivery.location or str(home / "inbox" / city.slug)
    if delivery.transport is Transport.HTTP and not location.startswith("http"):
        raise ConfigError(f"{city.path}: 'source.location' must be a URL for transport = \"http\", not {location!r}")
    return _city(
        city.slug, location, f"where {city.name}'s delivery is ({city.path.name})", ADDED_CITY_SCHEDULE, **http
    )


@dataclass(frozen=True)
class Config:
    """The settings in force, with the home folder they belong to."""

    home: Path
    values: dict[str, Any]
    environ: dict[str, str]
    definitions: dict[str, CityFile] = field(default_factory=dict)  # the cities added by configuration

    @property
    def cities(self) -> tuple[str, ...]:
        """Every configured city: the built-in ones, then those added by configuration."""
        return CITIES + tuple(self.definitions)

    @property
    def city_dir(self) -> Path:
        return self.home / FOLDER

    def check_city(self, slug: str) -> str:
        """``slug`` if it is a configured city; ConfigError naming the configured ones otherwise."""
        if slug not in self.cities:
            raise ConfigError(f"no city '{slug}' is configured; the cities are: {', '.join(self.cities)}")
        return slug

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse" / "egovsad.duckdb"

    @property
    def snapshot_dir(self) -> Path:
        return self.home / "snapshots"

    @property
    def lock_path(self) -> Path:
        return self.home / "writer.lock"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def spill_dir(self) -> Path:
        return self.home / "tmp" / "spill"

    @property
    def warehouse(self) -> WarehouseSettings:
        return WarehouseSettings(
            path=self.warehouse_path,
            temp_dir=self.home / "tmp" / "duckdb",
            memory_limit=str(self.values["warehouse.memory_limit"]),
            threads=int(self.values["warehouse.threads"]),
        )

    def city(self, slug: str, key: str) -> Any:
        return self.values[f"cities.{slug}.{key}"]

    def unit_costs(self) -> dict[str, dict[str, float]]:
        """EUR per transaction, per city and channel: the defaults with each city's overrides."""
        defaults = {channel: float(self.values[f"unit_costs.{channel}"]) for channel in UNIT_COSTS}
        return {
            city: defaults | {str(k): float(v) for k, v in dict(self.city(city, "unit_costs")).items()}
            for city in self.cities
        }

    def source_settings(self, slug: str, location: str | None = None) -> SourceSettings:
        """What ``slug``'s pipeline needs; ``location`` overrides the configured one."""
        self.check_city(slug)
        values = {
            key.rpartition(".")[2]: value for key, value in self.values.items() if key.startswith(f"cities.{slug}.")
        }
        token_env = values.get("token_env") or ""
        return SourceSettings(
            city=slug,
            location=location or str(values["location"]),
            work_dir=self.home / "tmp" / "downloads",
            token=self.environ.get(token_env) if token_env else None,
            page_size=int(values.get("page_size", 1000)),
            lookback_hours=int(values.get("lookback_hours", 48)),
            retry=RetryPolicy(
                max_retries=int(values.get("max_retries", 5)),
                backoff_seconds=float(values.get("backoff_seconds", 1.0)),
                timeout_seconds=float(values.get("timeout_seconds", 30.0)),
            ),
            service_names={str(k): str(v) for k, v in dict(values.get("service_names", {})).items()},
            delivery=self.definitions[slug].delivery if slug in self.definitions else None,
        )


def _checked(path: Path, key: str, value: Any, declared: dict[str, Setting]) -> Any:
    """``value`` of setting ``key`` as given in ``path``; ConfigError naming both if it is not valid."""
    if key not in declared:
        raise ConfigError(f"{path}: unknown setting '{key}'")
    expected = type(declared[key].default)
    if expected is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
        raise ConfigError(f"{path}: '{key}' must be a {expected.__name__}, not {value!r}")
    if key.endswith("memory_limit") and not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value):
        raise ConfigError(f'{path}: \'{key}\' must be a size such as "512MB" or "2GB", not {value!r}')
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise ConfigError(f"{path}: '{key}' must not be negative, not {value!r}")
    if key == "warehouse.threads" and value < 1:
        raise ConfigError(f"{path}: '{key}' must be at least 1")
    if key.startswith("sql.") and value <= 0:
        raise ConfigError(f"{path}: '{key}' must be more than 0 seconds")
    if key.endswith(".unit_costs"):
        for channel, eur in value.items():
            if channel not in UNIT_COSTS or not isinstance(eur, int | float) or eur < 0:
                raise ConfigError(
                    f"{path}: '{key}.{channel}' must be a channel ({', '.join(UNIT_COSTS)}) with a cost of 0 or more"
                )
    if key.endswith(".population"):
        try:
            populations(value)
        except CityFileError as error:
            raise ConfigError(f"{path}: '{key}': {error}") from None
    return value


def _added_cities(home: Path) -> tuple[dict[str, CityFile], dict[str, Setting]]:
    """The cities added by configuration and their settings, declared with their files' defaults."""
    try:
        definitions = read_city_files(home / FOLDER)
    except CityFileError as error:
        raise ConfigError(str(error)) from error
    declared = dict(DEFAULTS)
    for slug, city in definitions.items():
        if slug in CITIES:
            raise ConfigError(f"{city.path}: '{slug}' is a built-in city; its settings belong in {CONFIG_NAME}")
        declared.update({setting.key: setting for setting in added_city_settings(home, city)})
    return definitions, declared


def load(home: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read the settings of ``home`` (writing the commented default file on first use) and the
    city files under ``home/cities/``.

    Raises ConfigError for a file that is not TOML, an unknown key or a value of the
    wrong type.
    """
    env = dict(os.environ if environ is None else environ)
    home = home or home_folder(env)
    home.mkdir(parents=True, exist_ok=True)
    path = home / CONFIG_NAME
    if not path.exists():
        path.write_text(default_file_text(home), encoding="utf-8")
    definitions, declared = _added_cities(home)
    try:
        given = _flatten(tomllib.loads(path.read_text(encoding="utf-8")), declared=declared)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path} is not UTF-8 text: save it as UTF-8 ({error})") from error
    values = _defaults(home, declared)
    for city in definitions.values():
        values |= _file_values(city, declared)
    for key, value in given.items():
        values[key] = _checked(path, key, value, declared)
    return Config(home=home, values=values, environ=env, definitions=definitions)


def _defaults(home: Path, declared: dict[str, Setting]) -> dict[str, Any]:
    return {
        key: setting.default.replace("{home}", str(home)) if isinstance(setting.default, str) else setting.default
        for key, setting in declared.items()
    }


def _file_values(city: CityFile, declared: dict[str, Setting]) -> dict[str, Any]:
    """The per-city settings a city file gives, checked."""
    return {
        f"cities.{city.slug}.{name}": _checked(city.path, f"cities.{city.slug}.{name}", value, declared)
        for name, value in city.settings.items()
    }


def with_city(settings: Config, city: CityFile) -> Config:
    """``settings`` as they will be once ``city`` is added (for its dry run before it is).

    Raises ConfigError when the slug is taken or a setting in the city's file is not valid.
    """
    if city.slug in settings.cities:
        raise ConfigError(f"a city '{city.slug}' is already configured")
    declared = {setting.key: setting for setting in added_city_settings(settings.home, city)}
    values = settings.values | _defaults(settings.home, declared) | _file_values(city, declared)
    return replace(settings, values=values, definitions={**settings.definitions, city.slug: city})
