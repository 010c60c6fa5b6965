"""Sizing on DuckDB: a stored run per call, figures that agree with the rules layer's evaluator."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from personalization_engine.audience import warehouse_sql
from personalization_engine.checks.run import run_checks
from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import size_plan
from personalization_engine.errors import ConflictError, InputError
from personalization_engine.model import Plan
from personalization_engine.rules import load_records, simulate

from .conftest import NOW


def test_sizing_a_parquet_file_stores_one_dated_run_and_the_measured_coverage(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    outcome = size_plan(engine, demo_plan, data="data/users.parquet", actor="analyst", now=NOW)
    plan = engine.read_plan(demo_plan)
    assert outcome.write.revision == plan.revision == 3
    [run] = plan.sizing_runs
    assert run == outcome.run
    assert (run.id, run.plan_revision, run.row_count, run.evaluated_at) == ("size-1", 2, 3000, NOW)
    assert run.source.model_dump(exclude_none=True) == {"kind": "parquet", "location": "data/users.parquet"}
    assert [p.profile_id for p in run.profiles] == [
        "new-trial-activation", "stalled-trial", "team-expansion", "power-user-upgrade", "dormant-free"
    ]  # fmt: skip
    for p in run.profiles:
        assert p.net == p.eligible - p.removed_by_suppression
        assert 0 < p.winner <= p.net
    assert run.no_winner == run.row_count - sum(p.winner for p in run.profiles)
    assert len(run.overlaps) == 10
    assert plan.success_metrics.attribute_data_coverage_pct.actual == run.data_coverage_pct
    required = [c for c in run.coverage if c.required]
    assert run.data_coverage_pct == round(sum(c.coverage_pct for c in required) / len(required), 2)
    assert {f.name: f.within_sla for f in run.freshness} == {
        "signup_at": True, "trial_ends_at": False, "last_active_at": True
    }  # fmt: skip
    assert plan.change_log[-1].stage == "sizing"
    assert plan.change_log[-1].summary == "sized 5 profiles on 3000 rows of data/users.parquet"


def test_consent_gates_narrow_each_channel_to_people_whose_data_shows_consent(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    run = size_plan(engine, demo_plan, data=str(users_parquet), actor="analyst", now=NOW).run
    email = next(a for a in run.activations if (a.profile_id, a.channel) == ("dormant-free", "email"))
    assert email.gate_columns == ("email_opt_in IS TRUE", "email_unsubscribed IS FALSE")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    expected = con.execute(
        f"SELECT count(*) FROM read_parquet('{users_parquet}') WHERE plan_tier = 'free' "
        "AND last_active_at < TIMESTAMPTZ '2026-10-25 09:00:00+00' "
        "AND email_opt_in IS TRUE AND email_unsubscribed IS FALSE"
    ).fetchone()[0]
    assert email.activatable == expected > 0
    web = next(c for c in run.channels if c.channel == "web")
    assert 0 < web.net_activatable < web.reachable


def test_sizes_from_duckdb_equal_the_rules_layers_python_evaluator(
    engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path
):
    csv_path = repo_dir / "data" / "users.csv"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_parquet('{users_parquet}') LIMIT 1000) TO '{csv_path}' (HEADER)"
    )
    run = size_plan(engine, demo_plan, data="data/users.csv", actor="analyst", now=NOW).run
    plan = engine.read_plan(demo_plan)
    simulated = simulate(plan, load_records(str(csv_path), repo_dir), NOW, explain=False)
    for size in run.profiles:
        pid = size.profile_id
        assert size.eligible == sum(pid in r.eligible for r in simulated.records), pid
        assert size.suppressed == sum(pid in r.suppressed for r in simulated.records), pid
        assert size.net == sum(pid in r.members for r in simulated.records), pid
        assert size.winner == simulated.winner_counts[pid], pid
    assert run.no_winner == simulated.no_winner
    assert run.source.kind == "csv"


def test_a_duckdb_database_is_sized_by_table_and_a_second_run_is_appended(
    engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path
):
    database = repo_dir / "data" / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE users AS SELECT * FROM read_parquet('{users_parquet}')")
        con.execute("CREATE TABLE other AS SELECT 1 AS x")
    first = size_plan(engine, demo_plan, data="data/crm.duckdb", table="users", actor="a", now=NOW).run
    second = size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW).run
    plan = engine.read_plan(demo_plan)
    assert [r.id for r in plan.sizing_runs] == ["size-1", "size-2"]
    assert (first.source.kind, first.source.table) == ("duckdb", "users")
    assert first.profiles == second.profiles
    assert second.plan_revision == 3  # the run of size-1 made revision 3; its rules are the same


def test_warehouse_sql_is_written_for_each_dialect_and_runs_on_duckdb(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    plan = engine.read_plan(demo_plan)
    for dialect in ("snowflake", "bigquery", "databricks", "postgres"):
        sql = warehouse_sql(plan, dialect, "analytics.users", now=NOW)
        assert sql.startswith(f"-- Audience sizing for {plan.plan_id} r2 ({dialect})")
        assert "FROM analytics.users" in sql
    duck = warehouse_sql(plan, "duckdb", "users", now=NOW)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE users AS SELECT * FROM read_parquet('{users_parquet}')")
    row = con.execute(duck).fetchone()
    stored = size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW).run
    assert row[0] == stored.row_count and row[4] == stored.profiles[0].net


def test_a_rule_change_while_the_data_is_counted_is_a_conflict_and_nothing_is_stored(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    def change_a_profile(done: float, total: float, message: str) -> None:
        if done == 3:  # counted, not yet stored: another writer changes a profile's priority
            engine.apply(demo_plan, "profiles", _reprioritized, expected_revision=None, actor="other")

    with pytest.raises(ConflictError, match="is at revision 3, not expected_revision 2"):
        size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW, progress=change_a_profile)
    assert engine.read_plan(demo_plan).sizing_runs == ()


def test_an_unrelated_change_while_the_data_is_counted_keeps_the_run_of_the_sized_revision(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    def change_the_notes(done: float, total: float, message: str) -> None:
        if done == 3:
            engine.apply(demo_plan, "intake", _noted, expected_revision=None, actor="other")

    run = size_plan(
        engine, demo_plan, data="data/users.parquet", actor="a", now=NOW, progress=change_the_notes
    ).run
    plan = engine.read_plan(demo_plan)
    assert (plan.revision, run.plan_revision, plan.sizing_runs[-1].id) == (4, 2, "size-1")


def _reprioritized(plan: Plan) -> Plan:
    first = plan.profiles[0].model_copy(update={"priority": 99})
    return plan.model_copy(update={"profiles": (first, *plan.profiles[1:])})


def _noted(plan: Plan) -> Plan:
    return plan.model_copy(
        update={"intake": plan.intake.model_copy(update={"notes": "kick-off moved to Monday"})}
    )


def test_sizing_prints_nothing_on_stdout_which_carries_mcp_messages_under_stdio(
    engine: Engine, demo_plan: str, users_parquet: Path, capfd: pytest.CaptureFixture[str]
):
    size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW)
    assert capfd.readouterr().out == ""


def test_future_dates_are_not_fresh_they_are_counted_and_flagged(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    outcome = size_plan(engine, demo_plan, data="data/users.parquet", actor="a", now=NOW)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ahead, newest_past = con.execute(
        "SELECT count_if(trial_ends_at > TIMESTAMPTZ '2026-11-24 09:05:00+00'), "
        "max(trial_ends_at) FILTER (WHERE trial_ends_at <= TIMESTAMPTZ '2026-11-24 09:05:00+00') "
        f"FROM read_parquet('{users_parquet}')"
    ).fetchone()
    trial_ends = next(f for f in outcome.run.freshness if f.name == "trial_ends_at")
    assert (trial_ends.future_values, trial_ends.newest, trial_ends.within_sla) == (ahead, newest_past, False)
    assert ahead > 0
    assert all(f.future_values == 0 for f in outcome.run.freshness if f.name != "trial_ends_at")
    [flagged] = [f for f in outcome.findings if f.code == "audience.future_values"]
    assert flagged.pointer == "/attributes/4/freshness_sla"
    assert flagged.message.startswith(
        f"{ahead} values of trial_ends_at in data/users.parquet are later than 2026-11-24 09:00 UTC"
    )
    # Flagged as future, not also reported as stale.
    assert not [
        f for f in outcome.findings if f.code == "audience.stale_data" and "trial_ends_at" in f.message
    ]
    # validate_plan reports it too, from the stored run.
    assert "audience.future_values" in {f.code for f in run_checks(engine.read_plan(demo_plan))}


@pytest.mark.parametrize(
    ("dialect", "table", "from_clause"),
    [
        ("snowflake", "analytics.public.users", "FROM analytics.public.users"),
        ("databricks", "main.analytics.users", "FROM main.analytics.users"),
        ("bigquery", "my-project.dataset.users", "FROM my-project.dataset.users"),
        ("bigquery", "`my-project.dataset.users`", "FROM `my-project.dataset.users`"),
        ("bigquery", "`my-project`.dataset.users", "FROM `my-project`.dataset.users"),
        ("snowflake", '"Analytics"."Public"."Users"', 'FROM "Analytics"."Public"."Users"'),
        ("postgres", "public.users", "FROM public.users OFFSET 0"),
    ],
)
def test_warehouse_sql_takes_each_dialects_qualified_table_names(
    engine: Engine, demo_plan: str, dialect: str, table: str, from_clause: str
):
    sql = warehouse_sql(engine.read_plan(demo_plan), dialect, table, now=NOW)
    assert f"    {from_clause}\n" in sql


@pytest.mark.parametrize(
    ("dialect", "table", "shape"),
    [
        ("snowflake", "a.b.c.d", "catalog.schema.table (e.g. analytics.public.users)"),
        ("postgres", "db.public.users", "schema.table (e.g. public.users)"),
        ("bigquery", "users; DROP TABLE users", "catalog.schema.table (e.g. my-project.dataset.users)"),
        ("snowflake", "users u", "catalog.schema.table"),
        ("snowflake", "read_csv('/etc/passwd')", "catalog.schema.table"),
        ("snowflake", "users -- note", "catalog.schema.table"),
        ("databricks", "", "catalog.schema.table"),
    ],
)
def test_warehouse_sql_refuses_what_is_not_a_table_name_in_the_dialect(
    engine: Engine, demo_plan: str, dialect: str, table: str, shape: str
):
    with pytest.raises(InputError) as caught:
        warehouse_sql(engine.read_plan(demo_plan), dialect, table, now=NOW)
    assert str(caught.value).startswith(
        f"table: {table!r} is not a {dialect} table name; use table or {shape}"
    )
