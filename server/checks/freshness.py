"""Freshness: an input refreshed less often than its consumer's SLA makes the SLA a promise it can't keep."""

from __future__ import annotations

from functools import cache

from ..model import duration_seconds
from .findings import Finding
from .usage import PlanIndex, Use, name_list, unique_names

# Plans repeat a handful of cadence strings thousands of times; parse each once.
seconds = cache(duration_seconds)

# The longest a sync mode takes to deliver a change downstream.
SYNC_SECONDS = {"real_time": 60, "streaming": 60, "batch_hourly": 3600, "batch_daily": 86_400}


def freshness_findings(index: PlanIndex) -> list[Finding]:
    findings = _attributes(index)
    for i, profile in enumerate(index.plan.profiles):
        if profile.latency_sla is not None:
            slow = _too_slow(index, index.targeting[i] + index.suppression[i], profile.latency_sla)
            if slow:
                findings.append(
                    Finding(
                        code="fresh.profile_sla",
                        severity="warning",
                        pointer=f"/profiles/{i}/latency_sla",
                        message=f"profile {profile.id!r} needs inputs fresher than {profile.latency_sla}, "
                        f"but these refresh less often: {name_list(slow)}; refresh them faster or relax "
                        "latency_sla",
                        stage="profiles",
                    )
                )
    for i in range(len(index.plan.activations)):
        findings += _activation(index, i)
    return findings


def _too_slow(index: PlanIndex, uses: list[Use], sla: str) -> list[str]:
    limit = seconds(sla)
    slow = []
    for name in unique_names(uses):
        found = index.attributes.get(name)
        cadence = found[1].refresh_cadence if found else None
        if cadence is not None and seconds(cadence) > limit:
            slow.append(f"{name} ({cadence})")
    return slow


def _activation(index: PlanIndex, i: int) -> list[Finding]:
    activation = index.plan.activations[i]
    if activation.latency_sla is None:
        return []
    key = f"{activation.profile_id}/{activation.channel}"
    findings = []
    slow = _too_slow(index, index.activation_inputs(i), activation.latency_sla)
    if slow:
        findings.append(
            Finding(
                code="fresh.activation_sla",
                severity="warning",
                pointer=f"/activations/{i}/latency_sla",
                message=f"activation {key} must act within {activation.latency_sla}, but it relies on "
                f"attributes refreshed less often: {name_list(slow)}; refresh them faster or relax "
                "latency_sla",
                stage="activation",
            )
        )
    mode = activation.sync_mode
    if mode is not None and SYNC_SECONDS[mode] > seconds(activation.latency_sla):
        findings.append(
            Finding(
                code="fresh.sync_slower_than_sla",
                severity="warning",
                pointer=f"/activations/{i}/sync_mode",
                message=f"activation {key} syncs {mode}, which cannot meet its latency_sla of "
                f"{activation.latency_sla}; use a faster sync mode or relax latency_sla",
                stage="activation",
            )
        )
    return findings


def _attributes(index: PlanIndex) -> list[Finding]:
    sources = {s.id: s for s in index.plan.data_sources}
    findings = []
    for i, attribute in enumerate(index.plan.attributes):
        cadence = attribute.refresh_cadence
        if cadence is None:
            continue
        if attribute.freshness_sla and seconds(cadence) > seconds(attribute.freshness_sla):
            findings.append(
                Finding(
                    code="fresh.attribute_sla",
                    severity="warning",
                    pointer=f"/attributes/{i}/refresh_cadence",
                    message=f"attribute {attribute.name!r} refreshes {cadence}, slower than its own "
                    f"freshness_sla of {attribute.freshness_sla}; refresh it faster or relax the SLA",
                    stage="attributes",
                )
            )
        source = sources.get(attribute.source_id or "")
        if source is not None and source.refresh and seconds(source.refresh) > seconds(cadence):
            findings.append(
                Finding(
                    code="fresh.source_slower_than_cadence",
                    severity="warning",
                    pointer=f"/attributes/{i}/source_id",
                    message=f"attribute {attribute.name!r} claims a {cadence} refresh, but its source "
                    f"{source.id!r} refreshes {source.refresh}; the attribute cannot be fresher than its "
                    "source. Fix refresh_cadence or the source's refresh",
                    stage="attributes",
                )
            )
    return findings
