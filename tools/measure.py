"""measure_lift: read out the lift of a launched plan on outcome data and store the readout."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import Field, WithJsonSchema

from ..core.results import answer
from ._common import (
    PlanIdArg,
    ToolSpec,
    tool_errors,
    who_asks,
    workspace_engine,
)

# Appends a readout (additive) and reads a database the user names: open world.
MEASURING = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
AsOfArg = Annotated[str, Field(max_length=40)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


# The tool list is read every session, so optional arguments advertise only their type; the
# docstring says what they mean, and the full limits are still enforced.
Text = Annotated[
    str | None, Field(max_length=2000, json_schema_extra=_no_default), WithJsonSchema({"type": "string"})
]
Whole = Annotated[int | None, Field(ge=1, json_schema_extra=_no_default), WithJsonSchema({"type": "integer"})]


async def measure_lift(
    plan_id: PlanIdArg,
    as_of: AsOfArg,
    ctx: Context,
    outcomes: Text = None,
    data: Text = None,
    dsn: Text = None,
    table: Text = None,
    engine: Text = None,
    spark_master: Text = None,
    kpi_column: Text = None,
    value_column: Text = None,
    revision: Whole = None,
    expected_revision: Whole = None,
    actor: Text = None,
) -> dict[str, Any]:
    """After launch, per profile: treatment vs holdout on outcomes (.csv/.parquet, else a table
    beside the data; an id row each, boolean kpi_column=converted): lift, 95% CI, p, power, SRM.
    Members: data as size_audiences at as_of, rules of revision. Stored. Example: {"plan_id":
    "...", "as_of": "2026-11-24T09:00:00Z", "data": "data/users.parquet", "outcomes": "data/o.csv"}
    """
    who = who_asks(actor, ctx)

    def progress(done: float, total: float, message: str) -> None:
        anyio.from_thread.run(ctx.report_progress, done, total, message)

    def work():
        # The readout loads sqlglot and DuckDB (DESIGN.md: heavy libraries load when first used).
        from ..audience.lift_data import DEFAULT_KPI_COLUMN, OUTCOME_FILES
        from ..core.lift_op import LiftSources
        from ..core.lift_op import measure_lift as run
        from ..rules.instants import parse_time_option

        file = outcomes is not None and outcomes.lower().endswith(OUTCOME_FILES)
        sources = LiftSources(
            data=data, dsn=dsn, table=table, engine=engine, spark_master=spark_master,
            outcomes=outcomes if file else None, outcomes_table=None if file else outcomes,
            kpi_column=kpi_column or DEFAULT_KPI_COLUMN, value_column=value_column,
        )  # fmt: skip
        return run(
            workspace_engine(ctx),
            plan_id,
            sources,
            as_of=parse_time_option(as_of, field="as_of"),
            revision=revision,
            expected_revision=expected_revision,
            actor=who,
            progress=progress,
        )

    with tool_errors():
        result = await anyio.to_thread.run_sync(work)
    return {"write": answer(result.write), "readout": result.measurement.model_dump(mode="json")}


TOOLS = (ToolSpec(measure_lift, "Measure lift after launch", MEASURING),)
