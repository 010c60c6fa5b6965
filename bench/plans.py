"""Large, realistic-shaped plans for benchmarks (bench/ only)."""

from __future__ import annotations

from personalization_engine.model import Attribute, DataSource, Plan, Profile


def attributes(count: int) -> list[Attribute]:
    types = ["string", "integer", "number", "boolean", "timestamp"]
    return [
        Attribute.model_validate(
            {
                "name": f"attr_{i:05d}",
                "type": types[i % len(types)],
                "description": f"Attribute number {i}",
                "source_id": "warehouse",
                "refresh_cadence": "hourly",
                "freshness_sla": "1d",
                "consent": [
                    {"purpose": "onsite_personalization", "lawful_basis": "consent"},
                    {"purpose": "email_marketing", "lawful_basis": "legitimate_interest"},
                ],
                "pii_class": "none",
                "owner": "Data Engineering",
                "required": i % 3 == 0,
            }
        )
        for i in range(count)
    ]


def profiles(count: int, attribute_count: int) -> list[Profile]:
    result = []
    for i in range(count):
        # attr_5k+1 are integers and attr_5k strings (see `types` above), so the rules type-check.
        number = f"attr_{(i * 5 + 1) % attribute_count:05d}"
        text = f"attr_{(i * 5) % attribute_count:05d}"
        result.append(
            Profile.model_validate(
                {
                    "id": f"profile-{i:04d}",
                    "name": f"Profile {i}",
                    "priority": i,
                    "eligibility": {
                        "all": [{"op": "gt", "attr": number, "value": i}, {"op": "is_not_null", "attr": text}]
                    },
                    "suppression": {"op": "is_null", "attr": text},
                    "fallback": "default experience",
                    "owner": "Growth",
                    "backup_owner": "Data",
                }
            )
        )
    return result


def fill(plan: Plan, attribute_count: int = 1000, profile_count: int = 100) -> Plan:
    """A new plan: `plan` with a data source, `attribute_count` attributes and `profile_count` profiles.

    The plan models are frozen, so `plan` itself is left as it is; use the plan this returns.
    """
    # The source every attribute names: without it each attribute is a ref.unknown_source error,
    # and the benchmark would time a plan no one would keep.
    return plan.model_copy(
        update={
            "data_sources": (DataSource(id="warehouse", system="Snowflake", access_method="warehouse_sql"),),
            "attributes": tuple(attributes(attribute_count)),
            "profiles": tuple(profiles(profile_count, attribute_count)),
        }
    )
