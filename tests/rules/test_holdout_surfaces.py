"""Simulation and compiled SQL mark holdouts: in the domain, through the CLI and over MCP."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pytest
from mcp import Client

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.errors import InputError
from personalization_engine.model import ActivationLift, Plan
from personalization_engine.rules import compile_sql, simulate
from personalization_engine.rules.holdout import in_holdout
from personalization_engine.server import build_server

from ..test_mcp_tools import snapshot
from .helpers import ATTRIBUTES, ENGAGED, NEW_FREE, NOW, make_plan, write_profiles

NOW_TEXT = "2026-11-24T09:00:00Z"
# Everyone is a member of both profiles: new-free wins, engaged is the next profile down.
BOTH = {"plan_tier": "free", "signup_at": "2026-11-20T00:00:00Z", "email_bounced": False, "sessions": 9,
        "last_seen_at": "2026-11-24T08:00:00Z"}  # fmt: skip
RECORDS = [{"id": f"u{i}", **BOTH} for i in range(200)] + [
    {"id": None, **BOTH},
    {"id": "nobody", "plan_tier": "team"},
    {"id": "only-engaged", "plan_tier": "pro", "sessions": 9, "last_seen_at": "2026-11-24T08:00:00Z"},
]


def holdout_profiles() -> list[dict[str, Any]]:
    return [{**NEW_FREE, "holdout_share": 0.5}, ENGAGED]


def test_simulation_marks_each_record_held_out_of_its_winner_and_never_of_the_next_profile():
    plan = make_plan(holdout_profiles())
    result = simulate(plan, RECORDS, NOW, explain=False)
    by_id = {r.record_id: r for r in result.records}
    members = [r for r in result.records if r.winner == "new-free" and r.record_id is not None]
    held = [r for r in members if r.in_holdout]
    assert 60 < len(held) < 140  # about half of 200
    for r in members:
        assert r.in_holdout == in_holdout(plan.plan_id, "new-free", r.record_id, 0.5)
        assert r.members == ["new-free", "engaged"] and r.winner == "new-free"  # no fall-through
    assert result.winner_counts == {"new-free": 201, "engaged": 1}
    assert result.records[200].in_holdout is False  # a NULL id is never held out
    assert by_id["nobody"].winner is None and by_id["nobody"].in_holdout is None
    assert by_id["only-engaged"].winner == "engaged" and by_id["only-engaged"].in_holdout is None


def test_simulation_hashes_the_plans_id_column_with_the_plans_salt():
    plan = _with_lift(make_plan(holdout_profiles()), salt="\u00e4'salt", id_column="user_key")
    records = [{**r, "user_key": f"k{i}"} for i, r in enumerate(RECORDS[:50])]
    result = simulate(plan, records, NOW, explain=False)
    for i, r in enumerate(result.records):
        assert r.record_id == f"k{i}"
        assert r.in_holdout == in_holdout("\u00e4'salt", "new-free", f"k{i}", 0.5)


def _with_lift(
    plan: Plan, *, share: float = 0.5, salt: str | None = None, id_column: str | None = None
) -> Plan:
    lift = ActivationLift(target_pct=10, kpi="activation", holdout_share=share, window_days=28,
                          holdout_salt=salt, id_column=id_column)  # fmt: skip
    return plan.model_copy(
        update={"success_metrics": plan.success_metrics.model_copy(update={"activation_lift": lift})}
    )


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery", "databricks"])
def test_compiled_sql_selects_in_holdout_for_the_winner_and_says_how_it_reads_the_id(dialect):
    sql = compile_sql(make_plan(holdout_profiles()), dialect, now=NOW)
    assert sql.startswith(
        "-- in_holdout: held out of the winning profile by the md5 holdout hash of id (id kind string"
    )
    assert "in_holdout" in sql and sql.count("MD5(") == 1  # only new-free has a holdout
    inventoried = make_plan(holdout_profiles(), attributes=[*ATTRIBUTES, {"name": "id", "type": "integer"}])
    assert "(id kind integer: its inventory type)" in compile_sql(inventoried, dialect, now=NOW)
    assert "in_holdout" not in compile_sql(make_plan([NEW_FREE, ENGAGED]), dialect, now=NOW)


def test_compiled_sql_on_duckdb_holds_out_exactly_the_records_simulation_holds_out():
    plan = make_plan(holdout_profiles())
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE profiles (id VARCHAR, plan_tier VARCHAR, signup_at TIMESTAMPTZ, email_bounced BOOLEAN, "
        "sessions BIGINT, last_seen_at TIMESTAMPTZ)"
    )
    columns = ["id", "plan_tier", "signup_at", "email_bounced", "sessions", "last_seen_at"]
    con.executemany(
        "INSERT INTO profiles VALUES (?, ?, ?, ?, ?, ?)", [[r.get(c) for c in columns] for r in RECORDS]
    )
    rows = con.execute(compile_sql(plan, "duckdb", now=NOW)).fetchall()
    simulated = simulate(plan, RECORDS, NOW, explain=False)
    expected = sorted((r.record_id or "", r.winner, r.in_holdout) for r in simulated.records if r.winner)
    assert sorted((row[0] or "", row[1], row[2]) for row in rows) == expected


def test_compiling_with_a_date_id_column_or_a_stored_share_above_half_is_refused_by_name():
    dated = _with_lift(make_plan(holdout_profiles()), id_column="signup_at")
    with pytest.raises(InputError) as caught:
        compile_sql(dated, "duckdb", now=NOW)
    assert caught.value.field == "activation_lift.id_column"
    assert "'signup_at' is timestamp" in str(caught.value)
    old = _with_lift(make_plan([NEW_FREE, ENGAGED]), share=0.7)
    with pytest.raises(InputError) as caught:
        compile_sql(old, "postgres", now=NOW)
    assert caught.value.field == "success_metrics.activation_lift.holdout_share"
    with pytest.raises(InputError):
        simulate(old, RECORDS[:3], NOW)


@pytest.fixture
def stored(engine: Engine, plan_id: str) -> str:
    write_profiles(engine, plan_id, holdout_profiles())
    return plan_id


def test_plans_simulate_and_compile_mark_holdouts_on_the_cli(capsys, repo_dir, stored):
    records = repo_dir / "records.json"
    records.write_text(json.dumps(RECORDS[:20]))
    before = snapshot(repo_dir)
    assert main(["plans", "simulate", stored, "--records", str(records), "--workspace", str(repo_dir),
                 "--now", NOW_TEXT, "--json"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert {r["in_holdout"] for r in result["records"]} == {True, False}
    assert main(["plans", "simulate", stored, "--records", str(records), "--workspace", str(repo_dir),
                 "--now", NOW_TEXT, "--no-explain"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "HOLDOUT" in out.splitlines()[1] and "held out" in out and "treatment" in out
    assert main(["plans", "compile", stored, "--target", "postgres", "--workspace", str(repo_dir),
                 "--now", NOW_TEXT]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("-- in_holdout:") and '"in_holdout"' in out
    assert snapshot(repo_dir) == before  # read-only


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_the_simulate_and_compile_tools_mark_holdouts(engine, repo_dir, stored):
    before = snapshot(repo_dir)
    async with Client(build_server(engine)) as c:
        result = await c.call_tool(
            "simulate_profiles",
            {"plan_id": stored, "records": RECORDS[:20], "now": NOW_TEXT, "explain": False},
        )
        assert not result.is_error
        marks = [r["in_holdout"] for r in result.structured_content["records"]]
        assert set(marks) == {True, False}
        compiled = await c.call_tool(
            "compile_rules", {"plan_id": stored, "target": "snowflake", "now": NOW_TEXT, "id_column": None}
        )
        assert not compiled.is_error
        assert "TO_NUMBER(UPPER(SUBSTR(MD5(" in compiled.structured_content["sql"]
        assert '"IN_HOLDOUT"' in compiled.structured_content["sql"]
    assert snapshot(repo_dir) == before
