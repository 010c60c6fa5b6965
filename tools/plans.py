"""Plan tools: create, list, read, write, validate, and the audit trail (history, diff)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from ..core import results
from ..core.impact_op import DataOptions
from ..core.results import answer
from ..core.sections import apply_sections, parse_sections
from ..model.common import Channel, ShortText
from ..model.plan import Regime, SignalFramework
from ._common import (
    ADDITIVE,
    READ_ONLY,
    REPLACING,
    ActorArg,
    BareData,
    BareDsn,
    BareEngine,
    BareNow,
    BareSparkMaster,
    BareTable,
    PlanIdArg,
    RevisionArg,
    ToolSpec,
    WriteAnswer,
    advertised_as,
    engine,
    run,
    text_or_null,
    tool_errors,
    who_asks,
    whole_number_or_null,
    workspace_engine,
)


def create_plan(
    initiative: Annotated[str, Field(min_length=1, max_length=200, description="What the program is for.")],
    channels: Annotated[tuple[Channel, ...], Field(min_length=1, max_length=5)],
    ctx: Context,
    metrics: Annotated[tuple[ShortText, ...] | None, Field(max_length=50), advertised_as(list[str])] = None,
    constraints: Annotated[
        tuple[ShortText, ...] | None, Field(max_length=100), advertised_as(list[str])
    ] = None,
    timeline: Annotated[str | None, Field(max_length=200), text_or_null(200)] = None,
    pattern: Annotated[
        Literal["diamond", "pipeline"] | None, advertised_as(Literal["diamond", "pipeline"])
    ] = None,
    pattern_rationale: Annotated[str | None, Field(max_length=4000), text_or_null(4000)] = None,
    regimes: tuple[Regime, ...] = (),
    signals: tuple[SignalFramework, ...] = (),
    actor: ActorArg = "",
) -> WriteAnswer:
    """Create a plan at revision 1, once per initiative. Pattern: 'diamond' when intake and
    inventory can run in parallel, 'pipeline' when each stage needs the previous one.
    Example: {"initiative": "PLG Onboarding", "channels": ["web", "email"]}
    """
    return run(
        lambda: answer(
            engine(ctx).create_plan(
                initiative=initiative,
                channels=channels,
                metrics=metrics,
                constraints=constraints,
                timeline=timeline,
                pattern=pattern,
                pattern_rationale=pattern_rationale,
                regimes=regimes,
                signals=signals,
                actor=who_asks(actor, ctx),
            )
        )
    )


def list_plans(ctx: Context) -> dict[str, Any]:
    """The plans, oldest first: {plans: [{plan_id, revision, initiative, channels, updated_at,
    attributes, profiles, activations}]}. Call it before creating a plan. Example: {}
    """
    return run(lambda: results.plan_list(engine(ctx)).model_dump(mode="json"))


def read_plan(
    plan_id: PlanIdArg,
    ctx: Context,
    revision: Annotated[
        int | None, Field(ge=1, description="An older revision, read from git."), whole_number_or_null()
    ] = None,
) -> str:
    """The plan's JSON (schema: resource schema://plan), or an older revision from git. Read it
    before writing. Example: {"plan_id": "...", "revision": 2}
    """
    return run(lambda: results.plan_text(engine(ctx), plan_id, revision))


def write_plan(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    sections: Annotated[
        dict[str, Any], Field(description="Top-level plan sections to replace, as in schema://plan.")
    ],
    ctx: Context,
    actor: ActorArg = "",
) -> WriteAnswer:
    """Replace whole top-level sections (as in schema://plan; others stay), e.g. timeline,
    error_handling, consent_policy, success_metrics targets. Server-owned fields are refused.
    Prefer the stage tools for single items. Example: {"plan_id": "...", "expected_revision": 3, "sections":
    {"timeline": "Launch by 2027-02-01"}}
    """
    with tool_errors():
        parsed = parse_sections(sections)
        result = engine(ctx).apply(
            plan_id,
            "plan",
            lambda plan: apply_sections(plan, parsed),
            expected_revision=expected_revision,
            actor=who_asks(actor, ctx),
        )
    return answer(result)


def validate_plan(plan_id: PlanIdArg, ctx: Context) -> str:
    """Run every check: JSON text {plan_id, revision, valid, counts, findings [{code, severity,
    pointer, message, stage}]}. Example:
    {"plan_id": "..."}
    """
    return run(lambda: results.validation_report(engine(ctx), plan_id).model_dump_json(indent=2))


def plan_history(plan_id: PlanIdArg, ctx: Context) -> dict[str, Any]:
    """The audit trail from git: {plan_id, revisions: [{revision, time, actor, stage, summary,
    commit}]}, newest first. Example: {"plan_id": "..."}
    """
    return run(lambda: results.plan_history(engine(ctx), plan_id).model_dump(mode="json"))


def plan_diff(
    plan_id: PlanIdArg,
    from_revision: Annotated[int, Field(ge=1)],
    to_revision: Annotated[int, Field(ge=1)],
    ctx: Context,
    data: BareData = None,
    dsn: BareDsn = None,
    table: BareTable = None,
    engine: BareEngine = None,
    spark_master: BareSparkMaster = None,
    now: BareNow = None,
) -> dict[str, Any]:
    """Semantic diff of two revisions: keyed items added, removed or changed, field by field. With
    data (as size_audiences): the records moving between profiles (impact).
    Example: {"plan_id": "...", "from_revision": 2, "to_revision": 5}
    """
    options = DataOptions(data, dsn, table, engine, spark_master, now)
    return run(
        lambda: results.plan_diff(
            workspace_engine(ctx), plan_id, from_revision, to_revision, options
        ).model_dump(mode="json")
    )


TOOLS = (
    ToolSpec(create_plan, "Create a plan", ADDITIVE),
    ToolSpec(list_plans, "List plans", READ_ONLY),
    ToolSpec(read_plan, "Read a plan", READ_ONLY, structured_output=False),
    ToolSpec(write_plan, "Replace plan sections", REPLACING),
    ToolSpec(validate_plan, "Validate a plan", READ_ONLY, structured_output=False),
    ToolSpec(plan_history, "Plan history", READ_ONLY),
    ToolSpec(plan_diff, "Diff two revisions", READ_ONLY),
)
