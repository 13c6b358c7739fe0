"""Übersicht: where one city (the user's home city, switchable) stands among the cities.

Tiles with the change against the previous period and the rank; the trend, the
top services with their online share, the largest savings potentials and the
freshness of every city's data. Prints on one A4 landscape page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dash
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, html

from dashboard import filters, i18n
from dashboard.components import page
from dashboard.components.chart import Chart, ChartData, Column
from dashboard.components.figures import HOME, OTHER, empty, figure
from dashboard.i18n import day, format_value, language, month_label, number, t
from dashboard.roles import SUPPRESSED_ROLES, require, viewer
from dashboard.users import User
from warehouse.kpis import Selection, get

PAGE = "overview"
ROLE = "mayor"
NAMES = ("city", "from", "to")
#: the tiles, and whether a lower value is the better one
TILES = (
    ("transactions", False),
    ("digital_takeup", False),
    ("completion_rate", False),
    ("satisfaction", False),
    ("eid_share", False),
    ("cost_per_transaction", True),
)
TOP_SERVICES = 10
TOP_SAVINGS = 5

i18n.register(
    {
        "points": ("Prozentpunkte", "points"),
        "vs_previous": ("ggü. Vorperiode", "vs. previous period"),
        "previous_incomplete": ("nicht vollständig geliefert", "not fully reported"),
        "online_share": ("online", "online"),
        "no_savings": (
            "Kein Einsparpotenzial: die Stadt ist überall die beste.",
            "No savings potential: best everywhere.",
        ),
        "savings_per_year": ("Einsparpotenzial (€ pro Jahr)", "savings potential (€ per year)"),
        "chart_trend": ("Vorgänge und Digitalquote je Monat", "Transactions and digital take-up per month"),
        "chart_top_services": ("Meistgenutzte Leistungen mit Online-Anteil", "Top services with their online share"),
        "chart_savings": ("Größte Einsparpotenziale", "Largest savings potentials"),
        "freshness": ("Aktualität der Daten je Stadt", "Freshness of each city's data"),
        "state": ("Stand", "state"),
        "data_until": ("Daten bis", "data up to"),
    }
)

dash.register_page(__name__, path="/", name="page_overview", title="Übersicht – eGovSAD", order=0, role=ROLE)


def _change(kpi_id: str, now: float | None, before: float | None) -> str:
    """The change against the previous period: points for shares, per cent for the rest."""
    if now is None or before is None:
        return t("not_reported")
    unit = get(kpi_id).unit
    if unit == "share":
        points = (now - before) * 100
        return f"{'+' if points >= 0 else '−'}{number(abs(points), 1)} {t('points')}"
    if before == 0:
        return "–"
    change = (now - before) / before * 100
    return f"{'+' if change >= 0 else '−'}{number(abs(change), 1)} %"


def _tile(kpi_id: str, lower_is_better: bool, values: dict[str, Any], user: User) -> list[Any]:
    access = page.data()
    city = values["city"]
    hide = user.role in SUPPRESSED_ROLES
    current = filters.selection(values, cities=(), services=())
    start, end = filters.previous(current.start, current.end)
    now = access.kpi(kpi_id, current, ("city",), suppressed=hide)
    before = access.kpi(kpi_id, Selection(start, end), ("city",), suppressed=hide)
    mine = now.filter(pl.col("city") == city)
    hidden = bool(mine.height and mine["suppressed"][0])
    value = None if hidden or not mine.height else mine["value"][0]
    previous = before.filter((pl.col("city") == city) & ~pl.col("suppressed"))["value"]
    first_day = access.coverage().get(city, (None, None))[0]
    comparable = first_day is not None and first_day <= start
    ranked = now.filter(pl.col("value").is_not_null() & ~pl.col("suppressed")).sort(
        "value", descending=not lower_is_better
    )
    cities = list(ranked["city"])
    rank = f"{cities.index(city) + 1} / {len(cities)}" if city in cities and value is not None else "–"
    kpi = get(kpi_id)
    shown = t("suppressed") if hidden else format_value(value, kpi.unit)
    return [
        html.H2(kpi.name_en if language() == "en" else kpi.name_de, className="tile-name"),
        html.P(shown, className="tile-value"),
        html.P(
            [
                html.Span(f"{t('vs_previous')}: "),
                html.Span(
                    _change(kpi_id, value, previous[0] if len(previous) else None)
                    if comparable
                    else t("previous_incomplete"),
                    className="tile-change",
                ),
            ]
        ),
        html.P([html.Span(f"{t('rank')}: "), html.Span(rank, className="tile-rank")]),
    ]


def _register_tile(kpi_id: str, lower_is_better: bool) -> None:
    """One callback per tile: the six are computed side by side by the workers, not one after another."""

    @dash.callback(Output(f"tile-{kpi_id}", "children"), filters.inputs(PAGE, NAMES))
    @require(ROLE)
    def tile(*controls: Any) -> list[Any]:
        return _tile(kpi_id, lower_is_better, dict(zip(NAMES, controls, strict=True)), viewer())


for _kpi_id, _lower in TILES:
    _register_tile(_kpi_id, _lower)


@dash.callback(Output("overview-subtitle", "children"), filters.inputs(PAGE, NAMES))
@require(ROLE)
def subtitle(*controls: Any) -> str:
    values = dict(zip(NAMES, controls, strict=True))
    start, end = filters.period(values)
    city = page.data().city_names().get(values["city"], values["city"])
    return f"{city} · {t('period')} {i18n.day(start)} – {i18n.day(end)}"


def _takeup(selection: Selection, by: str, hide: bool) -> pl.DataFrame:
    """Digital take-up by ``by``, as the columns ``takeup`` and ``takeup_suppressed`` to join beside volumes."""
    result = page.data().kpi("digital_takeup", selection, (by,), suppressed=hide)
    return result.select(by, pl.col("value").alias("takeup"), pl.col("suppressed").alias("takeup_suppressed"))


def _trend(values: dict[str, Any], user: User) -> ChartData:
    access = page.data()
    selection = filters.selection(values, cities=(values["city"],), services=())
    hide = user.role in SUPPRESSED_ROLES
    volume = access.kpi("transactions", selection, ("month",), suppressed=hide)
    takeup = _takeup(selection, "month", hide)
    frame = volume.select("month", "value", "suppressed").join(takeup, on="month", how="full", coalesce=True)
    # labels looked up here, in the request (Polars may run Python functions on other threads)
    labels = {month: month_label(month) for month in frame["month"]}
    frame = frame.sort("month").with_columns(
        pl.col("month").replace_strict(labels, return_dtype=pl.String).alias("label")
    )
    if not frame.height:
        return ChartData(frame, [], empty(t("no_data_period")))
    shown = frame.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(pl.col("takeup_suppressed")).then(None).otherwise(pl.col("takeup")).alias("takeup"),
    )
    fig = figure(
        go.Bar(x=shown["label"], y=shown["value"], name=t("transactions_label"), marker_color=OTHER),
        go.Scatter(
            x=shown["label"], y=shown["takeup"], name=t("digital_takeup_label"), yaxis="y2",
            mode="lines+markers", line={"color": HOME, "width": 3},
        ),
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "rangemode": "tozero", "showgrid": False},
    )  # fmt: skip
    columns = [
        Column("label", t("month")),
        Column("value", t("transactions_label"), "count", "suppressed"),
        Column("takeup", t("digital_takeup_label"), "share", "takeup_suppressed"),
    ]
    return ChartData(frame, columns, fig)


def _top_services(values: dict[str, Any], user: User) -> ChartData:
    access = page.data()
    selection = filters.selection(values, cities=(values["city"],), services=())
    hide = user.role in SUPPRESSED_ROLES
    volume = access.kpi("transactions", selection, ("service",), suppressed=hide)
    takeup = _takeup(selection, "service", hide)
    names = page.data().service_names(language())
    frame = (
        volume.filter(~pl.col("suppressed"))
        .sort("value", descending=True)
        .head(TOP_SERVICES)
        .join(takeup, on="service", how="left")
        .with_columns(pl.col("service").replace_strict(names, default=pl.col("service")).alias("name"))
    )
    if not frame.height:
        return ChartData(frame, [], empty(t("no_data_period")))
    ordered = frame.reverse()
    labels = [
        t("suppressed") if hidden else format_value(share, "share")
        for share, hidden in zip(ordered["takeup"], ordered["takeup_suppressed"], strict=True)
    ]
    fig = figure(
        go.Bar(
            y=ordered["name"], x=ordered["value"], orientation="h", marker_color=HOME,
            text=[f"{t('online_share')} {label}" for label in labels], textposition="auto",
            name=t("transactions_label"),
        ),
        height=380, showlegend=False,
    )  # fmt: skip
    columns = [
        Column("name", t("service")),
        Column("value", t("transactions_label"), "count", "suppressed"),
        Column("takeup", t("digital_takeup_label"), "share", "takeup_suppressed"),
    ]
    return ChartData(frame, columns, fig)


def _savings(values: dict[str, Any], user: User) -> ChartData:
    access = page.data()
    selection = filters.selection(values, cities=(), services=())
    result = access.kpi("savings_potential", selection, ("city", "service"))
    names = page.data().service_names(language())
    frame = (
        result.filter((pl.col("city") == values["city"]) & (pl.col("value") > 0))
        .sort("value", descending=True)
        .head(TOP_SAVINGS)
        .with_columns(pl.col("service").replace_strict(names, default=pl.col("service")).alias("name"))
        .select("name", "value")
    )
    if not frame.height:
        return ChartData(frame, [], empty(t("no_savings")))
    ordered = frame.reverse()
    fig = figure(
        go.Bar(
            y=ordered["name"], x=ordered["value"], orientation="h", marker_color="#009E73",
            text=[format_value(v, "eur_per_year") for v in ordered["value"]], textposition="auto",
        ),
        height=300, showlegend=False,
    )  # fmt: skip
    columns = [Column("name", t("service")), Column("value", t("savings_per_year"), "eur_per_year")]
    return ChartData(frame, columns, fig)


CHARTS = [
    Chart(PAGE, "trend", "chart_trend", NAMES, _trend, role=ROLE, wide=True),
    Chart(PAGE, "services", "chart_top_services", NAMES, _top_services, role=ROLE),
    Chart(PAGE, "savings", "chart_savings", NAMES, _savings, role=ROLE),
]


def _freshness() -> html.Section:
    access = page.data()
    names = access.city_names()
    rows = []
    for row in access.freshness().sort("city").iter_rows(named=True):
        state = row["state"]
        until = row["data_until"]
        rows.append(
            html.Tr(
                [
                    html.Th(names.get(row["city"], row["city"]), scope="row"),
                    html.Td(html.Span(t(state), className=f"badge state-{state}")),
                    # the last day with data (a daily-count city's data reaches the end of its day)
                    html.Td(day((until - timedelta(seconds=1)).date()) if until is not None else t("not_reported")),
                ]
            )
        )
    head = html.Thead(html.Tr([html.Th(t("city"), scope="col"), html.Th(t("state")), html.Th(t("data_until"))]))
    return html.Section(
        [
            html.H2(t("freshness"), id="overview-freshness-title"),
            html.Table([head, html.Tbody(rows)], className="data-table", id="overview-freshness"),
        ],
        className="card",
    )


def _body(_values: dict[str, Any]) -> list[Any]:
    return [
        html.Button(t("print"), id="overview-print", className="print-button", n_clicks=0),
        html.P(id="overview-subtitle", className="subtitle"),
        html.Div(
            [html.Div(id=f"tile-{kpi_id}", className="tile") for kpi_id, _lower in TILES],
            id="overview-tiles",
            className="tiles",
            **{"aria-live": "polite"},  # type: ignore[arg-type]
        ),
        html.Div([chart.card() for chart in CHARTS] + [_freshness()], className="cards"),
    ]


dash.clientside_callback(
    "function(clicks) { if (clicks) { window.print(); } return clicks; }",
    Output("overview-print", "n_clicks"),
    Input("overview-print", "n_clicks"),
    prevent_initial_call=True,
)


filters.sync_url(PAGE, NAMES)


def layout(**query: Any) -> html.Div:
    return page.layout(PAGE, ROLE, query, NAMES, _body)
