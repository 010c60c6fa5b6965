"""Recording an impact run is a ledger write: a final plan stays final and no approval goes stale."""

from __future__ import annotations

from pathlib import Path

import anyio
from mcp import Client

from personalization_engine.audience import write_sample_data
from personalization_engine.core.engine import Engine
from personalization_engine.core.impact_op import DataOptions, record_impact
from personalization_engine.core.results import validation_report
from personalization_engine.model.final import is_final
from personalization_engine.server import build_server

from ..finalize_helpers import ready_plan
from .conftest import NOW


def test_an_impact_run_on_a_final_plan_keeps_it_final_and_changes_no_finding(engine: Engine, repo_dir: Path):
    plan_id = ready_plan(engine)

    async def finalize() -> None:
        async with Client(build_server(engine)) as client:
            revision = engine.read_plan(plan_id).revision
            done = await client.call_tool(
                "finalize_plan", {"plan_id": plan_id, "expected_revision": revision}
            )
            assert not done.is_error, done.content

    anyio.run(finalize)
    assert is_final(engine.read_plan(plan_id))
    before = [(f.code, f.pointer) for f in validation_report(engine, plan_id).findings]
    write_sample_data(repo_dir / "data" / "users.parquet", 500, reference=NOW)
    latest = engine.read_plan(plan_id).revision
    result = record_impact(
        engine, plan_id, 1, latest, DataOptions(data="data/users.parquet", now=NOW), actor="analyst"
    )
    plan = engine.read_plan(plan_id)
    assert result.write.revision == latest + 1 and len(plan.impact_runs) == 1
    assert is_final(plan)
    assert [(f.code, f.pointer) for f in validation_report(engine, plan_id).findings] == before
