"""The PLG Onboarding example: the stage content the demo sends through the MCP tools.

A B2B SaaS product with a free tier and a 14-day trial wants to personalize onboarding on web,
in-app and email. The content is realistic enough to exercise every check, and it carries one
deliberate consent gap (a behavioural score used on the web without a web-personalization purpose)
so the demo can show a blocker, its escalation and its resolution.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

INITIATIVE = "PLG Onboarding"
CHANNELS = ["web", "in-app", "email"]
CREATE: dict[str, Any] = {
    "initiative": INITIATIVE,
    "channels": CHANNELS,
    "metrics": ["day-7 activation rate", "trial-to-paid conversion", "teammates invited per workspace"],
    "constraints": ["GDPR and ePrivacy for EU users", "Braze and Appcues are the only messaging tools"],
    "timeline": "Pilot in 6 weeks, full rollout next quarter",
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
        "consent": [{"purpose": p, "lawful_basis": b} for p, b in purposes],
        "pii_class": pii,
        "owner": owner,
        "required": required,
    }
    if allowed is not None:
        attribute["allowed_values"] = allowed
    return attribute


# Purposes each kind of attribute is collected for (GDPR Art. 6 basis per purpose).
_SERVICE = [
    ("in_app_messaging", "contract"),
    ("email_marketing", "legitimate_interest"),
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
        [("email_marketing", "legitimate_interest")],
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
        [("in_app_messaging", "legitimate_interest"), ("analytics", "legitimate_interest")],
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


def _cond(op: str, attr: str, value: Any = None) -> dict[str, Any]:
    node: dict[str, Any] = {"op": op, "attr": attr}
    if value is not None:
        node["value"] = value
    return node


PROFILES = [
    {
        "id": "new-trial-activation",
        "name": "New trial, not yet activated",
        "purpose": "Guide new trials through the onboarding checklist to first value.",
        "persona_id": "builder",
        "lifecycle_stage_id": "new-trial",
        "eligibility": {
            "all": [
                _cond("eq", "plan_tier", "trial"),
                _cond("within_last", "signup_at", "14d"),
                _cond("lt", "onboarding_steps_completed", 5),
            ]
        },
        "suppression": {"any": [_cond("is_null", "user_id"), _cond("gte", "teammates_invited", 5)]},
        "priority": 10,
        "fallback": "Generic onboarding checklist",
        "latency_sla": "1h",
        "owner": "Maya Chen",
        "backup_owner": "Luis Ortega",
    },
    {
        "id": "stalled-trial",
        "name": "Trial gone quiet",
        "purpose": "Re-engage trials with no activity for three days before the trial ends.",
        "persona_id": "evaluator",
        "lifecycle_stage_id": "new-trial",
        "eligibility": {
            "all": [
                _cond("eq", "plan_tier", "trial"),
                _cond("not_within_last", "last_active_at", "3d"),
                _cond("is_not_null", "trial_ends_at"),
            ]
        },
        "suppression": {"any": [_cond("eq", "email_unsubscribed", True)]},
        "priority": 20,
        "fallback": "Standard trial-ending reminder",
        "latency_sla": "1d",
        "owner": "Maya Chen",
        "backup_owner": "Luis Ortega",
    },
    {
        "id": "team-expansion",
        "name": "Ready to grow into a team",
        "purpose": "Prompt active single-user workspaces to invite teammates.",
        "persona_id": "evaluator",
        "lifecycle_stage_id": "activated",
        "eligibility": {
            "all": [
                _cond("in", "plan_tier", ["free", "trial", "pro"]),
                _cond("within_last", "last_active_at", "7d"),
            ]
        },
        "suppression": {"any": [_cond("gte", "teammates_invited", 10)]},
        "scoring": {
            "conditions": [
                {"when": _cond("gte", "projects_created", 3), "weight": 30, "label": "3+ projects"},
                {"when": _cond("gte", "integrations_connected", 1), "weight": 30, "label": "an integration"},
                {"when": _cond("between", "teammates_invited", [1, 4]), "weight": 40, "label": "1-4 invites"},
            ],
            "threshold": 50,
            "decay": {"kind": "half_life", "attr": "last_active_at", "window": "7d"},
        },
        "eligible_by": "rule_and_score",
        "priority": 30,
        "fallback": "Show the standard invite button only",
        "latency_sla": "1d",
        "owner": "Priya Nair",
        "backup_owner": "Maya Chen",
    },
    {
        "id": "power-user-upgrade",
        "name": "Free power user",
        "purpose": "Show upgrade value to free users who already use key features.",
        "persona_id": "founder",
        "lifecycle_stage_id": "activated",
        "eligibility": {
            "all": [
                _cond("eq", "plan_tier", "free"),
                _cond("gte", "feature_adoption_score", 70),
                _cond("within_last", "last_active_at", "7d"),
            ]
        },
        "suppression": {"any": [_cond("in", "company_size", ["1000+"])]},
        "priority": 40,
        "fallback": "Default pricing page",
        "latency_sla": "1d",
        "owner": "Priya Nair",
        "backup_owner": "Luis Ortega",
    },
    {
        "id": "dormant-free",
        "name": "Dormant free user",
        "purpose": "Win back free users inactive for 30 days.",
        "persona_id": "builder",
        "lifecycle_stage_id": "dormant",
        "eligibility": {
            "all": [
                _cond("eq", "plan_tier", "free"),
                _cond("not_within_last", "last_active_at", "30d"),
            ]
        },
        "suppression": {"any": [_cond("eq", "email_unsubscribed", True), _cond("ne", "email_opt_in", True)]},
        "priority": 50,
        "fallback": "No message",
        "latency_sla": "1d",
        "owner": "Maya Chen",
        "backup_owner": "Priya Nair",
    },
]

SCENARIOS = [
    {
        "id": "fresh-trial",
        "description": "Trial signed up 2 days ago, 1 step done",
        "record": {
            "user_id": "u1",
            "plan_tier": "trial",
            "signup_at": "2026-11-22T09:00:00Z",
            "onboarding_steps_completed": 1,
            "teammates_invited": 0,
            "last_active_at": "2026-11-24T08:00:00Z",
            "trial_ends_at": "2026-12-06T09:00:00Z",
        },
        "expected_profile": "new-trial-activation",
    },
    {
        "id": "quiet-trial",
        "description": "Trial 10 days in, all steps done, silent for 5 days",
        "record": {
            "user_id": "u2",
            "plan_tier": "trial",
            "signup_at": "2026-11-14T09:00:00Z",
            "onboarding_steps_completed": 5,
            "last_active_at": "2026-11-19T09:00:00Z",
            "trial_ends_at": "2026-11-28T09:00:00Z",
            "email_unsubscribed": False,
        },
        "expected_profile": "stalled-trial",
    },
    {
        "id": "free-power-user",
        "description": "Free user with high adoption, active yesterday",
        "record": {
            "user_id": "u3",
            "plan_tier": "free",
            "feature_adoption_score": 82,
            "last_active_at": "2026-11-23T09:00:00Z",
            "company_size": "11-50",
            "projects_created": 1,
            "integrations_connected": 0,
            "teammates_invited": 0,
        },
        "expected_profile": "power-user-upgrade",
    },
    {
        "id": "enterprise-customer",
        "description": "Paying enterprise customer matches nothing",
        "record": {"user_id": "u4", "plan_tier": "enterprise", "last_active_at": "2026-11-24T08:00:00Z"},
        "expected_profile": None,
    },
]


# The instant the scenario records above were written for.
SCENARIOS_WRITTEN_AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def scenarios_at(reference: datetime) -> list[dict[str, Any]]:
    """The scenarios with every time moved to `reference`'s frame (a record signed up "2 days ago"
    stays 2 days before it), each carrying `reference` as the time it is evaluated at."""
    shift = reference - SCENARIOS_WRITTEN_AT

    def moved(value: Any) -> Any:
        if isinstance(value, str) and value.endswith("Z") and "T" in value:
            at = datetime.fromisoformat(value.replace("Z", "+00:00")) + shift
            return at.isoformat().replace("+00:00", "Z")
        return value

    return [
        {
            **scenario,
            "record": {name: moved(value) for name, value in scenario["record"].items()},
            "as_of": reference.isoformat().replace("+00:00", "Z"),
        }
        for scenario in SCENARIOS
    ]


def _activation(profile: str, channel: str, destination: str, **extra: Any) -> dict[str, Any]:
    gates = {
        "email": ["email_opt_in", "not email_unsubscribed"],
        "web": ["personalization_consent (Consent Mode personalization_storage)"],
        "in-app": ["not in_app_messaging_disabled"],
    }[channel]
    base: dict[str, Any] = {
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
    return {**base, **defaults, **extra}


ACTIVATIONS = [
    _activation("new-trial-activation", "in-app", "Appcues"),
    _activation("new-trial-activation", "email", "Braze"),
    _activation("new-trial-activation", "web", "Optimizely Web"),
    _activation("stalled-trial", "email", "Braze"),
    # Scoring is profiling, and in-app profiling needs consent while the usage attributes were
    # collected for in-app service messages under contract: so team expansion runs on the web,
    # where these attributes carry onsite_personalization consent.
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
    _activation("power-user-upgrade", "in-app", "Appcues", latency_sla="1d"),
    _activation("dormant-free", "email", "Braze"),
]

# The fix the privacy lead approves: add onsite personalization on a consent basis.
CONSENT_FIX = {
    **next(a for a in ATTRIBUTES if a["name"] == "feature_adoption_score"),
    "consent": [
        {"purpose": "in_app_messaging", "lawful_basis": "legitimate_interest"},
        {"purpose": "analytics", "lawful_basis": "legitimate_interest"},
        {"purpose": "onsite_personalization", "lawful_basis": "consent"},
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
            {"role": "Personalization Architect", "owner": "Maya Chen"},
            {"role": "Data Privacy Lead", "owner": "Grace Kim"},
            {"role": "Exec sponsor", "owner": "Dana Whitfield"},
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
REMEDIATION = (
    "Privacy office confirmed feature_adoption_score may be used for onsite personalization on a "
    "consent basis; the attribute's consent was updated and the web activation stays gated on "
    "personalization_consent."
)
APPROVALS = [
    {
        "approver": "Maya Chen",
        "role": "Personalization Architect",
        "decision": "approved",
        "note": "Profiles, priorities and fallbacks reviewed.",
    },
    {
        "approver": "Omar Haddad",
        "role": "Data Privacy Lead",
        "decision": "approved",
        "note": "Consent gates verified for web, in-app and email (acting for Grace Kim).",
    },
    {
        "approver": "Dana Whitfield",
        "role": "Exec sponsor",
        "decision": "approved",
        "note": "Pilot approved for six weeks.",
    },
]
