"""Plans with profiles for the rules tests, built in memory or written through Engine.apply."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from personalization_engine.core.engine import Engine
from personalization_engine.model import Attribute, Plan, Profile, Scenario

NOW = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)

ATTRIBUTES: list[dict[str, Any]] = [
    {"name": "plan_tier", "type": "string", "allowed_values": ["free", "pro", "team"]},
    {"name": "country", "type": "string"},
    {"name": "sessions", "type": "integer"},
    {"name": "spend", "type": "number"},
    {"name": "email_bounced", "type": "boolean"},
    {"name": "signup_at", "type": "timestamp"},
    {"name": "last_seen_at", "type": "timestamp"},
]

NEW_FREE: dict[str, Any] = {
    "id": "new-free",
    "name": "New free users",
    "priority": 10,
    "fallback": "generic onboarding",
    "eligibility": {
        "all": [
            {"op": "eq", "attr": "plan_tier", "value": "free"},
            {"op": "within_last", "attr": "signup_at", "value": "14d"},
        ]
    },
    "suppression": {"op": "eq", "attr": "email_bounced", "value": True},
}

ENGAGED: dict[str, Any] = {
    "id": "engaged",
    "name": "Engaged users",
    "priority": 20,
    "eligible_by": "score",
    "scoring": {
        "conditions": [
            {"when": {"op": "gte", "attr": "sessions", "value": 5}, "weight": 2.0},
            {"when": {"op": "eq", "attr": "plan_tier", "value": "pro"}, "weight": 1.5},
        ],
        "threshold": 1.0,
        "decay": {"kind": "half_life", "attr": "last_seen_at", "window": "7d"},
    },
}


def make_plan(
    profiles: list[dict[str, Any]],
    *,
    attributes: list[dict[str, Any]] | None = None,
    scenarios: list[dict[str, Any]] | None = None,
) -> Plan:
    return Plan.model_validate(
        {
            "plan_id": "plan-20261124T090000Z",
            "revision": 1,
            "created_at": NOW,
            "updated_at": NOW,
            "initiative": "PLG Onboarding",
            "channels": ["web", "email"],
            "attributes": ATTRIBUTES if attributes is None else attributes,
            "profiles": profiles,
            "scenarios": scenarios or [],
        }
    )


def write_profiles(
    engine: Engine,
    plan_id: str,
    profiles: list[dict[str, Any]],
    scenarios: list[dict[str, Any]] | None = None,
) -> Plan:
    """Store attributes, profiles and scenarios through the one write path."""

    def replace(plan: Plan) -> Plan:
        return plan.model_copy(
            update={
                "attributes": tuple(Attribute.model_validate(a) for a in ATTRIBUTES),
                "profiles": tuple(Profile.model_validate(p) for p in profiles),
                "scenarios": tuple(Scenario.model_validate(s) for s in scenarios or []),
            }
        )

    engine.apply(plan_id, "profiles", replace, expected_revision=None, actor="test")
    return engine.read_plan(plan_id)
