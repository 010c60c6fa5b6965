"""The attribute x channel coverage and consent matrix: what each channel uses, and what blocks it.

It applies the same policy as the consent checks (checks.consent_policy) so the matrix and the
findings never disagree: an attribute that targets or is sent on a channel must grant the channel's
purpose on an accepted basis, and PII may reach only destinations approved for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..checks.consent import PII_CLASSES
from ..checks.consent_policy import PURPOSE_BASES, EffectivePolicy, effective_policy
from ..checks.metrics import SPEC_FIELDS
from ..checks.usage import PlanIndex
from ..model import Attribute

# Cell states, from worst to best; the legend in report.html explains each.
BLOCKED, USED, SUPPRESSION, AVAILABLE, NOT_GRANTED = "blocked", "used", "suppression", "available", "none"
SYMBOLS = {BLOCKED: "\u2716", USED: "\u2714", SUPPRESSION: "S", AVAILABLE: "\u00b7", NOT_GRANTED: "\u2014"}


@dataclass
class Cell:
    state: str
    reasons: list[str] = field(default_factory=list)

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.state]


@dataclass
class MatrixRow:
    attribute: Attribute
    spec_missing: list[str]
    cells: dict[str, Cell]


@dataclass
class ChannelSummary:
    channel: str
    purpose: str
    bases: tuple[str, ...]
    blocked: list[str]
    used: int


@dataclass
class CoverageMatrix:
    channels: list[str]
    rows: list[MatrixRow]
    summaries: list[ChannelSummary]


def _grants(attribute: Attribute, purpose: str, bases: tuple[str, ...]) -> bool:
    return any(g.purpose == purpose and g.lawful_basis in bases for g in attribute.consent)


@dataclass
class _ChannelUse:
    """Per (attribute, channel): why it is blocked there, and whether it is used or suppresses there."""

    blocked: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    used: set[tuple[str, str]] = field(default_factory=set)
    suppression: set[tuple[str, str]] = field(default_factory=set)


def _missing_grants(
    attribute: Attribute, policy: EffectivePolicy, bases: tuple[str, ...], key: str
) -> list[str]:
    """Why the channel's policy does not let the activation `key` use this attribute (empty: it does)."""
    reasons = []
    if not _grants(attribute, policy.purpose, bases):
        reasons.append(f"{key}: no {policy.purpose} grant on {' or '.join(bases) or 'any basis'}")
    reasons += [
        f"{key}: plan policy also requires {purpose}"
        for purpose in policy.required_purposes
        if not _grants(attribute, purpose, PURPOSE_BASES[purpose])
    ]
    return reasons


def _record_activation(use: _ChannelUse, index: PlanIndex, i: int, policy: EffectivePolicy) -> None:
    """Add what activation `i` uses and suppresses on its channel, and what blocks it there."""
    activation = index.plan.activations[i]
    channel = activation.channel
    found = index.profile_of(activation)
    profiling = found is not None and found[1].scoring is not None
    bases = policy.profiling_bases if profiling else policy.bases
    key = f"{activation.profile_id} \u2192 {activation.destination or channel}"
    if found is not None:
        use.suppression.update((name, channel) for name, _ in index.suppression[found[0]])
    for name, _ in index.activation_uses(i):
        use.used.add((name, channel))
        attribute = index.attributes.get(name)
        if attribute is None:
            continue
        reasons = _missing_grants(attribute[1], policy, bases, key)
        if reasons:
            use.blocked.setdefault((name, channel), []).extend(reasons)
    for name, _ in index.sent[i]:
        attribute = index.attributes.get(name)
        if attribute is None or attribute[1].pii_class not in PII_CLASSES:
            continue
        if not activation.pii_allowed or not policy.allow_pii:
            use.blocked.setdefault((name, channel), []).append(
                f"{key}: sends {attribute[1].pii_class} PII to a destination not approved for it"
            )


def _cell(attribute: Attribute, channel: str, use: _ChannelUse, policy: EffectivePolicy) -> Cell:
    """The worst state that applies: blocked, then used, suppression, available, not granted."""
    pair = (attribute.name, channel)
    if pair in use.blocked:
        return Cell(BLOCKED, list(dict.fromkeys(use.blocked[pair])))
    if pair in use.used:
        return Cell(USED)
    if pair in use.suppression:
        return Cell(SUPPRESSION)
    if _grants(attribute, policy.purpose, policy.bases):
        return Cell(AVAILABLE)
    return Cell(NOT_GRANTED)


def _spec_missing(attribute: Attribute, sources: set[str]) -> list[str]:
    missing = [f for f in SPEC_FIELDS if not getattr(attribute, f)]
    if attribute.source_id and attribute.source_id not in sources:
        missing.append("source_id (unknown source)")
    return missing


def coverage_matrix(index: PlanIndex) -> CoverageMatrix:
    plan = index.plan
    channels = list(plan.channels)
    sources = {s.id for s in plan.data_sources}
    policies = {c: effective_policy(plan, c) for c in channels}
    use = _ChannelUse()
    for i, activation in enumerate(plan.activations):
        # An activation's channel may be missing from plan.channels: its policy still decides what it
        # uses and what blocks it, though the matrix has no column to show that in.
        policy = policies.get(activation.channel) or effective_policy(plan, activation.channel)
        _record_activation(use, index, i, policy)
    rows = [
        MatrixRow(
            attribute,
            _spec_missing(attribute, sources),
            {channel: _cell(attribute, channel, use, policies[channel]) for channel in channels},
        )
        for attribute in plan.attributes
    ]
    summaries = [
        ChannelSummary(
            channel=c,
            purpose=policies[c].purpose,
            bases=policies[c].bases,
            blocked=sorted({name for name, ch in use.blocked if ch == c}),
            used=len({name for name, ch in use.used if ch == c}),
        )
        for c in channels
    ]
    return CoverageMatrix(channels, rows, summaries)
