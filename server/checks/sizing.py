"""Findings from the latest audience sizing run: what measuring the real data showed.

The audience layer measures; these findings read its stored run, so validate_plan and the rendered
deliverables report them too, not only the size_audiences result.
"""

from __future__ import annotations

from datetime import timezone

from ..model import Plan
from ..model.findings import Finding
from ..model.plan import SizingRun

AUDIENCE_FINDING_CODES: dict[str, str] = {
    "audience.column_missing": "An inventoried attribute has no column in the data (sized as all null).",
    "audience.required_sparse": "A required attribute is populated in fewer rows than the coverage target.",
    "audience.stale_data": "The newest value of a timestamp attribute is older than its freshness SLA.",
    "audience.future_values": "A timestamp attribute with a freshness SLA holds values in the future, so "
    "it records plans rather than arrivals and its freshness is not measured.",
    "audience.gate_unmapped": "A consent gate signal names no boolean attribute; it is not checkable.",
    "audience.profile_empty": "A profile has no members in the sized data.",
}


def latest_sizing_findings(plan: Plan) -> list[Finding]:
    return sizing_findings(plan, plan.sizing_runs[-1]) if plan.sizing_runs else []


def _coverage_findings(run: SizingRun, where: dict[str, int], target: float | None) -> list[Finding]:
    """Attributes with no column in the data, and required attributes populated below the target."""
    findings = []
    for c in run.coverage:
        if c.name not in where:
            continue
        pointer = f"/attributes/{where[c.name]}"
        if not c.column_present:
            findings.append(
                Finding(
                    code="audience.column_missing",
                    severity="warning",
                    pointer=pointer,
                    message=f"attribute {c.name} has no column in {run.source.location}; it was sized as "
                    "all null (coverage 0%): add the column or correct the attribute's name",
                    stage="attributes",
                )
            )
        elif c.required and target is not None and c.coverage_pct < target:
            findings.append(
                Finding(
                    code="audience.required_sparse",
                    severity="warning",
                    pointer=pointer,
                    message=f"required attribute {c.name} is populated in {c.coverage_pct:g}% of "
                    f"{run.row_count} rows, below the {target:g}% data coverage target",
                    stage="attributes",
                )
            )
    return findings


def _freshness_findings(run: SizingRun, where: dict[str, int]) -> list[Finding]:
    """Timestamps holding future values (so unmeasured), and timestamps older than their SLA."""
    findings = []
    for f in run.freshness:
        if f.name in where and f.future_values:
            findings.append(
                Finding(
                    code="audience.future_values",
                    severity="warning",
                    pointer=f"/attributes/{where[f.name]}/freshness_sla",
                    message=f"{f.future_values} values of {f.name} in {run.source.location} are later "
                    f"than {run.evaluated_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC (beyond 5 minutes "
                    f"of clock skew), so {f.name} "
                    "records planned times, not when data arrived, and its freshness was not measured; "
                    "check its source's freshness on a column stamped on arrival (such as updated_at)",
                    stage="attributes",
                )
            )
        elif not f.within_sla and f.name in where:
            age = "has no values" if f.lag_seconds is None else f"is {f.lag_seconds / 3600:.1f}h old"
            findings.append(
                Finding(
                    code="audience.stale_data",
                    severity="warning",
                    pointer=f"/attributes/{where[f.name]}/freshness_sla",
                    message=f"the newest {f.name} in {run.source.location} {age} at "
                    f"{run.evaluated_at.isoformat()}, beyond its freshness SLA of {f.freshness_sla}",
                    stage="attributes",
                )
            )
    return findings


def _unmapped_gate_findings(plan: Plan, run: SizingRun) -> list[Finding]:
    """Consent gates whose signal names no boolean attribute, so their activatable size is unknown."""
    activation_index = {(a.profile_id, a.channel): i for i, a in enumerate(plan.activations)}
    findings = []
    for a in run.activations:
        i = activation_index.get((a.profile_id, a.channel))
        for gate in a.unmapped_gates if i is not None else []:
            findings.append(
                Finding(
                    code="audience.gate_unmapped",
                    severity="warning",
                    pointer=f"/activations/{i}/consent_gate",
                    message=f"consent gate {gate!r} of {a.profile_id}/{a.channel} names no boolean "
                    "attribute, so its activatable audience is unknown; inventory the consent signal as "
                    "a boolean attribute and name it in the gate",
                    stage="activation",
                )
            )
    return findings


def _empty_profile_findings(plan: Plan, run: SizingRun) -> list[Finding]:
    profile_index = {p.id: i for i, p in enumerate(plan.profiles)}
    return [
        Finding(
            code="audience.profile_empty",
            severity="info",
            pointer=f"/profiles/{profile_index[p.profile_id]}",
            message=f"profile {p.profile_id} has no members among {run.row_count} rows "
            f"({p.eligible} eligible, {p.removed_by_suppression} removed by suppression)",
            stage="profiles",
        )
        for p in run.profiles
        if p.net == 0 and p.profile_id in profile_index
    ]


def sizing_findings(plan: Plan, run: SizingRun) -> list[Finding]:
    """What the run shows about the data; pointers lead into the plan, not into the run.

    The run may predate later edits, so names no longer in the plan are skipped.
    """
    where = {a.name: i for i, a in enumerate(plan.attributes)}
    target = plan.success_metrics.attribute_data_coverage_pct.target
    return (
        _coverage_findings(run, where, target)
        + _freshness_findings(run, where)
        + _unmapped_gate_findings(plan, run)
        + _empty_profile_findings(plan, run)
    )
