"""Findings about the holdout comparison before launch (docs/findings.md, docs/audience.md "Power
before launch"), and each profile's minimum detectable effect (MDE), which the report shows.

The MDE needs the profile's treatment and holdout sizes, from the latest sizing run (its measured
split, else its winners split by the share), and a baseline KPI rate: activation_lift.baseline_rate,
else the profile's holdout rate in the latest lift readout.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Plan
from ..model.findings import Finding
from ..model.plan import ActivationLift
from ..model.sizing import ProfileSize
from ..rules.holdout import MAX_SHARE
from ..stats.power import Mde, minimum_detectable_effect

LIFT_FINDING_CODES: dict[str, str] = {
    "lift.holdout_share_too_large": "The plan-level holdout share is above 0.5 (stored before format 1.4).",
    "lift.underpowered": "The lift target is below a profile's minimum detectable effect.",
    "lift.baseline_unknown": "No baseline rate and no lift readout to measure one from, so no MDE.",
}
_SHARE_POINTER = "/success_metrics/activation_lift/holdout_share"


@dataclass(frozen=True)
class ProfilePower:
    """One holdout profile's power before launch; mde is None without a baseline or an empty arm."""

    profile_id: str
    share: float
    n_treatment: float
    n_holdout: float
    baseline: float | None
    baseline_source: str | None  # "baseline_rate" or "lift readout <id>"
    mde: Mde | None


def holdout_shares(plan: Plan) -> dict[str, float]:
    """Each profile's effective share, leaving out profiles that would inherit a plan-level share
    above 0.5 (lift.holdout_share_too_large reports it; nothing is computed with it)."""
    lift = plan.success_metrics.activation_lift
    plan_share = lift.holdout_share if lift is not None and lift.holdout_share <= MAX_SHARE else None
    shares = {p.id: p.holdout_share if p.holdout_share is not None else plan_share for p in plan.profiles}
    return {pid: share for pid, share in shares.items() if share is not None}


def _arms(size: ProfileSize, share: float) -> tuple[float, float]:
    if size.treatment is not None and size.holdout is not None:
        return float(size.treatment), float(size.holdout)
    return size.winner * (1 - share), size.winner * share


def _baseline(plan: Plan, lift: ActivationLift, profile_id: str) -> tuple[float | None, str | None]:
    if lift.baseline_rate is not None:
        return lift.baseline_rate, "baseline_rate"
    for readout in reversed(plan.lift_measurements):
        for measured in readout.profiles:
            # Readouts store rates in percent; the MDE takes a rate in (0, 1).
            rate = None if measured.holdout_rate is None else measured.holdout_rate / 100
            if measured.profile_id == profile_id and rate is not None and 0 < rate < 1:
                return rate, f"lift readout {readout.id}"
    return None, None


def plan_power(plan: Plan) -> list[ProfilePower]:
    """The MDE of every holdout profile the latest sizing run measured, in profile order."""
    lift = plan.success_metrics.activation_lift
    if lift is None or not plan.sizing_runs:
        return []
    sizes = {s.profile_id: s for s in plan.sizing_runs[-1].profiles}
    shares = holdout_shares(plan)
    powers = []
    for profile in plan.profiles:
        size, share = sizes.get(profile.id), shares.get(profile.id)
        if size is None or share is None:
            continue
        n_treatment, n_holdout = _arms(size, share)
        baseline, source = _baseline(plan, lift, profile.id)
        mde = None
        if baseline is not None and n_treatment > 0 and n_holdout > 0:
            mde = minimum_detectable_effect(n_treatment, n_holdout, baseline)
        powers.append(ProfilePower(profile.id, share, n_treatment, n_holdout, baseline, source, mde))
    return powers


def lift_findings(plan: Plan) -> list[Finding]:
    lift = plan.success_metrics.activation_lift
    if lift is None:
        return []
    findings = []
    if lift.holdout_share > MAX_SHARE:
        findings.append(
            Finding(
                code="lift.holdout_share_too_large",
                severity="error",
                pointer=_SHARE_POINTER,
                message=f"holdout_share {lift.holdout_share:g} is above {MAX_SHARE}: hold out at most half "
                "of each profile, so the treatment stays the majority (set a share in (0, 0.5], or one "
                "on each profile); no holdout is assigned or sized with it",
                stage="plan",
            )
        )
    powers = plan_power(plan)
    index = {p.id: i for i, p in enumerate(plan.profiles)}
    for power in powers:
        if power.mde is not None and abs(lift.target_pct) < power.mde.relative_pct:
            findings.append(_underpowered(lift, power, index[power.profile_id]))
    unknown = [p.profile_id for p in powers if p.baseline is None]
    if unknown:
        findings.append(
            Finding(
                code="lift.baseline_unknown",
                severity="info",
                pointer="/success_metrics/activation_lift/baseline_rate",
                message=f"no baseline_rate and no lift readout to measure one from, so the minimum "
                f"detectable effect of {', '.join(unknown)} is unknown: set activation_lift.baseline_rate "
                f"(the rate of the KPI, {lift.kpi}, without personalization)",
                stage="plan",
            )
        )
    return findings


def _underpowered(lift: ActivationLift, power: ProfilePower, index: int) -> Finding:
    assert power.mde is not None and power.baseline is not None
    return Finding(
        code="lift.underpowered",
        severity="warning",
        pointer=f"/profiles/{index}",
        message=f"profile {power.profile_id}: the lift target {lift.target_pct:g}% is below its minimum "
        f"detectable effect {power.mde.relative_pct:.1f}% (relative; {100 * power.mde.absolute:.2f} "
        f"points on a {100 * power.baseline:.2f}% baseline from {power.baseline_source}, "
        f"{power.n_treatment:.0f} treatment against {power.n_holdout:.0f} held out, 80% power, "
        "alpha 0.05): a larger audience or holdout share, or a larger target, is needed to detect it",
        stage="profiles",
    )
