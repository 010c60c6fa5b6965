"""lift.* findings and each profile's minimum detectable effect, read from the stored plan."""

from __future__ import annotations

import pytest

from personalization_engine.checks.lift import lift_findings, plan_power
from personalization_engine.model import Plan
from personalization_engine.stats.power import minimum_detectable_effect

from .fixtures.make_plans import golden_plan


def _plan(**lift) -> Plan:
    document = golden_plan()
    document["success_metrics"]["activation_lift"].update(lift)
    return Plan.model_validate(document)


def _codes(plan: Plan) -> list[str]:
    return [f.code for f in lift_findings(plan)]


def test_a_plan_share_above_half_is_an_error_and_profiles_inheriting_it_get_no_mde():
    plan = _plan()
    assert "lift.holdout_share_too_large" in _codes(plan)
    assert [p.profile_id for p in plan_power(plan)] == ["active_pro", "dormant_users"]


def test_baseline_rate_wins_over_the_readout_and_clears_baseline_unknown():
    plan = _plan(holdout_share=0.1, baseline_rate=0.3)
    powers = {p.profile_id: p for p in plan_power(plan)}
    assert set(powers) == {"trial_not_activated", "active_pro", "dormant_users"}
    assert {p.baseline_source for p in powers.values()} == {"baseline_rate"}
    assert powers["trial_not_activated"].n_holdout == pytest.approx(500)
    assert _codes(plan) == ["lift.underpowered"] * 3  # 5% is below every profile's MDE here


def test_the_measured_treatment_and_holdout_split_is_used_when_sizing_has_it():
    document = golden_plan()
    document["success_metrics"]["activation_lift"].update(holdout_share=0.1, baseline_rate=0.3)
    for size in document["sizing_runs"][0]["profiles"]:
        size.update(treatment=size["winner"] - 7, holdout=7)
    powers = plan_power(Plan.model_validate(document))
    assert {(p.n_treatment, p.n_holdout) for p in powers} == {(4993, 7), (1993, 7), (793, 7)}
    expected = minimum_detectable_effect(4993, 7, 0.3)
    assert powers[0].mde == expected


def test_a_target_above_the_mde_raises_nothing_and_a_negative_target_is_compared_by_size():
    assert _codes(_plan(holdout_share=0.5, baseline_rate=0.3, target_pct=90)) == []
    assert _codes(_plan(holdout_share=0.5, baseline_rate=0.3, target_pct=-90)) == []
    assert _codes(_plan(holdout_share=0.5, baseline_rate=0.3, target_pct=-5)) == ["lift.underpowered"] * 3


def test_no_activation_lift_or_no_sizing_run_means_no_lift_findings():
    document = golden_plan()
    document["success_metrics"]["activation_lift"] = None
    assert _codes(Plan.model_validate(document)) == []
    document = golden_plan()
    document["sizing_runs"] = []
    assert _codes(Plan.model_validate(document)) == ["lift.holdout_share_too_large"]
