"""Every bad input from issue 7 gets a clear error or finding, and nothing is written on failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import DataPullFailed, size_plan
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


def test_a_missing_column_that_no_profile_reads_is_a_coverage_finding_not_a_crash(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    narrow = users_parquet.parent / "narrow.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * EXCLUDE (role, personalization_consent) FROM read_parquet('{users_parquet}')) "
        f"TO '{narrow}' (FORMAT parquet)"
    )
    outcome = size_plan(engine, demo_plan, data="data/narrow.parquet", actor="a", now=NOW)
    coverage = {c.name: c for c in outcome.run.coverage}
    assert (coverage["role"].column_present, coverage["role"].coverage_pct) == (False, 0.0)
    missing = [f for f in outcome.findings if f.code == "audience.column_missing"]
    assert [f.pointer for f in missing] == ["/attributes/12", "/attributes/16"]
    assert missing[1].message.startswith("attribute personalization_consent has no column in data/narrow")
    # Unknown consent never passes the gate: no one is activatable on the web.
    assert all(a.activatable == 0 for a in outcome.run.activations if a.channel == "web")


def test_data_missing_columns_the_profiles_read_is_refused_with_a_suggestion_and_nothing_is_written(
    engine: Engine, demo_plan: str, repo_dir: Path, users_parquet: Path
):
    (repo_dir / "misspelt.csv").write_text(
        "id,plan_teir,Signup_At,email_opt_in,last_active_at\n1,free,2026-11-01T00:00:00Z,true,\n"
    )
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError) as caught:
        size_plan(engine, demo_plan, data="misspelt.csv", actor="a", now=NOW)
    message = str(caught.value)
    assert message.startswith(
        "data: misspelt.csv has no column for company_size, email_unsubscribed, feature_adoption_score, "
        "integrations_connected, onboarding_steps_completed, plan_tier (did you mean plan_teir?), "
        "projects_created, signup_at (did you mean Signup_At?), teammates_invited, trial_ends_at, "
        "user_id, which the profiles read; add the columns or correct the name"
    )
    assert message.endswith("Nothing was sized or written")
    assert snapshot(engine, demo_plan) == before


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
    engine: Engine, demo_plan: str, repo_dir: Path, users_parquet: Path
):
    duckdb.connect().execute(
        "COPY (SELECT * REPLACE (CASE WHEN id = 3 THEN 'maybe' ELSE CAST(email_opt_in AS VARCHAR) END "
        f"AS email_opt_in) FROM read_parquet('{users_parquet}') ORDER BY id LIMIT 5) "
        f"TO '{repo_dir / 'bad.csv'}' (HEADER)"
    )
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


def test_a_corrupt_file_is_an_immediate_error_with_no_retry_and_no_blocker(
    engine: Engine, demo_plan: str, repo_dir: Path
):
    (repo_dir / "broken.parquet").write_bytes(b"not parquet at all")
    before = snapshot(engine, demo_plan)
    with pytest.raises(InputError, match=r"^data: could not read broken.parquet: "):
        size_plan(engine, demo_plan, data="broken.parquet", actor="a", now=NOW, retry_delay=0)
    assert snapshot(engine, demo_plan) == before
    assert engine.read_plan(demo_plan).blockers == ()


def test_a_database_locked_by_a_writer_is_retried_then_recorded_as_a_blocker(
    engine: Engine, demo_plan: str, users_parquet: Path
):
    database = users_parquet.parent / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE users AS SELECT * FROM read_parquet('{users_parquet}')")
    # Another process keeps the database open for writing, which holds its lock until it exits.
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "locked\n"
        with pytest.raises(
            DataPullFailed, match=r"after 3 attempts \(retry_limit 2\); recorded a data_pull blocker"
        ) as caught:
            size_plan(engine, demo_plan, data="data/crm.duckdb", actor="a", now=NOW, retry_delay=0)
    finally:
        writer.communicate("")
    assert "another process holds its lock" in str(caught.value)
    plan = engine.read_plan(demo_plan)
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.subject, blocker.attempts) == (
        "data_pull",
        "data pull from data/crm.duckdb",
        3,
    )
    assert plan.sizing_runs == ()
    assert plan.escalations and plan.escalations[-1].kind == "data_pull"
    assert plan.change_log[-1].summary == "data pull from data/crm.duckdb failed 3 times"


HOLD_LOCK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.read()
"""


def test_neither_or_both_sources_is_refused(engine: Engine, demo_plan: str):
    with pytest.raises(InputError, match=r"^data: give exactly one of data"):
        size_plan(engine, demo_plan, actor="a")
    with pytest.raises(InputError, match=r"^dsn: give exactly one of data"):
        size_plan(engine, demo_plan, data="x.csv", dsn="postgresql://h/db", actor="a")
