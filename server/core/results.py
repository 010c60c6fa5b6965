"""What the operations answer, as the MCP tools and the CLI's --json both show it.

The models are kept small on purpose: each is an output schema the model reads in every session.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, Field

from ..checks.exports import cutoffs_at
from ..model import ChangeItem, Plan
from ..model.common import without_titles
from ..model.diff import describe
from ..model.findings import Finding
from ..model.impact import Impact
from .engine import Engine, HistoryEntry
from .impact_op import DataOptions, measure_change
from .pipeline import WriteResult


class Result(BaseModel):
    model_config = ConfigDict(json_schema_extra=without_titles)


class FindingCounts(Result):
    error: int = 0
    warning: int = 0
    info: int = 0


class WriteOutcome(Result):
    """What every write returns."""

    plan_id: str
    revision: int = Field(description="The revision after the call.")
    commit: str | None = Field(description="Null when nothing changed.")
    written: bool
    summary: str
    changes: list[str]
    findings: FindingCounts = Field(description="All open findings after the write.")
    new_findings: list[Finding]
    resolved_findings: list[Finding]


def counts(findings: list[Finding]) -> FindingCounts:
    tally = Counter(finding.severity for finding in findings)
    return FindingCounts(error=tally["error"], warning=tally["warning"], info=tally["info"])


def answer(result: WriteResult) -> dict:
    """A write's outcome as the JSON object the write tools return (their output schema is a plain
    object: the shape is documented once, in the server instructions and docs/tools.md)."""
    return outcome(result).model_dump(mode="json")


def outcome(result: WriteResult) -> WriteOutcome:
    return WriteOutcome(
        plan_id=result.plan_id,
        revision=result.revision,
        commit=result.commit,
        written=result.written,
        summary=result.summary,
        changes=[describe(c) for c in result.changes],
        findings=counts(result.findings),
        new_findings=result.new_findings,
        resolved_findings=result.resolved_findings,
    )


class PlanSummary(Result):
    plan_id: str
    revision: int
    initiative: str
    channels: list[str]
    updated_at: str
    attributes: int
    profiles: int
    activations: int


class PlanList(Result):
    plans: list[PlanSummary]


class HistoryItem(Result):
    revision: int | None
    time: str
    actor: str
    stage: str
    summary: str
    commit: str


class PlanHistory(Result):
    plan_id: str
    revisions: list[HistoryItem] = Field(description="Newest first.")


class PlanDiff(Result):
    plan_id: str
    from_revision: int
    to_revision: int
    summary: list[str]
    changes: list[ChangeItem]
    impact: Impact | None = Field(None, description="With data: the records that move (docs/impact.md).")


class ValidationReport(Result):
    plan_id: str
    revision: int
    valid: bool = Field(description="True when no finding is an error.")
    counts: FindingCounts
    findings: list[Finding]


def plan_list(engine: Engine) -> PlanList:
    return PlanList(plans=[summary_of(p) for p in engine.list_plans()])


def summary_of(plan: Plan) -> PlanSummary:
    return PlanSummary(
        plan_id=plan.plan_id,
        revision=plan.revision,
        initiative=plan.initiative,
        channels=list(plan.channels),
        updated_at=plan.updated_at.isoformat(),
        attributes=len(plan.attributes),
        profiles=len(plan.profiles),
        activations=len(plan.activations),
    )


def plan_history(engine: Engine, plan_id: str) -> PlanHistory:
    return PlanHistory(plan_id=plan_id, revisions=[history_item(e) for e in engine.history(plan_id)])


def history_item(entry: HistoryEntry) -> HistoryItem:
    return HistoryItem(
        revision=entry.revision,
        time=entry.time,
        actor=entry.actor,
        stage=entry.stage,
        summary=entry.summary,
        commit=entry.commit,
    )


def plan_diff(
    engine: Engine, plan_id: str, from_revision: int, to_revision: int, data: DataOptions | None = None
) -> PlanDiff:
    """The field diff; with data, also the data impact of the change (read-only either way)."""
    impact = None
    if data is not None and data.given:
        changes, impact = measure_change(engine, plan_id, from_revision, to_revision, data)
    else:
        changes = engine.diff(plan_id, from_revision, to_revision)
    return PlanDiff(
        plan_id=plan_id,
        from_revision=from_revision,
        to_revision=to_revision,
        summary=[describe(c) for c in changes],
        changes=changes,
        impact=impact,
    )


def validation_report(engine: Engine, plan_id: str) -> ValidationReport:
    plan, findings = engine.current_findings(plan_id)
    # A frozen window ages whether or not the plan is written: measured at the evaluation time.
    findings = cutoffs_at(plan, findings, engine.clock())
    return ValidationReport(
        plan_id=plan.plan_id,
        revision=plan.revision,
        valid=not any(f.severity == "error" for f in findings),
        counts=counts(findings),
        findings=findings,
    )


def plan_text(engine: Engine, plan_id: str, revision: int | None) -> str:
    """The plan as compact JSON: the plan file's document without its indentation."""
    return engine.read_plan(plan_id, revision).model_dump_json(by_alias=True)
