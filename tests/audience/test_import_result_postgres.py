"""`plans size --dialect postgres` SQL run on a real PostgreSQL server, its row saved the ways psql
saves it (CSV with a header, or JSON) and imported: the same run as `plans size --dsn`."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import size_plan

from .conftest import NOW, snapshot
from .test_import_result import assert_same_counts, with_changed_rules
from .test_postgres import pg_users  # noqa: F401  (the fixture: sample rows in table users)


def sizing_sql(repo_dir: Path, plan_id: str, capsys) -> str:
    args = ["plans", "size", plan_id, "--dialect", "postgres", "--table", "public.users"]
    assert main([*args, "--now", NOW.isoformat(), "--workspace", str(repo_dir)]) == 0
    return capsys.readouterr().out


def save_result(dsn: str, sql: str, path: Path, form: str) -> Path:
    body = sql.strip()
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        if form == "csv":  # psql's \copy (...) TO FILE CSV HEADER
            with cur.copy(f"COPY ({body}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                path.write_bytes(b"".join(bytes(chunk) for chunk in copy))
        else:
            cur.execute(f"SELECT row_to_json(pe_row) FROM ({body}) AS pe_row")
            path.write_text(json.dumps(cur.fetchone()[0]))
    return path


@pytest.mark.parametrize("form", ["csv", "json"])
def test_postgres_result_imports_as_the_run_plans_size_stores_by_dsn(
    engine: Engine,
    demo_plan: str,
    users_parquet: Path,
    repo_dir: Path,
    pg_users: str,  # noqa: F811  (the fixture imported above)
    form: str,
    capsys,
):
    sql = sizing_sql(repo_dir, demo_plan, capsys)
    path = save_result(pg_users, sql, repo_dir / f"result.{form}", form)
    assert main(["plans", "size", demo_plan, "--import-result", str(path), "--workspace", str(repo_dir)]) == 0
    imported = engine.read_plan(demo_plan).sizing_runs[-1]
    assert imported.imported and imported.source.table == "public.users"
    remote = size_plan(engine, demo_plan, dsn=pg_users, table="public.users", actor="a", now=NOW).run
    assert_same_counts(imported, remote)
    local = size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW).run
    assert_same_counts(imported, local)


def test_a_postgres_result_from_another_revision_is_refused_and_nothing_is_written(
    engine: Engine,
    demo_plan: str,
    users_parquet: Path,
    repo_dir: Path,
    pg_users: str,  # noqa: F811  (the fixture imported above)
    capsys,
):
    path = save_result(pg_users, sizing_sql(repo_dir, demo_plan, capsys), repo_dir / "result.csv", "csv")
    engine.apply(demo_plan, "profiles", with_changed_rules, expected_revision=2, actor="t")
    before = snapshot(engine, demo_plan)
    assert main(["plans", "size", demo_plan, "--import-result", str(path), "--workspace", str(repo_dir)]) == 2
    err = capsys.readouterr().err
    assert f"this result belongs to revision 2 of {demo_plan}; the plan is at revision 3" in err
    assert snapshot(engine, demo_plan) == before
