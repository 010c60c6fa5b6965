"""The render and export tools: a revision as deliverables or destination files, committed on their own."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import Field

from ..core.export_op import as_answer, export_plan
from ..core.render_op import render_and_commit
from ._common import (
    ActorArg,
    PlanIdArg,
    ToolSpec,
    advertised_as,
    engine,
    run,
    who_asks,
    whole_number_or_null,
)

# Never changes plan content, but replaces the previous deliverable (or export) files, so by the MCP
# definition it is not additive-only. Rendering an unchanged revision again commits nothing.
RENDERING = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


def render_deliverables(
    plan_id: PlanIdArg,
    ctx: Context,
    revision: Annotated[
        int | None, Field(ge=1, description="Default: latest."), whole_number_or_null()
    ] = None,
    actor: ActorArg = "",
) -> dict[str, Any]:
    """Render and commit the deliverables (profile schema, profiles, activation checklist, plan,
    data contract, report.html) under .claude/plans/<plan_id>/; point the user to report.html.
    Example: {"plan_id": "..."}
    """
    return run(
        lambda: render_and_commit(engine(ctx), plan_id, revision, who_asks(actor, ctx)).model_dump(
            mode="json"
        )
    )


def export_activation(
    plan_id: PlanIdArg,
    target: Literal["dbt", "flagd", "launchdarkly", "growthbook"],
    ctx: Context,
    dialect: Annotated[
        Literal["duckdb", "postgres", "snowflake", "bigquery", "databricks"] | None,
        Field(description="dbt only; default duckdb."),
        advertised_as(Literal["duckdb", "postgres", "snowflake", "bigquery", "databricks"]),
    ] = None,
    allow_errors: Annotated[bool, Field(description="Export despite error findings, as a draft.")] = False,
    actor: ActorArg = "",
) -> dict[str, Any]:
    """Export the latest revision's profiles and activations to dbt models or a flag system's file
    under .claude/plans/<plan_id>/exports/<target>/, commit them, and record the export. Show the
    user `refusals` (conditions the target cannot carry) and `cutoffs` (windows frozen at export).
    Example: {"plan_id": "...", "target": "flagd"}
    """

    def export() -> dict[str, Any]:
        done = export_plan(
            engine(ctx),
            plan_id,
            target,
            dialect=dialect,
            allow_errors=allow_errors,
            actor=who_asks(actor, ctx),
        )
        return as_answer(done).model_dump(mode="json")

    return run(export)


TOOLS = (
    ToolSpec(render_deliverables, "Render the deliverables", RENDERING),
    ToolSpec(export_activation, "Export to production", RENDERING),
)
