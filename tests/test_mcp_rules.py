"""Rules over MCP: SQL rule input, rule limits, simulation and compilation."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from personalization_engine import demo_content as content
from personalization_engine.server import build_server

from .conftest import json_text
from .test_mcp_ledger import demo_plan
from .test_mcp_tools import snapshot, text

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def revision(c: Client, pid: str) -> int:
    return json_text(await c.call_tool("read_plan", {"plan_id": pid}))["revision"]


async def test_a_sql_rule_is_stored_as_the_canonical_tree(engine):
    async with Client(build_server(engine)) as c:
        pid = await demo_plan(c)
        profile = {
            "id": "sql-trial",
            "name": "SQL trial",
            "priority": 5,
            "fallback": "generic",
            "eligibility": "plan_tier = 'trial' AND signup_at >= now() - interval 14 day "
            "AND NOT email_unsubscribed",
            "suppression": "teammates_invited >= 5",
        }
        result = await c.call_tool(
            "define_profiles",
            {"plan_id": pid, "expected_revision": await revision(c, pid), "profiles": [profile]},
        )
        assert not result.is_error, text(result)
        plan = json_text(await c.call_tool("read_plan", {"plan_id": pid}))
        stored = next(p for p in plan["profiles"] if p["id"] == "sql-trial")
        assert stored["eligibility"]["all"][0] == {"op": "eq", "attr": "plan_tier", "value": "trial"}
        assert stored["eligibility"]["all"][1] == {"op": "within_last", "attr": "signup_at", "value": "14d"}
        assert stored["suppression"] == {"op": "gte", "attr": "teammates_invited", "value": 5}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("plan_tier = 'trial' AND lower(email) = 'x'", "'LOWER(email)' in SQL rule is not supported"),
        ("plan_tier IN (SELECT tier FROM t)", "SELECT"),
        ("shoe_size > 40", "shoe_size"),
        ("plan_tier = ", "/profiles/0/eligibility"),
    ],
)
async def test_sql_outside_the_subset_is_refused_naming_the_fragment_and_nothing_is_written(
    engine, repo_dir, rule, expected
):
    async with Client(build_server(engine)) as c:
        pid = await demo_plan(c)
        before = snapshot(repo_dir)
        result = await c.call_tool(
            "define_profiles",
            {
                "plan_id": pid,
                "expected_revision": await revision(c, pid),
                "profiles": [{"id": "bad", "name": "Bad", "eligibility": rule}],
            },
        )
        assert result.is_error
        assert expected in text(result)
    assert snapshot(repo_dir) == before


def deep_tree(depth: int) -> dict:
    node: dict = {"op": "eq", "attr": "plan_tier", "value": "free"}
    for _ in range(depth):
        node = {"not": node}
    return node


@pytest.mark.parametrize(
    ("eligibility", "expected"),
    [
        (deep_tree(40), "nested more than 32 levels"),
        ({"any": [{"op": "eq", "attr": "plan_tier", "value": str(i)} for i in range(1001)]}, "1000"),
        ({"op": "within_last", "attr": "signup_at", "value": "14 days"}, "eligibility"),
        ({"op": "between", "attr": "teammates_invited", "value": [1]}, "eligibility"),
    ],
)
async def test_malformed_or_oversized_rule_trees_are_refused_and_nothing_is_written(
    engine, repo_dir, eligibility, expected
):
    async with Client(build_server(engine)) as c:
        pid = await demo_plan(c)
        before = snapshot(repo_dir)
        result = await c.call_tool(
            "define_profiles",
            {
                "plan_id": pid,
                "expected_revision": await revision(c, pid),
                "profiles": [{"id": "big", "name": "Big", "eligibility": eligibility}],
            },
        )
        assert result.is_error
        assert expected in text(result), text(result)
    assert snapshot(repo_dir) == before


async def test_simulate_profiles_gives_verdicts_winners_and_explanations(engine, workspace):
    async with Client(build_server(engine)) as c:
        pid = await demo_plan(c)
        records = [s["record"] for s in content.SCENARIOS]
        result = await c.call_tool("simulate_profiles", {"plan_id": pid, "records": records})
        assert not result.is_error, text(result)
        data = result.structured_content
        assert data["record_count"] == 4 and data["explained"] is True
        assert [r["winner"] for r in data["records"]][3] is None
        assert data["records"][0]["explanations"]
        (workspace.root / "samples.json").write_text(json.dumps(records))
        from_file = await c.call_tool(
            "simulate_profiles", {"plan_id": pid, "records_file": "samples.json", "explain": False}
        )
        assert not from_file.is_error, text(from_file)
        assert from_file.structured_content["explained"] is False
        both = await c.call_tool(
            "simulate_profiles", {"plan_id": pid, "records": records, "records_file": "samples.json"}
        )
        assert both.is_error and "exactly one of records or records_file" in text(both)
        outside = await c.call_tool("simulate_profiles", {"plan_id": pid, "records_file": "/etc/passwd"})
        assert outside.is_error and "outside the workspace" in text(outside)


async def test_compile_rules_to_each_sql_dialect_and_json_logic(engine):
    async with Client(build_server(engine)) as c:
        pid = await demo_plan(c)
        for target in ("duckdb", "postgres", "snowflake", "bigquery", "databricks"):
            result = await c.call_tool("compile_rules", {"plan_id": pid, "target": target})
            assert not result.is_error, (target, text(result))
            assert "SELECT" in result.structured_content["sql"].upper()
        logic = await c.call_tool("compile_rules", {"plan_id": pid, "target": "jsonlogic"})
        compiled = logic.structured_content["jsonlogic"]
        assert set(compiled["profiles"]) == {p["id"] for p in content.PROFILES}
        bad = await c.call_tool("compile_rules", {"plan_id": pid, "target": "oracle"})
        assert bad.is_error and "target" in text(bad)


def test_the_tool_targets_are_the_compiler_dialects_and_jsonlogic():
    from personalization_engine.rules import SQL_DIALECTS
    from personalization_engine.tools.rules import Target

    assert set(Target.__args__) == {*SQL_DIALECTS, "jsonlogic"}
