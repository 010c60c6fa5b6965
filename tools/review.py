"""The finalize gate: review the current revision and declare it final, or list what blocks it."""

from __future__ import annotations

from mcp.server.mcpserver import Context

from ..core.finalize import finalize_plan as finalize
from ..core.results import answer
from ._common import ADDITIVE, ActorArg, PlanIdArg, RevisionArg, ToolSpec, WriteAnswer, engine, run, who_asks


def finalize_plan(
    plan_id: PlanIdArg, expected_revision: RevisionArg, ctx: Context, actor: ActorArg = None
) -> WriteAnswer:
    """Declare the revision you reviewed final and tag its commit; call it last, never while errors
    are open. Refuses, listing every blocker, on open errors, approvals missing, stale or only
    reported, unowned stages, failing scenarios or unconfirmed sensitive consent.
    Example: {"plan_id": "plan-20261124T093000Z", "expected_revision": 14}
    """

    def call() -> WriteAnswer:
        done = finalize(engine(ctx), plan_id, expected_revision=expected_revision, actor=who_asks(actor, ctx))
        return done.as_dict(answer(done.write))

    return run(call)


# Adds one ledger record and a tag, never replaces content; a second call is a no-op answer but
# only while nothing changed, so it is not declared idempotent.
TOOLS = (ToolSpec(finalize_plan, "Finalize a plan", ADDITIVE),)
