"""The attribute x channel coverage and consent matrix: what each channel uses, and what blocks it.

It applies the same policy as the consent checks (checks.consent_policy) so the matrix and the
findings never disagree: an attribute that targets or is sent on a channel must grant the channel's
purpose on an accepted basis, and PII may reach only destinations approved for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..checks.consent import PII_CLASSES
from ..checks.consent_policy import PURPOSE_BASES, effective_policy
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


def coverage_matrix(index: PlanIndex) -> CoverageMatrix:
    plan = index.plan
    channels = list(plan.channels)
    sources = {s.id for s in plan.data_sources}
    # (attribute, channel) -> reasons it is blocked there, and the sets of what is used where.
    blocked: dict[tuple[str, str], list[str]] = {}
    used: set[tuple[str, str]] = set()
    suppression: set[tuple[str, str]] = set()
    policies = {c: effective_policy(plan, c) for c in channels}
    for i, activation in enumerate(plan.activations):
        channel = activation.channel
        policy = policies.get(channel) or effective_policy(plan, channel)
        found = index.profile_of(activation)
        profiling = found is not None and found[1].scoring is not None
        bases = policy.profiling_bases if profiling else policy.bases
        key = f"{activation.profile_id} \u2192 {activation.destination or channel}"
        if found is not None:
            suppression.update((name, channel) for name, _ in index.suppression[found[0]])
        for name, _ in index.activation_uses(i):
            used.add((name, channel))
            attribute = index.attributes.get(name)
            if attribute is None:
                continue
            attr = attribute[1]
            reasons = []
            if not _grants(attr, policy.purpose, bases):
                reasons.append(f"{key}: no {policy.purpose} grant on {' or '.join(bases) or 'any basis'}")
            reasons += [
                f"{key}: plan policy also requires {purpose}"
                for purpose in policy.required_purposes
                if not _grants(attr, purpose, PURPOSE_BASES[purpose])
            ]
            if reasons:
                blocked.setdefault((name, channel), []).extend(reasons)
        for name, _ in index.sent[i]:
            attribute = index.attributes.get(name)
            if attribute is None or attribute[1].pii_class not in PII_CLASSES:
                continue
            if not activation.pii_allowed or not policy.allow_pii:
                blocked.setdefault((name, channel), []).append(
                    f"{key}: sends {attribute[1].pii_class} PII to a destination not approved for it"
                )
    rows = []
    for attribute in plan.attributes:
        cells = {}
        for channel in channels:
            pair = (attribute.name, channel)
            policy = policies[channel]
            if pair in blocked:
                cells[channel] = Cell(BLOCKED, list(dict.fromkeys(blocked[pair])))
            elif pair in used:
                cells[channel] = Cell(USED)
            elif pair in suppression:
                cells[channel] = Cell(SUPPRESSION)
            elif _grants(attribute, policy.purpose, policy.bases):
                cells[channel] = Cell(AVAILABLE)
            else:
                cells[channel] = Cell(NOT_GRANTED)
        missing = [f for f in SPEC_FIELDS if not getattr(attribute, f)]
        if attribute.source_id and attribute.source_id not in sources:
            missing.append("source_id (unknown source)")
        rows.append(MatrixRow(attribute, missing, cells))
    summaries = [
        ChannelSummary(
            channel=c,
            purpose=policies[c].purpose,
            bases=policies[c].bases,
            blocked=sorted({name for name, ch in blocked if ch == c}),
            used=len({name for name, ch in used if ch == c}),
        )
        for c in channels
    ]
    return CoverageMatrix(channels, rows, summaries)
