"""Run every check over a plan; the single entry point used by writes and validate."""

from __future__ import annotations

from datetime import datetime

from ..model import Plan
from ..model.findings import Finding, sort_findings
from ..rules import rule_findings
from .completeness import completeness_findings
from .consent import consent_findings
from .escalation import refresh_coverage_escalation
from .exports import export_findings
from .final_findings import final_findings
from .freshness import freshness_findings
from .graph import graph_findings
from .ledger_findings import ledger_findings
from .lift import lift_findings
from .metrics import compute_metrics, coverage_in_force, metric_findings
from .qa_findings import qa_findings
from .references import reference_findings
from .sizing import latest_sizing_findings
from .structure import duplicate_key_findings
from .usage import build_index


def run_checks(plan: Plan) -> list[Finding]:
    """Every finding on a plan, sorted. Deterministic: time-dependent checks use plan.updated_at."""
    # Rule trees: unknown or mistyped attributes, never/always matching rules, overlaps, scenarios.
    return sort_findings(check_findings(plan) + rule_findings(plan, plan.updated_at))


def check_findings(plan: Plan) -> list[Finding]:
    """The checks layer's own findings, unsorted, without the rules layer's."""
    index = build_index(plan)
    consent = consent_findings(index)
    metrics = compute_metrics(plan, index, consent.failing_activations)
    return [
        *duplicate_key_findings(plan),
        *reference_findings(index),
        *completeness_findings(index),
        *consent.findings,
        *freshness_findings(index),
        *graph_findings(index),
        *metric_findings(plan, metrics),
        *ledger_findings(plan),
        *latest_sizing_findings(plan),
        *lift_findings(plan),
        *qa_findings(plan),
        *export_findings(plan),
        *final_findings(plan),
    ]


def refused_on_write(plan: Plan) -> list[Finding]:
    """Findings so structural that a write producing them is refused rather than stored."""
    return duplicate_key_findings(plan)


def refresh_computed(plan: Plan, previous: Plan | None, now: datetime) -> Plan:
    """The plan with every server-owned field recomputed (metric actuals, automatic escalations).

    Called by the write pipeline on each accepted write with the plan as it will be stored;
    `previous` is the stored revision it replaces (None on creation). Running it twice with the
    same `previous` gives the same plan.
    """
    metrics = compute_metrics(plan)
    stored = plan.success_metrics

    def with_actual(name: str, actual: float | None):  # -> MetricTarget
        return getattr(stored, name).model_copy(update={"actual": actual})

    refreshed = stored.model_copy(
        update={
            "attribute_spec_coverage_pct": with_actual(
                "attribute_spec_coverage_pct", metrics.attribute_spec_coverage_pct
            ),
            "consent_integrity_pct": with_actual("consent_integrity_pct", metrics.consent_integrity_pct),
            "activation_readiness_pct": with_actual(
                "activation_readiness_pct", metrics.activation_readiness_pct
            ),
            "activation_readiness_by_channel": dict(metrics.activation_readiness_by_channel),
        }
    )
    if refreshed != stored:
        plan = plan.model_copy(update={"success_metrics": refreshed})
    if any(s.as_of is None for s in plan.scenarios):
        # A scenario is evaluated at its own time, so its relative windows never rot: one that
        # arrives without as_of gets the write's time.
        dated = tuple(s if s.as_of else s.model_copy(update={"as_of": now}) for s in plan.scenarios)
        plan = plan.model_copy(update={"scenarios": dated})
    metric, value = coverage_in_force(plan, metrics)
    target = getattr(plan.success_metrics, metric).target
    return refresh_coverage_escalation(plan, previous, now, metric, value, target)
