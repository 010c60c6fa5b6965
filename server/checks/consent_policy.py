"""The default consent policy per channel (docs/consent.md), and how a plan's override tightens it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Plan
from ..model.plan import ChannelConsentPolicy


@dataclass(frozen=True)
class Gate:
    """A consent signal an activation must check; `accepted` are the names that count as it."""

    signal: str
    accepted: tuple[str, ...]


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
        (
            Gate("email_opt_in", ("email_opt_in", "email_optin", "email_consent", "marketing_opt_in")),
            Gate("not_unsubscribed", ("not_unsubscribed", "unsubscribed", "email_unsubscribed")),
        ),
    ),
    "web": ChannelPolicy(
        "web",
        "onsite_personalization",
        ("consent",),
        ("consent",),
        (Gate("personalization_storage", ("personalization_storage", "personalization_consent")),),
    ),
    "in-app": ChannelPolicy(
        "in-app",
        "in_app_messaging",
        ("contract", "legitimate_interest", "consent"),
        ("consent",),
        (
            Gate(
                "in_app_messaging_enabled",
                ("in_app_messaging_enabled", "in_app_messaging_not_disabled", "in_app_messaging_disabled"),
            ),
        ),
    ),
    "ads": ChannelPolicy(
        "ads",
        "ads_targeting",
        ("consent",),
        ("consent",),
        (Gate("ad_user_data", ("ad_user_data",)), Gate("ad_personalization", ("ad_personalization",))),
    ),
    "sales": ChannelPolicy(
        "sales",
        "sales_outreach",
        ("legitimate_interest",),
        ("legitimate_interest",),
        (Gate("not_do_not_contact", ("do_not_contact", "not_do_not_contact", "do_not_contact_list")),),
    ),
}

# Bases each purpose accepts when a plan requires it on top of the channel's own purpose.
PURPOSE_BASES: dict[str, tuple[str, ...]] = {
    "email_marketing": ("consent", "legitimate_interest"),
    "onsite_personalization": ("consent",),
    "in_app_messaging": ("contract", "legitimate_interest", "consent"),
    "ads_targeting": ("consent",),
    "ads_measurement": ("consent",),
    "sales_outreach": ("legitimate_interest",),
    "analytics": ("consent", "legitimate_interest"),
    "service_messages": ("contract", "legitimate_interest"),
}

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


def effective_policy(plan: Plan, channel: str) -> EffectivePolicy:
    default = DEFAULT_POLICY[channel]
    override: ChannelConsentPolicy | None = plan.consent_policy.get(channel)  # type: ignore[call-overload]
    if override is None:
        return EffectivePolicy(
            channel, default.purpose, default.bases, default.profiling_bases, default.gates, (), True, ()
        )
    bases, profiling = default.bases, default.profiling_bases
    loosened: tuple[tuple[int, str], ...] = ()
    if override.accepted_bases is not None:
        wanted = set(override.accepted_bases)
        bases = tuple(b for b in bases if b in wanted)
        profiling = tuple(b for b in profiling if b in wanted)
        loosened = tuple((k, b) for k, b in enumerate(override.accepted_bases) if b not in default.bases)
    extra_gates = tuple(
        Gate(signal, (normalize_signal(signal).strip("_"),)) for signal in override.required_gates
    )
    return EffectivePolicy(
        channel,
        default.purpose,
        bases,
        profiling,
        default.gates + extra_gates,
        tuple(override.required_purposes),
        override.allow_pii,
        loosened,
    )
