"""The demo plan's profiles and scenarios (PLG Onboarding)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


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
