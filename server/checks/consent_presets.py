"""The consent presets a plan names (docs/consent.md, "Presets"): legal regimes and signal frameworks.

A legal regime (consent_regimes) says which lawful bases a channel accepts, what the activation must
gate on and what PII may reach it. A signal framework (consent_signals) only says how a person's
choice is signalled, so it adds gates and never changes the bases. The tables are data; how they
combine with each other and with a plan's own consent_policy is consent_policy.effective_policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Gate:
    """A consent signal an activation must check; `accepted` are the names that count as it."""

    signal: str
    accepted: tuple[str, ...]


EMAIL_OPT_IN = Gate("email_opt_in", ("email_opt_in", "email_optin", "email_consent", "marketing_opt_in"))
NOT_UNSUBSCRIBED = Gate("not_unsubscribed", ("not_unsubscribed", "unsubscribed", "email_unsubscribed"))
PERSONALIZATION_STORAGE = Gate(
    "personalization_storage", ("personalization_storage", "personalization_consent")
)
IN_APP_ENABLED = Gate(
    "in_app_messaging_enabled",
    ("in_app_messaging_enabled", "in_app_messaging_not_disabled", "in_app_messaging_disabled"),
)
AD_USER_DATA = Gate("ad_user_data", ("ad_user_data",))
AD_PERSONALIZATION = Gate("ad_personalization", ("ad_personalization",))
NOT_DO_NOT_CONTACT = Gate(
    "not_do_not_contact", ("do_not_contact", "not_do_not_contact", "do_not_contact_list")
)
# The regimes' own gates accept the framework names that carry the same choice, so an activation
# gating on Consent Mode's ad_personalization or TCF purpose 4 satisfies GDPR's ads consent.
ADS_CONSENT = Gate(
    "ads_consent", ("ads_consent", "ad_consent", "advertising_consent", "ad_personalization", "tcf_purpose_4")
)
NOT_OPTED_OUT_OF_SALE = Gate(
    "not_opted_out_of_sale",
    (
        "not_opted_out_of_sale",
        "opted_out_of_sale",
        "opt_out_of_sale",
        "sale_opt_out",
        "do_not_sell",
        "not_opted_out_of_sharing",
        "opted_out_of_sharing",
        "do_not_share",
    ),
)
GPC_NOT_SET = Gate("gpc_not_set", ("gpc_not_set", "gpc", "global_privacy_control", "sec_gpc"))
ANALYTICS_STORAGE = Gate("analytics_storage", ("analytics_storage",))


def tcf_gate(number: int) -> Gate:
    return Gate(f"tcf_purpose_{number}", (f"tcf_purpose_{number}",))


@dataclass(frozen=True)
class ChannelRule:
    """What one preset asks of one channel."""

    bases: tuple[str, ...] = ()
    # Bases left when the profile scores people (profiling); None: the same as `bases`.
    profiling_bases: tuple[str, ...] | None = None
    gates: tuple[Gate, ...] = ()
    required_purposes: tuple[str, ...] = ()
    allow_pii: bool = True
    # Bases left for sensitive or special-category attributes the activation uses; None: no limit.
    sensitive_bases: tuple[str, ...] | None = None


# GDPR Art. 6 with the ePrivacy Directive Art. 5(3) and 13 (the UK: UK GDPR with PECR regs. 6 and
# 22): device storage and electronic marketing need consent; B2B sales rests on legitimate interest.
# The email soft opt-in (ePrivacy Art. 13(2), PECR reg. 22(3)) is not modelled: email needs consent.
_GDPR: dict[str, ChannelRule] = {
    "email": ChannelRule(("consent",), gates=(EMAIL_OPT_IN, NOT_UNSUBSCRIBED)),
    "web": ChannelRule(("consent",), gates=(PERSONALIZATION_STORAGE,)),
    "in-app": ChannelRule(("consent",), gates=(IN_APP_ENABLED, PERSONALIZATION_STORAGE)),
    "ads": ChannelRule(("consent",), gates=(ADS_CONSENT,)),
    "sales": ChannelRule(("legitimate_interest",), gates=(NOT_DO_NOT_CONTACT,)),
}

# CPRA (Cal. Civ. Code 1798.100-199.100): notice at collection with a right to opt out. Selling or
# sharing (cross-context behavioural advertising: the ads channel) must stop on an opt-out and on
# Global Privacy Control (Cal. Code Regs. tit. 11, 7025); sensitive personal information is used
# only on consent (1798.121, checked as: its grants must be on consent).
_ANY_NOTICE = ("consent", "opt_out", "contract", "legitimate_interest")
_CPRA: dict[str, ChannelRule] = {
    "email": ChannelRule(_ANY_NOTICE, gates=(NOT_UNSUBSCRIBED,), sensitive_bases=("consent",)),
    "web": ChannelRule(_ANY_NOTICE, ("consent", "opt_out"), sensitive_bases=("consent",)),
    "in-app": ChannelRule(_ANY_NOTICE, ("consent", "opt_out"), sensitive_bases=("consent",)),
    "ads": ChannelRule(
        ("consent", "opt_out"), gates=(NOT_OPTED_OUT_OF_SALE, GPC_NOT_SET), sensitive_bases=("consent",)
    ),
    "sales": ChannelRule(_ANY_NOTICE, gates=(NOT_DO_NOT_CONTACT,), sensitive_bases=("consent",)),
}

REGIMES: dict[str, dict[str, ChannelRule]] = {"gdpr-eprivacy": _GDPR, "uk-gdpr": _GDPR, "cpra": _CPRA}

# Signal frameworks add only gates. TCF v2.2: purpose 1 (device storage) with purpose 6 (personalised
# content) on web and purpose 4 (personalised ads) on ads. Consent Mode v2: ad_user_data and
# ad_personalization on ads, personalization_storage on web; analytics_storage wherever the plan
# requires the analytics purpose (consent_policy.effective_policy adds that one).
SIGNALS: dict[str, dict[str, ChannelRule]] = {
    "tcf-v2.2": {
        "web": ChannelRule(gates=(tcf_gate(1), tcf_gate(6))),
        "ads": ChannelRule(gates=(tcf_gate(1), tcf_gate(4))),
    },
    "google-consent-mode-v2": {
        "web": ChannelRule(gates=(PERSONALIZATION_STORAGE,)),
        "ads": ChannelRule(gates=(AD_USER_DATA, AD_PERSONALIZATION)),
    },
}

# Bases each purpose accepts when a channel requires it on top of its own purpose, per regime.
DEFAULT_PURPOSE_BASES: dict[str, tuple[str, ...]] = {
    "email_marketing": ("consent", "legitimate_interest"),
    "onsite_personalization": ("consent",),
    "in_app_messaging": ("contract", "legitimate_interest", "consent"),
    "ads_targeting": ("consent",),
    "ads_measurement": ("consent",),
    "sales_outreach": ("legitimate_interest",),
    "analytics": ("consent", "legitimate_interest"),
    "service_messages": ("contract", "legitimate_interest"),
}
REGIME_PURPOSE_BASES: dict[str, dict[str, tuple[str, ...]]] = {
    "gdpr-eprivacy": {**DEFAULT_PURPOSE_BASES, "email_marketing": ("consent",)},
    "uk-gdpr": {**DEFAULT_PURPOSE_BASES, "email_marketing": ("consent",)},
    "cpra": {p: (*bases, "opt_out") for p, bases in DEFAULT_PURPOSE_BASES.items()},
}

# How a constraint written in words names a preset. UK GDPR is its own regime, so a bare "GDPR"
# preceded by "UK" does not name gdpr-eprivacy.
NAMED_IN_TEXT: dict[str, re.Pattern[str]] = {
    "gdpr-eprivacy": re.compile(r"(?<!uk )(?<!uk-)\bgdpr\b|\be-?privacy\b", re.IGNORECASE),
    "uk-gdpr": re.compile(r"\buk[ -]gdpr\b|\bpecr\b", re.IGNORECASE),
    "cpra": re.compile(r"\bcpra\b|\bccpa\b|\bcalifornia\b", re.IGNORECASE),
    "tcf-v2.2": re.compile(r"\btcf\b|transparency (?:and|&) consent framework", re.IGNORECASE),
    "google-consent-mode-v2": re.compile(r"\bconsent mode\b", re.IGNORECASE),
}


def presets_named(text: str) -> list[tuple[str, str]]:
    """(preset, the words that name it) for every preset a constraint's text names."""
    named = []
    for preset, pattern in NAMED_IN_TEXT.items():
        found = pattern.search(text)
        if found:
            named.append((preset, found.group(0)))
    return named
