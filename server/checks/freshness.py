"""Freshness: an input refreshed less often than its consumer's SLA makes the SLA a promise it can't keep."""

from __future__ import annotations

from collections.abc import Set
from functools import cache

from ..model import duration_seconds
from ..model.findings import Finding
from .usage import PlanIndex, Use, name_list, unique_names

# Plans repeat a handful of cadence strings thousands of times; parse each once.
seconds = cache(duration_seconds)

# The longest a sync mode takes to deliver a change downstream.
SYNC_SECONDS = {"real_time": 60, "streaming": 60, "batch_hourly": 3600, "batch_daily": 86_400}


def freshness_findings(index: PlanIndex) -> list[Finding]:
    findings = _attributes(index)
    slow_inputs = _SlowInputs(index)
    for i, profile in enumerate(index.plan.profiles):
        if profile.latency_sla is not None:
            slow = slow_inputs.of_profile(i, profile.latency_sla)
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
        findings += _activation(index, slow_inputs, i)
    return findings


class _SlowInputs:
    """Attributes refreshed less often than an SLA, remembered per profile: activations share profiles."""

    def __init__(self, index: PlanIndex) -> None:
        self.index = index
        self._by_profile: dict[tuple[int, str], list[str]] = {}

    def among(self, uses: list[Use], sla: str, skip: Set[str] = frozenset()) -> list[str]:
        limit = seconds(sla)
        slow = []
        for name in unique_names(uses):
            found = self.index.attributes.get(name)
            cadence = found[1].refresh_cadence if found else None
            if name not in skip and cadence is not None and seconds(cadence) > limit:
                slow.append(f"{name} ({cadence})")
        return slow

    def of_profile(self, profile_index: int, sla: str) -> list[str]:
        key = (profile_index, sla)
        if key not in self._by_profile:
            uses = self.index.targeting[profile_index] + self.index.suppression[profile_index]
            self._by_profile[key] = self.among(uses, sla)
        return self._by_profile[key]

    def of_activation(self, i: int, sla: str) -> list[str]:
        """The profile's inputs first, then what the activation itself sends, each name once."""
        found = self.index.profile_of(self.index.plan.activations[i])
        if found is None:
            return self.among(self.index.sent[i], sla)
        upstream = self.index.targeting[found[0]] + self.index.suppression[found[0]]
        seen = {name for name, _ in upstream}
        return self.of_profile(found[0], sla) + self.among(self.index.sent[i], sla, seen)


def _activation(index: PlanIndex, slow_inputs: _SlowInputs, i: int) -> list[Finding]:
    activation = index.plan.activations[i]
    if activation.latency_sla is None:
        return []
    key = f"{activation.profile_id}/{activation.channel}"
    findings = []
    slow = slow_inputs.of_activation(i, activation.latency_sla)
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
