"""The behavioural model of the simulator: who uses which service, how, and how fast it is done.

Everything a digital officer could argue with lives here as data, next to the published figure
it was calibrated against (see CALIBRATION.md in the project spec):

- about 1.6 cases per inhabitant and year (Offenbach 2025: 218,518 cases, 135,490 inhabitants);
- the digital share depends on the service far more than on the city (Offenbach: parking
  permits mostly online, address registrations almost never), so each service carries its own
  share and a city only nudges it by a factor between 0.85 and 1.15;
- certificates are ordered online about 75 % of the time (Marburg registry office);
- online ID (eID) on roughly 22-25 % of digital applications, about a fifth to a quarter of
  online processes abandoned (eGovernment MONITOR);
- about 10 minutes average wait at the counter (Offenbach Bürgerbüro).

The generator in `generate.py` reads these tables; it holds no numbers of its own.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl

from pipelines.contract import CHANNELS, DIGITAL_CHANNELS
from warehouse.seed import read_cities, read_services

DIGITAL = np.array([c in DIGITAL_CHANNELS for c in CHANNELS])

CASES_PER_INHABITANT_YEAR = 1.6

# Split of the non-digital cases over (in_person, phone, email, post), by kind of service.
ANALOG_SPLITS: dict[str, tuple[float, float, float, float]] = {
    "counter": (1.0, 0.0, 0.0, 0.0),  # personal presence required by law
    "office": (0.82, 0.08, 0.06, 0.04),
    "mixed": (0.55, 0.20, 0.15, 0.10),
    "postal": (0.40, 0.10, 0.20, 0.30),  # paper forms, certificates sent by mail
    "remote": (0.15, 0.60, 0.20, 0.05),  # typically phoned in (bulky waste)
}


class ServiceProfile(NamedTuple):
    """How one service is used; the numbers are shares of cases, minutes and working days."""

    key: str
    weight: float  # relative popularity (percent of all cases)
    digital: float  # share of cases handled online or in the app
    analog: str  # key of ANALOG_SPLITS
    minutes: float  # median minutes a citizen spends on the form or at the counter
    counter_days: float  # median working days to decide an in-person case (0: on the spot)
    remote_days: float  # same for all other channels (0: decided automatically)
    reject: float  # share of submitted cases that are declined
    fee: bool  # a fee is due, so online applications can pay online
    eid: float  # probability that a digital application uses the online ID


P = ServiceProfile
# fmt: off
SERVICE_PROFILES: tuple[ServiceProfile, ...] = (
    #  key               weight digital analog   min  ctr  rem  reject  fee    eid
    P("99115005104000",  8.0, 0.03, "office",  10,  0,  2, 0.010, False, 0.90),  # residence
    P("99115005070000",  2.5, 0.30, "mixed",    6,  0,  2, 0.010, False, 0.50),
    P("99115005011000",  4.0, 0.04, "office",   8,  0,  2, 0.010, False, 0.90),
    P("99115008000000",  1.5, 0.55, "mixed",    5,  0,  1, 0.010, False, 0.10),
    P("99115003012000",  3.0, 0.12, "office",   4,  0,  0, 0.010, True,  0.80),  # certificate
    P("99115004001001",  2.0, 0.75, "postal",   5,  0,  0, 0.050, True,  0.20),
    P("99115002060000",  0.3, 0.10, "postal",  10,  2,  3, 0.200, False, 0.60),
    P("99008001012000",  9.5, 0.00, "counter", 15, 15, 15, 0.005, True,  0.00),  # identity card
    P("99008001040000",  7.5, 0.00, "counter",  5,  0,  0, 0.000, False, 0.00),
    P("99085001012000",  4.0, 0.00, "counter", 15, 15, 15, 0.005, True,  0.00),  # passport
    P("99085003012000",  1.5, 0.00, "counter", 12,  0,  0, 0.005, True,  0.00),
    P("99049001001000",  3.0, 0.55, "office",   6,  7,  7, 0.010, True,  0.90),
    P("99036008007000",  5.0, 0.40, "office",  15,  0,  2, 0.040, True,  0.80),  # register vehicle
    P("99036008070000",  2.5, 0.50, "office",   8,  0,  1, 0.020, True,  0.80),
    P("99036009072003",  2.5, 0.90, "office",   4,  0,  0, 0.020, True,  0.00),
    P("99023001051000",  1.5, 0.10, "counter",  8, 15, 15, 0.020, True,  0.50),
    P("99108001001000", 10.0, 0.80, "office",   6,  0,  3, 0.050, True,  0.15),  # parking permit
    P("99108009012000",  0.4, 0.20, "mixed",    8,  5,  5, 0.100, False, 0.20),
    P("99108011153000",  1.0, 0.70, "mixed",    7,  5,  5, 0.050, True,  0.05),
    P("99108012005000",  0.5, 0.50, "mixed",   12, 10, 10, 0.080, True,  0.10),
    P("99050012104000",  1.5, 0.55, "office",  12,  0,  2, 0.020, True,  0.40),  # business
    P("99050012071000",  0.5, 0.50, "office",  10,  0,  2, 0.020, True,  0.40),
    P("99050012070000",  0.8, 0.50, "office",   8,  0,  2, 0.010, True,  0.40),
    P("99052001000000",  0.3, 0.50, "postal",   5,  7,  7, 0.010, True,  0.80),
    P("99102013104000",  1.0, 0.45, "postal",   6,  5,  5, 0.010, False, 0.05),
    P("99110009104000",  0.5, 0.40, "postal",   6,  5,  5, 0.010, False, 0.05),
    P("99027002012000",  2.4, 0.70, "postal",   5,  0,  2, 0.010, True,  0.10),  # certificates
    P("99059004012000",  1.2, 0.72, "postal",   5,  0,  2, 0.010, True,  0.10),
    P("99101004012000",  1.4, 0.62, "postal",   5,  0,  2, 0.010, True,  0.10),
    P("99059001104000",  0.5, 0.05, "counter", 20, 10, 10, 0.030, True,  0.30),
    P("99133001026000",  0.3, 0.00, "counter", 25,  0,  0, 0.010, False, 0.00),
    P("99041004034000",  1.2, 0.75, "mixed",   12, 20, 20, 0.120, False, 0.10),  # day care
    P("99107007149000",  0.8, 0.50, "postal",  15, 15, 15, 0.100, False, 0.10),
    P("99107023000000",  2.0, 0.30, "postal",  25, 30, 30, 0.200, False, 0.30),  # housing benefit
    P("99107022012000",  0.8, 0.30, "postal",  15, 15, 15, 0.150, False, 0.30),
    P("99001009004002",  6.0, 0.80, "remote",   4,  1,  1, 0.010, False, 0.02),  # bulky waste
    P("99012008001000",  0.4, 0.35, "postal",  30, 40, 40, 0.120, True,  0.30),
    P("99093003001000",  0.3, 0.50, "postal",  10, 20, 20, 0.250, True,  0.10),
    P("99089017152000",  0.6, 0.05, "counter",  5,  0,  0, 0.020, True,  0.00),
    P("99128009012000",  0.0, 0.65, "postal",   3,  2,  2, 0.010, False, 0.05),  # postal vote
    P("99099002000000",  0.8, 0.30, "office",  25, 40, 40, 0.080, True,  0.40),
    P("99010001001000",  4.0, 0.10, "counter", 20, 20, 20, 0.060, True,  0.10),
    P("99102012002000",  1.0, 0.30, "postal",  10, 10, 10, 0.030, False, 0.20),
    P("99102017002000",  0.4, 0.30, "postal",  10, 10, 10, 0.020, False, 0.20),
)
# fmt: on

# A catalogue entry added later without a profile still gets simulated, modestly.
DEFAULT_PROFILE = P("", 0.3, 0.40, "office", 8, 5, 5, 0.03, True, 0.20)

POSTAL_VOTE_KEY = "99128009012000"
DAY_CARE_KEYS = ("99041004034000", "99107007149000")

# Behaviour per channel, in CHANNELS order (online, app, in_person, phone, email, post).
ABANDON_BASE = np.array([0.15, 0.13, 0.03, 0.05, 0.03, 0.02])
ABANDON_PER_EID = 0.10  # online processes that need the eID are given up more often
NO_OUTCOME_SHARE = 0.02  # withdrawn or never closed in the log
RATED_SHARE = 0.15
RATING_PROBS = np.array([0.05, 0.06, 0.12, 0.31, 0.46])  # 1..5
EPAYMENT_SHARE = 0.80  # of digital applications for a fee (Marburg: ~75 % paid online)
EID_SCALE = 1.0  # global knob on the per-service eID probability
ONLINE_DEVICE_PROBS = np.array([0.47, 0.45, 0.08])  # desktop, mobile, tablet
APP_DEVICE_PROBS = np.array([0.0, 0.90, 0.10])

# Time from start to submission: median = per-minute factor x the service's minutes + fixed
# seconds, spread log-normally; in person the wait at the counter comes on top.
WORK_PER_MINUTE_S = np.array([60.0, 48.0, 60.0, 0.0, 0.0, 0.0])  # the app is a little quicker
WORK_FIXED_S = np.array([0.0, 0.0, 0.0, 300.0, 600.0, 900.0])  # a call, an e-mail, a letter
WORK_SPREAD = np.array([0.55, 0.55, 0.4, 0.6, 0.7, 0.7])
COUNTER_WAIT_MEAN_S = 600.0  # Offenbach: about 10 minutes average wait
SESSION_TIMEOUT_S = 1800  # the portal records `abandoned` when the session times out
ONLINE_ACTIVITY_S = 180.0  # median time on the form before a session is left to time out
QUEUE_LEAVE_MEAN_S = 1500.0  # waiting in person before giving up (after at least 5 minutes)
PHONE_HANGUP_S = 90.0  # median time on hold before hanging up
INSTANT_DECISION_S = np.array([30.0, 30.0, 120.0, 0.0, 0.0, 0.0])  # automated / at the counter
MAX_PROCESSING_WORKDAYS = 60
WRITTEN_CLOSE_WORKDAYS = 10.0  # an incomplete e-mail or letter case is closed after about this
# How much earlier than the period cases are simulated, so that completions of cases started
# before the period appear in it. Must exceed the longest lag (MAX_PROCESSING_WORKDAYS).
WARMUP_DAYS = 100


@dataclass(frozen=True)
class CityProfile:
    """What is particular about one city's citizens: only mild factors, by design."""

    prefix: str  # event ids PREFIX-..., case ids PREFIXC...
    digital_factor: float  # multiplies every service's digital share
    app_share: float  # share of the digital cases that use the city's app


CITY_PROFILES: dict[str, CityProfile] = {
    "giessen": CityProfile("GI", 1.05, 0.12),
    "fulda": CityProfile("FU", 0.90, 0.20),
    "limburg": CityProfile("LI", 0.85, 0.10),
    "marburg": CityProfile("MA", 1.15, 0.15),
    "offenbach": CityProfile("OF", 1.00, 0.18),
    "wetzlar": CityProfile("WE", 0.95, 0.10),
}

FULDA_SERVICES_CSV = Path(__file__).resolve().parent.parent / "sources" / "fulda_services.csv"


@dataclass(frozen=True)
class CityModel:
    """One city ready for the generator: its population and the service x channel mix."""

    slug: str
    population: int
    profile: CityProfile
    stream: int  # stable number that keys the city's random streams
    service_keys: tuple[str, ...]
    service_weights: np.ndarray  # (S,) sums to 1
    channel_probs: np.ndarray  # (S, C) rows sum to 1
    profiles: tuple[ServiceProfile, ...]

    @property
    def daily_cases(self) -> float:
        """Average cases per day before seasonality and scale."""
        return self.population * CASES_PER_INHABITANT_YEAR / 365.0


def fulda_names() -> dict[str, str]:
    """Fulda's own service names by service key (Fulda only offers the services in its table)."""
    schema = {"service_key": pl.String}
    table = pl.read_csv(FULDA_SERVICES_CSV, separator=";", schema_overrides=schema)
    return dict(zip(table["service_key"], table["name"], strict=True))


def catalogue_keys() -> tuple[str, ...]:
    """The service keys of the catalogue, the only ones the simulator delivers (faults aside)."""
    return tuple(read_services()["service_key"].to_list())


def build_city_models(seed: int) -> dict[str, CityModel]:
    """Combine the seed data with the profiles; per-city popularity varies a little with `seed`."""
    by_key = {p.key: p for p in SERVICE_PROFILES}
    keys = catalogue_keys()
    fulda_keys = set(fulda_names())
    models: dict[str, CityModel] = {}
    for row in read_cities().iter_rows(named=True):
        slug = row["slug"]
        profile = CITY_PROFILES[slug]
        city_keys = tuple(k for k in keys if slug != "fulda" or k in fulda_keys)
        profiles = tuple(by_key.get(k, DEFAULT_PROFILE._replace(key=k)) for k in city_keys)
        stream = zlib.crc32(slug.encode())
        jitter = np.random.default_rng([seed, stream, 1]).lognormal(0.0, 0.15, len(profiles))
        weights = np.array([p.weight for p in profiles]) * jitter
        models[slug] = CityModel(
            slug=slug,
            population=int(row["population"]),
            profile=profile,
            stream=stream,
            service_keys=city_keys,
            service_weights=weights / weights.sum(),
            channel_probs=_channel_probs(profiles, profile),
            profiles=profiles,
        )
    return models


def _channel_probs(profiles: tuple[ServiceProfile, ...], city: CityProfile) -> np.ndarray:
    """Per service the probability of each channel: digital share split online/app, the rest
    split by the service's analog profile."""
    digital = np.clip(np.array([p.digital for p in profiles]) * city.digital_factor, 0.0, 0.97)
    analog = np.array([ANALOG_SPLITS[p.analog] for p in profiles])
    probs = np.empty((len(profiles), len(CHANNELS)))
    probs[:, 0] = digital * (1.0 - city.app_share)
    probs[:, 1] = digital * city.app_share
    probs[:, 2:] = analog * (1.0 - digital)[:, None]
    return probs
