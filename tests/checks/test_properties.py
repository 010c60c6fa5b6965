"""Generated plans: the checks never crash, are deterministic, and point at real places in the plan."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalization_engine.checks.codes import FINDING_CODES
from personalization_engine.checks.run import refresh_computed, run_checks
from personalization_engine.model import Plan

NAMES = ["plan_tier", "trial_day", "email", "last_seen", "ghost_attr"]
PROFILE_IDS = ["trials", "pros", "dormant", "ghost"]
CHANNELS = ["web", "in-app", "email", "ads", "sales"]
CADENCES = ["real_time", "hourly", "daily", "15m", "2d"]
DURATIONS = ["15m", "1h", "1d", "7d"]
PURPOSES = ["email_marketing", "onsite_personalization", "in_app_messaging", "ads_targeting", "analytics"]
BASES = ["consent", "contract", "legitimate_interest"]
PEOPLE = ["Ana", "Priya", "Sam", "Lee"]
ROLES = ["Personalization Architect", "Data Privacy Lead", "Exec sponsor", "Legal"]
STAGES = ["intake", "attributes", "profiles", "activation", "governance", "privacy", "legal"]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


condition = st.builds(
    lambda op, attr, value: {"op": op, "attr": attr, "value": value},
    st.sampled_from(["eq", "ne", "gt"]),
    st.sampled_from(NAMES),
    st.integers(0, 5),
)
rule = st.recursive(
    condition,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"all": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"any": c}),
        children.map(lambda c: {"not": c}),
    ),
    max_leaves=6,
)
grant = st.fixed_dictionaries({"purpose": st.sampled_from(PURPOSES), "lawful_basis": st.sampled_from(BASES)})
attribute = st.fixed_dictionaries(
    {
        "name": st.sampled_from(NAMES[:4]),
        "type": maybe(st.sampled_from(["string", "integer"])),
        "source_id": maybe(st.sampled_from(["warehouse", "crm"])),
        "refresh_cadence": maybe(st.sampled_from(CADENCES)),
        "freshness_sla": maybe(st.sampled_from(DURATIONS)),
        "consent": st.lists(grant, max_size=3),
        "pii_class": st.sampled_from(["none", "pseudonymous", "direct", "special_category"]),
    }
)
profile = st.fixed_dictionaries(
    {
        "id": st.sampled_from(PROFILE_IDS[:3]),
        "name": st.just("P"),
        "eligibility": maybe(rule),
        "suppression": maybe(rule),
        "scoring": maybe(
            st.fixed_dictionaries(
                {
                    "conditions": st.lists(
                        st.fixed_dictionaries({"when": rule, "weight": st.just(1.0)}), min_size=1, max_size=2
                    ),
                    "threshold": st.just(1.0),
                    "decay": maybe(
                        st.fixed_dictionaries(
                            {
                                "kind": st.just("lookback"),
                                "attr": st.sampled_from(NAMES),
                                "window": st.sampled_from(DURATIONS),
                            }
                        )
                    ),
                }
            )
        ),
        "fallback": maybe(st.just("default")),
        "latency_sla": maybe(st.sampled_from(DURATIONS)),
        "owner": maybe(st.sampled_from(PEOPLE)),
        "persona_id": maybe(st.sampled_from(["admin", "nobody"])),
    }
)
activation = st.fixed_dictionaries(
    {
        "profile_id": st.sampled_from(PROFILE_IDS),
        "channel": st.sampled_from(CHANNELS),
        "destination": maybe(st.just("Braze")),
        "sync_mode": maybe(st.sampled_from(["real_time", "batch_daily"])),
        "match_keys": st.lists(st.sampled_from(NAMES), max_size=2),
        "payload_attributes": st.lists(st.sampled_from(NAMES), max_size=2),
        "consent_gate": st.lists(
            st.sampled_from(["email_opt_in", "ad_user_data", "personalization_storage"]), max_size=3
        ),
        "pii_allowed": st.booleans(),
        "latency_sla": maybe(st.sampled_from(DURATIONS)),
        "fallback_state": maybe(st.just("none")),
    }
)
owner = st.fixed_dictionaries(
    {
        "area": st.sampled_from(["program", "profiles", "email"]),
        "owner": st.sampled_from(PEOPLE),
        "backup": maybe(st.sampled_from(PEOPLE)),
        "availability": st.sampled_from(["available", "absent"]),
        "absent_until": maybe(st.sampled_from(["2026-11-20", "2026-12-20"])),
    }
)
approval = st.builds(
    lambda n, role, decision, revision: {
        "id": f"apr-{n}",
        "approver": "Ana",
        "role": role,
        "decision": decision,
        "revision": revision,
        "at": "2026-11-24T10:00:00Z",
    },
    st.integers(1, 9),
    st.sampled_from(ROLES),
    st.sampled_from(["approved", "rejected"]),
    st.integers(1, 6),
)
log_entry = st.builds(
    lambda revision, section: {
        "revision": revision,
        "at": "2026-11-24T10:00:00Z",
        "actor": "a",
        "stage": "x",
        "summary": "s",
        "changes": [{"op": "added", "section": section, "key": "k"}],
    },
    st.integers(1, 6),
    st.sampled_from(["attributes", "approvals", "escalations"]),
)
plan_document = st.fixed_dictionaries(
    {
        "plan_id": st.just("plan-20261124T090000Z"),
        "revision": st.just(6),
        "created_at": st.just("2026-11-24T09:00:00Z"),
        "updated_at": st.just("2026-11-24T11:00:00Z"),
        "initiative": st.just("Generated"),
        "channels": st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=5, unique=True),
        "pattern": st.fixed_dictionaries({"kind": st.sampled_from(["diamond", "pipeline"])}),
        "dependencies": st.fixed_dictionaries(
            {
                "nodes": st.lists(
                    st.fixed_dictionaries({"id": st.sampled_from(STAGES), "kind": st.just("stage")}),
                    max_size=6,
                ),
                "edges": st.lists(
                    st.fixed_dictionaries({"from": st.sampled_from(STAGES), "to": st.sampled_from(STAGES)}),
                    max_size=8,
                ),
            }
        ),
        "consent_policy": st.dictionaries(
            st.sampled_from(CHANNELS),
            st.fixed_dictionaries(
                {
                    "accepted_bases": maybe(st.lists(st.sampled_from(BASES), min_size=1, max_size=3)),
                    "allow_pii": st.booleans(),
                }
            ),
            max_size=2,
        ),
        "data_sources": st.just(
            [
                {
                    "id": "warehouse",
                    "system": "Snowflake",
                    "access_method": "warehouse_sql",
                    "refresh": "hourly",
                }
            ]
        ),
        "attributes": st.lists(attribute, max_size=6),
        "profiles": st.lists(profile, max_size=4),
        "activations": st.lists(activation, max_size=6),
        "governance": st.fixed_dictionaries({"owners": st.lists(owner, max_size=3)}),
        "approvals": st.lists(approval, max_size=3),
        "change_log": st.lists(log_entry, max_size=4),
    }
)


def resolve(document: Any, pointer: str) -> bool:
    node = document
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_document)
def test_checks_never_crash_are_deterministic_and_point_into_the_plan(document):
    plan = Plan.model_validate(document)
    refreshed = refresh_computed(plan.model_copy(deep=True), None, NOW)
    findings = run_checks(refreshed)
    assert findings == run_checks(Plan.model_validate_json(refreshed.model_dump_json(by_alias=True)))
    data = refreshed.model_dump(mode="json", by_alias=True)
    for finding in findings:
        assert finding.code in FINDING_CODES
        assert resolve(data, finding.pointer), finding
        assert finding.message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_document, plan_document)
def test_refresh_is_idempotent_against_any_previous_revision(document, previous_document):
    previous = refresh_computed(Plan.model_validate(previous_document), None, NOW)
    plan = Plan.model_validate(document)
    # As in the engine, the new revision descends from the previous one: it carries its ledger.
    plan = plan.model_copy(update={"escalations": previous.escalations})
    once = refresh_computed(plan.model_copy(deep=True), previous, NOW)
    twice = refresh_computed(once.model_copy(deep=True), previous, NOW)
    assert once == twice
