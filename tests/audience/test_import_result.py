"""`plans size --import-result`: a warehouse's result row comes back as an imported sizing run.

The warehouse here is DuckDB running the SQL that warehouse_sql writes for it (PostgreSQL in
test_import_result_postgres.py); the row is saved the ways warehouse UIs and CLIs save it, imported
through the CLI, and compared with `plans size` on the same rows.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from personalization_engine.audience import warehouse_sql
from personalization_engine.audience.import_result import parse_time
from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import size_plan
from personalization_engine.model import Plan, Profile
from personalization_engine.model.plan import ActivationLift, SizingRun

from .conftest import NOW, snapshot

COUNTED = ("row_count", "profiles", "no_winner", "overlaps", "activations", "channels", "freshness")


def warehouse_row(repo_dir: Path, sql: str) -> tuple[list[str], tuple]:
    """Run the warehouse SQL on DuckDB over the workspace's sample rows, as table users."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE users AS SELECT * FROM read_parquet('{repo_dir / 'data' / 'users.parquet'}')")
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return names, cursor.fetchone()


def write_csv(path: Path, names: list[str], row: tuple | list, *, upper: bool = False) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([n.upper() if upper else n for n in names])
        writer.writerow(["" if v is None else v for v in row])
    return path


def as_bigquery_json(names: list[str], row: tuple) -> list[dict]:
    """`bq --format=json`: an array of one object, every value a string, times in UTC words."""

    def text(value: object) -> str | None:
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        return None if value is None else str(value)

    return [{n: text(v) for n, v in zip(names, row, strict=True)}]


@pytest.fixture
def result_row(engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path):
    sql = warehouse_sql(engine.read_plan(demo_plan), "duckdb", "users", now=NOW)
    return warehouse_row(repo_dir, sql)


def import_cli(repo_dir: Path, plan_id: str, path: Path, *extra: str) -> int:
    args = ["plans", "size", plan_id, "--import-result", str(path), "--workspace", str(repo_dir)]
    return main([*args, *extra])


def stored_run(engine: Engine, plan_id: str) -> SizingRun:
    return engine.read_plan(plan_id).sizing_runs[-1]


def assert_same_counts(imported: SizingRun, local: SizingRun) -> None:
    for field in COUNTED:
        assert getattr(imported, field) == getattr(local, field), field
    assert [(c.name, c.non_null, c.coverage_pct) for c in imported.coverage] == [
        (c.name, c.non_null, c.coverage_pct) for c in local.coverage
    ]
    assert imported.rules_sha256 == local.rules_sha256 is not None
    assert imported.evaluated_at == local.evaluated_at == NOW


@pytest.mark.parametrize("form", ["csv", "snowflake_csv", "json_object", "bigquery_json", "json_lines"])
def test_a_saved_result_row_imports_as_the_run_plans_size_stores_on_the_same_rows(
    engine: Engine, demo_plan: str, repo_dir: Path, result_row, form: str, capsys
):
    names, row = result_row
    path = repo_dir / "results" / f"sizing-{form}.{'csv' if 'csv' in form else 'json'}"
    path.parent.mkdir()
    if form in ("csv", "snowflake_csv"):
        write_csv(path, names, row, upper=form == "snowflake_csv")
    elif form == "json_object":
        path.write_text(json.dumps(dict(zip(names, row, strict=True)), default=str))
    elif form == "bigquery_json":
        path.write_text(json.dumps(as_bigquery_json(names, row), indent=2))
    else:
        line = json.dumps(dict(zip(names, row, strict=True)), default=str)
        path.write_text(line + "\n")
    assert import_cli(repo_dir, demo_plan, path, "--actor", "analyst", "--json") == 0, capsys.readouterr().err
    answer = json.loads(capsys.readouterr().out)
    imported = stored_run(engine, demo_plan)
    assert answer["run"]["imported"] is True and answer["revision"] == 3
    assert imported.imported and imported.plan_revision == 2 and imported.actor == "analyst"
    assert imported.source.kind == "warehouse"
    assert imported.source.location == f"results/{path.name}"
    assert imported.source.table == "users"
    local = size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW).run
    assert_same_counts(imported, local)
    assert not local.imported


def test_the_cli_round_trip_prints_the_run_like_plans_size(
    engine: Engine, demo_plan: str, repo_dir: Path, result_row, capsys
):
    path = write_csv(repo_dir / "result.csv", *result_row)
    assert import_cli(repo_dir, demo_plan, path) == 0
    out = capsys.readouterr().out
    assert "size-1: 3000 rows of result.csv table users, rules of revision 2" in out
    assert "new-trial-activation" in out


def test_the_sql_selects_its_plan_revision_hash_time_and_table_in_every_dialect(
    engine: Engine, demo_plan: str
):
    plan = engine.read_plan(demo_plan)
    sqls = {d: warehouse_sql(plan, d, "analytics.users", now=NOW) for d in ("snowflake", "bigquery")}
    sqls["databricks"] = warehouse_sql(plan, "databricks", "main.analytics.users", now=NOW)
    sqls["postgres"] = warehouse_sql(plan, "postgres", "public.users", now=NOW)
    hashes = set()
    for dialect, sql in sqls.items():
        assert f"'{demo_plan}' AS pe_plan_id" in sql, dialect
        assert "'2' AS pe_revision" in sql and "'2026-11-24T09:00:00+00:00' AS pe_evaluated_at" in sql
        assert "-- pe_rules_sha256 is the sha256 of the plan's sizing rules and the evaluation time" in sql
        hashes.add(sql.split(" AS pe_rules_sha256")[0].rsplit("'", 2)[-2])
    assert len(hashes) == 1 and len(hashes.pop()) == 64
    later = warehouse_sql(plan, "snowflake", "analytics.users", now=NOW.replace(hour=10))
    assert later.split(" AS pe_rules_sha256")[0] != sqls["snowflake"].split(" AS pe_rules_sha256")[0]


def test_a_table_name_with_a_quote_stays_one_string_constant_in_each_dialect(engine: Engine, demo_plan: str):
    plan = engine.read_plan(demo_plan)
    assert r"'`it\'s`.users' AS pe_table" in warehouse_sql(plan, "bigquery", "`it's`.users", now=NOW)
    assert r"'`it\'s`.users' AS pe_table" in warehouse_sql(plan, "databricks", "`it's`.users", now=NOW)
    assert r"""'"it\'s".users' AS pe_table""" in warehouse_sql(plan, "snowflake", '"it\'s".users', now=NOW)
    assert """'"it''s".users' AS pe_table""" in warehouse_sql(plan, "postgres", '"it\'s".users', now=NOW)


def test_a_result_of_revision_with_only_ledger_writes_since_is_accepted_as_that_revision(
    engine: Engine, demo_plan: str, repo_dir: Path, result_row
):
    size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW)  # r3, a ledger write
    path = write_csv(repo_dir / "result.csv", *result_row)
    assert import_cli(repo_dir, demo_plan, path) == 0
    run = stored_run(engine, demo_plan)
    assert run.imported and run.plan_revision == 2 and run.id == "size-2"
    assert engine.read_plan(demo_plan).revision == 4


def with_changed_rules(plan: Plan) -> Plan:
    first = plan.profiles[0]
    changed = Profile.model_validate({**first.model_dump(by_alias=True), "priority": first.priority + 50})
    return plan.model_copy(update={"profiles": (changed, *plan.profiles[1:])})


def refused(engine: Engine, plan_id: str, repo_dir: Path, path: Path, capsys, *extra: str) -> str:
    before = snapshot(engine, plan_id)
    code = import_cli(repo_dir, plan_id, path, *extra)
    err = capsys.readouterr().err
    assert code == 2, err
    assert snapshot(engine, plan_id) == before
    return err


def test_a_result_of_a_revision_whose_rules_changed_since_is_refused_naming_it(
    engine: Engine, demo_plan: str, repo_dir: Path, result_row, capsys
):
    path = write_csv(repo_dir / "result.csv", *result_row)
    engine.apply(demo_plan, "profiles", with_changed_rules, expected_revision=2, actor="t")
    size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW)  # r4
    err = refused(engine, demo_plan, repo_dir, path, capsys)
    assert (
        f"error: import_result: result.csv: this result belongs to revision 2 of {demo_plan}; the plan is "
        "at revision 4 and its rules have changed since" in err
    )
    assert "Nothing was written" in err


def rewrite(path: Path, names: list[str], row: tuple, **changes: object) -> Path:
    values = dict(zip(names, row, strict=True))
    values.update(changes)
    return write_csv(path, list(values), tuple(values.values()))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"net_0": "NET+1"}, "contradict each other (net_0 ("),
        ({"winner_1": "999999"}, "winner_1 (999999) exceeds row_count (3000)"),
        ({"eligible_2": "12.5"}, "column eligible_2 of result.csv is '12.5'; a count is a whole number"),
        ({"eligible_2": "-3"}, "column eligible_2 of result.csv is '-3'; a count is a whole number"),
        ({"row_count": "many"}, "column row_count of result.csv is 'many', not a count"),
        ({"suppressed_0": ""}, "column suppressed_0 of result.csv is empty; it is a count"),
        ({"pe_evaluated_at": "2026-11-24T10:00:00Z"}, "its pe_rules_sha256 matches no revision of"),
        ({"pe_rules_sha256": "0" * 64}, "its pe_rules_sha256 matches no revision of"),
        ({"pe_rules_sha256": "abc"}, "column pe_rules_sha256 of result.csv is 'abc', not a sha256"),
        ({"pe_evaluated_at": "yesterday"}, "column pe_evaluated_at of result.csv: 'yesterday' is not a time"),
        ({"pe_plan_id": "plan-20200101T000000Z"}, "is a result for plan 'plan-20200101T000000Z', not"),
        ({"pe_revision": "two"}, "column pe_revision of result.csv is 'two', not a revision number"),
        ({"newest_0": "soon"}, "column newest_0 of result.csv: 'soon' is not a time"),
        ({"extra_count": "1"}, "column extra_count of result.csv is not an output of the sizing query"),
    ],
)
def test_an_edited_result_is_refused_by_column_and_nothing_is_written(
    engine: Engine, demo_plan: str, repo_dir: Path, result_row, changes: dict, message: str, capsys
):
    names, row = result_row
    if changes.get("net_0") == "NET+1":
        changes = {"net_0": row[names.index("net_0")] + 1}
    path = rewrite(repo_dir / "result.csv", names, row, **changes)
    err = refused(engine, demo_plan, repo_dir, path, capsys)
    assert message in err
    assert "nothing was written" in err.lower()


def test_a_result_missing_a_column_is_refused_naming_it(
    engine: Engine, demo_plan: str, repo_dir: Path, result_row, capsys
):
    names, row = result_row
    keep = [i for i, n in enumerate(names) if n not in ("winner_1", "pe_table")]
    path = write_csv(repo_dir / "result.csv", [names[i] for i in keep], tuple(row[i] for i in keep))
    err = refused(engine, demo_plan, repo_dir, path, capsys)
    assert "result.csv has no column winner_1, which the sizing query of these rules returns" in err
    kept = [i for i, n in enumerate(names) if n != "pe_rules_sha256"]
    path = write_csv(repo_dir / "result.csv", [names[i] for i in kept], [row[i] for i in kept])
    assert "result.csv has no column pe_rules_sha256" in refused(engine, demo_plan, repo_dir, path, capsys)


def test_two_rows_or_none_are_refused(engine: Engine, demo_plan: str, repo_dir: Path, result_row, capsys):
    names, row = result_row
    path = write_csv(repo_dir / "result.csv", names, row)
    with path.open("a", newline="") as f:
        csv.writer(f).writerow(["" if v is None else v for v in row])
    assert "result.csv holds 2 result rows; the sizing query returns exactly one" in refused(
        engine, demo_plan, repo_dir, path, capsys
    )
    path.write_text(",".join(names) + "\n")
    assert "result.csv holds 0 result rows" in refused(engine, demo_plan, repo_dir, path, capsys)
    two = repo_dir / "result.json"
    two.write_text(json.dumps(as_bigquery_json(names, row) * 2))
    assert "result.json holds 2 result rows" in refused(engine, demo_plan, repo_dir, two, capsys)


def test_unusable_files_and_options_are_refused(
    engine: Engine, demo_plan: str, repo_dir: Path, result_row, tmp_path: Path, capsys
):
    outside = write_csv(tmp_path / "outside.csv", *result_row)
    assert "is outside the workspace" in refused(engine, demo_plan, repo_dir, outside, capsys)
    missing = repo_dir / "no.csv"
    assert "is not a file in the workspace" in refused(engine, demo_plan, repo_dir, missing, capsys)
    binary = repo_dir / "result.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    err = refused(engine, demo_plan, repo_dir, binary, capsys)
    assert "is not UTF-8 text; save the result as CSV or JSON" in err
    nested = repo_dir / "nested.json"
    nested.write_text(json.dumps({"pe_plan_id": ["x"]}))
    assert "column pe_plan_id of nested.json holds a nested value" in refused(
        engine, demo_plan, repo_dir, nested, capsys
    )
    good = write_csv(repo_dir / "good.csv", *result_row)
    for option in (["--table", "users"], ["--now", "2026-11-24T09:00:00Z"], ["--engine", "duckdb"]):
        err = refused(engine, demo_plan, repo_dir, good, capsys, *option)
        assert f"{option[0]} does not go with --import-result" in err
    with pytest.raises(SystemExit):
        main(["plans", "size", demo_plan, "--import-result", str(good), "--data", "x.parquet",
              "--workspace", str(repo_dir)])  # fmt: skip
    assert "argument --data: not allowed with argument --import-result" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24 08:59:00+00", "2026-11-24T08:59:00+00:00"),  # DuckDB, PostgreSQL
        ("2026-11-24 08:59:00.000 +0000", "2026-11-24T08:59:00+00:00"),  # Snowflake TIMESTAMP_TZ
        ("2026-11-24 08:59:00.123456 UTC", "2026-11-24T08:59:00.123456+00:00"),  # BigQuery
        ("2026-11-24T08:59:00.000Z", "2026-11-24T08:59:00+00:00"),  # Databricks
        ("2026-11-24 08:59:00.123456789 -0000", "2026-11-24T08:59:00.123456+00:00"),  # nanoseconds
        ("2026-11-24T10:59:00+02:00", "2026-11-24T08:59:00+00:00"),
        ("2026-11-24T03:59:00-05", "2026-11-24T08:59:00+00:00"),
        ("2026-11-24 08:59:00", "2026-11-24T08:59:00+00:00"),  # no zone: UTC, the session's zone
        ("2026-11-24", "2026-11-24T00:00:00+00:00"),
        ("1.79551074E9", "2026-11-24T08:59:00+00:00"),  # BigQuery's API: epoch seconds
    ],
)
def test_warehouse_renderings_of_an_instant_parse_to_the_same_utc_time(text: str, expected: str):
    assert parse_time(text).isoformat() == expected


@pytest.mark.parametrize("text", ["2026-11-24T25:00:00Z", "24/11/2026", "2026-11-24 08:59:00 CET", "nan"])
def test_a_time_that_is_not_an_instant_is_refused(text: str):
    with pytest.raises(ValueError, match="is not a time"):
        parse_time(text)


def with_lift(**fields: object):
    def change(plan: Plan) -> Plan:
        values = {"target_pct": 5, "kpi": "day-7 activation", "holdout_share": 0.1, "window_days": 14}
        lift = ActivationLift.model_validate({**values, **fields})
        metrics = plan.success_metrics.model_copy(update={"activation_lift": lift})
        return plan.model_copy(update={"success_metrics": metrics})

    return change


def test_the_hash_covers_the_holdout_settings_but_not_the_lift_target(
    engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path, capsys
):
    engine.apply(demo_plan, "profiles", with_lift(holdout_salt="a"), expected_revision=2, actor="t")
    names, row = warehouse_row(
        repo_dir, warehouse_sql(engine.read_plan(demo_plan), "duckdb", "users", now=NOW)
    )
    path = write_csv(repo_dir / "result.csv", names, row)
    new_target = with_lift(holdout_salt="a", target_pct=9, kpi="x")
    engine.apply(demo_plan, "profiles", new_target, expected_revision=3, actor="t")
    assert import_cli(repo_dir, demo_plan, path) == 0  # r5: the target and KPI change no count
    assert stored_run(engine, demo_plan).plan_revision == 3
    engine.apply(demo_plan, "profiles", with_lift(holdout_salt="b"), expected_revision=5, actor="t")
    err = refused(engine, demo_plan, repo_dir, path, capsys)
    assert f"this result belongs to revision 3 of {demo_plan}; the plan is at revision 6" in err
