"""The 10-profile plan the audience benchmark sizes: the demo's 5 profiles and 5 more over its inventory."""

from __future__ import annotations

from typing import Any

from personalization_engine.demo_content import ATTRIBUTES, DATA_SOURCES, PROFILES
from personalization_engine.model import Activation, Attribute, DataSource, Plan, Profile

EXTRA_PROFILES: list[dict[str, Any]] = [
    {
        "id": "active-pro",
        "name": "Active pro user",
        "eligibility": {
            "all": [
                {"op": "eq", "attr": "plan_tier", "value": "pro"},
                {"op": "within_last", "attr": "last_active_at", "value": "1d"},
            ]
        },
        "suppression": {"op": "eq", "attr": "in_app_messaging_disabled", "value": True},
        "priority": 60,
    },
    {
        "id": "enterprise-builders",
        "name": "Enterprise builders",
        "eligibility": {
            "all": [
                {"op": "eq", "attr": "plan_tier", "value": "enterprise"},
                {"op": "in", "attr": "role", "value": ["engineer", "designer"]},
            ]
        },
        "priority": 70,
    },
    {
        "id": "eu-free",
        "name": "Free users in the EU",
        "eligibility": {
            "all": [
                {"op": "eq", "attr": "plan_tier", "value": "free"},
                {"op": "in", "attr": "country", "value": ["DE", "FR", "NL", "ES"]},
            ]
        },
        "suppression": {"op": "ne", "attr": "personalization_consent", "value": True},
        "priority": 80,
    },
    {
        "id": "integrators",
        "name": "Onboarded integrators",
        "eligibility": {
            "all": [
                {"op": "gte", "attr": "integrations_connected", "value": 2},
                {"op": "eq", "attr": "onboarding_steps_completed", "value": 5},
            ]
        },
        "priority": 90,
    },
    {
        "id": "big-company-trials",
        "name": "Trials at big companies",
        "eligibility": {
            "all": [
                {"op": "eq", "attr": "plan_tier", "value": "trial"},
                {"op": "in", "attr": "company_size", "value": ["201-1000", "1000+"]},
            ]
        },
        "suppression": {"op": "eq", "attr": "email_unsubscribed", "value": True},
        "priority": 100,
    },
]
IN_APP = ["not in_app_messaging_disabled"]
EMAIL = ["email_opt_in", "not email_unsubscribed"]
WEB = ["personalization_consent (Consent Mode personalization_storage)"]
# Spelled out (not the demo's list, which may change): bench/baseline_sizing.sql follows this order.
ACTIVATIONS = [
    ("new-trial-activation", "in-app", IN_APP),
    ("new-trial-activation", "email", EMAIL),
    ("new-trial-activation", "web", WEB),
    ("stalled-trial", "email", EMAIL),
    ("team-expansion", "in-app", IN_APP),
    ("team-expansion", "email", EMAIL),
    ("power-user-upgrade", "web", WEB),
    ("power-user-upgrade", "in-app", IN_APP),
    ("dormant-free", "email", EMAIL),
    ("active-pro", "in-app", IN_APP),
    ("enterprise-builders", "web", WEB),
    ("eu-free", "web", WEB),
    ("integrators", "in-app", IN_APP),
    ("big-company-trials", "email", EMAIL),
]


def with_ten_profiles(plan: Plan) -> Plan:
    """A new plan: `plan` with the demo's inventory, the ten profiles and their activations.

    Pure, as Engine.apply wants it: the plan models are frozen, so this returns the next content.
    """
    return plan.model_copy(
        update={
            "data_sources": tuple(DataSource.model_validate(d) for d in DATA_SOURCES),
            "attributes": tuple(Attribute.model_validate(a) for a in ATTRIBUTES),
            "profiles": tuple(Profile.model_validate(p) for p in [*PROFILES, *EXTRA_PROFILES]),
            "activations": tuple(
                Activation(profile_id=p, channel=c, consent_gate=tuple(g))  # type: ignore[arg-type]
                for p, c, g in ACTIVATIONS
            ),
        }
    )


# Each profile's holdout share in the benchmark with holdouts: a spread of common choices.
HOLDOUT_SHARES = [0.1, 0.05, 0.2, 0.1, 0.5, 0.1, 0.25, 0.1, 0.01, 0.1]


def with_ten_profiles_and_holdouts(plan: Plan) -> Plan:
    """with_ten_profiles, each profile holding out HOLDOUT_SHARES of its winners (salt: the plan id)."""
    plan = with_ten_profiles(plan)
    profiles = tuple(
        p.model_copy(update={"holdout_share": share})
        for p, share in zip(plan.profiles, HOLDOUT_SHARES, strict=True)
    )
    return plan.model_copy(update={"profiles": profiles})
