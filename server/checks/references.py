"""Cross-references: every name a plan uses must point at something the plan defines."""

from __future__ import annotations

from ..model.findings import Finding
from .usage import PlanIndex


def reference_findings(index: PlanIndex) -> list[Finding]:
    return [
        *_unknown_attributes(index),
        *_unknown_profiles(index),
        *_channels(index),
        *_profiles_without_activation(index),
        *_unknown_intake_ids(index),
        *_unknown_sources(index),
    ]


def _unknown_attributes(index: PlanIndex) -> list[Finding]:
    """Match keys and payload; names in rule trees are the rules layer's (rules.unknown_attribute)."""
    return [
        Finding(
            code="ref.unknown_attribute",
            severity="error",
            pointer=pointer,
            message=f"attribute {name!r} is not in the attribute inventory; add it to attributes or "
            "send an inventoried attribute",
            stage="activation",
        )
        for uses in index.sent
        for name, pointer in uses
        if name not in index.attributes
    ]


def _unknown_profiles(index: PlanIndex) -> list[Finding]:
    known = ", ".join(sorted(index.profiles)[:10]) or "none yet"
    findings = [
        Finding(
            code="ref.unknown_profile",
            severity="error",
            pointer=f"/activations/{i}/profile_id",
            message=f"activation names profile {a.profile_id!r}, which is not defined; known profiles: "
            f"{known}. Define the profile or fix the id",
            stage="activation",
        )
        for i, a in enumerate(index.plan.activations)
        if a.profile_id not in index.profiles
    ]
    findings += [
        Finding(
            code="ref.unknown_profile",
            severity="error",
            pointer=f"/scenarios/{i}/expected_profile",
            message=f"scenario {s.id!r} expects profile {s.expected_profile!r}, which is not defined; "
            f"known profiles: {known}",
            stage="profiles",
        )
        for i, s in enumerate(index.plan.scenarios)
        if s.expected_profile is not None and s.expected_profile not in index.profiles
    ]
    return findings


def _channels(index: PlanIndex) -> list[Finding]:
    plan = index.plan
    findings = [
        Finding(
            code="ref.unknown_channel",
            severity="error",
            pointer=f"/activations/{i}/channel",
            message=f"activation {a.profile_id}/{a.channel} uses channel {a.channel!r}, which is not one "
            f"of the plan's channels ({', '.join(plan.channels)}); add the channel to the plan or "
            "remove the activation",
            stage="activation",
        )
        for i, a in enumerate(plan.activations)
        if a.channel not in plan.channels
    ]
    activated = {a.channel for a in plan.activations}
    findings += [
        Finding(
            code="ref.channel_without_activation",
            severity="warning",
            pointer=f"/channels/{k}",
            message=f"channel {channel!r} has no activation; map at least one profile to it or drop "
            "the channel from the plan",
            stage="activation",
        )
        for k, channel in enumerate(plan.channels)
        if channel not in activated
    ]
    return findings


def _profiles_without_activation(index: PlanIndex) -> list[Finding]:
    activated = {a.profile_id for a in index.plan.activations}
    return [
        Finding(
            code="ref.profile_without_activation",
            severity="warning",
            pointer=f"/profiles/{i}",
            message=f"profile {p.id!r} has no activation on any channel; add an activation for it or "
            "remove the profile",
            stage="activation",
        )
        for i, p in enumerate(index.plan.profiles)
        if p.id not in activated
    ]


def _unknown_intake_ids(index: PlanIndex) -> list[Finding]:
    intake = index.plan.intake
    personas = {p.id for p in intake.personas}
    stages = {s.id for s in intake.lifecycle_stages}
    findings = []
    for i, profile in enumerate(index.plan.profiles):
        if profile.persona_id is not None and profile.persona_id not in personas:
            findings.append(
                Finding(
                    code="ref.unknown_persona",
                    severity="warning",
                    pointer=f"/profiles/{i}/persona_id",
                    message=f"profile {profile.id!r} names persona {profile.persona_id!r}, which intake "
                    f"does not define (personas: {', '.join(sorted(personas)) or 'none'})",
                    stage="profiles",
                )
            )
        if profile.lifecycle_stage_id is not None and profile.lifecycle_stage_id not in stages:
            findings.append(
                Finding(
                    code="ref.unknown_lifecycle_stage",
                    severity="warning",
                    pointer=f"/profiles/{i}/lifecycle_stage_id",
                    message=f"profile {profile.id!r} names lifecycle stage {profile.lifecycle_stage_id!r}, "
                    f"which intake does not define (stages: {', '.join(sorted(stages)) or 'none'})",
                    stage="profiles",
                )
            )
    return findings


def _unknown_sources(index: PlanIndex) -> list[Finding]:
    sources = {s.id for s in index.plan.data_sources}
    return [
        Finding(
            code="ref.unknown_source",
            severity="error",
            pointer=f"/attributes/{i}/source_id",
            message=f"attribute {a.name!r} names data source {a.source_id!r}, which is not in "
            f"data_sources (known: {', '.join(sorted(sources)[:10]) or 'none'}); add the source or fix "
            "the id",
            stage="attributes",
        )
        for i, a in enumerate(index.plan.attributes)
        if a.source_id is not None and a.source_id not in sources
    ]
