"""The LaunchDarkly export, proven by LaunchDarkly's Python server SDK reading it offline through its
file data source (events off, a guard failing any connection that leaves the machine)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from ldclient.version import VERSION

from personalization_engine.export import build_export
from personalization_engine.model import Plan
from personalization_engine.rules import simulate

from .conftest import EXAMPLE_AT
from .holdout_context import allows
from .launchdarkly_sdk import same_in_yaml, sdk_verdicts

FLAG = "personalization-in-app"


def export(plan: Plan, at: datetime = EXAMPLE_AT, draft: bool = False):
    return build_export(plan, "launchdarkly", exported_at=at, draft=draft)


def demo_records(plan: Plan) -> list[dict[str, Any]]:
    """The worked example's scenarios, each with every consent combination, and window edges."""
    records = []
    holdouts = ["", "new-trial-activation", "stalled-trial", None]  # synced, held out, absent
    for scenario in plan.scenarios:
        for consent in (True, False, None):
            for disabled in (False, True, None):
                for held in holdouts:
                    gate = {"personalization_consent": consent, "in_app_messaging_disabled": disabled}
                    records.append({**scenario.record, **gate, "pe_holdout": held})
    fresh = dict(
        plan.scenarios[0].record, personalization_consent=True, in_app_messaging_disabled=False, pe_holdout=""
    )
    cutoff = EXAMPLE_AT - timedelta(days=14)
    for delta in (-1, 0, 1):  # microseconds around the frozen 14-day window
        moment = cutoff + timedelta(microseconds=delta)
        records.append({**fresh, "signup_at": moment.isoformat()})
    return records


def expected(plan: Plan, bundle, records) -> list[tuple[set[str], str]]:
    """Our evaluator at the export instant: members among the carried profiles, and the in-app flag."""
    verdicts = simulate(plan, records, EXAMPLE_AT, explain=False).records
    out = []
    for record, verdict in zip(records, verdicts, strict=True):
        members = {p for p in verdict.members if p in bundle.profiles}
        winner = next((p for p in verdict.members if p in bundle.profiles), None)
        consent = record.get("personalization_consent") is True
        consent = consent and record.get("in_app_messaging_disabled") is False
        treated = winner is not None and allows(plan, winner, record)
        out.append((members, winner if winner == "new-trial-activation" and consent and treated else "none"))
    return out


def test_the_demo_plan_exports_and_the_sdk_reads_it_offline(demo_plan, tmp_path):
    bundle = export(demo_plan)
    assert VERSION.split(".")[0] == "9", VERSION  # pyproject pins >=9.10,<10; proven on 9.20.0
    assert sorted(bundle.files) == ["README.md", "flags.json"]
    assert [(r.profile_id, r.channel, r.pointer, r.condition) for r in bundle.refusals] == [
        ("team-expansion", None, "/profiles/2/scoring/decay", "last_active_at half-life 7d")
    ]
    assert bundle.profiles == ("new-trial-activation", "stalled-trial", "power-user-upgrade", "dormant-free")
    assert bundle.carriers == {"new-trial-activation/in-app": "flags.json"}
    assert bundle.cutoff_at == EXAMPLE_AT
    frozen = [(c.profile_id, c.condition, c.cutoff.isoformat(), c.allowed_age) for c in bundle.cutoffs]
    assert sorted(frozen) == [
        ("dormant-free", "last_active_at not within the last 30d", "2026-10-25T09:00:00+00:00", "1d"),
        ("new-trial-activation", "signup_at within the last 14d", "2026-11-10T09:00:00+00:00", "1h"),
        ("power-user-upgrade", "last_active_at within the last 7d", "2026-11-17T09:00:00+00:00", "1d"),
        ("stalled-trial", "last_active_at not within the last 3d", "2026-11-21T09:00:00+00:00", "1d"),
    ]
    document = json.loads(bundle.files["flags.json"])
    assert document["_meta"]["cutoffs"][1]["cutoff"] == "2026-11-10T09:00:00Z"
    assert document["_meta"]["refusals"][0]["profile_id"] == "team-expansion"
    assert list(document["flags"]) == [FLAG]
    assert document["flags"][FLAG]["variations"] == ["new-trial-activation", "none"]
    for text in bundle.files.values():
        assert "plan-20261124T090000Z" in text and str(demo_plan.revision) in text and "DRAFT" not in text
    assert same_in_yaml(bundle.files["flags.json"])
    records = demo_records(demo_plan)
    assert sdk_verdicts(tmp_path, demo_plan, bundle, records, FLAG) == expected(demo_plan, bundle, records)
    assert any(flag == "new-trial-activation" for _, flag in expected(demo_plan, bundle, records))


def test_scenarios_land_in_their_expected_profiles_through_the_sdk(demo_plan, tmp_path):
    bundle = export(demo_plan)
    records = [s.record for s in demo_plan.scenarios]
    got = sdk_verdicts(tmp_path, demo_plan, bundle, records)
    order = ["new-trial-activation", "stalled-trial", "power-user-upgrade", "dormant-free"]
    for scenario, (members, _) in zip(demo_plan.scenarios, got, strict=True):
        winner = next((p for p in order if p in members), None)
        assert winner == scenario.expected_profile, scenario.id


def test_the_consent_gate_travels_with_the_flag(demo_plan, tmp_path):
    """A member of new-trial-activation gets it on in-app only with personalization_consent true and
    in_app_messaging_disabled false; false or missing consent gives "none"."""
    bundle = export(demo_plan)
    rule = json.loads(bundle.files["flags.json"])["flags"][FLAG]["rules"][0]
    assert {"attribute": "personalization_consent", "op": "in", "values": [True], "negate": False} in rule[
        "clauses"
    ]
    assert {"attribute": "in_app_messaging_disabled", "op": "in", "values": [False], "negate": False} in rule[
        "clauses"
    ]
    fresh = demo_plan.scenarios[0].record
    cases = [
        ({"personalization_consent": True, "in_app_messaging_disabled": False}, "new-trial-activation"),
        ({"personalization_consent": False, "in_app_messaging_disabled": False}, "none"),
        ({"in_app_messaging_disabled": False}, "none"),
        ({"personalization_consent": True}, "none"),
        ({"personalization_consent": True, "in_app_messaging_disabled": True}, "none"),
    ]
    records = [{**fresh, **extra, "pe_holdout": ""} for extra, _ in cases]
    got = sdk_verdicts(tmp_path, demo_plan, bundle, records, FLAG)
    assert [flag for _, flag in got] == [want for _, want in cases]
    assert all("new-trial-activation" in members for members, _ in got)


def test_a_draft_says_so_in_every_file_and_reexports_are_identical(demo_plan):
    draft = export(demo_plan, draft=True)
    for text in draft.files.values():
        assert "DRAFT" in text
    assert json.loads(draft.files["flags.json"])["_meta"]["draft"] is True
    assert export(demo_plan).files == export(demo_plan).files
    # The export time reaches the files only through the frozen cutoffs; in another zone it is the same.
    elsewhere = export(demo_plan, EXAMPLE_AT.astimezone(timezone(timedelta(hours=5, minutes=30))))
    assert elsewhere.files == export(demo_plan).files
    assert "2026-11-24T09:00" not in "".join(export(demo_plan).files.values())


@pytest.mark.parametrize(
    ("name", "kind", "pii", "expected"),
    [
        ("key", "string", "none", "'key', which LaunchDarkly reserves"),
        ("kind", "string", "none", "'kind', which LaunchDarkly reserves"),
        ("anonymous", "boolean", "none", "'anonymous', which LaunchDarkly reserves"),
        ("name", "integer", "none", "hold as a string only"),
        ("email", "string", "direct", "classed direct personal data"),
        ("health_note", "string", "special_category", "classed special_category personal data"),
        ("religion", "string", "sensitive", "classed sensitive personal data"),
    ],
)
def test_an_attribute_the_context_cannot_carry_refuses_the_export(name, kind, pii, expected):
    value = {"string": "x", "integer": 1, "boolean": True}[kind]
    plan = custom_plan(
        [{"id": "p", "name": "P", "priority": 1, "eligibility": {"op": "eq", "attr": name, "value": value}}],
        [{"name": name, "type": kind, "pii_class": pii}],
    )
    from personalization_engine.errors import InputError

    with pytest.raises(InputError) as raised:
        export(plan)
    message = str(raised.value)
    assert expected in message and "profile 'p'" in message
    assert "key, kind, _meta and anonymous" in message and "pii_class none or pseudonymous" in message
    assert raised.value.field == "/profiles/0/eligibility/attr"


def custom_plan(
    bodies: list[dict[str, Any]],
    attributes: list[dict[str, Any]],
    activations: list[dict[str, Any]] | None = None,
) -> Plan:
    from ..rules.helpers import make_plan

    data = make_plan(bodies, attributes=attributes).model_dump(mode="json", by_alias=True, exclude_none=True)
    data["channels"] = ["web", "in-app"]
    data["activations"] = activations or []
    return Plan.model_validate(data)


def test_the_context_carries_typed_values_and_no_direct_personal_data(demo_plan):
    from personalization_engine.export.launchdarkly_clauses import context_attributes

    record = {
        "user_id": "u1",
        "email": "a@example.com",
        "signup_at": "2026-11-22T09:00:00.000250+01:00",
        "trial_ends_at": None,
        "projects_created": "3",
        "feature_adoption_score": 82,
        "email_opt_in": "true",
    }
    assert context_attributes(demo_plan, record) == {
        "user_id": "u1",
        "signup_at": 1795334400000.25,  # 2026-11-22T08:00:00.000250Z
        "projects_created": 3,
        "feature_adoption_score": 82.0,
        "email_opt_in": True,
    }


def test_the_network_guard_fails_a_connection_that_leaves_the_machine():
    import socket

    from .network_guard import NetworkUsed, no_network

    real = (socket.socket.connect, socket.getaddrinfo)
    with no_network() as attempts:
        with pytest.raises(NetworkUsed):
            socket.create_connection(("192.0.2.1", 443), timeout=1)
        with pytest.raises(NetworkUsed), socket.socket(socket.AF_INET, socket.SOCK_STREAM) as raw:
            raw.connect(("198.51.100.7", 443))
    assert len(attempts) == 2
    assert (socket.socket.connect, socket.getaddrinfo) == real


def test_a_consent_gate_on_personal_data_refuses_the_export_naming_the_entry(demo_plan):
    from personalization_engine.errors import InputError

    data = demo_plan.model_dump(mode="json", by_alias=True, exclude_none=True)
    for attribute in data["attributes"]:
        if attribute["name"] == "personalization_consent":
            attribute["pii_class"] = "sensitive"
    with pytest.raises(InputError) as raised:
        export(Plan.model_validate(data))
    assert raised.value.field == "/activations/0/consent_gate/1"
    assert "'personalization_consent', classed sensitive personal data" in str(raised.value)
