"""The readout with membership and outcomes in PostgreSQL equals the readout of the same rows in
DuckDB files: the membership SQL, the holdout hash and the id join agree across the two engines."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.core.lift_op import LiftSources, measure_lift
from personalization_engine.errors import InputError

from ..conftest import START
from .helpers import OUTCOMES, RECORDS, with_holdouts, write_data

_PG_TYPES = {
    "BIGINT": "BIGINT",
    "INTEGER": "BIGINT",
    "VARCHAR": "TEXT",
    "BOOLEAN": "BOOLEAN",
    "DOUBLE": "DOUBLE PRECISION",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
}


def load_into_postgres(dsn: str, schema: str, name: str, parquet: Path) -> None:
    import psycopg

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    columns = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()
    rows = con.execute(f"SELECT * FROM read_parquet('{parquet}')").fetchall()
    definition = ", ".join(f'"{c[0]}" {_PG_TYPES[c[1]]}' for c in columns)
    with psycopg.connect(dsn, autocommit=True) as pg, pg.cursor() as cur:
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        cur.execute(f'CREATE TABLE "{schema}"."{name}" ({definition})')
        with cur.copy(f'COPY "{schema}"."{name}" FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


@pytest.fixture
def schema(pg_dsn: str) -> str:
    return "lift_" + uuid.uuid4().hex[:10]


def test_postgres_membership_and_outcomes_give_the_duckdb_readout(
    engine: Engine,
    plan_id: str,
    repo_dir: Path,
    pg_dsn: str,
    schema: str,
):
    with_holdouts(engine, plan_id)
    write_data(engine, plan_id, repo_dir, rows=6000)
    load_into_postgres(pg_dsn, schema, "users", repo_dir / RECORDS)
    load_into_postgres(pg_dsn, schema, "outcomes", repo_dir / OUTCOMES)
    files = measure_lift(
        engine, plan_id, LiftSources(data=RECORDS, outcomes=OUTCOMES, value_column="revenue"),
        as_of=START, actor="test",
    ).measurement  # fmt: skip
    table = measure_lift(
        engine, plan_id,
        LiftSources(
            dsn=pg_dsn, table=f"{schema}.users", outcomes_table=f"{schema}.outcomes", value_column="revenue"
        ),
        as_of=START, actor="test",
    ).measurement  # fmt: skip
    assert table.membership.kind == "postgres" and "password" not in table.membership.location
    assert table.outcomes.table == f"{schema}.outcomes"
    strip = {"value"}
    assert [p.model_dump(exclude=strip) for p in table.profiles] == [
        p.model_dump(exclude=strip) for p in files.profiles
    ]
    for ours, theirs in zip(table.profiles, files.profiles, strict=True):
        assert ours.value.difference == pytest.approx(theirs.value.difference, abs=1e-6)
    assert table.records == files.records == 6000


def test_a_workspace_outcome_file_with_postgres_membership_is_refused_by_name(
    engine: Engine,
    plan_id: str,
    repo_dir: Path,
    pg_dsn: str,
    schema: str,
):
    with_holdouts(engine, plan_id)
    write_data(engine, plan_id, repo_dir, rows=500)
    load_into_postgres(pg_dsn, schema, "users", repo_dir / RECORDS)
    before = engine.store.plan_path(plan_id).read_bytes()
    with pytest.raises(InputError, match="cannot read; load it into a table") as caught:
        measure_lift(
            engine, plan_id, LiftSources(dsn=pg_dsn, table=f"{schema}.users", outcomes=OUTCOMES),
            as_of=START, actor="test",
        )  # fmt: skip
    assert caught.value.field == "outcomes"
    with pytest.raises(InputError, match="does not exist") as missing:
        measure_lift(
            engine, plan_id,
            LiftSources(dsn=pg_dsn, table=f"{schema}.users", outcomes_table=f"{schema}.nope"),
            as_of=START, actor="test",
        )  # fmt: skip
    assert missing.value.field == "outcomes"
    assert engine.store.plan_path(plan_id).read_bytes() == before
