"""The impact of a change pushed down to PostgreSQL: the same flows, sizes and drivers as DuckDB."""

from __future__ import annotations

from pathlib import Path

import psycopg

from personalization_engine.core.engine import Engine
from personalization_engine.core.impact_op import DataOptions, measure_change

from .conftest import NOW, ROWS


def test_postgresql_gives_the_same_impact_as_duckdb_on_the_same_rows(
    engine: Engine, impact_plan: str, users_csv: Path, pg_dsn: str
):
    with psycopg.connect(pg_dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS impact_users")
        cur.execute("CREATE TABLE impact_users (id bigint, plan_tier text, seats bigint)")
        with cur.copy("COPY impact_users (id, plan_tier, seats) FROM STDIN") as copy:
            for row in ROWS:
                copy.write_row(row)
    for a, b in ((2, 3), (2, 4), (5, 2)):
        remote = measure_change(
            engine, impact_plan, a, b, DataOptions(dsn=pg_dsn, table="impact_users", now=NOW)
        )[1]
        local = measure_change(engine, impact_plan, a, b, DataOptions(data="data/users.csv", now=NOW))[1]
        assert remote.source.kind == "postgres"
        assert (remote.flows, remote.profiles, remote.row_count) == (
            local.flows,
            local.profiles,
            local.row_count,
        )
    assert any(p.drivers for p in remote.profiles)  # the comparison above compared something
