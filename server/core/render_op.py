"""Rendering as a core operation: the deliverables of a revision, written and committed on their own."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .engine import Engine


class RenderOutcome(BaseModel):
    plan_id: str
    revision: int = Field(description="The plan revision the deliverables show.")
    commit: str | None = Field(description="Null when nothing changed.")
    written: bool
    folder: str = Field(description=".claude/plans/<plan_id>/ in the workspace.")
    files: list[str]
    changed: list[str] = Field(description="The files this call wrote.")


def render_and_commit(engine: Engine, plan_id: str, revision: int | None, actor: str) -> RenderOutcome:
    """Read the revision, render every deliverable, and commit what changed (one commit)."""
    from ..render import render_deliverables  # jinja2 and the rules compiler load on first render

    plan = engine.read_plan(plan_id, revision)
    files = {name: text.encode("utf-8") for name, text in render_deliverables(plan).items()}
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
