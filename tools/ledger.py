"""Ledger tools: blockers, their resolution, and approvals. Each is one revision under the lock."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import Field

from ..core import ledger
from ..core.results import answer
from ._common import (
    ADDITIVE,
    ActorArg,
    OptionalRevisionArg,
    PlanIdArg,
    ToolSpec,
    WriteAnswer,
    engine,
    run,
    who_asks,
)

# Resolving changes a blocker's status in place (its earlier state stays in git history), so it is
# not additive-only; a second call on the same blocker is refused, so it is not idempotent.
RESOLVING = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
)


def _write(
    ctx: Context, plan_id: str, expected: int | None, given_actor: str | None, operation
) -> WriteAnswer:
    who = who_asks(given_actor, ctx)
    return run(
        lambda: answer(
            engine(ctx).apply(
                plan_id,
                "governance",
                lambda plan, now: operation(plan, who, now),
                expected_revision=expected,
                actor=who,
                timed=True,
            )
        )
    )


def record_blocker(
    plan_id: PlanIdArg,
    kind: Literal["consent", "compliance", "coverage", "data_pull"],
    subject: Annotated[
        str,
        Field(min_length=1, max_length=200, description="What it is about; same kind+subject = recurring."),
    ],
    ctx: Context,
    detail: Annotated[str, Field(max_length=4000, description="What happened and what was tried.")] = "",
    expected_revision: OptionalRevisionArg = None,
    actor: ActorArg = "",
) -> WriteAnswer:
    """Record what blocks the plan and cannot be fixed now. A repeat (same kind and subject)
    escalates one rung up the ladder, skipping absent owners for their fallback. Example:
    {"plan_id": "...", "kind": "consent", "subject": "adoption_score on web", "detail": "..."}
    """
    return _write(
        ctx,
        plan_id,
        expected_revision,
        actor,
        lambda plan, who, now: ledger.record_blocker(
            plan, kind=kind, subject=subject, detail=detail, actor=who, now=now
        ),
    )


def resolve_blocker(
    plan_id: PlanIdArg,
    blocker_id: Annotated[str, Field(max_length=64, description="e.g. 'blk-1'.")],
    remediation: Annotated[str, Field(min_length=1, max_length=4000, description="What removed it.")],
    ctx: Context,
    expected_revision: OptionalRevisionArg = None,
    actor: ActorArg = "",
) -> WriteAnswer:
    """Resolve an open blocker and log its remediation; its escalations resolve with it. Fix the
    cause first (e.g. the attribute's consent), then call this. Example: {"plan_id": "...",
    "blocker_id": "blk-1", "remediation": "Consent confirmed."}
    """
    return _write(
        ctx,
        plan_id,
        expected_revision,
        actor,
        lambda plan, who, now: ledger.resolve_blocker(
            plan, blocker_id=blocker_id, remediation=remediation, actor=who, now=now
        ),
    )


def record_approval(
    plan_id: PlanIdArg,
    approver: Annotated[str, Field(min_length=1, max_length=200, description="Who decided.")],
    role: Annotated[str, Field(max_length=200, description="Their ladder role, e.g. 'Data Privacy Lead'.")],
    decision: Literal["approved", "rejected", "changes_requested"],
    ctx: Context,
    note: Annotated[str, Field(max_length=4000)] = "",
    expected_revision: OptionalRevisionArg = None,
    actor: ActorArg = "",
) -> WriteAnswer:
    """Record a decision someone reported for a ladder role. It stays 'reported', not confirmed:
    only that person confirms, with `plans approve` at a terminal. Example: {"plan_id": "...",
    "approver": "Grace Kim", "role": "Data Privacy Lead", "decision": "approved"}
    """
    return _write(
        ctx,
        plan_id,
        expected_revision,
        actor,
        lambda plan, who, now: ledger.record_approval(
            plan, approver=approver, role=role, decision=decision, note=note, actor=who, now=now
        ),
    )


TOOLS = (
    ToolSpec(record_blocker, "Record a blocker", ADDITIVE),
    ToolSpec(resolve_blocker, "Resolve a blocker", RESOLVING),
    ToolSpec(record_approval, "Record an approval", ADDITIVE),
)
