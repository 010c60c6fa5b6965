"""size_audiences: count each profile's audience on real data and store the sizing run."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations

from ..core.results import answer
from ._common import (
    ActorArg,
    DataArg,
    DsnArg,
    EngineArg,
    OptionalRevisionArg,
    PlanIdArg,
    SparkMasterArg,
    TableArg,
    ToolSpec,
    tool_errors,
    who_asks,
    workspace_engine,
)

# Appends a sizing run (additive), and reads a database the user names: open world.
SIZING = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)


async def size_audiences(
    plan_id: PlanIdArg,
    ctx: Context,
    data: DataArg = None,
    dsn: DsnArg = None,
    table: TableArg = None,
    engine: EngineArg = None,
    spark_master: SparkMasterArg = None,
    expected_revision: OptionalRevisionArg = None,
    actor: ActorArg = "",
) -> dict[str, Any]:
    """Count each profile's audience on real data (a row per person; only counts leave the
    database) and store the sizing run: sizes per profile and channel, overlaps, coverage.
    Example: {"plan_id": "...", "data": "data/users.parquet"}
    """
    who = who_asks(actor, ctx)

    def progress(done: float, total: float, message: str) -> None:
        anyio.from_thread.run(ctx.report_progress, done, total, message)

    def work():
        # Sizing loads sqlglot and DuckDB (DESIGN.md: heavy libraries load when first used).
        from ..core.sizing import size_plan

        return size_plan(
            workspace_engine(ctx),
            plan_id,
            data=data,
            dsn=dsn,
            table=table,
            engine_name=engine,
            spark_master=spark_master,
            expected_revision=expected_revision,
            actor=who,
            progress=progress,
        )

    with tool_errors():
        result = await anyio.to_thread.run_sync(work)
    return {
        "write": answer(result.write),
        "run": result.run.model_dump(mode="json"),
        "data_findings": [f.model_dump(mode="json") for f in result.findings],
    }


TOOLS = (ToolSpec(size_audiences, "Size audiences on data", SIZING),)
