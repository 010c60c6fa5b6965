"""simulate_profiles and compile_rules take an evaluation time, to the microsecond, as the docs say."""

from __future__ import annotations

import anyio
from mcp import Client

from personalization_engine.core.engine import Engine
from personalization_engine.server import build_server

from .render.helpers import fill_plan


def test_simulate_and_compile_take_now_keep_microseconds_and_refuse_finer_digits(
    engine: Engine, plan_id: str
):
    fill_plan(engine, plan_id)

    async def run() -> None:
        async with Client(build_server(engine)) as client:
            at = "2004-01-12T05:25:29.721934Z"
            simulated = await client.call_tool(
                "simulate_profiles", {"plan_id": plan_id, "records": [{"plan_tier": "trial"}], "now": at}
            )
            assert not simulated.is_error, simulated.content
            assert simulated.structured_content["evaluated_at"].startswith("2004-01-12T05:25:29.721934")
            compiled = await client.call_tool(
                "compile_rules", {"plan_id": plan_id, "target": "postgres", "now": at}
            )
            assert not compiled.is_error, compiled.content
            assert "05:25:29.721934" in compiled.structured_content["sql"]  # windows end at now, to the µs
            finer = await client.call_tool(
                "compile_rules",
                {"plan_id": plan_id, "target": "duckdb", "now": "2004-01-12T05:25:29.7219345Z"},
            )
            assert finer.is_error
            assert "now" in finer.content[0].text and "6 fractional digits" in finer.content[0].text

    anyio.run(run)
