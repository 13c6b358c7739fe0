"""A chart card: the chart, a table view of exactly its data, and a CSV download of that table.

A page describes each chart by a function from filter values to
:class:`ChartData` (the frame drawn, its columns, the figure). The card's
callbacks call that one function for the figure, the table and the download,
so what is drawn, what is listed and what is downloaded cannot differ.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dash
import flask
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, State, dcc, html

from dashboard import filters
from dashboard.i18n import format_value, language, t
from dashboard.roles import allowed, require, viewer
from dashboard.users import User


@dataclass(frozen=True)
class Column:
    """A column of the chart's table: frame column, heading, unit (``text`` or a KPI unit)."""

    name: str
    label: str
    unit: str = "text"
    suppressed_by: str | None = None  # boolean column: this cell is hidden as "< 5"


@dataclass
class ChartData:
    frame: pl.DataFrame
    columns: list[Column]
    figure: go.Figure
    notes: list[str] = field(default_factory=list)  # shown above the chart (stale feeds, ...)


Build = Callable[[dict[str, Any], User], ChartData]


def _cell(row: dict[str, Any], column: Column, lang: str) -> str:
    if column.suppressed_by and row.get(column.suppressed_by):
        return t("suppressed", lang)
    value = row[column.name]
    if column.unit == "text":
        return "" if value is None else str(value)
    return format_value(value, column.unit, lang)


def table(data: ChartData, caption: str) -> html.Table:
    """The chart's data as an accessible table, formatted for the reader's language."""
    lang = language()
    head = html.Thead(html.Tr([html.Th(column.label, scope="col") for column in data.columns]))
    rows = []
    for row in data.frame.iter_rows(named=True):
        cells: list[Any] = []
        for index, column in enumerate(data.columns):
            text = _cell(row, column, lang)
            cells.append(html.Th(text, scope="row") if index == 0 else html.Td(text, className=f"unit-{column.unit}"))
        rows.append(html.Tr(cells, className="home-city" if row.get("home") else None))
    return html.Table([html.Caption(caption), head, html.Tbody(rows)], className="data-table")


def csv_text(data: ChartData) -> str:
    """The table as CSV: the same rows and headings, machine-readable values (shares as fractions)."""
    lang = language()
    out: dict[str, list[Any]] = {column.label: [] for column in data.columns}
    notes: list[str] = []
    for row in data.frame.iter_rows(named=True):
        note = ""
        for column in data.columns:
            hidden = bool(column.suppressed_by and row.get(column.suppressed_by))
            value = None if hidden else row[column.name]
            if hidden:
                note = t("suppressed", lang)
            elif value is None and column.unit != "text":
                note = note or t("not_reported", lang)
            out[column.label].append(value)
        notes.append(note)
    frame = pl.DataFrame(out, strict=False)
    if any(notes):
        frame = frame.with_columns(pl.Series(t("note", lang), notes))
    buffer = io.StringIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


class Chart:
    """One chart of a page: registers its callbacks once; :meth:`card` places it in a layout.

    Drawing and the table view need ``role`` (the page's role); downloading needs at
    least an officer.
    """

    def __init__(
        self, page: str, chart_id: str, title: str, names: Sequence[str], build: Build, *,
        role: str = "mayor", wide: bool = False,
    ) -> None:  # fmt: skip
        self.key = f"{page}-{chart_id}"
        self.title = title  # i18n key
        self.wide = wide
        self.names = list(names)
        self.build = build
        download_role = "officer" if role == "mayor" else role
        key = self.key

        @dash.callback(
            Output(f"{key}-graph", "figure"),
            Output(f"{key}-notes", "children"),
            filters.inputs(page, names),
        )
        @require(role)
        def draw(*values: Any) -> tuple[go.Figure, list[html.Span]]:
            data = self.data(values)
            return data.figure, [html.Span(note, className="badge") for note in data.notes]

        # The table is built only while it is open: Dash renders every cell as a component,
        # and a few thousand of them (a city x month x channel table) take the browser seconds.
        @dash.callback(
            Output(f"{key}-table", "children"),
            Output(f"{key}-table-toggle", "children"),
            Output(f"{key}-table-toggle", "aria-expanded"),
            Input(f"{key}-table-toggle", "n_clicks"),
            filters.inputs(page, names),
        )
        @require(role)
        def show_table(clicks: int, *values: Any) -> tuple[Any, str, str]:
            if not clicks or clicks % 2 == 0:
                return [], t("show_table"), "false"
            return table(self.data(values), t(self.title)), t("hide_table"), "true"

        @dash.callback(
            Output(f"{key}-download", "data"),
            Input(f"{key}-csv", "n_clicks"),
            [State(filters.control_id(page, name), "value") for name in names],
            prevent_initial_call=True,
        )
        @require(download_role)
        def download(_clicks: int, *values: Any) -> dict[str, Any]:
            data = self.data(values)
            audit = flask.current_app.config["EGOVSAD_AUDIT"]
            audit.record("download", viewer().username, chart=key, filters=dict(zip(names, values, strict=True)))
            return dcc.send_string(csv_text(data), f"egovsad-{key}.csv")  # type: ignore[no-any-return]

    def data(self, values: Sequence[Any]) -> ChartData:
        return self.build(dict(zip(self.names, values, strict=True)), viewer())

    def card(self) -> html.Section:
        """The card for a layout: title, notes, the chart, its table view and (officers up) download."""
        key = self.key
        parts: list[Any] = [
            html.H2(t(self.title), id=f"{key}-title"),
            html.Div(id=f"{key}-notes", className="notes", role="status"),
            dcc.Loading(
                html.Div(
                    dcc.Graph(id=f"{key}-graph", config={"displaylogo": False, "responsive": True}),
                    role="img",
                    **{"aria-labelledby": f"{key}-title"},  # type: ignore[arg-type]
                ),
                type="dot",
            ),
            html.Button(
                t("show_table"),
                id=f"{key}-table-toggle",
                n_clicks=0,
                className="table-toggle",
                **{"aria-expanded": "false", "aria-controls": f"{key}-table"},  # type: ignore[arg-type]
            ),
            html.Div(id=f"{key}-table", className="table-view"),
        ]
        if allowed("officer"):
            parts += [
                html.Button(t("download_csv"), id=f"{key}-csv", className="download", n_clicks=0),
                dcc.Download(id=f"{key}-download"),
            ]
        return html.Section(parts, className="card wide" if self.wide else "card", id=key)
