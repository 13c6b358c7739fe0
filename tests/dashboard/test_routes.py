"""Every route over HTTP: nothing without a session, and no callback answers a role it is not for.

The forged requests are built the way Dash's renderer builds them, from the
callbacks' own ``/_dash-dependencies`` entries, so a page that hides a button
from a lower role is also checked to refuse the request the button would send.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import dash
import flask
import pytest
from filelock import FileLock
from flask.testing import FlaskClient

from dashboard.app import create_app, user_store
from dashboard.components.chart import Chart
from dashboard.users import ROLES
from egovsad import config as configuration
from tests.conftest import SAMPLES, ingest

PASSWORD = "correct-horse-battery"
USERS = {"mayor": "giessen", "officer": "wetzlar", "analyst": "fulda", "admin": None}
RUN_NOW = "pipelines-run-job.data"
REFRESH = "pipelines-status.children"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> configuration.Config:
    """Gießen and Fulda from the shipped samples (Fulda's has a service name no mapping knows)."""
    home = tmp_path_factory.mktemp("routes") / "home"
    settings = configuration.load(home, environ={})
    for city in ("giessen", "fulda"):
        assert ingest(settings, city, SAMPLES / city).ok
    store = user_store(settings)
    for role, city in USERS.items():
        store.add(role, role, city, PASSWORD)
    return settings


@pytest.fixture(scope="module")
def app(settings: configuration.Config) -> flask.Flask:
    return create_app(settings).server  # type: ignore[return-value]


@pytest.fixture
def client(app: flask.Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def as_user(app: flask.Flask) -> Iterator[Any]:
    """``as_user(role)``: a client logged in as the user of that role."""

    def login(role: str) -> FlaskClient:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        response = client.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": token[1]})
        assert response.status_code == 302
        return client

    yield login


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every process the dashboard starts, recorded instead of run; each ends when ``release`` is set."""
    calls: list[dict[str, Any]] = []
    release = threading.Event()

    class Process:
        def __init__(self, args: list[str], **options: Any) -> None:
            calls.append({"args": args, **options, "release": release})
            options["stdout"].write(b"giessen: read 12, loaded 0, duplicates 12, quarantined 0\n")

        def wait(self) -> int:
            release.wait(timeout=10)
            return 0

    monkeypatch.setattr(subprocess, "Popen", Process)
    return calls


def _audit(settings: configuration.Config) -> list[dict[str, Any]]:
    path = settings.log_dir / "audit.log"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


def _dependency(client: FlaskClient, output: str) -> dict[str, Any]:
    """The callback whose output names ``output``, as this user's browser is told of it."""
    response = client.get("/_dash-dependencies")
    assert response.status_code == 200
    matches = [dep for dep in response.get_json() if output in dep["output"].split("...")[0].strip(".")]
    assert len(matches) == 1, output
    return matches[0]  # type: ignore[no-any-return]


def _body(dependency: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The request body Dash's renderer sends for this callback (values by ``id.property``, default None)."""
    output = dependency["output"]
    multi = output.startswith("..")
    parts = output.strip(".").split("...") if multi else [output]
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in parts]

    def filled(items: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in items]

    inputs = filled(dependency["inputs"])
    return {
        "output": output,
        "outputs": outputs if multi else outputs[0],
        "inputs": inputs,
        "state": filled(dependency["state"]),
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }


def _post(client: FlaskClient, dependency: dict[str, Any], values: dict[str, Any] | None = None) -> Any:
    return client.post("/_dash-update-component", json=_body(dependency, values or {}))


def _page(client: FlaskClient, path: str) -> Any:
    """A page's layout (JSON) as the router callback returns it to this user."""
    dependency = _dependency(client, "_pages_content.children")
    response = _post(client, dependency, {"_pages_location.pathname": path, "_pages_location.search": ""})
    assert response.status_code == 200
    return response.get_json()


def _text(node: Any) -> str:
    """Every string in a JSON answer, one per line: what a reader could see of it."""
    if isinstance(node, str):
        return node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    return "\n".join(_text(child) for child in children)


def _values(layout: Any) -> dict[str, Any]:
    """The ``value`` of every control in a layout (JSON), by ``id.value``: what the browser would send."""
    found: dict[str, Any] = {}
    if isinstance(layout, dict):
        props = layout.get("props", {})
        if isinstance(props, dict) and isinstance(props.get("id"), str) and "value" in props:
            found[f"{props['id']}.value"] = props["value"]
        for child in layout.values():
            found.update(_values(child))
    elif isinstance(layout, list):
        for child in layout:
            found.update(_values(child))
    return found


def _restricted_charts() -> list[tuple[str, str, Chart]]:
    """Every chart of every page above the mayor's role, with the page's role and path."""
    charts = []
    for registered in dash.page_registry.values():
        role = registered.get("role", "admin")
        if role == "mayor":
            continue
        module = sys.modules[registered["module"]]
        for value in vars(module).values():
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, Chart):
                    charts.append((role, registered["path"], item))
    return charts


@pytest.mark.parametrize(
    "path", ["/", "/vergleich", "/leistungen", "/kanaele", "/pipelines", "/sql", "/gibt-es-nicht", "/pipelines?x=1"]
)
def test_every_page_without_a_session_redirects_to_the_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_dash-layout"),
        ("GET", "/_dash-dependencies"),
        ("POST", "/_dash-update-component"),
        ("GET", "/_dash-component-suites/dash/dcc/dash_core_components.js"),
        ("GET", "/_dash-component-suites/dash/deps/react@18.3.1.min.js"),
        ("GET", "/_reload-hash"),
        ("GET", "/_favicon.ico"),
        ("GET", "/assets/dashboard.css"),
        ("POST", "/pipelines"),
    ],
)
def test_dash_routes_and_assets_answer_401_with_no_data(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method, json={} if method == "POST" else None)
    assert response.status_code == 401
    assert response.data == b"login required"


def test_a_callback_without_a_session_answers_401_and_runs_nothing(
    client: FlaskClient, as_user: Any, settings: configuration.Config, spawned: list[dict[str, Any]]
) -> None:
    admin = as_user("admin")
    run_now = _body(
        _dependency(admin, RUN_NOW), {"pipelines-run-button.n_clicks": 1, "pipelines-run-city.value": "giessen"}
    )
    refresh = _body(_dependency(admin, REFRESH), {})

    responses = [client.post("/_dash-update-component", json=body) for body in (run_now, refresh)]

    assert [(r.status_code, r.data) for r in responses] == [(401, b"login required")] * 2
    assert spawned == [] and not [entry for entry in _audit(settings) if entry["event"] == "run_now"]


def test_the_role_just_below_a_page_forging_its_chart_requests_is_refused_and_audited(
    as_user: Any, settings: configuration.Config
) -> None:
    charts = _restricted_charts()
    assert any(chart.key == "pipelines-quarantine" for _role, _path, chart in charts)
    assert "officer" in {role for role, _path, _chart in charts}  # a mayor forging an officer page's chart
    admin = as_user("admin")
    for role, path, chart in charts:
        lower = as_user(ROLES[ROLES.index(role) - 1])
        dependency = _dependency(admin, f"{chart.key}-graph.figure")
        values = _values(_page(admin, path))

        refused = _post(lower, dependency, values)
        drawn = _post(admin, dependency, values)

        assert refused.status_code == 403, chart.key
        assert chart.key not in refused.get_data(as_text=True)
        assert drawn.status_code == 200 and f"{chart.key}-graph" in drawn.get_json()["response"]
    forbidden = [entry for entry in _audit(settings) if entry["event"] == "forbidden"]
    assert {entry["user"] for entry in forbidden} >= {"mayor", "analyst"}


def test_a_mayor_forging_a_csv_download_gets_403_and_nothing_is_downloaded(
    as_user: Any, settings: configuration.Config
) -> None:
    mayor, officer = as_user("mayor"), as_user("officer")
    dependency = _dependency(officer, "overview-trend-download.data")
    values = {
        "overview-trend-csv.n_clicks": 1,
        "overview-filter-city.value": "giessen",
        "overview-filter-from.value": "2025-10",
        "overview-filter-to.value": "2026-03",
    }

    refused = _post(mayor, dependency, values)
    allowed = _post(officer, dependency, values)

    assert refused.status_code == 403 and b"egovsad-overview-trend.csv" not in refused.data
    assert allowed.status_code == 200 and b"egovsad-overview-trend.csv" in allowed.data
    downloads = [entry["user"] for entry in _audit(settings) if entry["event"] == "download"]
    assert "mayor" not in downloads and "officer" in downloads


def test_an_analyst_forging_run_now_is_refused_and_nothing_is_started(
    as_user: Any, settings: configuration.Config, spawned: list[dict[str, Any]]
) -> None:
    admin = as_user("admin")
    dependency = _dependency(admin, RUN_NOW)
    values = {"pipelines-run-button.n_clicks": 1, "pipelines-run-city.value": "giessen"}

    statuses = [_post(as_user(role), dependency, values).status_code for role in ("mayor", "officer", "analyst")]

    assert statuses == [403, 403, 403]
    assert spawned == []
    events = _audit(settings)
    assert not [entry for entry in events if entry["event"] == "run_now"]
    assert {entry["user"] for entry in events if entry.get("path") == "/_dash-update-component"} >= {"analyst"}


def test_an_admin_runs_a_city_now_and_the_refresh_tells_how_it_ended(
    as_user: Any, settings: configuration.Config, spawned: list[dict[str, Any]]
) -> None:
    admin = as_user("admin")
    values = {"pipelines-run-button.n_clicks": 1, "pipelines-run-city.value": "giessen"}

    started = _post(admin, _dependency(admin, RUN_NOW), values)

    assert started.status_code == 200
    job = started.get_json()["response"]["pipelines-run-job"]["data"]
    assert job["city"] == "giessen" and job["job"].startswith("giessen-")
    [call] = spawned
    assert call["args"] == [sys.executable, "-m", "egovsad", "ingest", "--city", "giessen", "--no-wait"]
    assert call["env"]["EGOVSAD_HOME"] == str(settings.home) and call["start_new_session"] is True
    [entry] = [entry for entry in _audit(settings) if entry["event"] == "run_now"]
    assert (entry["user"], entry["city"], entry["outcome"]) == ("admin", "giessen", "started")

    refresh = _dependency(admin, REFRESH)
    running = _post(admin, refresh, {"pipelines-run-job.data": job}).get_json()["response"]
    call["release"].set()
    exit_file = settings.log_dir / "run-now" / f"{job['job']}.exit"
    for _ in range(100):
        if exit_file.exists():
            break
        time.sleep(0.05)
    finished = _post(admin, refresh, {"pipelines-run-job.data": job}).get_json()["response"]

    assert "Gießen: Lauf gestartet" in _text(running["pipelines-run-message"])
    assert running["pipelines-run-button"]["disabled"] is True  # until this run has ended
    assert "Gießen: Lauf beendet." in _text(finished["pipelines-run-message"])
    assert "giessen: read 12" in _text(finished["pipelines-run-message"])
    assert finished["pipelines-run-button"]["disabled"] is False


def test_run_now_while_a_writer_runs_says_so_and_starts_nothing(
    as_user: Any, settings: configuration.Config, spawned: list[dict[str, Any]]
) -> None:
    admin = as_user("admin")
    values = {"pipelines-run-button.n_clicks": 1, "pipelines-run-city.value": "fulda"}
    lock = FileLock(str(settings.lock_path))

    with lock:
        response = _post(admin, _dependency(admin, RUN_NOW), values)
    job = response.get_json()["response"]["pipelines-run-job"]["data"]
    message = _text(_post(admin, _dependency(admin, REFRESH), {"pipelines-run-job.data": job}).get_json())

    assert job == {"city": "fulda", "busy": True} and spawned == []
    assert "Fulda: nicht gestartet, ein anderer Lauf" in message
    assert [entry["outcome"] for entry in _audit(settings) if entry.get("city") == "fulda"] == ["busy"]


@pytest.mark.parametrize("job", [{"city": "giessen", "job": "../../secret_key"}, {"city": "x", "busy": True}, "x"])
def test_a_forged_job_reads_no_file(as_user: Any, job: Any) -> None:
    admin = as_user("admin")
    response = _post(admin, _dependency(admin, REFRESH), {"pipelines-run-job.data": job})
    assert response.status_code == 200
    assert response.get_json()["response"]["pipelines-run-message"]["children"] == []


def test_admins_see_every_city_the_runs_and_what_no_mapping_knew(as_user: Any) -> None:
    admin = as_user("admin")

    body = _text(_post(admin, _dependency(admin, REFRESH)).get_json())
    filtered = _text(
        _post(admin, _dependency(admin, REFRESH), {"pipelines-filter-cities.value": ["giessen"]}).get_json()
    )

    for city in ("Gießen", "Fulda", "Limburg", "Marburg", "Offenbach", "Wetzlar"):
        assert city in body
    assert "Fischereischein beantragen" in body  # Fulda's sample names a service no mapping knows
    assert "Fischereischein" not in filtered and "Gießen" in filtered


def test_pipelines_is_for_admins_only_in_the_navigation_and_the_page(as_user: Any) -> None:
    analyst, admin = as_user("analyst"), as_user("admin")

    refused, shown = _text(_page(analyst, "/pipelines")), _text(_page(admin, "/pipelines"))

    assert "Kein Zugriff" in refused and "Jetzt ausführen" not in refused
    assert "Kein Zugriff" not in shown and "Jetzt ausführen" in shown
    assert "/pipelines" not in _text(analyst.get("/_dash-layout").get_json())
    assert "/pipelines" in _text(admin.get("/_dash-layout").get_json())


def test_the_language_switch_makes_the_next_page_english_and_never_leaves_the_site(as_user: Any) -> None:
    mayor = as_user("mayor")

    away = mayor.get("/language/en", headers={"Referer": "http://evil.example/"})
    back = mayor.get("/language/en", headers={"Referer": "http://localhost/vergleich?city=fulda"})

    assert away.status_code == 302 and away.headers["Location"] == "/"
    assert back.headers["Location"] == "http://localhost/vergleich?city=fulda"
    chrome = mayor.get("/_dash-layout").get_json()
    assert chrome["props"]["lang"] == "en" and "Overview" in _text(chrome) and "Übersicht" not in _text(chrome)
    assert "Overview" in _text(_page(mayor, "/")).splitlines()
    mayor.get("/language/de")
    assert "Übersicht" in _text(_page(mayor, "/")).splitlines()


def test_an_unknown_language_changes_nothing(as_user: Any) -> None:
    mayor = as_user("mayor")
    response = mayor.get("/language/xx", headers={"Referer": "//evil.example/"})
    assert response.headers["Location"] == "/"
    assert mayor.get("/_dash-layout").get_json()["props"]["lang"] == "de"


def test_the_quarantine_chart_speaks_the_readers_language(as_user: Any) -> None:
    admin = as_user("admin")
    admin.get("/language/en")

    drawn = _text(_post(admin, _dependency(admin, "pipelines-quarantine-graph.figure")).get_json())

    assert "invalid value" in drawn and "unmapped service name" in drawn
    assert "ungültiger Wert" not in drawn
