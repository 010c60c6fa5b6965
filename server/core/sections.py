"""The client-writable part of a plan (write_plan): header and stage sections, never server-owned fields."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from ..errors import InputError
from ..model import Plan
from ..model.common import Channel, ShortText, Strict
from ..model.issues import pydantic_issues
from ..model.plan import (
    ActivationLift,
    ChannelConsentPolicy,
    DependencyGraph,
    ErrorHandling,
    Pattern,
    Regime,
    SignalFramework,
)
from ..model.stages import Activation, Attribute, DataSource, Governance, Intake, Profile, Scenario
from .stage_ops import keep_confirmations, refuse_confirmations

SERVER_OWNED = {
    "schema_version": "set by the server",
    "plan_id": "fixed when the plan is created",
    "revision": "incremented by every accepted write",
    "created_at": "set when the plan is created",
    "updated_at": "set by every accepted write",
    "change_log": "appended by every accepted write",
    "blockers": "use record_blocker / resolve_blocker",
    "escalations": "computed from blockers and checks",
    "approvals": "use record_approval",
    "sizing_runs": "use size_audiences",
    "qa_results": "use record_qa_result",
    "exports": "use export_activation",
    "lift_measurements": "use measure_lift",
    "impact_runs": "use record_impact",
    "final": "use finalize_plan",
}
COMPUTED_METRIC_FIELDS = {"actual", "activation_readiness_by_channel"}


def _refuse_server_owned(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        return
    for name, reason in SERVER_OWNED.items():
        if name in value:
            raise ValueError(f"{where}{name} is server-owned ({reason}); remove it from the request")


class MetricTargetInput(Strict):
    target: float = Field(ge=0, le=100, description="Target in percent.")

    @model_validator(mode="before")
    @classmethod
    def _no_actual(cls, value: Any) -> Any:
        if isinstance(value, dict) and "actual" in value:
            raise ValueError("actual is server-owned (computed by the checks); set only target")
        return value


class ActivationLiftInput(ActivationLift):
    """The lift target as written: the share is bounded to (0, 0.5] (older plans may hold more)."""

    holdout_share: float = Field(
        gt=0, le=0.5, description="Share of each profile held out, in (0, 0.5]; a profile may override it."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_actual(cls, value: Any) -> Any:
        if isinstance(value, dict) and "actual" in value:
            raise ValueError("actual is server-owned (computed from the latest lift readout); remove it")
        return value


class SuccessMetricTargets(Strict):
    attribute_spec_coverage_pct: MetricTargetInput | None = None
    attribute_data_coverage_pct: MetricTargetInput | None = None
    consent_integrity_pct: MetricTargetInput | None = None
    activation_readiness_pct: MetricTargetInput | None = None
    activation_lift: ActivationLiftInput | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_computed(cls, value: Any) -> Any:
        if isinstance(value, dict) and "activation_readiness_by_channel" in value:
            raise ValueError("activation_readiness_by_channel is server-owned (computed by the checks)")
        return value


class PlanSections(Strict):
    """Sections to replace; any section left out is unchanged."""

    initiative: ShortText | None = None
    channels: Annotated[tuple[Channel, ...], Field(min_length=1, max_length=5)] | None = None
    metrics: Annotated[tuple[ShortText, ...], Field(max_length=50)] | None = None
    constraints: Annotated[tuple[ShortText, ...], Field(max_length=100)] | None = None
    timeline: ShortText | None = None
    target_date: date | None = None
    pattern: Pattern | None = None
    dependencies: DependencyGraph | None = None
    error_handling: ErrorHandling | None = None
    success_metrics: SuccessMetricTargets | None = None
    consent_policy: dict[Channel, ChannelConsentPolicy] | None = Field(
        None, description="Per-channel tightening of the default consent policy (docs/consent.md)."
    )
    consent_regimes: Annotated[tuple[Regime, ...], Field(max_length=3)] | None = None
    consent_signals: Annotated[tuple[SignalFramework, ...], Field(max_length=2)] | None = None
    intake: Intake | None = None
    data_sources: Annotated[tuple[DataSource, ...], Field(max_length=500)] | None = None
    attributes: Annotated[tuple[Attribute, ...], Field(max_length=20_000)] | None = None
    profiles: Annotated[tuple[Profile, ...], Field(max_length=2000)] | None = None
    scenarios: Annotated[tuple[Scenario, ...], Field(max_length=2000)] | None = None
    activations: Annotated[tuple[Activation, ...], Field(max_length=10_000)] | None = None
    governance: Governance | None = None

    @model_validator(mode="before")
    @classmethod
    def _server_owned(cls, value: Any) -> Any:
        _refuse_server_owned(value, "")
        return value


def parse_sections(data: object) -> PlanSections:
    """write_plan's sections, validated against the plan's models; errors name the JSON Pointer
    (under /sections) that is wrong and what is allowed."""
    if not isinstance(data, dict):
        raise InputError(f"expected an object of plan sections, got {type(data).__name__}", field="sections")
    refuse_confirmations(data, "/sections")
    try:
        return PlanSections.model_validate(data)
    except ValidationError as exc:
        issues = pydantic_issues(exc, data)
        raise InputError(
            "; ".join(f"/sections{i.pointer}: {i.message}" for i in issues[:10]), field="sections"
        ) from None


def apply_sections(plan: Plan, sections: PlanSections) -> Plan:
    update: dict[str, Any] = {}
    for name in sections.model_fields_set:
        value = getattr(sections, name)
        if name == "success_metrics":
            update[name] = _with_targets(plan, value)
        elif name == "attributes" and value is not None:
            update[name] = keep_confirmations(plan.attributes, value)
        elif value is not None or name in {"timeline", "target_date"}:
            update[name] = value
    return plan.model_copy(update=update) if update else plan


def _with_targets(plan: Plan, targets: SuccessMetricTargets | None):  # -> SuccessMetrics
    metrics = plan.success_metrics
    if targets is None:
        return metrics
    update: dict[str, Any] = {}
    for name in targets.model_fields_set:
        value = getattr(targets, name)
        if name == "activation_lift":
            # The readout's actual survives a rewrite of the target; it is recomputed by measure_lift.
            actual = metrics.activation_lift.actual if metrics.activation_lift else None
            update[name] = (
                None
                if value is None
                else ActivationLift.model_validate({**value.model_dump(), "actual": actual})
            )
        elif value is not None:
            update[name] = getattr(metrics, name).model_copy(update={"target": value.target})
    return metrics.model_copy(update=update)
