"""Sizing pushed down to a real PostgreSQL server: the same figures as DuckDB, and no password leaks."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import DataPullFailed, size_plan
from personalization_engine.errors import InputError

from .conftest import NOW, snapshot

COLUMNS = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


@pytest.fixture(scope="session")
def pg_users(pg_dsn: str, sample_parquet: Path) -> str:
    """The sample data copied into PostgreSQL table users (and an empty one)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{sample_parquet}')").fetchall()
    rows = con.execute(f"SELECT * FROM read_parquet('{sample_parquet}') ORDER BY id").fetchall()
    ddl = ", ".join(f"{name} {COLUMNS[kind]}" for name, kind, *_ in described)
    with psycopg.connect(pg_dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS users, empty_users")
        cur.execute(f"CREATE TABLE users ({ddl})")
        cur.execute(f"CREATE TABLE empty_users ({ddl})")
        with cur.copy(f"COPY users ({', '.join(d[0] for d in described)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return pg_dsn


def test_postgresql_gives_the_same_sizes_as_duckdb_on_the_same_rows(
    engine: Engine, demo_plan: str, users_parquet: Path, pg_users: str
):
    remote = size_plan(engine, demo_plan, dsn=pg_users, table="public.users", actor="a", now=NOW).run
    local = size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW).run
    for field in ("row_count", "profiles", "no_winner", "overlaps", "activations", "channels", "freshness"):
        assert getattr(remote, field) == getattr(local, field), field
    assert [c.coverage_pct for c in remote.coverage] == [c.coverage_pct for c in local.coverage]
    parts = conninfo_to_dict(pg_users)
    assert remote.source.location == f"postgresql://postgres@127.0.0.1:{parts['port']}/postgres"
    assert parts["password"] not in engine.store.plan_path(demo_plan).read_text()


def test_a_wrong_password_is_refused_without_the_password_anywhere(
    engine: Engine, demo_plan: str, pg_users: str, caplog: pytest.LogCaptureFixture
):
    wrong = make_conninfo(pg_users, password="hunter2-wrong-secret")
    before = snapshot(engine, demo_plan)
    with caplog.at_level(logging.DEBUG), pytest.raises(InputError) as caught:
        size_plan(engine, demo_plan, dsn=wrong, table="users", actor="a", now=NOW, retry_delay=0)
    message = str(caught.value)
    assert message.startswith("dsn: PostgreSQL refused the sign-in to postgresql://postgres@127.0.0.1:")
    assert "password authentication failed" in message
    assert snapshot(engine, demo_plan) == before
    log = subprocess.run(
        ["git", "log", "-p", "--all"], cwd=engine.ws.root, capture_output=True, text=True
    ).stdout
    for place in (message, caplog.text, log, engine.store.plan_path(demo_plan).read_text()):
        assert "hunter2-wrong-secret" not in place


def test_a_missing_postgresql_table_names_the_tables_that_exist(
    engine: Engine, demo_plan: str, pg_users: str
):
    before = snapshot(engine, demo_plan)
    with pytest.raises(
        InputError, match=r"^table: table 'people' does not exist in postgresql://.*public.users"
    ):
        size_plan(engine, demo_plan, dsn=pg_users, table="people", actor="a", now=NOW)
    assert snapshot(engine, demo_plan) == before


def test_an_empty_postgresql_table_is_refused(engine: Engine, demo_plan: str, pg_users: str):
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError, match=r"table empty_users has no rows; there is nothing to size"):
        size_plan(engine, demo_plan, dsn=pg_users, table="empty_users", actor="a", now=NOW)
    assert snapshot(engine, demo_plan) == before


def test_an_unreachable_server_is_retried_then_recorded_as_a_data_pull_blocker(
    engine: Engine, demo_plan: str
):
    dsn = "postgresql://postgres:s3cret-value@127.0.0.1:1/postgres"
    with pytest.raises(DataPullFailed) as caught:
        size_plan(engine, demo_plan, dsn=dsn, table="users", actor="a", now=NOW, retry_delay=0)
    assert "could not connect to postgresql://postgres@127.0.0.1:1/postgres" in str(caught.value)
    plan = engine.read_plan(demo_plan)
    assert [(b.kind, b.attempts) for b in plan.blockers] == [("data_pull", 3)]
    assert "s3cret-value" not in str(caught.value) + engine.store.plan_path(demo_plan).read_text()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"password": "hunter2-wrong-secret"}, "dsn: PostgreSQL refused the sign-in to postgresql://"),
        ({"dbname": "no_such_database"}, 'database "no_such_database" does not exist'),
        ({"host": "no-such-host.invalid"}, "dsn: could not connect to postgresql://postgres@no-such-host"),
    ],
    ids=["wrong-password", "unknown-database", "unknown-host"],
)
def test_a_refused_sign_in_or_a_wrong_dsn_is_an_immediate_error_with_no_blocker_revision(
    engine: Engine, demo_plan: str, pg_users: str, change: dict[str, str], expected: str
):
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError) as caught:
        # A long retry delay would make a retried failure obvious; an immediate error never waits.
        size_plan(engine, demo_plan, dsn=make_conninfo(pg_users, **change), table="users", actor="a",
                  now=NOW, retry_delay=600)  # fmt: skip
    assert expected in str(caught.value)
    assert "hunter2-wrong-secret" not in str(caught.value)
    assert snapshot(engine, demo_plan) == before
    assert engine.read_plan(demo_plan).blockers == ()


def test_a_malformed_dsn_is_refused_before_any_connection(engine: Engine, demo_plan: str):
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError, match=r"^dsn: is not a PostgreSQL connection string") as caught:
        size_plan(
            engine, demo_plan, dsn="postgresql://u:pw-1x9@h/db?no_such_option=1", table="users", actor="a"
        )
    assert "pw-1x9" not in str(caught.value)
    with pytest.raises(InputError, match=r"^dsn: must be a PostgreSQL connection string"):
        size_plan(engine, demo_plan, dsn="mysql://u@h/db", table="users", actor="a")
    assert snapshot(engine, demo_plan) == before


def test_a_schema_qualified_or_quoted_postgresql_table_is_sized(
    engine: Engine, demo_plan: str, pg_users: str
):
    with psycopg.connect(pg_users, autocommit=True) as conn:
        conn.execute('DROP TABLE IF EXISTS "Users Copy"')
        conn.execute('CREATE TABLE "Users Copy" AS SELECT * FROM users')
    quoted = size_plan(engine, demo_plan, dsn=pg_users, table='public."Users Copy"', actor="a", now=NOW).run
    plain = size_plan(engine, demo_plan, dsn=pg_users, table="public.users", actor="a", now=NOW).run
    assert quoted.profiles == plain.profiles and quoted.source.table == 'public."Users Copy"'
