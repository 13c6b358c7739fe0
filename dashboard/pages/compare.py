"""Vergleich: any KPI across the cities — ranked, per 1,000 inhabitants, by service and over time.

Digital officers use it to find which city does a service best; mayors to see
where their city stands. Every number comes from the KPI registry.
"""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
import polars as pl
from dash import html

from dashboard import filters, i18n
from dashboard.components import page
from dashboard.components.chart import Chart, ChartData, Column
from dashboard.components.figures import HOME, OTHER, REFERENCE, city_colour, city_label, empty, figure
from dashboard.i18n import language, t
from dashboard.roles import SUPPRESSED_ROLES
from dashboard.users import User
from warehouse.kpis import get
from warehouse.views import population_at

PAGE = "compare"
ROLE = "mayor"
NAMES = ("kpi", "measure", "from", "to", "services")
HEATMAP_SERVICES = 20

i18n.register(
    {
        "chart_ranking": ("Städte im Vergleich", "Cities ranked"),
        "chart_heatmap": ("Digitalquote je Stadt und Leistung", "Digital take-up by city and service"),
        "chart_city_trends": (
            "Verlauf je Stadt mit Median aller Städte",
            "Trend per city with the median of all cities",
        ),
        "chart_online_everywhere": (
            "Online-Angebot: in wie vielen Städten ist eine Leistung online?",
            "Online offer: in how many cities is a service online?",
        ),
        "cities_online": ("Städte mit Online-Vorgängen", "cities with online transactions"),
        "in_all": ("in allen Städten online", "online in all cities"),
        "in_one": ("in mindestens einer Stadt online", "online in at least one city"),
        "per_1000_counts_only": (
            "„je 1.000 Einwohner“ gilt nur für Anzahlen; Quoten werden unverändert gezeigt.",
            "'per 1,000 inhabitants' applies to counts only; rates are shown as they are.",
        ),
        "population": ("Einwohner", "inhabitants"),
        "stale_city": ("Daten veraltet: {}", "data out of date: {}"),
    }
)

dash.register_page(__name__, path="/vergleich", name="page_compare", title="Vergleich – eGovSAD", order=1, role=ROLE)


def _kpi_name(kpi_id: str) -> str:
    kpi = get(kpi_id)
    return kpi.name_en if language() == "en" else kpi.name_de


def _stale_notes(cities: list[str]) -> list[str]:
    names = page.data().city_names()
    stale = page.data().stale_cities()
    return [t("stale_city").format(names.get(city, city)) for city in cities if city in stale]


def _per_1000(values: dict[str, Any]) -> bool:
    return values["measure"] == "per_1000" and get(values["kpi"]).unit == "count"


def _by_city(values: dict[str, Any], user: User, by: tuple[str, ...]) -> pl.DataFrame:
    """The chosen KPI by ``by`` (city first), per 1,000 inhabitants if asked and sensible."""
    access = page.data()
    result = access.kpi(
        values["kpi"], filters.selection(values), by, suppressed=user.role in SUPPRESSED_ROLES
    ).with_columns(pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("value")).alias("value"))
    if _per_1000(values):
        # each city (and month) against the population valid at the end of its period
        end = pl.lit(filters.selection(values).end)
        if "month" in by:
            end = pl.min_horizontal((pl.col("month") + "-01").str.to_date("%Y-%m-%d").dt.month_end(), end)
        result = result.with_columns(end.alias("period_end"))
        population = population_at(access.populations(), result.select("city", "period_end").unique())
        result = (
            result.join(population, on=["city", "period_end"], how="left")
            .with_columns((pl.col("value") / pl.col("population") * 1000).alias("value"))
            .drop("period_end", "population")
        )
    return result


def _unit(values: dict[str, Any]) -> str:
    return "per_1000" if _per_1000(values) else get(values["kpi"]).unit


def _y_format(unit: str) -> str:
    return ".0%" if unit == "share" else ""


def _ranking(values: dict[str, Any], user: User) -> ChartData:
    access = page.data()
    names = access.city_names()
    stale = access.stale_cities()
    result = _by_city(values, user, ("city",))
    frame = (
        access.cities()
        .select(pl.col("slug").alias("city"), "name")
        .join(result, on="city", how="left")
        .with_columns(pl.col("suppressed").fill_null(False), (pl.col("city") == user.city).alias("home"))
        .sort("value", descending=get(values["kpi"]).id != "cost_per_transaction", nulls_last=True)
    )
    unit = _unit(values)
    label = _kpi_name(values["kpi"]) + (f" {t('per_1000')}" if _per_1000(values) else "")
    ordered = frame.reverse()
    fig = figure(
        go.Bar(
            y=[
                city_label(n, h, c in stale)
                for n, h, c in zip(ordered["name"], ordered["home"], ordered["city"], strict=True)
            ],
            x=ordered["value"],
            orientation="h",
            marker_color=[HOME if home else OTHER for home in ordered["home"]],
            text=[
                t("suppressed") if hidden else i18n.format_value(value, unit)
                for value, hidden in zip(ordered["value"], ordered["suppressed"], strict=True)
            ],
            textposition="auto",
            name=label,
        ),
        showlegend=False,
        height=320,
    )
    fig.update_xaxes(tickformat=_y_format(unit))
    notes = _stale_notes(list(frame["city"]))
    if values["measure"] == "per_1000" and not _per_1000(values):
        notes.insert(0, t("per_1000_counts_only"))
    columns = [Column("name", t("city")), Column("value", label, unit, "suppressed")]
    return ChartData(frame.with_columns(pl.col("name").replace(names)), columns, fig, notes)


def _heatmap(values: dict[str, Any], user: User) -> ChartData:
    access = page.data()
    hide = user.role in SUPPRESSED_ROLES
    selection = filters.selection(values)
    takeup = access.kpi("digital_takeup", selection, ("city", "service"), suppressed=hide)
    if not takeup.height:
        return ChartData(takeup, [], empty(t("no_data_period")))
    volume = access.kpi("transactions", selection, ("service",))
    top = list(volume.sort("value", descending=True)["service"].head(HEATMAP_SERVICES))
    names = page.data().service_names(language())
    cities = access.cities().select(pl.col("slug").alias("city"), pl.col("name").alias("city_name"))
    frame = (
        takeup.filter(pl.col("service").is_in(top))
        .join(cities, on="city")
        .with_columns(
            pl.col("service").replace_strict(names, default=pl.col("service")).alias("service_name"),
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("value")).alias("value"),
        )
        .sort("service_name", "city_name")
    )
    wide = frame.pivot(on="city_name", index="service_name", values="value", sort_columns=True).sort("service_name")
    city_columns = [column for column in wide.columns if column != "service_name"]
    fig = figure(
        go.Heatmap(
            z=wide.select(city_columns).to_numpy().tolist(),
            x=[city_label(name, name == access.city_names().get(user.city or ""), False) for name in city_columns],
            y=list(wide["service_name"]),
            colorscale="Cividis",
            zmin=0,
            zmax=1,
            colorbar={"tickformat": ".0%"},
            hovertemplate="%{y}<br>%{x}: %{z:.1%}<extra></extra>",
        ),
        height=max(320, 24 * wide.height + 80),
    )
    fig.update_yaxes(autorange="reversed")
    columns = [
        Column("service_name", t("service")),
        Column("city_name", t("city")),
        Column("value", t("digital_takeup_label"), "share", "suppressed"),
    ]
    return ChartData(frame, columns, fig, _stale_notes(list(cities["city"])))


def _trends(values: dict[str, Any], user: User) -> ChartData:
    access = page.data()
    result = _by_city(values, user, ("city", "month"))
    if not result.height:
        return ChartData(result, [], empty(t("no_data_period")))
    cities = access.cities().select(pl.col("slug").alias("city"), pl.col("name").alias("city_name"))
    frame = result.join(cities, on="city").sort("city_name", "month")
    median = frame.group_by("month").agg(pl.col("value").median()).sort("month")
    unit = _unit(values)
    stale = access.stale_cities()
    traces: list[Any] = []
    for index, (city, name) in enumerate(cities.iter_rows()):
        rows = frame.filter(pl.col("city") == city)
        if not rows.height:
            continue
        home = city == user.city
        traces.append(
            go.Scatter(
                x=[i18n.month_label(month) for month in rows["month"]],
                y=rows["value"],
                name=city_label(name, home, city in stale),
                mode="lines+markers",
                line={"color": city_colour(index), "width": 4 if home else 2},
            )
        )
    traces.append(
        go.Scatter(
            x=[i18n.month_label(month) for month in median["month"]],
            y=median["value"],
            name=t("median_all"),
            mode="lines",
            line={"color": REFERENCE, "width": 2, "dash": "dash"},
        )
    )
    fig = figure(*traces, y_format=_y_format(unit), height=380)
    table = pl.concat(
        [
            frame.select("month", "city_name", "value", "suppressed"),
            median.select(
                "month", pl.lit(t("median_all")).alias("city_name"), "value", pl.lit(False).alias("suppressed")
            ),
        ]
    )
    # labels looked up here, in the request (Polars may run Python functions on other threads)
    labels = {month: i18n.month_label(month) for month in table["month"].unique()}
    table = table.with_columns(pl.col("month").replace_strict(labels, return_dtype=pl.String))
    columns = [
        Column("month", t("month")),
        Column("city_name", t("city")),
        Column("value", _kpi_name(values["kpi"]), unit, "suppressed"),
    ]
    return ChartData(table, columns, fig, _stale_notes(list(frame["city"].unique())))


def _online_everywhere(values: dict[str, Any], user: User) -> ChartData:
    access = page.data()
    selection = filters.selection(values)
    takeup = access.kpi("digital_takeup", selection, ("city", "service"))
    cities = access.cities().height
    names = page.data().service_names(language())
    frame = (
        takeup.group_by("service")
        .agg((pl.col("numerator") > 0).sum().alias("online"))
        .with_columns(pl.col("service").replace_strict(names, default=pl.col("service")).alias("service_name"))
        .sort("online", "service_name", descending=[True, False])
    )
    if not frame.height:
        return ChartData(frame, [], empty(t("no_data_period")))
    everywhere = frame.filter(pl.col("online") == cities).height
    somewhere = frame.filter(pl.col("online") > 0).height
    ordered = frame.reverse()
    fig = figure(
        go.Bar(
            y=ordered["service_name"],
            x=ordered["online"],
            orientation="h",
            marker_color=[HOME if n == cities else OTHER for n in ordered["online"]],
        ),
        height=max(320, 20 * frame.height + 60),
        showlegend=False,
    )
    fig.update_xaxes(range=[0, cities], dtick=1)
    notes = [f"{everywhere} {t('in_all')}", f"{somewhere} {t('in_one')}"]
    columns = [Column("service_name", t("service")), Column("online", t("cities_online"), "count")]
    return ChartData(frame, columns, fig, notes)


CHARTS = [
    Chart(PAGE, "ranking", "chart_ranking", NAMES, _ranking, role=ROLE),
    Chart(PAGE, "trends", "chart_city_trends", NAMES, _trends, role=ROLE),
    Chart(PAGE, "heatmap", "chart_heatmap", NAMES, _heatmap, role=ROLE, wide=True),
    Chart(PAGE, "online", "chart_online_everywhere", NAMES, _online_everywhere, role=ROLE, wide=True),
]
filters.sync_url(PAGE, NAMES)


def _body(_values: dict[str, Any]) -> list[Any]:
    return [html.Div([chart.card() for chart in CHARTS], className="cards")]


def layout(**query: Any) -> html.Div:
    return page.layout(PAGE, ROLE, query, NAMES, _body)
