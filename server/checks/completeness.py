"""Completeness: what each stage must record before the plan can be executed and audited."""

from __future__ import annotations

from ..model import STAGES
from ..model.findings import Finding
from .owners import absence, available_fallback
from .usage import PlanIndex, name_list

# (field, code, what to record) for every attribute field that spec coverage counts.
_ATTRIBUTE_FIELDS = (
    ("source_id", "complete.attribute_no_source", "the data source it comes from (source_id)"),
    ("type", "complete.attribute_no_type", "its type"),
    ("refresh_cadence", "complete.attribute_no_cadence", "how often it is refreshed (refresh_cadence)"),
    ("freshness_sla", "complete.attribute_no_sla", "the maximum age consumers accept (freshness_sla)"),
    (
        "consent",
        "complete.attribute_no_consent",
        "a consent rule: the purposes it may serve and on which basis",
    ),
)


def completeness_findings(index: PlanIndex) -> list[Finding]:
    return [
        *_attributes(index),
        *_profiles(index),
        *_activations(index),
        *_stage_owners(index),
        *_absent_owners(index),
        *_ladder(index),
    ]


def _attributes(index: PlanIndex) -> list[Finding]:
    findings = []
    for i, attribute in enumerate(index.plan.attributes):
        for field, code, what in _ATTRIBUTE_FIELDS:
            if not getattr(attribute, field):
                findings.append(
                    Finding(
                        code=code,
                        severity="warning",
                        pointer=f"/attributes/{i}/{field}",
                        message=f"attribute {attribute.name!r} has no {field}; record {what}",
                        stage="attributes",
                    )
                )
    return findings


def _profiles(index: PlanIndex) -> list[Finding]:
    findings = []
    for i, profile in enumerate(index.plan.profiles):
        checks = (
            (profile.suppression is None, "complete.profile_no_suppression", "suppression",
             "has no suppression logic; add a suppression rule (e.g. unsubscribed, churned, recently "
             "converted)"),
            (not profile.fallback, "complete.profile_no_fallback", "fallback",
             "has no fallback; say what a person gets when data is missing or the profile cannot decide"),
            (not profile.owner, "complete.profile_no_owner", "owner", "has no owner; name who owns it"),
            (not profile.backup_owner, "complete.profile_no_backup", "backup_owner",
             "has no backup owner; name who acts when the owner is away"),
        )  # fmt: skip
        findings += [
            Finding(
                code=code,
                severity="warning",
                pointer=f"/profiles/{i}/{field}",
                message=f"profile {profile.id!r} {text}",
                stage="profiles",
            )
            for missing, code, field, text in checks
            if missing
        ]
    return findings


def _activations(index: PlanIndex) -> list[Finding]:
    findings = []
    for i, activation in enumerate(index.plan.activations):
        key = f"{activation.profile_id}/{activation.channel}"
        if not activation.fallback_state:
            findings.append(
                Finding(
                    code="complete.activation_no_fallback",
                    severity="warning",
                    pointer=f"/activations/{i}/fallback_state",
                    message=f"activation {key} has no fallback_state; say what the channel shows when "
                    "the profile is unknown or the sync fails",
                    stage="activation",
                )
            )
        if activation.sync_mode in ("real_time", "streaming") and activation.latency_sla is None:
            findings.append(
                Finding(
                    code="complete.activation_no_latency_sla",
                    severity="info",
                    pointer=f"/activations/{i}/latency_sla",
                    message=f"activation {key} syncs in {activation.sync_mode} but has no latency_sla, so "
                    "the freshness of its inputs cannot be checked; set latency_sla (e.g. '15m')",
                    stage="activation",
                )
            )
    return findings


def _stage_owners(index: PlanIndex) -> list[Finding]:
    owners = index.plan.governance.owners
    by_area = {o.area: (k, o) for k, o in reversed(list(enumerate(owners)))}
    program = by_area.get("program")
    findings = []
    unowned = [s for s in STAGES if s not in by_area and program is None]
    if unowned:
        findings.append(
            Finding(
                code="complete.stage_no_owner",
                severity="warning",
                pointer="/governance/owners",
                message=f"stages without an owner: {name_list(unowned)}; add governance owners with area "
                "set to the stage name, or one with area 'program' for all stages",
                stage="governance",
            )
        )
    findings += [
        Finding(
            code="complete.owner_no_backup",
            severity="warning",
            pointer=f"/governance/owners/{k}/backup",
            message=f"owner {o.owner!r} of {o.area!r} has no backup; name who acts when they are away",
            stage="governance",
        )
        for k, o in enumerate(owners)
        if not o.backup
    ]
    return findings


def _absent_owners(index: PlanIndex) -> list[Finding]:
    plan, on = index.plan, index.as_of
    findings = []
    for k, owner in enumerate(plan.governance.owners):
        if (
            absence(plan, owner.owner, on) is owner
            and available_fallback(plan, owner.owner, None, on) is None
        ):
            until = f"until {owner.absent_until.isoformat()}" if owner.absent_until else "with no return date"
            findings.append(
                Finding(
                    code="complete.absent_owner_no_fallback",
                    severity="error",
                    pointer=f"/governance/owners/{k}/availability",
                    message=f"owner {owner.owner!r} of {owner.area!r} is absent {until} and has no "
                    "available fallback; set a backup or add an error_handling.fallback_owners entry",
                    stage="governance",
                )
            )
    return findings


def _ladder(index: PlanIndex) -> list[Finding]:
    return [
        Finding(
            code="complete.ladder_rung_no_owner",
            severity="info",
            pointer=f"/error_handling/escalation_ladder/{k}/owner",
            message=f"escalation rung {k + 1} ({rung.role}) names no owner, so escalations to it reach a "
            "role, not a person; set owner",
            stage="governance",
        )
        for k, rung in enumerate(index.plan.error_handling.escalation_ladder)
        if not rung.owner
    ]
