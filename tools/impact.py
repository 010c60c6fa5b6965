"""record_impact: measure the data impact of a change between two revisions and store it."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from mcp.server.mcpserver import Context
from pydantic import Field

from ..core.impact_op import DataOptions
from ..core.results import answer
from ._common import (
    ActorArg,
    BareData,
    BareDsn,
    BareNow,
    BareTable,
    PlanIdArg,
    ToolSpec,
    tool_errors,
    who_asks,
    workspace_engine,
)
from .audience import SIZING


async def record_impact(
    plan_id: PlanIdArg,
    from_revision: Annotated[int, Field(ge=1)],
    to_revision: Annotated[int, Field(ge=1)],
    ctx: Context,
    data: BareData = None,
    dsn: BareDsn = None,
    table: BareTable = None,
    now: BareNow = None,
    actor: ActorArg = "",
) -> dict[str, Any]:
    """Store plan_diff's data impact as an impact run. Example: {"plan_id": "...",
    "from_revision": 4, "to_revision": 5, "data": "data/users.parquet"}
    """
    who = who_asks(actor, ctx)
    # Spark (engine, spark_master) and expected_revision are on the CLI twin, `plans impact`: the
    # tool-list budget keeps this tool to the common case.
    options = DataOptions(data, dsn, table, now=now)

    def work():
        from ..core.impact_op import record_impact as record

        return record(
            workspace_engine(ctx),
            plan_id,
            from_revision,
            to_revision,
            options,
            actor=who,
        )

    with tool_errors():
        result = await anyio.to_thread.run_sync(work)
    return {"write": answer(result.write), "run": result.run.model_dump(mode="json")}


TOOLS = (ToolSpec(record_impact, "Record impact", SIZING),)
