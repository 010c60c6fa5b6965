"""Plan content for benchmarks, as JSON documents (the plan models are frozen: build, never mutate).

Mostly well-formed, with about 1% defects, so the checks do their normal work plus some findings.
The same dicts are stage-tool arguments (bench_mcp_write.py) and parts of a whole plan
(bench_checks.py, through Plan.model_validate).
"""

from __future__ import annotations

from typing import Any

GRANTS = [
    {"purpose": "onsite_personalization", "lawful_basis": "consent"},
    {"purpose": "email_marketing", "lawful_basis": "consent"},
    {"purpose": "in_app_messaging", "lawful_basis": "contract"},
]
CHANNEL_SETUP = {
    "web": (["personalization_storage"], "streaming"),
    "email": (["email_opt_in", "not_unsubscribed"], "batch_hourly"),
    "in-app": (["in_app_messaging_enabled"], "real_time"),
}
CHANNELS = list(CHANNEL_SETUP)
DATA_SOURCE = {
    "id": "warehouse",
    "system": "Snowflake",
    "access_method": "warehouse_sql",
    "refresh": "hourly",
}


def attribute(i: int) -> dict[str, Any]:
    defect = i % 100 == 99  # about 1% incomplete
    return {
        "name": f"attr_{i:05d}",
        "type": None if defect else ("integer" if i % 2 else "string"),
        "description": f"Attribute number {i}",
        "source_id": "warehouse",
        "refresh_cadence": "hourly",
        "freshness_sla": "1d",
        "consent": [] if defect else GRANTS,
        "pii_class": "none",
        "owner": "Data Engineering",
    }


def profile(i: int, attribute_count: int) -> dict[str, Any]:
    # Odd attributes are integers and even ones strings (see `attribute`), so the rules type-check.
    names = [f"attr_{(i * 10 + k) % attribute_count:05d}" for k in range(6)]
    document: dict[str, Any] = {
        "id": f"profile-{i:05d}",
        "name": f"Profile {i}",
        "priority": i,
        "eligibility": {
            "all": [
                {"op": "gt", "attr": names[1], "value": i},
                {"op": "is_not_null", "attr": names[0]},
                {
                    "any": [
                        {"op": "eq", "attr": names[2], "value": "a"},
                        {"op": "lt", "attr": names[3], "value": 9},
                    ]
                },
            ]
        },
        "suppression": {"op": "is_null", "attr": names[4]},
        "fallback": "default experience",
        "latency_sla": "1d",
        "owner": "Growth",
        "backup_owner": "Data",
    }
    if i % 10 == 0:
        document["scoring"] = {
            "conditions": [{"when": {"op": "gt", "attr": names[5], "value": 1}, "weight": 2.0}],
            "threshold": 1.0,
        }
    return document


def activation(i: int, channel: str) -> dict[str, Any]:
    gates, sync_mode = CHANNEL_SETUP[channel]
    return {
        "profile_id": f"profile-{i:05d}",
        "channel": channel,
        "destination": "Braze",
        "sync_mode": sync_mode,
        "match_keys": ["attr_00000"],
        "consent_gate": gates,
        "latency_sla": "1d",
        "fallback_state": "default",
    }


def activations(profile_count: int) -> list[dict[str, Any]]:
    """Two channels per profile."""
    return [
        activation(i, channel)
        for i in range(profile_count)
        for channel in (CHANNELS[i % 3], CHANNELS[(i + 1) % 3])
    ]


def plan_document(attribute_count: int, profile_count: int) -> dict[str, Any]:
    """A whole plan at revision 5, ready for Plan.model_validate."""
    return {
        "plan_id": "plan-20261124T090000Z",
        "revision": 5,
        "created_at": "2026-11-24T09:00:00Z",
        "updated_at": "2026-11-24T10:00:00Z",
        "initiative": "Benchmark",
        "channels": CHANNELS,
        "data_sources": [DATA_SOURCE],
        "attributes": [attribute(i) for i in range(attribute_count)],
        "profiles": [profile(i, attribute_count) for i in range(profile_count)],
        "activations": activations(profile_count),
        "governance": {"owners": [{"area": "program", "owner": "Ana", "backup": "Lee"}]},
    }
