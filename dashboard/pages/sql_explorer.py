"""SQL: analysts ask their own questions of the analyst views and export full results.

Queries run through the same engine as ``egovsad sql`` (``warehouse/analyst.py``):
on the snapshot in service, read-only, no files, settings locked, a time limit,
one statement. The grid shows the first 1,000 rows; exports stream the whole
result to a file under the home folder, with its manifest, linked for download.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dash
import dash_ag_grid as dag
import flask
import polars as pl
from dash import Input, Output, State, ctx, dcc, html

from dashboard import i18n
from dashboard.components import page
from dashboard.exports import user_folder
from dashboard.i18n import number, t
from dashboard.roles import require, viewer
from dashboard.saved_queries import QueryStore
from warehouse import analyst
from warehouse.errors import QueryRefused
from warehouse.snapshots import published_at
from warehouse.sql_files import SQL_DIR

PAGE = "sql"
ROLE = "analyst"
GRID_ROWS = 1000
FORMATS = {
    "csv": "CSV",
    "csv_excel": "CSV (Excel, deutsch)",
    "xlsx": "Excel (XLSX)",
    "json": "JSON",
    "parquet": "Parquet",
}
EXAMPLES = SQL_DIR / "examples"

i18n.register(
    {
        "sql_editor_label": ("SQL-Abfrage", "SQL query"),
        "sql_run": ("Ausführen (Strg+Enter)", "Run (Ctrl+Enter)"),
        "sql_schema": ("Tabellen und Spalten", "Tables and columns"),
        "sql_examples": ("Beispielabfragen", "Example queries"),
        "sql_saved": ("Gespeicherte Abfragen", "Saved queries"),
        "sql_history": ("Verlauf", "History"),
        "sql_save_name": ("Name der Abfrage", "Query name"),
        "sql_share": ("mit allen Analyst/innen teilen", "share with all analysts"),
        "sql_save": ("Speichern", "Save"),
        "sql_saved_ok": ("Gespeichert: {}", "Saved: {}"),
        "sql_need_name": ("Bitte einen Namen angeben.", "Please give a name."),
        "sql_format": ("Exportformat", "Export format"),
        "sql_export": ("Gesamtes Ergebnis exportieren", "Export the full result"),
        "sql_export_ready": ("Export fertig: {} Zeilen", "Export ready: {} rows"),
        "sql_download": ("Datei herunterladen", "Download file"),
        "sql_manifest": ("Manifest (Prüfsumme, Abfrage, Datenstand)", "Manifest (checksum, query, data as of)"),
        "sql_status": (
            "{total} Zeilen · {shown} angezeigt · {seconds} s · Datenstand {asof}",
            "{total} rows · {shown} shown · {seconds} s · data as of {asof}",
        ),
        "sql_refused": ("Abfrage nicht ausgeführt: {}", "Query not run: {}"),
        "sql_empty": ("Bitte eine Abfrage eingeben.", "Please enter a query."),
        "sql_no_rows": ("Keine Zeilen", "No rows"),
        "sql_column": ("Spalte", "column"),
        "sql_type": ("Typ", "type"),
        "sql_description": ("Beschreibung", "description"),
        "sql_shared_by": ("geteilt von {}", "shared by {}"),
    }
)

dash.register_page(__name__, path="/sql", name="page_sql", title="SQL – eGovSAD", order=4, role=ROLE)


def _store() -> QueryStore:
    return flask.current_app.config["EGOVSAD_QUERIES"]  # type: ignore[no-any-return]


def _settings() -> Any:
    return flask.current_app.config["EGOVSAD_SETTINGS"]


def _timeout() -> float:
    return float(_settings().values["sql.timeout_seconds"])


def _examples() -> dict[str, tuple[str, str]]:
    """file stem -> (title in the reader's language, query), from sql/examples/."""
    found = {}
    for path in sorted(EXAMPLES.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        first, _, body = text.partition("\n")
        german, _, english = first.removeprefix("--").strip().partition(" / ")
        found[path.stem] = (english if i18n.language() == "en" and english else german, body.strip())
    return found


def _asof(snapshot: Path) -> str:
    local = published_at(snapshot).astimezone(analyst_timezone())
    return f"{i18n.day(local.date())} {local:%H:%M}"


def analyst_timezone() -> ZoneInfo:
    return ZoneInfo("Europe/Berlin")


def _saved_options(username: str) -> list[dict[str, Any]]:
    options = []
    for saved in _store().visible(username):
        label = saved.name if saved.owner == username else f"{saved.name} ({t('sql_shared_by').format(saved.owner)})"
        options.append({"label": label, "value": saved.id})
    return options


def _history_options(username: str) -> list[dict[str, Any]]:
    options = []
    for entry in _store().history(username):
        when = datetime.fromisoformat(entry.ran_at).astimezone(analyst_timezone())
        first_line = " ".join(entry.query.split())[:90]
        mark = " ⚠" if entry.error else ""
        options.append({"label": f"{when:%d.%m. %H:%M}{mark} – {first_line}", "value": entry.id})
    return options


def _schema_browser() -> html.Div:
    path, con = page.data().reader.cursor()
    try:
        columns = analyst.schema(con)
    finally:
        con.close()
    views = []
    for (view,), rows in columns.group_by("view", maintain_order=True):
        table = html.Table(
            [
                html.Thead(html.Tr([html.Th(t("sql_column")), html.Th(t("sql_type")), html.Th(t("sql_description"))])),
                html.Tbody(
                    [
                        html.Tr(
                            [html.Th(row["column"], scope="row"), html.Td(row["type"]), html.Td(row["description"])]
                        )
                        for row in rows.iter_rows(named=True)
                    ]
                ),
            ],
            className="data-table schema-table",
        )
        views.append(html.Details([html.Summary(html.Code(str(view))), table]))
    return html.Div(views, className="schema-browser")


def _body(_values: dict[str, Any]) -> list[Any]:
    user = viewer()
    examples = _examples()
    return [
        html.Div(
            [
                html.Aside(
                    [
                        html.H2(t("sql_schema")),
                        _schema_browser(),
                        html.Label(t("sql_examples"), htmlFor="sql-example", id="sql-example-label"),
                        dcc.Dropdown(
                            id="sql-example",
                            options=[{"label": title, "value": stem} for stem, (title, _q) in examples.items()],
                        ),
                        html.Label(t("sql_saved"), htmlFor="sql-saved", id="sql-saved-label"),
                        dcc.Dropdown(id="sql-saved", options=_saved_options(user.username)),
                        html.Label(t("sql_history"), htmlFor="sql-history", id="sql-history-label"),
                        dcc.Dropdown(id="sql-history", options=_history_options(user.username)),
                    ],
                    className="sql-side",
                ),
                html.Div(
                    [
                        html.Label(t("sql_editor_label"), htmlFor="sql-editor"),
                        dcc.Textarea(
                            id="sql-editor",
                            value=next(iter(examples.values()), ("", ""))[1],
                            className="sql-editor",
                            spellCheck="false",  # type: ignore[arg-type]
                        ),
                        dcc.Store(id="sql-load"),
                        html.Div(
                            [
                                html.Button(t("sql_run"), id="sql-run", n_clicks=0, className="primary"),
                                html.Label(t("sql_format"), htmlFor="sql-format"),
                                dcc.Dropdown(
                                    id="sql-format",
                                    options=[{"label": label, "value": fmt} for fmt, label in FORMATS.items()],
                                    value="csv",
                                    clearable=False,
                                    className="sql-format",
                                ),
                                html.Button(t("sql_export"), id="sql-export", n_clicks=0),
                            ],
                            className="sql-actions",
                        ),
                        html.Div(
                            [
                                html.Label(t("sql_save_name"), htmlFor="sql-save-name"),
                                dcc.Input(id="sql-save-name", type="text"),
                                dcc.Checklist(
                                    id="sql-share", options=[{"label": t("sql_share"), "value": "shared"}], value=[]
                                ),
                                html.Button(t("sql_save"), id="sql-save", n_clicks=0),
                                html.Span(id="sql-save-message", role="status"),
                            ],
                            className="sql-actions",
                        ),
                        dcc.Loading(
                            [
                                html.P(id="sql-status", role="status"),
                                html.Div(id="sql-error", role="alert"),
                                html.Div(id="sql-export-result", role="status"),
                                dag.AgGrid(
                                    id="sql-grid",
                                    rowData=[],
                                    columnDefs=[],
                                    defaultColDef={"resizable": True, "sortable": True, "filter": True},
                                    style={"height": "480px"},
                                    dashGridOptions={"localeText": {"noRowsToShow": t("sql_no_rows")}},
                                ),
                            ],
                            type="dot",
                        ),
                    ],
                    className="sql-main",
                ),
            ],
            className="sql-layout",
        )
    ]


@dash.callback(
    Output("sql-grid", "rowData"),
    Output("sql-grid", "columnDefs"),
    Output("sql-status", "children"),
    Output("sql-error", "children"),
    Output("sql-history", "options"),
    Input("sql-run", "n_clicks"),
    State("sql-editor", "value"),
    prevent_initial_call=True,
)
@require(ROLE)
def run(_clicks: int, query: str | None) -> tuple[Any, ...]:
    user = viewer()
    audit = flask.current_app.config["EGOVSAD_AUDIT"]
    if not (query or "").strip():
        return [], [], "", t("sql_empty"), dash.no_update
    path, con = page.data().reader.cursor()
    try:
        result = analyst.run_query(con, query or "", limit=GRID_ROWS, timeout_seconds=_timeout())
    except QueryRefused as refused:
        _store().record(user.username, query or "", rows=None, seconds=None, error=str(refused))
        audit.record("sql_run", user.username, query=query, snapshot=path.name, error=str(refused))
        return [], [], "", t("sql_refused").format(refused), _history_options(user.username)
    finally:
        con.close()
    _store().record(user.username, query or "", rows=result.total_rows, seconds=result.elapsed_seconds, error=None)
    audit.record("sql_run", user.username, query=query, snapshot=path.name, rows=result.total_rows)
    frame = result.frame
    rows = _grid_rows(frame)
    columns = [
        {"field": name, "headerName": name, "type": "numericColumn" if frame[name].dtype.is_numeric() else None}
        for name in frame.columns
    ]
    status = t("sql_status").format(
        total=number(result.total_rows),
        shown=number(min(result.total_rows, GRID_ROWS)),
        seconds=number(result.elapsed_seconds, 2),
        asof=_asof(path),
    )
    return rows, columns, status, "", _history_options(user.username)


def _grid_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows for the grid: numbers and text as they are, everything else (dates, lists, ...) as text."""
    plain = (pl.Boolean, pl.String)
    return frame.with_columns(
        pl.col(name).cast(pl.String)
        for name, dtype in frame.schema.items()
        if not (dtype.is_numeric() or isinstance(dtype, plain))
    ).to_dicts()


@dash.callback(
    Output("sql-export-result", "children"),
    Input("sql-export", "n_clicks"),
    State("sql-editor", "value"),
    State("sql-format", "value"),
    prevent_initial_call=True,
)
@require(ROLE)
def export(_clicks: int, query: str | None, fmt: str) -> Any:
    user = viewer()
    if fmt not in FORMATS:
        return html.P(t("sql_refused").format(fmt), className="error")
    audit = flask.current_app.config["EGOVSAD_AUDIT"]
    folder = user_folder(flask.current_app.config["EGOVSAD_EXPORTS"], user.username)
    suffix = "csv" if fmt == "csv_excel" else fmt
    target = folder / f"egovsad-{datetime.now(analyst_timezone()):%Y%m%d-%H%M%S}.{suffix}"
    path, con = page.data().reader.cursor()
    try:
        manifest = analyst.export(
            con, query or "", target, fmt, user=user.username, snapshot=path.name,
            timeout_seconds=float(_settings().values["sql.export_timeout_seconds"]),
        )  # fmt: skip
    except QueryRefused as refused:
        audit.record("export", user.username, query=query, format=fmt, snapshot=path.name, error=str(refused))
        return html.P(t("sql_refused").format(refused), className="error")
    finally:
        con.close()
    audit.record(
        "export", user.username, query=query, format=fmt, snapshot=path.name, file=target.name,
        rows=manifest.rows, sha256=manifest.sha256,
    )  # fmt: skip
    size = target.stat().st_size / 1_048_576
    return html.P(
        [
            t("sql_export_ready").format(number(manifest.rows)),
            " · ",
            html.A(f"{t('sql_download')} ({number(size, 1)} MB)", href=f"/exports/{target.name}", download=target.name),
            " · ",
            html.A(t("sql_manifest"), href=f"/exports/{target.name}.manifest.json"),
        ]
    )


@dash.callback(
    Output("sql-load", "data"),
    Input("sql-example", "value"),
    Input("sql-saved", "value"),
    Input("sql-history", "value"),
    prevent_initial_call=True,
)
@require(ROLE)
def choose(example: str | None, saved: int | None, history: int | None) -> Any:
    """The text of the chosen example, saved query (own or shared) or history entry."""
    user = viewer()
    if ctx.triggered_id == "sql-example" and example:
        return _examples().get(example, ("", dash.no_update))[1]
    if ctx.triggered_id == "sql-saved" and saved is not None:
        found = _store().get(user.username, int(saved))
        return found.query if found else dash.no_update
    if ctx.triggered_id == "sql-history" and history is not None:
        entry = next((e for e in _store().history(user.username, 200) if e.id == int(history)), None)
        return entry.query if entry else dash.no_update
    return dash.no_update


dash.clientside_callback(
    dash.ClientsideFunction(namespace="sql", function_name="load"),
    Output("sql-editor", "value"),
    Input("sql-load", "data"),
    prevent_initial_call=True,
)


@dash.callback(
    Output("sql-save-message", "children"),
    Output("sql-saved", "options"),
    Input("sql-save", "n_clicks"),
    State("sql-save-name", "value"),
    State("sql-share", "value"),
    State("sql-editor", "value"),
    prevent_initial_call=True,
)
@require(ROLE)
def save(_clicks: int, name: str | None, share: list[str], query: str | None) -> tuple[str, Any]:
    user = viewer()
    if not (name or "").strip():
        return t("sql_need_name"), dash.no_update
    saved = _store().save(user.username, name or "", query or "", shared="shared" in (share or []))
    return t("sql_saved_ok").format(saved.name), _saved_options(user.username)


def layout(**query: Any) -> html.Div:
    return page.layout(PAGE, ROLE, query, (), _body)
