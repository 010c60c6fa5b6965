"""Run every check over a plan; the single entry point used by writes and validate."""

from __future__ import annotations

from datetime import datetime

from ..model import Plan
from ..rules import rule_findings
from .completeness import completeness_findings
from .consent import consent_findings
from .escalation import refresh_coverage_escalation
from .findings import Finding, sort_findings
from .freshness import freshness_findings
from .graph import graph_findings
from .ledger_findings import ledger_findings
from .metrics import compute_metrics, coverage_in_force, metric_findings
from .references import reference_findings
from .sizing import latest_sizing_findings
from .structure import duplicate_key_findings
from .usage import build_index, forget_profile_uses


def forget_remembered_analysis() -> None:
    """Drop what the checks and rules layers remember per profile and attribute object: benchmarks
    call it so each run measures a plan the checks have not seen (a write sees mostly unchanged items)."""
    from ..rules.findings import forget_remembered_analysis as forget_rules_analysis

    forget_rules_analysis()
    forget_profile_uses()


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
    ]


def refused_on_write(plan: Plan) -> list[Finding]:
    """Findings so structural that a write producing them is refused rather than stored."""
    return duplicate_key_findings(plan)


# Every top-level section refresh_computed may change (the engine diffs only these again after it;
# under PERSONALIZATION_ENGINE_VERIFY_WRITES each write checks that nothing else changed).
REFRESHED_SECTIONS = frozenset({"success_metrics", "escalations"})


def refresh_computed(plan: Plan, previous: Plan | None, now: datetime) -> Plan:
    """Recompute every server-owned field (metric actuals, automatic escalations) before a write.

    Called by the engine on each accepted write with the plan as it will be stored; `previous` is
    the stored revision it replaces (None on creation). Updates `plan` in place and returns it;
    running it twice with the same `previous` gives the same plan.
    """
    metrics = compute_metrics(plan)
    stored = plan.success_metrics
    stored.attribute_spec_coverage_pct.actual = metrics.attribute_spec_coverage_pct
    stored.consent_integrity_pct.actual = metrics.consent_integrity_pct
    stored.activation_readiness_pct.actual = metrics.activation_readiness_pct
    stored.activation_readiness_by_channel = dict(metrics.activation_readiness_by_channel)  # type: ignore[arg-type]
    metric, value = coverage_in_force(plan, metrics)
    target = getattr(stored, metric).target
    refresh_coverage_escalation(plan, previous, now, metric, value, target)
    return plan
