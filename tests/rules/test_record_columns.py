"""Issue 13: simulating on records whose columns do not match the inventory warns, naming them."""

from __future__ import annotations

import pytest
from mcp import Client

from personalization_engine.rules import load_records, simulate
from personalization_engine.server import build_server

from ..test_mcp_ledger import demo_plan
from ..test_mcp_tools import snapshot, text
from .helpers import ENGAGED, NEW_FREE, NOW, make_plan

PLAN = make_plan([NEW_FREE, ENGAGED])


def test_a_csv_with_misspelt_headers_warns_with_did_you_mean_suggestions(tmp_path):
    (tmp_path / "users.csv").write_text(
        "id,plan_tier,sign_up_at,email_bounced,sesions,last_seen_at\nu1,free,2026-11-20,false,3,\n"
    )
    records = load_records("users.csv", tmp_path)
    result = simulate(PLAN, records, NOW)
    shown = [(w.code, w.column, w.suggestion) for w in result.warnings]
    assert shown == [
        ("records.missing_attribute", "sessions", "sesions"),
        ("records.missing_attribute", "signup_at", "sign_up_at"),
        ("records.unknown_column", "sesions", "sessions"),
        ("records.unknown_column", "sign_up_at", "signup_at"),
    ]
    assert result.warnings[1].message == (
        "no record has the attribute 'signup_at', which the profiles read, so it is null in every record "
        "(did you mean the column 'sign_up_at'?)"
    )
    assert result.warnings[3].message == (
        "the column 'sign_up_at' is not an inventoried attribute, so no rule reads it "
        "(did you mean 'signup_at'?)"
    )


def test_records_that_match_the_inventory_get_no_warning():
    record = {"id": 1, "plan_tier": "free", "signup_at": "2026-11-20", "email_bounced": False}
    record |= {"sessions": 2, "last_seen_at": None, "country": "DE"}
    assert simulate(PLAN, [record], NOW).warnings == []


def test_an_attribute_no_rule_reads_is_not_reported_missing():
    record = {"plan_tier": "free", "signup_at": "2026-11-20", "email_bounced": False, "sessions": 1}
    record["last_seen_at"] = "2026-11-20"
    assert simulate(PLAN, [record], NOW).warnings == []  # 'country' and 'spend' are not read


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_simulate_profiles_returns_the_column_warnings_and_writes_nothing(
    engine, repo_dir, anyio_backend
):
    async with Client(build_server(engine)) as c:
        pid = await demo_plan(c)
        before = snapshot(repo_dir)
        result = await c.call_tool(
            "simulate_profiles",
            {"plan_id": pid, "records": [{"plan_tier": "trial", "signup_att": "2026-11-20"}]},
        )
        assert not result.is_error, text(result)
        warnings = result.structured_content["warnings"]
        assert {"code": "records.unknown_column", "column": "signup_att", "suggestion": "signup_at"} in [
            {k: w[k] for k in ("code", "column", "suggestion")} for w in warnings
        ]
        assert snapshot(repo_dir) == before
