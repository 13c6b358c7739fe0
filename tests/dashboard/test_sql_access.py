"""The SQL page's callbacks and export files: analysts only, each analyst's files their own."""

# the home, app and logins are test_routes' fixtures (imported below), used here by name
# ruff: noqa: F401, F811

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboard.app import user_store
from dashboard.saved_queries import QueryStore
from egovsad import config as configuration
from tests.dashboard.test_routes import PASSWORD, _audit, _dependency, _post, app, as_user, settings

RUN = "sql-grid.rowData"
EXPORT = "sql-export-result.children"
QUERY = "SELECT city, count(*) AS events FROM events GROUP BY city ORDER BY city"


def _exports(settings: configuration.Config) -> list[Path]:
    root = settings.home / "exports"
    return sorted(root.rglob("*")) if root.exists() else []


def test_an_officer_forging_the_sql_callbacks_is_refused_and_nothing_runs(
    as_user: Any, settings: configuration.Config
) -> None:
    analyst = as_user("analyst")
    officer = as_user("officer")
    before = len(_audit(settings))
    run = _post(officer, _dependency(analyst, RUN), {"sql-run.n_clicks": 1, "sql-editor.value": QUERY})
    export = _post(
        officer,
        _dependency(analyst, EXPORT),
        {"sql-export.n_clicks": 1, "sql-editor.value": QUERY, "sql-format.value": "csv"},
    )
    assert run.status_code == 403 and export.status_code == 403
    assert b"giessen" not in run.data
    assert _exports(settings) == []
    assert QueryStore(settings.home / "queries.sqlite3").history("officer") == []
    events = [entry["event"] for entry in _audit(settings)[before:]]
    assert events == ["forbidden", "forbidden"]


def test_an_analyst_runs_exports_and_only_fetches_her_own_files(as_user: Any, settings: configuration.Config) -> None:
    analyst = as_user("analyst")
    ran = _post(analyst, _dependency(analyst, RUN), {"sql-run.n_clicks": 1, "sql-editor.value": QUERY})
    assert ran.status_code == 200
    grid = ran.get_json()["response"]["sql-grid"]["rowData"]
    assert [row["city"] for row in grid] == ["fulda", "giessen"]
    assert QueryStore(settings.home / "queries.sqlite3").history("analyst")[0].query == QUERY

    exported = _post(
        analyst,
        _dependency(analyst, EXPORT),
        {"sql-export.n_clicks": 1, "sql-editor.value": QUERY, "sql-format.value": "parquet"},
    )
    assert exported.status_code == 200
    [data, manifest] = [path for path in _exports(settings) if path.is_file()]
    assert data.parent.name == "analyst" and manifest.name == f"{data.name}.manifest.json"
    assert json.loads(manifest.read_text(encoding="utf-8"))["rows"] == 2
    assert analyst.get(f"/exports/{data.name}").status_code == 200
    secret = (settings.home / "secret_key").read_bytes()
    assert secret not in analyst.get("/exports/..%2F..%2Fsecret_key").data

    user_store(settings).add("analyst2", "analyst", "marburg", PASSWORD)
    other = as_user("analyst2")
    assert other.get(f"/exports/{data.name}").status_code == 404
    assert as_user("officer").get(f"/exports/{data.name}").status_code == 403
    logged = [entry for entry in _audit(settings) if entry["event"] in ("sql_run", "export")]
    assert [entry["event"] for entry in logged[-2:]] == ["sql_run", "export"]
    assert logged[-1]["rows"] == 2 and logged[-1]["user"] == "analyst"


def test_saved_queries_are_private_unless_shared(tmp_path: Path) -> None:
    store = QueryStore(tmp_path / "queries.sqlite3")
    mine = store.save("anna", "Einwohner", "SELECT * FROM cities", shared=False)
    shared = store.save("anna", "Quarantäne", "SELECT * FROM quarantine", shared=True)
    store.save("anna", "Einwohner", "SELECT name FROM cities", shared=False)  # saved again: overwritten

    assert [saved.name for saved in store.visible("anna")] == ["Einwohner", "Quarantäne"]
    assert store.get("anna", mine.id).query == "SELECT name FROM cities"  # type: ignore[union-attr]
    assert [saved.name for saved in store.visible("ben")] == ["Quarantäne"]
    assert store.get("ben", mine.id) is None and store.get("ben", shared.id) is not None
