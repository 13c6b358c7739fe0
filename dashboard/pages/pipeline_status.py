"""Pipelines (admins): each city's freshness, the recent runs, the quarantine, what no mapping knew, run now.

"Run now" starts ``egovsad ingest --city SLUG --no-wait`` as a process of its own:
the dashboard never opens the warehouse for writing, and the writer lock keeps the
run from overlapping the scheduler (a busy lock is said at once, nothing is started).
The process's output and exit status are kept under ``logs/run-now/``, so whichever
worker answers the next refresh can say how the run ended. The module is not named
``pipelines``: it would shadow the top-level ``pipelines`` package.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dash
import flask
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import filters
from dashboard.components import page
from dashboard.components.chart import Chart, ChartData, Column
from dashboard.components.figures import OKABE_ITO, empty, figure
from dashboard.i18n import day, number, register, t
from dashboard.roles import require, viewer
from dashboard.users import User
from egovsad.config import Config
from warehouse.errors import WarehouseBusy
from warehouse.lock import writer_lock

PAGE = "pipelines"
ROLE = "admin"
NAMES = ("cities",)
RUNS_SHOWN = 50
RUNS_SEARCHED = 500  # the newest runs of all cities, filtered down to RUNS_SHOWN of the chosen ones
REFRESH_MS = 5_000
JOBS_KEPT = 50  # run-now output files kept under logs/run-now/
OUTPUT_LINES = 3  # last lines of a finished run-now's output shown
BERLIN = ZoneInfo("Europe/Berlin")
#: quarantine reasons in the contract's order (DATA_CONTRACT.md, section 6)
REASONS = (
    "missing_field", "bad_value", "unknown_service", "unmapped_service",
    "nonexistent_local_time", "implausible_time", "personal_data", "unreadable_file",
)  # fmt: skip
RUN_STATES = {"succeeded": "state-fresh", "failed": "state-failed", "aborted": "state-failed", "running": ""}
#: a run-now job: the city, then when it was started (UTC, to the microsecond)
JOB = re.compile(r"(?P<city>[a-z][a-z0-9-]*)-\d{8}T\d{12}Z")

register(
    {
        "pipelines_status": ("Stand je Stadt", "Status per city"),
        "pipelines_last_success": ("letzter erfolgreicher Lauf", "last successful run"),
        "pipelines_rows": ("Zeilen", "rows"),
        "pipelines_quarantined": ("in Quarantäne", "quarantined"),
        "pipelines_last_error": ("letzter Fehler", "last error"),
        "pipelines_runs": ("Letzte Läufe", "Recent runs"),
        "pipelines_no_runs": ("Noch keine Läufe.", "No runs yet."),
        "pipelines_run": ("Lauf", "run"),
        "pipelines_started": ("begonnen", "started"),
        "pipelines_duration": ("Dauer", "duration"),
        "pipelines_outcome": ("Ergebnis", "outcome"),
        "pipelines_read": ("gelesen", "read"),
        "pipelines_loaded": ("geladen", "loaded"),
        "pipelines_duplicates": ("Duplikate", "duplicates"),
        "pipelines_conflicting": ("widersprüchlich", "conflicting"),
        "pipelines_units": ("Dateien/Seiten (übersprungen)", "files/pages (skipped)"),
        "pipelines_error": ("Fehler", "error"),
        "pipelines_run_succeeded": ("erfolgreich", "succeeded"),
        "pipelines_run_failed": ("fehlgeschlagen", "failed"),
        "pipelines_run_aborted": ("abgebrochen", "aborted"),
        "pipelines_run_running": ("läuft", "running"),
        "pipelines_chart_quarantine": (
            "Quarantäne (abgewiesene Zeilen) je Stadt und Grund",
            "Quarantine (rejected rows) per city and reason",
        ),
        "pipelines_no_quarantine": ("Keine Zeilen in Quarantäne.", "No rows in quarantine."),
        "pipelines_reason": ("Grund", "reason"),
        "pipelines_reason_code": ("Code", "code"),
        "pipelines_reason_missing_field": ("Pflichtfeld fehlt", "missing field"),
        "pipelines_reason_bad_value": ("ungültiger Wert", "invalid value"),
        "pipelines_reason_unknown_service": ("unbekannte Leistung", "unknown service"),
        "pipelines_reason_unmapped_service": ("Leistungsname nicht zugeordnet", "unmapped service name"),
        "pipelines_reason_nonexistent_local_time": ("Ortszeit existiert nicht", "nonexistent local time"),
        "pipelines_reason_implausible_time": ("unplausible Zeit", "implausible time"),
        "pipelines_reason_personal_data": ("personenbezogene Daten", "personal data"),
        "pipelines_reason_unreadable_file": ("Datei unlesbar", "unreadable file"),
        "pipelines_unmapped": ("Nicht zugeordnete Namen, verworfene Spalten", "Unmapped names, dropped columns"),
        "pipelines_unmapped_help": (
            "Leistungsnamen ohne Zuordnung (ihre Zeilen sind in Quarantäne) und Spalten außerhalb des "
            "Datenvertrags, wie die Läufe sie gemeldet haben. Nach Erweiterung der Zuordnung die Stadt "
            "erneut ausführen.",
            "Service names without a mapping (their rows are in quarantine) and columns outside the data "
            "contract, as the runs reported them. After extending the mapping, run the city again.",
        ),
        "pipelines_nothing_unmapped": ("Keine Meldungen.", "Nothing reported."),
        "pipelines_kind": ("Art", "kind"),
        "pipelines_kind_service_name": ("Leistungsname", "service name"),
        "pipelines_kind_column": ("Spalte", "column"),
        "pipelines_name": ("Name", "name"),
        "pipelines_reported_in": ("gemeldet in Läufen", "reported in runs"),
        "pipelines_last_reported": ("zuletzt gemeldet", "last reported"),
        "pipelines_run_now": ("Jetzt ausführen", "Run now"),
        "pipelines_run_now_title": ("Pipeline jetzt ausführen", "Run a pipeline now"),
        "pipelines_run_now_help": (
            "Startet den Lauf der Stadt im Hintergrund (egovsad ingest). Läuft gerade ein anderer Lauf, "
            "wird nichts gestartet.",
            "Starts the city's run in the background (egovsad ingest). While another run is in progress, "
            "nothing is started.",
        ),
        "pipelines_job_running": ("{city}: Lauf gestartet, läuft …", "{city}: run started, in progress …"),
        "pipelines_job_busy": (
            "{city}: nicht gestartet, ein anderer Lauf (Scheduler oder ingest) ist im Gange. "
            "Bitte später erneut versuchen.",
            "{city}: not started, another run (the scheduler or an ingest) is in progress. Please try again later.",
        ),
        "pipelines_job_succeeded": ("{city}: Lauf beendet.", "{city}: run finished."),
        "pipelines_job_failed": ("{city}: Lauf fehlgeschlagen.", "{city}: run failed."),
    }
)

dash.register_page(__name__, path="/pipelines", name="page_pipelines", title="Pipelines – eGovSAD", order=5, role=ROLE)


def _settings() -> Config:
    return flask.current_app.config["EGOVSAD_SETTINGS"]  # type: ignore[no-any-return]


def _when(moment: datetime | None) -> str:
    """An instant in Hessian local time: 24.11.2026 14:05 / 2026-11-24 14:05."""
    if moment is None:
        return "–"
    local = moment.astimezone(BERLIN)
    return f"{day(local.date())} {local:%H:%M}"


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "–"
    seconds = (end - start).total_seconds()
    return f"{number(seconds, 1)} s" if seconds < 120 else f"{number(seconds / 60, 1)} min"


def _reason(code: str) -> str:
    key = f"pipelines_reason_{code}"
    return t(key) if code in REASONS else code


def _chosen(frame: pl.DataFrame, cities: list[str]) -> pl.DataFrame:
    """The rows of the chosen cities (none chosen: all)."""
    return frame.filter(pl.col("city").is_in(cities)) if cities else frame


def _table(labelled_by: str, headings: list[tuple[str, bool]], rows: list[list[Any]], table_id: str) -> html.Table:
    """An accessible table: headings with whether the column holds numbers (right-aligned); the
    first cell of a row heads it."""
    head = html.Thead(html.Tr([html.Th(heading, scope="col") for heading, _numeric in headings]))
    body = [
        html.Tr(
            [html.Th(row[0], scope="row")]
            + [
                html.Td(cell, className=None if numeric else "unit-text")
                for cell, (_heading, numeric) in zip(row[1:], headings[1:], strict=True)
            ]
        )
        for row in rows
    ]
    return html.Table(
        [head, html.Tbody(body)],
        className="data-table",
        id=table_id,
        **{"aria-labelledby": labelled_by},  # type: ignore[arg-type]
    )


def _status(cities: list[str]) -> html.Table:
    access = page.data()
    names = access.city_names()
    frame = _chosen(access.freshness(), cities).with_columns(
        pl.col("city").replace_strict(names, default=pl.col("city")).alias("name")
    )
    rows = [
        [
            row["name"],
            html.Span(t(row["state"]), className=f"badge state-{row['state']}"),
            _when(row["last_success"]),
            "–" if row["data_until"] is None else day(row["data_until"].astimezone(BERLIN).date()),
            number(row["rows"]),
            number(row["quarantined"]),
            row["last_error"] or "–",
        ]
        for row in frame.sort("name").iter_rows(named=True)
    ]
    headings = [(t("city"), False), (t("state"), False), (t("pipelines_last_success"), False),
                (t("data_until"), False), (t("pipelines_rows"), True), (t("pipelines_quarantined"), True),
                (t("pipelines_last_error"), False)]  # fmt: skip
    return _table("pipelines-status-title", headings, rows, "pipelines-status-table")


def _runs(cities: list[str]) -> html.Table | html.P:
    access = page.data()
    names = access.city_names()
    frame = _chosen(access.runs(limit=RUNS_SEARCHED), cities).head(RUNS_SHOWN)
    if not frame.height:
        return html.P(t("pipelines_no_runs"))
    rows = []
    for row in frame.iter_rows(named=True):
        status = row["status"]
        label = t(f"pipelines_run_{status}") if status in RUN_STATES else status
        rows.append(
            [
                number(row["run_id"]),
                names.get(row["city"], row["city"]),
                _when(row["started_at"]),
                _duration(row["started_at"], row["ended_at"]),
                html.Span(label, className=f"badge {RUN_STATES.get(status, '')}"),
                number(row["rows_read"]),
                number(row["rows_loaded"]),
                number(row["rows_duplicate"]),
                number(row["rows_conflicting"]),
                number(row["rows_quarantined"]),
                f"{number(row['units_seen'])} ({number(row['units_skipped'])})",
                row["error"] or "–",
            ]
        )
    headings = [(t("pipelines_run"), False), (t("city"), False), (t("pipelines_started"), False),
                (t("pipelines_duration"), True), (t("pipelines_outcome"), False), (t("pipelines_read"), True),
                (t("pipelines_loaded"), True), (t("pipelines_duplicates"), True), (t("pipelines_conflicting"), True),
                (t("pipelines_quarantined"), True), (t("pipelines_units"), True),
                (t("pipelines_error"), False)]  # fmt: skip
    return _table("pipelines-runs-title", headings, rows, "pipelines-runs-table")


def _unmapped(cities: list[str]) -> html.Table | html.P:
    access = page.data()
    names = access.city_names()
    frame = _chosen(access.unmapped(), cities)
    if not frame.height:
        return html.P(t("pipelines_nothing_unmapped"))
    rows = [
        [
            row["name"],
            names.get(row["city"], row["city"]),
            t(f"pipelines_kind_{row['kind']}"),
            "–" if row["rows"] is None else number(row["rows"]),
            number(row["runs"]),
            f"{_when(row['last_reported'])} (#{row['last_run_id']})",
        ]
        for row in frame.iter_rows(named=True)
    ]
    headings = [(t("pipelines_name"), False), (t("city"), False), (t("pipelines_kind"), False),
                (t("pipelines_rows"), True), (t("pipelines_reported_in"), True),
                (t("pipelines_last_reported"), False)]  # fmt: skip
    return _table("pipelines-unmapped-title", headings, rows, "pipelines-unmapped-table")


def _quarantine(values: dict[str, Any], _user: User) -> ChartData:
    access = page.data()
    names = access.city_names()
    frame = _chosen(access.quarantine(), values["cities"])
    if not frame.height:
        return ChartData(frame, [], empty(t("pipelines_no_quarantine")))
    order = {code: index for index, code in enumerate(REASONS)}
    # labels looked up here, in the request (a Polars worker thread would not know the reader's language)
    labels = {code: _reason(code) for code in frame["reason"].unique()}
    frame = frame.with_columns(
        pl.col("city").replace_strict(names, default=pl.col("city")).alias("name"),
        pl.col("reason").replace_strict(labels).alias("label"),
        pl.col("reason").replace_strict(order, default=len(REASONS)).alias("order"),
    ).sort("name", "order")
    traces = [
        go.Bar(x=part["name"], y=part["rows"], name=part["label"][0], marker_color=OKABE_ITO[index % len(OKABE_ITO)])
        for index, part in enumerate(frame.partition_by("order", maintain_order=True))
    ]
    fig = figure(*traces, barmode="stack", y_title=t("pipelines_rows"), height=360)
    columns = [
        Column("name", t("city")),
        Column("label", t("pipelines_reason")),
        Column("reason", t("pipelines_reason_code")),
        Column("rows", t("pipelines_rows"), "count"),
    ]
    return ChartData(frame, columns, fig)


CHARTS = [Chart(PAGE, "quarantine", "pipelines_chart_quarantine", NAMES, _quarantine, role=ROLE)]


def _start(settings: Config, city: str) -> str:
    """Start ``egovsad ingest`` for ``city`` detached; its job name. WarehouseBusy while a writer runs.

    The lock is only tried (and let go at once) so that a busy warehouse is said
    before anything starts; the run itself takes it. Should another writer slip in
    between, the run fails at once (``--no-wait``) and its output says so.
    """
    with writer_lock(settings.lock_path, wait=False):
        pass
    folder = settings.log_dir / "run-now"
    folder.mkdir(parents=True, exist_ok=True)
    job = f"{city}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    with (folder / f"{job}.log").open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "egovsad", "ingest", "--city", city, "--no-wait"],
            env={**settings.environ, "EGOVSAD_HOME": str(settings.home)},
            cwd=settings.home, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this worker, and a Ctrl+C meant for the server
        )  # fmt: skip
    threading.Thread(target=_note_exit, args=(process, folder / f"{job}.exit"), daemon=True).start()
    for old in sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime)[:-JOBS_KEPT]:
        old.unlink(missing_ok=True)
        old.with_suffix(".exit").unlink(missing_ok=True)
    return job


def _note_exit(process: subprocess.Popen[bytes], path: Path) -> None:
    """Wait for the run (so it leaves no zombie) and keep its exit status for any worker to read."""
    path.write_text(str(process.wait()), encoding="utf-8")


def _job_state(job: Any) -> tuple[list[Any], bool]:
    """What to say of the last run started here, and whether it still runs (the job store comes
    from the browser: checked, never trusted as a path)."""
    if not isinstance(job, dict) or job.get("city") not in page.data().settings.cities:
        return [], False
    city = page.data().city_names().get(job["city"], job["city"])
    if job.get("busy"):
        return [html.P(t("pipelines_job_busy").format(city=city))], False
    name = job.get("job")
    match = JOB.fullmatch(name) if isinstance(name, str) else None
    if match is None or match["city"] != job["city"]:
        return [], False
    folder = _settings().log_dir / "run-now"
    try:
        code = (folder / f"{name}.exit").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return [html.P(t("pipelines_job_running").format(city=city))], True
    try:
        lines = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except FileNotFoundError:
        lines = []
    said = t("pipelines_job_succeeded" if code == "0" else "pipelines_job_failed").format(city=city)
    return [html.P(said), html.Pre("\n".join(lines[-OUTPUT_LINES:]), className="run-output")], False


@dash.callback(
    Output("pipelines-run-job", "data"),
    Input("pipelines-run-button", "n_clicks"),
    State("pipelines-run-city", "value"),
    prevent_initial_call=True,
)
@require(ROLE)
def run_now(_clicks: int, city: Any) -> dict[str, Any]:
    if city not in page.data().settings.cities:
        raise PreventUpdate
    audit = flask.current_app.config["EGOVSAD_AUDIT"]
    username = viewer().username
    try:
        job = _start(_settings(), city)
    except WarehouseBusy:
        audit.record("run_now", username, city=city, outcome="busy")
        return {"city": city, "busy": True}
    audit.record("run_now", username, city=city, outcome="started", job=job)
    return {"city": city, "job": job}


@dash.callback(
    Output("pipelines-status", "children"),
    Output("pipelines-runs", "children"),
    Output("pipelines-unmapped", "children"),
    Output("pipelines-run-message", "children"),
    Output("pipelines-run-button", "disabled"),
    Input("pipelines-refresh", "n_intervals"),
    Input("pipelines-run-job", "data"),
    *filters.inputs(PAGE, NAMES),
)
@require(ROLE)
def refresh(_ticks: int, job: Any, cities: list[str] | None) -> tuple[Any, Any, Any, list[Any], bool]:
    """The tables, and how the last run started here goes (its button waits until it has ended)."""
    chosen = list(cities or [])
    message, running = _job_state(job)
    return _status(chosen), _runs(chosen), _unmapped(chosen), message, running


def _run_now() -> html.Section:
    options = [{"label": row["name"], "value": row["slug"]} for row in page.data().cities().iter_rows(named=True)]
    return html.Section(
        [
            html.H2(t("pipelines_run_now_title")),
            html.P(t("pipelines_run_now_help")),
            html.Div(
                [
                    html.Label(t("city"), htmlFor="pipelines-run-city"),
                    dcc.Dropdown(
                        id="pipelines-run-city",
                        options=options,  # type: ignore[arg-type]
                        value=options[0]["value"] if options else None,
                        clearable=False,
                    ),
                ],
                className="filter",
            ),
            html.Button(t("pipelines_run_now"), id="pipelines-run-button", n_clicks=0),
            html.Div(id="pipelines-run-message", role="status"),
            dcc.Store(id="pipelines-run-job"),
        ],
        className="card",
        id="pipelines-run-now",
    )


def _body(_values: dict[str, Any]) -> list[Any]:
    return [
        html.Div(
            [
                html.Section(
                    [html.H2(t("pipelines_status"), id="pipelines-status-title"), html.Div(id="pipelines-status")],
                    className="card wide",
                ),
                _run_now(),
                *[chart.card() for chart in CHARTS],
                html.Section(
                    [
                        html.H2(t("pipelines_runs"), id="pipelines-runs-title"),
                        html.Div(id="pipelines-runs", style={"overflowX": "auto"}),
                    ],
                    className="card wide",
                ),
                html.Section(
                    [
                        html.H2(t("pipelines_unmapped"), id="pipelines-unmapped-title"),
                        html.P(t("pipelines_unmapped_help")),
                        html.Div(id="pipelines-unmapped"),
                    ],
                    className="card wide",
                ),
            ],
            className="cards",
        ),
        dcc.Interval(id="pipelines-refresh", interval=REFRESH_MS),
    ]


filters.sync_url(PAGE, NAMES)


def layout(**query: Any) -> html.Div:
    return page.layout(PAGE, ROLE, query, NAMES, _body)
