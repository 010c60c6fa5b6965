"""The demo plan's activations, governance and the review steps: blocker, fix, approvals."""

from __future__ import annotations

from typing import Any

from ..demo_people import Person
from ..model.plan import DEFAULT_COVERS
from .inventory import ATTRIBUTES, grant

# What consent-flow QA checks for each web and in-app activation (docs/qa.md).
QA_FLOWS: dict[str, dict[str, Any]] = {
    "web": {
        "url": "https://app.example.com/pricing",
        "opt_in_control": "'Accept all' in the cookie banner",
        "opt_out_control": "'Reject all' in the cookie banner, and 'Privacy settings' in the footer",
        "before_opt_in_must_not": [
            "no personalization_storage cookie or local-storage key is set",
            "no request reaches the edge profile lookup API",
        ],
    },
    "in-app": {
        "url": "https://app.example.com/onboarding",
        "opt_in_control": "'Show me tips' in the welcome dialog",
        "opt_out_control": "'Turn off tips' in Settings > Notifications",
        "before_opt_in_must_not": ["Appcues identify() is not called with profile traits"],
    },
}


def _activation(profile: str, channel: str, destination: str, **extra: Any) -> dict[str, Any]:
    gates = {
        "email": ["email_opt_in", "not email_unsubscribed"],
        "web": ["personalization_consent (Consent Mode personalization_storage)"],
        "in-app": ["not in_app_messaging_disabled", "personalization_consent"],
    }[channel]
    base: dict[str, Any] = {
        "export_target": {"email": "dbt", "web": "flagd", "in-app": "growthbook"}[channel],
        "profile_id": profile,
        "channel": channel,
        "destination": destination,
        "consent_gate": gates,
        "match_keys": ["user_id"],
        "owner": {"web": "Web Growth", "in-app": "Product Growth", "email": "Lifecycle Marketing"}[channel],
    }
    defaults = {
        "email": {
            "sync_mode": "batch_hourly",
            "integration": "reverse_etl",
            "pii_allowed": True,
            "match_keys": ["user_id", "email"],
            "api_needs": ["Braze /users/track", "Hightouch sync"],
            "fallback_state": "Generic onboarding email sequence",
            "latency_sla": "1d",
        },
        "web": {
            "sync_mode": "real_time",
            "integration": "api",
            "pii_allowed": False,
            "api_needs": ["Edge profile lookup API (GET /profiles/{user_id})"],
            "fallback_state": "Default homepage and pricing page",
            "latency_sla": "1h",
        },
        "in-app": {
            "sync_mode": "streaming",
            "integration": "sdk",
            "pii_allowed": False,
            "api_needs": ["Appcues identify() with profile traits"],
            "fallback_state": "Standard product tour",
            "latency_sla": "1h",
        },
    }[channel]
    flow = {"qa_flow": QA_FLOWS[channel]} if channel in QA_FLOWS else {}
    return {**base, **defaults, **flow, **extra}


ACTIVATIONS = [
    # Each activation names what carries it to production (docs/exports.md): email audiences are
    # dbt models synced by reverse ETL; the web reads flagd; in-app is moving from LaunchDarkly to
    # GrowthBook, one profile at a time.
    _activation("new-trial-activation", "in-app", "Appcues", export_target="launchdarkly"),
    _activation("new-trial-activation", "email", "Braze"),
    _activation("new-trial-activation", "web", "Optimizely Web"),
    _activation("stalled-trial", "email", "Braze"),
    # Team expansion runs on the web, where the usage attributes carry onsite_personalization
    # consent, and by email.
    _activation("team-expansion", "web", "Optimizely Web", payload_attributes=["teammates_invited"]),
    _activation("team-expansion", "email", "Braze"),
    # The deliberate gap: feature_adoption_score was collected for in-app and analytics only, so
    # using it to personalize the web pricing page lacks the onsite_personalization purpose.
    _activation(
        "power-user-upgrade",
        "web",
        "Optimizely Web",
        payload_attributes=["feature_adoption_score"],
        latency_sla="1d",
    ),
    _activation("power-user-upgrade", "in-app", "Appcues", latency_sla="1d", export_target="growthbook"),
    _activation("dormant-free", "email", "Braze"),
]

# The fix the privacy lead approves: add onsite personalization on a consent basis.
CONSENT_FIX = {
    **next(a for a in ATTRIBUTES if a["name"] == "feature_adoption_score"),
    "consent": [
        grant("in_app_messaging", "consent"),
        grant("analytics", "legitimate_interest"),
        grant("onsite_personalization", "consent"),
    ],
}

GOVERNANCE: dict[str, Any] = {
    "owners": [
        {"area": "program", "owner": "Dana Whitfield", "backup": "Maya Chen"},
        {"area": "intake", "owner": "Maya Chen", "backup": "Priya Nair"},
        {"area": "attributes", "owner": "Luis Ortega", "backup": "Sam Okafor"},
        {"area": "profiles", "owner": "Maya Chen", "backup": "Priya Nair"},
        {"area": "activation", "owner": "Priya Nair", "backup": "Maya Chen"},
        {
            "area": "governance",
            "owner": "Grace Kim",
            "backup": "Dana Whitfield",
            "availability": "absent",
            "absent_until": "2026-12-08",
        },
        {"area": "web", "owner": "Tom Becker", "backup": "Priya Nair"},
        {"area": "in-app", "owner": "Priya Nair", "backup": "Tom Becker"},
        {"area": "email", "owner": "Ana Souza", "backup": "Maya Chen"},
    ],
    "qa_cadence": "weekly",
    "change_checkpoints": [
        {
            "id": "new-source",
            "trigger": "An attribute gets a new source or cadence",
            "approver_role": "Data Privacy Lead",
        },
        {
            "id": "new-channel",
            "trigger": "A profile is activated on a new channel",
            "approver_role": "Personalization Architect",
        },
        {
            "id": "special-category",
            "trigger": "Any special-category data is proposed",
            "approver_role": "Exec sponsor",
        },
    ],
}

LADDER_AND_FALLBACKS: dict[str, Any] = {
    "error_handling": {
        "retry_limit": 2,
        "escalation_ladder": [
            {
                "role": "Personalization Architect",
                "owner": "Maya Chen",
                "email": "maya.chen@example.com",
                "covers": list(DEFAULT_COVERS["Personalization Architect"]),
            },
            {
                "role": "Data Privacy Lead",
                "owner": "Grace Kim",
                "email": "grace.kim@example.com",
                "covers": list(DEFAULT_COVERS["Data Privacy Lead"]),
            },
            {"role": "Exec sponsor", "owner": "Dana Whitfield", "email": "dana.whitfield@example.com"},
        ],
        "fallback_owners": [
            {"role": "Grace Kim", "fallback": "Omar Haddad (Deputy Privacy Lead)"},
            {"role": "Maya Chen", "fallback": "Priya Nair"},
        ],
    },
    "success_metrics": {
        "attribute_spec_coverage_pct": {"target": 95},
        "attribute_data_coverage_pct": {"target": 90},
        "consent_integrity_pct": {"target": 100},
        "activation_readiness_pct": {"target": 100},
        "activation_lift": {
            "target_pct": 15,
            "kpi": "day-7 activation rate",
            "holdout_share": 0.1,
            "window_days": 28,
            "method": "randomized 10% holdout per profile",
            # A fixed salt: the plan id (the default) changes with every demo run, and with it who
            # is held out; the demo's readout is the same every time.
            "holdout_salt": "plg-onboarding-pilot",
        },
    },
}

BLOCKER = {
    "kind": "consent",
    "subject": "feature_adoption_score on web",
    "detail": "validate_plan: power-user-upgrade/web uses feature_adoption_score, which has no "
    "onsite_personalization grant. Asked the privacy office to confirm the consent basis.",
}
BLOCKER_REPEAT = {
    **BLOCKER,
    "detail": "Re-checked after the consent sync: still no onsite_personalization grant.",
}
# The people who confirm: each ladder rung's approver, by name.
PEOPLE: dict[str, Person] = {
    "Maya Chen": Person("Maya Chen", "maya.chen@example.com"),
    "Grace Kim": Person("Grace Kim", "grace.kim@example.com"),
    "Dana Whitfield": Person("Dana Whitfield", "dana.whitfield@example.com"),
}
PRIVACY_LEAD = PEOPLE["Grace Kim"]
# The grant the consent blocker was about, which the privacy lead confirms with its evidence.
CONSENT_CONFIRMED = ("feature_adoption_score", "onsite_personalization")
REMEDIATION = (
    "feature_adoption_score now has an onsite_personalization grant on a consent basis, with its "
    "evidence (Consent Mode personalization_storage), confirmed by Grace Kim with plans "
    "confirm-consent; the web activation stays gated on personalization_consent."
)
APPROVALS = [
    {
        "approver": "Maya Chen",
        "role": "Personalization Architect",
        "decision": "approved",
        "note": "Profiles, priorities and fallbacks reviewed.",
    },
    {
        "approver": "Grace Kim",
        "role": "Data Privacy Lead",
        "decision": "approved",
        "note": "Consent gates and evidence verified for web, in-app and email.",
    },
    {
        "approver": "Dana Whitfield",
        "role": "Exec sponsor",
        "decision": "approved",
        "note": "Pilot approved for six weeks.",
    },
]
