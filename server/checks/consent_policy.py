"""The consent policy per channel (docs/consent.md): the default, or the one the plan's regimes and
signal frameworks derive (consent_presets), narrowed by the plan's own consent_policy override."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import Plan
from ..model.plan import ChannelConsentPolicy
from .consent_presets import (
    AD_PERSONALIZATION,
    AD_USER_DATA,
    ANALYTICS_STORAGE,
    DEFAULT_PURPOSE_BASES,
    EMAIL_OPT_IN,
    IN_APP_ENABLED,
    NOT_DO_NOT_CONTACT,
    NOT_UNSUBSCRIBED,
    PERSONALIZATION_STORAGE,
    REGIME_PURPOSE_BASES,
    REGIMES,
    SIGNALS,
    ChannelRule,
    Gate,
)


@dataclass(frozen=True)
class ChannelPolicy:
    channel: str
    purpose: str
    bases: tuple[str, ...]
    # Profiling-based personalization narrows the bases on some channels (in-app: consent only).
    profiling_bases: tuple[str, ...]
    gates: tuple[Gate, ...]


DEFAULT_POLICY: dict[str, ChannelPolicy] = {
    "email": ChannelPolicy(
        "email",
        "email_marketing",
        ("consent", "legitimate_interest"),
        ("consent", "legitimate_interest"),
        (EMAIL_OPT_IN, NOT_UNSUBSCRIBED),
    ),
    "web": ChannelPolicy(
        "web", "onsite_personalization", ("consent",), ("consent",), (PERSONALIZATION_STORAGE,)
    ),
    "in-app": ChannelPolicy(
        "in-app",
        "in_app_messaging",
        ("contract", "legitimate_interest", "consent"),
        ("consent",),
        (IN_APP_ENABLED,),
    ),
    "ads": ChannelPolicy(
        "ads", "ads_targeting", ("consent",), ("consent",), (AD_USER_DATA, AD_PERSONALIZATION)
    ),
    "sales": ChannelPolicy(
        "sales", "sales_outreach", ("legitimate_interest",), ("legitimate_interest",), (NOT_DO_NOT_CONTACT,)
    ),
}

# Bases each purpose accepts when a plan requires it on top of the channel's own purpose (no regime).
PURPOSE_BASES: dict[str, tuple[str, ...]] = DEFAULT_PURPOSE_BASES

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize_signal(text: str) -> str:
    """'Consent Mode: ad_user_data granted' -> '_consent_mode_ad_user_data_granted_'."""
    return "_" + _NON_WORD.sub("_", text.lower()).strip("_") + "_"


def normalized_signals(consent_gate: list[str]) -> list[str]:
    return [normalize_signal(entry) for entry in consent_gate]


def gate_satisfied(gate: Gate, signals: list[str]) -> bool:
    """A gate entry counts when it contains one accepted name as whole words, in any wording.

    `signals` are the activation's consent_gate entries after normalized_signals().
    """
    return any(f"_{name}_" in entry for name in gate.accepted for entry in signals)


@dataclass(frozen=True)
class EffectivePolicy:
    channel: str
    purpose: str
    bases: tuple[str, ...]
    profiling_bases: tuple[str, ...]
    gates: tuple[Gate, ...]
    required_purposes: tuple[str, ...]
    allow_pii: bool
    loosened: tuple[tuple[int, str], ...]  # (index, basis) the override tried to add; ignored
    # Bases a required purpose accepts, under the plan's regimes.
    purpose_bases: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(PURPOSE_BASES))
    # Bases left for sensitive and special-category attributes (CPRA); None: no narrower limit.
    sensitive_bases: tuple[str, ...] | None = None


def _both(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(b for b in first if b in second)


def _union(gates: tuple[Gate, ...], more: tuple[Gate, ...]) -> tuple[Gate, ...]:
    names = {g.signal for g in gates}
    return gates + tuple(g for g in more if g.signal not in names)


def _from_regimes(regimes: tuple[str, ...], channel: str) -> ChannelRule:
    """The strictest combination: a grant must satisfy every regime named."""
    rules = [REGIMES[r][channel] for r in regimes]
    combined = rules[0]
    bases, profiling = combined.bases, combined.profiling_bases or combined.bases
    gates, required, sensitive = combined.gates, combined.required_purposes, combined.sensitive_bases
    for rule in rules[1:]:
        bases = _both(bases, rule.bases)
        profiling = _both(profiling, rule.profiling_bases or rule.bases)
        gates = _union(gates, rule.gates)
        required += tuple(p for p in rule.required_purposes if p not in required)
        if rule.sensitive_bases is not None:
            sensitive = rule.sensitive_bases if sensitive is None else _both(sensitive, rule.sensitive_bases)
    return ChannelRule(bases, profiling, gates, required, all(r.allow_pii for r in rules), sensitive)


def _purpose_bases(regimes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    if not regimes:
        return dict(PURPOSE_BASES)
    tables = [REGIME_PURPOSE_BASES[r] for r in regimes]
    return {p: tuple(b for b in bases if all(b in t[p] for t in tables)) for p, bases in tables[0].items()}


def _base_rule(plan: Plan, channel: str) -> ChannelRule:
    """The policy before the plan's own override: the default, or its regimes', plus its signals'."""
    if plan.consent_regimes:
        rule = _from_regimes(tuple(plan.consent_regimes), channel)
    else:
        default = DEFAULT_POLICY[channel]
        rule = ChannelRule(default.bases, default.profiling_bases, default.gates)
    gates = rule.gates
    for signal in plan.consent_signals:
        extra = SIGNALS[signal].get(channel)
        if extra is not None:
            gates = _union(gates, extra.gates)
    return ChannelRule(
        rule.bases, rule.profiling_bases, gates, rule.required_purposes, rule.allow_pii, rule.sensitive_bases
    )


def effective_policy(plan: Plan, channel: str) -> EffectivePolicy:
    default = DEFAULT_POLICY[channel]
    base = _base_rule(plan, channel)
    bases, profiling = base.bases, base.profiling_bases or base.bases
    override: ChannelConsentPolicy | None = plan.consent_policy.get(channel)  # type: ignore[call-overload]
    loosened: tuple[tuple[int, str], ...] = ()
    gates, required, allow_pii = base.gates, base.required_purposes, base.allow_pii
    if override is not None:
        if override.accepted_bases is not None:
            wanted = set(override.accepted_bases)
            bases = tuple(b for b in bases if b in wanted)
            profiling = tuple(b for b in profiling if b in wanted)
            loosened = tuple((k, b) for k, b in enumerate(override.accepted_bases) if b not in base.bases)
        gates = _union(
            gates,
            tuple(Gate(signal, (normalize_signal(signal).strip("_"),)) for signal in override.required_gates),
        )
        required += tuple(p for p in override.required_purposes if p not in required)
        allow_pii = allow_pii and override.allow_pii
    if "google-consent-mode-v2" in plan.consent_signals and "analytics" in required:
        gates = _union(gates, (ANALYTICS_STORAGE,))
    return EffectivePolicy(
        channel,
        default.purpose,
        bases,
        profiling,
        gates,
        required,
        allow_pii,
        loosened,
        _purpose_bases(tuple(plan.consent_regimes)),
        base.sensitive_bases,
    )
