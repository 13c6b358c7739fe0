"""The simulator's deliveries: exact formats, lossless round trips, faults, determinism."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.simulate import FaultKind, SimulationError, SimulationSummary, simulate
from pipelines.simulate.cases import Period
from pipelines.simulate.events import city_events, daily_counts
from pipelines.simulate.model import build_city_models, fulda_names
from pipelines.simulate.writers import FULDA_CHANNELS, FULDA_STAGES, GIESSEN_DEVICES, GIESSEN_STAGES
from pipelines.simulate.writers import GIESSEN_CHANNELS as GIESSEN_WORDS
from tests.conftest import SAMPLES

END = dt.date(2026, 4, 30)  # Feb-Apr 2026: municipal election, spring forward, Easter
START = dt.date(2026, 2, 1)
SEED, SCALE = 7, 0.05
ARGS = {"months": 3, "end": END, "seed": SEED, "scale": SCALE}
CANONICAL = [
    "event_id", "occurred_at", "service_key", "channel", "stage", "case_id",
    "user_seconds", "eid", "epayment", "device", "rating",
]  # fmt: skip
TYPED: dict[Any, Any] = {
    "user_seconds": pl.Int32,
    "rating": pl.Int8,
    "eid": pl.Boolean,
    "epayment": pl.Boolean,
}
EVENT_CITIES = ("giessen", "fulda", "limburg", "marburg", "offenbach")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationSummary]:
    out = tmp_path_factory.mktemp("clean")
    return out, simulate(out, fault_rate=0.0, **ARGS)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationSummary]:
    out = tmp_path_factory.mktemp("faulty")
    return out, simulate(out, fault_rate=0.02, **ARGS)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def truth() -> dict[str, pl.DataFrame]:
    """The canonical events the simulator generated, before any format."""
    models = build_city_models(SEED)
    period = Period(START, END)
    made = {slug: city_events(m, period, seed=SEED, scale=SCALE) for slug, m in models.items()}
    return {slug: frame.select(CANONICAL) for slug, frame in made.items()}


# Readers written from the data contract alone, independent of the pipelines.


def _invert(words: dict[str, str]) -> dict[str, str]:
    return {word: canonical for canonical, word in words.items()}


def read_giessen(folder: Path) -> pl.DataFrame:
    files = sorted(folder.glob("nutzung_*.csv"))
    raw = pl.concat(pl.read_csv(f, separator=";", infer_schema=False) for f in files)
    local = pl.col("Zeitpunkt").str.strptime(pl.Datetime("us"), "%d.%m.%Y %H:%M:%S")
    ja_nein = {"ja": True, "nein": False}
    return raw.select(
        event_id="Vorgang",
        occurred_at=local.dt.replace_time_zone("Europe/Berlin", ambiguous="earliest")
        .dt.convert_time_zone("UTC"),
        service_key="Leistungsschluessel",
        channel=pl.col("Kanal").replace_strict(_invert(GIESSEN_WORDS)),
        stage=pl.col("Status").replace_strict(_invert(GIESSEN_STAGES)),
        case_id="Fall",
        user_seconds=(pl.col("Dauer_Min").str.replace(",", ".").cast(pl.Float64) * 60)
        .round(0)
        .cast(pl.Int32),
        eid=pl.col("eID").replace_strict(ja_nein, default=None, return_dtype=pl.Boolean),
        epayment=pl.col("Bezahlung").replace_strict(ja_nein, default=None, return_dtype=pl.Boolean),
        device=pl.col("Endgeraet").replace_strict(_invert(GIESSEN_DEVICES), default=None),
        rating=pl.col("Bewertung").cast(pl.Int8),
    )  # fmt: skip


def read_fulda(folder: Path) -> pl.DataFrame:
    texts = [f.read_bytes().decode("cp1252") for f in sorted(folder.glob("export_*.csv"))]
    raw = pl.concat(pl.read_csv(io.StringIO(t), infer_schema=False) for t in texts)
    keys = {name: key for key, name in fulda_names().items()}
    return raw.select(
        event_id="id",
        occurred_at=pl.from_epoch(pl.col("ts_epoch").cast(pl.Int64), time_unit="s")
        .dt.replace_time_zone("UTC")
        .cast(pl.Datetime("us", "UTC")),
        service_key=pl.col("leistung").replace_strict(keys),
        channel=pl.col("kanal").replace_strict(_invert(FULDA_CHANNELS)),
        stage=pl.col("status").replace_strict(_invert(FULDA_STAGES)),
        case_id="fall_id",
        user_seconds=pl.col("sekunden").cast(pl.Int32),
        eid=pl.lit(None, pl.Boolean),
        epayment=pl.lit(None, pl.Boolean),
        device=pl.lit(None, pl.String),
        rating=pl.col("bewertung").cast(pl.Int8),
    )  # fmt: skip


def read_limburg(path: Path) -> pl.DataFrame:
    raw = pl.read_ndjson(io.BytesIO(gzip.decompress(path.read_bytes())))
    at = pl.col("occurred_at").str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%SZ")
    return raw.with_columns(at).select(CANONICAL).cast(TYPED)


def read_wetzlar(folder: Path) -> pl.DataFrame:
    files = sorted(folder.glob("Wetzlar_Statistik_*.xlsx"))
    return pl.concat(pl.read_excel(f, sheet_name="Tageswerte") for f in files)


def _same(delivered: pl.DataFrame, expected: pl.DataFrame) -> None:
    order = ["event_id"]
    assert delivered.sort(order).equals(expected.sort(order), null_equal=True)


# Exact formats, compared with the samples.


def test_giessen_files_are_utf8_with_bom_semicolons_and_crlf(clean: tuple[Path, object]) -> None:
    out, _ = clean
    sample_header = (SAMPLES / "giessen" / "nutzung_2026-01-02.csv").read_bytes().split(b"\n")[0]
    files = sorted((out / "giessen").glob("*.csv"))

    assert [f.name for f in files[:2]] == ["nutzung_2026-02-01.csv", "nutzung_2026-02-02.csv"]
    assert len(files) == (END - START).days + 1  # every day, even a quiet one
    data = files[10].read_bytes()
    assert data.startswith(sample_header + b"\n")
    assert data.count(b"\r\n") == data.count(b"\n")
    text = data.decode("utf-8-sig")
    for line in text.splitlines()[1:]:
        _, when, _, kanal, status, _, minutes, eid, _, device, rating = line.split(";")
        assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d", when)
        assert kanal in GIESSEN_WORDS.values() and status in GIESSEN_STAGES.values()
        assert re.fullmatch(r"(\d+,\d)?", minutes) and eid in ("", "ja", "nein")
        assert device in ("", *GIESSEN_DEVICES.values()) and rating in ("", "1", "2", "3", "4", "5")


def test_fulda_files_are_windows_1252_with_fulda_words(clean: tuple[Path, object]) -> None:
    out, _ = clean
    sample_header = (SAMPLES / "fulda" / "export_20251028.csv").read_bytes().split(b"\r\n")[0]
    data = b"".join(f.read_bytes() for f in sorted((out / "fulda").glob("export_*.csv")))

    assert data.startswith(sample_header + b"\r\n")
    assert "Führungszeugnis".encode("cp1252") in data and "ü".encode() not in data
    assert b'"Gewerbe: Ab-, Um- oder Anmeldung (alt)"' in data  # a name with a comma is quoted


def test_parquet_deliveries_have_the_sample_schema(clean: tuple[Path, object]) -> None:
    out, _ = clean
    sample = pl.read_parquet(SAMPLES / "offenbach" / "month=2026-03" / "part-0.parquet").schema
    parts = sorted(p.relative_to(out / "offenbach").as_posix() for p in out.glob("offenbach/**/*"))

    assert "month=2026-02/part-0.parquet" in parts and "month=2026-04/part-2.parquet" in parts
    assert pl.read_parquet(out / "offenbach" / "month=2026-03" / "part-1.parquet").schema == sample
    assert pl.read_parquet(out / "marburg" / "events.parquet").schema == sample


def test_limburg_lines_are_written_like_the_sample(clean: tuple[Path, object]) -> None:
    out, _ = clean
    sample = gzip.decompress((SAMPLES / "limburg" / "export.ndjson.gz").read_bytes())
    lines = gzip.decompress((out / "limburg" / "export.ndjson.gz").read_bytes()).splitlines()

    assert list(json.loads(lines[0])) == list(json.loads(sample.splitlines()[0]))
    assert all(line.decode() == json.dumps(json.loads(line)) for line in lines)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", json.loads(lines[0])["occurred_at"])


def test_wetzlar_workbooks_read_like_the_sample(clean: tuple[Path, object]) -> None:
    out, _ = clean
    sample = pl.read_excel(SAMPLES / "wetzlar" / "Wetzlar_Statistik_2025-11.xlsx").schema
    files = sorted(p.name for p in (out / "wetzlar").iterdir())

    assert files == [f"Wetzlar_Statistik_2026-0{m}.xlsx" for m in (2, 3, 4)]
    march = pl.read_excel(out / "wetzlar" / files[1], sheet_name="Tageswerte")
    assert march.schema == sample
    assert march["Datum"].min() == dt.date(2026, 3, 1)
    assert march["Datum"].max() == dt.date(2026, 3, 31)


# Round trips: what each format holds is exactly the simulated events.


def test_every_format_round_trips_to_the_simulated_events(
    clean: tuple[Path, SimulationSummary], truth: dict[str, pl.DataFrame]
) -> None:
    out, summary = clean

    giessen = read_giessen(out / "giessen")
    expected = truth["giessen"].with_columns(
        # minutes with one decimal keep the time to within 3 seconds
        pl.col("user_seconds").cast(pl.Float64).truediv(6).round(0).mul(6).cast(pl.Int32)
    )
    _same(giessen, expected)
    without = truth["fulda"].with_columns(eid=None, epayment=None, device=None)  # not delivered
    _same(read_fulda(out / "fulda"), without)
    _same(pl.read_parquet(out / "offenbach" / "**" / "*.parquet"), truth["offenbach"])
    _same(pl.read_parquet(out / "marburg" / "events.parquet"), truth["marburg"])
    _same(read_limburg(out / "limburg" / "export.ndjson.gz"), truth["limburg"])
    for slug in EVENT_CITIES:
        assert summary.cities[slug].rows == truth[slug].height


def test_wetzlar_counts_are_the_daily_roll_up_of_its_events(
    clean: tuple[Path, SimulationSummary], truth: dict[str, pl.DataFrame]
) -> None:
    out, summary = clean
    rolled = daily_counts(truth["wetzlar"].with_columns(
        pl.col("occurred_at").dt.convert_time_zone("Europe/Berlin").dt.date().alias("_day")
    )).drop("_day")  # fmt: skip
    words = {"channel": pl.col("channel").replace(GIESSEN_WORDS)}

    delivered = read_wetzlar(out / "wetzlar")
    assert delivered.height == summary.cities["wetzlar"].rows == rolled.height
    assert delivered.rows() == rolled.with_columns(**words).rows()


# The behaviour of the simulated citizens and offices.


def test_events_follow_the_contract_and_the_office_hours(truth: dict[str, pl.DataFrame]) -> None:
    events = pl.concat(frame.with_columns(city=pl.lit(slug)) for slug, frame in truth.items())
    local = pl.col("occurred_at").dt.convert_time_zone("Europe/Berlin")
    digital = pl.col("channel").is_in(["online", "app"])
    submitted = pl.col("stage") == "submitted"
    counter = events.filter(pl.col("channel") == "in_person", pl.col("stage") == "started")

    assert events["event_id"].is_unique().all()
    assert events.filter(pl.col("device").is_not_null() & ~digital).is_empty()
    assert events.filter(pl.col("eid").is_not_null() != (digital & submitted)).is_empty()
    assert events.filter(pl.col("rating").is_not_null() & ~submitted).is_empty()
    assert events.filter(pl.col("user_seconds").is_not_null() != submitted).is_empty()
    assert counter.select(local.dt.weekday().max()).item() <= 5
    assert counter.select(local.dt.hour().is_between(7, 17).all()).item()
    closed = [dt.date(2026, 4, 3), dt.date(2026, 4, 6)]  # Good Friday, Easter Monday
    assert counter.filter(local.dt.date().is_in(closed)).is_empty()
    assert events["rating"].drop_nulls().is_between(1, 5).all()
    share = events.filter(digital & submitted)["eid"].mean()
    assert 0.15 < share < 0.35  # type: ignore[operator]


def test_ids_look_like_the_samples_and_fulda_offers_only_its_services(
    truth: dict[str, pl.DataFrame],
) -> None:
    for slug, prefix in {"giessen": "GI", "fulda": "FU", "marburg": "MA"}.items():
        assert truth[slug]["event_id"].str.contains(rf"^{prefix}-\d{{14}}$").all()
        assert truth[slug]["case_id"].str.contains(rf"^{prefix}C[0-9a-f]{{10}}$").all()
    assert set(truth["fulda"]["service_key"]) <= set(fulda_names())


def test_postal_votes_come_before_the_election(truth: dict[str, pl.DataFrame]) -> None:
    postal_vote = (pl.col("service_key") == "99128009012000") & (pl.col("stage") == "started")
    votes = truth["offenbach"].filter(postal_vote)
    days = votes["occurred_at"].dt.convert_time_zone("Europe/Berlin").dt.date()

    assert votes.height > 0
    assert max(days) < dt.date(2026, 3, 15)  # municipal elections


# Faults.


def test_faults_of_every_kind_are_injected_and_counted(
    faulty: tuple[Path, SimulationSummary], clean: tuple[Path, SimulationSummary]
) -> None:
    _, spoilt = faulty
    _, fine = clean

    assert set(spoilt.faults) == {str(kind) for kind in FaultKind}
    assert fine.faults == {}
    for slug in EVENT_CITIES:
        counts = spoilt.cities[slug].faults
        extra = counts.get("exact_duplicate", 0) + counts.get("conflicting_duplicate", 0)
        assert spoilt.cities[slug].rows == fine.cities[slug].rows + extra
    assert spoilt.cities["wetzlar"].rows == fine.cities["wetzlar"].rows


def test_faults_appear_in_each_city_s_own_words(faulty: tuple[Path, SimulationSummary]) -> None:
    out, _ = faulty
    giessen = "".join(f.read_text("utf-8-sig") for f in sorted((out / "giessen").glob("*.csv")))
    fulda = b"".join(f.read_bytes() for f in sorted((out / "fulda").glob("*.csv"))).decode("cp1252")
    wetzlar = read_wetzlar(out / "wetzlar")

    assert re.search(r";29\.03\.2026 02:\d\d:\d\d;", giessen)  # the hour that does not exist
    assert ";Fax;" in giessen and re.search(r";\d\d\.\d\d\.2031 ", giessen)
    assert re.search(r";[^;]*@[^;]*;", giessen)  # an e-mail address as case id
    assert ",Fischereischein beantragen," in fulda or ",Beglaubigung von Dokumenten," in fulda
    assert wetzlar.filter(pl.col("Kanal") == "Fax").height > 0
    assert wetzlar.filter(pl.any_horizontal(pl.col(pl.Int64) < 0)).height > 0


def test_duplicates_come_later_in_the_same_delivery(faulty: tuple[Path, SimulationSummary]) -> None:
    out, _ = faulty
    rows = pl.read_parquet(out / "marburg" / "events.parquet").with_row_index()
    twice = rows.filter(pl.col("event_id").is_duplicated(), pl.col("event_id").is_not_null())
    versions = pl.struct(CANONICAL).n_unique().alias("n")
    pairs = twice.group_by("event_id").agg(pl.col("index"), versions)

    assert set(pairs["n"]) == {1, 2}  # exact and conflicting duplicates
    assert pairs["index"].list.len().eq(2).all()


# Determinism.


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _clean_run(out: Path, **change: object) -> SimulationSummary:
    return simulate(out, **{**ARGS, "fault_rate": 0.0, **change})  # type: ignore[arg-type]


def test_same_seed_same_bytes_and_a_shorter_period_agrees(
    tmp_path: Path, clean: tuple[Path, SimulationSummary]
) -> None:
    out, first = clean
    again = _clean_run(tmp_path / "again")
    april = _clean_run(tmp_path / "april", months=1)
    other = _clean_run(tmp_path / "other", seed=SEED + 1)
    before = _digest(out)

    assert _digest(tmp_path / "again") == before
    assert again.cities == first.cities
    assert april.start == dt.date(2026, 4, 1)
    shorter = _digest(tmp_path / "april")
    kept = [name for name in shorter if name.startswith(("giessen/", "fulda/", "offenbach/"))]
    assert kept and all(before[name] == shorter[name] for name in kept)
    day = "giessen/nutzung_2026-03-17.csv"
    assert _digest(tmp_path / "other")[day] != before[day]
    assert other.cities["giessen"].rows != again.cities["giessen"].rows


def test_the_summary_reads_well(faulty: tuple[Path, SimulationSummary]) -> None:
    _, summary = faulty
    text = "\n".join(summary.lines())

    assert all(slug in text for slug in summary.cities)
    assert "daily rows" in text and "nonexistent_local_time" in text


@pytest.mark.parametrize(
    "change",
    [
        {"months": 0},
        {"scale": 0.0},
        {"fault_rate": 0.9},
        {"seed": -1},
        {"end": dt.date(1999, 5, 1)},
    ],
)
def test_arguments_out_of_range_are_refused(tmp_path: Path, change: dict[str, object]) -> None:
    with pytest.raises(SimulationError):
        simulate(tmp_path, **{**ARGS, **change})  # type: ignore[arg-type]
