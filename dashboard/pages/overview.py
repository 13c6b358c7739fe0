"""Übersicht: where the user's home city stands among the six (first slice)."""

from __future__ import annotations

from typing import Any

import dash
from dash import html
from flask_login import current_user

from dashboard.app import data
from dashboard.formats import number, percent
from warehouse.kpis import Selection

dash.register_page(__name__, path="/", name="Übersicht", title="Übersicht – eGovSAD")


def layout(**_query: Any) -> html.Div:
    access = data()
    start, end = access.default_period()
    selection = Selection(start, end)
    transactions = dict(access.kpi("transactions", selection, ("city",)).select("city", "value").iter_rows())
    takeup = dict(access.kpi("digital_takeup", selection, ("city",)).select("city", "value").iter_rows())
    home = current_user.user.city if current_user.is_authenticated else None
    names = access.city_names()
    rows = [
        html.Tr(
            [
                html.Th(names.get(city, city), scope="row"),
                html.Td(number(transactions.get(city))),
                html.Td(percent(takeup.get(city))),
            ],
            className="home-city" if city == home else None,
        )
        for city in sorted(transactions)
    ]
    return html.Div(
        [
            html.H1("Übersicht"),
            html.P(f"Zeitraum {start:%d.%m.%Y} – {end:%d.%m.%Y}"),
            html.Table(
                [
                    html.Caption("Vorgänge und Digitalquote je Stadt"),
                    html.Thead(html.Tr([html.Th("Stadt"), html.Th("Vorgänge (eingereicht)"), html.Th("Digitalquote")])),
                    html.Tbody(rows),
                ],
                id="overview-cities-table",
            ),
        ]
    )
