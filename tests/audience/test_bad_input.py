"""Every bad input from issue 7 gets a clear error or finding, and nothing is written on failure."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from personalization_engine.audience import DataPullFailed, size_plan
from personalization_engine.core.engine import Engine
from personalization_engine.errors import ConfinementError, InputError

from .conftest import NOW, snapshot


def test_a_path_outside_the_workspace_is_refused_and_nothing_is_written(
    engine: Engine, demo_plan: str, sample_parquet: Path
):
    before = snapshot(engine, demo_plan)
    with pytest.raises(ConfinementError, match=r"^data: '.*users.parquet' is outside the workspace"):
        size_plan(engine, demo_plan, data=str(sample_parquet), actor="a", now=NOW)
    with pytest.raises(ConfinementError, match="is outside the workspace"):
        size_plan(engine, demo_plan, data="../../users.parquet", actor="a", now=NOW)
    assert snapshot(engine, demo_plan) == before


def test_a_symlink_that_leads_out_of_the_workspace_counts_as_outside(
    engine: Engine, demo_plan: str, sample_parquet: Path, repo_dir: Path
):
    (repo_dir / "linked.parquet").symlink_to(sample_parquet)
    before = snapshot(engine, demo_plan)
    with pytest.raises(ConfinementError, match="symlinks that lead out count as outside"):
        size_plan(engine, demo_plan, data="linked.parquet", actor="a", now=NOW)
    assert snapshot(engine, demo_plan) == before


def test_a_missing_table_names_the_tables_that_exist(engine: Engine, demo_plan: str, users_parquet: Path):
    database = users_parquet.parent / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE users AS SELECT * FROM read_parquet('{users_parquet}')")
    before = snapshot(engine, demo_plan)
    with pytest.raises(
        InputError, match=r"^table: table 'people' does not exist in data/crm.duckdb; its tables: users$"
    ):
        size_plan(engine, demo_plan, data="data/crm.duckdb", table="people", actor="a", now=NOW)
    assert snapshot(engine, demo_plan) == before


def test_a_missing_column_is_a_coverage_finding_not_a_crash(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    narrow = users_parquet.parent / "narrow.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * EXCLUDE (company_size, email_opt_in) FROM read_parquet('{users_parquet}')) "
        f"TO '{narrow}' (FORMAT parquet)"
    )
    outcome = size_plan(engine, demo_plan, data="data/narrow.parquet", actor="a", now=NOW)
    coverage = {c.name: c for c in outcome.run.coverage}
    assert (coverage["company_size"].column_present, coverage["company_size"].coverage_pct) == (False, 0.0)
    missing = [f for f in outcome.findings if f.code == "audience.column_missing"]
    assert [f.pointer for f in missing] == ["/attributes/11", "/attributes/14"]
    assert missing[1].message.startswith("attribute email_opt_in has no column in data/narrow.parquet")
    # Unknown consent never passes the gate: no one is activatable by email.
    assert all(a.activatable == 0 for a in outcome.run.activations if a.channel == "email")


def test_a_column_whose_type_contradicts_the_inventory_is_refused(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    wrong = users_parquet.parent / "wrong.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * REPLACE (CAST(email_opt_in AS VARCHAR) AS email_opt_in, "
        f"CAST(onboarding_steps_completed AS VARCHAR) AS onboarding_steps_completed) "
        f"FROM read_parquet('{users_parquet}')) TO '{wrong}' (FORMAT parquet)"
    )
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError) as caught:
        size_plan(engine, demo_plan, data="data/wrong.parquet", actor="a", now=NOW)
    assert str(caught.value) == (
        "data: data/wrong.parquet: column onboarding_steps_completed is VARCHAR but the inventory types "
        "onboarding_steps_completed as integer; column email_opt_in is VARCHAR but the inventory types "
        "email_opt_in as boolean; fix the column or the attribute's type before sizing"
    )
    assert snapshot(engine, demo_plan) == before


def test_a_csv_value_that_is_not_the_inventorys_type_is_refused(
    engine: Engine, demo_plan: str, repo_dir: Path
):
    (repo_dir / "bad.csv").write_text("id,plan_tier,email_opt_in\n1,free,true\n2,trial,\n3,pro,maybe\n")
    before = snapshot(engine, demo_plan)
    with pytest.raises(
        InputError, match=r"^data: bad.csv holds a value that contradicts the inventory's type"
    ):
        size_plan(engine, demo_plan, data="bad.csv", actor="a", now=NOW)
    assert snapshot(engine, demo_plan) == before


def test_an_empty_table_is_refused(engine: Engine, demo_plan: str, users_parquet: Path):
    empty = users_parquet.parent / "empty.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_parquet('{users_parquet}') LIMIT 0) TO '{empty}' (FORMAT parquet)"
    )
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError, match=r"^data: data/empty.parquet has no rows; there is nothing to size"):
        size_plan(engine, demo_plan, data="data/empty.parquet", actor="a", now=NOW)
    assert snapshot(engine, demo_plan) == before


def test_a_data_pull_that_keeps_failing_is_retried_then_recorded_as_a_blocker(
    engine: Engine, demo_plan: str, repo_dir: Path
):
    (repo_dir / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(
        DataPullFailed, match=r"after 3 attempts \(retry_limit 2\); recorded a data_pull blocker"
    ):
        size_plan(engine, demo_plan, data="broken.parquet", actor="a", now=NOW, retry_delay=0)
    plan = engine.read_plan(demo_plan)
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.subject, blocker.attempts) == (
        "data_pull",
        "data pull from broken.parquet",
        3,
    )
    assert plan.sizing_runs == ()
    assert plan.escalations and plan.escalations[-1].kind == "data_pull"
    assert plan.change_log[-1].summary == "data pull from broken.parquet failed 3 times"


def test_neither_or_both_sources_is_refused(engine: Engine, demo_plan: str):
    with pytest.raises(InputError, match=r"^data: give exactly one of data"):
        size_plan(engine, demo_plan, actor="a")
    with pytest.raises(InputError, match=r"^dsn: give exactly one of data"):
        size_plan(engine, demo_plan, data="x.csv", dsn="postgresql://h/db", actor="a")
