"""A throwaway dbt project around an exported folder: dbt_project.yml and profiles.yml for DuckDB or
PostgreSQL, the sample data split into one table per data source, and dbt run as a subprocess (the
dbt executable next to sys.executable, anonymous usage stats off, no network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from personalization_engine.export.dbt_files import LOADED_AT

from ..render.helpers import require_tool

PROJECT = "pe_export_test"
MODELS = Path("models") / "personalization"


def dbt_executable() -> str:
    return require_tool(str(Path(sys.executable).with_name("dbt")), "dbt (dbt-core with dbt-duckdb)")


@dataclass
class DbtProject:
    root: Path
    profile: dict[str, Any]

    def write(self, files: dict[str, str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "dbt_project.yml").write_text(
            json.dumps({"name": PROJECT, "version": "1.0.0", "config-version": 2, "profile": PROJECT})
        )
        outputs = {"test": {**self.profile, "threads": 4}}
        (self.root / "profiles.yml").write_text(json.dumps({PROJECT: {"target": "test", "outputs": outputs}}))
        for name, text in files.items():
            path = self.root / MODELS / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def run(self, *args: str, now: datetime | None = None, check: bool = True) -> subprocess.CompletedProcess:
        command = [dbt_executable(), *args, "--project-dir", str(self.root), "--profiles-dir", str(self.root)]
        if now is not None:
            command += ["--vars", json.dumps({"pe_now": now.isoformat()})]
        env = {
            **os.environ,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_NO_PRINT_VERSION_CHECK": "true",
            "DBT_VERSION_CHECK": "false",
        }
        result = subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result


def source_tables(
    layout_sources: dict[str, tuple[str, tuple[str, ...]]], id_attr: str
) -> dict[str, list[str]]:
    """dbt source name -> the columns of its `records` table (the id first)."""
    return {name: [id_attr, *attrs] for name, attrs in layout_sources.values()}


def load_duckdb(database: Path, parquet: Path, tables: dict[str, list[str]], loaded_at: datetime) -> None:
    """One schema per dbt source, holding `records`: the sample's rows with an id, the source's columns
    and the load time. The connection is closed before dbt opens the file."""
    with duckdb.connect(str(database)) as con:
        for name, columns in tables.items():
            listed = ", ".join(f'"{c}"' for c in columns)
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
            con.execute(
                f'CREATE OR REPLACE TABLE "{name}".records AS SELECT {listed}, CAST(? AS TIMESTAMPTZ) '
                f'AS {LOADED_AT} FROM read_parquet(?) WHERE "{columns[0]}" IS NOT NULL',
                [loaded_at, str(parquet)],
            )


def load_postgres(
    dsn: str, database: str, parquet: Path, tables: dict[str, list[str]], loaded_at: datetime
) -> None:
    """The same tables in a fresh PostgreSQL database, copied through DuckDB's postgres extension
    when it is there, else row by row with psycopg."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        admin.execute(f'CREATE DATABASE "{database}"')
    target = dsn.rsplit("/", 1)[0] + "/" + database
    with duckdb.connect() as con, psycopg.connect(target, autocommit=True) as pg:
        for name, columns in tables.items():
            described = "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))"
            types = dict(con.execute(described, [str(parquet)]).fetchall())
            pg.execute(f'CREATE SCHEMA "{name}"')
            defs = ", ".join(f'"{c}" {_pg_type(types[c])}' for c in columns)
            pg.execute(f'CREATE TABLE "{name}".records ({defs}, {LOADED_AT} TIMESTAMPTZ)')
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(
                f'SELECT {listed} FROM read_parquet(?) WHERE "{columns[0]}" IS NOT NULL', [str(parquet)]
            ).fetchall()
            copying = f'COPY "{name}".records ({listed}, {LOADED_AT}) FROM STDIN'
            with pg.cursor() as cur, cur.copy(copying) as copy:
                for row in rows:
                    copy.write_row([*row, loaded_at])


def _pg_type(duck: str) -> str:
    return {
        "VARCHAR": "TEXT",
        "BIGINT": "BIGINT",
        "INTEGER": "BIGINT",
        "DOUBLE": "DOUBLE PRECISION",
        "BOOLEAN": "BOOLEAN",
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
        "TIMESTAMP": "TIMESTAMP",
        "DATE": "DATE",
    }[duck.upper()]
