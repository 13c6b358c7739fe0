"""Kanäle: how citizens reach the administration — channel mix over time, hours of the week, devices, eID, payment.

Channel counts come from the KPI registry (every city). Hours, devices, eID
and e-payment need event data: a city that delivers daily counts only (Wetzlar)
is named as "not reported" there, never drawn as 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
import plotly.graph_objects as go
import polars as pl
from dash import html

from dashboard import filters, i18n
from dashboard.components import cities, page
from dashboard.components.chart import Chart, ChartData, Column
from dashboard.components.figures import CHANNEL_COLOURS, CHANNELS, OTHER, channel_label, empty, figure
from dashboard.i18n import MONTHS, language, month_label, t
from dashboard.roles import SUPPRESSED_ROLES
from dashboard.users import User

PAGE = "channels"
ROLE = "officer"
NAMES = ("from", "to", "cities", "services")
DESKTOP, MOBILE = "#0072B2", "#E69F00"
EID, EPAYMENT = "#0072B2", "#D55E00"
HEAT = [[0.0, "#F7FBFF"], [0.5, "#56B4E9"], [1.0, "#08306B"]]  # one hue, light to dark: readable without colour

i18n.register(
    {
        "channels_chart_mix": (
            "Kanalmix je Monat, für jede Stadt einzeln (Anteil der Vorgänge)",
            "Channel mix per month, for each city separately (share of transactions)",
        ),
        "channels_chart_hours": (
            "Einreichungen nach Wochentag und Uhrzeit (Ortszeit), Summe der gewählten Städte mit Ereignisdaten",
            "Submissions by weekday and hour (local time), sum of the chosen cities with event data",
        ),
        "channels_chart_devices": (
            "Endgeräte bei digitalen Vorgängen (Online, App) je Stadt",
            "Devices of digital transactions (online, app) per city",
        ),
        "channels_chart_eid": (
            "Anteil Online-Ausweis (eID) und Online-Bezahlung je Stadt",
            "eID share and e-payment share per city",
        ),
        "channels_weekday": ("Wochentag", "weekday"),
        "channels_hour": ("Stunde (Ortszeit, ab)", "hour (local time, from)"),
        "channels_submissions": ("Einreichungen", "submissions"),
        "channels_daily_only": (
            "{}: liefert nur Tageszahlen – Uhrzeiten nicht geliefert, nicht enthalten",
            "{}: delivers daily counts only – hours not reported, not included",
        ),
        "channels_no_hours": (
            "Keine der gewählten Städte liefert Uhrzeiten (nur Tageszahlen): nicht geliefert.",
            "None of the chosen cities delivers times of day (daily counts only): not reported.",
        ),
        "channels_desktop": ("Desktop", "desktop"),
        "channels_mobile": ("Smartphone oder Tablet", "mobile or tablet"),
        "channels_mobile_share": ("Anteil mobil", "mobile share"),
        "channels_eid_share": ("Anteil Online-Ausweis (eID)", "eID share"),
        "channels_epayment_share": ("Anteil Online-Bezahlung", "e-payment share"),
        "channels_weekday_1": ("Montag", "Monday"),
        "channels_weekday_2": ("Dienstag", "Tuesday"),
        "channels_weekday_3": ("Mittwoch", "Wednesday"),
        "channels_weekday_4": ("Donnerstag", "Thursday"),
        "channels_weekday_5": ("Freitag", "Friday"),
        "channels_weekday_6": ("Samstag", "Saturday"),
        "channels_weekday_7": ("Sonntag", "Sunday"),
    }
)

dash.register_page(__name__, path="/kanaele", name="page_channels", title="Kanäle – eGovSAD", order=3, role=ROLE)


def _city_order(chosen: list[cities.City]) -> pl.Expr:
    return pl.col("city").replace_strict({city.slug: index for index, city in enumerate(chosen)})


def _short_month(values: dict[str, Any]) -> Callable[[str], str]:
    """'2026-03' as 'März' (with the year, 'März 26', when the period spans years): room for many bars."""
    months = cities.months(values)
    years = months[0][:4] != months[-1][:4]
    lang = language()
    return lambda month: MONTHS[lang][int(month[5:]) - 1] + (f" {month[2:4]}" if years else "")


def _mix(values: dict[str, Any], user: User) -> ChartData:
    chosen = cities.chosen(values, user)
    reported = cities.reported(values, ("city", "month"))
    shown_cities = [city for city in chosen if any(key[0] == city.slug for key in reported)]
    counts = cities.kpi("transactions", values, ("city", "month", "channel"), user)
    order = {channel: index for index, channel in enumerate(CHANNELS)}
    frame = (
        cities.frame(chosen)
        .join(counts, on="city")
        .with_columns(
            (pl.col("value") / pl.col("value").sum().over("city", "month")).fill_nan(None).alias("share"),
            pl.col("channel").replace_strict(order, default=len(order)).alias("_order"),
            pl.col("channel")
            .replace_strict(cities.words(CHANNELS, channel_label), default=pl.col("channel"))
            .alias("channel_name"),
            pl.col("month").replace_strict(cities.words(cities.months(values), month_label)).alias("month_name"),
            pl.col("month")
            .replace_strict(cities.words(cities.months(values), _short_month(values)))
            .alias("month_short"),
        )
        .sort(_city_order(chosen), "month", "_order")
    )
    if not shown_cities:
        return ChartData(frame, [], empty(t("no_data_period")), cities.not_reported_notes(chosen, set()))
    # one axis of two levels (city, then its months): every city's own small chart, side by side
    drawn = frame.filter(~pl.col("suppressed"))
    places = frame.unique(["city", "month"], maintain_order=True)
    # every (city, month) first, in order: a month drawn only as "hidden" must not move to the end of the axis
    traces = [
        go.Bar(x=[places["label"], places["month_short"]], y=[0] * places.height, showlegend=False, hoverinfo="skip")
    ]
    for channel in CHANNELS:
        cells = drawn.filter(pl.col("channel") == channel)
        traces.append(
            go.Bar(
                x=[cells["label"], cells["month_short"]], y=cells["share"], name=channel_label(channel),
                marker_color=CHANNEL_COLOURS[channel], customdata=cells["value"],
                hovertemplate="%{x}: %{y:.1%} (%{customdata})<extra>" + channel_label(channel) + "</extra>",
            )
        )  # fmt: skip
    hidden = (
        frame.filter(pl.col("suppressed"))
        .group_by("city", "month", maintain_order=True)
        .agg(pl.col("label").first(), pl.col("month_short").first(), pl.col("share").sum())
    )
    traces.append(
        go.Bar(
            x=[hidden["label"], hidden["month_short"]], y=hidden["share"], name=t("suppressed"), marker_color=OTHER,
            hovertemplate="%{x}<extra>" + t("suppressed") + "</extra>",
        )
    )  # fmt: skip
    fig = figure(*traces, barmode="stack", legend_traceorder="normal", y_format=".0%", height=400)
    fig.update_yaxes(range=[0, 1.0001])
    fig.update_xaxes(tickangle=-90 if len(cities.months(values)) > 6 else 0)
    notes = (
        cities.stale_notes(chosen)
        + cities.not_reported_notes(chosen, {city.slug for city in shown_cities})
        + cities.gaps_note(shown_cities, reported, cities.months(values))
        + cities.hidden_note(frame["suppressed"])
    )
    table = [
        Column("name", t("city")),
        Column("month_name", t("month")),
        Column("channel_name", t("channel")),
        Column("value", t("transactions_label"), "count", "suppressed"),
        Column("share", t("share"), "share", "suppressed"),
    ]
    return ChartData(frame, table, fig, notes)


def _hours(values: dict[str, Any], user: User) -> ChartData:
    chosen = cities.chosen(values, user)
    with_events = [city for city in chosen if city.has_events]
    hours = page.data().view("weekday_hour", filters.selection(values))
    notes = cities.stale_notes(with_events) + [
        t("channels_daily_only").format(city.name) for city in chosen if not city.has_events
    ]
    if not with_events:
        return ChartData(hours, [], empty(t("channels_no_hours")), notes)
    # every hour of the week: an hour without submissions in cities that deliver events is a true 0
    grid = pl.DataFrame({"weekday": [day for day in range(1, 8) for _ in range(24)], "hour": list(range(24)) * 7},
                        schema={"weekday": pl.Int8, "hour": pl.Int8})  # fmt: skip
    summed = hours.group_by("weekday", "hour").agg(pl.col("submitted").sum())
    frame = (
        grid.join(summed.with_columns(pl.col("weekday", "hour").cast(pl.Int8)), on=["weekday", "hour"], how="left")
        .with_columns(pl.col("submitted").fill_null(0))
        .sort("weekday", "hour")
    )
    frame = cities.hide_small(frame, "submitted", ("weekday", "hour"), user).with_columns(
        pl.col("weekday")
        .replace_strict(cities.words(range(1, 8), lambda day: t(f"channels_weekday_{day}")), return_dtype=pl.String)
        .alias("weekday_name")
    )
    days = [t(f"channels_weekday_{day}") for day in range(1, 8)]
    drawn = frame.select(cities.shown("submitted"))["submitted"].to_list()
    texts = [
        t("suppressed") if hidden else str(count) for hidden, count in zip(frame["suppressed"], drawn, strict=True)
    ]
    fig = figure(
        go.Heatmap(
            z=[drawn[day * 24 : day * 24 + 24] for day in range(7)], x=list(range(24)), y=days,
            text=[texts[day * 24 : day * 24 + 24] for day in range(7)], colorscale=HEAT, xgap=1, ygap=1,
            hovertemplate="%{y}, %{x}:00: %{text}<extra></extra>",
            colorbar={"title": {"text": t("channels_submissions")}},
        ),
        x_title=t("channels_hour"), height=360,
    )  # fmt: skip
    hidden = [[1 if flag else None for flag in frame["suppressed"][day * 24 : day * 24 + 24]] for day in range(7)]
    fig.add_trace(
        go.Heatmap(
            z=hidden, x=list(range(24)), y=days, colorscale=[[0, OTHER], [1, OTHER]], showscale=False, xgap=1, ygap=1,
            name=t("suppressed"), hovertemplate="%{y}, %{x}:00: " + t("suppressed") + "<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(dtick=2, ticksuffix=":00", showgrid=False)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    columns = [
        Column("weekday_name", t("channels_weekday")),
        Column("hour", t("channels_hour")),
        Column("submitted", t("channels_submissions"), "count", "suppressed"),
    ]
    return ChartData(frame, columns, fig, notes + cities.hidden_note(frame["suppressed"]))


def _horizontal(fig: go.Figure, labels: list[str]) -> go.Figure:
    fig.update_xaxes(tickformat=".0%", range=[0, 1.01], tick0=0, dtick=0.2, gridcolor="#e5e5e5")
    fig.update_layout(margin_r=30)  # room for the "100 %" at the right edge
    fig.update_yaxes(categoryorder="array", categoryarray=labels, autorange="reversed")
    return fig


def _devices(values: dict[str, Any], user: User) -> ChartData:
    chosen = cities.chosen(values, user)
    small = page.data().min_cell if user.role in SUPPRESSED_ROLES else 1
    share = cities.kpi("mobile_share", values, ("city",), user)
    frame = (
        cities.frame(chosen)
        .join(share, on="city", how="left")
        .with_columns(
            pl.col("suppressed").fill_null(False),
            # no device reported: "not reported", not 0 desktops and 0 phones
            pl.when(pl.col("denominator") > 0).then(pl.col("denominator") - pl.col("numerator")).alias("desktop"),
            pl.when(pl.col("denominator") > 0).then(pl.col("numerator")).alias("mobile"),
        )
        .with_columns(
            (pl.col("suppressed") | pl.col("desktop").is_between(1, small - 1)).alias("desktop_hidden"),
            (pl.col("suppressed") | pl.col("mobile").is_between(1, small - 1)).alias("mobile_hidden"),
        )
        .with_columns(
            (pl.col("suppressed") | pl.col("desktop_hidden") | pl.col("mobile_hidden"))
            .fill_null(False)
            .alias("hidden"),
            pl.col("desktop_hidden", "mobile_hidden").fill_null(False),
        )
    )
    drawn = frame.filter(~pl.col("hidden") & pl.col("value").is_not_null())
    fig = _horizontal(
        figure(
            go.Bar(y=drawn["label"], x=1 - drawn["value"], orientation="h", name=t("channels_desktop"),
                   marker_color=DESKTOP, customdata=drawn["desktop"], hovertemplate="%{y}: %{x:.1%} (%{customdata})"),
            go.Bar(y=drawn["label"], x=drawn["value"], orientation="h", name=t("channels_mobile"),
                   marker_color=MOBILE, customdata=drawn["mobile"], hovertemplate="%{y}: %{x:.1%} (%{customdata})"),
            barmode="stack", legend_traceorder="normal", height=max(260, 50 * len(chosen) + 120),
        ),
        list(frame["label"]),
    )  # fmt: skip
    cities.say(fig, list(frame.filter(pl.col("value").is_null())["label"]), t("not_reported"))
    cities.say(fig, list(frame.filter(pl.col("hidden") & pl.col("value").is_not_null())["label"]), t("suppressed"))
    columns = [
        Column("name", t("city")),
        Column("desktop", t("channels_desktop"), "count", "desktop_hidden"),
        Column("mobile", t("channels_mobile"), "count", "mobile_hidden"),
        Column("value", t("channels_mobile_share"), "share", "hidden"),
    ]
    return ChartData(frame, columns, fig, cities.stale_notes(chosen) + cities.hidden_note(frame["hidden"]))


def _eid(values: dict[str, Any], user: User) -> ChartData:
    chosen = cities.chosen(values, user)
    frame = cities.frame(chosen)
    for kpi_id in ("eid_share", "epayment_share"):
        share = cities.kpi(kpi_id, values, ("city",), user).select(
            "city", pl.col("value").alias(kpi_id), pl.col("suppressed").alias(f"{kpi_id}_hidden")
        )
        frame = frame.join(share, on="city", how="left").with_columns(pl.col(f"{kpi_id}_hidden").fill_null(False))
    traces = []
    for kpi_id, colour in (("eid_share", EID), ("epayment_share", EPAYMENT)):
        traces.append(
            go.Bar(y=frame["label"], x=frame.select(cities.shown(kpi_id, f"{kpi_id}_hidden"))[kpi_id], orientation="h",
                   name=t(f"channels_{kpi_id}"), marker_color=colour, hovertemplate="%{y}: %{x:.1%}")
        )  # fmt: skip
    fig = _horizontal(figure(*traces, barmode="group", height=max(260, 60 * len(chosen) + 120)), list(frame["label"]))
    nothing = frame.filter(pl.col("eid_share").is_null() & pl.col("epayment_share").is_null())
    cities.say(fig, list(nothing["label"]), t("not_reported"))
    both_hidden = frame.filter(pl.col("eid_share_hidden") & pl.col("epayment_share_hidden"))
    cities.say(fig, list(both_hidden["label"]), t("suppressed"))
    columns = [
        Column("name", t("city")),
        Column("eid_share", t("channels_eid_share"), "share", "eid_share_hidden"),
        Column("epayment_share", t("channels_epayment_share"), "share", "epayment_share_hidden"),
    ]
    hidden = cities.hidden_note(frame["eid_share_hidden"], frame["epayment_share_hidden"])
    return ChartData(frame, columns, fig, cities.stale_notes(chosen) + hidden)


CHARTS = [
    Chart(PAGE, "mix", "channels_chart_mix", NAMES, _mix, role=ROLE, wide=True),
    Chart(PAGE, "hours", "channels_chart_hours", NAMES, _hours, role=ROLE, wide=True),
    Chart(PAGE, "devices", "channels_chart_devices", NAMES, _devices, role=ROLE),
    Chart(PAGE, "eid", "channels_chart_eid", NAMES, _eid, role=ROLE),
]


def _body(_values: dict[str, Any]) -> list[Any]:
    return [html.Div([chart.card() for chart in CHARTS], className="cards")]


filters.sync_url(PAGE, NAMES)


def layout(**query: Any) -> html.Div:
    return page.layout(PAGE, ROLE, query, NAMES, _body)
