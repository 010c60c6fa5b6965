"""Consent-flow QA: record one run of an activation's qa_flow, in one ledger revision."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from ..core import qa
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


def record_qa_result(
    plan_id: PlanIdArg,
    profile_id: Annotated[str, Field(max_length=64)],
    channel: Literal["web", "in-app"],
    url: Annotated[str, Field(max_length=200, description="On the qa_flow's origin.")],
    outcome: Literal["passed", "failed"],
    ran_at: Annotated[str, Field(max_length=64, description="ISO 8601 with zone.")],
    artefact_sha256: Annotated[str, Field(max_length=64, description="Of the trace or screenshot.")],
    ctx: Context,
    artefact: Annotated[str, Field(max_length=200)] = "",
    note: Annotated[str, Field(max_length=4000)] = "",
    expected_revision: OptionalRevisionArg = None,
    actor: ActorArg = "",
) -> WriteAnswer:
    """Record a reported run of an activation's consent-flow QA (its qa_flow). Example:
    {"plan_id": "...", "profile_id": "new-trial-activation", "channel": "web", "url":
    "https://app.example.com/signup", "outcome": "passed", "ran_at": "2026-11-24T08:30:00Z",
    "artefact_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
    """
    who = who_asks(actor, ctx)

    def operation(plan, now):
        return qa.record_qa_result(
            plan,
            profile_id=profile_id,
            channel=channel,
            url=url,
            outcome=outcome,
            ran_at=ran_at,
            artefact_sha256=artefact_sha256,
            artefact=artefact or None,
            note=note,
            actor=who,
            now=now,
        )

    return run(
        lambda: answer(
            engine(ctx).apply(
                plan_id, "governance", operation, expected_revision=expected_revision, actor=who, timed=True
            )
        )
    )


TOOLS = (ToolSpec(record_qa_result, "Record a QA result", ADDITIVE),)
