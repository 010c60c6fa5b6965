"""What each export does with the plan's holdouts, short of running an engine (the engine proofs are
in test_dbt_engine.py, test_flagd.py, test_launchdarkly.py, test_growthbook.py and the agreements)."""

from __future__ import annotations

import json

import pytest

from personalization_engine.errors import InputError
from personalization_engine.export import build_export
from personalization_engine.model import Attribute, Plan

from .conftest import EXAMPLE_AT

FLAG_TARGETS = ("flagd", "launchdarkly", "growthbook")


def _lift(plan: Plan, **update) -> Plan:
    lift = plan.success_metrics.activation_lift
    assert lift is not None
    metrics = plan.success_metrics.model_copy(update={"activation_lift": lift.model_copy(update=update)})
    return plan.model_copy(update={"success_metrics": metrics})


def _without_holdouts(plan: Plan) -> Plan:
    metrics = plan.success_metrics.model_copy(update={"activation_lift": None})
    return plan.model_copy(update={"success_metrics": metrics})


def export(plan: Plan, target: str):
    return build_export(plan, target, exported_at=EXAMPLE_AT, draft=False)


@pytest.mark.parametrize("target", ["dbt", *FLAG_TARGETS])
def test_a_stored_plan_share_above_half_refuses_every_export_naming_the_field(demo_plan, target):
    with pytest.raises(InputError, match=r"0\.7 is outside \(0, 0\.5\]") as raised:
        export(_lift(demo_plan, holdout_share=0.7), target)
    assert raised.value.field == "success_metrics.activation_lift.holdout_share"


@pytest.mark.parametrize("target", FLAG_TARGETS)
def test_flag_exports_read_pe_holdout_only_when_a_profile_has_a_holdout(demo_plan, target):
    held = export(demo_plan, target)
    assert "pe_holdout" in "".join(held.files.values())
    assert "fails closed" in held.files["README.md"]
    plain = export(_without_holdouts(demo_plan), target)
    assert "pe_holdout" not in "".join(plain.files.values())


@pytest.mark.parametrize("target", FLAG_TARGETS)
def test_an_attribute_named_pe_holdout_is_refused_by_flag_exports_of_a_plan_with_holdouts(demo_plan, target):
    attributes = (*demo_plan.attributes, Attribute(name="pe_holdout", type="string"))
    plan = demo_plan.model_copy(update={"attributes": attributes})
    with pytest.raises(InputError, match="'pe_holdout' collides") as raised:
        export(plan, target)
    assert raised.value.field == f"/attributes/{len(attributes) - 1}/name"
    export(_without_holdouts(plan), target)  # without holdouts the name is free


def test_dbt_refuses_a_salt_holding_a_jinja_delimiter_and_quotes_any_other(demo_plan):
    with pytest.raises(InputError, match="Jinja delimiter") as raised:
        export(_lift(demo_plan, holdout_salt="a{{b"), "dbt")
    assert raised.value.field == "/success_metrics/activation_lift/holdout_salt"
    sql = export(_lift(demo_plan, holdout_salt="O'Brien ✓ {x}"), "dbt").files["pe_verdicts.sql"]
    assert "'O''Brien ✓ {x}'" in sql
    for target in FLAG_TARGETS:  # flags never see the salt
        export(_lift(demo_plan, holdout_salt="a{{b"), target)


def test_dbt_without_holdouts_marks_nobody_and_tests_in_holdout_false_everywhere(demo_plan):
    files = export(_without_holdouts(demo_plan), "dbt").files
    assert "MD5" not in files["pe_verdicts.sql"].upper()
    assert "holds nobody out" in files["README.md"]
    schema = files["schema.yml"]
    assert "in_holdout" in schema and "where:" not in schema


def test_dbt_refuses_holdouts_over_a_timestamp_record_id(demo_plan):
    attributes = tuple(
        a.model_copy(update={"type": "timestamp"}) if a.name == "user_id" else a for a in demo_plan.attributes
    )
    with pytest.raises(InputError, match="has no canonical text for the holdout hash"):
        export(demo_plan.model_copy(update={"attributes": attributes}), "dbt")


def test_the_flagd_holdout_rule_wraps_the_consent_gate_and_defaults_to_none(demo_plan):
    web = json.loads(export(demo_plan, "flagd").files["flags.flagd.json"])["flags"]["profile-web"]
    outcome = web["targeting"]["if"][1]
    treated, inner, otherwise = outcome["if"]
    assert {"!==": [{"var": "pe_holdout"}, "new-trial-activation"]} in treated["and"]
    assert otherwise == "none" and inner["if"][1] == "new-trial-activation"
