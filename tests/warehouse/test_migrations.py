"""An older warehouse is upgraded by newer code, its data carried over."""

from __future__ import annotations

from pathlib import Path

import duckdb

from egovsad import config as configuration
from tests.conftest import SAMPLES, ingest, query
from warehouse.db import connect_writer, migration_files
from warehouse.sql_files import statements


def test_a_warehouse_of_the_first_schema_is_upgraded_and_its_rollups_filled(home: Path) -> None:
    settings = configuration.load(home, environ={})
    settings.warehouse_path.parent.mkdir(parents=True)
    first = migration_files()[0]
    with duckdb.connect(str(settings.warehouse_path)) as old:
        old.execute("SET TimeZone = 'Europe/Berlin'")
        old.execute("CREATE TABLE schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ)")
        for statement in statements(f"schema/{first.stem}"):
            old.execute(statement)
        old.execute("INSERT INTO schema_migrations VALUES (?, now())", [first.stem])
        old.execute(
            "INSERT INTO event_store VALUES ('offenbach', 'OF-1', TIMESTAMPTZ '2026-03-10 09:10:00+00',"
            " DATE '2026-03-10', '99115005104000', 'online', 'submitted', 'C1', 600, true, false, 'mobile', 5, 1, 1)"
        )

    with connect_writer(settings.warehouse) as con:
        versions = [row[0] for row in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
        facts = con.execute("SELECT ratings, eid_used FROM daily_event_facts").fetchall()

    assert versions == [path.stem for path in migration_files()]
    assert facts == [(1, 1)]
    result = ingest(settings, "giessen", SAMPLES / "giessen")  # and the upgraded warehouse loads as usual
    assert result.ok
    assert query(settings, "SELECT count(*) FROM events WHERE city = 'offenbach'").item() == 1
