"""The render tool: a plan revision as stakeholder deliverables, written and committed on their own."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import Field

from ..core.render_op import render_and_commit
from ._common import ActorArg, PlanIdArg, ToolSpec, engine, run, who_asks, whole_number_or_null

# Never changes plan content, but replaces the previous deliverable files, so by the MCP
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


TOOLS = (ToolSpec(render_deliverables, "Render the deliverables", RENDERING),)
