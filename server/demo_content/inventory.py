"""The demo plan's header, intake and attribute inventory (PLG Onboarding)."""

from __future__ import annotations

from typing import Any

INITIATIVE = "PLG Onboarding"
CHANNELS = ["web", "in-app", "email"]
CREATE: dict[str, Any] = {
    "initiative": INITIATIVE,
    "channels": CHANNELS,
    "metrics": ["day-7 activation rate", "trial-to-paid conversion", "teammates invited per workspace"],
    "constraints": ["GDPR and ePrivacy for EU users", "Braze and Appcues are the only messaging tools"],
    "timeline": "Pilot in 6 weeks, full rollout next quarter",
    # The constraint names GDPR and ePrivacy, so their preset applies; the web gate is Google
    # Consent Mode's personalization_storage.
    "regimes": ["gdpr-eprivacy"],
    "signals": ["google-consent-mode-v2"],
    "pattern": "diamond",
    "pattern_rationale": (
        "Growth owns the objectives and Data Engineering owns the inventory; both can start now and "
        "converge when profiles are defined."
    ),
}

INTAKE: dict[str, Any] = {
    "goals": [
        {
            "id": "activate-trials",
            "statement": "Get new trial workspaces to first value within 7 days",
            "kpi": "day-7 activation rate",
        },
        {
            "id": "convert-trials",
            "statement": "Convert activated trials to a paid plan",
            "kpi": "trial-to-paid conversion",
        },
        {
            "id": "expand-teams",
            "statement": "Grow single-user workspaces into teams",
            "kpi": "teammates invited per workspace",
        },
    ],
    "personas": [
        {
            "id": "builder",
            "name": "Hands-on builder",
            "description": "Engineer or designer who signs up to try the product on a real project.",
        },
        {
            "id": "evaluator",
            "name": "Team evaluator",
            "description": "Manager comparing tools for a team of 10-200.",
        },
        {"id": "founder", "name": "Founder", "description": "Runs a small company and decides alone."},
    ],
    "lifecycle_stages": [
        {
            "id": "new-trial",
            "name": "New trial",
            "definition": "Trial started in the last 14 days, onboarding not finished.",
        },
        {"id": "activated", "name": "Activated", "definition": "Completed onboarding (5 of 5 steps)."},
        {"id": "team", "name": "Team", "definition": "Two or more teammates invited."},
        {"id": "dormant", "name": "Dormant", "definition": "No activity for 30 days."},
    ],
    "open_questions": ["Do enterprise trials get a sales-assisted path instead of email nudges?"],
}

DATA_SOURCES = [
    {
        "id": "product-events",
        "system": "Segment",
        "owner": "Data Engineering",
        "access_method": "event_stream",
        "refresh": "real_time",
        "description": "Client and server product events.",
    },
    {
        "id": "warehouse",
        "system": "Snowflake",
        "owner": "Data Engineering",
        "access_method": "warehouse_sql",
        "refresh": "hourly",
        "description": "Modelled user and workspace tables (dbt).",
    },
    {
        "id": "billing",
        "system": "Stripe",
        "owner": "Finance Systems",
        "access_method": "webhook",
        "refresh": "real_time",
    },
    {"id": "crm", "system": "HubSpot", "owner": "RevOps", "access_method": "api", "refresh": "daily"},
    {
        "id": "consent",
        "system": "OneTrust",
        "owner": "Privacy Office",
        "access_method": "api",
        "refresh": "real_time",
        "description": "Consent and preference records.",
    },
]


def _attr(
    name: str,
    type_: str,
    source: str,
    cadence: str,
    sla: str,
    purposes: list[tuple[str, str]],
    description: str,
    *,
    pii: str = "none",
    owner: str = "Data Engineering",
    required: bool = False,
    allowed: list[Any] | None = None,
) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "name": name,
        "type": type_,
        "description": description,
        "source_id": source,
        "refresh_cadence": cadence,
        "freshness_sla": sla,
        "consent": [grant(p, b) for p, b in purposes],
        "pii_class": pii,
        "owner": owner,
        "required": required,
    }
    if allowed is not None:
        attribute["allowed_values"] = allowed
    return attribute


# What shows each grant holds (docs/consent.md): the consent platform's purpose ids, Google Consent
# Mode's personalization_storage on the web, and the legitimate-interest assessment for analytics.
EVIDENCE: dict[tuple[str, str], dict[str, str]] = {
    ("in_app_messaging", "consent"): {"kind": "cmp_purpose", "ref": "onetrust:C0003-in-app-guidance"},
    ("email_marketing", "consent"): {"kind": "cmp_purpose", "ref": "onetrust:C0004-marketing-email"},
    ("onsite_personalization", "consent"): {"kind": "consent_mode", "ref": "personalization_storage"},
    ("analytics", "legitimate_interest"): {"kind": "lia", "ref": "LIA-2026-04 product analytics"},
}


def grant(purpose: str, basis: str) -> dict[str, Any]:
    return {"purpose": purpose, "lawful_basis": basis, "evidence": EVIDENCE[(purpose, basis)]}


# Purposes each kind of attribute is collected for, with the basis GDPR and ePrivacy accept.
_SERVICE = [
    ("in_app_messaging", "consent"),
    ("email_marketing", "consent"),
    ("onsite_personalization", "consent"),
]
_ALL = [*_SERVICE, ("analytics", "legitimate_interest")]

ATTRIBUTES = [
    _attr(
        "user_id",
        "string",
        "warehouse",
        "hourly",
        "1d",
        _ALL,
        "Stable user id; the match key everywhere.",
        pii="pseudonymous",
        required=True,
    ),
    _attr(
        "email",
        "string",
        "crm",
        "daily",
        "1d",
        [("email_marketing", "consent")],
        "Primary email address.",
        pii="direct",
        owner="RevOps",
        required=True,
    ),
    _attr(
        "plan_tier",
        "string",
        "billing",
        "real_time",
        "15m",
        _ALL,
        "Current plan.",
        required=True,
        allowed=["free", "trial", "pro", "enterprise"],
        owner="Finance Systems",
    ),
    _attr(
        "signup_at", "timestamp", "warehouse", "hourly", "1d", _ALL, "When the user signed up.", required=True
    ),
    _attr(
        "trial_ends_at",
        "timestamp",
        "billing",
        "real_time",
        "15m",
        _ALL,
        "End of the current trial, if any.",
        owner="Finance Systems",
    ),
    _attr(
        "last_active_at",
        "timestamp",
        "product-events",
        "real_time",
        "15m",
        _ALL,
        "Last product session.",
        required=True,
    ),
    _attr(
        "onboarding_steps_completed",
        "integer",
        "product-events",
        "real_time",
        "15m",
        _ALL,
        "Onboarding checklist steps done (0-5).",
        required=True,
    ),
    _attr("projects_created", "integer", "warehouse", "hourly", "1d", _ALL, "Projects the user created."),
    _attr("teammates_invited", "integer", "warehouse", "hourly", "1d", _ALL, "Invitations sent by the user."),
    _attr("integrations_connected", "integer", "warehouse", "hourly", "1d", _ALL, "Connected integrations."),
    _attr(
        "feature_adoption_score",
        "number",
        "warehouse",
        "daily",
        "2d",
        [("in_app_messaging", "consent"), ("analytics", "legitimate_interest")],
        "0-100 breadth of key-feature use, modelled nightly.",
    ),
    _attr(
        "company_size",
        "string",
        "crm",
        "daily",
        "7d",
        _ALL,
        "Employee band from enrichment.",
        owner="RevOps",
        allowed=["1-10", "11-50", "51-200", "201-1000", "1000+"],
    ),
    _attr(
        "role",
        "string",
        "crm",
        "daily",
        "7d",
        _ALL,
        "Self-reported role at signup.",
        owner="RevOps",
        allowed=["engineer", "designer", "product", "founder", "other"],
    ),
    _attr("country", "string", "warehouse", "daily", "7d", _ALL, "Billing or IP country (ISO 3166-1)."),
    _attr(
        "email_opt_in",
        "boolean",
        "consent",
        "real_time",
        "15m",
        _ALL,
        "Marketing email consent.",
        owner="Privacy Office",
        required=True,
    ),
    _attr(
        "email_unsubscribed",
        "boolean",
        "consent",
        "real_time",
        "15m",
        _ALL,
        "Unsubscribed from marketing email.",
        owner="Privacy Office",
        required=True,
    ),
    _attr(
        "personalization_consent",
        "boolean",
        "consent",
        "real_time",
        "15m",
        _ALL,
        "Web personalization consent (Consent Mode personalization_storage).",
        owner="Privacy Office",
        required=True,
    ),
    _attr(
        "in_app_messaging_disabled",
        "boolean",
        "product-events",
        "real_time",
        "15m",
        _ALL,
        "User turned off in-app tips.",
        required=True,
    ),
]
