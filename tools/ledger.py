"""Ledger tools: blockers, their resolution, and approvals. Each is one revision under the lock."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from .. import ledger
from ._common import ADDITIVE, ActorArg, PlanIdArg, Runtime, WriteOutcome, tool

OptionalRevisionArg = Annotated[
    int | None,
    Field(
        None,
        ge=1,
        description="Optional for ledger writes: when given, a stale revision is a conflict; when "
        "omitted, the entry is appended to the current revision under the write lock.",
    ),
]
# Resolving changes a blocker's status in place (its earlier state stays in git history), so it is
# not additive-only; a second call on the same blocker is refused, so it is not idempotent.
RESOLVING = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
)


def register(server: MCPServer, rt: Runtime) -> None:
    def apply(plan_id, expected_revision, actor, ctx, mutate_with_actor) -> WriteOutcome:
        who = rt.actor(actor, ctx)
        return rt.write(
            lambda: rt.engine.apply(
                plan_id,
                "governance",
                lambda plan, now: mutate_with_actor(plan, who, now),
                expected_revision=expected_revision,
                actor=who,
                timed=True,
            )
        )

    @tool(server, "record_blocker", "Record a blocker", ADDITIVE)
    def record_blocker(
        plan_id: PlanIdArg,
        kind: Annotated[
            Literal["consent", "compliance", "coverage", "data_pull"],
            Field(description="What kind of problem blocks the plan."),
        ],
        subject: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="What it is about, e.g. an attribute, activation or data source. Two "
                "blockers with the same kind and subject are the same problem recurring.",
            ),
        ],
        detail: Annotated[str, Field(max_length=4000, description="What happened and what was tried.")] = "",
        expected_revision: OptionalRevisionArg = None,
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Record something that blocks the plan and cannot be fixed right now: a consent or
        compliance gap, attribute coverage below its target, or a data pull that keeps failing.

        A second open blocker with the same kind and subject escalates one rung up the plan's
        escalation ladder (Personalization Architect, Data Privacy Lead, Exec sponsor); each further
        repeat climbs another rung. An absent owner is skipped for the named fallback owner. The
        result's changes name the escalation, and the commit carries an Escalation trailer.
        Example: {"plan_id": "plan-20261124T093000Z", "kind": "consent", "subject":
        "feature_adoption_score on web", "detail": "Collected for in-app and analytics only; web
        personalization needs consent."}
        """

        def mutate(plan, who, now):
            return ledger.record_blocker(plan, kind=kind, subject=subject, detail=detail, actor=who, now=now)

        return apply(plan_id, expected_revision, actor, ctx, mutate)

    @tool(server, "resolve_blocker", "Resolve a blocker", RESOLVING)
    def resolve_blocker(
        plan_id: PlanIdArg,
        blocker_id: Annotated[str, Field(max_length=64, description="The blocker's id, e.g. 'blk-1'.")],
        remediation: Annotated[
            str, Field(min_length=1, max_length=4000, description="What was done to remove the blocker.")
        ],
        expected_revision: OptionalRevisionArg = None,
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Resolve an open blocker and log its remediation; escalations it triggered are resolved
        with it. Fix the underlying problem first (e.g. correct the attribute's consent with
        inventory_attributes), then call this. Example: {"plan_id": "plan-20261124T093000Z",
        "blocker_id": "blk-1", "remediation": "Privacy lead approved onsite_personalization on a
        consent basis; attribute updated in r9."}
        """

        def mutate(plan, who, now):
            return ledger.resolve_blocker(
                plan, blocker_id=blocker_id, remediation=remediation, actor=who, now=now
            )

        return apply(plan_id, expected_revision, actor, ctx, mutate)

    @tool(server, "record_approval", "Record an approval", ADDITIVE)
    def record_approval(
        plan_id: PlanIdArg,
        approver: Annotated[str, Field(min_length=1, max_length=200, description="Who decided.")],
        role: Annotated[
            str,
            Field(
                max_length=200, description="Their role on the escalation ladder, e.g. 'Data Privacy Lead'."
            ),
        ],
        decision: Literal["approved", "rejected", "changes_requested"],
        note: Annotated[str, Field(max_length=4000)] = "",
        expected_revision: OptionalRevisionArg = None,
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Record a ladder role's decision on the plan's current revision. Every role on the
        escalation ladder should approve before launch; a later content change makes an approval
        stale, and validate_plan reports missing or stale approvals. Example: {"plan_id":
        "plan-20261124T093000Z", "approver": "Grace Kim", "role": "Data Privacy Lead", "decision":
        "approved", "note": "Consent gates verified for all three channels."}
        """

        def mutate(plan, who, now):
            return ledger.record_approval(
                plan, approver=approver, role=role, decision=decision, note=note, now=now
            )

        return apply(plan_id, expected_revision, actor, ctx, mutate)
