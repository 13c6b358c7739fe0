"""The cities a chart shows, and what it may say about them.

Each city keeps its colour on every page (its place among the cities, by name); the
home city is emphasised and a stale feed marked. A city that delivered nothing in
the period is "not reported", never 0; small cells are hidden for the roles that
must not see them (data contract, section 7), and the chart says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import polars as pl

from dashboard import filters, i18n
from dashboard.components import page
from dashboard.components.figures import city_colour, city_label
from dashboard.i18n import t
from dashboard.roles import SUPPRESSED_ROLES
from dashboard.users import User
from warehouse.kpis import get
from warehouse.suppression import suppress

i18n.register(
    {
        "cities_stale_note": ("Daten veraltet: {}", "data out of date: {}"),
        "cities_hidden_note": (
            "Kleine Werte sind ausgeblendet: < 5 (Datenschutz)",
            "Small values are hidden: < 5 (privacy)",
        ),
        "cities_months_missing": (
            "Für einzelne Monate keine Daten (nicht geliefert): {}",
            "No data for some months (not reported): {}",
        ),
        "cities_not_reported_note": (
            "{}: keine Daten im Zeitraum (nicht geliefert)",
            "{}: no data in the period (not reported)",
        ),
    }
)


@dataclass(frozen=True)
class City:
    slug: str
    name: str
    colour: str
    home: bool
    stale: bool
    has_events: bool

    @property
    def label(self) -> str:
        """The name on an axis or legend: bold at home, ⚠ when out of date."""
        return city_label(self.name, self.home, self.stale)


def chosen(values: Mapping[str, Any], user: User) -> list[City]:
    """The cities of the filter (all of them when none is chosen), by name."""
    access = page.data()
    wanted = set(values.get("cities") or ())
    stale = access.stale_cities()
    return [
        City(row["slug"], row["name"], city_colour(index), row["slug"] == user.city, row["slug"] in stale,
             bool(row["has_events"]))
        for index, row in enumerate(access.cities().iter_rows(named=True))
        if not wanted or row["slug"] in wanted
    ]  # fmt: skip


def frame(cities: Sequence[City]) -> pl.DataFrame:
    """city, name, label, home: the cities as the left side of a join (so a missing city stays a row)."""
    return pl.DataFrame(
        {
            "city": [city.slug for city in cities],
            "name": [city.name for city in cities],
            "label": [city.label for city in cities],
            "home": [city.home for city in cities],
        },
        schema={"city": pl.String, "name": pl.String, "label": pl.String, "home": pl.Boolean},
    )


def stale_notes(cities: Iterable[City]) -> list[str]:
    return [t("cities_stale_note").format(city.name) for city in cities if city.stale]


def not_reported_notes(cities: Iterable[City], reported: set[Any]) -> list[str]:
    return [t("cities_not_reported_note").format(city.name) for city in cities if city.slug not in reported]


def gaps_note(cities: Iterable[City], reported: set[Any], months: Sequence[str]) -> list[str]:
    """One note naming the cities that delivered nothing in some month of the period."""
    names = [city.name for city in cities if any((city.slug, month) not in reported for month in months)]
    return [t("cities_months_missing").format(", ".join(names))] if names else []


def hidden_note(*flags: pl.Series) -> list[str]:
    """The note that small values are hidden, when any of ``flags`` is set."""
    return [t("cities_hidden_note")] if any(flag.any() for flag in flags) else []


def reported(values: Mapping[str, Any], by: tuple[str, ...]) -> set[Any]:
    """The groups (a city, or a (city, month) tuple) that delivered any data in the period.

    A group missing from a service's result is 0 when it is in here (the city delivered,
    none of it was that service), and "not reported" when it is not.
    """
    result = page.data().kpi("transactions", filters.selection(values, services=()), by)
    keys = result.select(by).rows()
    return {key[0] if len(by) == 1 else key for key in keys}


def kpi(kpi_id: str, values: Mapping[str, Any], by: tuple[str, ...], user: User, **override: Any) -> pl.DataFrame:
    """The KPI over the filter values, small cells marked for the user's role.

    A rate without a value (the city does not deliver what it needs: no denominator)
    has nothing to hide: it is "not reported", not "< 5", and it does not make other
    cells hidden alongside it. ``warehouse.suppression`` counts a zero denominator as a
    small cell, so rates are marked here from the exact result.
    """
    access = page.data()
    selection = filters.selection(values, **override)
    hide = user.role in SUPPRESSED_ROLES
    result = access.kpi(kpi_id, selection, by, suppressed=hide)
    if not (hide and get(kpi_id).is_rate):
        return result
    exact = access.kpi(kpi_id, selection, by)
    valued = suppress(exact.filter(pl.col("value").is_not_null()), by, rate=True, min_cell=access.min_cell)
    marked = pl.concat([valued, exact.filter(pl.col("value").is_null())])
    return marked.sort(list(by)) if by else marked


def hide_small(counts: pl.DataFrame, column: str, by: tuple[str, ...], user: User) -> pl.DataFrame:
    """``counts`` (not from the KPI registry) with a ``suppressed`` column, as :func:`kpi` marks counts."""
    if user.role not in SUPPRESSED_ROLES:
        return counts.with_columns(pl.lit(False).alias("suppressed"))
    marked = suppress(counts.rename({column: "value"}), by, rate=False, min_cell=page.data().min_cell)
    return marked.rename({"value": column})


def shown(column: str, flag: str = "suppressed") -> pl.Expr:
    """``column`` with hidden cells as NULL, for drawing."""
    return pl.when(pl.col(flag)).then(None).otherwise(pl.col(column)).alias(column)


def months(values: Mapping[str, Any]) -> list[str]:
    """Every month (YYYY-MM) of the filter's period, first to last."""
    start, end = filters.period(values)
    first, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    return [f"{number // 12}-{number % 12 + 1:02d}" for number in range(first, last + 1)]


def say(fig: go.Figure, labels: Sequence[str], text: str, *, horizontal: bool = True) -> None:
    """Write ``text`` where the bars of these cities (axis labels) would be: an empty place never reads as 0."""
    for label in labels:
        place = {"y": label, "x": 0, "xanchor": "left"} if horizontal else {"x": label, "y": 0, "yanchor": "bottom"}
        fig.add_annotation(text=text, showarrow=False, font={"color": "#555"}, **place)


def words(keys: Iterable[Any], label: Callable[[Any], str]) -> dict[Any, str]:
    """``{key: label(key)}`` for ``replace_strict``: labels in the reader's language.

    Not ``map_elements``: Polars may run it on a worker thread, outside the request,
    where every label falls back to German.
    """
    return {key: label(key) for key in keys}
