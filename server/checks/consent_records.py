"""Findings about the consent record itself: grants without evidence or without a confirming person,
and constraints that name a consent regime or signal framework the plan does not apply.

Evidence and confirmation are reported only for the grants an activation relies on (the grant of
the channel's purpose, or of a purpose its policy requires, on an attribute the activation uses), so a
large inventory with grants nobody uses yet does not flood the review.
"""

from __future__ import annotations

from ..model import Plan
from ..model.evidence import KINDS_FOR_BASIS
from ..model.findings import Finding
from .consent_presets import REGIMES, presets_named

# (attribute index, grant index) of the grants that activations rely on.
ReliedOn = set[tuple[int, int]]


def grant_record_findings(plan: Plan, relied_on: ReliedOn) -> list[Finding]:
    findings = []
    for a, k in sorted(relied_on):
        attribute = plan.attributes[a]
        grant = attribute.consent[k]
        what = f"the {grant.purpose} grant ({grant.lawful_basis}) of {attribute.name!r}"
        pointer = f"/attributes/{a}/consent/{k}"
        if grant.evidence is None:
            findings.append(
                Finding(
                    code="consent.evidence_missing",
                    severity="warning",
                    pointer=pointer,
                    message=f"{what} has no evidence; add evidence of kind "
                    f"{' or '.join(KINDS_FOR_BASIS[grant.lawful_basis])} (docs/consent.md)",
                    stage="attributes",
                )
            )
        if grant.confirmed_by is None:
            findings.append(
                Finding(
                    code="consent.unconfirmed",
                    severity="warning",
                    pointer=pointer,
                    message=f"no person confirmed {what}; the person who can vouch for it confirms with "
                    f"`personalization-engine plans confirm-consent {plan.plan_id} --attribute "
                    f"{attribute.name} --purpose {grant.purpose}`",
                    stage="attributes",
                )
            )
    return findings


def regime_findings(plan: Plan) -> list[Finding]:
    """A constraint that names a regime or framework whose preset the plan does not apply."""
    applied = set(plan.consent_regimes) | set(plan.consent_signals)
    findings = []
    for k, text in enumerate(plan.constraints):
        for preset, words in presets_named(text):
            if preset in applied:
                continue
            legal = preset in REGIMES
            field = "consent_regimes" if legal else "consent_signals"
            findings.append(
                Finding(
                    code="consent.regime_not_applied",
                    severity="error" if legal else "warning",
                    pointer=f"/constraints/{k}",
                    message=f"the constraint names {words!r}, but {field} does not include {preset!r}, so "
                    f"the consent policy does not follow it; add {preset!r} to {field} (write_plan)",
                    stage="plan",
                )
            )
    return findings
