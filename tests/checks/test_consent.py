"""Consent integrity against the default policy table, and plans that tighten it."""

from __future__ import annotations

from personalization_engine.checks.run import run_checks
from personalization_engine.model.plan import ChannelConsentPolicy
from personalization_engine.model.stages import ConsentGrant, Scoring, WeightedCondition

from .helpers import clean_plan, grant, update_at, update_attribute


def consent_findings(plan):
    return [f for f in run_checks(plan) if f.code.startswith("consent.")]


def codes(plan):
    return [(f.code, f.pointer) for f in consent_findings(plan)]


def attribute(plan, name):
    return next(a for a in plan.attributes if a.name == name)


def test_an_attribute_without_the_channel_purpose_fails_consent_naming_attribute_and_purpose():
    plan = clean_plan()
    plan = update_attribute(
        plan, "trial_day", consent=(ConsentGrant(purpose="analytics", lawful_basis="consent"),)
    )
    findings = [f for f in run_checks(plan) if f.code == "consent.purpose_not_granted"]
    assert [f.pointer for f in findings] == ["/activations/0", "/activations/1"]
    assert "trial_day (no email_marketing grant)" in findings[0].message
    assert "trial_day (no in_app_messaging grant)" in findings[1].message


def test_email_accepts_legitimate_interest_but_web_does_not():
    plan = clean_plan()
    grants = (
        grant("email_marketing", "legitimate_interest"),
        grant("onsite_personalization", "legitimate_interest"),
        grant("in_app_messaging", "contract"),
    )
    plan = plan.model_copy(
        update={"attributes": tuple(a.model_copy(update={"consent": grants}) for a in plan.attributes)}
    )
    assert [c for c in codes(plan) if c[0].startswith("consent.")] == [
        ("consent.purpose_not_granted", "/activations/2")
    ]


def test_a_plan_policy_can_refuse_soft_opt_in_on_email():
    plan = clean_plan()
    consent = list(attribute(plan, "plan_tier").consent)
    consent[2] = grant("email_marketing", "legitimate_interest")
    plan = update_attribute(plan, "plan_tier", consent=tuple(consent))
    assert run_checks(plan) == []
    plan = plan.model_copy(
        update={"consent_policy": {"email": ChannelConsentPolicy(accepted_bases=["consent"])}}
    )
    (finding,) = consent_findings(plan)
    assert (finding.code, finding.pointer) == ("consent.purpose_not_granted", "/activations/0")
    assert "plan_tier (email_marketing on legitimate_interest)" in finding.message


def test_profiling_on_in_app_requires_consent_not_contract():
    plan = clean_plan()
    scoring = Scoring(
        conditions=[WeightedCondition(when={"op": "gte", "attr": "trial_day", "value": 3}, weight=1)],
        threshold=1,
    )
    plan = plan.model_copy(update={"profiles": update_at(plan.profiles, 0, scoring=scoring)})
    findings = consent_findings(plan)
    assert [(f.code, f.pointer) for f in findings] == [("consent.purpose_not_granted", "/activations/1")]
    assert "scores people" in findings[0].message


def test_suppression_attributes_need_no_purpose_grant():
    plan = clean_plan()
    plan = update_attribute(
        plan, "email_unsubscribed", consent=(ConsentGrant(purpose="analytics", lawful_basis="consent"),)
    )
    assert run_checks(plan) == []


def test_missing_gate_names_the_signal_and_free_wording_counts():
    plan = clean_plan()
    plan = plan.model_copy(
        update={"activations": update_at(plan.activations, 0, consent_gate=("Email opt-in flag is true",))}
    )
    (finding,) = consent_findings(plan)
    assert finding.code == "consent.gate_missing"
    assert finding.pointer == "/activations/0/consent_gate"
    assert "does not gate on not_unsubscribed" in finding.message


def test_a_plan_policy_can_require_an_extra_gate_and_purpose():
    plan = clean_plan()
    policy = ChannelConsentPolicy(required_gates=["TCF purpose 5"], required_purposes=["analytics"])
    plan = plan.model_copy(update={"consent_policy": {"web": policy}})
    findings = {(f.code, f.pointer) for f in run_checks(plan)}
    assert findings >= {
        ("consent.gate_missing", "/activations/2/consent_gate"),
        ("consent.required_purpose_not_granted", "/activations/2"),
    }
    gates = (*plan.activations[2].consent_gate, "tcf_purpose_5")
    plan = plan.model_copy(update={"activations": update_at(plan.activations, 2, consent_gate=gates)})
    assert ("consent.gate_missing", "/activations/2/consent_gate") not in {
        (f.code, f.pointer) for f in run_checks(plan)
    }


def test_a_loosening_override_is_reported_and_ignored():
    plan = clean_plan()
    policy = ChannelConsentPolicy(accepted_bases=["consent", "legitimate_interest"])
    plan = plan.model_copy(update={"consent_policy": {"sales": policy}})
    (finding,) = run_checks(plan)
    assert (finding.code, finding.pointer) == (
        "consent.policy_loosens",
        "/consent_policy/sales/accepted_bases/0",
    )
    assert "'consent'" in finding.message


def test_pii_to_a_destination_not_marked_for_pii_names_the_attribute():
    plan = clean_plan()
    plan = plan.model_copy(update={"activations": update_at(plan.activations, 0, pii_allowed=False)})
    (finding,) = consent_findings(plan)
    assert finding.code == "consent.pii_to_non_pii_destination"
    assert finding.pointer == "/activations/0/payload_attributes/0"
    assert "direct attribute 'email' to Braze" in finding.message


def test_special_category_data_in_targeting_fails_every_activation_of_the_profile():
    plan = clean_plan()
    plan = update_attribute(plan, "trial_day", pii_class="special_category")
    findings = consent_findings(plan)
    assert [(f.code, f.pointer) for f in findings] == [
        ("consent.special_category_targeting", "/profiles/0/eligibility/all/2/attr")
    ]
    metric = [f for f in run_checks(plan) if f.code == "metric.below_target"]
    assert [f.pointer for f in metric] == ["/success_metrics/consent_integrity_pct/actual"]
    assert "is 33.33%" in metric[0].message
