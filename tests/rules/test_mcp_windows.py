"""Issue 14, case 2 over MCP: the longest allowed window is stored and the plan stays writable; a
longer one is refused before anything is written."""

from __future__ import annotations

import pytest
from mcp import Client

from personalization_engine.server import build_server

from ..conftest import json_text
from ..test_mcp_ledger import demo_plan
from ..test_mcp_tools import snapshot, text

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def far_profiles(window: str) -> list[dict]:
    rule = {"op": "not_within_last", "attr": "signup_at", "value": window}
    return [
        {"id": f"far-{n}", "name": f"Far {n}", "priority": 7, "fallback": "generic", "eligibility": rule}
        for n in (1, 2)
    ]


async def revision(c: Client, pid: str) -> int:
    return json_text(await c.call_tool("read_plan", {"plan_id": pid}))["revision"]


async def test_the_longest_window_is_written_checked_and_the_plan_stays_writable(engine):
    async with Client(build_server(engine)) as c:
        pid = await demo_plan(c)
        written = await c.call_tool(
            "define_profiles",
            {"plan_id": pid, "expected_revision": await revision(c, pid), "profiles": far_profiles("5217w")},
        )
        assert not written.is_error, text(written)
        codes = {
            f["code"] for f in json_text(await c.call_tool("validate_plan", {"plan_id": pid}))["findings"]
        }
        assert "rules.overlap" in codes and "rules.analysis_failed" not in codes
        again = await c.call_tool(
            "write_plan",
            {"plan_id": pid, "expected_revision": await revision(c, pid), "sections": {"timeline": "Q1"}},
        )
        assert not again.is_error, text(again)


async def test_a_window_past_100_years_is_refused_naming_the_field_and_nothing_is_written(engine, repo_dir):
    async with Client(build_server(engine)) as c:
        pid = await demo_plan(c)
        before = snapshot(repo_dir)
        refused = await c.call_tool(
            "define_profiles",
            {
                "plan_id": pid,
                "expected_revision": await revision(c, pid),
                "profiles": far_profiles("999999d"),
            },
        )
        assert refused.is_error
        # argument validation names the field in pydantic's dotted form
        assert "profiles.0.eligibility" in text(refused)
        assert "'999999d' is longer than the maximum duration, 100 years" in text(refused)
        assert snapshot(repo_dir) == before
