"""Plan JSON tools: create, list, read, write, validate, and the audit trail (history, diff)."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from .. import plan_json
from ..checks.findings import Finding
from ..engine import Engine
from ..history.diff import describe
from ..model import ChangeItem
from ..model.common import Channel
from ..plan_sections import PlanSections, apply_sections
from ._common import (
    ADDITIVE,
    READ_ONLY,
    REPLACING,
    ActorArg,
    FindingCounts,
    PlanIdArg,
    RevisionArg,
    Runtime,
    WriteOutcome,
    counts,
    tool,
)


class PlanSummary(BaseModel):
    plan_id: str
    revision: int
    initiative: str
    channels: list[str]
    updated_at: str
    attributes: int
    profiles: int
    activations: int


class PlanList(BaseModel):
    plans: list[PlanSummary]


class HistoryItem(BaseModel):
    revision: int | None
    time: str
    actor: str
    stage: str
    summary: str
    commit: str


class PlanHistory(BaseModel):
    plan_id: str
    revisions: list[HistoryItem] = Field(description="Newest first.")


class PlanDiff(BaseModel):
    plan_id: str
    from_revision: int
    to_revision: int
    summary: list[str]
    changes: list[ChangeItem]


class ValidationReport(BaseModel):
    """validate_plan's answer, sent as JSON text only (see validate_plan)."""

    plan_id: str
    revision: int
    valid: bool = Field(description="True when there are no error findings (warnings may remain).")
    counts: FindingCounts
    findings: list[Finding]


def plan_text(engine: Engine, plan_id: str, revision: int | None) -> str:
    """The plan as compact JSON: the same document as the file, without its indentation.

    Half the bytes of the file to escape, send and parse. The current revision (validated and
    cached per content hash by the store) is assembled from each item's remembered JSON
    (plan_json); an older revision, read from git, is dumped whole.
    """
    plan, _ = engine.store.load(plan_id)
    if revision is None or revision == plan.revision:
        return plan_json.dumps(plan, compact=True).decode("utf-8")
    return engine.read_plan(plan_id, revision).model_dump_json(by_alias=True)


def register(server: MCPServer, rt: Runtime) -> None:
    @tool(server, "create_plan", "Create a plan", ADDITIVE)
    def create_plan(
        initiative: Annotated[
            str, Field(min_length=1, max_length=200, description="What the program is for.")
        ],
        channels: Annotated[
            list[Channel], Field(min_length=1, max_length=5, description="Channels to activate.")
        ],
        metrics: Annotated[
            list[Annotated[str, Field(max_length=200)]] | None,
            Field(max_length=50, description="KPIs the program moves, e.g. 'day-7 activation rate'."),
        ] = None,
        constraints: Annotated[
            list[Annotated[str, Field(max_length=200)]] | None,
            Field(max_length=100, description="Compliance, consent or tooling constraints, in words."),
        ] = None,
        timeline: Annotated[str | None, Field(max_length=200, description="When it should launch.")] = None,
        pattern: Annotated[
            Literal["diamond", "pipeline"] | None, Field(description="Stage pattern; default diamond.")
        ] = None,
        pattern_rationale: Annotated[
            str | None, Field(max_length=4000, description="Why this pattern, in one or two sentences.")
        ] = None,
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Create a new personalization plan at revision 1 and commit it to git.

        Call this once per initiative, at the start, after choosing the pattern: 'diamond' when
        objective intake and attribute inventory can run in parallel and converge into profiles,
        'pipeline' when each stage needs the previous one. The server fills default error handling
        (retry limit 2, ladder Personalization Architect -> Data Privacy Lead -> Exec sponsor) and
        the dependency graph the pattern implies. Keep the returned plan_id and revision: every
        later write needs them.

        Example: {"initiative": "PLG Onboarding", "channels": ["web", "in-app", "email"],
        "metrics": ["trial-to-paid conversion"], "pattern": "diamond",
        "pattern_rationale": "Intake and inventory are owned by different teams and can run in parallel."}
        """
        return rt.write(
            lambda: rt.engine.create_plan(
                initiative=initiative,
                channels=list(channels),
                metrics=metrics,
                constraints=constraints,
                timeline=timeline,
                pattern=pattern,
                pattern_rationale=pattern_rationale,
                actor=rt.actor(actor, ctx),
            )
        )

    @tool(server, "list_plans", "List plans", READ_ONLY)
    def list_plans() -> PlanList:
        """List the plans in this workspace (oldest first) with revision, initiative and sizes.

        Call it to find a plan_id when the user refers to an existing plan, and before creating a
        plan, to avoid a second plan for the same initiative. Example: {} (no arguments).
        """
        plans = rt.read(rt.engine.list_plans)
        return PlanList(
            plans=[
                PlanSummary(
                    plan_id=p.plan_id,
                    revision=p.revision,
                    initiative=p.initiative,
                    channels=list(p.channels),
                    updated_at=p.updated_at.isoformat(),
                    attributes=len(p.attributes),
                    profiles=len(p.profiles),
                    activations=len(p.activations),
                )
                for p in plans
            ]
        )

    @tool(server, "read_plan", "Read a plan", READ_ONLY, structured_output=False)
    def read_plan(
        plan_id: PlanIdArg,
        revision: Annotated[int | None, Field(ge=1, description="An older revision, read from git.")] = None,
    ) -> str:
        """Read the whole plan, or an older revision of it from git, as the plan's JSON document.

        The result is one text block holding the plan's JSON (compact: the plan file's document
        without its indentation), with plan_id and revision at the top level; its JSON Schema is
        the resource schema://plan (docs/plan.schema.json). There is no structured content: parse
        the text. Call it before writing, to see current content and the revision to pass as
        expected_revision. Example: {"plan_id":
        "plan-20261124T093000Z"} or {"plan_id": "plan-20261124T093000Z", "revision": 2}.
        """
        return rt.read(lambda: plan_text(rt.engine, plan_id, revision))

    @tool(server, "write_plan", "Replace plan sections", REPLACING)
    def write_plan(
        plan_id: PlanIdArg,
        expected_revision: RevisionArg,
        sections: PlanSections,
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Replace whole sections of a plan: header sections (initiative, channels, metrics,
        constraints, timeline, target_date, pattern, dependencies, error_handling, success-metric
        targets) and stage sections (intake, data_sources, attributes, profiles, scenarios,
        activations, governance). Sections you leave out stay as they are.

        Prefer the stage tools for stage content: they add, replace or remove single items by key.
        Use write_plan for header changes, e.g. raising a target or recording the pattern rationale.
        Server-owned fields (revision, change_log, blockers, escalations, approvals, computed
        actuals, sizing runs) are refused. Example: {"plan_id": "plan-20261124T093000Z",
        "expected_revision": 3, "sections": {"timeline": "Launch by 2027-02-01",
        "success_metrics": {"consent_integrity_pct": {"target": 100}}}}
        """
        return rt.write(
            lambda: rt.engine.apply(
                plan_id,
                "plan",
                lambda plan: apply_sections(plan, sections),
                expected_revision=expected_revision,
                actor=rt.actor(actor, ctx),
            )
        )

    @tool(server, "validate_plan", "Validate a plan", READ_ONLY, structured_output=False)
    def validate_plan(plan_id: PlanIdArg) -> str:
        """Run every check on the current plan and return all findings: each with a stable code,
        severity (error, warning, info), a JSON Pointer into the plan, the stage, and a message that
        says what would fix it. Use it in the review step before summarizing deliverables; fix
        errors with the stage tools or record a blocker.

        The result is one text block holding a JSON object, with no structured content (parse the
        text): {"plan_id", "revision", "valid" (true when no finding is an error), "counts":
        {"error", "warning", "info"}, "findings": [{"code", "severity", "pointer", "message",
        "stage"}, ...]}. Example: {"plan_id": "plan-20261124T093000Z"}
        """
        plan, findings = rt.read(lambda: rt.engine.current_findings(plan_id))
        report = ValidationReport(
            plan_id=plan.plan_id,
            revision=plan.revision,
            valid=not any(f.severity == "error" for f in findings),
            counts=counts(findings),
            findings=findings,
        )
        return report.model_dump_json(indent=2)

    @tool(server, "plan_history", "Plan history", READ_ONLY)
    def plan_history(plan_id: PlanIdArg) -> PlanHistory:
        """The audit trail of a plan from git, newest first: revision, commit SHA, time, actor,
        stage and summary of each accepted write. Example: {"plan_id": "plan-20261124T093000Z"}
        """
        entries = rt.read(lambda: rt.engine.history(plan_id))
        return PlanHistory(
            plan_id=plan_id,
            revisions=[
                HistoryItem(
                    revision=e.revision,
                    time=e.time,
                    actor=e.actor,
                    stage=e.stage,
                    summary=e.summary,
                    commit=e.commit,
                )
                for e in entries
            ],
        )

    @tool(server, "plan_diff", "Diff two revisions", READ_ONLY)
    def plan_diff(
        plan_id: PlanIdArg,
        from_revision: Annotated[int, Field(ge=1)],
        to_revision: Annotated[int, Field(ge=1)],
    ) -> PlanDiff:
        """Semantic diff between two revisions: attributes, profiles, activations and other keyed
        items added, removed or changed, field by field (not JSON lines). Use it to review schema
        changes, e.g. after an attribute's source or cadence changed. Example:
        {"plan_id": "plan-20261124T093000Z", "from_revision": 2, "to_revision": 5}
        """
        changes = rt.read(lambda: rt.engine.diff(plan_id, from_revision, to_revision))
        return PlanDiff(
            plan_id=plan_id,
            from_revision=from_revision,
            to_revision=to_revision,
            summary=[describe(c) for c in changes],
            changes=changes,
        )
