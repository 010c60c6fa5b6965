"""Computed success metrics. The model never types these in; every write recomputes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Plan
from ..model.findings import Finding
from .consent import consent_findings
from .usage import PlanIndex, build_index

SPEC_FIELDS = ("source_id", "type", "refresh_cadence", "freshness_sla", "consent")
METRIC_NAMES = (
    "attribute_spec_coverage_pct",
    "attribute_data_coverage_pct",
    "consent_integrity_pct",
    "activation_readiness_pct",
)
# Stored actuals are rounded; a difference below this is rounding, not a stale value.
TOLERANCE = 0.01


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2)


@dataclass(frozen=True)
class Metrics:
    attribute_spec_coverage_pct: float | None
    consent_integrity_pct: float | None
    activation_readiness_pct: float | None
    activation_readiness_by_channel: dict[str, float] = field(default_factory=dict)


def spec_coverage(index: PlanIndex) -> float | None:
    """Share of attributes referenced by profiles and activations that are fully specified.

    A referenced name missing from the inventory counts as unspecified. None: nothing referenced yet.
    """
    referenced = index.referenced_attribute_names()
    if not referenced:
        return None
    sources = {s.id for s in index.plan.data_sources}
    specified = 0
    for name in referenced:
        found = index.attributes.get(name)
        if found is None:
            continue
        attribute = found[1]
        if all(getattr(attribute, f) for f in SPEC_FIELDS) and attribute.source_id in sources:
            specified += 1
    return percent(specified, len(referenced))


def is_ready(plan: Plan, i: int) -> bool:
    a = plan.activations[i]
    return bool(a.destination and a.sync_mode and a.match_keys and a.fallback_state)


def compute_metrics(plan: Plan, index: PlanIndex | None = None, failing: set[int] | None = None) -> Metrics:
    """Every computed metric. `index` and the failing-consent set are reused when the caller has them."""
    index = index or build_index(plan)
    if failing is None:
        failing = consent_findings(index).failing_activations
    activations = plan.activations
    integrity = percent(len(activations) - len(failing), len(activations)) if activations else None
    by_channel: dict[str, float] = {}
    ready_total = counted = 0
    for channel in plan.channels:
        mine = [i for i, a in enumerate(activations) if a.channel == channel]
        ready = sum(1 for i in mine if is_ready(plan, i))
        if mine:  # a channel without activations has no readiness; ref.channel_without_activation says so
            by_channel[channel] = percent(ready, len(mine))
        ready_total += ready
        counted += len(mine)
    return Metrics(
        attribute_spec_coverage_pct=spec_coverage(index),
        consent_integrity_pct=integrity,
        activation_readiness_pct=percent(ready_total, counted) if counted else None,
        activation_readiness_by_channel=by_channel,
    )


def coverage_in_force(plan: Plan, metrics: Metrics) -> tuple[str, float | None]:
    """The coverage escalation watches: measured data coverage once a sizing run filled it, else spec."""
    measured = plan.success_metrics.attribute_data_coverage_pct.actual
    if measured is not None:
        return "attribute_data_coverage_pct", measured
    return "attribute_spec_coverage_pct", metrics.attribute_spec_coverage_pct


def metric_findings(plan: Plan, metrics: Metrics) -> list[Finding]:
    stored = plan.success_metrics
    computed = {
        "attribute_spec_coverage_pct": metrics.attribute_spec_coverage_pct,
        "attribute_data_coverage_pct": stored.attribute_data_coverage_pct.actual,
        "consent_integrity_pct": metrics.consent_integrity_pct,
        "activation_readiness_pct": metrics.activation_readiness_pct,
    }
    findings = []
    for name in METRIC_NAMES:
        metric = getattr(stored, name)
        actual = computed[name]
        pointer = f"/success_metrics/{name}/actual"
        if metric.actual is not None and (actual is None or abs(metric.actual - actual) > TOLERANCE):
            findings.append(
                Finding(
                    code="metric.actual_mismatch",
                    severity="warning",
                    pointer=pointer,
                    message=f"{name} is stored as {metric.actual:g} but computes to "
                    f"{'nothing yet' if actual is None else f'{actual:g}'}; actuals are server-owned, so "
                    "write the plan through the server to recompute them",
                    stage="plan",
                )
            )
        if actual is not None and metric.target is not None and actual < metric.target:
            findings.append(
                Finding(
                    code="metric.below_target",
                    severity="warning",
                    pointer=pointer,
                    message=f"{name} is {actual:g}%, below its target of {metric.target:g}%; "
                    f"{_how_to_raise(name)}",
                    stage=_METRIC_STAGE[name],
                )
            )
    target = stored.activation_readiness_pct.target
    if target is not None:
        findings += [
            Finding(
                code="metric.channel_below_target",
                severity="warning",
                pointer=f"/success_metrics/activation_readiness_by_channel/{channel}",
                message=f"{channel} activation readiness is {value:g}%, below the {target:g}% target; give "
                "each of its activations a destination, sync mode, match keys and fallback state",
                stage="activation",
            )
            for channel, value in metrics.activation_readiness_by_channel.items()
            if value < target
        ]
    return findings


_METRIC_STAGE = {
    "attribute_spec_coverage_pct": "attributes",
    "attribute_data_coverage_pct": "attributes",
    "consent_integrity_pct": "activation",
    "activation_readiness_pct": "activation",
}


def _how_to_raise(name: str) -> str:
    return {
        "attribute_spec_coverage_pct": "give every attribute that profiles and activations use a source, "
        "type, refresh cadence, freshness SLA and consent rule",
        "attribute_data_coverage_pct": "fill the missing values at the source or stop relying on sparse "
        "attributes",
        "consent_integrity_pct": "fix the consent findings on the activations",
        "activation_readiness_pct": "give every activation a destination, sync mode, match keys and "
        "fallback state",
    }[name]
