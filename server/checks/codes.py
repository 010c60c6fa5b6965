"""The registry of every finding code the checks emit; docs/findings.md documents each one."""

from __future__ import annotations

from ..rules import RULE_FINDING_CODES
from .exports import EXPORT_FINDING_CODES
from .final_findings import FINAL_FINDING_CODES
from .lift import LIFT_FINDING_CODES
from .sizing import AUDIENCE_FINDING_CODES

CHECK_FINDING_CODES: dict[str, str] = {
    # structure
    "structure.duplicate_key": "Two items in a keyed list share a key (refused on write).",
    # cross-references
    "ref.unknown_attribute": "An activation sends an attribute that is not inventoried.",
    "ref.unknown_profile": "An activation or scenario names a profile that is not defined.",
    "ref.unknown_channel": "An activation uses a channel that is not one of the plan's channels.",
    "ref.channel_without_activation": "A channel of the plan has no activation.",
    "ref.profile_without_activation": "A profile is not activated on any channel.",
    "ref.unknown_persona": "A profile names a persona that intake does not define.",
    "ref.unknown_lifecycle_stage": "A profile names a lifecycle stage that intake does not define.",
    "ref.unknown_source": "An attribute names a data source that is not in data_sources.",
    # completeness
    "complete.attribute_no_source": "An attribute has no source_id.",
    "complete.attribute_no_type": "An attribute has no type.",
    "complete.attribute_no_cadence": "An attribute has no refresh_cadence.",
    "complete.attribute_no_sla": "An attribute has no freshness_sla.",
    "complete.attribute_no_consent": "An attribute has no consent rule.",
    "complete.profile_no_suppression": "A profile has no suppression logic.",
    "complete.profile_no_fallback": "A profile has no fallback.",
    "complete.profile_no_owner": "A profile has no owner.",
    "complete.profile_no_backup": "A profile has no backup owner.",
    "complete.activation_no_fallback": "An activation has no fallback_state.",
    "complete.activation_no_latency_sla": "A real-time or streaming activation has no latency_sla.",
    "complete.stage_no_owner": "Stages without a governance owner.",
    "complete.owner_no_backup": "A governance owner has no backup.",
    "complete.absent_owner_no_fallback": "An absent governance owner has no available fallback.",
    "complete.ladder_rung_no_owner": "An escalation ladder rung names no owner.",
    # consent integrity
    "consent.purpose_not_granted": "An activation uses attributes that do not allow the channel's purpose "
    "on an accepted basis.",
    "consent.required_purpose_not_granted": "An activation uses attributes that lack a purpose the plan's "
    "policy adds.",
    "consent.gate_missing": "An activation does not gate on the consent signals its channel requires.",
    "consent.pii_to_non_pii_destination": "A PII attribute is sent to a destination not marked for PII.",
    "consent.pii_denied_by_policy": "A PII attribute is sent on a channel whose plan policy allows no PII.",
    "consent.special_category_targeting": "A profile targets on special-category data.",
    "consent.policy_loosens": "The plan's consent policy adds a lawful basis the default does not accept.",
    # consent records and presets (issue 15, consent part)
    "consent.evidence_missing": "A consent grant an activation relies on has no evidence.",
    "consent.unconfirmed": "A consent grant an activation relies on was confirmed by no person.",
    "consent.regime_not_applied": "A constraint names a consent regime or signal framework whose preset "
    "the plan does not apply.",
    # freshness
    "fresh.profile_sla": "A profile's inputs refresh less often than its latency_sla.",
    "fresh.activation_sla": "An activation's inputs refresh less often than its latency_sla.",
    "fresh.sync_slower_than_sla": "An activation's sync mode cannot meet its latency_sla.",
    "fresh.attribute_sla": "An attribute refreshes less often than its own freshness_sla.",
    "fresh.source_slower_than_cadence": "An attribute claims a faster refresh than its source has.",
    # dependency graph
    "graph.unknown_node": "A dependency edge names a node that is not in the graph.",
    "graph.cycle": "The dependency graph has a cycle.",
    "graph.pattern_mismatch": "The declared pattern does not match the stage graph.",
    "graph.stage_missing": "Stages are missing from the dependency graph.",
    # metrics
    "metric.below_target": "A computed success metric is below its target.",
    "metric.channel_below_target": "A channel's activation readiness is below the readiness target.",
    "metric.actual_mismatch": "A stored metric actual differs from what the plan computes to.",
    # ledger
    "ledger.blocker_open": "A blocker is open.",
    "ledger.escalation_open": "An escalation is open.",
    "approval.missing": "A role that must approve has no recorded approval.",
    "approval.stale": "An approval predates a content change.",
    "approval.not_approved": "The latest decision of a role is 'rejected' or 'changes_requested'.",
    "approval.unknown_role": "An approval is for a role that approves nothing in this plan.",
    # consent-flow QA (record_qa_result)
    "qa.flow_missing": "A web or in-app activation has no qa_flow to check.",
    "qa.missing": "An activation's consent flow has no QA result.",
    "qa.failed": "The latest QA result of an activation's consent flow failed.",
    "qa.stale": "The latest QA result of a consent flow is older than the governance qa_cadence.",
    # finalize (issue 15)
    **FINAL_FINDING_CODES,
    **EXPORT_FINDING_CODES,
    # holdouts and power before launch (issue 17)
    **LIFT_FINDING_CODES,
    # approvals that mean something (issue 15)
    "approval.reported": "The latest approval of a required role is only reported, not confirmed.",
}

# Every code run_checks can emit: the checks' own, the latest sizing run's and the rules layer's.
FINDING_CODES: dict[str, str] = {**CHECK_FINDING_CODES, **AUDIENCE_FINDING_CODES, **RULE_FINDING_CODES}
