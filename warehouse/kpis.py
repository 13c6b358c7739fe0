"""The KPI registry: every KPI of the cooperation, defined once (sql/kpi/), used everywhere.

The dashboard, the command line and exports all call :func:`compute`, so a
number on screen, printed by ``egovsad kpi`` and exported as CSV is the same
number. Grouping dimensions come from a fixed list and are the only text put
into the SQL; every user value is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from warehouse.db import frame
from warehouse.errors import WarehouseError
from warehouse.sql_files import sql

#: grouping dimension -> its column expression (output column named as the dimension)
DIMENSIONS: dict[str, str] = {
    "city": "city",
    "service": "service_key AS service",
    "channel": "channel",
    # the first day of the month: far cheaper per row than text; shown as YYYY-MM by compute()
    "month": "date_trunc('month', day)::DATE AS month",
    "day": "day",
}
ALL_DIMS = frozenset(DIMENSIONS)
NO_CHANNEL = frozenset({"city", "service", "month", "day"})


class KpiError(WarehouseError):
    """An unknown KPI, a grouping it does not allow, or a bad selection."""


@dataclass(frozen=True)
class Kpi:
    """One KPI: what it is called, what it measures, and how it may be grouped."""

    id: str
    name_de: str
    name_en: str
    description_de: str
    description_en: str
    unit: str  # count, share, rating, minutes, days, eur, eur_per_year, per_1000
    template: str
    events_only: bool = False
    dims: frozenset[str] = ALL_DIMS
    ignores_channel_filter: bool = False
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def is_rate(self) -> bool:
        return self.unit in ("share", "rating", "eur", "per_1000")


def _count(stage: str, name_de: str, name_en: str, kpi_id: str | None = None) -> Kpi:
    return Kpi(
        kpi_id or stage,
        name_de,
        name_en,
        f"Anzahl der Schritte „{name_de}“ im Zeitraum.",
        f"Number of '{stage}' steps in the period.",
        "count",
        "count",
        fields={"stage": stage},
    )


def _share(
    kpi_id: str, name_de: str, name_en: str, de: str, en: str, unit: str, numerator: str, denominator: str
) -> Kpi:
    return Kpi(
        kpi_id, name_de, name_en, de, en, unit, "event_share", events_only=True,
        fields={"numerator": numerator, "denominator": denominator},
    )  # fmt: skip


KPIS: dict[str, Kpi] = {
    kpi.id: kpi
    for kpi in [
        _count("submitted", "Vorgänge (eingereicht)", "transactions", "transactions"),
        _count("started", "begonnen", "started"),
        _count("completed", "abgeschlossen", "completed"),
        _count("rejected", "abgelehnt", "rejected"),
        _count("abandoned", "abgebrochen", "abandoned"),
        Kpi(
            "digital_takeup", "Digitalquote", "digital take-up",
            "Anteil der digitalen Vorgänge (Online, App) an allen Vorgängen; ein Kanalfilter gilt nicht.",
            "Digital transactions (online, app) / all transactions; a channel filter is ignored.",
            "share", "digital_takeup", dims=NO_CHANNEL, ignores_channel_filter=True,
        ),
        Kpi(
            "completion_rate", "Abschlussquote online", "online completion rate",
            "Digital eingereicht / digital begonnen.", "Digital submitted / digital started.",
            "share", "completion_rate",
        ),
        Kpi(
            "transactions_per_1000", "Vorgänge je 1.000 Einwohner", "transactions per 1,000 inhabitants",
            "Vorgänge / Einwohner × 1.000 (Einwohner der Städte der Gruppe).",
            "Transactions / population x 1,000 (population of the group's cities).",
            "per_1000", "transactions_per_1000",
        ),
        _share(
            "satisfaction", "Zufriedenheit (Anteil 4–5 Sterne)", "satisfaction (share rating 4–5)",
            "Bewertungen mit 4 oder 5 Sternen / alle Bewertungen.", "Ratings of 4 or 5 / all ratings given.",
            "share", "ratings_good", "ratings",
        ),
        _share(
            "mean_rating", "Durchschnittsbewertung", "mean rating",
            "Mittelwert der abgegebenen Bewertungen (1–5).", "Mean of the ratings given (1-5).",
            "rating", "rating_sum", "ratings",
        ),
        _share(
            "eid_share", "Anteil Online-Ausweis (eID)", "eID share",
            "Digitale Vorgänge mit eID / digitale Vorgänge mit eID-Angabe.",
            "Digital transactions with eID / digital transactions reporting eID.",
            "share", "eid_used", "eid_reported",
        ),
        _share(
            "epayment_share", "Anteil Online-Bezahlung", "e-payment share",
            "Digitale Vorgänge mit Online-Bezahlung / digitale Vorgänge mit Angabe.",
            "Digital transactions paid online / digital transactions reporting payment.",
            "share", "epay_used", "epay_reported",
        ),
        _share(
            "mobile_share", "Anteil mobil", "mobile share",
            "Digitale Vorgänge auf Smartphone oder Tablet / digitale Vorgänge mit Geräteangabe.",
            "Digital transactions on mobile or tablet / digital transactions reporting a device.",
            "share", "device_mobile", "device_reported",
        ),
        Kpi(
            "median_user_minutes", "Median Bearbeitungszeit Bürger (Min.)", "median citizen time (min)",
            "Median der Zeit, die Bürgerinnen und Bürger für einen Vorgang aufwenden, in Minuten.",
            "Median of the citizen's time per transaction, in minutes.",
            "minutes", "median_user_minutes", events_only=True,
        ),
        Kpi(
            "median_processing_days", "Median Durchlaufzeit Verwaltung (Tage)", "median processing time (days)",
            "Median der Tage von der Einreichung bis zum Abschluss eines Falls (Tag des Abschlusses).",
            "Median days from a case's submission to its completion (on the day of completion).",
            "days", "median_processing_days", events_only=True,
        ),
        Kpi(
            "cost_per_transaction", "Kosten je Vorgang (Schätzung)", "cost per transaction (estimate)",
            "Summe der Vorgänge × Stückkosten des Kanals / Vorgänge (Schätzung aus Richtwerten).",
            "Sum of transactions x the channel's unit cost / transactions (estimate from benchmarks).",
            "eur", "cost_per_transaction",
        ),
        Kpi(
            "services_online", "online angebotene Leistungen", "services online",
            "Leistungen mit mindestens einem digitalen Vorgang.",
            "Services with at least one digital transaction.",
            "count", "services_online", dims=frozenset({"city", "month", "day"}),
        ),
        Kpi(
            "savings_potential", "Einsparpotenzial", "savings potential",
            "Jährliche Einsparung, wenn die Stadt bei jeder Leistung die beste Digitalquote der Städte erreichte "
            "(Schätzung).",
            "Yearly saving if the city reached the best digital take-up among the cities for each service "
            "(estimate).",
            "eur_per_year", "savings_potential", dims=frozenset({"city", "service"}), ignores_channel_filter=True,
        ),
    ]
}  # fmt: skip


@dataclass(frozen=True)
class Selection:
    """What a KPI is computed over: local days [start, end] and optional filters."""

    start: date
    end: date
    cities: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def last_full_months(today: date, months: int = 12) -> tuple[date, date]:
    """The default period: the last ``months`` full calendar months before ``today``."""
    end = today.replace(day=1) - timedelta(days=1)
    year, month = end.year, end.month - months + 1
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1), end


def get(kpi_id: str) -> Kpi:
    try:
        return KPIS[kpi_id]
    except KeyError:
        raise KpiError(f"unknown KPI '{kpi_id}'; 'egovsad kpi --list' shows them all") from None


def query_text(kpi: Kpi, by: tuple[str, ...]) -> str:
    """The KPI's SQL with the grouping filled in (from the fixed dimension list only)."""
    bad = [dim for dim in by if dim not in kpi.dims]
    if bad:
        raise KpiError(f"{kpi.id} cannot be grouped by {', '.join(bad)}; it allows {', '.join(sorted(kpi.dims))}")
    if len(set(by)) != len(by):
        raise KpiError("a dimension appears twice in --by")
    dims = "".join(f"{DIMENSIONS[dim]}, " for dim in by)
    join = f"USING ({', '.join(by)})" if by else "ON TRUE"
    partition = f"PARTITION BY {', '.join(by)}" if by else ""
    group_cities = "list_distinct(list(city))" if "city" in by else "coalesce($cities, (SELECT list(slug) FROM cities))"
    return sql(f"kpi/{kpi.template}").format(
        dims=dims, join=join, partition=partition, group_cities=group_cities, period_end=_period_end(by),
        **kpi.fields,
    )  # fmt: skip


def _period_end(by: tuple[str, ...]) -> str:
    """The last day of a group's period (of grouped rows ``g``), for figures valid at a date."""
    if "day" in by:
        return "g.day"
    if "month" in by:
        return "least(last_day(g.month), $date_to::DATE)"
    return "$date_to::DATE"


def compute(
    con: duckdb.DuckDBPyConnection,
    kpi_id: str,
    selection: Selection,
    by: tuple[str, ...] = (),
    *,
    unit_costs: dict[str, dict[str, float]] | None = None,
) -> pl.DataFrame:
    """The KPI over ``selection``, one row per group with data, sorted by the dimensions.

    Columns: the dimensions in ``by`` order, then ``value``, ``numerator`` and
    ``denominator`` (NULL where the KPI is not a rate). NULL values mean "not
    reported", never 0. ``unit_costs`` maps city -> channel -> EUR.
    """
    kpi = get(kpi_id)
    if selection.end < selection.start:
        raise KpiError(f"the period ends ({selection.end}) before it starts ({selection.start})")
    text = query_text(kpi, by)
    params: dict[str, Any] = {
        "date_from": selection.start,
        "date_to": selection.end,
        "cities": list(selection.cities) or None,
        "services": list(selection.services) or None,
        "channels": None if kpi.ignores_channel_filter else (list(selection.channels) or None),
    }
    if "$costs" in text:
        params["costs"] = [
            {"city": city, "channel": channel, "eur": float(eur)}
            for city, channels in (unit_costs or {}).items()
            for channel, eur in channels.items()
        ]
    if "$period_days" in text:
        params["period_days"] = selection.days
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    params = {name: value for name, value in params.items() if f"${name}" in code}
    result = frame(con, text, params)
    result = result.select(*by, "value", "numerator", "denominator")
    if by:
        result = result.sort(list(by))
    if "month" in by:
        result = result.with_columns(pl.col("month").dt.strftime("%Y-%m"))
    return result.with_columns(pl.col("value", "numerator", "denominator").cast(pl.Float64))
