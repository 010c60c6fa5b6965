"""The render tool: a plan revision as stakeholder deliverables, written and committed on their own."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from ..engine import Engine
from ._common import ActorArg, PlanIdArg, Runtime, tool

# Never changes plan content, but replaces the previous deliverable files (rendering an older
# revision overwrites the latest's until the next render), so by the MCP definition it is not
# additive-only. Rendering an unchanged revision again writes nothing and makes no commit.
RENDERING = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


class RenderOutcome(BaseModel):
    plan_id: str
    revision: int = Field(description="The plan revision the deliverables show.")
    commit: str | None = Field(description="The commit of the changed files; null when nothing changed.")
    written: bool = Field(description="False when every file was already up to date (no commit).")
    folder: str = Field(description="Where the files are: .claude/plans/<plan_id>/ in the workspace.")
    files: list[str] = Field(description="Every deliverable, by file name.")
    changed: list[str] = Field(description="The files this call wrote.")


def render_and_commit(engine: Engine, plan_id: str, revision: int | None, actor: str) -> RenderOutcome:
    """Shared by the tool and the CLI: read the revision, render everything, commit what changed."""
    # jinja2, the rules compiler and sqlglot load on the first render, not at server start-up.
    from ..render import render_deliverables as render_files

    plan = engine.read_plan(plan_id, revision)
    files = {name: text.encode("utf-8") for name, text in render_files(plan).items()}
    result = engine.commit_deliverables(plan.plan_id, files, revision=plan.revision, actor=actor)
    folder = engine.store.deliverables_dir(plan.plan_id)
    return RenderOutcome(
        plan_id=result.plan_id,
        revision=result.revision,
        commit=result.commit,
        written=bool(result.changed),
        folder=folder.relative_to(engine.ws.root).as_posix(),
        files=sorted(files),
        changed=result.changed,
    )


def register(server: MCPServer, rt: Runtime) -> None:
    @tool(server, "render_deliverables", "Render the deliverables", RENDERING)
    def render_deliverables(
        plan_id: PlanIdArg,
        revision: Annotated[
            int | None,
            Field(
                ge=1, le=10_000_000, description="An older revision to render, read from git; default latest."
            ),
        ] = None,
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> RenderOutcome:
        """Render the plan as stakeholder documents and commit them under .claude/plans/<plan_id>/:
        profile-schema.md and .csv (the attribute table), profiles.md (eligibility and suppression
        in plain language, decision-tree diagrams, compiled SQL, scoring, scenarios),
        activation-checklist.md (per channel, with open findings as unticked blockers), plan.md
        (header, dependency graph, escalation ladder, metrics, governance, change log),
        data-contract.odcs.yaml (an ODCS v3 contract of the inventory) and report.html (one
        self-contained page with all of it and the attribute x channel consent matrix).

        The plan itself is not changed: the commit names the revision it shows, and rendering an
        unchanged revision again writes and commits nothing. Call it at the end of the review step
        and after later changes, then point the user to report.html. Example:
        {"plan_id": "plan-20261124T093000Z"} or {"plan_id": "plan-20261124T093000Z", "revision": 3}
        """
        return rt.read(lambda: render_and_commit(rt.engine, plan_id, revision, rt.actor(actor, ctx)))
