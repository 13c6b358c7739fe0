"""Opening the warehouse: the one place that creates DuckDB connections.

The writer opens the file read-write, applies pending migrations and the seed
data; readers open it read-only with external access disabled and the
configuration locked, so that analyst SQL cannot reach files or settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from warehouse.errors import WarehouseBusy, WarehouseMissing
from warehouse.seed import read_cities, read_services
from warehouse.sql_files import SQL_DIR, statements

SCHEMA_DIR = SQL_DIR / "schema"
LOCAL_TZ = "Europe/Berlin"


@dataclass(frozen=True)
class WarehouseSettings:
    """Where the warehouse lives and what the engine may use."""

    path: Path
    temp_dir: Path
    memory_limit: str = "4GB"
    threads: int = 2


def connect_writer(settings: WarehouseSettings) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, creating and upgrading it as needed.

    Raises WarehouseBusy when another process holds the file.
    """
    settings.path.parent.mkdir(parents=True, exist_ok=True)
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(
            str(settings.path),
            config={
                "memory_limit": settings.memory_limit,
                "threads": settings.threads,
                "temp_directory": str(settings.temp_dir),
            },
        )
    except duckdb.IOException as error:
        raise WarehouseBusy(f"the warehouse {settings.path} is in use by another writer: {error}") from error
    # the calendar of every day, week and month is Europe/Berlin (contract section 4)
    con.execute(f"SET TimeZone = '{LOCAL_TZ}'")
    migrate(con)
    return con


def connect_reader(path: Path, *, memory_limit: str = "1GB", threads: int = 2) -> duckdb.DuckDBPyConnection:
    """Open a warehouse file read-only, with file access and configuration changes disabled."""
    if not path.exists():
        raise WarehouseMissing(f"no warehouse at {path}: run 'egovsad ingest' first")
    try:
        con = duckdb.connect(
            str(path),
            read_only=True,
            config={
                "memory_limit": memory_limit,
                "threads": threads,
                "autoload_known_extensions": False,
                "autoinstall_known_extensions": False,
            },
        )
    except duckdb.IOException as error:
        raise WarehouseBusy(f"the warehouse {path} is being written right now: {error}") from error
    # A second connection to a file this process has open shares its database instance,
    # whose settings below are already in force (and locked).
    [(locked,)] = con.execute("SELECT current_setting('lock_configuration')").fetchall()
    if not locked:
        # TimeZone needs ICU, which is only settable once the connection exists; GLOBAL, so
        # that the cursors taken from this connection (one per dashboard request or analyst
        # query) inherit it instead of starting in UTC. The lock comes last so that nothing
        # after it can change a setting or reach a file.
        con.execute(f"SET GLOBAL TimeZone = '{LOCAL_TZ}'")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


def migration_files() -> list[Path]:
    return sorted(SCHEMA_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction; return their names."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ)")
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied: list[str] = []
    for path in migration_files():
        if path.stem in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in statements(f"schema/{path.stem}"):
                con.execute(statement)
            con.execute("INSERT INTO schema_migrations VALUES (?, now())", [path.stem])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(path.stem)
    if applied:
        seed(con)
    return applied


@contextmanager
def transaction_with(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """One transaction in which ``frames`` can be read as tables by their names; rolled back
    on any error, the names gone afterwards."""
    for name, table in frames.items():
        con.register(name, table.to_arrow())
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in frames:
            con.unregister(name)


def seed(con: duckdb.DuckDBPyConnection) -> None:
    """Load the shipped cities and service catalogue; the shipped lists replace older copies."""
    with transaction_with(con, seed_cities=read_cities(), seed_services=read_services()):
        con.execute("INSERT OR REPLACE INTO city_registry SELECT * FROM seed_cities")
        con.execute("INSERT OR REPLACE INTO service_catalogue SELECT * FROM seed_services")


def service_keys(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    return frozenset(row[0] for row in con.execute("SELECT service_key FROM service_catalogue").fetchall())


def frame(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> pl.DataFrame:
    """Run a query and return its result as a Polars frame (through Arrow, no Python rows)."""
    result = pl.from_arrow(con.sql(query, params=params).to_arrow_table())
    assert isinstance(result, pl.DataFrame)
    return result
