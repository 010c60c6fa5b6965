"""Sizing with holdouts: each profile's winners split into treatment and holdout, exactly as Python
assigns them, with no fall-through to the next profile, on DuckDB and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from personalization_engine.audience import warehouse_sql
from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.core.sizing import size_plan
from personalization_engine.errors import InputError
from personalization_engine.model import ActivationLift, Plan, Profile
from personalization_engine.rules import load_records, simulate
from personalization_engine.rules.holdout import bucket, in_holdout

from .conftest import NOW, snapshot, with_demo_content
from .test_postgres import pg_users  # noqa: F401 (a fixture)

SHARES = {"new-trial-activation": 0.5, "stalled-trial": 0.25, "dormant-free": 0.1}
LIFT: dict[str, Any] = {"target_pct": 10, "kpi": "day-7 activation", "holdout_share": 0.2, "window_days": 28}


def _with_holdouts(plan: Plan, *, plan_share: float | None = None, id_column: str | None = None) -> Plan:
    plan = with_demo_content(plan)
    profiles = tuple(
        Profile.model_validate({**p.model_dump(), "holdout_share": SHARES.get(p.id)}) for p in plan.profiles
    )
    lift = None
    if plan_share is not None or id_column is not None:
        lift = ActivationLift.model_validate(
            {**LIFT, "holdout_share": plan_share or 0.2, "id_column": id_column, "holdout_salt": "s\u00e4lt"}
        )
    metrics = plan.success_metrics.model_copy(update={"activation_lift": lift})
    return plan.model_copy(update={"profiles": profiles, "success_metrics": metrics})


@pytest.fixture
def holdout_plan(engine: Engine, plan_id: str) -> str:
    engine.apply(plan_id, "profiles", _with_holdouts, expected_revision=1, actor="test")
    return plan_id


@pytest.fixture
def users_csv(repo_dir: Path, users_parquet: Path) -> Path:
    csv_path = repo_dir / "data" / "users.csv"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_parquet('{users_parquet}') LIMIT 1500) TO '{csv_path}' (HEADER)"
    )
    return csv_path


def test_sizing_splits_each_holdout_profiles_winners_as_python_assigns_them(
    engine: Engine, holdout_plan: str, users_csv: Path, repo_dir: Path
):
    run = size_plan(engine, holdout_plan, data="data/users.csv", actor="analyst", now=NOW).run
    plan = engine.read_plan(holdout_plan)
    records = load_records(str(users_csv), repo_dir)
    simulated = simulate(plan, records, NOW, explain=False)
    held = Counter(r.winner for r in simulated.records if r.in_holdout)
    for size in run.profiles:
        if size.profile_id in SHARES:
            assert size.holdout == held[size.profile_id] > 0, size.profile_id
            assert size.treatment == size.winner - size.holdout
        else:
            assert size.holdout is size.treatment is None
            assert not any(r.in_holdout is not None for r in simulated.records if r.winner == size.profile_id)
    # The same verdicts from the documented hash directly (salt = plan id, the id column 'id').
    for r in simulated.records:
        if r.winner in SHARES:
            assert r.in_holdout == in_holdout(plan.plan_id, r.winner, r.record_id, SHARES[r.winner])


def test_a_record_held_out_of_its_winner_is_not_counted_for_the_next_profile(
    engine: Engine, holdout_plan: str, users_csv: Path, repo_dir: Path
):
    run = size_plan(engine, holdout_plan, data="data/users.csv", actor="analyst", now=NOW).run
    plan = engine.read_plan(holdout_plan)
    simulated = simulate(plan, load_records(str(users_csv), repo_dir), NOW, explain=False)
    # Members of two profiles whose first (winning) profile holds them out: they stay there.
    stayed = [r for r in simulated.records if r.in_holdout and len(r.members) > 1]
    assert stayed, "the sample should have held-out records that are members of a later profile"
    for r in stayed:
        assert r.winner == r.members[0]
    winners = Counter(r.winner for r in simulated.records if r.winner)
    assert {p.profile_id: p.winner for p in run.profiles} == {
        p.profile_id: winners[p.profile_id] for p in run.profiles
    }
    # Held-out records get no experience: activatable leaves them out, reach still counts them.
    without = size_plan(engine, _without_holdouts(engine, holdout_plan), data="data/users.csv",
                        actor="analyst", now=NOW).run  # fmt: skip
    for a, b in zip(run.activations, without.activations, strict=True):
        assert a.net == b.net
        if a.activatable is not None:
            assert a.activatable <= b.activatable
    assert sum(a.activatable or 0 for a in run.activations) < sum(
        b.activatable or 0 for b in without.activations
    )
    assert [c.reachable for c in run.channels] == [c.reachable for c in without.channels]
    assert all(
        a.net_activatable <= b.net_activatable for a, b in zip(run.channels, without.channels, strict=True)
    )


def _without_holdouts(engine: Engine, plan_id: str) -> str:
    def drop(plan: Plan) -> Plan:
        profiles = tuple(p.model_copy(update={"holdout_share": None}) for p in plan.profiles)
        return plan.model_copy(update={"profiles": profiles})

    engine.apply(plan_id, "profiles", drop, expected_revision=None, actor="test")
    return plan_id


def test_the_id_columns_sql_type_decides_how_the_id_is_hashed(
    engine: Engine, plan_id: str, users_parquet: Path, repo_dir: Path
):
    """The sample's id is BIGINT; as text and as a whole DOUBLE it must land on the same side."""
    engine.apply(plan_id, "profiles", lambda p: _with_holdouts(p, id_column="uid"), expected_revision=1,
                 actor="test")  # fmt: skip
    con = duckdb.connect()
    figures = {}
    for name, cast in (("int", "id"), ("text", "CAST(id AS VARCHAR)"), ("double", "CAST(id AS DOUBLE)")):
        path = repo_dir / "data" / f"users-{name}.parquet"
        con.execute(f"COPY (SELECT *, {cast} AS uid FROM read_parquet('{users_parquet}')) TO '{path}'")
        run = size_plan(engine, plan_id, data=str(path), actor="analyst", now=NOW).run
        figures[name] = [(p.holdout, p.treatment) for p in run.profiles]
    assert figures["int"] == figures["text"] == figures["double"]
    ids = [row[0] for row in con.execute(f"SELECT id FROM read_parquet('{users_parquet}')").fetchall()]
    assert all(
        bucket("s\u00e4lt", "dormant-free", i) == bucket("s\u00e4lt", "dormant-free", str(i)) for i in ids
    )


def test_data_without_the_id_column_is_refused_naming_it_and_nothing_is_written(
    engine: Engine, plan_id: str, users_parquet: Path
):
    engine.apply(plan_id, "profiles", lambda p: _with_holdouts(p, id_column="account_id"),
                 expected_revision=1, actor="test")  # fmt: skip
    before = snapshot(engine, plan_id)
    with pytest.raises(InputError) as caught:
        size_plan(engine, plan_id, data="data/users.parquet", actor="analyst", now=NOW)
    assert caught.value.field == "activation_lift.id_column"
    assert "'account_id'" in str(caught.value) and "activation_lift.id_column" in str(caught.value)
    assert snapshot(engine, plan_id) == before


def test_a_stored_plan_level_share_of_0_7_is_refused_by_name_and_nothing_is_written(
    engine: Engine, plan_id: str, users_parquet: Path, capsys
):
    """A 1.3 plan could store 0.7; sizing must not assign with it (the CLI says so on one line)."""

    def old_share(plan: Plan) -> Plan:
        plan = _with_holdouts(plan, plan_share=0.7)
        profiles = tuple(p.model_copy(update={"holdout_share": None}) for p in plan.profiles)
        return plan.model_copy(update={"profiles": profiles})

    engine.apply(plan_id, "profiles", old_share, expected_revision=1, actor="test")
    before = snapshot(engine, plan_id)
    with pytest.raises(InputError) as caught:
        size_plan(engine, plan_id, data="data/users.parquet", actor="analyst", now=NOW)
    assert caught.value.field == "success_metrics.activation_lift.holdout_share"
    assert "0.7 is outside (0, 0.5]" in str(caught.value)
    code = main(["plans", "size", plan_id, "--data", str(users_parquet), "--workspace", str(engine.ws.root),
                 "--now", NOW.isoformat()])  # fmt: skip
    assert code != 0
    assert "success_metrics.activation_lift.holdout_share" in capsys.readouterr().err
    assert snapshot(engine, plan_id) == before


def test_plans_size_prints_treatment_and_holdout_columns(
    engine: Engine, holdout_plan: str, users_parquet: Path, capsys
):
    code = main(["plans", "size", holdout_plan, "--data", str(users_parquet), "--workspace",
                 str(engine.ws.root), "--now", NOW.isoformat()])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("PROFILE"))
    assert header.split()[-2:] == ["TREATMENT", "HOLDOUT"]
    run = engine.read_plan(holdout_plan).sizing_runs[-1]
    for p in run.profiles:
        row = next(line for line in out.splitlines() if line.startswith(p.profile_id + " "))
        expected = ["-", "-"] if p.holdout is None else [str(p.treatment), str(p.holdout)]
        assert row.split()[-2:] == expected


def test_postgresql_counts_the_same_holdouts_as_duckdb(
    engine: Engine,
    holdout_plan: str,
    users_parquet: Path,
    pg_users: str,  # noqa: F811 (the fixture imported above)
):
    on_duckdb = size_plan(engine, holdout_plan, data="data/users.parquet", actor="a", now=NOW).run
    on_postgres = size_plan(engine, holdout_plan, dsn=pg_users, table="public.users", actor="a", now=NOW).run
    assert on_postgres.profiles == on_duckdb.profiles
    assert on_postgres.activations == on_duckdb.activations
    assert on_postgres.channels == on_duckdb.channels
    assert any(p.holdout for p in on_postgres.profiles)


def test_warehouse_sql_with_holdouts_counts_what_plans_size_counts(
    engine: Engine, holdout_plan: str, users_parquet: Path
):
    plan = engine.read_plan(holdout_plan)
    for dialect in ("snowflake", "bigquery", "databricks", "postgres"):
        assert "holdout_0" in warehouse_sql(plan, dialect, "analytics.users", now=NOW)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE users AS SELECT * FROM read_parquet('{users_parquet}')")
    cursor = con.execute(warehouse_sql(plan, "duckdb", "users", now=NOW))
    row = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    stored = size_plan(engine, holdout_plan, data="data/users.parquet", actor="a", now=NOW).run
    for i, p in enumerate(stored.profiles):
        assert row.get(f"holdout_{i}") == p.holdout


def test_a_timestamp_id_column_is_refused_naming_it_and_nothing_is_written(
    engine: Engine, plan_id: str, users_parquet: Path
):
    engine.apply(plan_id, "profiles", lambda p: _with_holdouts(p, id_column="signup_at"),
                 expected_revision=1, actor="test")  # fmt: skip
    before = snapshot(engine, plan_id)
    with pytest.raises(InputError) as caught:
        size_plan(engine, plan_id, data="data/users.parquet", actor="analyst", now=NOW)
    assert caught.value.field == "activation_lift.id_column"
    assert "the data's id column 'signup_at' is TIMESTAMP WITH TIME ZONE" in str(caught.value)
    assert snapshot(engine, plan_id) == before
