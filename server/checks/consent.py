"""Consent integrity: every attribute an activation uses must allow the channel's purpose.

Suppression attributes are not checked against the purpose: they only remove people (an
unsubscribe flag must be usable to stop contact without marketing consent).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Attribute
from ..model.findings import Finding
from .consent_policy import (
    EffectivePolicy,
    effective_policy,
    gate_satisfied,
    normalized_signals,
)
from .consent_records import ReliedOn, grant_record_findings, regime_findings
from .usage import PlanIndex, name_list, unique_names

PII_CLASSES = ("direct", "sensitive", "special_category")
# GDPR Art. 9 special categories and CPRA sensitive personal information: never targeted on, and
# under cpra used only on consent.
SPECIAL_CLASSES = ("sensitive", "special_category")


@dataclass
class ConsentResult:
    findings: list[Finding] = field(default_factory=list)
    # Indexes of activations with at least one consent finding, for consent_integrity_pct.
    failing_activations: set[int] = field(default_factory=set)
    relied_on: ReliedOn = field(default_factory=set)


def either(options: tuple[str, ...]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return " or ".join(options) if len(options) < 3 else f"{', '.join(options[:-1])} or {options[-1]}"


class _Grants:
    """Answers "does this attribute grant purpose P on one of these bases?", once per question.

    Activations share attributes and channels, so the same question comes up thousands of times.
    """

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str, tuple[str, ...]], bool] = {}

    def allows(self, attribute: Attribute, purpose: str, bases: tuple[str, ...]) -> bool:
        key = (attribute.name, purpose, bases)
        answer = self._answers.get(key)
        if answer is None:
            answer = any(g.purpose == purpose and g.lawful_basis in bases for g in attribute.consent)
            self._answers[key] = answer
        return answer


def _why_not(attribute: Attribute, purpose: str) -> str:
    if not attribute.consent:
        return f"{attribute.name} (no consent rule)"
    same = [g.lawful_basis for g in attribute.consent if g.purpose == purpose]
    if same:
        return f"{attribute.name} ({purpose} on {'/'.join(same)})"
    return f"{attribute.name} (no {purpose} grant)"


def consent_findings(index: PlanIndex) -> ConsentResult:
    plan = index.plan
    result = ConsentResult()
    policies: dict[str, EffectivePolicy] = {}
    for channel in sorted(plan.consent_policy):
        policy = policies[channel] = effective_policy(plan, channel)
        for k, basis in policy.loosened:
            result.findings.append(
                Finding(
                    code="consent.policy_loosens",
                    severity="error",
                    pointer=f"/consent_policy/{channel}/accepted_bases/{k}",
                    message=f"the {channel} consent policy adds lawful basis {basis!r}, which the default "
                    f"policy does not accept for {policy.purpose}; a plan may only tighten the policy, so "
                    "it is ignored. Remove it",
                    stage="plan",
                )
            )
    _special_category(index, result)
    grants = _Grants()
    for i, activation in enumerate(plan.activations):
        policy = policies.get(activation.channel) or effective_policy(plan, activation.channel)
        policies[activation.channel] = policy
        before = len(result.findings)
        _activation(index, i, policy, grants, result)
        if len(result.findings) > before:
            result.failing_activations.add(i)
    # Warnings about the record, added after the loop so they never count an activation as failing.
    result.findings += regime_findings(plan) + grant_record_findings(plan, result.relied_on)
    return result


def _activation(
    index: PlanIndex, i: int, policy: EffectivePolicy, grants: _Grants, result: ConsentResult
) -> None:
    activation = index.plan.activations[i]
    key = f"{activation.profile_id}/{activation.channel}"
    found = index.profile_of(activation)
    profiling = found is not None and found[1].scoring is not None
    bases = policy.profiling_bases if profiling else policy.bases
    used = [index.attributes[n] for n in unique_names(index.activation_uses(i)) if n in index.attributes]
    attributes = [a for _, a in used]
    needed = {policy.purpose, *policy.required_purposes}
    result.relied_on.update(
        (a, k) for a, attr in used for k, g in enumerate(attr.consent) if g.purpose in needed
    )

    lacking = _lacking(attributes, policy, bases, grants)
    if lacking:
        scored = " (the profile scores people, so this is profiling)" if profiling else ""
        result.findings.append(
            Finding(
                code="consent.purpose_not_granted",
                severity="error",
                pointer=f"/activations/{i}",
                message=f"activation {key} uses attributes that do not allow {policy.purpose} on an "
                f"accepted basis ({either(bases) or 'none left by the plan policy'}){scored}: "
                f"{name_list(lacking)}; add a consent grant for {policy.purpose} with an accepted basis, "
                "or stop using them",
                stage="activation",
            )
        )
    for purpose in policy.required_purposes:
        accepted = policy.purpose_bases[purpose]
        missing = [a.name for a in attributes if not grants.allows(a, purpose, accepted)]
        if missing:
            result.findings.append(
                Finding(
                    code="consent.required_purpose_not_granted",
                    severity="error",
                    pointer=f"/activations/{i}",
                    message=f"the plan's {activation.channel} policy also requires {purpose} "
                    f"({either(accepted)}), which these attributes of {key} lack: "
                    f"{name_list(missing)}; add the grant or stop using them",
                    stage="activation",
                )
            )
    signals = normalized_signals(activation.consent_gate)
    missing_gates = [g.signal for g in policy.gates if not gate_satisfied(g, signals)]
    if missing_gates:
        result.findings.append(
            Finding(
                code="consent.gate_missing",
                severity="error",
                pointer=f"/activations/{i}/consent_gate",
                message=f"activation {key} does not gate on {', '.join(missing_gates)}, which "
                f"{activation.channel} requires; add {' and '.join(repr(g) for g in missing_gates)} to "
                "consent_gate",
                stage="activation",
            )
        )
    _pii(index, i, policy, key, result)


def _lacking(
    attributes: list[Attribute], policy: EffectivePolicy, bases: tuple[str, ...], grants: _Grants
) -> list[str]:
    """Why each attribute that does not grant the channel's purpose on an accepted basis fails.

    Under a regime that limits sensitive data (cpra), its attributes count only on the narrower bases.
    """
    lacking = []
    for attribute in attributes:
        limited = policy.sensitive_bases is not None and attribute.pii_class in SPECIAL_CLASSES
        accepted = tuple(b for b in bases if b in (policy.sensitive_bases or ())) if limited else bases
        if not grants.allows(attribute, policy.purpose, accepted):
            note = " [sensitive data: consent only]" if limited else ""
            lacking.append(_why_not(attribute, policy.purpose) + note)
    return lacking


def _pii(index: PlanIndex, i: int, policy: EffectivePolicy, key: str, result: ConsentResult) -> None:
    activation = index.plan.activations[i]
    for name, pointer in index.sent[i]:
        found = index.attributes.get(name)
        if found is None or found[1].pii_class not in PII_CLASSES:
            continue
        pii_class = found[1].pii_class
        if not activation.pii_allowed:
            result.findings.append(
                Finding(
                    code="consent.pii_to_non_pii_destination",
                    severity="error",
                    pointer=pointer,
                    message=f"activation {key} sends {pii_class} attribute {name!r} to "
                    f"{activation.destination or 'its destination'}, which is not marked for PII "
                    "(pii_allowed false); send a pseudonymous key instead, or confirm the destination "
                    "is approved for PII and set pii_allowed",
                    stage="activation",
                )
            )
        elif not policy.allow_pii:
            result.findings.append(
                Finding(
                    code="consent.pii_denied_by_policy",
                    severity="error",
                    pointer=pointer,
                    message=f"activation {key} sends {pii_class} attribute {name!r}, but the plan's "
                    f"{activation.channel} consent policy allows no PII; send a pseudonymous key instead",
                    stage="activation",
                )
            )


def _special_category(index: PlanIndex, result: ConsentResult) -> None:
    plan = index.plan
    activations_of: dict[str, list[int]] = {}
    for i, activation in enumerate(plan.activations):
        activations_of.setdefault(activation.profile_id, []).append(i)
    for p, uses in enumerate(index.targeting):
        first_use: dict[str, str] = {}
        for name, pointer in uses:
            found = index.attributes.get(name)
            if found is not None and found[1].pii_class in SPECIAL_CLASSES:
                first_use.setdefault(name, pointer)
        if not first_use:
            continue
        profile_id = plan.profiles[p].id
        result.findings += [
            Finding(
                code="consent.special_category_targeting",
                severity="error",
                pointer=pointer,
                message=f"profile {profile_id!r} targets on {_special_label(index, name)}; remove "
                "it from eligibility and scoring",
                stage="profiles",
            )
            for name, pointer in first_use.items()
        ]
        result.failing_activations.update(activations_of.get(profile_id, []))


def _special_label(index: PlanIndex, name: str) -> str:
    """'special-category attribute 'x' (GDPR Art. 9)', or the CPRA wording for sensitive data."""
    if index.attributes[name][1].pii_class == "sensitive":
        law = "CPRA sensitive personal information; targeting infers characteristics"
        return f"sensitive attribute {name!r} ({law})"
    return f"special-category attribute {name!r} (GDPR Art. 9)"
