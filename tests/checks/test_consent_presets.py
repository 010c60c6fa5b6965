"""Consent presets: legal regimes and signal frameworks derive the policy; constraints that name a
regime without its preset, and grants without evidence or a confirming person, are findings."""

from __future__ import annotations

from personalization_engine.checks.consent_policy import DEFAULT_POLICY, effective_policy
from personalization_engine.checks.run import run_checks
from personalization_engine.model.plan import ChannelConsentPolicy
from personalization_engine.model.stages import ConsentGrant

from .helpers import clean_plan, grant, update_attribute


def with_presets(plan, regimes=(), signals=(), **update):
    return plan.model_copy(
        update={"consent_regimes": tuple(regimes), "consent_signals": tuple(signals), **update}
    )


def gate_names(plan, channel):
    return [g.signal for g in effective_policy(plan, channel).gates]


def found(plan, *codes):
    return [(f.code, f.severity, f.pointer) for f in run_checks(plan) if f.code in codes]


def test_a_plan_without_regimes_keeps_the_default_policy_channel_by_channel():
    plan = clean_plan()
    for channel, default in DEFAULT_POLICY.items():
        policy = effective_policy(plan, channel)
        assert (policy.bases, policy.profiling_bases, policy.gates) == (
            default.bases,
            default.profiling_bases,
            default.gates,
        )
        assert policy.sensitive_bases is None


def test_gdpr_eprivacy_asks_consent_for_in_app_and_storage_gates_the_app():
    plan = with_presets(clean_plan(), ["gdpr-eprivacy"])
    assert effective_policy(plan, "in-app").bases == ("consent",)
    assert gate_names(plan, "in-app") == ["in_app_messaging_enabled", "personalization_storage"]
    # The clean plan's in-app grants rest on contract, which GDPR with ePrivacy does not accept here.
    assert found(plan, "consent.purpose_not_granted", "consent.gate_missing") == [
        ("consent.purpose_not_granted", "error", "/activations/1"),
        ("consent.gate_missing", "error", "/activations/1/consent_gate"),
    ]


def test_gdpr_eprivacy_does_not_model_the_email_soft_opt_in():
    plan = clean_plan()
    consent = list(plan.attributes[2].consent)
    consent[2] = grant("email_marketing", "legitimate_interest")
    plan = update_attribute(plan, "plan_tier", consent=tuple(consent))
    assert found(plan, "consent.purpose_not_granted") == []
    plan = with_presets(plan, ["uk-gdpr"])
    assert ("consent.purpose_not_granted", "error", "/activations/0") in found(
        plan, "consent.purpose_not_granted"
    )


def test_cpra_accepts_opt_out_on_ads_and_gates_sale_on_the_opt_out_and_gpc():
    plan = with_presets(clean_plan(), ["cpra"])
    ads = effective_policy(plan, "ads")
    assert ads.bases == ("consent", "opt_out")
    assert gate_names(plan, "ads") == ["not_opted_out_of_sale", "gpc_not_set"]
    assert ads.sensitive_bases == ("consent",)


def test_two_regimes_combine_to_what_satisfies_both():
    plan = with_presets(clean_plan(), ["gdpr-eprivacy", "cpra"])
    assert effective_policy(plan, "email").bases == ("consent",)
    assert effective_policy(plan, "sales").bases == ("legitimate_interest",)
    assert gate_names(plan, "ads") == ["ads_consent", "not_opted_out_of_sale", "gpc_not_set"]
    assert effective_policy(plan, "web").sensitive_bases == ("consent",)
    assert "opt_out" not in effective_policy(plan, "web").purpose_bases["analytics"]


def test_the_plans_override_narrows_a_regime_policy_and_cannot_loosen_it():
    narrowed = with_presets(
        clean_plan(), ["cpra"], consent_policy={"web": ChannelConsentPolicy(accepted_bases=["consent"])}
    )
    assert effective_policy(narrowed, "web").bases == ("consent",)
    loosening = with_presets(
        clean_plan(),
        ["gdpr-eprivacy"],
        consent_policy={"email": ChannelConsentPolicy(accepted_bases=["consent", "legitimate_interest"])},
    )
    assert effective_policy(loosening, "email").loosened == ((1, "legitimate_interest"),)
    assert found(loosening, "consent.policy_loosens") == [
        ("consent.policy_loosens", "error", "/consent_policy/email/accepted_bases/1")
    ]


def test_signal_frameworks_add_their_gates_and_never_change_the_bases():
    plan = with_presets(clean_plan(), ["cpra"], ["tcf-v2.2", "google-consent-mode-v2"])
    assert gate_names(plan, "web") == ["tcf_purpose_1", "tcf_purpose_6", "personalization_storage"]
    assert gate_names(plan, "ads")[-2:] == ["ad_user_data", "ad_personalization"]
    assert effective_policy(plan, "ads").bases == ("consent", "opt_out")
    # The clean plan's web activation gates on Consent Mode personalization_storage, not on TCF.
    gate = [f for f in run_checks(plan) if f.code == "consent.gate_missing"]
    assert [f.pointer for f in gate] == ["/activations/2/consent_gate"]
    assert "tcf_purpose_1, tcf_purpose_6" in gate[0].message


def test_consent_mode_gates_analytics_storage_where_the_plan_requires_analytics():
    policy = ChannelConsentPolicy(required_purposes=["analytics"])
    plan = with_presets(clean_plan(), signals=["google-consent-mode-v2"], consent_policy={"web": policy})
    assert "analytics_storage" in gate_names(plan, "web")
    assert "analytics_storage" not in gate_names(plan, "email")


def test_under_cpra_sensitive_data_sent_on_an_opt_out_grant_is_not_enough():
    plan = update_attribute(
        with_presets(clean_plan(), ["cpra"]), "email", consent=(grant("email_marketing", "opt_out"),)
    )
    assert found(plan, "consent.purpose_not_granted") == []
    plan = update_attribute(plan, "email", pii_class="sensitive")
    (finding,) = [f for f in run_checks(plan) if f.code == "consent.purpose_not_granted"]
    assert finding.pointer == "/activations/0"
    assert "email (email_marketing on opt_out) [sensitive data: consent only]" in finding.message


def test_targeting_on_sensitive_data_is_refused_like_special_category_data():
    plan = update_attribute(clean_plan(), "trial_day", pii_class="sensitive")
    (finding,) = [f for f in run_checks(plan) if f.code == "consent.special_category_targeting"]
    assert finding.pointer == "/profiles/0/eligibility/all/2/attr"
    assert "sensitive attribute 'trial_day' (CPRA sensitive personal information" in finding.message


def test_a_constraint_naming_a_regime_without_its_preset_is_an_error_and_a_framework_a_warning():
    constraints = ("UK GDPR and PECR for UK users", "TCF v2.2 banner on web", "CCPA/CPRA for California")
    plan = clean_plan().model_copy(update={"constraints": constraints})
    assert found(plan, "consent.regime_not_applied") == [
        ("consent.regime_not_applied", "error", "/constraints/0"),
        ("consent.regime_not_applied", "error", "/constraints/2"),
        ("consent.regime_not_applied", "warning", "/constraints/1"),
    ]
    messages = " ".join(f.message for f in run_checks(plan) if f.code == "consent.regime_not_applied")
    assert "'gdpr-eprivacy'" not in messages  # "UK GDPR" names only uk-gdpr
    assert "add 'tcf-v2.2' to consent_signals" in messages
    applied = with_presets(plan, ["uk-gdpr", "cpra"], ["tcf-v2.2"])
    assert found(applied, "consent.regime_not_applied") == []


def test_only_grants_an_activation_relies_on_need_evidence_and_a_confirming_person():
    plan = clean_plan()
    bare = ConsentGrant(purpose="analytics", lawful_basis="consent")
    # Nobody relies on an analytics grant, nor on a suppression attribute's grants.
    plan = update_attribute(plan, "plan_tier", consent=(*plan.attributes[2].consent, bare))
    plan = update_attribute(plan, "email_unsubscribed", consent=(bare,))
    assert found(plan, "consent.evidence_missing", "consent.unconfirmed") == []
    consent = list(plan.attributes[2].consent)
    consent[2] = ConsentGrant(purpose="email_marketing", lawful_basis="consent")
    plan = update_attribute(plan, "plan_tier", consent=tuple(consent))
    assert found(plan, "consent.evidence_missing", "consent.unconfirmed") == [
        ("consent.evidence_missing", "warning", "/attributes/2/consent/2"),
        ("consent.unconfirmed", "warning", "/attributes/2/consent/2"),
    ]
    (unconfirmed,) = [f for f in run_checks(plan) if f.code == "consent.unconfirmed"]
    assert (
        f"`personalization-engine plans confirm-consent {plan.plan_id} --attribute plan_tier "
        "--purpose email_marketing`" in unconfirmed.message
    )
    # Warnings about the record do not count against consent integrity.
    assert plan.success_metrics.consent_integrity_pct.target == 100
    assert [f for f in run_checks(plan) if f.code == "metric.below_target"] == []
