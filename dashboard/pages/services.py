"""Leistungen: one service across the cities — how far citizens get, in which channels, how fast, over time.

For digital officers who look for the city that does a service best. Counts come
from the KPI registry (every city); processing times need cases, which only
cities with event data deliver: the others are said to be "not reported".
"""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
import polars as pl
from dash import html

from dashboard import filters, i18n
from dashboard.components import cities, page
from dashboard.components.chart import Chart, ChartData, Column
from dashboard.components.figures import CHANNEL_COLOURS, CHANNELS, OTHER, channel_label, empty, figure
from dashboard.i18n import month_label, stage_name, t
from dashboard.users import User

PAGE = "services"
ROLE = "officer"
NAMES = ("service", "from", "to", "cities")
STAGES = (
    ("started", "started", "#56B4E9"),
    ("submitted", "transactions", "#0072B2"),
    ("completed", "completed", "#009E73"),
)
#: the lower bounds (days) of the processing-time bands of sql/views/processing_histogram.sql
BANDS = (0, 1, 2, 3, 6, 11, 21, 31)
HOME_SHADE = "rgba(230, 159, 0, 0.15)"

i18n.register(
    {
        "services_chart_funnel": (
            "Von begonnen über eingereicht zu abgeschlossen, je Stadt",
            "From started to submitted to completed, per city",
        ),
        "services_chart_channels": (
            "Kanalmix je Stadt (Anteil der Vorgänge)",
            "Channel mix per city (share of transactions)",
        ),
        "services_chart_processing": (
            "Durchlaufzeit Verwaltung: Anteil der Fälle je Dauer, je Stadt",
            "Processing time: share of cases by duration, per city",
        ),
        "services_chart_trend": ("Vorgänge (eingereicht) je Monat und Stadt", "Transactions per month and city"),
        "services_count": ("Anzahl", "count"),
        "services_stage": ("Schritt", "step"),
        "services_no_transactions": ("keine Vorgänge", "no transactions"),
        "services_days": ("Tage von der Einreichung bis zum Abschluss", "days from submission to completion"),
        "services_band": ("Durchlaufzeit (Tage)", "processing time (days)"),
        "services_band_first": ("unter {}", "under {}"),
        "services_band_range": ("{} bis unter {}", "{} to under {}"),
        "services_band_last": ("{} und mehr", "{} or more"),
        "services_cases": ("abgeschlossene Fälle", "completed cases"),
        "services_share_cases": ("Anteil der Fälle", "share of cases"),
        "services_daily_only": (
            "{}: liefert nur Tageszahlen, keine Fälle – Durchlaufzeit nicht geliefert",
            "{}: delivers daily counts only, no cases – processing time not reported",
        ),
        "services_no_cases": ("{}: keine abgeschlossenen Fälle im Zeitraum", "{}: no completed cases in the period"),
    }
)  # fmt: skip

dash.register_page(__name__, path="/leistungen", name="page_services", title="Leistungen – eGovSAD", order=2, role=ROLE)


def _funnel(values: dict[str, Any], user: User) -> ChartData:
    chosen = cities.chosen(values, user)
    reported = cities.reported(values, ("city",))
    frame = cities.frame(chosen)
    for stage, kpi_id, _colour in STAGES:
        counts = cities.kpi(kpi_id, values, ("city",), user).select(
            "city", pl.col("value").alias(stage), pl.col("suppressed").alias(f"{stage}_hidden")
        )
        frame = frame.join(counts, on="city", how="left").with_columns(
            # delivered, but nothing of this service: 0; not delivered at all: NULL
            pl.when(pl.col("city").is_in(list(reported))).then(pl.col(stage).fill_null(0)).alias(stage),
            pl.col(f"{stage}_hidden").fill_null(False),
        )
    missing = [city.label for city in chosen if city.slug not in reported]
    fig = figure(
        *[
            go.Bar(
                x=frame["label"], y=frame.select(cities.shown(stage, f"{stage}_hidden"))[stage],
                name=stage_name(stage), marker_color=colour,
            )
            for stage, _kpi, colour in STAGES
        ],
        barmode="group", y_title=t("services_count"),
    )  # fmt: skip
    for index, home in enumerate(frame["home"]):
        if home:  # the home city's group on a light band
            fig.add_vrect(x0=index - 0.5, x1=index + 0.5, fillcolor=HOME_SHADE, line_width=0, layer="below")
    cities.say(fig, missing, t("not_reported"), horizontal=False)
    columns = [Column("name", t("city"))] + [
        Column(stage, stage_name(stage), "count", f"{stage}_hidden") for stage, _kpi, _colour in STAGES
    ]
    hidden = [frame[f"{stage}_hidden"] for stage, _kpi, _colour in STAGES]
    notes = cities.stale_notes(chosen) + cities.not_reported_notes(chosen, reported) + cities.hidden_note(*hidden)
    return ChartData(frame, columns, fig, notes)


def _channel_mix(values: dict[str, Any], user: User) -> ChartData:
    chosen = cities.chosen(values, user)
    reported = cities.reported(values, ("city",))
    counts = cities.kpi("transactions", values, ("city", "channel"), user)
    order = {channel: index for index, channel in enumerate(CHANNELS)}
    frame = (
        cities.frame(chosen)
        .join(counts, on="city", how="inner")
        .with_columns(
            (pl.col("value") / pl.col("value").sum().over("city")).alias("share"),
            pl.col("channel").replace_strict(order, default=len(order)).alias("_order"),
            pl.col("channel")
            .replace_strict(cities.words(CHANNELS, channel_label), default=pl.col("channel"))
            .alias("channel_name"),
        )
        .with_columns(pl.when(pl.col("share").is_nan()).then(None).otherwise(pl.col("share")).alias("share"))
        .sort("_order")
    )
    labels = [city.label for city in chosen]
    traces = []
    for channel in CHANNELS:
        rows = frame.filter((pl.col("channel") == channel) & ~pl.col("suppressed"))
        if rows.height:
            traces.append(
                go.Bar(
                    y=rows["label"], x=rows["share"], orientation="h", name=channel_label(channel),
                    marker_color=CHANNEL_COLOURS[channel], customdata=rows["value"],
                    hovertemplate="%{y}: %{x:.1%} (%{customdata})<extra>" + channel_label(channel) + "</extra>",
                )
            )  # fmt: skip
    hidden = frame.filter(pl.col("suppressed")).group_by("label").agg(pl.col("share").sum())
    if hidden.height:  # the hidden channels together, so that every bar reaches 100 %
        traces.append(go.Bar(y=hidden["label"], x=hidden["share"], orientation="h", name=t("suppressed"),
                             marker_color=OTHER, hoverinfo="name"))  # fmt: skip
    fig = figure(*traces, barmode="stack", legend_traceorder="normal", height=max(260, 60 * len(chosen) + 120))
    fig.update_xaxes(tickformat=".0%", range=[0, 1.01], tick0=0, dtick=0.2)
    fig.update_layout(margin_r=30)  # room for the "100 %" at the right edge
    fig.update_yaxes(categoryorder="array", categoryarray=labels, autorange="reversed")
    totals = frame.group_by("city").agg(pl.col("value").sum())
    empty_cities = set(totals.filter(pl.col("value") == 0)["city"]) | {
        city.slug for city in chosen if city.slug in reported and city.slug not in set(frame["city"])
    }
    cities.say(fig, [city.label for city in chosen if city.slug not in reported], t("not_reported"))
    cities.say(fig, [city.label for city in chosen if city.slug in empty_cities], t("services_no_transactions"))
    columns = [
        Column("name", t("city")),
        Column("channel_name", t("channel")),
        Column("value", t("transactions_label"), "count", "suppressed"),
        Column("share", t("share"), "share", "suppressed"),
    ]
    table = frame.sort(pl.col("city").replace_strict({c.slug: i for i, c in enumerate(chosen)}), "_order")
    notes = (
        cities.stale_notes(chosen)
        + cities.not_reported_notes(chosen, reported)
        + cities.hidden_note(frame["suppressed"])
    )
    return ChartData(table, columns, fig, notes)


def _band_label(lower: int) -> str:
    index = BANDS.index(lower)
    if index == 0:
        return t("services_band_first").format(BANDS[1])
    if index == len(BANDS) - 1:
        return t("services_band_last").format(lower)
    return t("services_band_range").format(lower, BANDS[index + 1])


def _processing(values: dict[str, Any], user: User) -> ChartData:
    chosen = cities.chosen(values, user)
    reported = cities.reported(values, ("city",))
    cases = page.data().view("processing_histogram", filters.selection(values))
    with_cases = [city for city in chosen if city.has_events and city.slug in reported]
    # every band of a city with cases: a band without any is a true 0
    grid = pl.DataFrame(
        {"city": [c.slug for c in with_cases for _ in BANDS], "band": [b for _ in with_cases for b in BANDS]},
        schema={"city": pl.String, "band": pl.Int32},
    )
    counted = grid.join(cases.with_columns(pl.col("band").cast(pl.Int32)), on=["city", "band"], how="left")
    counted = counted.with_columns(pl.col("cases").fill_null(0)).filter(pl.col("cases").sum().over("city") > 0)
    counted = cities.hide_small(counted, "cases", ("city", "band"), user).with_columns(
        (pl.col("cases") / pl.col("cases").sum().over("city")).alias("share"),
        pl.col("band").replace_strict(cities.words(BANDS, _band_label), return_dtype=pl.String).alias("band_label"),
    )
    # a city that delivers no cases keeps one row that says so; one without completed cases only a note
    without = [city for city in chosen if city.slug not in set(counted["city"])]
    missing = [city for city in without if not city.has_events or city.slug not in reported]
    frame = pl.concat(
        [
            counted,
            pl.DataFrame({"city": [city.slug for city in missing]}, schema={"city": pl.String}).with_columns(
                pl.lit(False).alias("suppressed")
            ),
        ],
        how="diagonal_relaxed",
    )
    order = {city.slug: index for index, city in enumerate(chosen)}
    frame = (
        cities.frame(chosen).join(frame, on="city").sort(pl.col("city").replace_strict(order), "band", nulls_last=True)
    )
    traces = []
    for city in chosen:
        rows = frame.filter((pl.col("city") == city.slug) & pl.col("band").is_not_null())
        if rows.height:
            traces.append(
                go.Bar(
                    x=rows["band_label"], y=rows.select(cities.shown("share"))["share"], name=city.label,
                    marker={"color": city.colour, "line": {"color": "#000", "width": 2 if city.home else 0}},
                )
            )  # fmt: skip
    if traces:
        fig = figure(*traces, barmode="group", y_format=".0%", x_title=t("services_days"),
                     y_title=t("services_share_cases"))  # fmt: skip
    else:
        fig = empty(t("no_data_period"))
    notes = cities.stale_notes(chosen)
    for city in without:
        if not city.has_events:
            notes.append(t("services_daily_only").format(city.name))
        elif city.slug not in reported:
            notes += cities.not_reported_notes([city], reported)
        else:
            notes.append(t("services_no_cases").format(city.name))
    columns = [
        Column("name", t("city")),
        Column("band_label", t("services_band")),
        Column("cases", t("services_cases"), "count", "suppressed"),
        Column("share", t("services_share_cases"), "share", "suppressed"),
    ]
    return ChartData(frame, columns, fig, notes + cities.hidden_note(frame["suppressed"]))


def _trend(values: dict[str, Any], user: User) -> ChartData:
    chosen = cities.chosen(values, user)
    delivered = cities.reported(values, ("city", "month"))
    reported = pl.DataFrame(
        sorted(delivered), schema={"city": pl.String, "month": pl.String}, orient="row"
    ).with_columns(pl.lit(True).alias("_reported"))
    counts = cities.kpi("transactions", values, ("city", "month"), user).select("city", "month", "value", "suppressed")
    months = pl.DataFrame({"month": cities.months(values)}, schema={"month": pl.String})
    frame = (
        cities.frame(chosen)
        .join(months, how="cross")
        .join(counts, on=["city", "month"], how="left")
        .join(reported, on=["city", "month"], how="left")
        .with_columns(
            # delivered that month, but nothing of this service: 0; not delivered: NULL (a gap)
            pl.when(pl.col("_reported")).then(pl.col("value").fill_null(0)).alias("value"),
            pl.col("suppressed").fill_null(False),
            pl.col("month").replace_strict(cities.words(cities.months(values), month_label)).alias("month_name"),
        )
    )
    traces = []
    for city in chosen:
        rows = frame.filter(pl.col("city") == city.slug)
        traces.append(
            go.Scatter(
                x=rows["month_name"], y=rows.select(cities.shown("value"))["value"], name=city.label,
                mode="lines+markers", line={"color": city.colour, "width": 4 if city.home else 2},
                marker={"size": 9 if city.home else 6},
            )
        )  # fmt: skip
    fig = figure(*traces, y_title=t("transactions_label"), height=380)
    columns = [
        Column("month_name", t("month")),
        Column("name", t("city")),
        Column("value", t("transactions_label"), "count", "suppressed"),
    ]
    notes = cities.stale_notes(chosen) + cities.gaps_note(chosen, delivered, cities.months(values))
    order = {city.slug: index for index, city in enumerate(chosen)}
    table = frame.sort("month", pl.col("city").replace_strict(order))
    return ChartData(table, columns, fig, notes + cities.hidden_note(frame["suppressed"]))


CHARTS = [
    Chart(PAGE, "funnel", "services_chart_funnel", NAMES, _funnel, role=ROLE),
    Chart(PAGE, "channels", "services_chart_channels", NAMES, _channel_mix, role=ROLE),
    Chart(PAGE, "processing", "services_chart_processing", NAMES, _processing, role=ROLE, wide=True),
    Chart(PAGE, "trend", "services_chart_trend", NAMES, _trend, role=ROLE, wide=True),
]


def _body(_values: dict[str, Any]) -> list[Any]:
    return [html.Div([chart.card() for chart in CHARTS], className="cards")]


filters.sync_url(PAGE, NAMES)


def layout(**query: Any) -> html.Div:
    return page.layout(PAGE, ROLE, query, NAMES, _body)
